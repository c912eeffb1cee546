//! Laying out a [`LinePlot`]: title and subtitle, axes fitted to the data with major and minor
//! ticks, bands (seed spreads and fit intervals), reference lines, curves with their markers,
//! capped points open (with an arrow where they are lower bounds), diverged points as × in a
//! strip under the data, and a legend whose swatches draw exactly what the plot draws, in the
//! inside corner that covers no data or else outside on the right.

use super::axis::AxisCoord;
use super::canvas::{Canvas, Dash, Rect, H, P, V};
use super::color::{palette, Rgb, BLACK, GRID, INK, MUTED, WHITE};
use super::font;
use super::{LegendAt, LinePlot, Pt, Scale, SIZE};

/// Type sizes (em, figure units) and strokes.
pub(super) const TITLE: f64 = 20.0;
pub(super) const SUBTITLE: f64 = 13.5;
pub(super) const AXIS_LABEL: f64 = 17.5;
pub(super) const TICK_LABEL: f64 = 16.0;
pub(super) const LEGEND: f64 = 14.0;
pub(super) const MAJOR_TICK: f64 = 6.0;
pub(super) const MINOR_TICK: f64 = 3.5;
const CURVE: f64 = 2.2;
const MARKER: f64 = 4.0;
/// The marker of a point resting on fewer seeds than the others.
const SMALL_MARKER: f64 = 2.4;
const BAND_ALPHA: f64 = 0.17;
const FIT_BAND_ALPHA: f64 = 0.13;
const ROW: f64 = 19.5;
const SWATCH: f64 = 30.0;

/// The mapping from data to figure units of one panel.
#[derive(Clone, Debug)]
pub(super) struct Frame {
    /// The whole axes box (data area and diverged strip).
    pub outer: Rect,
    /// Where data values map.
    pub data: Rect,
    pub xa: AxisCoord,
    pub ya: AxisCoord,
}

impl Frame {
    pub fn px(&self, (x, y): (f64, f64)) -> P {
        (
            self.data.x0 + self.xa.frac(x) * self.data.w(),
            self.data.y1 - self.ya.frac(y) * self.data.h(),
        )
    }
}

/// Draws the frame, grid, ticks, tick labels and axis labels of `f`.
pub(super) fn draw_axes(c: &mut Canvas, f: &Frame, x_label: &str, y_label: &str, grid: bool) {
    let o = f.outer;
    let x_max = ((f.data.w() / 70.0).floor() as usize).clamp(2, 12);
    let y_max = ((f.data.h() / 42.0).floor() as usize).clamp(2, 10);
    let (xt, yt) = (
        fitted_ticks(&f.xa, x_max, f.data.w(), true),
        fitted_ticks(&f.ya, y_max, f.data.h(), false),
    );
    if grid {
        for &v in &xt.0 {
            let x = f.px((v, f.ya.lo)).0;
            c.line(&[(x, o.y0), (x, o.y1)], GRID, 0.8, Dash::Solid);
        }
        for &v in &yt.0 {
            let y = f.px((f.xa.lo, v)).1;
            c.line(&[(o.x0, y), (o.x1, y)], GRID, 0.8, Dash::Solid);
        }
    }
    for &v in &f.xa.minor_values(xt.2) {
        let x = f.px((v, f.ya.lo)).0;
        c.line(&[(x, o.y1), (x, o.y1 + MINOR_TICK)], INK, 0.8, Dash::Solid);
    }
    for &v in &f.ya.minor_values(yt.2) {
        let y = f.px((f.xa.lo, v)).1;
        c.line(&[(o.x0 - MINOR_TICK, y), (o.x0, y)], INK, 0.8, Dash::Solid);
    }
    for (v, l) in xt.0.iter().zip(&xt.1) {
        let x = f.px((*v, f.ya.lo)).0;
        c.line(&[(x, o.y1), (x, o.y1 + MAJOR_TICK)], INK, 1.0, Dash::Solid);
        c.text(
            l,
            (x, o.y1 + MAJOR_TICK + 4.0),
            TICK_LABEL,
            INK,
            H::Middle,
            V::Top,
            false,
        );
    }
    let mut widest: f64 = 0.0;
    for (v, l) in yt.0.iter().zip(&yt.1) {
        let y = f.px((f.xa.lo, *v)).1;
        c.line(&[(o.x0 - MAJOR_TICK, y), (o.x0, y)], INK, 1.0, Dash::Solid);
        let r = c.text(
            l,
            (o.x0 - MAJOR_TICK - 4.0, y),
            TICK_LABEL,
            INK,
            H::End,
            V::Middle,
            false,
        );
        widest = widest.max(r.w());
    }
    c.rect_stroke(o, INK, 1.0);
    c.text(
        x_label,
        (
            (o.x0 + o.x1) / 2.0,
            o.y1 + MAJOR_TICK + 4.0 + TICK_LABEL + 12.0,
        ),
        AXIS_LABEL,
        INK,
        H::Middle,
        V::Top,
        false,
    );
    c.text(
        y_label,
        (o.x0 - MAJOR_TICK - 4.0 - widest - 10.0, (o.y0 + o.y1) / 2.0),
        AXIS_LABEL,
        INK,
        H::Middle,
        V::Base,
        true,
    );
}

/// Major ticks, their labels and the `max` they were made with: at most `max` ticks, fewer
/// while the labels would touch.
fn fitted_ticks(
    a: &AxisCoord,
    max: usize,
    length: f64,
    horizontal: bool,
) -> (Vec<f64>, Vec<String>, usize) {
    let mut m = max;
    loop {
        let t = a.tick_values(m);
        let l = a.labels(&t);
        let need: f64 = if horizontal {
            l.iter()
                .map(|s| font::width(s, TICK_LABEL) + 10.0)
                .fold(0.0, f64::max)
                * t.len() as f64
        } else {
            (TICK_LABEL * 1.6) * t.len() as f64
        };
        if need <= length || m <= 2 || a.ticks.is_some() {
            return (t, l, m);
        }
        m -= 1;
    }
}

/// The width the tick labels of an axis need (for the left margin).
pub(super) fn tick_label_width(a: &AxisCoord, max: usize) -> f64 {
    let t = a.tick_values(max);
    a.labels(&t)
        .iter()
        .map(|l| font::width(l, TICK_LABEL))
        .fold(0.0, f64::max)
}

/// `text` broken into lines no wider than `max_w` at em size `size`: at " · " and "; " first,
/// then at spaces.
pub(super) fn wrap(text: &str, size: f64, max_w: f64) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(i) = [" · ", "; "]
        .iter()
        .filter_map(|sep| rest.find(sep).map(|i| i + sep.len()))
        .min()
    {
        pieces.push(rest[..i].to_string());
        rest = &rest[i..];
    }
    pieces.push(rest.to_string());
    let mut words: Vec<String> = Vec::new();
    for p in pieces {
        if font::width(&p, size) <= max_w {
            words.push(p);
        } else {
            words.extend(p.split_inclusive(' ').map(str::to_string));
        }
    }
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for w in words {
        if !cur.is_empty() && font::width((cur.clone() + &w).trim_end(), size) > max_w {
            lines.push(cur.trim_end().to_string());
            cur.clear();
        }
        cur.push_str(&w);
    }
    if !cur.trim().is_empty() {
        lines.push(cur.trim_end().to_string());
    }
    lines
}

/// Title and subtitle (wrapped to `max_w`); returns the y where the axes may start.
pub(super) fn draw_title(
    c: &mut Canvas,
    title: &str,
    subtitle: &str,
    x_mid: f64,
    max_w: f64,
) -> f64 {
    // Lines are centred on x_mid (the plot's centre, not the figure's): no wider than fits on
    // both sides of it, or a long subtitle runs off the figure's edge.
    let max_w = max_w
        .min(2.0 * (x_mid - 12.0).min(c.w - 12.0 - x_mid))
        .max(120.0);
    let mut y = 14.0;
    for line in wrap(title, TITLE, max_w) {
        c.text(&line, (x_mid, y), TITLE, BLACK, H::Middle, V::Top, false);
        y += TITLE * 1.25;
    }
    if subtitle.is_empty() {
        return y + 8.0;
    }
    y += 2.0;
    for line in wrap(subtitle, SUBTITLE, max_w) {
        c.text(&line, (x_mid, y), SUBTITLE, MUTED, H::Middle, V::Top, false);
        y += SUBTITLE * 1.3;
    }
    y + 8.0
}

/// What a legend entry's swatch draws.
#[derive(Clone, Debug)]
pub(super) enum Swatch {
    /// A curve: its band (if any), its line and its marker.
    Curve {
        color: Rgb,
        band: bool,
        bars: bool,
    },
    /// A line with its dash pattern; several colours: one dash each in turn (a family of
    /// lines, one per curve).
    Line {
        colors: Vec<Rgb>,
        width: f64,
        dash: Dash,
    },
    /// A translucent patch.
    Patch {
        color: Rgb,
        alpha: f64,
    },
    Cross,
    /// A cell of a categorical map: a box of its colour.
    Fill {
        color: Rgb,
    },
    /// An open marker, with an arrow for lower bounds.
    Open {
        arrow: bool,
    },
    /// A filled marker alone.
    Marker {
        color: Rgb,
    },
    /// The small marker of a point on fewer seeds.
    Small,
    /// A hatched grey cell.
    Hatched,
    /// A light grey cell with a border.
    Empty,
    /// A blank cell with a border and a dot (no run made).
    NotRun,
}

/// The width of one legend column.
fn legend_column(entries: &[(Swatch, String)]) -> f64 {
    let w = entries
        .iter()
        .map(|(_, l)| font::width(l, LEGEND))
        .fold(0.0, f64::max);
    SWATCH + 8.0 + w + 14.0
}

/// The size of a legend in `cols` columns.
pub(super) fn legend_size_cols(entries: &[(Swatch, String)], cols: usize) -> (f64, f64) {
    let rows = entries.len().div_ceil(cols.max(1));
    (
        legend_column(entries) * cols.max(1) as f64 + 4.0,
        rows as f64 * ROW + 10.0,
    )
}

pub(super) fn legend_size(entries: &[(Swatch, String)]) -> (f64, f64) {
    legend_size_cols(entries, 1)
}

pub(super) fn draw_legend(
    c: &mut Canvas,
    at: (f64, f64),
    entries: &[(Swatch, String)],
    cols: usize,
) {
    let cols = cols.max(1);
    let (w, h) = legend_size_cols(entries, cols);
    let cw = legend_column(entries);
    let r = Rect::new(at.0, at.1, at.0 + w, at.1 + h);
    c.rect_fill(r, WHITE, 0.88);
    c.rect_stroke(r, Rgb(170, 170, 170), 0.8);
    for (i, (sw, label)) in entries.iter().enumerate() {
        // Filled column by column, so that curves stay together and fits together.
        let rows = entries.len().div_ceil(cols);
        let y = at.1 + 5.0 + ROW * ((i % rows) as f64 + 0.5);
        let x0 = at.0 + 8.0 + cw * (i / rows) as f64;
        let mid = (x0 + SWATCH / 2.0, y);
        draw_swatch(c, sw, x0, y, mid);
        c.text(
            label,
            (x0 + SWATCH + 8.0, y),
            LEGEND,
            INK,
            H::Start,
            V::Middle,
            false,
        );
    }
}

fn draw_swatch(c: &mut Canvas, sw: &Swatch, x0: f64, y: f64, mid: P) {
    let x1 = x0 + SWATCH;
    match sw {
        Swatch::Curve { color, band, bars } => {
            if *band {
                c.rect_fill(Rect::new(x0, y - 6.0, x1, y + 6.0), *color, BAND_ALPHA);
            }
            if *bars {
                error_bar(c, mid.0, mid.1 - 6.0, mid.1 + 6.0, *color);
            } else {
                c.line(&[(x0, y), (x1, y)], *color, CURVE, Dash::Solid);
            }
            c.circle(mid, MARKER, Some(*color), None);
        }
        Swatch::Line {
            colors,
            width,
            dash,
        } => {
            if colors.len() < 2 {
                let color = colors.first().copied().unwrap_or(BLACK);
                c.line(&[(x0, y), (x1, y)], color, *width, *dash);
            } else {
                // One dash per colour, as long as the pattern's dash.
                let on = match dash {
                    Dash::Dashed(on, _) => *on,
                    Dash::Solid => SWATCH / colors.len() as f64,
                };
                let step = SWATCH / colors.len() as f64;
                for (k, col) in colors.iter().enumerate() {
                    let a = x0 + step * k as f64;
                    c.line(
                        &[(a, y), (a + on.min(step - 1.5), y)],
                        *col,
                        *width,
                        Dash::Solid,
                    );
                }
            }
        }
        Swatch::Patch { color, alpha } => {
            c.rect_fill(Rect::new(x0, y - 6.0, x1, y + 6.0), *color, *alpha);
        }
        Swatch::Cross => cross(c, mid, BLACK),
        Swatch::Open { arrow } => {
            open_marker(c, mid, BLACK, *arrow);
        }
        Swatch::Marker { color } => c.circle(mid, MARKER + 1.0, Some(*color), None),
        Swatch::Small => c.circle(mid, SMALL_MARKER, Some(BLACK), Some((WHITE, 0.8))),
        Swatch::Hatched => {
            let r = Rect::new(x0 + 4.0, y - 7.0, x1 - 4.0, y + 7.0);
            c.rect_fill(r, super::color::DIVERGED_FILL, 1.0);
            c.clip(Some(r));
            for k in 0..4 {
                let x = r.x0 - 14.0 + 8.0 * k as f64;
                c.line(
                    &[(x, r.y1), (x + 14.0, r.y0)],
                    super::color::HATCH,
                    0.9,
                    Dash::Solid,
                );
            }
            c.clip(None);
        }
        Swatch::Fill { color } => {
            let r = Rect::new(x0 + 4.0, y - 7.0, x1 - 4.0, y + 7.0);
            c.rect_fill(r, *color, 1.0);
            c.rect_stroke(r, Rgb(160, 160, 160), 0.8);
        }
        Swatch::Empty => {
            let r = Rect::new(x0 + 4.0, y - 7.0, x1 - 4.0, y + 7.0);
            c.rect_fill(r, super::color::MISSING_FILL, 1.0);
            c.rect_stroke(r, Rgb(160, 160, 160), 0.8);
        }
        Swatch::NotRun => {
            let r = Rect::new(x0 + 4.0, y - 7.0, x1 - 4.0, y + 7.0);
            c.rect_stroke(r, Rgb(160, 160, 160), 0.8);
            c.circle(
                ((r.x0 + r.x1) / 2.0, y),
                super::color::NOT_RUN_DOT,
                Some(super::color::NOT_RUN_INK),
                None,
            );
        }
    }
}

fn cross(c: &mut Canvas, (x, y): P, color: Rgb) {
    let d = 5.0;
    c.line(&[(x - d, y - d), (x + d, y + d)], color, 2.2, Dash::Solid);
    c.line(&[(x - d, y + d), (x + d, y - d)], color, 2.2, Dash::Solid);
}

fn error_bar(c: &mut Canvas, x: f64, y_top: f64, y_bottom: f64, color: Rgb) {
    c.line(&[(x, y_top), (x, y_bottom)], color, 1.5, Dash::Solid);
    for y in [y_top, y_bottom] {
        c.line(&[(x - 4.0, y), (x + 4.0, y)], color, 1.5, Dash::Solid);
    }
}

/// A censored point: an open marker, and for a lower bound an arrow pointing up from it.
fn open_marker(c: &mut Canvas, (x, y): P, color: Rgb, arrow: bool) {
    if arrow {
        let top = y - 15.0;
        c.line(
            &[(x, y - MARKER - 1.0), (x, top + 3.0)],
            color,
            1.4,
            Dash::Solid,
        );
        c.fill(
            &[(x, top - 1.0), (x - 3.5, top + 5.0), (x + 3.5, top + 5.0)],
            color,
            1.0,
        );
    }
    c.circle((x, y), MARKER + 0.6, Some(WHITE), Some((color, 1.6)));
}

impl LinePlot {
    fn color(i: Option<usize>) -> Rgb {
        i.map_or(BLACK, palette)
    }

    /// Series points that can be drawn (finite, positive on log axes).
    fn drawable(&self, pts: &[Pt]) -> Vec<Pt> {
        let ok = |v: f64, s: Scale| v.is_finite() && (!s.is_log() || v > 0.0);
        let mut v: Vec<Pt> = pts
            .iter()
            .copied()
            .filter(|p| ok(p.x, self.x_scale) && ok(p.y, self.y_scale))
            .collect();
        v.sort_by(|a, b| a.x.total_cmp(&b.x));
        v
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
            .chain(self.lines.iter().flat_map(|l| [l.from.0, l.to.0]))
            .chain(
                self.bands
                    .iter()
                    .flat_map(|b| b.contours.iter().flatten().map(|p| p.0)),
            );
        let ys = self
            .series
            .iter()
            .flat_map(|s| self.drawable(&s.points))
            .flat_map(|p| [p.y, p.lo, p.hi])
            .chain(self.hlines.iter().map(|h| h.0))
            .chain(self.lines.iter().flat_map(|l| [l.from.1, l.to.1]))
            .chain(
                self.bands
                    .iter()
                    .flat_map(|b| b.contours.iter().flatten().map(|p| p.1)),
            );
        (
            AxisCoord::covering(self.x_scale, xs),
            AxisCoord::covering(self.y_scale, ys),
        )
    }

    fn legend_entries(&self) -> Vec<(Swatch, String)> {
        let mut e = Vec::new();
        for (i, s) in self.series.iter().enumerate() {
            if s.label.is_empty() {
                continue;
            }
            let band = !s.bars
                && s.points
                    .iter()
                    .any(|p| p.lo.is_finite() && p.hi.is_finite());
            let bars = s.bars
                && s.points
                    .iter()
                    .any(|p| p.lo.is_finite() && p.hi.is_finite());
            e.push((
                Swatch::Curve {
                    color: palette(i),
                    band,
                    bars,
                },
                s.label.clone(),
            ));
        }
        // A labelled line stands for itself and the unlabelled lines of its dash after it.
        for (i, l) in self.lines.iter().enumerate() {
            if l.label.is_empty() {
                continue;
            }
            let mut colors = vec![Self::color(l.color)];
            for m in self.lines[i + 1..]
                .iter()
                .take_while(|m| m.label.is_empty())
            {
                let c = Self::color(m.color);
                if m.dash == l.dash && !colors.contains(&c) {
                    colors.push(c);
                }
            }
            e.push((
                Swatch::Line {
                    colors,
                    width: if l.dash == Dash::THEORY { 1.6 } else { CURVE },
                    dash: l.dash,
                },
                l.label.clone(),
            ));
        }
        for b in &self.bands {
            if !b.label.is_empty() {
                e.push((
                    Swatch::Patch {
                        color: b.color.map_or(Rgb(120, 120, 120), palette),
                        alpha: FIT_BAND_ALPHA * 1.6,
                    },
                    b.label.clone(),
                ));
            }
        }
        for (i, (_, l)) in self.vlines.iter().enumerate() {
            let (color, dash) = ref_style(i);
            e.push((
                Swatch::Line {
                    colors: vec![color],
                    width: 1.6,
                    dash,
                },
                l.clone(),
            ));
        }
        for (i, (_, l)) in self.hlines.iter().enumerate() {
            let (color, dash) = ref_style(i + self.vlines.len());
            e.push((
                Swatch::Line {
                    colors: vec![color],
                    width: 1.6,
                    dash,
                },
                l.clone(),
            ));
        }
        if self.series.iter().any(|s| !s.capped.is_empty()) {
            e.push((
                Swatch::Open {
                    arrow: self.capped_lower_bound,
                },
                if self.capped_lower_bound {
                    "capped runs: a lower bound".into()
                } else {
                    "capped runs (value at the cap)".into()
                },
            ));
        }
        if self.series.iter().any(|s| !s.diverged.is_empty()) {
            e.push((Swatch::Cross, "diverged (most seeds)".into()));
        }
        if self.series.iter().any(|s| !s.few_seeds.is_empty()) {
            e.push((
                Swatch::Small,
                if self.full_seeds > 0 {
                    format!("fewer than {} seeds", self.full_seeds)
                } else {
                    "fewer seeds".into()
                },
            ));
        }
        e
    }

    /// Data positions in figure units (for legend placement): points, bands and line samples.
    fn footprint(&self, f: &Frame) -> Vec<P> {
        let mut out = Vec::new();
        let segs = |pts: &[P], out: &mut Vec<P>| {
            for w in pts.windows(2) {
                for k in 0..=8 {
                    let t = k as f64 / 8.0;
                    out.push((
                        w[0].0 + t * (w[1].0 - w[0].0),
                        w[0].1 + t * (w[1].1 - w[0].1),
                    ));
                }
            }
        };
        for s in &self.series {
            let pts = self.drawable(&s.points);
            let mid: Vec<P> = pts.iter().map(|p| f.px((p.x, p.y))).collect();
            segs(&mid, &mut out);
            // Open markers and the arrows of lower bounds.
            for p in pts
                .iter()
                .filter(|p| s.capped.iter().any(|x| same(*x, p.x)))
            {
                let at = f.px((p.x, p.y));
                for dy in [MARKER + 2.0, 9.0, 17.0] {
                    out.push((at.0, at.1 - dy));
                }
            }
            for p in &pts {
                for v in [p.lo, p.hi] {
                    if v.is_finite() && (!self.y_scale.is_log() || v > 0.0) {
                        out.push(f.px((p.x, v)));
                    }
                }
            }
        }
        for l in &self.lines {
            segs(&[f.px(l.from), f.px(l.to)], &mut out);
        }
        for b in &self.bands {
            for k in &b.contours {
                let pts: Vec<P> = k.iter().map(|p| f.px(*p)).collect();
                segs(&pts, &mut out);
            }
        }
        out
    }

    pub(super) fn render(&self) -> Canvas {
        let (w, h) = (SIZE.0 as f64, SIZE.1 as f64);
        let mut c = Canvas::new(w, h);
        let (xa, ya) = self.axes();
        let entries = self.legend_entries();
        let (lw, lh) = legend_size(&entries);
        let n_div = self
            .series
            .iter()
            .filter(|s| !s.diverged.is_empty())
            .count();
        let strip = if n_div > 0 {
            10.0 + 12.0 * n_div as f64
        } else {
            0.0
        };
        let left = 16.0 + AXIS_LABEL + 10.0 + tick_label_width(&ya, 10) + MAJOR_TICK + 4.0;
        let top = {
            // The title is laid out in the final pass, centred on the plot; here only its
            // height matters (the same centre, so the same lines).
            let mut scratch = Canvas::new(w, h);
            let mid = (left + w - 22.0) / 2.0;
            draw_title(&mut scratch, &self.title, &self.subtitle, mid, w - 40.0)
        };
        let below_axes = MAJOR_TICK + 4.0 + TICK_LABEL + 12.0 + AXIS_LABEL + 14.0;
        let frame = |bottom: f64| {
            let outer = Rect::new(left, top, w - 22.0, bottom);
            Frame {
                outer,
                data: Rect::new(outer.x0, outer.y0, outer.x1, outer.y1 - strip),
                xa: xa.clone(),
                ya: ya.clone(),
            }
        };
        let inside = frame(h - below_axes);
        let corner = |f: &Frame, at: LegendAt| -> (f64, f64) {
            let d = f.data;
            let (m, y_bottom) = (8.0, d.y1 - 8.0 - lh);
            match at {
                LegendAt::UpperLeft => (d.x0 + m, d.y0 + m),
                LegendAt::LowerLeft => (d.x0 + m, y_bottom),
                LegendAt::LowerRight => (d.x1 - m - lw, y_bottom),
                _ => (d.x1 - m - lw, d.y0 + m),
            }
        };
        // Inside, in a corner that covers no data; else under the axes, in columns.
        let (f, legend_at, cols) = if entries.is_empty() {
            (inside, None, 1)
        } else {
            let fits = lw < 0.62 * inside.data.w() && lh < inside.data.h() - 16.0;
            let footprint = self.footprint(&inside);
            let free = |at: LegendAt| {
                let (x, y) = corner(&inside, at);
                let r = Rect::new(x - 6.0, y - 6.0, x + lw + 6.0, y + lh + 6.0);
                !footprint.iter().any(|p| r.contains(*p))
            };
            let pick = match self.legend {
                LegendAt::Best => [
                    LegendAt::UpperRight,
                    LegendAt::UpperLeft,
                    LegendAt::LowerLeft,
                    LegendAt::LowerRight,
                ]
                .into_iter()
                .find(|a| fits && free(*a)),
                LegendAt::Outside => None,
                at => Some(at),
            };
            match pick {
                Some(at) => {
                    let pos = corner(&inside, at);
                    (inside, Some(pos), 1)
                }
                None => {
                    let avail = w - 32.0;
                    let cols = (1..=3)
                        .rev()
                        .find(|k| legend_size_cols(&entries, *k).0 <= avail)
                        .unwrap_or(1);
                    let (bw, bh) = legend_size_cols(&entries, cols);
                    let f = frame(h - 10.0 - bh - 6.0 - below_axes);
                    (f, Some(((w - bw) / 2.0, h - 10.0 - bh)), cols)
                }
            }
        };
        draw_title(
            &mut c,
            &self.title,
            &self.subtitle,
            (f.outer.x0 + f.outer.x1) / 2.0,
            w - 40.0,
        );
        draw_axes(&mut c, &f, &self.x_label, &self.y_label, true);
        c.clip(Some(f.outer));
        if strip > 0.0 {
            let s = Rect::new(f.outer.x0, f.data.y1, f.outer.x1, f.outer.y1);
            c.rect_fill(s, Rgb(244, 244, 244), 1.0);
            c.line(
                &[(s.x0, s.y0), (s.x1, s.y0)],
                Rgb(200, 200, 200),
                0.8,
                Dash::Solid,
            );
        }
        // Bands first, then reference lines, fits, curves, markers.
        for b in &self.bands {
            let log = self.y_scale.is_log();
            let contours: Vec<Vec<P>> = b
                .contours
                .iter()
                .filter(|k| !log || k.iter().all(|p| p.1 > 0.0))
                .map(|k| k.iter().map(|p| f.px(*p)).collect())
                .collect();
            c.union(
                &contours,
                b.color.map_or(Rgb(120, 120, 120), palette),
                FIT_BAND_ALPHA,
            );
        }
        for (i, s) in self.series.iter().enumerate() {
            if s.bars {
                continue;
            }
            let pts = self.drawable(&s.points);
            let color = palette(i);
            // One band per run of points with an interval.
            let mut run: Vec<Pt> = Vec::new();
            let flush = |run: &mut Vec<Pt>, c: &mut Canvas| {
                if run.len() >= 2 {
                    let mut outline: Vec<P> = run.iter().map(|p| f.px((p.x, p.hi))).collect();
                    outline.extend(run.iter().rev().map(|p| f.px((p.x, p.lo))));
                    c.fill(&outline, color, BAND_ALPHA);
                }
                run.clear();
            };
            for p in pts {
                let ok =
                    p.lo.is_finite() && p.hi.is_finite() && (!self.y_scale.is_log() || p.lo > 0.0);
                if ok {
                    run.push(p);
                } else {
                    flush(&mut run, &mut c);
                }
            }
            flush(&mut run, &mut c);
        }
        let (y0, y1) = (f.outer.y0, f.outer.y1);
        for (i, (v, _)) in self.vlines.iter().enumerate() {
            let (color, dash) = ref_style(i);
            let x = f.px((*v, f.ya.lo)).0;
            c.line(&[(x, y0), (x, y1)], color, 1.6, dash);
        }
        for (i, (v, _)) in self.hlines.iter().enumerate() {
            let (color, dash) = ref_style(i + self.vlines.len());
            let y = f.px((f.xa.lo, *v)).1;
            c.line(&[(f.outer.x0, y), (f.outer.x1, y)], color, 1.6, dash);
        }
        for l in &self.lines {
            let width = if l.dash == Dash::THEORY { 1.6 } else { CURVE };
            c.line(
                &[f.px(l.from), f.px(l.to)],
                Self::color(l.color),
                width,
                l.dash,
            );
        }
        for (i, s) in self.series.iter().enumerate() {
            let color = palette(i);
            let pts = self.drawable(&s.points);
            if !s.bars {
                let line: Vec<P> = pts.iter().map(|p| f.px((p.x, p.y))).collect();
                c.line(&line, color, CURVE, Dash::Solid);
            }
            for p in &pts {
                let at = f.px((p.x, p.y));
                if s.bars && p.lo.is_finite() && p.hi.is_finite() {
                    let (lo, hi) = (f.px((p.x, p.lo)).1, f.px((p.x, p.hi)).1);
                    error_bar(&mut c, at.0, hi, lo, color);
                }
                if s.capped.iter().any(|x| same(*x, p.x)) {
                    open_marker(&mut c, at, color, self.capped_lower_bound);
                } else if s.few_seeds.iter().any(|x| same(*x, p.x)) {
                    c.circle(at, SMALL_MARKER, Some(color), Some((WHITE, 0.8)));
                } else {
                    c.circle(at, MARKER, Some(color), None);
                }
            }
        }
        let mut row = 0;
        for (i, s) in self.series.iter().enumerate() {
            if s.diverged.is_empty() {
                continue;
            }
            let y = f.data.y1 + 10.5 + 12.0 * row as f64;
            for &x in &s.diverged {
                cross(&mut c, (f.px((x, f.ya.lo)).0, y), palette(i));
            }
            row += 1;
        }
        c.clip(None);
        if let Some(at) = legend_at {
            draw_legend(&mut c, at, &entries, cols);
        }
        c
    }
}

/// Successive reference lines: dark long dashes, then grey dots, then dark dots.
fn ref_style(i: usize) -> (Rgb, Dash) {
    match i % 3 {
        0 => (Rgb(60, 60, 60), Dash::Dashed(10.0, 6.0)),
        1 => (Rgb(140, 140, 140), Dash::Dashed(2.5, 3.5)),
        _ => (Rgb(60, 60, 60), Dash::Dashed(2.5, 3.5)),
    }
}

fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

#[cfg(test)]
mod tests {
    use super::super::canvas::Prim;
    use super::super::tests::sample_plot;
    use super::super::Line;
    use super::*;

    fn texts(c: &Canvas) -> Vec<String> {
        c.prims
            .iter()
            .filter_map(|p| match p {
                Prim::Text { text, .. } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_axis_is_labelled_and_the_legend_names_every_mark() {
        let c = sample_plot().render();
        let t = texts(&c);
        for want in [
            "temperature T",
            "test error ε",
            "3 seeds",
            "P = 1024",
            "fit",
            "diverged (most seeds)",
            "capped runs (value at the cap)",
        ] {
            assert!(t.iter().any(|s| s == want), "no {want:?} in {t:?}");
        }
        // Tick labels on both axes: powers of two on x, decimals on y.
        assert!(t.iter().filter(|s| *s == "2").count() >= 3, "{t:?}");
        assert!(t.iter().any(|s| s.starts_with("0.")), "{t:?}");
    }

    #[test]
    fn the_legend_swatch_of_a_fit_is_dashed_like_its_line() {
        let p = sample_plot();
        let e = p.legend_entries();
        let fit = e.iter().find(|(_, l)| l == "fit").unwrap();
        assert!(matches!(fit.0, Swatch::Line { dash, .. } if dash == Dash::FIT));
        // A family of fit lines (one per curve, labelled once) shows every colour.
        let mut p = sample_plot();
        for k in 1..3 {
            p.lines.push(Line {
                label: String::new(),
                color: Some(k),
                ..p.lines[0].clone()
            });
        }
        let e = p.legend_entries();
        let fit = e.iter().find(|(_, l)| l == "fit").unwrap();
        assert!(matches!(&fit.0, Swatch::Line { colors, .. } if colors.len() == 3));
    }

    #[test]
    fn the_legend_goes_where_there_is_no_data_or_outside() {
        let p = sample_plot();
        let c = p.render();
        // Find the legend box: the translucent white rectangle drawn last but for the text.
        let legend = c.prims.iter().rev().find_map(|p| match p {
            Prim::Fill { pts, color, alpha } if *color == WHITE && *alpha < 1.0 => {
                Some(Rect::new(pts[0].0, pts[0].1, pts[2].0, pts[2].1))
            }
            _ => None,
        });
        let legend = legend.expect("a legend");
        // No curve marker lies under it.
        for prim in &c.prims {
            if let Prim::Circle { c: at, .. } = prim {
                if !(at.0 < legend.x0 + 8.0 + SWATCH && at.0 > legend.x0) {
                    assert!(
                        !legend.contains(*at),
                        "marker {at:?} under the legend {legend:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn capped_lower_bounds_get_an_arrow_and_the_axis_fits_the_data() {
        let mut p = sample_plot();
        p.capped_lower_bound = true;
        let c = p.render();
        assert!(texts(&c).iter().any(|s| s == "capped runs: a lower bound"));
        // The y axis spans the data (0.0125 .. 0.085) with a small margin, not a third more.
        let (_, ya) = p.axes();
        assert!(ya.hi < 0.085 * 1.2 && ya.lo > 0.008 / 1.2, "{ya:?}");
    }
}
