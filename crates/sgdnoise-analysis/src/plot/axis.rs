//! Plot axes: the range an axis covers, its ticks (powers of 2 or 10 on log axes, 1-2-5 steps
//! on linear ones), the tick labels, and the grid ticks of heatmaps.

use super::Scale;
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use std::ops::Range;

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

pub(super) fn grid_ticks(values: &[f64], max: usize) -> Vec<(f64, String)> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
