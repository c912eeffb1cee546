//! The embedded font: a subset of DejaVu Sans (assets/fonts, Bitstream Vera licence) that
//! plotters' `ab_glyph` feature draws PNG text with, registered once under the family name
//! SVGs use.

use plotters::prelude::*;
use std::sync::Once;

pub(super) const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-subset.ttf");
pub(super) const FAMILY: &str = "sans-serif";

pub(super) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is a compile-time constant checked by the tests: it always parses.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_font_parses() {
        assert!(
            plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok(),
            "assets/fonts/DejaVuSans-subset.ttf is not a valid font"
        );
    }
}
