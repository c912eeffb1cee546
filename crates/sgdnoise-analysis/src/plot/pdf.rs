//! PDF output of a [`Canvas`]: a one-page PDF 1.4 with vector lines, fills and real text in
//! the embedded font (DejaVu Sans as a CIDFontType2 with Identity-H encoding and a ToUnicode
//! map, so the text can be searched and copied). The page is the figure at print size:
//! [`PT_PER_UNIT`] points per figure unit (960 x 680 units: 6.4 x 4.53 inches).
//!
//! Written by hand (a few hundred lines) rather than by a crate: the figures need lines,
//! polygons, circles, transparency and text, nothing else.

use super::canvas::{Canvas, Prim, P};
use super::color::Rgb;
use super::font::{self, units_per_em, FONT};
use ab_glyph::Font;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Points (1/72 inch) per figure unit: figure units are 1/150 inch.
pub(super) const PT_PER_UNIT: f64 = 72.0 / super::DPI;

fn n(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

fn color(c: Rgb) -> String {
    let [r, g, b] = c.unit();
    format!("{} {} {}", n(r as f64), n(g as f64), n(b as f64))
}

/// The table `tag` of a TrueType file.
pub(super) fn ttf_table<'a>(ttf: &'a [u8], tag: &[u8; 4]) -> Option<&'a [u8]> {
    let be16 = |o: usize| -> Option<usize> {
        Some(u16::from_be_bytes([*ttf.get(o)?, *ttf.get(o + 1)?]) as usize)
    };
    let be32 = |o: usize| -> Option<usize> {
        Some(u32::from_be_bytes(ttf.get(o..o + 4)?.try_into().ok()?) as usize)
    };
    let tables = be16(4)?;
    (0..tables).find_map(|i| {
        let rec = 12 + 16 * i;
        if ttf.get(rec..rec + 4)? != tag {
            return None;
        }
        let (off, len) = (be32(rec + 8)?, be32(rec + 12)?);
        ttf.get(off..off.checked_add(len)?)
    })
}

/// The font's bounding box (xMin, yMin, xMax, yMax in font units) from its `head` table.
fn font_bbox() -> [i16; 4] {
    let head = ttf_table(FONT, b"head").unwrap_or(&[]);
    let at = |o: usize| {
        head.get(o..o + 2)
            .map_or(0, |b| i16::from_be_bytes([b[0], b[1]]))
    };
    [at(36), at(38), at(40), at(42)]
}

/// The PDF of `canvas`.
pub(super) fn pdf(canvas: &Canvas) -> Vec<u8> {
    let (pw, ph) = (canvas.w * PT_PER_UNIT, canvas.h * PT_PER_UNIT);
    let upem = units_per_em();
    // Glyphs used (id -> (advance, text)) and transparency levels.
    let mut glyphs: BTreeMap<u16, (f64, char)> = BTreeMap::new();
    let mut alphas: Vec<String> = Vec::new();
    let gs = |a: f64, alphas: &mut Vec<String>| -> String {
        if a >= 1.0 {
            return String::new();
        }
        let key = n(a.max(0.0));
        let i = alphas.iter().position(|k| *k == key).unwrap_or_else(|| {
            alphas.push(key);
            alphas.len() - 1
        });
        format!("/A{i} gs")
    };
    let mut c = String::new();
    // Figure units, y down.
    let _ = writeln!(
        c,
        "q {} 0 0 {} 0 {} cm 1 j",
        n(PT_PER_UNIT),
        n(-PT_PER_UNIT),
        n(ph)
    );
    let path = |pts: &[P], c: &mut String| {
        for (i, p) in pts.iter().enumerate() {
            let _ = write!(
                c,
                "{} {} {} ",
                n(p.0),
                n(p.1),
                if i == 0 { "m" } else { "l" }
            );
        }
    };
    let circle = |(x, y): P, r: f64, c: &mut String| {
        let k = 0.552_284_75 * r;
        let _ = write!(
            c,
            "{} {} m {} {} {} {} {} {} c {} {} {} {} {} {} c {} {} {} {} {} {} c {} {} {} {} {} {} c h ",
            n(x + r), n(y),
            n(x + r), n(y + k), n(x + k), n(y + r), n(x), n(y + r),
            n(x - k), n(y + r), n(x - r), n(y + k), n(x - r), n(y),
            n(x - r), n(y - k), n(x - k), n(y - r), n(x), n(y - r),
            n(x + k), n(y - r), n(x + r), n(y - k), n(x + r), n(y)
        );
    };
    let mut clipped = false;
    for p in &canvas.prims {
        match p {
            Prim::Stroke {
                pts,
                color: col,
                width,
                alpha,
            } => {
                let _ = write!(c, "q {} ", gs(*alpha, &mut alphas));
                let _ = write!(c, "{} RG {} w ", color(*col), n(*width));
                path(pts, &mut c);
                c.push_str("S Q\n");
            }
            Prim::Fill {
                pts,
                color: col,
                alpha,
            } => {
                let _ = write!(c, "q {} {} rg ", gs(*alpha, &mut alphas), color(*col));
                path(pts, &mut c);
                c.push_str("h f Q\n");
            }
            Prim::Union {
                contours,
                color: col,
                alpha,
            } => {
                let _ = write!(c, "q {} {} rg ", gs(*alpha, &mut alphas), color(*col));
                for k in contours {
                    path(k, &mut c);
                    c.push_str("h ");
                }
                c.push_str("f Q\n");
            }
            Prim::Circle {
                c: at,
                r,
                fill,
                stroke,
            } => {
                if let Some(f) = fill {
                    let _ = write!(c, "{} rg ", color(*f));
                    circle(*at, *r, &mut c);
                    c.push_str("f\n");
                }
                if let Some((col, w)) = stroke {
                    let _ = write!(c, "{} RG {} w ", color(*col), n(*w));
                    circle(*at, *r, &mut c);
                    c.push_str("S\n");
                }
            }
            Prim::Text {
                at,
                text,
                size,
                color: col,
                up,
            } => {
                let m = if *up { "0 -1 -1 0" } else { "1 0 0 -1" };
                let _ = write!(
                    c,
                    "BT {} rg /F1 {} Tf {m} {} {} Tm [",
                    color(*col),
                    n(*size),
                    n(at.0),
                    n(at.1)
                );
                let mut hex = String::new();
                for g in font::layout(text) {
                    if g.kern != 0.0 {
                        let _ = write!(c, "<{hex}> {} ", n(-g.kern * 1000.0 / upem));
                        hex.clear();
                    }
                    let _ = write!(hex, "{:04X}", g.id.0);
                    glyphs.entry(g.id.0).or_insert((g.advance, g.ch));
                }
                let _ = writeln!(c, "<{hex}>] TJ ET");
            }
            Prim::Clip(r) => {
                if clipped {
                    c.push_str("Q\n");
                    clipped = false;
                }
                if let Some(r) = r {
                    let _ = writeln!(
                        c,
                        "q {} {} {} {} re W n",
                        n(r.x0),
                        n(r.y0),
                        n(r.w()),
                        n(r.h())
                    );
                    clipped = true;
                }
            }
        }
    }
    if clipped {
        c.push_str("Q\n");
    }
    c.push_str("Q\n");

    let f = font::font();
    let per_mille = |v: f64| (v * 1000.0 / upem).round() as i64;
    let widths: String = glyphs
        .iter()
        .map(|(id, (adv, _))| format!("{id} [{}]", per_mille(*adv)))
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let entries: Vec<(&u16, &(f64, char))> = glyphs.iter().collect();
    for block in entries.chunks(100) {
        let _ = writeln!(cmap, "{} beginbfchar", block.len());
        for (id, (_, ch)) in block {
            let utf16: String = ch
                .encode_utf16(&mut [0; 2])
                .iter()
                .map(|u| format!("{u:04X}"))
                .collect();
            let _ = writeln!(cmap, "<{id:04X}> <{utf16}>");
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMapResource defineresource pop\nend\nend\n");
    let [x0, y0, x1, y1] = font_bbox().map(|v| per_mille(v as f64));
    let ext_gstate: String = alphas
        .iter()
        .enumerate()
        .map(|(i, a)| format!("/A{i} << /ca {a} /CA {a} >> "))
        .collect();

    let mut out: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    let mut obj = |out: &mut Vec<u8>, dict: String, stream: Option<&[u8]>| {
        offsets.push(out.len());
        let _ = write!(VecWriter(out), "{} 0 obj\n{dict}\n", offsets.len());
        if let Some(s) = stream {
            out.extend_from_slice(b"stream\n");
            out.extend_from_slice(s);
            out.extend_from_slice(b"\nendstream\n");
        }
        out.extend_from_slice(b"endobj\n");
    };
    obj(&mut out, "<< /Type /Catalog /Pages 2 0 R >>".into(), None);
    obj(
        &mut out,
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
        None,
    );
    obj(
        &mut out,
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {} {}] /Resources << /Font << /F1 5 0 R >> /ExtGState << {ext_gstate}>> >> /Contents 4 0 R >>",
            n(pw),
            n(ph)
        ),
        None,
    );
    obj(
        &mut out,
        format!("<< /Length {} >>", c.len()),
        Some(c.as_bytes()),
    );
    obj(
        &mut out,
        "<< /Type /Font /Subtype /Type0 /BaseFont /DejaVuSans /Encoding /Identity-H /DescendantFonts [6 0 R] /ToUnicode 9 0 R >>".into(),
        None,
    );
    obj(
        &mut out,
        format!(
            "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /DejaVuSans /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 7 0 R /CIDToGIDMap /Identity /DW 1000 /W [{widths}] >>"
        ),
        None,
    );
    obj(
        &mut out,
        format!(
            "<< /Type /FontDescriptor /FontName /DejaVuSans /Flags 32 /FontBBox [{x0} {y0} {x1} {y1}] /ItalicAngle 0 /Ascent {} /Descent {} /CapHeight {} /StemV 80 /FontFile2 8 0 R >>",
            per_mille(f64::from(f.ascent_unscaled())),
            per_mille(f64::from(f.descent_unscaled())),
            (font::CAP_HEIGHT * 1000.0).round()
        ),
        None,
    );
    obj(
        &mut out,
        format!("<< /Length {} /Length1 {} >>", FONT.len(), FONT.len()),
        Some(FONT),
    );
    obj(
        &mut out,
        format!("<< /Length {} >>", cmap.len()),
        Some(cmap.as_bytes()),
    );
    let xref = out.len();
    let mut tail = format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1);
    for o in &offsets {
        let _ = writeln!(tail, "{o:010} 00000 n ");
    }
    let _ = write!(
        tail,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        offsets.len() + 1
    );
    out.extend_from_slice(tail.as_bytes());
    out
}

/// `write!` into a byte vector.
struct VecWriter<'a>(&'a mut Vec<u8>);
impl std::fmt::Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::plot::canvas::{Dash, Rect, H, V};
    use crate::plot::color::BLACK;

    /// Checks the structure a reader relies on: the header, every xref offset pointing at its
    /// object, the startxref offset at the xref table, stream lengths. Returns the content stream.
    pub fn check_pdf(pdf: &[u8]) -> String {
        let find = |hay: &[u8], needle: &[u8], from: usize| -> Option<usize> {
            hay[from..]
                .windows(needle.len())
                .position(|w| w == needle)
                .map(|i| i + from)
        };
        assert!(pdf.starts_with(b"%PDF-1.4\n"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        let sx = (0..pdf.len() - 10)
            .rev()
            .find(|&i| pdf[i..].starts_with(b"startxref\n"))
            .expect("startxref");
        let tail = String::from_utf8_lossy(&pdf[sx + 10..]).to_string();
        let xref: usize = tail.lines().next().unwrap().parse().unwrap();
        assert!(
            pdf[xref..].starts_with(b"xref\n"),
            "startxref points at xref"
        );
        let table_text = String::from_utf8_lossy(&pdf[xref..]).to_string();
        let table: Vec<&str> = table_text.lines().collect();
        let count: usize = table[1].split(' ').nth(1).unwrap().parse().unwrap();
        for (i, line) in table[3..2 + count].iter().enumerate() {
            assert_eq!(line.len(), 19, "xref entries are 20 bytes with the newline");
            let off: usize = line[..10].parse().unwrap();
            let head = format!("{} 0 obj\n", i + 1);
            assert!(
                pdf[off..].starts_with(head.as_bytes()),
                "object {} at {off}",
                i + 1
            );
        }
        // Every stream is as long as its /Length says; the first is the page content.
        let mut content = String::new();
        let mut at = 0;
        while let Some(k) = find(pdf, b"/Length ", at) {
            let k = k + 8;
            let digits: String = pdf[k..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .map(|c| *c as char)
                .collect();
            let len: usize = digits.parse().unwrap();
            let s = find(pdf, b"stream\n", k).unwrap() + 7;
            assert_eq!(&pdf[s + len..s + len + 10], b"\nendstream");
            if content.is_empty() {
                content = String::from_utf8_lossy(&pdf[s..s + len]).to_string();
            }
            at = s + len;
        }
        content
    }

    #[test]
    fn pdf_is_well_formed_with_text_lines_and_transparency() {
        let mut c = Canvas::new(960.0, 680.0);
        c.clip(Some(Rect::new(10.0, 10.0, 500.0, 500.0)));
        c.line(&[(0.0, 0.0), (100.0, 50.0)], BLACK, 2.0, Dash::Solid);
        c.clip(None);
        c.fill(&[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0)], BLACK, 0.2);
        c.circle((50.0, 50.0), 4.0, Some(BLACK), Some((BLACK, 1.0)));
        c.text(
            "AV T_{c}",
            (100.0, 100.0),
            17.0,
            BLACK,
            H::Start,
            V::Base,
            false,
        );
        c.text("up", (20.0, 300.0), 17.0, BLACK, H::Middle, V::Middle, true);
        let pdf = pdf(&c);
        let content = check_pdf(&pdf);
        let text = String::from_utf8_lossy(&pdf);
        // Print size: 960 x 680 units at 150 per inch.
        assert!(text.contains("/MediaBox [0 0 460.8 326.4]"));
        assert!(text.contains("/FontFile2 8 0 R") && text.contains("/ToUnicode 9 0 R"));
        assert!(
            text.contains("/A0 << /ca 0.2 /CA 0.2 >>"),
            "only the translucent fill"
        );
        // The text is glyph ids of the embedded font (kerning, where the font has any, goes
        // between them as TJ adjustments).
        let a = font::font().glyph_id('A').0;
        let v = font::font().glyph_id('V').0;
        assert!(
            content.contains(&format!("[<{a:04X}")) && content.contains(&format!("{v:04X}")),
            "{content}"
        );
        assert!(content.contains(" re W n") && content.contains("0 -1 -1 0 "));
        // ToUnicode maps the glyph of T back to U+0054.
        let t = font::font().glyph_id('T').0;
        assert!(text.contains(&format!("<{t:04X}> <0054>")));
        assert!(font_bbox()[2] > 0);
    }
}
