//! Colours: the palette of successive curves, the viridis map of heatmap values, and the greys
//! of diverged (hatched) and missing heatmap cells.

/// An sRGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `#rrggbb`, for SVG.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
    /// Components in [0, 1], for PDF and the rasteriser.
    pub fn unit(self) -> [f32; 3] {
        [self.0, self.1, self.2].map(|c| c as f32 / 255.0)
    }
}

pub const BLACK: Rgb = Rgb(0, 0, 0);
pub const WHITE: Rgb = Rgb(255, 255, 255);
/// Frame, ticks and tick labels.
pub(super) const INK: Rgb = Rgb(34, 34, 34);
/// Grid lines at major ticks.
pub(super) const GRID: Rgb = Rgb(226, 226, 226);
/// Secondary text (subtitles, notes).
pub(super) const MUTED: Rgb = Rgb(90, 90, 90);

/// Colours of successive curves (Tableau 10, readable on white and by most colour-blind readers;
/// matplotlib's default cycle, so the comparison script draws the same colours).
pub const PALETTE: [Rgb; 10] = [
    Rgb(31, 119, 180),
    Rgb(255, 127, 14),
    Rgb(44, 160, 44),
    Rgb(214, 39, 40),
    Rgb(148, 103, 189),
    Rgb(140, 86, 75),
    Rgb(227, 119, 194),
    Rgb(127, 127, 127),
    Rgb(188, 189, 34),
    Rgb(23, 190, 207),
];

/// The colour of curve `i`.
pub fn palette(i: usize) -> Rgb {
    PALETTE[i % PALETTE.len()]
}

/// Viridis colour map at f in [0, 1] (9 anchors, linear in between).
pub fn viridis(f: f64) -> Rgb {
    const A: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ];
    let f = if f.is_finite() {
        f.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let pos = f * (A.len() - 1) as f64;
    let i = (pos.floor() as usize).min(A.len() - 2);
    let t = pos - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + t * (b as f64 - a as f64)).round() as u8;
    Rgb(
        mix(A[i].0, A[i + 1].0),
        mix(A[i].1, A[i + 1].1),
        mix(A[i].2, A[i + 1].2),
    )
}

/// Fill of a heatmap cell where most runs diverged (drawn hatched over it).
pub(super) const DIVERGED_FILL: Rgb = Rgb(200, 200, 200);
/// Colour of the hatching over diverged cells.
pub(super) const HATCH: Rgb = Rgb(90, 90, 90);
/// Fill of a heatmap cell with no finished run.
pub(super) const MISSING_FILL: Rgb = Rgb(245, 245, 245);
/// The dot on a blank heatmap cell where no run was made, and its radius.
pub(super) const NOT_RUN_INK: Rgb = Rgb(150, 150, 150);
pub(super) const NOT_RUN_DOT: f64 = 1.8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_ends_are_the_map_ends() {
        assert_eq!(viridis(0.0), Rgb(68, 1, 84));
        assert_eq!(viridis(1.0), Rgb(253, 231, 37));
        assert_eq!(viridis(f64::NAN), viridis(0.0));
        assert_eq!(Rgb(31, 119, 180).hex(), "#1f77b4");
    }
}
