//! Figures as SVG and PNG (plotters).
//!
//! Two kinds of figure: [`LinePlot`] (curves with seed spread as error bars, fitted power laws,
//! reference lines) and [`Heatmap`] (an observable over two log-spaced settings, with diverged
//! cells hatched grey and named in the legend). Each is written twice, `STEM.svg` and
//! `STEM.png`, from the same drawing code.
//!
//! Text in PNGs is drawn with an embedded subset of DejaVu Sans (assets/fonts, Bitstream Vera
//! licence) through plotters' `ab_glyph` feature, so no system font or fontconfig is needed.
//! SVGs name the font family "sans-serif" and let the viewer render the text.
//!
//! Log axes are drawn in log space with ticks at powers of the base: 2^k for grids in powers of
//! two (T, P, alpha), 10^k (with 2 and 5 in between when the range is short) otherwise.
//!
//! This file holds the figure types and the entry that saves them ([`LinePlot::save`],
//! [`Heatmap::save`]); the drawing is split by concern:
//!
//! * `axis`: axis ranges, log and linear ticks and their labels ([`AxisCoord`]).
//! * `color`: the curve palette, the heatmap colour map and the hatching of diverged cells.
//! * `font`: the embedded font and its registration with plotters.
//! * `line`: drawing a [`LinePlot`].
//! * `heatmap`: drawing a [`Heatmap`] and its colour bar.
//!
//! plotters is used only inside this module.

mod axis;
mod color;
mod font;
mod heatmap;
mod line;

pub use axis::{superscript, AxisCoord};
pub use color::{viridis, PALETTE};

use font::register_font;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// How an axis maps values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    Linear,
    /// Log axis with ticks at 2^k.
    Log2,
    /// Log axis with ticks at 10^k (and 2·10^k, 5·10^k on short ranges).
    Log10,
}

impl Scale {
    pub fn is_log(self) -> bool {
        self != Scale::Linear
    }
}

/// One point of a curve: seed mean `y` with an interval [lo, hi] (NaN: none).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pt {
    pub x: f64,
    pub y: f64,
    pub lo: f64,
    pub hi: f64,
}

/// A curve with its legend label.
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub label: String,
    pub points: Vec<Pt>,
    /// x values where most runs diverged: marked × at the bottom of the plot.
    pub diverged: Vec<f64>,
}

/// A straight line in the plot's coordinates (a fitted power law on log-log axes) drawn dashed
/// between `from` and `to`.
#[derive(Clone, Debug)]
pub struct Line {
    pub label: String,
    pub from: (f64, f64),
    pub to: (f64, f64),
    /// Index into [`PALETTE`]; None: black.
    pub color: Option<usize>,
}

/// Where the legend goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LegendAt {
    #[default]
    UpperLeft,
    UpperRight,
    LowerLeft,
    LowerRight,
}

/// A figure of curves.
#[derive(Clone, Debug)]
pub struct LinePlot {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_scale: Scale,
    pub y_scale: Scale,
    pub series: Vec<Series>,
    pub lines: Vec<Line>,
    /// Vertical reference lines (x, label).
    pub vlines: Vec<(f64, String)>,
    /// Horizontal reference lines (y, label).
    pub hlines: Vec<(f64, String)>,
    pub legend: LegendAt,
}

impl LinePlot {
    pub fn new(title: &str, x_label: &str, y_label: &str, x_scale: Scale, y_scale: Scale) -> Self {
        LinePlot {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            x_scale,
            y_scale,
            series: Vec::new(),
            lines: Vec::new(),
            vlines: Vec::new(),
            hlines: Vec::new(),
            legend: LegendAt::default(),
        }
    }
}

/// A heatmap cell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell {
    Value(f64),
    /// Most runs of the cell diverged.
    Diverged,
    /// No finished run.
    Missing,
}

/// An observable over two settings on grids (log-spaced, one cell per grid value).
#[derive(Clone, Debug)]
pub struct Heatmap {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Grid values (ascending), labelled 2^k.
    pub xs: Vec<f64>,
    pub ys: Vec<f64>,
    /// `cells[iy][ix]`.
    pub cells: Vec<Vec<Cell>>,
    pub value_label: String,
    pub log_values: bool,
    /// Points drawn on top (e.g. T_opt per alpha), in grid values.
    pub markers: Vec<(f64, f64)>,
    pub marker_label: String,
}

/// Figure size in pixels.
pub const SIZE: (u32, u32) = (960, 680);

type DrawResult = Result<(), String>;

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Writes `stem.svg` and `stem.png` with `draw`; returns both paths.
fn save_both(
    stem: &Path,
    size: (u32, u32),
    draw_svg: &dyn Fn(DrawingArea<SVGBackend, Shift>) -> DrawResult,
    draw_png: &dyn Fn(DrawingArea<BitMapBackend, Shift>) -> DrawResult,
) -> Result<Vec<PathBuf>, sgdnoise_core::Error> {
    register_font();
    if let Some(dir) = stem.parent() {
        std::fs::create_dir_all(dir).map_err(|e| sgdnoise_core::Error::io(dir, e))?;
    }
    let svg = stem.with_extension("svg");
    let png = stem.with_extension("png");
    let fail =
        |p: &Path, e: String| sgdnoise_core::Error::Other(format!("drawing {}: {e}", p.display()));
    {
        let root = SVGBackend::new(&svg, size).into_drawing_area();
        draw_svg(root.clone()).map_err(|e| fail(&svg, e))?;
        root.present().map_err(|e| fail(&svg, e.to_string()))?;
    }
    {
        let root = BitMapBackend::new(&png, size).into_drawing_area();
        draw_png(root.clone()).map_err(|e| fail(&png, e))?;
        root.present().map_err(|e| fail(&png, e.to_string()))?;
    }
    Ok(vec![svg, png])
}

impl LinePlot {
    /// Writes `stem.svg` and `stem.png`.
    pub fn save(&self, stem: &Path) -> Result<Vec<PathBuf>, sgdnoise_core::Error> {
        save_both(stem, SIZE, &|r| self.draw(r), &|r| self.draw(r))
    }
}

impl Heatmap {
    /// Writes `stem.svg` and `stem.png`.
    pub fn save(&self, stem: &Path) -> Result<Vec<PathBuf>, sgdnoise_core::Error> {
        save_both(stem, SIZE, &|r| self.draw(r), &|r| self.draw(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_written_as_svg_and_png() {
        let dir = std::env::temp_dir().join(format!("sgdnoise-plot-{}", std::process::id()));
        let mut p = LinePlot::new("test", "T", "err", Scale::Log2, Scale::Log10);
        p.series.push(Series {
            label: "P=1024".into(),
            points: (0..6)
                .map(|k| {
                    let x = 2f64.powi(k - 6);
                    Pt {
                        x,
                        y: 0.1 * x.sqrt(),
                        lo: 0.08 * x.sqrt(),
                        hi: 0.12 * x.sqrt(),
                    }
                })
                .collect(),
            diverged: vec![1.0],
        });
        p.lines.push(Line {
            label: "fit".into(),
            from: (2f64.powi(-6), 0.0125),
            to: (0.5, 0.07),
            color: None,
        });
        p.vlines.push((0.01, "T_c".into()));
        let files = p.save(&dir.join("curves")).unwrap();
        let h = Heatmap {
            title: "phase".into(),
            x_label: "alpha".into(),
            y_label: "T".into(),
            xs: vec![0.25, 1.0, 4.0],
            ys: vec![0.5, 1.0],
            cells: vec![
                vec![Cell::Value(0.1), Cell::Value(0.2), Cell::Diverged],
                vec![Cell::Value(0.3), Cell::Missing, Cell::Diverged],
            ],
            value_label: "test error".into(),
            log_values: false,
            markers: vec![(1.0, 0.7)],
            marker_label: "T_opt".into(),
        };
        let more = h.save(&dir.join("heat")).unwrap();
        for f in files.iter().chain(&more) {
            let len = std::fs::metadata(f).unwrap().len();
            assert!(len > 1000, "{} is {len} bytes", f.display());
        }
        let png = std::fs::read(&more[1]).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        let svg = std::fs::read_to_string(&more[0]).unwrap();
        assert!(svg.contains("diverged (most seeds)"));
        // SGDNOISE_KEEP_PLOTS=1 keeps them for a look.
        if std::env::var_os("SGDNOISE_KEEP_PLOTS").is_none() {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
