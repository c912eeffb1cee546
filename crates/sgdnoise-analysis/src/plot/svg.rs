//! SVG output of a [`Canvas`]: one element per primitive in figure units. Text names the
//! family DejaVu Sans (whose metrics laid the figure out); with `embed_font` the font itself
//! goes into the file (`@font-face` with the TTF as a data URL), so the SVG looks the same on
//! a machine without it.

use super::canvas::{Canvas, Prim, P};
use super::font::{FAMILY, FONT};
use std::fmt::Write as _;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn n(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

fn pts(p: &[P]) -> String {
    p.iter()
        .map(|(x, y)| format!("{},{}", n(*x), n(*y)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn opacity(attr: &str, a: f64) -> String {
    if a < 1.0 {
        format!(r#" {attr}="{}""#, n(a.max(0.0)))
    } else {
        String::new()
    }
}

/// Standard base64 (RFC 4648, with padding).
pub(super) fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for ch in data.chunks(3) {
        let b = [ch[0], *ch.get(1).unwrap_or(&0), *ch.get(2).unwrap_or(&0)];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= ch.len() {
                out.push(T[((v >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The SVG text of `canvas`; `title` goes into `<title>`.
pub(super) fn svg(canvas: &Canvas, title: &str, embed_font: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">"#,
        w = n(canvas.w),
        h = n(canvas.h)
    );
    let _ = writeln!(s, "<title>{}</title>", esc(title));
    let family = if embed_font {
        let _ = writeln!(
            s,
            "<defs><style>@font-face {{ font-family: 'sgdnoise {FAMILY}'; src: url(data:font/ttf;base64,{}) format('truetype'); }}</style></defs>",
            base64(FONT)
        );
        format!("'sgdnoise {FAMILY}', '{FAMILY}', sans-serif")
    } else {
        format!("'{FAMILY}', 'Bitstream Vera Sans', sans-serif")
    };
    let _ = writeln!(
        s,
        r#"<rect width="100%" height="100%" fill="white"/><g font-family="{}">"#,
        esc(&family)
    );
    let mut clips = 0;
    let mut open_group = false;
    for p in &canvas.prims {
        match p {
            Prim::Stroke {
                pts: p,
                color,
                width,
                alpha,
            } => {
                let _ = writeln!(
                    s,
                    r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="{}" stroke-linejoin="round"{}/>"#,
                    pts(p),
                    color.hex(),
                    n(*width),
                    opacity("stroke-opacity", *alpha)
                );
            }
            Prim::Fill {
                pts: p,
                color,
                alpha,
            } => {
                let _ = writeln!(
                    s,
                    r#"<polygon points="{}" fill="{}"{}/>"#,
                    pts(p),
                    color.hex(),
                    opacity("fill-opacity", *alpha)
                );
            }
            Prim::Union {
                contours,
                color,
                alpha,
            } => {
                let d: String = contours
                    .iter()
                    .map(|c| format!("M{}Z", pts(c).replace(' ', " L")))
                    .collect::<Vec<_>>()
                    .join(" ");
                let _ = writeln!(
                    s,
                    r#"<path d="{d}" fill="{}" fill-rule="nonzero"{}/>"#,
                    color.hex(),
                    opacity("fill-opacity", *alpha)
                );
            }
            Prim::Circle { c, r, fill, stroke } => {
                let fill = fill.map_or("none".to_string(), |f| f.hex());
                let stroke = stroke.map_or(String::new(), |(col, w)| {
                    format!(r#" stroke="{}" stroke-width="{}""#, col.hex(), n(w))
                });
                let _ = writeln!(
                    s,
                    r#"<circle cx="{}" cy="{}" r="{}" fill="{fill}"{stroke}/>"#,
                    n(c.0),
                    n(c.1),
                    n(*r)
                );
            }
            Prim::Text {
                at,
                text,
                size,
                color,
                up,
            } => {
                let rot = if *up {
                    format!(r#" transform="rotate(-90 {} {})""#, n(at.0), n(at.1))
                } else {
                    String::new()
                };
                let _ = writeln!(
                    s,
                    r#"<text x="{}" y="{}" font-size="{}" fill="{}" xml:space="preserve"{rot}>{}</text>"#,
                    n(at.0),
                    n(at.1),
                    n(*size),
                    color.hex(),
                    esc(text)
                );
            }
            Prim::Clip(r) => {
                if open_group {
                    s.push_str("</g>\n");
                    open_group = false;
                }
                if let Some(r) = r {
                    clips += 1;
                    let _ = writeln!(
                        s,
                        r#"<clipPath id="c{clips}"><rect x="{}" y="{}" width="{}" height="{}"/></clipPath><g clip-path="url(#c{clips})">"#,
                        n(r.x0),
                        n(r.y0),
                        n(r.w()),
                        n(r.h())
                    );
                    open_group = true;
                }
            }
        }
    }
    if open_group {
        s.push_str("</g>\n");
    }
    s.push_str("</g>\n</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::canvas::{Dash, Rect, H, V};
    use crate::plot::color::{Rgb, BLACK};

    #[test]
    fn base64_matches_the_rfc_examples() {
        // RFC 4648 section 10.
        for (a, b) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(a.as_bytes()), b);
        }
    }

    #[test]
    fn svg_has_one_element_per_primitive_and_embeds_the_font_on_request() {
        let mut c = Canvas::new(100.0, 50.0);
        c.clip(Some(Rect::new(0.0, 0.0, 50.0, 50.0)));
        c.line(&[(0.0, 0.0), (10.0, 10.0)], BLACK, 1.5, Dash::Solid);
        c.clip(None);
        c.fill(&[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)], Rgb(1, 2, 3), 0.25);
        c.text(
            "T_{c} < 1 & α",
            (5.0, 40.0),
            12.0,
            BLACK,
            H::Start,
            V::Base,
            true,
        );
        let s = svg(&c, "a <test>", false);
        assert!(s.starts_with("<svg"));
        assert!(s.contains("<title>a &lt;test&gt;</title>"));
        assert!(s.contains(r#"<polyline points="0,0 10,10""#));
        assert!(s.contains(r##"fill="#010203" fill-opacity="0.25""##));
        assert!(s.contains(">T</text>") && s.contains(">c</text>"));
        assert!(s.contains("&lt; 1 &amp; α</text>"));
        assert!(s.contains("rotate(-90"));
        assert_eq!(s.matches("<g").count(), s.matches("</g>").count());
        assert!(!s.contains("@font-face"));
        let e = svg(&c, "t", true);
        assert!(e.contains("@font-face") && e.contains(&base64(&FONT[..300])[..400]));
    }
}
