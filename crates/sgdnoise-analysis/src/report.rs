//! From a store's finished runs to figures (SVG + PNG), the numbers behind each figure (CSV),
//! every fitted number (`fits.csv`) and a short `report.md`.
//!
//! Curves show the seed mean with error bars of ±1 standard deviation over seeds; points where
//! most seeds diverged are marked × on curves and hatched grey on heatmaps. Each figure `F` has
//! `F.svg`, `F.png` and `F.csv` (columns: series, x, mean, sd, sem, n, n_runs, n_diverged,
//! n_capped; heatmaps: alpha, T, ...). `fits.csv` has the columns
//! `figure, quantity, against, condition, value, ci_low, ci_high, theory, method`.

use crate::crossover::{
    optimal_temperature, Collapse, PlateauExit, ThresholdCrossing, OPTIMAL_TEMPERATURE_METHOD,
};
use crate::fit::{
    bootstrap, bootstrap_many, fit_power_law, fit_power_law_2, BootstrapOptions, Estimate, FitRange,
};
use crate::plot::{self, Cell, Heatmap, LegendAt, Line, LinePlot, Pt, Scale, Series};
use crate::{
    fmt_num, group_by, seeds_of, select, values_of, Axis, CurvePoint, Observable, SeedTable,
};
use sgdnoise_campaign::presets::Kind;
use sgdnoise_core::rundir::Summary;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Settings of the analysis (each is written into the method column of the numbers it made).
#[derive(Clone, Debug)]
pub struct AnalysisOptions {
    pub bootstrap: BootstrapOptions,
    /// Method (a) threshold on the relative weight change; None: the geometric midpoint of the
    /// smallest and largest seed-mean weight change of the sweep.
    pub rwc_threshold: Option<f64>,
    pub plateau: PlateauExit,
    pub collapse: Collapse,
    /// Perceptron: the weight-change and t* fits use T ≥ `high_t_factor` / alpha.
    pub high_t_factor: f64,
    /// Phase diagram: T_opt ~ alpha^k is fitted over alpha ≤ this (the feature regime).
    pub feature_alpha_max: f64,
    /// Phase diagram: the vertical axis of the heatmaps, `Axis::Temp` or `Axis::Lr`.
    pub phase_y: Axis,
    /// Where the runs came from (e.g. the command), quoted at the top of report.md.
    pub source: String,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            bootstrap: BootstrapOptions::default(),
            rwc_threshold: None,
            plateau: PlateauExit::default(),
            collapse: Collapse::default(),
            high_t_factor: 16.0,
            feature_alpha_max: 1.0,
            phase_y: Axis::Temp,
            source: String::new(),
        }
    }
}

/// One fitted number (a row of fits.csv).
#[derive(Clone, Debug, PartialEq)]
pub struct FitRow {
    pub figure: String,
    pub quantity: String,
    pub against: String,
    pub condition: String,
    pub value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub theory: Option<f64>,
    pub method: String,
}

/// What [`analyze`] produced.
#[derive(Clone, Debug)]
pub struct Analysis {
    pub kind: Kind,
    pub fits: Vec<FitRow>,
    /// Every file written (figures, CSVs, fits.csv, report.md).
    pub files: Vec<PathBuf>,
    /// The text of report.md.
    pub report: String,
}

struct Ctx<'a> {
    out: &'a Path,
    opts: &'a AnalysisOptions,
    seeds: Vec<i64>,
    fits: Vec<FitRow>,
    files: Vec<PathBuf>,
    /// Lines of the report's "Results" section.
    notes: Vec<String>,
}

fn csv_err(path: &Path, e: csv::Error) -> sgdnoise_core::Error {
    sgdnoise_core::Error::Other(format!("writing {}: {e}", path.display()))
}

fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.6e}")
    } else {
        String::new()
    }
}

impl Ctx<'_> {
    fn table(&self, runs: &[&Summary], x: Axis, obs: Observable) -> SeedTable {
        SeedTable::new(runs, x, obs, &self.seeds)
    }

    fn save_plot(&mut self, stem: &str, p: &LinePlot) -> Result<(), sgdnoise_core::Error> {
        self.files.extend(p.save(&self.out.join(stem))?);
        Ok(())
    }

    /// Writes `stem.csv` with one block of rows per curve.
    fn write_curves(
        &mut self,
        stem: &str,
        x_name: &str,
        curves: &[(String, Vec<CurvePoint>)],
    ) -> Result<(), sgdnoise_core::Error> {
        let path = self.out.join(format!("{stem}.csv"));
        let mut w = csv::Writer::from_path(&path).map_err(|e| csv_err(&path, e))?;
        w.write_record([
            "series",
            x_name,
            "mean",
            "sd",
            "sem",
            "n",
            "n_runs",
            "n_diverged",
            "n_capped",
        ])
        .map_err(|e| csv_err(&path, e))?;
        for (label, pts) in curves {
            for p in pts {
                w.write_record([
                    label.clone(),
                    num(p.x),
                    num(p.mean),
                    num(p.sd),
                    num(p.sem),
                    p.n.to_string(),
                    p.n_runs.to_string(),
                    p.n_diverged.to_string(),
                    p.n_capped.to_string(),
                ])
                .map_err(|e| csv_err(&path, e))?;
            }
        }
        w.flush().map_err(|e| sgdnoise_core::Error::io(&path, e))?;
        self.files.push(path);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn row(
        &mut self,
        figure: &str,
        quantity: &str,
        against: &str,
        condition: &str,
        e: Estimate,
        theory: Option<f64>,
        method: String,
    ) {
        self.fits.push(FitRow {
            figure: figure.into(),
            quantity: quantity.into(),
            against: against.into(),
            condition: condition.into(),
            value: e.value,
            ci_low: e.ci_low,
            ci_high: e.ci_high,
            theory,
            method,
        });
    }

    /// Fits quantity ~ x^e on a seed table, bootstraps e, records the row. Returns the estimate
    /// and the fitted law (for drawing).
    #[allow(clippy::too_many_arguments)]
    fn power_fit(
        &mut self,
        figure: &str,
        quantity: &str,
        against: Axis,
        condition: &str,
        table: &SeedTable,
        range: FitRange,
        theory: Option<f64>,
    ) -> Option<(Estimate, crate::fit::PowerLaw)> {
        let law = fit_power_law(&table.means(None), range)?;
        let e = bootstrap(
            table.seeds.len(),
            &|w| fit_power_law(&table.means(w), range).map(|f| f.exponent),
            &self.opts.bootstrap,
        )?;
        // The range actually covered by the points used.
        let used: Vec<f64> = table
            .means(None)
            .into_iter()
            .filter(|(x, y)| *x > 0.0 && *y > 0.0 && range.contains(*x))
            .map(|p| p.0)
            .collect();
        let (u0, u1) = range_of(&used);
        let method = format!(
            "exponent of {quantity} ~ {}^e: least squares of ln(seed mean) on ln {} over {} in {} ({} points); {}",
            against.symbol(),
            against.symbol(),
            against.symbol(),
            FitRange::new(u0, u1).describe(),
            law.n,
            self.opts.bootstrap.describe()
        );
        self.row(
            figure,
            quantity,
            against.symbol(),
            condition,
            e,
            theory,
            method,
        );
        Some((e, law))
    }

    /// Joint fit y ~ T^e1 P^e2 over the curves (P, table of y against T), T in `range`.
    /// Returns estimates of [e1, e2, e2/e1].
    fn joint_fit(
        &self,
        curves: &[(f64, SeedTable)],
        range: FitRange,
    ) -> Option<(Vec<Estimate>, f64)> {
        let pts = |w: Option<&[u32]>| -> Vec<(f64, f64, f64)> {
            curves
                .iter()
                .flat_map(|(p, t)| {
                    t.means(w)
                        .into_iter()
                        .filter(|(x, _)| range.contains(*x))
                        .map(move |(x, y)| (x, *p, y))
                })
                .collect()
        };
        let (c, _, _) = fit_power_law_2(&pts(None))?;
        let est = bootstrap_many(
            self.seeds.len(),
            3,
            &|w| {
                let (_, e1, e2) = fit_power_law_2(&pts(w))?;
                Some(vec![e1, e2, e2 / e1])
            },
            &self.opts.bootstrap,
        )?;
        Some((est, c))
    }
}

fn series_of(label: String, pts: &[CurvePoint]) -> Series {
    Series {
        label,
        points: pts
            .iter()
            .filter(|p| p.n > 0 && !p.is_diverged())
            .map(|p| Pt {
                x: p.x,
                y: p.mean,
                lo: if p.n > 1 { p.mean - p.sd } else { f64::NAN },
                hi: if p.n > 1 { p.mean + p.sd } else { f64::NAN },
            })
            .collect(),
        diverged: pts
            .iter()
            .filter(|p| p.is_diverged())
            .map(|p| p.x)
            .collect(),
    }
}

/// A dashed line of a power law between x0 and x1.
fn law_line(
    label: String,
    law: &crate::fit::PowerLaw,
    x0: f64,
    x1: f64,
    color: Option<usize>,
) -> Line {
    Line {
        label,
        from: (x0, law.eval(x0)),
        to: (x1, law.eval(x1)),
        color,
    }
}

/// The dashed lines of a joint fit q = c T^t_exp P^p_exp, one per curve (P value), from T = t0 to
/// t1, labelled once.
fn joint_fit_lines(
    tables: &[(f64, SeedTable)],
    c: f64,
    t_exp: f64,
    p_exp: f64,
    t0: f64,
    t1: f64,
) -> Vec<Line> {
    tables
        .iter()
        .enumerate()
        .map(|(i, (pv, _))| {
            let law = crate::fit::PowerLaw {
                exponent: t_exp,
                prefactor: c * pv.powf(p_exp),
                n: 0,
            };
            let label = if i == 0 {
                format!("joint fit: T^{t_exp:.2} P^{p_exp:.2}")
            } else {
                String::new()
            };
            law_line(label, &law, t0, t1, Some(i))
        })
        .collect()
}

/// The largest x with a seed mean (diverged points left out) over all curves.
fn max_finite_x(tables: &[(f64, SeedTable)]) -> f64 {
    tables
        .iter()
        .flat_map(|(_, t)| t.means(None).into_iter().map(|p| p.0))
        .fold(f64::NEG_INFINITY, f64::max)
}

fn range_of(xs: &[f64]) -> (f64, f64) {
    (
        xs.iter().copied().fold(f64::INFINITY, f64::min),
        xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    )
}

/// The value of `values` closest to `target` in log.
fn closest_log(values: &[f64], target: f64) -> Option<f64> {
    values.iter().copied().filter(|v| *v > 0.0).min_by(|a, b| {
        (a.ln() - target.ln())
            .abs()
            .total_cmp(&(b.ln() - target.ln()).abs())
    })
}

fn ci_text(e: &Estimate) -> String {
    if e.ci_low.is_finite() {
        format!("{:.3} [{:.3}, {:.3}]", e.value, e.ci_low, e.ci_high)
    } else {
        format!("{:.3} [no CI]", e.value)
    }
}

const SPREAD: &str = "mean ± s.d. over seeds";

/// Draws every figure of `kind` for `runs` into `out` and writes fits.csv and report.md.
pub fn analyze(
    runs: &[Summary],
    kind: Kind,
    opts: &AnalysisOptions,
    out: &Path,
) -> Result<Analysis, sgdnoise_core::Error> {
    std::fs::create_dir_all(out).map_err(|e| sgdnoise_core::Error::io(out, e))?;
    let refs: Vec<&Summary> = runs.iter().collect();
    let mut ctx = Ctx {
        out,
        opts,
        seeds: seeds_of(&refs),
        fits: Vec::new(),
        files: Vec::new(),
        notes: Vec::new(),
    };
    if !runs.is_empty() {
        match kind {
            Kind::Perceptron => perceptron(&mut ctx, &refs)?,
            Kind::TSweep => tsweep(&mut ctx, &refs)?,
            Kind::Phase => phase(&mut ctx, &refs)?,
        }
    }
    write_fits(&mut ctx)?;
    let report = report_text(&ctx, kind, runs);
    let path = out.join("report.md");
    sgdnoise_core::rundir::write_atomic(&path, report.as_bytes())
        .map_err(|e| sgdnoise_core::Error::io(&path, e))?;
    ctx.files.push(path);
    Ok(Analysis {
        kind,
        fits: ctx.fits,
        files: ctx.files,
        report,
    })
}

fn write_fits(ctx: &mut Ctx) -> Result<(), sgdnoise_core::Error> {
    let path = ctx.out.join("fits.csv");
    let mut w = csv::Writer::from_path(&path).map_err(|e| csv_err(&path, e))?;
    w.write_record([
        "figure",
        "quantity",
        "against",
        "condition",
        "value",
        "ci_low",
        "ci_high",
        "theory",
        "method",
    ])
    .map_err(|e| csv_err(&path, e))?;
    for r in &ctx.fits {
        w.write_record([
            r.figure.clone(),
            r.quantity.clone(),
            r.against.clone(),
            r.condition.clone(),
            num(r.value),
            num(r.ci_low),
            num(r.ci_high),
            r.theory.map(num).unwrap_or_default(),
            r.method.clone(),
        ])
        .map_err(|e| csv_err(&path, e))?;
    }
    w.flush().map_err(|e| sgdnoise_core::Error::io(&path, e))?;
    ctx.files.push(path);
    Ok(())
}

fn report_text(ctx: &Ctx, kind: Kind, runs: &[Summary]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# sgdnoise analysis ({} sweep)\n", kind.name());
    if !ctx.opts.source.is_empty() {
        let _ = writeln!(s, "Source: {}\n", ctx.opts.source);
    }
    let mut reasons: std::collections::BTreeMap<&str, usize> = Default::default();
    for r in runs {
        *reasons.entry(r.stop_reason.as_str()).or_default() += 1;
    }
    let _ = writeln!(
        s,
        "{} finished runs, {} seeds ({}); stop reasons: {}.\n",
        runs.len(),
        ctx.seeds.len(),
        ctx.seeds
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        reasons
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        s,
        "Curves: {SPREAD}; runs that diverged are not averaged but marked (× on curves, hatched on heatmaps); runs stopped by a cap (max_steps, max_wall) are averaged with their value at the cap. Confidence intervals: {}.\n",
        ctx.opts.bootstrap.describe()
    );
    if !ctx.notes.is_empty() {
        let _ = writeln!(s, "## Main results\n");
        for n in &ctx.notes {
            let _ = writeln!(s, "- {n}");
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "## All fitted numbers (also in fits.csv)\n");
    let _ = writeln!(
        s,
        "| figure | quantity | against | condition | value | 95% CI | theory |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    for r in &ctx.fits {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.4} | {} | {} |",
            r.figure,
            r.quantity,
            r.against,
            r.condition,
            r.value,
            if r.ci_low.is_finite() {
                format!("[{:.4}, {:.4}]", r.ci_low, r.ci_high)
            } else {
                "-".into()
            },
            r.theory.map(|t| format!("{t:.4}")).unwrap_or_default()
        );
    }
    let mut methods: Vec<&str> = ctx.fits.iter().map(|r| r.method.as_str()).collect();
    methods.sort_unstable();
    methods.dedup();
    let _ = writeln!(s, "\n## Methods\n");
    for m in methods {
        let _ = writeln!(s, "- {m}");
    }
    let _ = writeln!(s, "\n## Figures\n");
    for f in &ctx.files {
        if f.extension().is_some_and(|e| e == "png") {
            if let Some(name) = f.file_name() {
                let _ = writeln!(s, "- {}", name.to_string_lossy());
            }
        }
    }
    s
}

/// Curves of `obs` against `x`, one per value of `by` (and their CSV); returns the plot (to
/// be completed and saved by the caller) and the tables.
#[allow(clippy::too_many_arguments)]
fn curves(
    ctx: &mut Ctx,
    stem: &str,
    title: &str,
    runs: &[&Summary],
    x: Axis,
    obs: Observable,
    by: Axis,
    y_scale: Scale,
) -> Result<(LinePlot, Vec<(f64, SeedTable)>), sgdnoise_core::Error> {
    let mut p = LinePlot::new(
        &format!("{title} ({SPREAD})"),
        x.label(),
        obs.label(),
        Scale::Log2,
        y_scale,
    );
    let mut tables = Vec::new();
    let mut csv_curves = Vec::new();
    for (v, group) in group_by(runs, by) {
        let t = ctx.table(&group, x, obs);
        let pts = t.points();
        p.series.push(series_of(by.condition(v), &pts));
        csv_curves.push((by.condition(v), pts));
        tables.push((v, t));
    }
    ctx.write_curves(stem, x.symbol(), &csv_curves)?;
    Ok((p, tables))
}

/// Perceptron: signal/noise and test error against P per chi; weight change and t* against T
/// per P, for every (d, alpha) of the store.
fn perceptron(ctx: &mut Ctx, runs: &[&Summary]) -> Result<(), sgdnoise_core::Error> {
    let dims = values_of(runs, Axis::Dim);
    for (dim, by_dim) in group_by(runs, Axis::Dim) {
        for (alpha, sub) in group_by(&by_dim, Axis::Alpha) {
            let mut suffix = String::new();
            if dims.len() > 1 {
                suffix += &format!("_d{}", fmt_num(dim));
            }
            if values_of(runs, Axis::Alpha).len() > 1 {
                suffix += &format!("_alpha{}", fmt_num(alpha));
            }
            let base_cond = format!("d={}, alpha={}", fmt_num(dim), fmt_num(alpha));
            perceptron_one(ctx, &sub, alpha, &suffix, &base_cond)?;
        }
    }
    Ok(())
}

fn perceptron_one(
    ctx: &mut Ctx,
    runs: &[&Summary],
    alpha: f64,
    suffix: &str,
    base_cond: &str,
) -> Result<(), sgdnoise_core::Error> {
    let temps = values_of(runs, Axis::Temp);
    let Some(t_ref) = closest_log(&temps, 1.0) else {
        return Ok(());
    };
    let high = FitRange::new(ctx.opts.high_t_factor / alpha, f64::INFINITY);
    let chis = values_of(runs, Axis::Chi);

    // signal/noise and test error against P, one curve per chi, at T_ref.
    for (obs, stem, title, theory_of) in [
        (
            Observable::SignalToNoise,
            "perceptron_snr_vs_P",
            "Perceptron: signal/noise against P",
            (|chi: f64| Some(1.0 / (1.0 + chi))) as fn(f64) -> Option<f64>,
        ),
        (
            Observable::TestErr,
            "perceptron_test_err_vs_P",
            "Perceptron: test error against P",
            (|_chi: f64| None) as fn(f64) -> Option<f64>,
        ),
    ] {
        let stem = format!("{stem}{suffix}");
        let at_ref = select(runs, Axis::Temp, t_ref);
        let (mut p, tables) = curves(
            ctx,
            &stem,
            &format!("{title}, T = {}, {base_cond}", fmt_num(t_ref)),
            &at_ref,
            Axis::Ptr,
            obs,
            Axis::Chi,
            Scale::Log10,
        )?;
        p.x_label = Axis::Ptr.label().into();
        if obs == Observable::TestErr {
            p.legend = LegendAt::UpperRight;
        }
        for (i, (chi, t)) in tables.iter().enumerate() {
            let cond = format!("chi={}, T={}, {base_cond}", fmt_num(*chi), fmt_num(t_ref));
            let theory = theory_of(*chi);
            if let Some((e, law)) = ctx.power_fit(
                &stem,
                obs.name(),
                Axis::Ptr,
                &cond,
                t,
                FitRange::ALL,
                theory,
            ) {
                let (x0, x1) = range_of(&t.xs);
                let th = theory.map_or(String::new(), |v| format!(", theory {v:.3}"));
                p.lines.push(law_line(
                    format!("fit χ={}: slope {}{th}", fmt_num(*chi), ci_text(&e)),
                    &law,
                    x0,
                    x1,
                    Some(i),
                ));
                let what = if obs == Observable::SignalToNoise {
                    "signal/noise ~ P^e"
                } else {
                    "test error ~ P^e"
                };
                ctx.notes.push(format!(
                    "{what} at {cond}: e = {}{}",
                    ci_text(&e),
                    theory.map_or(String::new(), |v| format!(" (theory 1/(1+χ) = {v:.3})"))
                ));
            }
        }
        ctx.save_plot(&stem, &p)?;
        // The same exponent at every other temperature in the lazy range (fits.csv only).
        for &t in temps.iter().filter(|t| **t != t_ref && high.contains(**t)) {
            let at_t = select(runs, Axis::Temp, t);
            for &chi in &chis {
                let sub = select(&at_t, Axis::Chi, chi);
                let table = ctx.table(&sub, Axis::Ptr, obs);
                let cond = format!("chi={}, T={}, {base_cond}", fmt_num(chi), fmt_num(t));
                ctx.power_fit(
                    &stem,
                    obs.name(),
                    Axis::Ptr,
                    &cond,
                    &table,
                    FitRange::ALL,
                    theory_of(chi),
                );
            }
        }
    }

    // Weight change and t* against T, one curve per P, per chi.
    for &chi in &chis {
        let sub = select(runs, Axis::Chi, chi);
        let chi_s = fmt_num(chi);
        for (obs, name, delta_theory) in [
            (Observable::RelWeightChange, "rwc", Some(1.0)),
            (Observable::TStar, "t_star", Some(1.0)),
        ] {
            let stem = format!("perceptron_{name}_vs_T_chi{chi_s}{suffix}");
            let (mut p, tables) = curves(
                ctx,
                &stem,
                &format!("Perceptron χ = {chi_s}: {} against T", obs.name()),
                &sub,
                Axis::Temp,
                obs,
                Axis::Ptr,
                Scale::Log10,
            )?;
            p.vlines.push((1.0 / alpha, "T = 1/α".into()));
            p.vlines.push((
                high.lo,
                format!("fit range starts: T = {}/α", ctx.opts.high_t_factor),
            ));
            let cond = format!("chi={chi_s}, {base_cond}, T>={}", fmt_num(high.lo));
            if let Some((est, c)) = ctx.joint_fit(&tables, high) {
                let method = format!(
                    "joint least squares ln {} = c + e_T ln T + e_P ln P over T in {} (all P); {}",
                    obs.name(),
                    high.describe(),
                    ctx.opts.bootstrap.describe()
                );
                let (qt, qp) = if obs == Observable::RelWeightChange {
                    ("delta", "gamma")
                } else {
                    ("x", "b")
                };
                ctx.row(
                    &stem,
                    &format!("{} ({qt})", obs.name()),
                    "T",
                    &cond,
                    est[0],
                    delta_theory,
                    method.clone(),
                );
                ctx.row(
                    &stem,
                    &format!("{} ({qp})", obs.name()),
                    "P",
                    &cond,
                    est[1],
                    None,
                    method,
                );
                ctx.notes.push(format!(
                    "{} ~ T^{qt} P^{qp} at {cond}: {qt} = {} (theory {}), {qp} = {}",
                    obs.name(),
                    ci_text(&est[0]),
                    if obs == Observable::RelWeightChange {
                        "1: linear in T above 1/α"
                    } else {
                        "1"
                    },
                    ci_text(&est[1])
                ));
                let t_hi = max_finite_x(&tables);
                p.lines.extend(joint_fit_lines(
                    &tables,
                    c,
                    est[0].value,
                    est[1].value,
                    high.lo,
                    t_hi,
                ));
            }
            ctx.save_plot(&stem, &p)?;
        }
    }
    Ok(())
}

/// Lazy-regime temperature sweep: curves against T per P, T_c(P) by the three methods,
/// collapses, weight change ~ T^delta P^gamma, t* ~ T P^b.
fn tsweep(ctx: &mut Ctx, runs: &[&Summary]) -> Result<(), sgdnoise_core::Error> {
    let (mut p_err, err_tables) = curves(
        ctx,
        "test_err_vs_T",
        "Test error against T",
        runs,
        Axis::Temp,
        Observable::TestErr,
        Axis::Ptr,
        Scale::Log10,
    )?;
    let (mut p_rwc, rwc_tables) = curves(
        ctx,
        "rwc_vs_T",
        "Relative weight change against T",
        runs,
        Axis::Temp,
        Observable::RelWeightChange,
        Axis::Ptr,
        Scale::Log10,
    )?;
    let (mut p_ts, ts_tables) = curves(
        ctx,
        "t_star_vs_T",
        "Training time t* against T",
        runs,
        Axis::Temp,
        Observable::TStar,
        Axis::Ptr,
        Scale::Log10,
    )?;

    // Method (a) threshold.
    let threshold = ctx.opts.rwc_threshold.unwrap_or_else(|| {
        let all: Vec<f64> = rwc_tables
            .iter()
            .flat_map(|(_, t)| t.means(None).into_iter().map(|p| p.1))
            .filter(|v| *v > 0.0)
            .collect();
        let (lo, hi) = range_of(&all);
        (lo * hi).sqrt()
    });
    let thr = ThresholdCrossing { threshold };
    p_rwc.hlines.push((
        threshold,
        format!("T_c threshold (a): {}", fmt_sig(threshold)),
    ));
    let plateau = ctx.opts.plateau;
    let method_a = format!(
        "{}{}",
        thr.describe("rel_weight_change"),
        if ctx.opts.rwc_threshold.is_none() {
            " (threshold = geometric midpoint of the sweep's seed-mean range)"
        } else {
            ""
        }
    );
    let method_b = plateau.describe("test_err");
    let mut tc_series = Vec::new();
    let mut tc_values: Vec<(String, Vec<(f64, Estimate)>)> = Vec::new();
    for (label, tables, find, method) in [
        (
            "(a) weight-change threshold",
            &rwc_tables,
            &(|c: &[(f64, f64)]| thr.find(c)) as &dyn Fn(&[(f64, f64)]) -> Option<f64>,
            method_a.clone(),
        ),
        (
            "(b) test-error plateau exit",
            &err_tables,
            &(|c: &[(f64, f64)]| plateau.find(c)) as &dyn Fn(&[(f64, f64)]) -> Option<f64>,
            method_b.clone(),
        ),
    ] {
        let mut pts = Vec::new();
        let mut vals = Vec::new();
        for (pv, t) in tables.iter() {
            if let Some(e) = bootstrap(ctx.seeds.len(), &|w| find(&t.means(w)), &ctx.opts.bootstrap)
            {
                ctx.row(
                    "T_c_vs_P",
                    "T_c",
                    "P",
                    &format!("P={}, method {}", fmt_num(*pv), &label[..3]),
                    e,
                    None,
                    format!("{method}; {}", ctx.opts.bootstrap.describe()),
                );
                pts.push(Pt {
                    x: *pv,
                    y: e.value,
                    lo: e.ci_low,
                    hi: e.ci_high,
                });
                vals.push((*pv, e));
            }
        }
        tc_series.push(Series {
            label: label.into(),
            points: pts,
            diverged: Vec::new(),
        });
        tc_values.push((method, vals));
    }
    let mut p_tc = LinePlot::new(
        "Crossover temperature T_c against P (95% CI over seeds)",
        Axis::Ptr.label(),
        "crossover temperature T_c",
        Scale::Log2,
        Scale::Log2,
    );
    p_tc.series = tc_series;
    // T_c ~ P^-a for (a) and (b): bootstrap the whole chain (T_c per P, then the fit).
    let mut a_estimates = Vec::new();
    for (i, (label, tables, find)) in [
        (
            "(a)",
            &rwc_tables,
            &(|c: &[(f64, f64)]| thr.find(c)) as &dyn Fn(&[(f64, f64)]) -> Option<f64>,
        ),
        (
            "(b)",
            &err_tables,
            &(|c: &[(f64, f64)]| plateau.find(c)) as &dyn Fn(&[(f64, f64)]) -> Option<f64>,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let tc_of = |w: Option<&[u32]>| -> Vec<(f64, f64)> {
            tables
                .iter()
                .filter_map(|(pv, t)| find(&t.means(w)).map(|tc| (*pv, tc)))
                .collect()
        };
        let Some(law) = fit_power_law(&tc_of(None), FitRange::ALL) else {
            ctx.notes.push(format!(
                "T_c method {label}: fewer than two P with a crossover inside the T range; no exponent"
            ));
            continue;
        };
        if let Some(e) = bootstrap(
            ctx.seeds.len(),
            &|w| fit_power_law(&tc_of(w), FitRange::ALL).map(|f| -f.exponent),
            &ctx.opts.bootstrap,
        ) {
            let method = format!(
                "a in T_c ~ P^-a, least squares in log-log over all P with a T_c; T_c by {}; {}",
                tc_values[i].0,
                ctx.opts.bootstrap.describe()
            );
            ctx.row(
                "T_c_vs_P",
                "T_c",
                "P",
                &format!("method {label}"),
                e,
                None,
                method,
            );
            ctx.notes
                .push(format!("T_c ~ P^-a, method {label}: a = {}", ci_text(&e)));
            let (x0, x1) = range_of(&tc_values[i].1.iter().map(|v| v.0).collect::<Vec<_>>());
            p_tc.lines.push(law_line(
                format!("fit {label}: a = {}", ci_text(&e)),
                &law,
                x0,
                x1,
                Some(i),
            ));
            a_estimates.push(e);
        }
    }
    // Method (c): collapse of the test-error curves.
    let collapse = ctx.opts.collapse;
    let err_curves = |w: Option<&[u32]>| -> Vec<(f64, Vec<(f64, f64)>)> {
        err_tables.iter().map(|(p, t)| (*p, t.means(w))).collect()
    };
    let mut a_collapse = None;
    if let Some(e) = bootstrap(
        ctx.seeds.len(),
        &|w| collapse.find(&err_curves(w)).map(|r| r.0),
        &ctx.opts.bootstrap,
    ) {
        ctx.row(
            "test_err_collapse",
            "T_c",
            "P",
            "method (c)",
            e,
            None,
            format!(
                "{}; {}",
                collapse.describe("test_err"),
                ctx.opts.bootstrap.describe()
            ),
        );
        ctx.notes.push(format!(
            "T_c ~ P^-a, method (c) collapse: a = {}",
            ci_text(&e)
        ));
        a_collapse = Some(e.value);
    } else {
        ctx.notes
            .push("T_c method (c): no collapse exponent inside the scanned range".into());
    }
    ctx.save_plot("T_c_vs_P", &p_tc)?;
    {
        let tc_csv: Vec<(String, Vec<CurvePoint>)> = tc_values
            .iter()
            .map(|(m, v)| {
                (
                    m.clone(),
                    v.iter()
                        .map(|(p, e)| CurvePoint {
                            x: *p,
                            mean: e.value,
                            sd: f64::NAN,
                            sem: f64::NAN,
                            n: ctx.seeds.len(),
                            n_runs: 0,
                            n_diverged: 0,
                            n_capped: 0,
                        })
                        .collect(),
                )
            })
            .collect();
        ctx.write_curves("T_c_vs_P", "P", &tc_csv)?;
    }

    // Collapse figure: test error against T P^a.
    if let Some(a) = a_collapse.or(a_estimates.first().map(|e| e.value)) {
        let mut p = LinePlot::new(
            &format!("Test error against T·P^a, a = {a:.3} ({SPREAD})"),
            &format!("T · P^{a:.3}"),
            Observable::TestErr.label(),
            Scale::Log2,
            Scale::Log10,
        );
        let mut csv_c = Vec::new();
        for (pv, t) in &err_tables {
            let pts: Vec<CurvePoint> = t
                .points()
                .into_iter()
                .map(|mut q| {
                    q.x *= pv.powf(a);
                    q
                })
                .collect();
            p.series.push(series_of(Axis::Ptr.condition(*pv), &pts));
            csv_c.push((Axis::Ptr.condition(*pv), pts));
        }
        ctx.write_curves("test_err_collapse", "T_P^a", &csv_c)?;
        ctx.save_plot("test_err_collapse", &p)?;
    }

    // Weight change ~ T^delta P^gamma above the crossover.
    let tcs_a: Vec<f64> = tc_values[0].1.iter().map(|(_, e)| e.value).collect();
    let t_lo = if tcs_a.is_empty() {
        0.0
    } else {
        let mut s = tcs_a.clone();
        s.sort_by(f64::total_cmp);
        s[s.len() / 2]
    };
    let range = FitRange::new(t_lo, f64::INFINITY);
    if let Some((est, c)) = ctx.joint_fit(&rwc_tables, range) {
        let method = format!(
            "joint least squares ln rel_weight_change = c + delta ln T + gamma ln P over T in {} (T >= median T_c of method (a)); {}",
            range.describe(),
            ctx.opts.bootstrap.describe()
        );
        ctx.row(
            "rwc_vs_T",
            "rel_weight_change (delta)",
            "T",
            "T>=T_c",
            est[0],
            None,
            method.clone(),
        );
        ctx.row(
            "rwc_vs_T",
            "rel_weight_change (gamma)",
            "P",
            "T>=T_c",
            est[1],
            None,
            method.clone(),
        );
        ctx.row(
            "rwc_vs_T",
            "T_c (a = gamma/delta)",
            "P",
            "T>=T_c",
            est[2],
            None,
            method,
        );
        ctx.notes.push(format!(
            "rel_weight_change ~ T^delta P^gamma above T_c: delta = {}, gamma = {}, gamma/delta = {} (compare with a)",
            ci_text(&est[0]),
            ci_text(&est[1]),
            ci_text(&est[2])
        ));
        let t_hi = max_finite_x(&rwc_tables);
        p_rwc.lines.extend(joint_fit_lines(
            &rwc_tables,
            c,
            est[0].value,
            est[1].value,
            t_lo.max(rwc_tables[0].1.xs[0]),
            t_hi,
        ));
        // Collapse of the weight change: rwc / P^gamma against T.
        let g = est[1].value;
        let mut p = LinePlot::new(
            &format!("Weight change / P^γ against T, γ = {g:.3} ({SPREAD})"),
            Axis::Temp.label(),
            &format!("‖w−w₀‖/‖w₀‖ / P^{g:.3}"),
            Scale::Log2,
            Scale::Log10,
        );
        let mut csv_c = Vec::new();
        for (pv, t) in &rwc_tables {
            let f = pv.powf(g);
            let pts: Vec<CurvePoint> = t
                .points()
                .into_iter()
                .map(|mut q| {
                    q.mean /= f;
                    q.sd /= f;
                    q.sem /= f;
                    q
                })
                .collect();
            p.series.push(series_of(Axis::Ptr.condition(*pv), &pts));
            csv_c.push((Axis::Ptr.condition(*pv), pts));
        }
        ctx.write_curves("rwc_collapse", "T", &csv_c)?;
        ctx.save_plot("rwc_collapse", &p)?;
    }
    // t* ~ T^x P^b over all T.
    if let Some((est, _)) = ctx.joint_fit(&ts_tables, FitRange::ALL) {
        let method = format!(
            "joint least squares ln t* = c + x ln T + b ln P over all T and P; {}",
            ctx.opts.bootstrap.describe()
        );
        ctx.row(
            "t_star_vs_T",
            "t_star (exponent of T)",
            "T",
            "all T",
            est[0],
            Some(1.0),
            method.clone(),
        );
        ctx.row(
            "t_star_vs_T",
            "t_star (b)",
            "P",
            "all T",
            est[1],
            None,
            method,
        );
        ctx.notes.push(format!(
            "t* ~ T^x P^b: x = {} (theory 1), b = {}",
            ci_text(&est[0]),
            ci_text(&est[1])
        ));
    }
    // The same data against P, one curve per T (at most 7 temperatures, evenly spread).
    let temps = values_of(runs, Axis::Temp);
    let step = temps.len().div_ceil(7).max(1);
    let chosen: Vec<&Summary> = group_by(runs, Axis::Temp)
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0)
        .flat_map(|(_, (_, g))| g)
        .collect();
    let (mut p, _) = curves(
        ctx,
        "test_err_vs_P",
        "Test error against P",
        &chosen,
        Axis::Ptr,
        Observable::TestErr,
        Axis::Temp,
        Scale::Log10,
    )?;
    p.x_label = Axis::Ptr.label().into();
    p.legend = LegendAt::UpperRight;
    ctx.save_plot("test_err_vs_P", &p)?;
    p_err.legend = LegendAt::UpperLeft;
    ctx.save_plot("test_err_vs_T", &p_err)?;
    ctx.save_plot("rwc_vs_T", &p_rwc)?;
    p_ts.legend = LegendAt::UpperRight;
    ctx.save_plot("t_star_vs_T", &p_ts)?;
    Ok(())
}

fn fmt_sig(v: f64) -> String {
    format!("{v:.3e}")
}

/// Phase diagram over alpha and T: heatmaps, test error against T per alpha, T_opt(alpha).
fn phase(ctx: &mut Ctx, runs: &[&Summary]) -> Result<(), sgdnoise_core::Error> {
    let alphas = values_of(runs, Axis::Alpha);
    let y_axis = ctx.opts.phase_y;
    let temps = values_of(runs, y_axis);
    let by_alpha = group_by(runs, Axis::Alpha);
    let err_tables: Vec<(f64, SeedTable)> = by_alpha
        .iter()
        .map(|(a, g)| (*a, ctx.table(g, Axis::Temp, Observable::TestErr)))
        .collect();
    // T_opt per alpha with bootstrap CIs.
    let mut topt = Vec::new();
    for (a, t) in &err_tables {
        if let Some(e) = bootstrap(
            ctx.seeds.len(),
            &|w| optimal_temperature(&t.means(w)),
            &ctx.opts.bootstrap,
        ) {
            ctx.row(
                "T_opt_vs_alpha",
                "T_opt",
                "alpha",
                &format!("alpha={}", fmt_num(*a)),
                e,
                None,
                format!(
                    "{OPTIMAL_TEMPERATURE_METHOD}; {}",
                    ctx.opts.bootstrap.describe()
                ),
            );
            topt.push((*a, e));
        }
    }
    for obs in [
        Observable::TestErr,
        Observable::RelWeightChange,
        Observable::TStar,
        Observable::Steps,
    ] {
        let stem = format!("phase_{}", obs.name());
        let mut cells = vec![vec![Cell::Missing; alphas.len()]; temps.len()];
        let mut rows = Vec::new();
        for (ia, (a, g)) in by_alpha.iter().enumerate() {
            let t = ctx.table(g, y_axis, obs);
            for p in t.points() {
                let it = temps.iter().position(|v| *v == p.x).unwrap_or(0);
                cells[it][ia] = if p.is_diverged() {
                    Cell::Diverged
                } else if p.n > 0 {
                    Cell::Value(p.mean)
                } else {
                    Cell::Missing
                };
                rows.push((*a, p));
            }
        }
        let path = ctx.out.join(format!("{stem}.csv"));
        let mut w = csv::Writer::from_path(&path).map_err(|e| csv_err(&path, e))?;
        w.write_record([
            "alpha",
            y_axis.symbol(),
            "mean",
            "sd",
            "sem",
            "n",
            "n_runs",
            "n_diverged",
            "n_capped",
        ])
        .map_err(|e| csv_err(&path, e))?;
        for (a, p) in &rows {
            w.write_record([
                num(*a),
                num(p.x),
                num(p.mean),
                num(p.sd),
                num(p.sem),
                p.n.to_string(),
                p.n_runs.to_string(),
                p.n_diverged.to_string(),
                p.n_capped.to_string(),
            ])
            .map_err(|e| csv_err(&path, e))?;
        }
        w.flush().map_err(|e| sgdnoise_core::Error::io(&path, e))?;
        ctx.files.push(path);
        let h = Heatmap {
            title: format!("Phase diagram: seed-mean {}", obs.name()),
            x_label: Axis::Alpha.label().into(),
            y_label: y_axis.label().into(),
            xs: alphas.clone(),
            ys: temps.clone(),
            cells,
            value_label: obs.label().into(),
            log_values: obs != Observable::TestErr,
            markers: if obs == Observable::TestErr && y_axis == Axis::Temp {
                topt.iter().map(|(a, e)| (*a, e.value)).collect()
            } else {
                Vec::new()
            },
            marker_label: "T_opt (lowest test error)".into(),
        };
        ctx.files.extend(h.save(&ctx.out.join(&stem))?);
    }
    // Test error against T for up to 7 alphas.
    let step = err_tables.len().div_ceil(7).max(1);
    let chosen: Vec<&Summary> = by_alpha
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0)
        .flat_map(|(_, (_, g))| g.iter().copied())
        .collect();
    let (mut p, _) = curves(
        ctx,
        "test_err_vs_T_per_alpha",
        "Test error against T",
        &chosen,
        Axis::Temp,
        Observable::TestErr,
        Axis::Alpha,
        Scale::Log10,
    )?;
    p.legend = LegendAt::UpperRight;
    ctx.save_plot("test_err_vs_T_per_alpha", &p)?;
    // T_opt ~ alpha^k in the feature regime.
    let depth = runs
        .first()
        .filter(|s| s.config.arch.as_deref() == Some("mlp"))
        .and_then(|s| s.config.depth);
    let theory = depth.map(|d| (d as f64 - 1.0) / (d as f64 + 1.0));
    let range = FitRange::new(0.0, ctx.opts.feature_alpha_max);
    let mut p = LinePlot::new(
        "Optimal temperature against α (95% CI over seeds)",
        Axis::Alpha.label(),
        "T_opt (lowest seed-mean test error)",
        Scale::Log2,
        Scale::Log2,
    );
    p.series.push(Series {
        label: "T_opt".into(),
        points: topt
            .iter()
            .map(|(a, e)| Pt {
                x: *a,
                y: e.value,
                lo: e.ci_low,
                hi: e.ci_high,
            })
            .collect(),
        diverged: Vec::new(),
    });
    let topt_of = |w: Option<&[u32]>| -> Vec<(f64, f64)> {
        err_tables
            .iter()
            .filter_map(|(a, t)| optimal_temperature(&t.means(w)).map(|v| (*a, v)))
            .collect()
    };
    if let Some(law) = fit_power_law(&topt_of(None), range) {
        if let Some(e) = bootstrap(
            ctx.seeds.len(),
            &|w| fit_power_law(&topt_of(w), range).map(|f| f.exponent),
            &ctx.opts.bootstrap,
        ) {
            let method = format!(
                "k in T_opt ~ alpha^k, least squares in log-log over alpha in {} with a resolved T_opt; T_opt: {OPTIMAL_TEMPERATURE_METHOD}; {}",
                range.describe(),
                ctx.opts.bootstrap.describe()
            );
            let cond = depth.map_or("feature regime".to_string(), |d| format!("D={d}"));
            ctx.row("T_opt_vs_alpha", "T_opt", "alpha", &cond, e, theory, method);
            ctx.notes.push(format!(
                "T_opt ~ alpha^k: k = {}{}",
                ci_text(&e),
                theory.map_or(String::new(), |t| format!(" (theory (D-1)/(D+1) = {t:.3})"))
            ));
            let xs: Vec<f64> = topt_of(None)
                .iter()
                .map(|v| v.0)
                .filter(|a| range.contains(*a))
                .collect();
            let (x0, x1) = range_of(&xs);
            p.lines.push(law_line(
                format!("fit: k = {}", ci_text(&e)),
                &law,
                x0,
                x1,
                None,
            ));
        }
    }
    let csv_t: Vec<(String, Vec<CurvePoint>)> = vec![(
        "T_opt".into(),
        topt.iter()
            .map(|(a, e)| CurvePoint {
                x: *a,
                mean: e.value,
                sd: f64::NAN,
                sem: f64::NAN,
                n: ctx.seeds.len(),
                n_runs: 0,
                n_diverged: 0,
                n_capped: 0,
            })
            .collect(),
    )];
    ctx.write_curves("T_opt_vs_alpha", "alpha", &csv_t)?;
    ctx.save_plot("T_opt_vs_alpha", &p)?;
    let _ = plot::PALETTE;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeds::testing::summary;
    use rand_distr::{Distribution, Normal};
    use sgdnoise_core::numeric::rng::{stream, Stream};

    fn sigmoid(t: f64, tc: f64, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) / (1.0 + (-(t / tc).ln() / 0.6).exp())
    }

    /// A lazy T-sweep with T_c(P) = 0.5 P^-0.6 built in: the test error rises from 0.05 to 0.3
    /// around T_c, the weight change is 10^-3 max(1, T/T_c) (so delta = 1, gamma = 0.6 above
    /// T_c), t* = 100 T P^0.5; 4 seeds with 3% multiplicative noise; P = 2048 diverges at T = 1.
    fn synthetic_tsweep() -> Vec<Summary> {
        let mut rng = stream(3, Stream::Bootstrap);
        let noise = Normal::new(0.0, 0.03).unwrap();
        let mut runs = Vec::new();
        for p in [256usize, 512, 1024, 2048] {
            let tc = 0.5 * (p as f64).powf(-0.6);
            for k in -14..=0 {
                let t = 2f64.powi(k);
                for seed in 1..=4 {
                    let mut e = || f64::exp(noise.sample(&mut rng));
                    let mut s = summary(
                        "mlp",
                        p,
                        t,
                        32768.0,
                        seed,
                        sigmoid(t, tc, 0.05, 0.3) * e(),
                        1e-3 * (t / tc).max(1.0) * e(),
                        100.0 * t * (p as f64).sqrt() * e(),
                    );
                    if p == 2048 && k == 0 {
                        s.stop_reason = "diverged".into();
                        s.test_err = f64::NAN;
                    }
                    runs.push(s);
                }
            }
        }
        runs
    }

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sgdnoise-report-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn find<'a>(fits: &'a [FitRow], quantity: &str, condition: &str) -> &'a FitRow {
        fits.iter()
            .find(|r| r.quantity == quantity && r.condition == condition)
            .unwrap_or_else(|| panic!("no fit {quantity} / {condition} in {fits:#?}"))
    }

    #[test]
    fn tsweep_recovers_the_built_in_exponents() {
        let runs = synthetic_tsweep();
        let out = tmp("tsweep");
        let opts = AnalysisOptions {
            bootstrap: BootstrapOptions {
                resamples: 200,
                ..Default::default()
            },
            // The weight change is 10^-3 at and below T_c; 2x that is crossed at T = 2 T_c.
            rwc_threshold: Some(2e-3),
            ..Default::default()
        };
        let a = analyze(&runs, Kind::TSweep, &opts, &out).unwrap();
        // (a) T_c = 2 x 0.5 P^-0.6: a = 0.6 exactly up to the noise.
        let ra = find(&a.fits, "T_c", "method (a)");
        assert!((ra.value - 0.6).abs() < 0.05, "{ra:?}");
        assert!(ra.ci_low <= ra.value && ra.value <= ra.ci_high);
        // (b) and (c) see the sigmoid's shift: the same exponent within the grid's resolution.
        let rb = find(&a.fits, "T_c", "method (b)");
        assert!((rb.value - 0.6).abs() < 0.1, "{rb:?}");
        let rc = find(&a.fits, "T_c", "method (c)");
        assert!((rc.value - 0.6).abs() < 0.05, "{rc:?}");
        let delta = find(&a.fits, "rel_weight_change (delta)", "T>=T_c");
        let gamma = find(&a.fits, "rel_weight_change (gamma)", "T>=T_c");
        assert!((delta.value - 1.0).abs() < 0.05, "{delta:?}");
        assert!((gamma.value - 0.6).abs() < 0.06, "{gamma:?}");
        let b = find(&a.fits, "t_star (b)", "all T");
        assert!((b.value - 0.5).abs() < 0.03, "{b:?}");
        // Files: every figure as SVG, PNG and CSV, plus fits.csv and report.md.
        for stem in [
            "test_err_vs_T",
            "test_err_vs_P",
            "rwc_vs_T",
            "t_star_vs_T",
            "T_c_vs_P",
            "test_err_collapse",
            "rwc_collapse",
        ] {
            for ext in ["svg", "png", "csv"] {
                assert!(out.join(format!("{stem}.{ext}")).is_file(), "{stem}.{ext}");
            }
        }
        let fits = std::fs::read_to_string(out.join("fits.csv")).unwrap();
        assert_eq!(
            fits.lines().next().unwrap(),
            "figure,quantity,against,condition,value,ci_low,ci_high,theory,method"
        );
        assert_eq!(fits.lines().count(), a.fits.len() + 1);
        // The diverged cell is counted, not averaged.
        let csv = std::fs::read_to_string(out.join("test_err_vs_T.csv")).unwrap();
        let last = csv.lines().rfind(|l| l.starts_with("P=2048")).unwrap();
        assert!(last.ends_with(",0,4,4,0"), "{last}");
        assert!(a.report.contains("method (c) collapse"));
        if std::env::var_os("SGDNOISE_KEEP_PLOTS").is_none() {
            let _ = std::fs::remove_dir_all(&out);
        }
    }

    #[test]
    fn phase_diagram_finds_the_optimal_temperature_law() {
        // T_opt = 2^-4 alpha^(2/3): test error 0.1 + 0.01 (ln T - ln T_opt)^2; the largest
        // alpha and T diverge.
        let mut runs = Vec::new();
        for ka in -8..=2 {
            let alpha = 2f64.powi(ka);
            let topt = 2f64.powi(-4) * alpha.powf(2.0 / 3.0);
            for kt in -14..=0 {
                let t = 2f64.powi(kt);
                for seed in 1..=3 {
                    let err = 0.1 + 0.01 * (t.ln() - topt.ln()).powi(2) + 0.001 * seed as f64;
                    let mut s = summary("mlp", 1024, t, alpha, seed, err, 0.1, 10.0);
                    s.config.depth = Some(5);
                    if ka == 2 && kt == 0 {
                        s.stop_reason = "diverged".into();
                    }
                    runs.push(s);
                }
            }
        }
        assert_eq!(Kind::detect(&runs), Kind::Phase);
        let out = tmp("phase");
        let opts = AnalysisOptions {
            bootstrap: BootstrapOptions {
                resamples: 100,
                ..Default::default()
            },
            ..Default::default()
        };
        let a = analyze(&runs, Kind::Phase, &opts, &out).unwrap();
        let k = find(&a.fits, "T_opt", "D=5");
        assert_eq!(k.theory, Some(2.0 / 3.0));
        // The parabola refinement is exact for this error surface.
        assert!((k.value - 2.0 / 3.0).abs() < 0.01, "{k:?}");
        for stem in [
            "phase_test_err",
            "phase_rel_weight_change",
            "T_opt_vs_alpha",
        ] {
            assert!(out.join(format!("{stem}.png")).is_file(), "{stem}");
        }
        let svg = std::fs::read_to_string(out.join("phase_test_err.svg")).unwrap();
        assert!(svg.contains("diverged (most seeds)"));
        // The heatmaps can be drawn over the learning rate instead of T.
        let by_lr = AnalysisOptions {
            phase_y: Axis::Lr,
            ..opts
        };
        analyze(&runs, Kind::Phase, &by_lr, &out).unwrap();
        let csv = std::fs::read_to_string(out.join("phase_test_err.csv")).unwrap();
        assert!(csv.starts_with("alpha,lr,mean"), "{}", &csv[..40]);
        if std::env::var_os("SGDNOISE_KEEP_PLOTS").is_none() {
            let _ = std::fs::remove_dir_all(&out);
        }
    }
}
