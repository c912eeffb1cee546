//! The crossover temperature T_c(P) ~ P^-a of a lazy-regime temperature sweep by four
//! methods, each with an interval from a bootstrap over seeds, and a verdict on whether they
//! agree (SPEC §8; issue 10).
//!
//! * (a) the temperature where the seed-mean relative weight change ‖w−w₀‖/‖w₀‖ reaches a level
//!   L = c/√h (h the width). A rank-one change of Frobenius size L‖W‖ that is aligned with a
//!   layer's input changes that layer's pre-activations by about c times their initial size
//!   (‖W₀‖_F = √(h n) while ‖W₀ z‖ ≈ √h ‖z‖), so c = 1 marks an order-one change of the
//!   features, the exit from the lazy regime; c = 1/2, 1/4, 1/8 check that a does not depend on
//!   the level. `rwc_threshold` replaces the main level by an absolute one.
//! * (b) the exit of each P's test error from its own low-T plateau, judged against the
//!   plateau's seed spread ([`PlateauExit`]); also reported at other multiples of the spread.
//! * (c) the collapse of the plateau-normalised test error against T·P^a, scored by the
//!   Houdayer-Hartmann quality S ([`Collapse`]); S is reported.
//! * (d) gamma/delta of the weight-change law ‖w−w₀‖/‖w₀‖ ~ T^delta P^gamma, fitted jointly over
//!   the temperatures above each P's own crossover (method (b)'s T_c(P)).
//! * (e) the temperature where the seed-mean relative change of the neural tangent kernel
//!   ‖K−K₀‖_F/‖K₀‖_F (`ntk_points`, SPEC §11; K on a fixed subset of training points, at the
//!   stop) reaches a level, the paper's own notion of leaving the kernel regime: the main level
//!   1/2 (half of the initial kernel has changed), checks at 1/4 and 1/8 ([`NTK_LEVELS`]). Only
//!   for sweeps whose runs recorded the NTK ([`analyse_with_ntk`]).
//!
//! Every interval resamples seeds (not points) through the whole chain: a resample re-averages
//! every curve with its seed multiplicities (the censoring rule of [`SeedTable::means`]
//! included), finds the crossovers again and fits again. (a) and (d) read the same curves
//! (the weight change), as do (b) and (c) (the test error): agreement inside a pair checks
//! the method, agreement across the pairs checks that the weights and the test error cross
//! over together, and the verdict says which is which. Where the estimates disagree, the
//! verdict gives the measured reasons it finds: the weight change at the test-error crossover
//! changing with P (k in ‖w−w₀‖/‖w₀‖ at T_c^(b) ~ P^k; then a^(b) = (gamma − k)/delta), a that
//! depends on the level or criterion, a collapse whose S is far above 1, crossovers that sit
//! just below divergence, too few P.

use crate::crossover::{Collapse, CollapseFit, NormCurve, PlateauExit, ThresholdCrossing};
use crate::fit::{bootstrap, bootstrap_many, fit_power_law, fit_power_law_2, Estimate, FitRange};
use crate::fit::{BootstrapOptions, PowerLaw};
use crate::options::{
    seeds_note, AnalysisOptions, Condition, Conds, FitRow, FitUse, RELIABLE_SEEDS,
};
use crate::{fmt_num, LeftOut, SeedTable};

/// Method (e): the levels of ‖K−K₀‖_F/‖K₀‖_F at which T_c is read, the main one first (an
/// absolute number: the kernel's relative change does not scale with the width as the weight
/// change does; the change saturates near 1 at large T in the quick FC sweep, so 1/2 is inside
/// the range every P crosses).
pub const NTK_LEVELS: [f64; 3] = [0.5, 0.25, 0.125];

/// Curves per P: (P, table against T), sorted by P.
pub type Curves = [(f64, SeedTable)];

/// T_c of one curve on a seed resample (None: no crossover).
type CurveCrossing<'a> = dyn Fn(&SeedTable, Option<&[u32]>) -> Option<f64> + 'a;

/// T_c(P) of one method at one setting, and the exponent of T_c ~ P^-a.
#[derive(Clone, Debug)]
pub struct TcCurve {
    /// "(a)", "(b)", or with the setting: "(a), L = 1/2 √h".
    pub key: String,
    /// Short name of the setting ("L = 0.0884 (1/√h)", "2 spreads").
    pub setting: String,
    /// What the method did, for the method column.
    pub method: String,
    /// T_c with its interval at each P that has one.
    pub per_p: Vec<(f64, Estimate)>,
    /// The P without a T_c, with the reason.
    pub missing: Vec<(f64, String)>,
    /// a with its interval (None with fewer than two P).
    pub a: Option<Estimate>,
    /// T_c = prefactor P^exponent on all seeds (exponent = -a), for drawing over the P range of
    /// `per_p`.
    pub law: Option<PowerLaw>,
}

/// Method (c).
#[derive(Clone, Debug)]
pub struct CollapseResult {
    /// The best collapse on all seeds.
    pub fit: CollapseFit,
    /// a and S with their intervals.
    pub a: Estimate,
    pub s: Estimate,
    /// S without scaling (a = 0), to show what the collapse gained (None: undefined).
    pub s_at_zero: Option<f64>,
    /// The normalised curves on all seeds (ln T, y, dy per P), for the figure.
    pub curves: Vec<NormCurve>,
    pub usage: FitUse,
}

/// Method (d).
#[derive(Clone, Debug)]
pub struct JointResult {
    pub delta: Estimate,
    pub gamma: Estimate,
    /// gamma / delta, the estimate of a.
    pub ratio: Estimate,
    pub prefactor: f64,
    /// The T range of the fit at each P used: (P, lowest T, highest T).
    pub ranges: Vec<(f64, f64, f64)>,
    pub usage: FitUse,
}

/// Everything the four methods found (the figures draw it, the report prints it).
#[derive(Clone, Debug)]
pub struct TcStudy {
    /// The main level of method (a) (absolute).
    pub main_level: f64,
    /// Method (a) at each level, the main one first.
    pub levels: Vec<TcCurve>,
    /// Method (b) at each multiple of the spread, the main one first.
    pub plateau: Vec<TcCurve>,
    pub collapse: Option<CollapseResult>,
    pub joint: Option<JointResult>,
    /// Method (e) at each level of [`NTK_LEVELS`], the main one first (empty without NTK
    /// records).
    pub ntk: Vec<TcCurve>,
    /// k in ‖w−w₀‖/‖w₀‖ at T_c^(b)(P) ~ P^k.
    pub rwc_at_tc: Option<Estimate>,
    /// The lowest T at which most runs diverged, per P (P without one left out).
    pub divergence: Vec<(f64, f64)>,
    pub rows: Vec<FitRow>,
    /// One line per result (the report's main results).
    pub notes: Vec<String>,
    /// The consistency verdict (markdown lines).
    pub verdict: Vec<String>,
    /// Whether at least three estimates agree within their intervals.
    pub three_agree: bool,
}

fn ci(e: &Estimate) -> String {
    if e.ci_low.is_finite() {
        format!("{:.3} [{:.3}, {:.3}]", e.value, e.ci_low, e.ci_high)
    } else {
        format!("{:.3} [no interval]", e.value)
    }
}

/// ln-ln interpolation of a curve sorted by x at `x` (None outside it).
fn interp_loglog(curve: &[(f64, f64)], x: f64) -> Option<f64> {
    let pts: Vec<(f64, f64)> = curve
        .iter()
        .copied()
        .filter(|(a, b)| *a > 0.0 && *b > 0.0)
        .collect();
    let r = pts.partition_point(|p| p.0 < x);
    if r == 0 {
        return (pts.first()?.0 == x).then(|| pts[0].1);
    }
    if r >= pts.len() {
        return None;
    }
    let ((x0, y0), (x1, y1)) = (pts[r - 1], pts[r]);
    let f = (x.ln() - x0.ln()) / (x1.ln() - x0.ln());
    Some((y0.ln() + f * (y1.ln() - y0.ln())).exp())
}

struct Ctx<'a> {
    err: &'a Curves,
    rwc: &'a Curves,
    n_seeds: usize,
    boot: &'a BootstrapOptions,
    rows: Vec<FitRow>,
}

/// The conditions of a T_c method's rows and curves: `tc_method` "(a)" and, for the checks at
/// other levels or criteria, `criterion` ("L = 1/2 √h", "3 spreads"); labelled "method (a),
/// L = 1/2 √h" as before.
pub(crate) fn method_conds(key: &str) -> Conds {
    match key.split_once(", ") {
        Some((m, crit)) => Conds::new().text("tc_method", m).text("criterion", crit),
        None => Conds::new().text("tc_method", key),
    }
}

/// [`method_conds`] as a curve's condition.
pub(crate) fn method_condition(key: &str) -> Condition {
    method_conds(key).into()
}

impl Ctx<'_> {
    fn row(
        &mut self,
        figure: &str,
        quantity: &str,
        condition: Conds,
        e: &Estimate,
        method: &str,
        usage: &FitUse,
    ) {
        self.rows.push(
            FitRow::new(figure, quantity, "P", *e)
                .at(condition)
                .method(method)
                .usage(usage),
        );
    }

    /// T_c per P by `find` (on a resample), each with its interval, then a of T_c ~ P^-a with
    /// the whole chain bootstrapped; rows for both.
    fn tc_curve(
        &mut self,
        key: &str,
        setting: &str,
        method: String,
        tables: &Curves,
        find: &CurveCrossing,
        why_none: &dyn Fn(&SeedTable) -> String,
    ) -> TcCurve {
        let mut c = TcCurve {
            key: key.to_string(),
            setting: setting.to_string(),
            method: format!("{method}; {}", self.boot.describe()),
            per_p: Vec::new(),
            missing: Vec::new(),
            a: None,
            law: None,
        };
        for (p, t) in tables {
            let mut usage = FitUse {
                n_points: (0..t.xs.len()).filter(|&i| t.enters(i, None)).count(),
                n_seeds: self.n_seeds,
                n_seeds_min: t.fewest_seeds(),
                ..Default::default()
            };
            t.count_left_out(&mut usage.left_out);
            match bootstrap(self.n_seeds, &|w| find(t, w), self.boot) {
                Some(e) => {
                    let cond = Conds::new().num("ptr", *p).and(&method_conds(key));
                    let m = c.method.clone();
                    self.row("T_c_vs_P", "T_c", cond, &e, &m, &usage);
                    c.per_p.push((*p, e));
                }
                None => c.missing.push((*p, why_none(t))),
            }
        }
        let tc_of = |w: Option<&[u32]>| -> Vec<(f64, f64)> {
            tables
                .iter()
                .filter_map(|(p, t)| find(t, w).map(|tc| (*p, tc)))
                .collect()
        };
        c.law = fit_power_law(&tc_of(None), FitRange::ALL);
        if c.law.is_some() {
            if let Some(e) = bootstrap(
                self.n_seeds,
                &|w| fit_power_law(&tc_of(w), FitRange::ALL).map(|f| -f.exponent),
                self.boot,
            ) {
                let mut left = LeftOut::default();
                for (_, why) in &c.missing {
                    left.add(&format!("P without T_c ({why})"));
                }
                let usage = FitUse {
                    n_points: c.per_p.len(),
                    n_seeds: self.n_seeds,
                    left_out: left,
                    n_seeds_min: SeedTable::fewest_of(
                        tables
                            .iter()
                            .filter(|(p, _)| c.per_p.iter().any(|(q, _)| q == p))
                            .map(|(_, t)| t),
                    ),
                };
                let m = format!(
                    "a in T_c ~ P^-a, least squares of ln T_c on ln P over the P with a T_c (points: P values); T_c by {}",
                    c.method
                );
                self.row("T_c_vs_P", "T_c", method_conds(key), &e, &m, &usage);
                c.a = Some(e);
            }
        }
        c
    }

    /// T_c^(b)(P) of every P on a resample (P without one left out).
    fn tc_b(&self, plateau: &PlateauExit, w: Option<&[u32]>) -> Vec<(f64, f64)> {
        self.err
            .iter()
            .filter_map(|(p, t)| plateau.find(t, w).map(|tc| (*p, tc)))
            .collect()
    }

    /// The points (T, P, rwc) of the joint fit on a resample: T at or above T_c^(b)(P).
    fn joint_points(&self, plateau: &PlateauExit, w: Option<&[u32]>) -> Vec<(f64, f64, f64)> {
        let tcs = self.tc_b(plateau, w);
        self.rwc
            .iter()
            .filter_map(|(p, t)| {
                let tc = tcs.iter().find(|(q, _)| q == p)?.1;
                Some(
                    t.means(w)
                        .into_iter()
                        .filter(move |(x, _)| *x >= tc * (1.0 - 1e-12))
                        .map(move |(x, y)| (x, *p, y)),
                )
            })
            .flatten()
            .collect()
    }
}

/// Runs the four methods on the test-error and weight-change curves of a T-sweep (`err`,
/// `rwc`: per P, against T, with the sweep's seed list), `width` the nets' width h.
pub fn analyse(err: &Curves, rwc: &Curves, width: f64, opts: &AnalysisOptions) -> TcStudy {
    analyse_with_ntk(err, rwc, &[], width, opts)
}

/// [`analyse`] with method (e) on `ntk`, the relative NTK change per P against T (empty, or
/// without a finite value: method (e) is left out).
pub fn analyse_with_ntk(
    err: &Curves,
    rwc: &Curves,
    ntk: &Curves,
    width: f64,
    opts: &AnalysisOptions,
) -> TcStudy {
    let n_seeds = err.first().map_or(0, |(_, t)| t.seeds.len());
    let mut cx = Ctx {
        err,
        rwc,
        n_seeds,
        boot: &opts.bootstrap,
        rows: Vec::new(),
    };
    let sqrt_h = width.max(1.0).sqrt();
    let mut notes = Vec::new();
    let sn = seeds_note(n_seeds);

    // (a) at each level.
    let mut level_list: Vec<(f64, String)> = opts
        .rwc_levels
        .iter()
        .map(|c| {
            (
                c / sqrt_h,
                format!(
                    "L = {:.4} ({}/√h, h = {})",
                    c / sqrt_h,
                    fmt_num(*c),
                    fmt_num(width)
                ),
            )
        })
        .collect();
    if let Some(l) = opts.rwc_threshold {
        level_list.insert(0, (l, format!("L = {l} (set by --rwc-threshold)")));
    }
    let main_level = level_list.first().map_or(f64::NAN, |l| l.0);
    let mut levels = Vec::new();
    for (i, (level, setting)) in level_list.iter().enumerate() {
        let thr = ThresholdCrossing { threshold: *level };
        let key = if i == 0 {
            "(a)".to_string()
        } else {
            format!("(a), {setting}")
        };
        let method = format!(
            "{} (level {setting}: a rank-one weight change of this relative size, aligned with a layer's input, changes its pre-activations by {}x their initial size)",
            thr.describe("rel_weight_change"),
            fmt_num(level * sqrt_h)
        );
        let c = cx.tc_curve(
            &key,
            setting,
            method,
            rwc,
            &|t, w| thr.find(&t.means(w)),
            &|t| {
                let m = t.means(None);
                match (m.first(), m.iter().map(|p| p.1).reduce(f64::max)) {
                    (None, _) | (_, None) => "no point enters fits".into(),
                    (Some(first), _) if first.1 >= *level => {
                        "above the level at the lowest T".into()
                    }
                    _ => "level not reached before divergence or the end of the T range".into(),
                }
            },
        );
        if let Some(e) = &c.a {
            notes.push(format!(
                "T_c ~ P^-a, method (a) weight-change threshold at {setting}: a = {} {sn}, {} P",
                ci(e),
                c.per_p.len()
            ));
        } else {
            notes.push(format!(
                "T_c method (a) at {setting}: fewer than two P reach the level; no exponent"
            ));
        }
        levels.push(c);
    }

    // (e) at each NTK level, when the runs recorded the NTK.
    let has_ntk = ntk
        .iter()
        .any(|(_, t)| t.means(None).iter().any(|p| p.1.is_finite()));
    let mut ntk_curves = Vec::new();
    if has_ntk {
        for (i, level) in NTK_LEVELS.iter().enumerate() {
            let thr = ThresholdCrossing { threshold: *level };
            let setting = format!("K level {}", fmt_num(*level));
            let key = if i == 0 {
                "(e)".to_string()
            } else {
                format!("(e), {setting}")
            };
            let method = format!(
                "(e) NTK threshold: T where seed-mean ntk_rel_change = ‖K−K0‖_F/‖K0‖_F at the stop (K on the run's ntk_points subset) first crosses {} (log-log interpolation)",
                fmt_num(*level)
            );
            let c = cx.tc_curve(
                &key,
                &setting,
                method,
                ntk,
                &|t, w| thr.find(&t.means(w)),
                &|t| {
                    let m = t.means(None);
                    match m.iter().find(|p| p.1.is_finite()) {
                        None => "no NTK record enters fits".into(),
                        Some(first) if first.1 >= *level => {
                            "above the level at the lowest T".into()
                        }
                        _ => "level not reached before divergence or the end of the T range".into(),
                    }
                },
            );
            if let Some(e) = &c.a {
                notes.push(format!(
                    "T_c ~ P^-a, method (e) NTK-change threshold at ‖K−K0‖/‖K0‖ = {}: a = {} {sn}, {} P",
                    fmt_num(*level),
                    ci(e),
                    c.per_p.len()
                ));
            } else {
                notes.push(format!(
                    "T_c method (e) at ‖K−K0‖/‖K0‖ = {}: fewer than two P reach the level; no exponent",
                    fmt_num(*level)
                ));
            }
            ntk_curves.push(c);
        }
    }

    // (b) at the main multiple and the checks.
    let mut multiples = vec![opts.plateau.spread_multiple];
    multiples.extend(
        opts.plateau_checks
            .iter()
            .copied()
            .filter(|z| *z != opts.plateau.spread_multiple),
    );
    let mut plateau_curves = Vec::new();
    for (i, z) in multiples.iter().enumerate() {
        let pe = PlateauExit {
            spread_multiple: *z,
            ..opts.plateau
        };
        let setting = format!("{} spreads", fmt_num(*z));
        let key = if i == 0 {
            "(b)".to_string()
        } else {
            format!("(b), {setting}")
        };
        let c = cx.tc_curve(
            &key,
            &setting,
            pe.describe("test_err"),
            err,
            &|t, w| pe.find(t, w),
            &|t| match pe.find_exit(t, None) {
                Ok(_) => "no interval".into(),
                Err(e) => e.describe().into(),
            },
        );
        if let Some(e) = &c.a {
            notes.push(format!(
                "T_c ~ P^-a, method (b) plateau exit at {setting}: a = {} {sn}, {} P",
                ci(e),
                c.per_p.len()
            ));
        } else {
            notes.push(format!(
                "T_c method (b) at {setting}: fewer than two P leave their plateau inside the T range; no exponent"
            ));
        }
        plateau_curves.push(c);
    }

    // (c) collapse.
    let col = opts.collapse;
    let collapse = (|| {
        let fit = col.find(err, None)?;
        let est = bootstrap_many(
            n_seeds,
            2,
            &|w| col.find(err, w).map(|f| vec![f.a, f.s]),
            &opts.bootstrap,
        )?;
        let curves = col.curves(err, None);
        let mut left = LeftOut::default();
        for (_, t) in err {
            t.count_left_out(&mut left);
        }
        let n_points: usize = curves.iter().map(|c| c.y.len()).sum();
        let entering: usize = err
            .iter()
            .map(|(_, t)| (0..t.xs.len()).filter(|&i| t.enters(i, None)).count())
            .sum();
        left.add_n(
            "without two seeds or a plateau to normalise by",
            entering.saturating_sub(n_points),
        );
        Some(CollapseResult {
            fit,
            a: est[0],
            s: est[1],
            s_at_zero: Collapse::quality(&curves, 0.0).map(|q| q.0),
            usage: FitUse {
                n_points,
                n_seeds,
                left_out: left,
                n_seeds_min: SeedTable::fewest_of(err.iter().map(|(_, t)| t)),
            },
            curves,
        })
    })();
    let method_c = format!(
        "{}; {}",
        col.describe("test_err"),
        opts.bootstrap.describe()
    );
    if let Some(c) = &collapse {
        cx.row(
            "test_err_collapse",
            "T_c",
            method_conds("(c)"),
            &c.a,
            &method_c,
            &c.usage,
        );
        cx.row(
            "test_err_collapse",
            "collapse quality S",
            method_conds("(c)"),
            &c.s,
            &format!("S at the best a of each resample (near 1: the curves coincide within their errors); {method_c}"),
            &c.usage,
        );
        notes.push(format!(
            "T_c ~ P^-a, method (c) collapse of test_err/plateau against T P^a: a = {} {sn}; quality S = {:.2} at the best a ({} terms; S = {} without scaling)",
            ci(&c.a),
            c.fit.s,
            c.fit.terms,
            c.s_at_zero.map_or("undefined".into(), |s| format!("{s:.1}"))
        ));
    } else {
        notes.push(format!(
            "T_c method (c): no collapse exponent inside the scanned range [{}, {}]",
            col.a_min, col.a_max
        ));
    }

    // (d) gamma/delta above each P's own crossover (method (b), main multiple).
    let pe_main = PlateauExit {
        spread_multiple: multiples[0],
        ..opts.plateau
    };
    let joint = (|| {
        let pts = cx.joint_points(&pe_main, None);
        let (c, _, _) = fit_power_law_2(&pts)?;
        let est = bootstrap_many(
            n_seeds,
            3,
            &|w| {
                let (_, d, g) = fit_power_law_2(&cx.joint_points(&pe_main, w))?;
                Some(vec![d, g, g / d])
            },
            &opts.bootstrap,
        )?;
        let tcs = cx.tc_b(&pe_main, None);
        let mut left = LeftOut::default();
        let mut ranges = Vec::new();
        for (p, t) in rwc {
            t.count_left_out(&mut left);
            let m = t.means(None);
            match tcs.iter().find(|(q, _)| q == p) {
                Some((_, tc)) => {
                    let used: Vec<f64> = m
                        .iter()
                        .map(|q| q.0)
                        .filter(|x| *x >= tc * (1.0 - 1e-12))
                        .collect();
                    left.add_n("below T_c^(b)(P)", m.len() - used.len());
                    if let (Some(lo), Some(hi)) = (used.first(), used.last()) {
                        ranges.push((*p, *lo, *hi));
                    }
                }
                None => left.add_n("at a P without T_c^(b)", m.len()),
            }
        }
        Some(JointResult {
            delta: est[0],
            gamma: est[1],
            ratio: est[2],
            prefactor: c,
            ranges,
            usage: FitUse {
                n_points: pts.len(),
                n_seeds,
                left_out: left,
                n_seeds_min: SeedTable::fewest_of(rwc.iter().map(|(_, t)| t)),
            },
        })
    })();
    if let Some(j) = &joint {
        let method = format!(
            "joint least squares ln rel_weight_change = c + delta ln T + gamma ln P over the T at or above each P's own T_c of method (b) ({} spreads; re-found in every resample); {}",
            fmt_num(multiples[0]),
            opts.bootstrap.describe()
        );
        for (q, e) in [
            ("rel_weight_change (delta)", &j.delta),
            ("rel_weight_change (gamma)", &j.gamma),
        ] {
            let against = if q.ends_with("(delta)") { "T" } else { "P" };
            cx.rows.push(
                FitRow::new("rwc_vs_T", q, against, *e)
                    .at(Conds::new().text("temp_min", "T_c(P)"))
                    .method(method.clone())
                    .usage(&FitUse {
                        n_seeds,
                        ..j.usage.clone()
                    }),
            );
        }
        cx.row(
            "rwc_vs_T",
            "T_c",
            method_conds("(d)"),
            &j.ratio,
            &format!("a = gamma/delta; {method}"),
            &j.usage,
        );
        notes.push(format!(
            "rel_weight_change ~ T^delta P^gamma above each P's T_c^(b): delta = {}, gamma = {}; method (d) a = gamma/delta = {} {sn}, {} points",
            ci(&j.delta),
            ci(&j.gamma),
            ci(&j.ratio),
            j.usage.n_points
        ));
    } else {
        notes.push("method (d): no joint weight-change fit (fewer than two P with a T_c^(b), or fewer than four points)".into());
    }

    // k: the weight change at the test-error crossover against P.
    let k_of = |w: Option<&[u32]>| -> Vec<(f64, f64)> {
        cx.tc_b(&pe_main, w)
            .into_iter()
            .filter_map(|(p, tc)| {
                let (_, t) = rwc.iter().find(|(q, _)| *q == p)?;
                interp_loglog(&t.means(w), tc).map(|v| (p, v))
            })
            .collect()
    };
    let rwc_at_tc = fit_power_law(&k_of(None), FitRange::ALL).and_then(|_| {
        bootstrap(
            n_seeds,
            &|w| fit_power_law(&k_of(w), FitRange::ALL).map(|f| f.exponent),
            &opts.bootstrap,
        )
    });
    if let Some(k) = &rwc_at_tc {
        let usage = FitUse {
            n_points: k_of(None).len(),
            n_seeds,
            left_out: LeftOut::default(),
            n_seeds_min: SeedTable::fewest_of(err.iter().chain(rwc).map(|(_, t)| t)),
        };
        cx.row(
            "T_c_vs_P",
            "rel_weight_change at T_c^(b) (exponent k)",
            method_conds("(b)"),
            k,
            &format!("k in rel_weight_change(T_c^(b)(P), P) ~ P^k: the seed-mean weight change interpolated (log-log) at each P's T_c of method (b), least squares in log-log; {}", opts.bootstrap.describe()),
            &usage,
        );
        notes.push(format!(
            "weight change at the test-error crossover: ‖w−w₀‖/‖w₀‖ at T_c^(b)(P) ~ P^k, k = {} {sn}",
            ci(k)
        ));
    }

    // Divergence temperature per P.
    let divergence: Vec<(f64, f64)> = err
        .iter()
        .filter_map(|(p, t)| {
            t.points()
                .iter()
                .find(|q| q.is_diverged())
                .map(|q| (*p, q.x))
        })
        .collect();

    let (verdict, three_agree) = verdict(
        rwc,
        &levels,
        &plateau_curves,
        collapse.as_ref(),
        joint.as_ref(),
        &ntk_curves,
        rwc_at_tc.as_ref(),
        &divergence,
        err,
        n_seeds,
    );
    TcStudy {
        main_level,
        levels,
        plateau: plateau_curves,
        collapse,
        joint,
        ntk: ntk_curves,
        rwc_at_tc,
        divergence,
        rows: cx.rows,
        notes,
        verdict,
        three_agree,
    }
}

/// The largest set of intervals with a common point: (indices, common range).
fn largest_agreeing(intervals: &[(f64, f64)]) -> (Vec<usize>, (f64, f64)) {
    let mut best: (Vec<usize>, (f64, f64)) = (Vec::new(), (f64::NAN, f64::NAN));
    for &(x, _) in intervals {
        let inside: Vec<usize> = (0..intervals.len())
            .filter(|&i| intervals[i].0 <= x && x <= intervals[i].1)
            .collect();
        if inside.len() > best.0.len() {
            let lo = inside
                .iter()
                .map(|&i| intervals[i].0)
                .fold(f64::NEG_INFINITY, f64::max);
            let hi = inside
                .iter()
                .map(|&i| intervals[i].1)
                .fold(f64::INFINITY, f64::min);
            best = (inside, (lo, hi));
        }
    }
    best
}

#[allow(clippy::too_many_arguments)]
fn verdict(
    rwc: &Curves,
    levels: &[TcCurve],
    plateau: &[TcCurve],
    collapse: Option<&CollapseResult>,
    joint: Option<&JointResult>,
    ntk: &[TcCurve],
    k: Option<&Estimate>,
    divergence: &[(f64, f64)],
    err: &Curves,
    n_seeds: usize,
) -> (Vec<String>, bool) {
    struct E {
        key: &'static str,
        what: &'static str,
        data: &'static str,
        est: Estimate,
        n_p: usize,
    }
    let mut all: Vec<E> = Vec::new();
    let mut absent: Vec<String> = Vec::new();
    // An estimate enters the comparison only when it can test agreement: an interval, at least
    // three P, and an interval narrower than 1 (a wider one agrees with anything).
    let mut push = |key: &'static str, what, data, est: Option<Estimate>, n_p: usize| {
        match est {
        Some(e) if e.ci_low.is_finite() && n_p < 3 => absent.push(format!(
            "{key} {what}: a = {} rests on {n_p} P only (a slope through {n_p} points): left out of the comparison",
            ci(&e)
        )),
        Some(e) if e.ci_high - e.ci_low > 1.0 => absent.push(format!(
            "{key} {what}: a = {} has an interval too wide to test agreement: left out of the comparison",
            ci(&e)
        )),
        Some(e) if e.ci_low.is_finite() => all.push(E {
            key,
            what,
            data,
            est: e,
            n_p,
        }),
        Some(e) => absent.push(format!("{key} {what}: a = {:.3} has no interval", e.value)),
        None => absent.push(format!("{key} {what}: no estimate")),
    }
    };
    let n_p = err.len();
    push(
        "(a)",
        "weight-change threshold",
        "weight change",
        levels.first().and_then(|c| c.a),
        levels.first().map_or(0, |c| c.per_p.len()),
    );
    push(
        "(b)",
        "plateau exit",
        "test error",
        plateau.first().and_then(|c| c.a),
        plateau.first().map_or(0, |c| c.per_p.len()),
    );
    push(
        "(c)",
        "collapse",
        "test error",
        collapse.map(|c| c.a),
        collapse.map_or(0, |c| c.curves.len()),
    );
    push(
        "(d)",
        "gamma/delta",
        "weight change",
        joint.map(|j| j.ratio),
        joint.map_or(0, |j| j.ranges.len()),
    );
    if !ntk.is_empty() {
        push(
            "(e)",
            "NTK-change threshold",
            "NTK change",
            ntk.first().and_then(|c| c.a),
            ntk.first().map_or(0, |c| c.per_p.len()),
        );
    }
    let mut v = Vec::new();
    v.push("| method | reads | a | 95% interval | seeds | P used |".to_string());
    v.push("|---|---|---|---|---|---|".to_string());
    for e in &all {
        v.push(format!(
            "| {} {} | {} | {:.3} | [{:.3}, {:.3}] | {} | {} of {n_p} |",
            e.key, e.what, e.data, e.est.value, e.est.ci_low, e.est.ci_high, n_seeds, e.n_p
        ));
    }
    v.push(String::new());
    for a in &absent {
        v.push(format!("- {a}."));
    }
    // Groups of estimates whose intervals share a range, the largest first.
    let mut groups: Vec<(Vec<usize>, (f64, f64))> = Vec::new();
    let mut rest: Vec<usize> = (0..all.len()).collect();
    while !rest.is_empty() {
        let intervals: Vec<(f64, f64)> = rest
            .iter()
            .map(|&i| (all[i].est.ci_low, all[i].est.ci_high))
            .collect();
        let (g, range) = largest_agreeing(&intervals);
        let g: Vec<usize> = g.into_iter().map(|k| rest[k]).collect();
        rest.retain(|i| !g.contains(i));
        groups.push((g, range));
    }
    let names = |idx: &[usize]| -> String {
        idx.iter()
            .map(|&i| all[i].key)
            .collect::<Vec<_>>()
            .join(", ")
    };
    if all.is_empty() {
        v.push("- **Verdict:** no estimate of a has an interval; nothing to compare.".into());
        return (v, false);
    }
    let (agree, (lo, hi)) = groups[0].clone();
    let others: Vec<usize> = (0..all.len()).filter(|i| !agree.contains(i)).collect();
    let three = agree.len() >= 3;
    if groups.len() == 1 && all.len() >= 2 {
        v.push(format!(
            "- **Verdict:** all {} estimates with an interval agree: {} share [{lo:.3}, {hi:.3}].",
            all.len(),
            names(&agree)
        ));
    } else if groups.iter().all(|g| g.0.len() == 1) {
        v.push(format!(
            "- **Verdict:** no two estimates agree within their intervals ({}).",
            names(&others.iter().chain(&agree).copied().collect::<Vec<_>>())
        ));
    } else {
        let parts: Vec<String> = groups
            .iter()
            .map(|(g, (l, h))| {
                if g.len() == 1 {
                    format!("{} apart", names(g))
                } else {
                    format!("{} agree (common range [{l:.3}, {h:.3}])", names(g))
                }
            })
            .collect();
        v.push(format!(
            "- **Verdict:** the estimates do not all agree: {}.",
            parts.join("; ")
        ));
    }
    // Which estimates outside the largest group overlap which inside it.
    for &i in &others {
        let overlaps: Vec<usize> = (0..all.len())
            .filter(|&k| {
                k != i
                    && all[k].est.ci_low <= all[i].est.ci_high
                    && all[i].est.ci_low <= all[k].est.ci_high
            })
            .collect();
        v.push(format!(
            "- {} {}: its interval [{:.3}, {:.3}] overlaps {}.",
            all[i].key,
            all[i].what,
            all[i].est.ci_low,
            all[i].est.ci_high,
            if overlaps.is_empty() {
                "no other".to_string()
            } else {
                format!("that of {} (but not their common range)", names(&overlaps))
            }
        ));
    }
    let datas: std::collections::BTreeSet<&str> = agree.iter().map(|&i| all[i].data).collect();
    v.push("- Independence: (a) and (d) both read the weight-change curves, (b) and (c) both read the test-error curves; agreement inside a pair checks the method, agreement across the pairs checks that the weights and the test error cross over at the same T_c(P).".into());
    if !ntk.is_empty() {
        v.push("- (e) reads the NTK-change curves (the kernel on a fixed subset of training points, at the stop): a third observable, the paper's own notion of leaving the kernel regime.".into());
    }
    if agree.len() >= 2 && datas.len() == 1 && !others.is_empty() {
        v.push(format!(
            "- The agreeing estimates all read the {}: they are not independent measurements of T_c.",
            datas.iter().next().copied().unwrap_or_default()
        ));
    }
    // Measured reasons.
    let mut reasons = Vec::new();
    let crosses_data = others.iter().any(|&i| !datas.contains(all[i].data));
    if let (Some(k), true) = (k, crosses_data || agree.len() < 2) {
        if k.ci_low > 0.0 || k.ci_high < 0.0 {
            let implied = joint.map(|j| (j.gamma.value - k.value) / j.delta.value);
            reasons.push(format!(
                "the weight change at the test-error crossover is not the same for every P: ‖w−w₀‖/‖w₀‖ at T_c^(b)(P) ~ P^k with k = {} (excludes 0), so no single weight-change level marks the test-error crossover, and (a) and (d), which measure the weight-change law, cannot agree with (b) and (c){}",
                ci(k),
                implied.map_or(String::new(), |x| format!(
                    "; with it, (gamma - k)/delta = {x:.3} reproduces the test-error exponent"
                ))
            ));
        } else if k.ci_high - k.ci_low > 0.5 {
            reasons.push(format!(
                "the weight change at the test-error crossover against P, k = {}, is too uncertain to say whether the weight-change and test-error methods should agree",
                ci(k)
            ));
        } else {
            reasons.push(format!(
                "the weight change at the test-error crossover does not change with P within its interval (k = {}), so the weight-change and test-error methods should agree; their disagreement is in the methods' resolution",
                ci(k)
            ));
        }
    }
    let spread = |cs: &[TcCurve]| -> Option<(f64, f64, String)> {
        let es: Vec<(&str, Estimate)> = cs
            .iter()
            .filter_map(|c| c.a.map(|e| (c.setting.as_str(), e)))
            .filter(|(_, e)| e.ci_low.is_finite())
            .collect();
        if es.len() < 2 {
            return None;
        }
        let (lo, hi) = es
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), (_, e)| {
                (l.min(e.value), h.max(e.value))
            });
        let intervals: Vec<(f64, f64)> = es.iter().map(|(_, e)| (e.ci_low, e.ci_high)).collect();
        let all_agree = largest_agreeing(&intervals).0.len() == es.len();
        let text = es
            .iter()
            .map(|(s, e)| format!("{:.3} at {s}", e.value))
            .collect::<Vec<_>>()
            .join(", ");
        (!all_agree).then_some((lo, hi, text))
    };
    if let Some((lo, hi, text)) = spread(levels) {
        reasons.push(format!(
            "a of method (a) depends on the level ({text}; {lo:.3} to {hi:.3}, beyond the intervals): the weight-change curves of different P are not parallel power laws over the levels"
        ));
    }
    if let Some((lo, hi, text)) = spread(ntk) {
        reasons.push(format!(
            "a of method (e) depends on the NTK level ({text}; {lo:.3} to {hi:.3}, beyond the intervals): the NTK-change curves of different P are not parallel over the levels"
        ));
    }
    if let Some((lo, hi, text)) = spread(plateau) {
        reasons.push(format!(
            "a of method (b) depends on the criterion ({text}; {lo:.3} to {hi:.3}, beyond the intervals): the test-error curves of different P do not leave their plateaus with the same shape"
        ));
    }
    if let Some(c) = collapse {
        if c.fit.s > 3.0 {
            reasons.push(format!(
                "the normalised test-error curves do not collapse: S = {:.1} at the best a (S near 1 means the curves coincide within their error bars), so no single scaling variable T P^a describes them",
                c.fit.s
            ));
        }
    }
    // Crossovers that sit just below divergence.
    if let Some(a) = levels.first() {
        let mut at_edge = Vec::new();
        for (p, e) in &a.per_p {
            let Some((_, t)) = rwc.iter().find(|(q, _)| q == p) else {
                continue;
            };
            let m = t.means(None);
            let n = m.len();
            let diverges = divergence.iter().any(|(q, _)| q == p);
            if n < 3 || !diverges || !(e.value > m[n - 2].0 && e.value <= m[n - 1].0) {
                continue;
            }
            let slope = |i: usize| (m[i + 1].1 / m[i].1).ln() / (m[i + 1].0 / m[i].0).ln();
            let mut below: Vec<f64> = (0..n - 2).map(slope).filter(|s| s.is_finite()).collect();
            below.sort_by(f64::total_cmp);
            let median = below.get(below.len() / 2).copied().unwrap_or(f64::NAN);
            at_edge.push(format!(
                "{} (local slope of ln ‖w−w₀‖/‖w₀‖ against ln T {:.2} there, median {:.2} below)",
                fmt_num(*p),
                slope(n - 2),
                median
            ));
        }
        if !at_edge.is_empty() {
            reasons.push(format!(
                "the main level of method (a) is reached only in the last octave before divergence at P = {}: the weight change steepens there, which pulls T_c down where it happens (most at the smallest P) and a^(a) at that level below the other levels",
                at_edge.join("; ")
            ));
        }
    }
    if let Some(b) = plateau.first() {
        let mut at_edge = Vec::new();
        for (p, e) in &b.per_p {
            let Some((_, t)) = err.iter().find(|(q, _)| q == p) else {
                continue;
            };
            let m = t.means(None);
            let last = m.last().map_or(f64::NAN, |q| q.0);
            let prev = m.len().checked_sub(2).map_or(f64::NAN, |i| m[i].0);
            let diverges = divergence.iter().any(|(q, _)| q == p);
            if diverges && e.value > prev && e.value <= last {
                at_edge.push(fmt_num(*p));
            }
        }
        if !at_edge.is_empty() {
            reasons.push(format!(
                "at P = {} the test error leaves its plateau only at the last temperature before divergence: T_c^(b) there is bounded by the divergence temperature, not resolved",
                at_edge.join(", ")
            ));
        }
    }
    if n_seeds < RELIABLE_SEEDS {
        reasons.push(format!(
            "only {n_seeds} seeds: the bootstrap intervals are too coarse to be reliable 95% intervals (read them as spreads), so apparent disagreements may be chance"
        ));
    }
    if !others.is_empty() || agree.len() < 2 {
        if reasons.is_empty() {
            v.push("- No measured reason for the disagreement was found by the checks run (weight change at the crossover against P, level and criterion dependence, collapse quality, divergence, number of P and seeds).".into());
        } else {
            v.push("- Measured reasons:".into());
            for r in reasons {
                v.push(format!("  - {r}."));
            }
        }
    } else if !reasons.is_empty() {
        v.push("- Checks:".into());
        for r in reasons {
            v.push(format!("  - {r}."));
        }
    }
    v.push(format!(
        "- At least three estimates agree within their intervals: {}.",
        if three { "yes" } else { "no" }
    ));
    (v, three)
}
