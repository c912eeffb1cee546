//! Colours: the palette of successive curves, the viridis map of heatmap values, and the grey
//! hatching of diverged (and the light grey of missing) heatmap cells.

use plotters::prelude::*;

/// Colours of successive curves (Tableau 10, readable on white and by most colour-blind readers).
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Viridis colour map at f in [0, 1] (9 anchors, linear in between).
pub fn viridis(f: f64) -> RGBColor {
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
    RGBColor(
        mix(A[i].0, A[i + 1].0),
        mix(A[i].1, A[i + 1].1),
        mix(A[i].2, A[i + 1].2),
    )
}

/// Fill of a heatmap cell where most runs diverged (drawn hatched over it).
pub(super) const DIVERGED_FILL: RGBColor = RGBColor(200, 200, 200);
/// Colour of the hatching over diverged cells.
pub(super) const HATCH: RGBColor = RGBColor(90, 90, 90);
/// Fill of a heatmap cell with no finished run.
pub(super) const MISSING_FILL: RGBColor = RGBColor(245, 245, 245);

/// The hatching of the diverged cell centred at (x, y) (cells are 1 x 1 in grid coordinates):
/// two strokes parallel to the diagonal at offsets -0.25 and 0.25, then the diagonal itself.
pub(super) fn hatch_cell(x: f64, y: f64) -> [PathElement<(f64, f64)>; 3] {
    let [a, b] = [-0.25, 0.25].map(|o: f64| {
        PathElement::new(
            vec![
                (x - 0.5 + o.max(0.0) * 2.0, y - 0.5 - o.min(0.0) * 2.0),
                (x + 0.5 + o.min(0.0) * 2.0, y + 0.5 - o.max(0.0) * 2.0),
            ],
            HATCH.stroke_width(1),
        )
    });
    let diagonal = PathElement::new(
        vec![(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
        HATCH.stroke_width(1),
    );
    [a, b, diagonal]
}
