//! Figures as SVG and PNG, and for print as PDF and 300 dpi PNG.
//!
//! Two kinds of figure: [`LinePlot`] (curves with their seed spread as a band, fitted power
//! laws with their confidence bands, theory and reference lines, diverged and capped points)
//! and [`Heatmap`] (an observable over two log-spaced settings, with diverged cells hatched
//! grey). A figure is laid out once, in figure units of 1/150 inch ([`SIZE`] is 6.4 x 4.53
//! inches), as a list of primitives (`canvas`), then written by three renderers of our own:
//!
//! * `raster`: PNG, anti-aliased, text drawn from the embedded font's outlines; the screen PNG
//!   has one pixel per unit, the print PNG two (300 dpi, recorded in the file).
//! * `svg`: SVG in figure units; the font is named, or embedded for print.
//! * `pdf`: a one-page vector PDF at print size with the font embedded.
//!
//! Text uses one font everywhere, a subset of DejaVu Sans (assets/fonts, Bitstream Vera
//! licence), so every renderer puts every letter at the same place; labels are markup with
//! sub- and superscripts (`T_{c}`, `P^{−a}`, see `font`).
//!
//! Log axes are drawn in log space with one number format per axis, minor ticks, and a range
//! that fits the data (`axis`). Spreads on log axes are multiplicative (the caller passes
//! lo/hi that stay positive), so bands never run to the bottom of the axis.
//!
//! The drawing is split by concern:
//!
//! * `axis`: axis ranges, major and minor ticks and their labels ([`AxisCoord`]).
//! * `color`: the curve palette, the heatmap colour map, the greys of diverged cells.
//! * `font`: the embedded font, text measurement and label markup.
//! * `canvas`: primitives, dashes, anchored labels.
//! * `line`: laying out a [`LinePlot`] (axes, legend placement, bands, markers).
//! * `heatmap`: laying out a [`Heatmap`] and its colour bar.
//! * `raster`, `svg`, `pdf`: the renderers.

mod axis;
mod canvas;
mod color;
mod font;
mod heatmap;
mod line;
mod pdf;
mod raster;
mod svg;

pub use axis::{format_tick, superscript, AxisCoord, Format};
pub use canvas::Dash;
pub use color::{palette, viridis, Rgb, PALETTE};

use canvas::Canvas;

/// A label's plain text (markup written out: `T_{c}` -> `T_c`), e.g. for Markdown.
pub fn plain_text(markup: &str) -> String {
    font::plain(markup)
}
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

/// One point of a curve: the centre `y` with an interval [lo, hi] (NaN: none). On log axes
/// the interval must stay positive (a multiplicative spread or a quantile band).
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
    /// x values where most runs diverged: marked × in a strip at the bottom of the plot.
    pub diverged: Vec<f64>,
    /// x values of points that are censored (most of their runs were stopped by a cap):
    /// drawn as open markers, with an upward arrow where [`LinePlot::capped_lower_bound`].
    pub capped: Vec<f64>,
    /// x values of points resting on fewer seeds than the figure's others (an adaptive
    /// search's partial points): drawn with a smaller marker, named in the legend by
    /// [`LinePlot::full_seeds`].
    pub few_seeds: Vec<f64>,
    /// Draw the intervals as error bars (a few estimates with confidence intervals) rather
    /// than as a band (a curve with its seed spread).
    pub bars: bool,
}

/// A straight line in the plot's coordinates (a fitted power law on log-log axes) between
/// `from` and `to`: the caller gives the fit range, the line is drawn over nothing more.
#[derive(Clone, Debug)]
pub struct Line {
    pub label: String,
    pub from: (f64, f64),
    pub to: (f64, f64),
    /// Index into [`PALETTE`]; None: black.
    pub color: Option<usize>,
    /// [`Dash::FIT`] for fits, [`Dash::THEORY`] for theory and reference lines.
    pub dash: Dash,
}

/// A filled region (a confidence band of a fit, the range a collapse sweeps) given by closed
/// contours in the plot's coordinates, drawn translucent under the curves; overlapping
/// contours are filled once (their union).
#[derive(Clone, Debug, Default)]
pub struct Band {
    /// Legend label (empty: no legend entry).
    pub label: String,
    /// Index into [`PALETTE`]; None: grey.
    pub color: Option<usize>,
    pub contours: Vec<Vec<(f64, f64)>>,
}

impl Band {
    /// The band between `lower` and `upper`, given as (x, lower, upper) along increasing x.
    pub fn between(label: String, color: Option<usize>, pts: &[(f64, f64, f64)]) -> Band {
        let mut outline: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, p.2)).collect();
        outline.extend(pts.iter().rev().map(|p| (p.0, p.1)));
        Band {
            label,
            color,
            contours: vec![outline],
        }
    }

    /// The region a polyline sweeps when it moves (in log-log, linearly) from `a` to `b`, the
    /// same points at two ends of an interval: the union of the quadrilaterals of each
    /// segment's two ends.
    pub fn swept(label: String, color: Option<usize>, a: &[(f64, f64)], b: &[(f64, f64)]) -> Band {
        let contours = a
            .windows(2)
            .zip(b.windows(2))
            .map(|(s, t)| vec![s[0], s[1], t[1], t[0]])
            .collect();
        Band {
            label,
            color,
            contours,
        }
    }
}

/// Where the legend goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LegendAt {
    /// The inside corner that covers no data, else outside on the right.
    #[default]
    Best,
    UpperLeft,
    UpperRight,
    LowerLeft,
    LowerRight,
    /// Outside the axes, on the right.
    Outside,
}

/// A figure of curves. Titles, labels and legend entries are markup (see the module doc).
#[derive(Clone, Debug)]
pub struct LinePlot {
    pub title: String,
    /// A second, smaller line under the title: seeds, what the points and bands are.
    pub subtitle: String,
    pub x_label: String,
    pub y_label: String,
    pub x_scale: Scale,
    pub y_scale: Scale,
    pub series: Vec<Series>,
    pub lines: Vec<Line>,
    pub bands: Vec<Band>,
    /// Vertical reference lines (x, label).
    pub vlines: Vec<(f64, String)>,
    /// Horizontal reference lines (y, label).
    pub hlines: Vec<(f64, String)>,
    pub legend: LegendAt,
    /// Capped points are lower bounds of the observable (t*, steps, weight change): drawn
    /// with an upward arrow.
    pub capped_lower_bound: bool,
    /// The seeds a point of the figure has when it has them all (the legend's "fewer than N
    /// seeds" for [`Series::few_seeds`]).
    pub full_seeds: usize,
}

impl LinePlot {
    pub fn new(title: &str, x_label: &str, y_label: &str, x_scale: Scale, y_scale: Scale) -> Self {
        LinePlot {
            title: title.into(),
            subtitle: String::new(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            x_scale,
            y_scale,
            series: Vec::new(),
            lines: Vec::new(),
            bands: Vec::new(),
            vlines: Vec::new(),
            hlines: Vec::new(),
            legend: LegendAt::default(),
            capped_lower_bound: false,
            full_seeds: 0,
        }
    }
}

/// A heatmap cell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell {
    Value(f64),
    /// A value of which most runs were stopped by a cap (drawn with a ring).
    Capped(f64),
    /// Most runs of the cell diverged.
    Diverged,
    /// Runs were made but none finished (or none has a value).
    Missing,
    /// No run was made at this cell: a value of the lattice the sweep (an adaptive search, or
    /// a grid with holes) never sampled. Drawn blank with a dot, named "not run".
    NotRun,
}

/// The log-spaced lattice that ascending positive `values` lie on, holes filled: the values from
/// the first to the last in steps of the smallest ratio between neighbours, when every ratio is
/// a whole power of that step (within 1e-6 of an octave's share) and the lattice has at most
/// `max(4 n, 64)` values. A value present is kept exactly (cells are found by equality); `values`
/// come back unchanged when they lie on no such lattice (1, 3, 10, ...) or would fill too many.
pub fn log_lattice(values: &[f64]) -> Vec<f64> {
    let n = values.len();
    if n < 2 || values.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
        return values.to_vec();
    }
    let l: Vec<f64> = values.iter().map(|v| v.log2()).collect();
    let gaps: Vec<f64> = l.windows(2).map(|w| w[1] - w[0]).collect();
    let g = gaps.iter().copied().fold(f64::INFINITY, f64::min);
    if g.is_nan() || g <= 1e-9 {
        return values.to_vec();
    }
    let whole = |x: f64| (x - x.round()).abs() < 1e-6 * x.round().max(1.0);
    if !gaps.iter().all(|d| whole(d / g)) {
        return values.to_vec();
    }
    let total = ((l[n - 1] - l[0]) / g).round() as usize + 1;
    if total == n || total > (4 * n).max(64) {
        return values.to_vec();
    }
    let mut out = Vec::with_capacity(total);
    let mut next = 0;
    for k in 0..total {
        let lk = l[0] + k as f64 * g;
        if next < n && ((l[next] - lk) / g).abs() < 1e-3 {
            out.push(values[next]);
            next += 1;
        } else {
            out.push(lk.exp2());
        }
    }
    out
}

/// An observable over two settings on grids (log-spaced, one cell per grid value).
#[derive(Clone, Debug)]
pub struct Heatmap {
    pub title: String,
    pub subtitle: String,
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
    /// What an empty cell ([`Cell::Missing`]) means, for the legend.
    pub empty_label: String,
    /// A categorical map: cell value k (1, 2, ...) is category `categories[k - 1]`, each drawn
    /// in its own colour and named in the legend instead of a colour bar (empty: a continuous
    /// map with a colour bar).
    pub categories: Vec<String>,
}

/// Figure size in figure units (1/150 inch): 6.4 x 4.53 inches.
pub const SIZE: (u32, u32) = (960, 680);
/// Figure units per inch.
pub const DPI: f64 = 150.0;
/// Pixels per figure unit of the print PNG (300 dpi).
const PRINT_SCALE: f64 = 2.0;

/// Which files a figure is written to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Formats {
    /// Also `print/STEM.pdf`, `print/STEM.png` (300 dpi) and `print/STEM.svg` (font embedded).
    pub print: bool,
}

fn save_canvas(
    canvas: &Canvas,
    title: &str,
    stem: &Path,
    formats: Formats,
) -> Result<Vec<PathBuf>, sgdnoise_core::Error> {
    let dir = stem.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| sgdnoise_core::Error::io(dir, e))?;
    let name = stem.file_name().unwrap_or_default();
    let fail =
        |p: &Path, e: String| sgdnoise_core::Error::Other(format!("drawing {}: {e}", p.display()));
    let write = |p: &Path, bytes: &[u8]| {
        std::fs::write(p, bytes).map_err(|e| sgdnoise_core::Error::io(p, e))
    };
    let svg = stem.with_extension("svg");
    write(
        &svg,
        svg::svg(canvas, &font::plain(title), false).as_bytes(),
    )?;
    let png = stem.with_extension("png");
    raster::write_png(canvas, 1.0, &png).map_err(|e| fail(&png, e))?;
    let mut files = vec![svg, png];
    if formats.print {
        let pdir = dir.join("print");
        std::fs::create_dir_all(&pdir).map_err(|e| sgdnoise_core::Error::io(&pdir, e))?;
        let base = pdir.join(name);
        let pdf = base.with_extension("pdf");
        write(&pdf, &pdf::pdf(canvas))?;
        let png = base.with_extension("png");
        raster::write_png(canvas, PRINT_SCALE, &png).map_err(|e| fail(&png, e))?;
        let svg = base.with_extension("svg");
        write(&svg, svg::svg(canvas, &font::plain(title), true).as_bytes())?;
        files.extend([pdf, png, svg]);
    }
    Ok(files)
}

impl LinePlot {
    /// Writes `stem.svg` and `stem.png`.
    pub fn save(&self, stem: &Path) -> Result<Vec<PathBuf>, sgdnoise_core::Error> {
        self.save_as(stem, Formats::default())
    }
    /// Writes `stem.svg`, `stem.png` and, for print, the files of [`Formats::print`].
    pub fn save_as(
        &self,
        stem: &Path,
        formats: Formats,
    ) -> Result<Vec<PathBuf>, sgdnoise_core::Error> {
        save_canvas(&self.render(), &self.title, stem, formats)
    }
}

impl Heatmap {
    /// Writes `stem.svg` and `stem.png`.
    pub fn save(&self, stem: &Path) -> Result<Vec<PathBuf>, sgdnoise_core::Error> {
        self.save_as(stem, Formats::default())
    }
    /// Writes `stem.svg`, `stem.png` and, for print, the files of [`Formats::print`].
    pub fn save_as(
        &self,
        stem: &Path,
        formats: Formats,
    ) -> Result<Vec<PathBuf>, sgdnoise_core::Error> {
        save_canvas(&self.render(), &self.title, stem, formats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn sample_plot() -> LinePlot {
        let mut p = LinePlot::new(
            "Test error against T",
            "temperature T",
            "test error ε",
            Scale::Log2,
            Scale::Log10,
        );
        p.subtitle = "3 seeds".into();
        p.full_seeds = 3;
        p.series.push(Series {
            label: "P = 1024".into(),
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
            capped: vec![0.5],
            few_seeds: vec![2f64.powi(-5)],
            bars: false,
        });
        p.lines.push(Line {
            label: "fit".into(),
            from: (2f64.powi(-6), 0.0125),
            to: (0.5, 0.07),
            color: None,
            dash: Dash::FIT,
        });
        p.vlines.push((0.01, "T_{c}".into()));
        p
    }

    #[test]
    fn figures_are_written_as_svg_and_png_and_for_print_as_pdf() {
        let dir = std::env::temp_dir().join(format!("sgdnoise-plot-{}", std::process::id()));
        let p = sample_plot();
        let files = p
            .save_as(&dir.join("curves"), Formats { print: true })
            .unwrap();
        assert_eq!(files.len(), 5);
        let h = Heatmap {
            title: "phase".into(),
            subtitle: String::new(),
            x_label: "α".into(),
            y_label: "T".into(),
            xs: vec![0.25, 1.0, 4.0],
            ys: vec![0.5, 1.0],
            cells: vec![
                vec![Cell::Value(0.1), Cell::Value(0.2), Cell::Diverged],
                vec![Cell::Capped(0.3), Cell::Missing, Cell::Diverged],
            ],
            value_label: "test error".into(),
            log_values: false,
            markers: vec![(1.0, 0.7)],
            marker_label: "T_{opt}".into(),
            empty_label: "no finished run".into(),
            categories: Vec::new(),
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
        // The print PNG is twice the size, recorded as 300 dpi (11811 pixels per metre).
        let print_png = std::fs::read(dir.join("print/curves.png")).unwrap();
        let width = u32::from_be_bytes(print_png[16..20].try_into().unwrap());
        assert_eq!(width, 2 * SIZE.0);
        let phys = print_png
            .windows(4)
            .position(|w| w == b"pHYs")
            .expect("pHYs chunk");
        let ppm = u32::from_be_bytes(print_png[phys + 4..phys + 8].try_into().unwrap());
        assert_eq!(ppm, 11811);
        let pdf = std::fs::read(dir.join("print/curves.pdf")).unwrap();
        let content = pdf::tests::check_pdf(&pdf);
        assert!(content.contains("TJ"));
        let psvg = std::fs::read_to_string(dir.join("print/curves.svg")).unwrap();
        assert!(psvg.contains("@font-face"));
        // SGDNOISE_KEEP_PLOTS=1 keeps them for a look.
        if std::env::var_os("SGDNOISE_KEEP_PLOTS").is_none() {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }

    /// Regression: a long subtitle (the region map's, with "3 seeds (fewer than 5: ...)" and the
    /// cells not run) was wrapped to the figure's width but centred on the plot, which sits left
    /// of the legend column: its first line ran off the figure's left edge. Every text of a
    /// heatmap and of a line plot now lies inside the figure.
    #[test]
    fn a_long_subtitle_stays_inside_the_figure() {
        let subtitle = "region of each cell by the rule of SPEC §11 on the signal · 3 seeds (fewer than 5: spreads and intervals are rough) · 32 of 80 cells not run";
        let h = Heatmap {
            title: "Regions of the (B, η) plane, P = 512".into(),
            subtitle: subtitle.into(),
            x_label: "B".into(),
            y_label: "η".into(),
            xs: vec![1.0, 2.0, 4.0],
            ys: vec![0.5, 1.0],
            cells: vec![
                vec![Cell::Value(1.0), Cell::NotRun, Cell::Value(3.0)],
                vec![Cell::Value(2.0), Cell::Missing, Cell::Value(3.0)],
            ],
            value_label: "region".into(),
            log_values: false,
            markers: Vec::new(),
            marker_label: String::new(),
            empty_label: "unresolved, or no finished majority".into(),
            categories: vec![
                "gradient descent".into(),
                "noise-dominated".into(),
                "first large step".into(),
            ],
        };
        let mut p = sample_plot();
        p.subtitle = subtitle.into();
        for c in [h.render(), p.render()] {
            for prim in &c.prims {
                if let canvas::Prim::Text {
                    at,
                    text,
                    size,
                    up: false,
                    ..
                } = prim
                {
                    let end = at.0 + font::width(text, *size);
                    assert!(
                        at.0 >= 0.0 && end <= c.w,
                        "{text:?} runs from {:.0} to {end:.0} of {}",
                        at.0,
                        c.w
                    );
                }
            }
        }
    }

    /// Regression: an adaptive search's store has eta = 2^-15 and 2^-11..2^-7 at some alpha;
    /// the heatmap drew 2^-15 as the row right under 2^-11. The lattice puts the three rows
    /// it never sampled back in between; values on no lattice stay as they are.
    #[test]
    fn a_log_lattice_fills_the_holes_of_an_adaptive_axis() {
        let p = |k: f64| k.exp2();
        let present: Vec<f64> = [-15.0, -11.0, -10.0, -9.0, -8.0, -7.0].map(p).to_vec();
        let l = log_lattice(&present);
        assert_eq!(l.len(), 9, "{l:?}");
        for (k, v) in (-15..=-7).zip(&l) {
            assert!((v.log2() - k as f64).abs() < 1e-12, "{l:?}");
        }
        // The values present come back bit for bit (cells are found by equality).
        for v in &present {
            assert!(l.contains(v));
        }
        // A quarter-octave lattice with a hole.
        let q: Vec<f64> = [0.0, 0.25, 1.0, 1.25].map(p).to_vec();
        assert_eq!(log_lattice(&q).len(), 6);
        // No lattice: 1, 3, 10; and a complete one is unchanged.
        let dec = vec![1e-4, 3e-4, 1e-3];
        assert_eq!(log_lattice(&dec), dec);
        let full: Vec<f64> = (0..5).map(|k| p(k as f64)).collect();
        assert_eq!(log_lattice(&full), full);
        // A fine step against a wide span would fill thousands of rows: left alone.
        let wide = vec![1.0, 1.001, 2f64.powi(40)];
        assert_eq!(log_lattice(&wide), wide);
    }

    /// Regression: the (B, eta) region map drew its three regions against a continuous colour
    /// bar from 1.0 to 3.0 (ticks 1.5, 2.5 named nothing). A categorical map names each
    /// category, in its own colour, in the legend and draws no colour bar.
    #[test]
    fn a_categorical_map_names_its_categories_instead_of_a_colour_bar() {
        let map = |categories: Vec<String>| Heatmap {
            title: "regions".into(),
            subtitle: String::new(),
            x_label: "B".into(),
            y_label: "η".into(),
            xs: vec![1.0, 2.0, 4.0],
            ys: vec![0.5, 1.0],
            cells: vec![
                vec![Cell::Value(1.0), Cell::Value(2.0), Cell::Value(3.0)],
                vec![Cell::Value(2.0), Cell::Missing, Cell::Value(3.0)],
            ],
            value_label: "region value".into(),
            log_values: false,
            markers: Vec::new(),
            marker_label: String::new(),
            empty_label: "unresolved".into(),
            categories,
        };
        let cat = map(vec!["gd".into(), "noise".into(), "step".into()]);
        let svg = svg::svg(&cat.render(), "regions", false);
        for name in ["gd", "noise", "step", "unresolved"] {
            assert!(svg.contains(&format!(">{name}<")), "{name} missing");
        }
        assert!(!svg.contains("region value"), "a colour bar was drawn");
        assert!(!svg.contains(">2.5<"), "colour-bar ticks were drawn");
        // Each category has its own colour, the same in the cells and in the legend.
        let colors: Vec<Rgb> = (0..3).map(|k| cat.category_color(k)).collect();
        assert!(colors[0] != colors[1] && colors[1] != colors[2]);
        assert_eq!(cat.color_of(2.0, (1.0, 3.0)), colors[1]);
        // The continuous map keeps its colour bar.
        let svg = svg::svg(&map(Vec::new()).render(), "regions", false);
        assert!(svg.contains("region value"));
    }
}
