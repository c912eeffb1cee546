//! The embedded font (a subset of DejaVu Sans, assets/fonts, Bitstream Vera licence): text
//! measurement, glyph layout with kerning, and the small markup of labels.
//!
//! Every figure is laid out with this font's metrics, so a PNG (glyph outlines rasterised
//! here), a PDF (the font embedded) and an SVG (the font named, or embedded with `--print`)
//! put every letter at the same place.
//!
//! Markup: `_{...}` is a subscript and `^{...}` a superscript (`T_{c} ~ P^{−a}`); anything else,
//! including a `_` or `^` without a brace, is literal text.

use ab_glyph::{Font, FontRef, GlyphId};
use std::sync::OnceLock;

pub(super) const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-subset.ttf");
/// The family name SVGs and PDFs give the font.
pub(super) const FAMILY: &str = "DejaVu Sans";
/// Cap height of DejaVu Sans in em (1493 / 2048 units, its OS/2 table).
pub(super) const CAP_HEIGHT: f64 = 0.729;
/// Relative size of sub- and superscripts.
const SCRIPT: f64 = 0.72;

/// The parsed embedded font.
pub(super) fn font() -> &'static FontRef<'static> {
    static F: OnceLock<FontRef<'static>> = OnceLock::new();
    // The font is a compile-time constant that `embedded_font_parses` checks.
    F.get_or_init(|| FontRef::try_from_slice(FONT).expect("the embedded font parses"))
}

/// Font units per em.
pub(super) fn units_per_em() -> f64 {
    font().units_per_em().map_or(2048.0, f64::from)
}

/// One glyph of a laid-out string: its id, the kerning before it and its advance (font units).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Placed {
    pub id: GlyphId,
    pub ch: char,
    pub kern: f64,
    pub advance: f64,
}

/// The glyphs of `text` with kerning (font units).
pub(super) fn layout(text: &str) -> Vec<Placed> {
    let f = font();
    let mut out = Vec::with_capacity(text.len());
    let mut prev: Option<GlyphId> = None;
    for ch in text.chars() {
        let id = f.glyph_id(ch);
        let kern = prev.map_or(0.0, |p| f64::from(f.kern_unscaled(p, id)));
        out.push(Placed {
            id,
            ch,
            kern,
            advance: f64::from(f.h_advance_unscaled(id)),
        });
        prev = Some(id);
    }
    out
}

/// Advance width of plain `text` at em size `size`.
pub(super) fn advance(text: &str, size: f64) -> f64 {
    layout(text).iter().map(|g| g.kern + g.advance).sum::<f64>() * size / units_per_em()
}

/// A piece of a label at one size and baseline: `dx` from the label's start along the text,
/// `rise` up from its baseline, `size` the em size.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Run {
    pub text: String,
    pub dx: f64,
    pub rise: f64,
    pub size: f64,
}

/// Splits markup into runs laid out from 0 along the baseline.
pub(super) fn runs(markup: &str, size: f64) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    let mut x = 0.0;
    let mut push = |text: &str, rise: f64, sz: f64, out: &mut Vec<Run>| {
        if text.is_empty() {
            return;
        }
        let w = advance(text, sz);
        out.push(Run {
            text: text.to_string(),
            dx: x,
            rise,
            size: sz,
        });
        x += w;
    };
    let chars: Vec<char> = markup.chars().collect();
    let mut plain = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if (c == '_' || c == '^') && chars.get(i + 1) == Some(&'{') {
            if let Some(close) = chars[i + 2..].iter().position(|&d| d == '}') {
                push(&plain, 0.0, size, &mut out);
                plain.clear();
                let inner: String = chars[i + 2..i + 2 + close].iter().collect();
                let rise = if c == '_' { -0.2 * size } else { 0.4 * size };
                push(&inner, rise, SCRIPT * size, &mut out);
                i += close + 3;
                continue;
            }
        }
        plain.push(c);
        i += 1;
    }
    push(&plain, 0.0, size, &mut out);
    out
}

/// The width of a label (markup) at em size `size`.
pub(super) fn width(markup: &str, size: f64) -> f64 {
    runs(markup, size)
        .last()
        .map_or(0.0, |r| r.dx + advance(&r.text, r.size))
}

/// The plain text of a label (markup removed: `T_{c}` -> `T_c`), for SVG titles and tests.
pub(super) fn plain(markup: &str) -> String {
    runs(markup, 1.0)
        .iter()
        .map(|r| {
            if r.rise < 0.0 {
                format!("_{}", r.text)
            } else if r.rise > 0.0 {
                format!("^{}", r.text)
            } else {
                r.text.clone()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_font_parses() {
        assert!(
            FontRef::try_from_slice(FONT).is_ok(),
            "assets/fonts/DejaVuSans-subset.ttf is not a valid font"
        );
        assert_eq!(units_per_em(), 2048.0);
        // Every character the figures use has a glyph (id 0 is the missing-glyph box).
        for c in "Tαχηγδ‖−₀⁻¹²³⁴⁵⁶⁷⁸⁹⁰×±·↑≈∝*~/ₒₚₜ".chars()
        {
            assert_ne!(font().glyph_id(c).0, 0, "no glyph for {c:?}");
        }
    }

    #[test]
    fn markup_makes_sub_and_superscripts() {
        let r = runs("T_{c} ~ P^{−a}", 20.0);
        let texts: Vec<&str> = r.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(texts, ["T", "c", " ~ P", "−a"]);
        assert!(r[1].rise < 0.0 && r[3].rise > 0.0 && r[0].rise == 0.0);
        assert!(r[1].size < 20.0);
        // Runs follow each other without overlap.
        for w in r.windows(2) {
            assert!(w[1].dx >= w[0].dx + advance(&w[0].text, w[0].size) - 1e-9);
        }
        assert_eq!(plain("T_{c} ~ P^{−a}"), "T_c ~ P^−a");
        // Without braces the characters are literal.
        assert_eq!(runs("t_star^2", 10.0).len(), 1);
        assert!(width("T_{opt}", 20.0) < width("T_opt", 20.0));
    }
}
