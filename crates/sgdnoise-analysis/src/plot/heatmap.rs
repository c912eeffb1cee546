//! Laying out a [`Heatmap`]: one cell per grid value coloured by viridis, diverged cells
//! hatched, cells without a finished run light grey, cells never run blank with a dot, capped
//! cells ringed, markers on top; the colour bar with
//! its own ticks on the right, the legend under it. A categorical map (regions) gives each
//! category its own colour and names them in the legend, without a colour bar.

use super::axis::{grid_ticks, AxisCoord};
use super::canvas::{Canvas, Dash, Rect, H, V};
use super::color::{
    viridis, Rgb, DIVERGED_FILL, HATCH, INK, MISSING_FILL, NOT_RUN_DOT, NOT_RUN_INK, WHITE,
};
use super::line::{
    draw_axes, draw_legend, draw_title, legend_size, tick_label_width, Frame, Swatch, AXIS_LABEL,
    MAJOR_TICK, MINOR_TICK, TICK_LABEL,
};
use super::{Cell, Heatmap, Scale, SIZE};

const MARKER_RED: Rgb = Rgb(214, 39, 40);

impl Heatmap {
    fn value_range(&self) -> (f64, f64) {
        let vals = self.cells.iter().flatten().filter_map(|c| match c {
            Cell::Value(v) | Cell::Capped(v) if v.is_finite() && (!self.log_values || *v > 0.0) => {
                Some(*v)
            }
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

    /// The colour of category `k` (0-based) of a categorical map: evenly spread over viridis.
    pub(super) fn category_color(&self, k: usize) -> Rgb {
        let n = self.categories.len();
        viridis(if n > 1 {
            k as f64 / (n - 1) as f64
        } else {
            0.5
        })
    }

    /// The colour of a finite cell value.
    pub(super) fn color_of(&self, v: f64, range: (f64, f64)) -> Rgb {
        if self.categories.is_empty() {
            return viridis(self.fraction(v, range));
        }
        let k = (v.round().max(1.0) as usize - 1).min(self.categories.len() - 1);
        self.category_color(k)
    }

    fn legend_entries(&self) -> Vec<(Swatch, String)> {
        let cells: Vec<&Cell> = self.cells.iter().flatten().collect();
        let mut e = Vec::new();
        for (k, name) in self.categories.iter().enumerate() {
            e.push((
                Swatch::Fill {
                    color: self.category_color(k),
                },
                name.clone(),
            ));
        }
        if !self.markers.is_empty() {
            e.push((
                Swatch::Marker { color: MARKER_RED },
                self.marker_label.clone(),
            ));
        }
        if cells.iter().any(|c| matches!(c, Cell::Diverged)) {
            e.push((Swatch::Hatched, "diverged (most seeds)".into()));
        }
        if cells.iter().any(|c| matches!(c, Cell::Capped(_))) {
            e.push((
                Swatch::Open { arrow: false },
                "capped (value at the cap)".into(),
            ));
        }
        if cells.iter().any(|c| matches!(c, Cell::Missing)) {
            e.push((Swatch::Empty, self.empty_label.clone()));
        }
        if cells.iter().any(|c| matches!(c, Cell::NotRun)) {
            e.push((Swatch::NotRun, "not run".into()));
        }
        e
    }

    pub(super) fn render(&self) -> Canvas {
        let (w, h) = (SIZE.0 as f64, SIZE.1 as f64);
        let mut c = Canvas::new(w, h);
        let nx = self.xs.len().max(1) as f64;
        let ny = self.ys.len().max(1) as f64;
        let xa = AxisCoord {
            scale: Scale::Linear,
            lo: -0.5,
            hi: nx - 0.5,
            ticks: Some(grid_ticks(&self.xs, 12)),
        };
        let ya = AxisCoord {
            scale: Scale::Linear,
            lo: -0.5,
            hi: ny - 0.5,
            ticks: Some(grid_ticks(&self.ys, 14)),
        };
        let range = self.value_range();
        let ca = AxisCoord {
            scale: if self.log_values {
                Scale::Log10
            } else {
                Scale::Linear
            },
            lo: range.0,
            hi: range.1,
            ticks: None,
        };
        let entries = self.legend_entries();
        let (lw, _) = legend_size(&entries);
        // Right column: the colour bar (22 wide), its ticks, labels and title.
        let categorical = !self.categories.is_empty();
        let bar_w = if categorical {
            0.0
        } else {
            22.0 + MAJOR_TICK + 4.0 + tick_label_width(&ca, 8) + 10.0 + AXIS_LABEL + 12.0
        };
        let column = bar_w.max(lw + 12.0);
        let left = 16.0 + AXIS_LABEL + 10.0 + tick_label_width(&ya, 14) + MAJOR_TICK + 4.0;
        let right = w - 16.0 - column - 14.0;
        let top = {
            // Only the title's height matters here; the same centre as the final pass.
            let mut scratch = Canvas::new(w, h);
            draw_title(
                &mut scratch,
                &self.title,
                &self.subtitle,
                (left + right) / 2.0,
                w - 40.0,
            )
        };
        let bottom = h - (MAJOR_TICK + 4.0 + TICK_LABEL + 12.0 + AXIS_LABEL + 14.0);
        let outer = Rect::new(left, top, right, bottom);
        let f = Frame {
            outer,
            data: outer,
            xa,
            ya,
        };
        draw_title(
            &mut c,
            &self.title,
            &self.subtitle,
            (outer.x0 + outer.x1) / 2.0,
            w - 40.0,
        );
        let cell = |ix: f64, iy: f64| {
            let a = f.px((ix - 0.5, iy - 0.5));
            let b = f.px((ix + 0.5, iy + 0.5));
            Rect::new(a.0, a.1, b.0, b.1)
        };
        // Cells overlap their right and lower neighbours by half a unit, so that no seam of
        // paper shows between them.
        let grown = |r: Rect| Rect::new(r.x0, r.y0 - 0.5, r.x1 + 0.5, r.y1);
        for (iy, row) in self.cells.iter().enumerate() {
            for (ix, v) in row.iter().enumerate() {
                let r = cell(ix as f64, iy as f64);
                match v {
                    Cell::Value(v) | Cell::Capped(v) if v.is_finite() => {
                        c.rect_fill(grown(r), self.color_of(*v, range), 1.0);
                    }
                    Cell::Diverged => {
                        c.rect_fill(grown(r), DIVERGED_FILL, 1.0);
                        // One family of lines x + y = k * step over the whole figure, so that
                        // the hatching runs on across neighbouring cells.
                        c.clip(Some(r));
                        let step = 10.0;
                        let k0 = ((r.x0 + r.y0) / step).floor() as i64 - 1;
                        let k1 = ((r.x1 + r.y1) / step).ceil() as i64 + 1;
                        for k in k0..=k1 {
                            let s = k as f64 * step;
                            c.line(
                                &[(s - r.y1 - 1.0, r.y1 + 1.0), (s - r.y0 + 1.0, r.y0 - 1.0)],
                                HATCH,
                                0.9,
                                Dash::Solid,
                            );
                        }
                        c.clip(None);
                    }
                    // Blank paper with a dot: told apart from a cell whose runs did not finish.
                    Cell::NotRun => {
                        let m = ((r.x0 + r.x1) / 2.0, (r.y0 + r.y1) / 2.0);
                        c.circle(m, NOT_RUN_DOT, Some(NOT_RUN_INK), None);
                    }
                    _ => c.rect_fill(grown(r), MISSING_FILL, 1.0),
                }
                if matches!(v, Cell::Capped(_)) {
                    let m = ((r.x0 + r.x1) / 2.0, (r.y0 + r.y1) / 2.0);
                    // The open marker of the legend: readable on every colour of the map.
                    c.circle(m, 4.6, Some(WHITE), Some((INK, 1.6)));
                }
            }
        }
        draw_axes(&mut c, &f, &self.x_label, &self.y_label, false);
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
                .map(|&(x, y)| f.px((index(&self.xs, x), index(&self.ys, y))))
                .collect();
            c.line(&pts, MARKER_RED, 2.0, Dash::Solid);
            for p in pts {
                c.circle(p, 5.0, Some(MARKER_RED), Some((WHITE, 1.2)));
            }
        }
        if categorical {
            // The categories name their colours in the legend: no colour bar.
            draw_legend(&mut c, (w - 16.0 - lw, outer.y0), &entries, 1);
            return c;
        }
        // Colour bar.
        let bx0 = outer.x1 + 14.0 + 12.0;
        let bar = Rect::new(bx0, outer.y0, bx0 + 22.0, outer.y0 + 0.62 * outer.h());
        let n = 120;
        for k in 0..n {
            let (f0, f1) = (k as f64 / n as f64, (k + 1) as f64 / n as f64);
            let r = Rect::new(
                bar.x0,
                bar.y1 - f1 * bar.h() - 0.6,
                bar.x1,
                bar.y1 - f0 * bar.h(),
            );
            c.rect_fill(r, viridis((k as f64 + 0.5) / n as f64), 1.0);
        }
        c.rect_stroke(bar, INK, 0.8);
        let y_of = |v: f64| bar.y1 - ca.frac(v) * bar.h();
        for v in ca.minor_values(8) {
            let y = y_of(v);
            c.line(
                &[(bar.x1, y), (bar.x1 + MINOR_TICK, y)],
                INK,
                0.8,
                Dash::Solid,
            );
        }
        let ticks = ca.tick_values(8);
        let mut widest: f64 = 0.0;
        for (v, l) in ticks.iter().zip(ca.labels(&ticks)) {
            let y = y_of(*v);
            c.line(
                &[(bar.x1, y), (bar.x1 + MAJOR_TICK, y)],
                INK,
                1.0,
                Dash::Solid,
            );
            let r = c.text(
                &l,
                (bar.x1 + MAJOR_TICK + 4.0, y),
                TICK_LABEL,
                INK,
                H::Start,
                V::Middle,
                false,
            );
            widest = widest.max(r.w());
        }
        c.text(
            &self.value_label,
            (
                bar.x1 + MAJOR_TICK + 4.0 + widest + 10.0 + AXIS_LABEL * 0.76,
                (bar.y0 + bar.y1) / 2.0,
            ),
            AXIS_LABEL,
            INK,
            H::Middle,
            V::Base,
            true,
        );
        if !entries.is_empty() {
            draw_legend(&mut c, (w - 16.0 - lw, bar.y1 + 26.0), &entries, 1);
        }
        c
    }
}
