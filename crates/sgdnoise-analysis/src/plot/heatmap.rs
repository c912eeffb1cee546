//! Drawing a [`Heatmap`]: one cell per grid value coloured by viridis, diverged cells hatched,
//! missing cells light grey, markers on top, the legend and the colour bar.

use super::axis::grid_ticks;
use super::color::{hatch_cell, viridis, DIVERGED_FILL, HATCH, MISSING_FILL};
use super::font::FAMILY;
use super::{err, AxisCoord, Cell, DrawResult, Heatmap, Scale};
use plotters::coord::Shift;
use plotters::prelude::*;

impl Heatmap {
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

    pub(super) fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> DrawResult {
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
                            .draw_series(std::iter::once(Rectangle::new(
                                rect,
                                DIVERGED_FILL.filled(),
                            )))
                            .map_err(err)?;
                        // The two strokes, then the diagonal.
                        let [a, b, diagonal] = hatch_cell(x, y);
                        chart.draw_series([a, b]).map_err(err)?;
                        chart.draw_series(std::iter::once(diagonal)).map_err(err)?;
                    }
                    _ => {
                        any_missing = true;
                        chart
                            .draw_series(std::iter::once(Rectangle::new(
                                rect,
                                MISSING_FILL.filled(),
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
                        + Rectangle::new([(0, -7), (22, 7)], DIVERGED_FILL.filled())
                        + PathElement::new(vec![(0, 7), (14, -7)], HATCH.stroke_width(1))
                        + PathElement::new(vec![(8, 7), (22, -7)], HATCH.stroke_width(1))
                });
        }
        if any_missing {
            chart
                .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                .map_err(err)?
                .label("no finished run")
                .legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + Rectangle::new([(0, -7), (22, 7)], MISSING_FILL.filled())
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
