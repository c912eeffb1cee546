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

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Once;

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-subset.ttf");
const FAMILY: &str = "sans-serif";

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is a compile-time constant checked by the tests: it always parses.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

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

/// Writes `v` with Unicode superscript digits (for exponents in tick labels).
pub fn superscript(v: i64) -> String {
    v.to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            '9' => '⁹',
            c => c,
        })
        .collect()
}

fn decimal(v: f64) -> String {
    let s = format!("{:.6}", v);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// One plot axis: range and scale, ticks and their labels.
#[derive(Clone, Debug)]
pub struct AxisCoord {
    pub scale: Scale,
    pub lo: f64,
    pub hi: f64,
    /// Explicit ticks (value, label) replacing the automatic ones.
    pub ticks: Option<Vec<(f64, String)>>,
}

impl AxisCoord {
    /// An axis covering `values` (finite, positive ones on log axes) with a margin.
    pub fn covering(scale: Scale, values: impl IntoIterator<Item = f64>) -> AxisCoord {
        let vals: Vec<f64> = values
            .into_iter()
            .filter(|v| v.is_finite() && (!scale.is_log() || *v > 0.0))
            .collect();
        let (mut lo, mut hi) = vals
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        if !lo.is_finite() {
            (lo, hi) = if scale.is_log() {
                (0.1, 10.0)
            } else {
                (0.0, 1.0)
            };
        }
        if scale.is_log() {
            if hi / lo < 1.01 {
                lo /= 2.0;
                hi *= 2.0;
            }
            let pad = (hi / lo).powf(0.06);
            AxisCoord {
                scale,
                lo: lo / pad,
                hi: hi * pad,
                ticks: None,
            }
        } else {
            if hi - lo < 1e-12 * hi.abs().max(1.0) {
                lo -= 0.5 * lo.abs().max(1e-3);
                hi += 0.5 * hi.abs().max(1e-3);
            }
            let pad = 0.06 * (hi - lo);
            AxisCoord {
                scale,
                lo: lo - pad,
                hi: hi + pad,
                ticks: None,
            }
        }
    }

    fn t(&self, v: f64) -> f64 {
        if self.scale.is_log() {
            v.max(f64::MIN_POSITIVE).ln()
        } else {
            v
        }
    }

    /// Tick positions, at most `max` of them.
    pub fn tick_values(&self, max: usize) -> Vec<f64> {
        if let Some(t) = &self.ticks {
            return t.iter().map(|(v, _)| *v).collect();
        }
        let max = max.max(2);
        match self.scale {
            Scale::Log2 => {
                let (a, b) = (self.lo.log2().ceil() as i64, self.hi.log2().floor() as i64);
                let n = (b - a + 1).max(1) as usize;
                let step = n.div_ceil(max).max(1) as i64;
                (a..=b)
                    .filter(|k| k.rem_euclid(step) == 0)
                    .map(|k| 2f64.powi(k as i32))
                    .collect()
            }
            Scale::Log10 => {
                let (a, b) = (
                    self.lo.log10().floor() as i64,
                    self.hi.log10().ceil() as i64,
                );
                let decades = (b - a).max(1) as usize;
                let mults: &[f64] = if decades <= 2 {
                    &[1.0, 2.0, 5.0]
                } else {
                    &[1.0]
                };
                let step = (decades * mults.len()).div_ceil(max).max(1) as i64;
                let mut out = Vec::new();
                for k in a..=b {
                    if mults.len() == 1 && k.rem_euclid(step) != 0 {
                        continue;
                    }
                    for m in mults {
                        let v = m * 10f64.powi(k as i32);
                        if v >= self.lo && v <= self.hi {
                            out.push(v);
                        }
                    }
                }
                out
            }
            Scale::Linear => {
                let span = self.hi - self.lo;
                let raw = span / max as f64;
                let mag = 10f64.powf(raw.log10().floor());
                let step = [1.0, 2.0, 5.0, 10.0]
                    .iter()
                    .map(|m| m * mag)
                    .find(|s| *s >= raw)
                    .unwrap_or(10.0 * mag);
                let first = (self.lo / step).ceil() as i64;
                let last = (self.hi / step).floor() as i64;
                (first..=last).map(|i| i as f64 * step).collect()
            }
        }
    }

    /// The label of tick value `v`.
    pub fn label(&self, v: f64) -> String {
        if let Some(t) = &self.ticks {
            return t
                .iter()
                .find(|(x, _)| (x - v).abs() <= 1e-9 * x.abs().max(1e-12))
                .map(|(_, l)| l.clone())
                .unwrap_or_default();
        }
        match self.scale {
            Scale::Log2 => format!("2{}", superscript(v.log2().round() as i64)),
            Scale::Log10 => {
                let k = v.log10().floor() as i64;
                let m = (v / 10f64.powi(k as i32)).round() as i64;
                if (1e-3..1e4).contains(&v) {
                    decimal(v)
                } else if m == 1 {
                    format!("10{}", superscript(k))
                } else {
                    format!("{m}·10{}", superscript(k))
                }
            }
            Scale::Linear => decimal(v),
        }
    }
}

impl Ranged for AxisCoord {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;
    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let (a, b) = (self.t(self.lo), self.t(self.hi));
        let f = (self.t(*value) - a) / (b - a);
        (limit.0 as f64 + f * (limit.1 - limit.0) as f64).round() as i32
    }
    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        self.tick_values(hint.max_num_points().min(12))
    }
    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for AxisCoord {
    fn format_ext(&self, value: &f64) -> String {
        self.label(*value)
    }
}

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

    fn axes(&self) -> (AxisCoord, AxisCoord) {
        let xs = self
            .series
            .iter()
            .flat_map(|s| {
                s.points
                    .iter()
                    .map(|p| p.x)
                    .chain(s.diverged.iter().copied())
            })
            .chain(self.vlines.iter().map(|v| v.0))
            .chain(self.lines.iter().flat_map(|l| [l.from.0, l.to.0]));
        let ys = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().flat_map(|p| [p.y, p.lo, p.hi]))
            .chain(self.hlines.iter().map(|h| h.0))
            .chain(self.lines.iter().flat_map(|l| [l.from.1, l.to.1]));
        let mut ys: Vec<f64> = ys.collect();
        if self.legend == LegendAt::UpperLeft || self.legend == LegendAt::UpperRight {
            // Leave head room for the legend.
            let ax = AxisCoord::covering(self.y_scale, ys.iter().copied());
            let room = if self.y_scale.is_log() {
                ax.hi * (ax.hi / ax.lo).powf(0.35)
            } else {
                ax.hi + 0.35 * (ax.hi - ax.lo)
            };
            ys.push(room);
        }
        (
            AxisCoord::covering(self.x_scale, xs),
            AxisCoord::covering(self.y_scale, ys),
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(err)?;
        let (xa, ya) = self.axes();
        let (y_lo, y_hi) = (ya.lo, ya.hi);
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, (FAMILY, 24))
            .margin(18)
            .x_label_area_size(62)
            .y_label_area_size(92)
            .build_cartesian_2d(xa.clone(), ya.clone())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style((FAMILY, 17))
            .axis_desc_style((FAMILY, 19))
            .light_line_style(RGBColor(238, 238, 238))
            .bold_line_style(RGBColor(215, 215, 215))
            .max_light_lines(0)
            .x_labels(12)
            .y_labels(10)
            .draw()
            .map_err(err)?;
        for (i, (v, label)) in self.vlines.iter().enumerate() {
            // Successive reference lines: long dashes, then short grey dots.
            let (style, dash, gap) = if i % 2 == 0 {
                (
                    ShapeStyle::from(&RGBColor(60, 60, 60)).stroke_width(2),
                    10,
                    6,
                )
            } else {
                (
                    ShapeStyle::from(&RGBColor(150, 150, 150)).stroke_width(2),
                    3,
                    4,
                )
            };
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(*v, y_lo), (*v, y_hi)],
                    dash,
                    gap,
                    style,
                ))
                .map_err(err)?
                .label(label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], style));
        }
        for (v, label) in &self.hlines {
            let style = ShapeStyle::from(&RGBColor(120, 120, 120)).stroke_width(2);
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(xa.lo, *v), (xa.hi, *v)],
                    3,
                    5,
                    style,
                ))
                .map_err(err)?
                .label(label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], style));
        }
        let mut any_diverged = false;
        for (i, s) in self.series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let pts: Vec<Pt> = s
                .points
                .iter()
                .copied()
                .filter(|p| p.x.is_finite() && p.y.is_finite())
                .filter(|p| !ya.scale.is_log() || p.y > 0.0)
                .collect();
            chart
                .draw_series(
                    pts.iter()
                        .filter(|p| p.lo.is_finite() && p.hi.is_finite())
                        .map(|p| {
                            let lo = if ya.scale.is_log() && p.lo <= 0.0 {
                                y_lo
                            } else {
                                p.lo
                            };
                            ErrorBar::new_vertical(p.x, lo, p.y, p.hi, color.stroke_width(2), 8)
                        }),
                )
                .map_err(err)?;
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|p| (p.x, p.y)),
                    color.stroke_width(2),
                ))
                .map_err(err)?
                .label(s.label.clone())
                .legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (22, 0)], color.stroke_width(3))
                        + Circle::new((11, 0), 4, color.filled())
                });
            chart
                .draw_series(
                    pts.iter()
                        .map(|p| Circle::new((p.x, p.y), 4, color.filled())),
                )
                .map_err(err)?;
            if !s.diverged.is_empty() {
                any_diverged = true;
                // Stacked per series so that markers of curves diverging at the same x stay
                // visible.
                let f = 0.03 + 0.035 * i as f64;
                let y = if ya.scale.is_log() {
                    y_lo * (y_hi / y_lo).powf(f)
                } else {
                    y_lo + f * (y_hi - y_lo)
                };
                chart
                    .draw_series(
                        s.diverged
                            .iter()
                            .map(|&x| Cross::new((x, y), 7, color.stroke_width(3))),
                    )
                    .map_err(err)?;
            }
        }
        if any_diverged {
            chart
                .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                .map_err(err)?
                .label("diverged (most seeds)")
                .legend(|(x, y)| Cross::new((x + 11, y), 6, BLACK.stroke_width(3)));
        }
        for l in &self.lines {
            let color = l.color.map_or(BLACK, |c| PALETTE[c % PALETTE.len()]);
            let style = color.stroke_width(2);
            let anno = chart
                .draw_series(DashedLineSeries::new(vec![l.from, l.to], 12, 5, style))
                .map_err(err)?;
            if !l.label.is_empty() {
                anno.label(l.label.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], style));
            }
        }
        let pos = match self.legend {
            LegendAt::UpperLeft => SeriesLabelPosition::UpperLeft,
            LegendAt::UpperRight => SeriesLabelPosition::UpperRight,
            LegendAt::LowerLeft => SeriesLabelPosition::LowerLeft,
            LegendAt::LowerRight => SeriesLabelPosition::LowerRight,
        };
        chart
            .configure_series_labels()
            .position(pos)
            .label_font((FAMILY, 15))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(160, 160, 160))
            .draw()
            .map_err(err)?;
        Ok(())
    }
}

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

fn grid_ticks(values: &[f64], max: usize) -> Vec<(f64, String)> {
    let step = values.len().div_ceil(max.max(1)).max(1);
    values
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0)
        .map(|(i, &v)| {
            let k = v.log2();
            let label = if v > 0.0 && (k - k.round()).abs() < 1e-9 {
                format!("2{}", superscript(k.round() as i64))
            } else {
                crate::fmt_num(v)
            };
            (i as f64, label)
        })
        .collect()
}

impl Heatmap {
    /// Writes `stem.svg` and `stem.png`.
    pub fn save(&self, stem: &Path) -> Result<Vec<PathBuf>, sgdnoise_core::Error> {
        save_both(stem, SIZE, &|r| self.draw(r), &|r| self.draw(r))
    }

    fn value_range(&self) -> (f64, f64) {
        let vals = self.cells.iter().flatten().filter_map(|c| match c {
            Cell::Value(v) if v.is_finite() && (!self.log_values || *v > 0.0) => Some(*v),
            _ => None,
        });
        let (lo, hi) = vals.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        if !lo.is_finite() {
            return (0.1, 1.0);
        }
        if hi <= lo {
            return if self.log_values {
                (lo / 2.0, hi * 2.0)
            } else {
                (lo - 0.5, hi + 0.5)
            };
        }
        (lo, hi)
    }

    fn fraction(&self, v: f64, (lo, hi): (f64, f64)) -> f64 {
        if self.log_values {
            (v.ln() - lo.ln()) / (hi.ln() - lo.ln())
        } else {
            (v - lo) / (hi - lo)
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(err)?;
        let (w, _) = root.dim_in_pixel();
        let (main, bar) = root.split_horizontally(w as i32 - 150);
        let nx = self.xs.len().max(1) as f64;
        let ny = self.ys.len().max(1) as f64;
        let xa = AxisCoord {
            scale: Scale::Linear,
            lo: -0.5,
            hi: nx - 0.5,
            ticks: Some(grid_ticks(&self.xs, 13)),
        };
        let ya = AxisCoord {
            scale: Scale::Linear,
            lo: -0.5,
            hi: ny - 0.5,
            ticks: Some(grid_ticks(&self.ys, 14)),
        };
        let mut chart = ChartBuilder::on(&main)
            .caption(&self.title, (FAMILY, 24))
            .margin(18)
            .x_label_area_size(62)
            .y_label_area_size(92)
            .build_cartesian_2d(xa, ya)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style((FAMILY, 17))
            .axis_desc_style((FAMILY, 19))
            .draw()
            .map_err(err)?;
        let range = self.value_range();
        let grey = RGBColor(200, 200, 200);
        let hatch = RGBColor(90, 90, 90);
        let mut any_diverged = false;
        let mut any_missing = false;
        for (iy, row) in self.cells.iter().enumerate() {
            for (ix, cell) in row.iter().enumerate() {
                let (x, y) = (ix as f64, iy as f64);
                let rect = [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)];
                match cell {
                    Cell::Value(v) if v.is_finite() => {
                        let c = viridis(self.fraction(*v, range));
                        chart
                            .draw_series(std::iter::once(Rectangle::new(rect, c.filled())))
                            .map_err(err)?;
                    }
                    Cell::Diverged => {
                        any_diverged = true;
                        chart
                            .draw_series(std::iter::once(Rectangle::new(rect, grey.filled())))
                            .map_err(err)?;
                        let lines = [-0.25, 0.25].map(|o: f64| {
                            PathElement::new(
                                vec![
                                    (x - 0.5 + o.max(0.0) * 2.0, y - 0.5 - o.min(0.0) * 2.0),
                                    (x + 0.5 + o.min(0.0) * 2.0, y + 0.5 - o.max(0.0) * 2.0),
                                ],
                                hatch.stroke_width(1),
                            )
                        });
                        chart.draw_series(lines).map_err(err)?;
                        chart
                            .draw_series(std::iter::once(PathElement::new(
                                vec![(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                                hatch.stroke_width(1),
                            )))
                            .map_err(err)?;
                    }
                    _ => {
                        any_missing = true;
                        chart
                            .draw_series(std::iter::once(Rectangle::new(
                                rect,
                                RGBColor(245, 245, 245).filled(),
                            )))
                            .map_err(err)?;
                    }
                }
            }
        }
        if !self.markers.is_empty() {
            let index = |vals: &[f64], v: f64| -> f64 {
                // Position of v on the log grid, fractional between cells.
                let l = v.ln();
                let i = vals.partition_point(|g| g.ln() < l);
                if i == 0 {
                    return 0.0;
                }
                if i >= vals.len() {
                    return (vals.len() - 1) as f64;
                }
                let (a, b) = (vals[i - 1].ln(), vals[i].ln());
                (i - 1) as f64 + (l - a) / (b - a)
            };
            let pts: Vec<(f64, f64)> = self
                .markers
                .iter()
                .map(|&(x, y)| (index(&self.xs, x), index(&self.ys, y)))
                .collect();
            chart
                .draw_series(LineSeries::new(pts.clone(), RED.stroke_width(2)))
                .map_err(err)?;
            chart
                .draw_series(
                    pts.iter()
                        .map(|&p| Circle::new(p, 6, ShapeStyle::from(&RED).filled())),
                )
                .map_err(err)?
                .label(self.marker_label.clone())
                .legend(|(x, y)| Circle::new((x + 11, y), 6, ShapeStyle::from(&RED).filled()));
        }
        if any_diverged {
            chart
                .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                .map_err(err)?
                .label("diverged (most seeds)")
                .legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + Rectangle::new([(0, -7), (22, 7)], grey.filled())
                        + PathElement::new(vec![(0, 7), (14, -7)], hatch.stroke_width(1))
                        + PathElement::new(vec![(8, 7), (22, -7)], hatch.stroke_width(1))
                });
        }
        if any_missing {
            chart
                .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                .map_err(err)?
                .label("no finished run")
                .legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + Rectangle::new([(0, -7), (22, 7)], RGBColor(245, 245, 245).filled())
                        + Rectangle::new([(0, -7), (22, 7)], RGBColor(160, 160, 160))
                });
        }
        if any_diverged || any_missing || !self.markers.is_empty() {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .label_font((FAMILY, 15))
                .background_style(WHITE.mix(0.9))
                .border_style(RGBColor(160, 160, 160))
                .draw()
                .map_err(err)?;
        }
        // Colour bar.
        let scale = if self.log_values {
            Scale::Log10
        } else {
            Scale::Linear
        };
        let ca = AxisCoord {
            scale,
            lo: range.0,
            hi: range.1,
            ticks: None,
        };
        let mut cb = ChartBuilder::on(&bar)
            .margin_top(60)
            .margin_bottom(80)
            .margin_right(8)
            .y_label_area_size(78)
            .build_cartesian_2d(0.0..1.0, ca.clone())
            .map_err(err)?;
        cb.configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_desc(&self.value_label)
            .label_style((FAMILY, 15))
            .axis_desc_style((FAMILY, 16))
            .y_labels(8)
            .draw()
            .map_err(err)?;
        let n = 120;
        let at = |k: usize| -> f64 {
            let f = k as f64 / n as f64;
            if self.log_values {
                (range.0.ln() + f * (range.1.ln() - range.0.ln())).exp()
            } else {
                range.0 + f * (range.1 - range.0)
            }
        };
        cb.draw_series((0..n).map(|k| {
            let c = viridis((k as f64 + 0.5) / n as f64);
            Rectangle::new([(0.0, at(k)), (1.0, at(k + 1))], c.filled())
        }))
        .map_err(err)?;
        Ok(())
    }
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

    #[test]
    fn log_ticks_are_powers() {
        let a = AxisCoord::covering(Scale::Log2, [2f64.powi(-9), 0.5]);
        let t = a.tick_values(12);
        assert_eq!(t.first(), Some(&2f64.powi(-9)));
        assert_eq!(t.last(), Some(&0.5));
        assert_eq!(a.label(2f64.powi(-9)), "2⁻⁹");
        let b = AxisCoord::covering(Scale::Log10, [1e-6, 1e2]);
        let t = b.tick_values(12);
        assert!(
            t.contains(&1e-6) && t.contains(&1.0) && t.contains(&100.0),
            "{t:?}"
        );
        assert_eq!(b.label(1e-6), "10⁻⁶");
        assert_eq!(b.label(0.01), "0.01");
        let c = AxisCoord::covering(Scale::Log10, [0.02, 0.3]);
        let t = c.tick_values(12);
        assert!(
            t.contains(&0.05) && t.contains(&0.1) && t.contains(&0.2),
            "{t:?}"
        );
    }

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
