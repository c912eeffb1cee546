//! Drawing a [`LinePlot`]: axes with head room for the legend, reference lines, curves with
//! error bars, diverged markers, dashed fit lines and the legend.

use super::color::PALETTE;
use super::font::FAMILY;
use super::{err, AxisCoord, DrawResult, LegendAt, LinePlot, Pt};
use plotters::coord::Shift;
use plotters::prelude::*;

impl LinePlot {
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

    pub(super) fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> DrawResult {
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
