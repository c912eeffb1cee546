//! The (B, eta) plane of the follow-up paper (arXiv:2309.10688, SPEC §11): heatmaps of test
//! error, t* and weight change over batch size and learning rate per P, the three regions
//! (gradient descent, noise-dominated, first large step) located by the rule below, the
//! crossover batch size B* per P with a seed-bootstrap interval, and B* ~ P^gamma against the
//! perceptron's theory gamma = 1/(1+chi).
//!
//! **The rule** (SPEC §11, "The (B, eta) analysis"), per P, on the seed mean O(B, eta) of the
//! *rule observable* (the perceptron's signal w1 - w0_1, the weight along the teacher whose
//! growth the theory predicts; the relative weight change ||w - w0||/||w0|| for other nets),
//! over the cells that enter fits (the censoring rule of [`crate::SeedTable`]: a strict majority
//! of finished seeds; diverged and capped runs never count as finished):
//! * O_GD is O at the finished cell of smallest tau = eta/B (the gradient-descent corner).
//!   A cell is **gradient descent** when O <= [`GD_FACTOR`] x O_GD.
//! * The reference R(tau) is the column of the smallest B (SGD at its noisiest), read at
//!   tau = eta/B by log-log interpolation between its cells. A cell that is not gradient
//!   descent has the ratio r = O / R(eta/B): **noise-dominated** when r < [`RATIO`] (O depends on
//!   T = eta/(B h) only), **first large step** when r >= [`RATIO`]; a cell whose tau lies outside
//!   the reference column is left unresolved.
//! * B*: per B, r(B) is the geometric mean of r over the cells of that column whose reference is
//!   well out of gradient descent (R(tau) >= [`CLEAR_FACTOR`] x O_GD). B* is where r(B) first
//!   reaches [`RATIO`], interpolated linearly in (ln B, ln r) between the grid values around the
//!   crossing. If O is the sum of a noise part c1 T P^gamma and a first-step part c2 eta, r(B) =
//!   1 + c2 B / (c1 P^gamma), so r = 2 is exactly where the two parts are equal, B* = c1 P^gamma /
//!   c2: the batch size above which a single step outweighs what the noise builds up.
//! * gamma: least squares of ln B* on ln P over the P with a B*; the interval resamples seeds
//!   for the whole chain (cells, reference, ratios, B* of every P, the fit).

use super::{
    axis_name, ci_text, drawn_points, law_line, math, obs_name, obs_short, range_of, theory_line,
    Ctx, Drawn, HeatGrid,
};
use crate::fit::{bootstrap, fit_power_law, FitRange, PowerLaw};
use crate::options::{Condition, FitUse};
use crate::plot::{Band, Cell, Heatmap, LinePlot, Pt, Scale, Series};
use crate::{fmt_num, group_by, values_of, Axis, LeftOut, Observable, SeedTable};
use sgdnoise_core::rundir::Summary;
use sgdnoise_core::settings::Arch;

/// A cell is gradient descent when its observable is within this factor of O_GD.
pub const GD_FACTOR: f64 = 2.0;
/// A cell is first-large-step when its observable is this many times what T alone predicts;
/// B* is where the column's ratio reaches it.
pub const RATIO: f64 = 2.0;
/// Cells enter B* only where the reference is this many times O_GD (well out of gradient
/// descent, so that the gradient-descent part of O does not dilute the ratio).
pub const CLEAR_FACTOR: f64 = 4.0;

/// The region of one (B, eta) cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    /// No finished majority, or tau outside the reference column.
    Unresolved,
    GradientDescent,
    NoiseDominated,
    FirstStep,
}

impl Region {
    fn code(self) -> Option<f64> {
        match self {
            Region::Unresolved => None,
            Region::GradientDescent => Some(1.0),
            Region::NoiseDominated => Some(2.0),
            Region::FirstStep => Some(3.0),
        }
    }
    fn name(self) -> &'static str {
        match self {
            Region::Unresolved => "unresolved",
            Region::GradientDescent => "gradient_descent",
            Region::NoiseDominated => "noise_dominated",
            Region::FirstStep => "first_step",
        }
    }
}

/// The columns of one P: (B, seed table of the rule observable against eta), B ascending.
type Columns = Vec<(f64, SeedTable)>;

/// One resolved cell of the rule.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RuleCell {
    pub(crate) batch: f64,
    pub(crate) lr: f64,
    pub(crate) value: f64,
    pub(crate) reference: f64,
    pub(crate) ratio: f64,
    pub(crate) region: Region,
}

/// The rule on one resample: every cell's region, r(B) per column, and B*.
#[derive(Clone, Debug, Default)]
pub(crate) struct RuleResult {
    pub(crate) o_gd: f64,
    pub(crate) cells: Vec<RuleCell>,
    /// (B, r(B)) for the columns with cells well out of gradient descent.
    pub(crate) ratios: Vec<(f64, f64)>,
    pub(crate) b_star: Option<f64>,
    /// Why there is no B* (when there is none).
    pub(crate) why_none: &'static str,
}

/// Log-log interpolation of the points `ref_pts` (x ascending) at x; None outside their range.
fn interp_loglog(pts: &[(f64, f64)], x: f64) -> Option<f64> {
    let l = x.ln();
    let eps = 1e-9;
    let first = pts.first()?;
    let last = pts.last()?;
    if l < first.0.ln() - eps || l > last.0.ln() + eps {
        return None;
    }
    for w in pts.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        if l <= x1.ln() + eps {
            let f = ((l - x0.ln()) / (x1.ln() - x0.ln())).clamp(0.0, 1.0);
            return Some((y0.ln() + f * (y1.ln() - y0.ln())).exp());
        }
    }
    (pts.len() == 1 && (l - first.0.ln()).abs() <= eps).then_some(first.1)
}

/// The rule of the module doc on the seed resample `w` (None: all seeds once).
pub(crate) fn rule(cols: &Columns, w: Option<&[u32]>) -> RuleResult {
    let mut res = RuleResult {
        why_none: "no finished cell",
        ..Default::default()
    };
    // Seed means of every cell that enters fits, as (B, eta, O) with O > 0.
    let means: Vec<(f64, Vec<(f64, f64)>)> = cols
        .iter()
        .map(|(b, t)| {
            (
                *b,
                t.means(w).into_iter().filter(|(_, y)| *y > 0.0).collect(),
            )
        })
        .collect();
    let Some(o_gd) = means
        .iter()
        .flat_map(|(b, m)| m.iter().map(move |(lr, y)| (lr / b, *y)))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, y)| y)
    else {
        return res;
    };
    res.o_gd = o_gd;
    let Some((b_min, ref_col)) = means.first().filter(|(_, m)| m.len() >= 2) else {
        res.why_none = "the smallest B has fewer than two finished cells";
        return res;
    };
    let reference: Vec<(f64, f64)> = ref_col.iter().map(|(lr, y)| (lr / b_min, *y)).collect();
    for (b, m) in &means {
        let mut logs = Vec::new();
        for &(lr, y) in m {
            let r_tau = interp_loglog(&reference, lr / b);
            let (reference, ratio) = match r_tau {
                Some(r) => (r, y / r),
                None => (f64::NAN, f64::NAN),
            };
            let region = if y <= GD_FACTOR * o_gd {
                Region::GradientDescent
            } else if !ratio.is_finite() {
                Region::Unresolved
            } else if ratio < RATIO {
                Region::NoiseDominated
            } else {
                Region::FirstStep
            };
            if reference >= CLEAR_FACTOR * o_gd && ratio > 0.0 {
                logs.push(ratio.ln());
            }
            res.cells.push(RuleCell {
                batch: *b,
                lr,
                value: y,
                reference,
                ratio,
                region,
            });
        }
        if !logs.is_empty() {
            let g = (logs.iter().sum::<f64>() / logs.len() as f64).exp();
            res.ratios.push((*b, g));
        }
    }
    res.why_none = if res.ratios.len() < 2 {
        "fewer than two B with cells well out of gradient descent"
    } else {
        "r(B) stays below 2 up to the largest B (B* beyond the grid)"
    };
    let target = RATIO.ln();
    for pair in res.ratios.windows(2) {
        let ((b0, r0), (b1, r1)) = (pair[0], pair[1]);
        if r0.ln() < target && r1.ln() >= target {
            let f = (target - r0.ln()) / (r1.ln() - r0.ln());
            res.b_star = Some((b0.ln() + f * (b1.ln() - b0.ln())).exp());
            break;
        }
        if r0.ln() >= target {
            // Already above at the first column: B* below the grid.
            res.why_none = "r(B) is above 2 already at the second B (B* below the grid)";
            break;
        }
    }
    res
}

/// B* of one P as the rule reads it (what an adaptive search for B* decides on).
#[derive(Clone, Debug, PartialEq)]
pub struct BStar {
    /// Where r(B) first reaches [`RATIO`] (None: `why_none`).
    pub b_star: Option<f64>,
    /// (B, r(B)) of the columns with cells well out of gradient descent, B ascending.
    pub ratios: Vec<(f64, f64)>,
    /// Why there is no B* (when there is none).
    pub why_none: &'static str,
}

/// The rule of the module doc on the columns of one P, `columns` the runs of each batch size
/// (any order; every lr and seed of the column), with `seeds` the seed list: the same
/// observable, tables and rule as the (B, eta) analysis, on all seeds once.
pub fn b_star_of_columns(columns: &[(f64, Vec<&Summary>)], seeds: &[i64]) -> BStar {
    let all: Vec<&Summary> = columns
        .iter()
        .flat_map(|(_, g)| g.iter().copied())
        .collect();
    let obs = rule_observable(&all);
    let mut cols: Columns = columns
        .iter()
        .map(|(b, g)| (*b, SeedTable::new(g, Axis::Lr, obs, seeds)))
        .collect();
    cols.sort_by(|a, b| a.0.total_cmp(&b.0));
    let r = rule(&cols, None);
    BStar {
        b_star: r.b_star,
        ratios: r.ratios,
        why_none: r.why_none,
    }
}

/// The observable the rule reads: the perceptron's signal, else the relative weight change.
fn rule_observable(runs: &[&Summary]) -> Observable {
    if runs.iter().all(|s| s.signal.is_some()) {
        Observable::Signal
    } else {
        Observable::RelWeightChange
    }
}

/// "chi=1" for perceptron runs, "all" otherwise: the condition of a chi group.
fn chi_condition(linear: bool, chi: f64) -> Condition {
    if linear {
        super::cond_of(Axis::Chi, chi)
    } else {
        "all".into()
    }
}

/// The (B, eta) analysis: per chi (perceptron) and P, heatmaps and regions; B* per P; gamma.
pub(crate) fn batch(ctx: &mut Ctx, runs: &[&Summary]) -> Result<(), sgdnoise_core::Error> {
    let linear = runs.iter().all(|s| s.config.arch == Some(Arch::Linear));
    let by_chi = group_by(runs, Axis::Chi);
    let several_chi = by_chi.len() > 1;
    for (chi, group) in &by_chi {
        let cond = chi_condition(linear, *chi);
        let prefix = if several_chi {
            format!("batch_chi{}", fmt_num(*chi))
        } else {
            "batch".to_string()
        };
        let theory = linear.then(|| 1.0 / (1.0 + chi));
        one_chi(ctx, group, &cond, &prefix, theory)?;
    }
    Ok(())
}

fn one_chi(
    ctx: &mut Ctx,
    runs: &[&Summary],
    condition: &Condition,
    prefix: &str,
    theory: Option<f64>,
) -> Result<(), sgdnoise_core::Error> {
    let cond = condition.label.as_str();
    let obs = rule_observable(runs);
    let by_p = group_by(runs, Axis::Ptr);
    let mut per_p: Vec<(f64, Columns)> = Vec::new();
    let mut ratio_curves: Vec<(f64, Vec<(f64, f64)>)> = Vec::new();
    let mut b_star_rows: Vec<(f64, crate::fit::Estimate)> = Vec::new();
    let mut missing: Vec<(f64, &'static str)> = Vec::new();
    let mut region_rows: Vec<[String; 9]> = Vec::new();
    for (p, group) in &by_p {
        let batches = values_of(group, Axis::Batch);
        let lrs = values_of(group, Axis::Lr);
        let by_b = group_by(group, Axis::Batch);
        let pcond = Condition {
            label: format!("{cond}, P={}", fmt_num(*p)),
            conds: condition.conds.clone().num("ptr", *p),
        };
        let stem_p = format!("{prefix}_P{}", fmt_num(*p));
        // Heatmaps of the observables.
        for o in [
            Observable::TestErr,
            Observable::TStar,
            Observable::RelWeightChange,
        ] {
            let log = o != Observable::TestErr;
            let mut grid = HeatGrid::new(&batches, &lrs);
            let mut rows = Vec::new();
            for (b, g) in &by_b {
                let t = ctx.table(g, Axis::Lr, o);
                for d in drawn_points(&t, log) {
                    grid.set_drawn(*b, &d);
                    rows.push((*b, d));
                }
            }
            let stem = format!("{stem_p}_{}", o.name());
            // No series: the batch size (the heatmap's horizontal axis) first, then lr.
            let keyed: Vec<(Condition, &Drawn)> = rows
                .iter()
                .map(|(b, d)| (crate::options::Conds::new().num("batch", *b).into(), d))
                .collect();
            ctx.write_points(&stem, None, "lr", &keyed)?;
            let h = Heatmap {
                title: format!("{} over (B, η), {}", obs_short(o), math(Axis::Ptr, *p)),
                subtitle: format!(
                    "cells: {} over seeds · {}{}",
                    if log { "geometric mean" } else { "mean" },
                    ctx.seeds_note(),
                    grid.not_run_note()
                ),
                x_label: axis_name(Axis::Batch).into(),
                y_label: axis_name(Axis::Lr).into(),
                xs: grid.xs,
                ys: grid.ys,
                cells: grid.cells,
                value_label: obs_name(o).into(),
                log_values: log,
                markers: Vec::new(),
                marker_label: String::new(),
                empty_label: "no finished run".into(),
                categories: Vec::new(),
            };
            ctx.save_heatmap(&stem, &h)?;
        }
        // The rule, its regions and B*.
        let cols: Columns = by_b
            .iter()
            .map(|(b, g)| (*b, ctx.table(g, Axis::Lr, obs)))
            .collect();
        let all = rule(&cols, None);
        for c in &all.cells {
            region_rows.push([
                fmt_num(*p),
                super::num(c.batch),
                super::num(c.lr),
                super::num(c.lr / c.batch),
                super::num(c.value),
                super::num(c.reference),
                super::num(c.ratio),
                super::num(all.o_gd),
                c.region.name().to_string(),
            ]);
        }
        // Cells with runs start unresolved; the rule names the region of those it resolves.
        let mut grid = HeatGrid::new(&batches, &lrs);
        for (b, t) in &cols {
            for q in t.points() {
                grid.set(*b, q.x, Cell::Missing);
            }
        }
        for c in &all.cells {
            if let Some(code) = c.region.code() {
                grid.set(c.batch, c.lr, Cell::Value(code));
            }
        }
        let mut usage = FitUse {
            n_points: all.ratios.len(),
            n_seeds: ctx.seeds.len(),
            n_seeds_min: SeedTable::fewest_of(cols.iter().map(|(_, t)| t)),
            ..Default::default()
        };
        for (_, t) in &cols {
            t.count_left_out(&mut usage.left_out);
        }
        let e = bootstrap(
            ctx.seeds.len(),
            &|w| rule(&cols, w).b_star,
            &ctx.opts.bootstrap,
        );
        let markers = match (all.b_star, lrs.first(), lrs.last()) {
            (Some(b), Some(l0), Some(l1)) => vec![(b, *l0), (b, *l1)],
            _ => Vec::new(),
        };
        let stem = format!("{stem_p}_regions");
        let h = Heatmap {
            title: format!("Regions of the (B, η) plane, {}", math(Axis::Ptr, *p)),
            subtitle: format!(
                "region of each cell by the rule of SPEC §11 on the {} · {}{}",
                obs.name(),
                ctx.seeds_note(),
                grid.not_run_note()
            ),
            x_label: axis_name(Axis::Batch).into(),
            y_label: axis_name(Axis::Lr).into(),
            xs: grid.xs,
            ys: grid.ys,
            cells: grid.cells,
            value_label: "region".into(),
            log_values: false,
            markers,
            marker_label: "B* (ratio to the T-only value reaches 2)".into(),
            empty_label: "unresolved, or no finished majority".into(),
            categories: vec![
                "gradient descent".into(),
                "noise-dominated".into(),
                "first large step".into(),
            ],
        };
        ctx.save_heatmap(&stem, &h)?;
        match (all.b_star, e) {
            (Some(_), Some(e)) => {
                let method = format!(
                    "B* where r(B) = geometric mean over a column of O/R(eta/B) first reaches {RATIO}, O the seed mean of {} per (B, eta) cell, R the smallest-B column read at the same eta/B, over cells with R >= {CLEAR_FACTOR} O_GD (O_GD: O at the smallest eta/B); interpolated in (ln B, ln r); {}",
                    obs.name(),
                    ctx.opts.bootstrap.describe()
                );
                ctx.row(
                    &format!("{prefix}_B_star_vs_P"),
                    "B_star",
                    "P",
                    &pcond,
                    e,
                    None,
                    method,
                    &usage,
                );
                b_star_rows.push((*p, e));
            }
            _ => missing.push((*p, all.why_none)),
        }
        ratio_curves.push((*p, all.ratios.clone()));
        per_p.push((*p, cols));
    }
    write_regions(ctx, prefix, &region_rows)?;
    // r(B) per P: the curves B* is read from.
    let mut rp = LinePlot::new(
        &format!("Ratio to the T-only value against B ({cond})"),
        axis_name(Axis::Batch),
        &format!(
            "r(B): {} over its value at the same T and the smallest B",
            obs.name()
        ),
        Scale::Log2,
        Scale::Log2,
    );
    rp.subtitle = format!(
        "geometric mean over the cells of a column out of gradient descent; B* where r = {RATIO} · {}",
        ctx.seeds_note()
    );
    for (p, pts) in &ratio_curves {
        rp.series.push(Series {
            label: math(Axis::Ptr, *p),
            points: pts
                .iter()
                .map(|(b, r)| Pt {
                    x: *b,
                    y: *r,
                    lo: f64::NAN,
                    hi: f64::NAN,
                })
                .collect(),
            ..Default::default()
        });
    }
    rp.hlines.push((RATIO, format!("r = {RATIO}")));
    ctx.save_plot(&format!("{prefix}_ratio_vs_B"), &rp)?;
    // B* ~ P^gamma.
    let stem = format!("{prefix}_B_star_vs_P");
    let mut bp = LinePlot::new(
        &format!("Crossover batch size B* against P ({cond})"),
        axis_name(Axis::Ptr),
        "crossover batch size B*",
        Scale::Log2,
        Scale::Log2,
    );
    bp.subtitle = format!("bars: 95% bootstrap CI over seeds · {}", ctx.seeds_note());
    bp.series.push(super::estimate_series("B*", &b_star_rows));
    let stars = |w: Option<&[u32]>| -> Vec<(f64, f64)> {
        per_p
            .iter()
            .filter_map(|(p, cols)| rule(cols, w).b_star.map(|b| (*p, b)))
            .collect()
    };
    let law: Option<PowerLaw> = fit_power_law(&stars(None), FitRange::ALL);
    if let Some(law) = law {
        if let Some(e) = bootstrap(
            ctx.seeds.len(),
            &|w| fit_power_law(&stars(w), FitRange::ALL).map(|f| f.exponent),
            &ctx.opts.bootstrap,
        ) {
            let mut left = LeftOut::default();
            for (_, why) in &missing {
                left.add(&format!("P without B* ({why})"));
            }
            let usage = FitUse {
                n_points: b_star_rows.len(),
                n_seeds: ctx.seeds.len(),
                left_out: left,
                n_seeds_min: SeedTable::fewest_of(
                    per_p
                        .iter()
                        .flat_map(|(_, cols)| cols.iter().map(|(_, t)| t)),
                ),
            };
            let method = format!(
                "gamma in B* ~ P^gamma, least squares of ln B* on ln P over the P with a B* (points: P values); B* per P by the (B, eta) region rule of SPEC §11 on {}; the bootstrap resamples seeds for the whole chain; {}",
                obs.name(),
                ctx.opts.bootstrap.describe()
            );
            ctx.row(&stem, "B_star", "P", condition, e, theory, method, &usage);
            ctx.notes.push(format!(
                "B* ~ P^gamma ({cond}): gamma = {}{} over {} P",
                ci_text(&e),
                theory.map_or(String::new(), |t| format!(" (theory 1/(1+chi) = {t:.3})")),
                b_star_rows.len()
            ));
            let xs: Vec<f64> = stars(None).iter().map(|v| v.0).collect();
            let (x0, x1) = range_of(&xs);
            bp.lines.push(law_line(
                format!("fit: B* ∝ P^{{γ}}, γ = {}", ci_text(&e)),
                &law,
                x0,
                x1,
                Some(0),
            ));
            let band = ctx.law_band(&|w| fit_power_law(&stars(w), FitRange::ALL), x0, x1);
            bp.bands
                .push(Band::between("95% CI of the fit".into(), Some(0), &band));
            if let Some(g) = theory {
                let xm = (x0 * x1).sqrt();
                bp.lines.push(theory_line(
                    format!("theory: γ = 1/(1+χ) = {g:.3}"),
                    g,
                    (xm, law.eval(xm)),
                    x0,
                    x1,
                ));
            }
        }
    }
    for (p, why) in &missing {
        ctx.notes
            .push(format!("no B* at {cond}, P = {}: {why}", fmt_num(*p)));
    }
    if obs == Observable::Signal {
        // A check: the same rule on the relative weight change, the observable of other nets.
        let rwc: Vec<(f64, Columns)> = by_p
            .iter()
            .map(|(p, g)| {
                let cols = group_by(g, Axis::Batch)
                    .iter()
                    .map(|(b, gb)| (*b, ctx.table(gb, Axis::Lr, Observable::RelWeightChange)))
                    .collect();
                (*p, cols)
            })
            .collect();
        let stars = |w: Option<&[u32]>| -> Vec<(f64, f64)> {
            rwc.iter()
                .filter_map(|(p, cols)| rule(cols, w).b_star.map(|b| (*p, b)))
                .collect()
        };
        let n_with = stars(None).len();
        if let Some(e) = bootstrap(
            ctx.seeds.len(),
            &|w| fit_power_law(&stars(w), FitRange::ALL).map(|f| f.exponent),
            &ctx.opts.bootstrap,
        ) {
            let mut usage = FitUse {
                n_points: n_with,
                n_seeds: ctx.seeds.len(),
                n_seeds_min: SeedTable::fewest_of(
                    rwc.iter().flat_map(|(_, cols)| cols.iter().map(|(_, t)| t)),
                ),
                ..Default::default()
            };
            usage
                .left_out
                .add_n("P without B*", rwc.len().saturating_sub(n_with));
            let method = format!(
                "a check of the main row: gamma in B* ~ P^gamma with B* by the same rule on rel_weight_change instead of the signal; {}",
                ctx.opts.bootstrap.describe()
            );
            ctx.row(
                &stem,
                "B_star (rel_weight_change)",
                "P",
                condition,
                e,
                theory,
                method,
                &usage,
            );
            ctx.notes.push(format!(
                "check: the same rule on rel_weight_change gives gamma = {} over {n_with} P",
                ci_text(&e)
            ));
        }
    }
    let n = ctx.seeds.len();
    let csv: Vec<(String, Vec<Drawn>)> = vec![(
        "B_star".into(),
        b_star_rows
            .iter()
            .map(|(p, e)| Drawn::estimate(*p, e, n))
            .collect(),
    )];
    ctx.write_curves(&stem, "P", &csv)?;
    ctx.save_plot(&stem, &bp)?;
    Ok(())
}

/// `PREFIX_regions.csv`: every resolved cell of every P with its rule numbers and region.
fn write_regions(
    ctx: &mut Ctx,
    prefix: &str,
    rows: &[[String; 9]],
) -> Result<(), sgdnoise_core::Error> {
    let path = ctx.out.join(format!("{prefix}_regions.csv"));
    let mut w = csv::Writer::from_path(&path).map_err(|e| super::csv_err(&path, e))?;
    w.write_record([
        "P",
        "B",
        "lr",
        "lr_over_B",
        "value",
        "reference",
        "ratio",
        "o_gd",
        "region",
    ])
    .map_err(|e| super::csv_err(&path, e))?;
    for r in rows {
        w.write_record(r).map_err(|e| super::csv_err(&path, e))?;
    }
    w.flush().map_err(|e| sgdnoise_core::Error::io(&path, e))?;
    ctx.files.push(path);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::figures::testing::{find, tmp};
    use crate::fit::BootstrapOptions;
    use crate::report::{analyze, AnalysisOptions};
    use crate::seeds::testing::summary;
    use crate::Kind;
    use sgdnoise_core::train::StopReason;

    /// A perceptron run at (P, B, eta) whose signal follows the two-part law of the module doc,
    /// O = g + c1 (eta/B) P^gamma + c2 eta, with a seed-dependent factor of ±4 %.
    fn run(p: usize, b: usize, lr: f64, seed: i64, gamma: f64) -> Summary {
        let (g, c1, c2) = (0.1, 1.0, 0.1);
        let tau = lr / b as f64;
        let o =
            (g + c1 * tau * (p as f64).powf(gamma) + c2 * lr) * (1.0 + 0.02 * (seed - 2) as f64);
        let mut s = summary("linear", p, tau, 128.0, seed, 0.01, 0.01 * o, lr);
        s.config.batch = Some(b);
        s.config.chi = Some(1.0);
        s.lr = lr;
        s.signal = Some(o);
        s.id = format!("{p}-{b}-{lr}-{seed}");
        s
    }

    fn grid(gamma: f64) -> Vec<Summary> {
        let mut runs = Vec::new();
        for p in [256usize, 1024, 4096] {
            for kb in 0..=12 {
                for kl in -4..=10 {
                    for seed in 0..5 {
                        runs.push(run(p, 1 << kb, 2f64.powi(kl), seed, gamma));
                    }
                }
            }
        }
        runs
    }

    fn opts() -> AnalysisOptions {
        AnalysisOptions {
            bootstrap: BootstrapOptions {
                resamples: 100,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn b_star_recovers_the_crossover_of_a_two_part_law() {
        let runs = grid(0.5);
        assert_eq!(Kind::detect(&runs), Kind::Batch);
        let out = tmp("batch");
        let a = analyze(&runs, Kind::Batch, &opts(), &out).unwrap();
        // B* = c1 P^gamma / c2 = 10 sqrt(P), up to the small share of g in the ratio.
        for p in [256.0f64, 1024.0, 4096.0] {
            let r = find(&a.fits, "B_star", &format!("chi=1, P={p}"));
            let expect = 10.0 * p.sqrt();
            assert!(
                (r.value / expect - 1.0).abs() < 0.1,
                "{r:?} against {expect}"
            );
            assert_eq!((r.against.as_str(), r.theory), ("P", None));
        }
        let g = find(&a.fits, "B_star", "chi=1");
        assert_eq!((g.against.as_str(), g.theory), ("P", Some(0.5)));
        assert!((g.value - 0.5).abs() < 0.02, "{g:?}");
        assert!(g.ci_low <= g.value && g.value <= g.ci_high, "{g:?}");
        assert_eq!((g.n_points, g.n_seeds), (3, 5));
        for f in [
            "batch_P1024_test_err.png",
            "batch_P1024_t_star.png",
            "batch_P1024_rel_weight_change.png",
            "batch_P1024_regions.png",
            "batch_regions.csv",
            "batch_B_star_vs_P.png",
            "batch_ratio_vs_B.png",
        ] {
            assert!(out.join(f).is_file(), "{f}");
        }
        // The three regions are found: GD at small eta/B, noise at small B, first step at
        // large B and eta.
        let regions = std::fs::read_to_string(out.join("batch_regions.csv")).unwrap();
        for r in ["gradient_descent", "noise_dominated", "first_step"] {
            assert!(regions.contains(r), "{r}");
        }
        // gamma follows the law: at gamma = 1/4 the fit moves with it.
        let a = analyze(&grid(0.25), Kind::Batch, &opts(), &out).unwrap();
        let g = find(&a.fits, "B_star", "chi=1");
        assert!((g.value - 0.25).abs() < 0.03, "{g:?}");
        if std::env::var_os("SGDNOISE_KEEP_PLOTS").is_none() {
            let _ = std::fs::remove_dir_all(&out);
        }
    }

    /// The censoring rule holds in the (B, eta) analysis: cells where most seeds diverged or
    /// were stopped by a cap never enter the rule, whatever value their runs carry.
    #[test]
    fn diverged_and_capped_cells_never_enter_b_star() {
        let clean = grid(0.5);
        let cols_of = |runs: &[Summary]| -> Columns {
            let refs: Vec<&Summary> = runs.iter().filter(|s| s.ptr == 1024).collect();
            group_by(&refs, Axis::Batch)
                .into_iter()
                .map(|(b, g)| {
                    (
                        b,
                        SeedTable::new(&g, Axis::Lr, Observable::Signal, &[0, 1, 2, 3, 4]),
                    )
                })
                .collect()
        };
        let base = rule(&cols_of(&clean), None).b_star.unwrap();
        // At B = 32 (below B* = 320), 3 of 5 seeds of every cell diverge or hit a cap with a
        // huge value: were they averaged, r(32) would pass 2 and B* would drop to about 32.
        let mut bad = clean.clone();
        for s in bad
            .iter_mut()
            .filter(|s| s.ptr == 1024 && s.config.batch == Some(32))
        {
            if s.config.seed_init.unwrap() < 3 {
                s.signal = Some(1e9);
                s.stop_reason = if s.lr > 1.0 {
                    StopReason::Diverged
                } else {
                    StopReason::MaxSteps
                };
            }
        }
        let r = rule(&cols_of(&bad), None);
        assert!(
            r.cells.iter().all(|c| c.batch != 32.0),
            "censored cells were used"
        );
        assert_eq!(r.b_star, Some(base));
        // One capped seed of five: the cell enters with its four finished seeds only.
        let mut one = clean.clone();
        for s in one
            .iter_mut()
            .filter(|s| s.ptr == 1024 && s.config.batch == Some(32))
        {
            if s.config.seed_init == Some(0) {
                s.signal = Some(1e9);
                s.stop_reason = StopReason::MaxWall;
            }
        }
        let r = rule(&cols_of(&one), None);
        assert!(r.cells.iter().any(|c| c.batch == 32.0));
        assert!(r.cells.iter().all(|c| c.value < 1e8));
    }

    #[test]
    fn no_crossover_in_the_grid_gives_no_b_star_and_says_why() {
        // Only B <= 64 at P = 4096 (B* = 640): r(B) stays below 2.
        let runs: Vec<Summary> = grid(0.5)
            .into_iter()
            .filter(|s| s.ptr == 4096 && s.config.batch.unwrap() <= 64)
            .collect();
        let refs: Vec<&Summary> = runs.iter().collect();
        let cols: Columns = group_by(&refs, Axis::Batch)
            .into_iter()
            .map(|(b, g)| {
                (
                    b,
                    SeedTable::new(&g, Axis::Lr, Observable::Signal, &[0, 1, 2, 3, 4]),
                )
            })
            .collect();
        let r = rule(&cols, None);
        assert_eq!(r.b_star, None);
        assert!(r.why_none.contains("beyond the grid"), "{}", r.why_none);
        assert_eq!(interp_loglog(&[(1.0, 1.0), (4.0, 16.0)], 2.0), Some(4.0));
        assert_eq!(interp_loglog(&[(1.0, 1.0), (4.0, 16.0)], 8.0), None);
    }
}
