//! Plot axes: the range an axis covers (the data with a small margin, widened only as far as
//! needed for two labelled ticks), its major and minor ticks, and the tick labels, written in
//! one number format per axis.
//!
//! Log axes in base 2 (T, P, alpha) are labelled 2^k; in base 10 either all in decimals (short
//! ranges of ordinary numbers: 0.05, 0.1, 0.2), all as 10^k (long ranges), or all as m×10^k
//! (short ranges of very small or large numbers). Linear axes use one number of decimals.
//! Labels are markup (`2^{−9}`), drawn with true superscripts.

use super::Scale;

/// Writes `v` with Unicode superscript digits (e.g. for exponents in plain text).
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

/// `k` with a typographic minus (U+2212), for labels.
pub(super) fn minus(k: i64) -> String {
    if k < 0 {
        format!("−{}", -k)
    } else {
        k.to_string()
    }
}

/// How the labels of one axis are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `2^{k}`.
    Pow2,
    /// `10^{k}`.
    Pow10,
    /// `m×10^{k}`.
    Mantissa,
    /// Decimals with this many digits after the point (linear axes).
    Decimal(usize),
    /// Decimals with as few digits as each value needs (log axes: 0.05, 0.1, 0.2).
    Plain,
}

/// One plot axis: range and scale, ticks and their labels.
#[derive(Clone, Debug)]
pub struct AxisCoord {
    pub scale: Scale,
    pub lo: f64,
    pub hi: f64,
    /// Explicit ticks (value, label markup) replacing the automatic ones.
    pub ticks: Option<Vec<(f64, String)>>,
}

/// Major ticks of a log-10 axis: the multipliers of each decade and the decade step. Short
/// ranges get 1, 2 and 5 in each decade (when they fit in `max`), long ones every
/// `step`-th power of ten.
fn log10_plan(lo: f64, hi: f64, max: usize) -> (&'static [f64], i64) {
    let decades = (hi / lo).log10();
    if decades <= 0.8 && max >= 6 {
        (&[1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0], 1)
    } else if decades <= 2.5 && 3.0 * decades.max(1.0) <= max as f64 {
        (&[1.0, 2.0, 5.0], 1)
    } else {
        let n = decades.ceil().max(1.0) as usize + 1;
        (&[1.0], n.div_ceil(max.max(2)).max(1) as i64)
    }
}

impl AxisCoord {
    /// An axis covering `values` (finite ones, positive ones on log axes) with a margin of 4 %
    /// of the span on each side, widened (if needed) to the nearest major ticks so that at
    /// least two labelled ticks fall inside.
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
        let mut ax = if scale.is_log() {
            if hi / lo < 1.01 {
                lo /= 1.5;
                hi *= 1.5;
            }
            let pad = (hi / lo).powf(0.04);
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
            let pad = 0.04 * (hi - lo);
            AxisCoord {
                scale,
                lo: lo - pad,
                hi: hi + pad,
                ticks: None,
            }
        };
        if ax.tick_values(8).len() < 2 {
            let (below, above) = ax.bracketing_ticks();
            ax.lo = ax.lo.min(below);
            ax.hi = ax.hi.max(above);
        }
        ax
    }

    /// The major tick at or below `lo` and the one at or above `hi` (on the finest plan).
    fn bracketing_ticks(&self) -> (f64, f64) {
        match self.scale {
            Scale::Log2 => (
                2f64.powi(self.lo.log2().floor() as i32),
                2f64.powi(self.hi.log2().ceil() as i32),
            ),
            Scale::Log10 => {
                let down = |v: f64| {
                    let k = v.log10().floor();
                    let m = v / 10f64.powf(k);
                    let m = [5.0, 2.0, 1.0].into_iter().find(|c| *c <= m * (1.0 + 1e-9));
                    m.unwrap_or(1.0) * 10f64.powf(k)
                };
                let up = |v: f64| {
                    let k = v.log10().floor();
                    let m = v / 10f64.powf(k);
                    let m = [1.0, 2.0, 5.0, 10.0]
                        .into_iter()
                        .find(|c| *c >= m * (1.0 - 1e-9));
                    m.unwrap_or(10.0) * 10f64.powf(k)
                };
                (down(self.lo), up(self.hi))
            }
            Scale::Linear => {
                let step = self.linear_step(8);
                (
                    (self.lo / step).floor() * step,
                    (self.hi / step).ceil() * step,
                )
            }
        }
    }

    /// Where `v` lies along the axis, 0 at `lo` and 1 at `hi`.
    pub fn frac(&self, v: f64) -> f64 {
        let t = |v: f64| {
            if self.scale.is_log() {
                v.max(f64::MIN_POSITIVE).ln()
            } else {
                v
            }
        };
        (t(v) - t(self.lo)) / (t(self.hi) - t(self.lo))
    }

    /// The value at fraction `f` along the axis (the inverse of [`frac`](Self::frac)).
    pub fn at(&self, f: f64) -> f64 {
        if self.scale.is_log() {
            (self.lo.ln() + f * (self.hi.ln() - self.lo.ln())).exp()
        } else {
            self.lo + f * (self.hi - self.lo)
        }
    }

    fn linear_step(&self, max: usize) -> f64 {
        let span = self.hi - self.lo;
        let raw = span / max.max(2) as f64;
        let mag = 10f64.powf(raw.log10().floor());
        [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * mag)
            .find(|s| *s >= raw * (1.0 - 1e-9))
            .unwrap_or(10.0 * mag)
    }

    fn inside(&self, v: f64) -> bool {
        let eps = 1e-9 * (self.hi - self.lo).abs().max(1e-300);
        if self.scale.is_log() {
            v >= self.lo * (1.0 - 1e-9) && v <= self.hi * (1.0 + 1e-9)
        } else {
            v >= self.lo - eps && v <= self.hi + eps
        }
    }

    /// Major tick positions, at most `max` of them (explicit ticks win).
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
                let (mults, step) = log10_plan(self.lo, self.hi, max);
                let (a, b) = (
                    self.lo.log10().floor() as i64,
                    self.hi.log10().ceil() as i64,
                );
                let mut out = Vec::new();
                for k in a..=b {
                    if k.rem_euclid(step) != 0 {
                        continue;
                    }
                    for m in mults {
                        let v = m * 10f64.powi(k as i32);
                        if self.inside(v) {
                            out.push(v);
                        }
                    }
                }
                out
            }
            Scale::Linear => {
                let step = self.linear_step(max);
                let first = (self.lo / step - 1e-9).ceil() as i64;
                let last = (self.hi / step + 1e-9).floor() as i64;
                (first..=last).map(|i| i as f64 * step).collect()
            }
        }
    }

    /// Minor (unlabelled) tick positions for the major ticks of [`tick_values`](Self::tick_values)`(max)`.
    pub fn minor_values(&self, max: usize) -> Vec<f64> {
        if self.ticks.is_some() {
            return Vec::new();
        }
        let major = self.tick_values(max);
        let is_major = |v: f64| {
            major
                .iter()
                .any(|m| (m - v).abs() <= 1e-9 * m.abs().max(1e-300))
        };
        let mut out: Vec<f64> = match self.scale {
            Scale::Log2 => {
                let (a, b) = (
                    self.lo.log2().floor() as i64 - 1,
                    self.hi.log2().ceil() as i64 + 1,
                );
                let octaves = self.hi.log2() - self.lo.log2();
                let sub: &[f64] = if octaves <= 6.0 {
                    &[1.0, 1.25, 1.5, 1.75]
                } else {
                    &[1.0]
                };
                (a..=b)
                    .flat_map(|k| sub.iter().map(move |m| m * 2f64.powi(k as i32)))
                    .collect()
            }
            Scale::Log10 => {
                let (a, b) = (
                    self.lo.log10().floor() as i64 - 1,
                    self.hi.log10().ceil() as i64 + 1,
                );
                if (self.hi / self.lo).log10() > 8.0 {
                    // Decades only (the 2..9 would crowd into a smear).
                    (a..=b).map(|k| 10f64.powi(k as i32)).collect()
                } else {
                    (a..=b)
                        .flat_map(|k| (1..=9).map(move |m| m as f64 * 10f64.powi(k as i32)))
                        .collect()
                }
            }
            Scale::Linear => {
                let step = self.linear_step(max);
                let mant = step / 10f64.powf(step.log10().floor());
                let sub = if (mant - 2.0).abs() < 1e-6 { 4.0 } else { 5.0 };
                let ms = step / sub;
                let first = (self.lo / ms).ceil() as i64;
                let last = (self.hi / ms).floor() as i64;
                (first..=last).map(|i| i as f64 * ms).collect()
            }
        };
        out.retain(|v| self.inside(*v) && !is_major(*v));
        out
    }

    /// The one format of this axis's labels for the given major ticks.
    pub fn format(&self, ticks: &[f64]) -> Format {
        match self.scale {
            Scale::Log2 => Format::Pow2,
            Scale::Log10 => {
                let all_powers = ticks.iter().all(|v| {
                    let k = v.log10();
                    (k - k.round()).abs() < 1e-9
                });
                let ordinary = ticks.iter().all(|v| (1e-3..1e4).contains(v));
                let decades = (self.hi / self.lo).log10();
                if ordinary && decades <= 4.0 {
                    Format::Plain
                } else if all_powers {
                    Format::Pow10
                } else {
                    Format::Mantissa
                }
            }
            Scale::Linear => Format::Decimal(decimals(ticks)),
        }
    }

    /// The labels of `ticks`, all in this axis's one format.
    pub fn labels(&self, ticks: &[f64]) -> Vec<String> {
        if let Some(t) = &self.ticks {
            return ticks
                .iter()
                .map(|v| {
                    t.iter()
                        .find(|(x, _)| (x - v).abs() <= 1e-9 * x.abs().max(1e-12))
                        .map(|(_, l)| l.clone())
                        .unwrap_or_default()
                })
                .collect();
        }
        let f = self.format(ticks);
        ticks.iter().map(|v| format_tick(*v, f)).collect()
    }

    /// The label of one tick value (in the format of the axis's default ticks).
    pub fn label(&self, v: f64) -> String {
        if self.ticks.is_some() {
            return self.labels(&[v]).pop().unwrap_or_default();
        }
        format_tick(v, self.format(&self.tick_values(12)))
    }
}

/// The decimals needed to write every tick exactly (at most 6).
fn decimals(ticks: &[f64]) -> usize {
    (0..=6)
        .find(|&d| {
            ticks.iter().all(|v| {
                let s = 10f64.powi(d as i32);
                ((v * s).round() - v * s).abs() < 1e-6 * (v * s).abs().max(1.0)
            })
        })
        .unwrap_or(6)
}

/// A tick label (markup) in format `f`.
pub fn format_tick(v: f64, f: Format) -> String {
    match f {
        Format::Pow2 => format!("2^{{{}}}", minus(v.log2().round() as i64)),
        Format::Pow10 => format!("10^{{{}}}", minus(v.log10().round() as i64)),
        Format::Mantissa => {
            let k = v.abs().log10().floor() as i64;
            let m = v / 10f64.powi(k as i32);
            let m = (m * 100.0).round() / 100.0;
            format!("{}×10^{{{}}}", m, minus(k))
        }
        Format::Decimal(d) => {
            let s = format!("{v:.d$}");
            let s = if s.starts_with('-') && s.trim_start_matches(['-', '0', '.']).is_empty() {
                s[1..].to_string()
            } else {
                s
            };
            s.replacen('-', "−", 1)
        }
        Format::Plain => format_tick(v, Format::Decimal(decimals(&[v]))),
    }
}

/// Ticks for heatmap cells: every `step`-th grid value at its cell index, labelled 2^k when
/// every labelled value is a power of two, else in decimals.
pub(super) fn grid_ticks(values: &[f64], max: usize) -> Vec<(f64, String)> {
    let step = values.len().div_ceil(max.max(1)).max(1);
    let chosen: Vec<(usize, f64)> = values
        .iter()
        .copied()
        .enumerate()
        .filter(|(i, _)| i % step == 0)
        .collect();
    let pow2 = chosen.iter().all(|(_, v)| {
        let k = v.log2();
        *v > 0.0 && (k - k.round()).abs() < 1e-9
    });
    let vals: Vec<f64> = chosen.iter().map(|c| c.1).collect();
    let f = if pow2 {
        Format::Pow2
    } else {
        Format::Decimal(decimals(&vals))
    };
    chosen
        .into_iter()
        .map(|(i, v)| (i as f64, format_tick(v, f)))
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
        assert_eq!(a.labels(&t)[0], "2^{−9}");
        let b = AxisCoord::covering(Scale::Log10, [1e-6, 1e2]);
        let t = b.tick_values(12);
        assert!(
            t.contains(&1e-6) && t.contains(&1.0) && t.contains(&100.0),
            "{t:?}"
        );
        // One format on the whole axis: 10^k for the 0.01 tick too.
        let l = b.labels(&t);
        assert!(l.contains(&"10^{−6}".to_string()) && l.contains(&"10^{−2}".to_string()));
        assert!(l.contains(&"10^{0}".to_string()), "{l:?}");
        let c = AxisCoord::covering(Scale::Log10, [0.02, 0.3]);
        let t = c.tick_values(12);
        assert!(
            t.contains(&0.05) && t.contains(&0.1) && t.contains(&0.2),
            "{t:?}"
        );
        assert_eq!(c.labels(&[0.05, 0.1, 0.2]), ["0.05", "0.1", "0.2"]);
    }

    #[test]
    fn ranges_fit_the_data() {
        // The margin is 4 % of the span on each side in log space, nothing more.
        let a = AxisCoord::covering(Scale::Log10, [0.06, 0.2]);
        assert!(a.lo < 0.06 && a.lo > 0.05, "{a:?}");
        assert!(a.hi > 0.2 && a.hi < 0.22, "{a:?}");
        let l = AxisCoord::covering(Scale::Linear, [1.0, 2.0]);
        assert!((l.lo - 0.96).abs() < 1e-9 && (l.hi - 2.04).abs() < 1e-9);
        // Values that are not finite (or not positive on log axes) are ignored.
        let b = AxisCoord::covering(Scale::Log2, [f64::NAN, -1.0, 4.0, 64.0]);
        assert!(b.lo > 3.0 && b.hi < 80.0, "{b:?}");
    }

    #[test]
    fn an_axis_around_one_point_still_has_two_labelled_ticks() {
        // The T_opt panel of the quick phase preset: one point, 2^-10.6 with a CI [2^-12, 2^-9.2].
        let a = AxisCoord::covering(Scale::Log2, [2f64.powf(-10.6), 2f64.powf(-9.2)]);
        assert!(a.tick_values(8).len() >= 2, "{a:?}");
        let b = AxisCoord::covering(Scale::Log10, [0.13, 0.17]);
        let t = b.tick_values(8);
        assert!(t.len() >= 2, "{t:?} in {b:?}");
        let c = AxisCoord::covering(Scale::Linear, [0.52, 0.53]);
        assert!(c.tick_values(8).len() >= 2);
    }

    #[test]
    fn minor_ticks_fall_between_majors() {
        let a = AxisCoord::covering(Scale::Log10, [1e-3, 1e3]);
        let major = a.tick_values(12);
        let minor = a.minor_values(12);
        assert!(minor.contains(&2e-3) && minor.contains(&900.0), "{minor:?}");
        assert!(minor.iter().all(|m| !major.contains(m)));
        let b = AxisCoord::covering(Scale::Log2, [2f64.powi(-18), 4.0]);
        let major = b.tick_values(11);
        let minor = b.minor_values(11);
        // 21 octaves on 11 labels: every other power labelled, the rest minor.
        assert!(major.contains(&2f64.powi(-18)) && minor.contains(&2f64.powi(-17)));
        let c = AxisCoord::covering(Scale::Linear, [0.0, 1.0]);
        let minor = c.minor_values(6);
        assert!(minor.iter().any(|m| (m - 0.1).abs() < 1e-9), "{minor:?}");
    }

    #[test]
    fn every_label_of_an_axis_has_one_format() {
        assert_eq!(format_tick(0.001, Format::Pow10), "10^{−3}");
        assert_eq!(format_tick(2e-5, Format::Mantissa), "2×10^{−5}");
        assert_eq!(format_tick(-0.0, Format::Decimal(1)), "0.0");
        assert_eq!(format_tick(-0.5, Format::Decimal(1)), "−0.5");
        let lin = AxisCoord::covering(Scale::Linear, [0.0, 1.0]);
        let t = lin.tick_values(6);
        assert_eq!(lin.labels(&t), ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        // Short ranges of tiny numbers: all m×10^k.
        let small = AxisCoord::covering(Scale::Log10, [2e-5, 8e-5]);
        let t = small.tick_values(8);
        assert!(
            small.labels(&t).iter().all(|l| l.contains("×10^{")),
            "{t:?}"
        );
        assert_eq!(
            grid_ticks(&[0.25, 0.5, 1.0, 2.0], 4),
            vec![
                (0.0, "2^{−2}".to_string()),
                (1.0, "2^{−1}".into()),
                (2.0, "2^{0}".into()),
                (3.0, "2^{1}".into())
            ]
        );
    }
}
