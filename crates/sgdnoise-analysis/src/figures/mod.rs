//! The figures of [`analyze`](crate::report::analyze), one file per kind of sweep
//! (`perceptron`, `tsweep`, `phase`), and what they share: the context [`Ctx`] that saves plots
//! and the CSVs behind them and records fitted numbers, the fit helpers (power-law and joint
//! fits with bootstrap, the dashed lines that draw them) and small formatting helpers.

mod perceptron;
mod phase;
mod tsweep;

pub(crate) use perceptron::perceptron;
pub(crate) use phase::phase;
pub(crate) use tsweep::tsweep;

use crate::fit::{
    bootstrap, bootstrap_many, fit_power_law, fit_power_law_2, Estimate, FitRange, PowerLaw,
};
use crate::options::{AnalysisOptions, FitRow, FitUse};
use crate::plot::{Heatmap, Line, LinePlot, Pt, Scale, Series};
use crate::{group_by, Axis, CurvePoint, Observable, SeedTable};
use sgdnoise_core::rundir::Summary;
use std::path::{Path, PathBuf};

/// What the figures of one analysis share: where files go, the options, the seeds of the
/// store, and what was made so far (fitted numbers, files, result lines of the report).
pub(crate) struct Ctx<'a> {
    pub(crate) out: &'a Path,
    pub(crate) opts: &'a AnalysisOptions,
    pub(crate) seeds: Vec<i64>,
    pub(crate) fits: Vec<FitRow>,
    pub(crate) files: Vec<PathBuf>,
    /// Lines of the report's "Results" section.
    pub(crate) notes: Vec<String>,
    /// Further sections of the report: (title, markdown lines).
    pub(crate) sections: Vec<(String, Vec<String>)>,
    /// Warnings about the runs, at the top of the report.
    pub(crate) warnings: Vec<String>,
}

pub(crate) fn csv_err(path: &Path, e: csv::Error) -> sgdnoise_core::Error {
    sgdnoise_core::Error::Other(format!("writing {}: {e}", path.display()))
}

pub(crate) fn num(v: f64) -> String {
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
        let rows = curves
            .iter()
            .flat_map(|(label, pts)| pts.iter().map(move |p| (label.clone(), p)));
        self.write_points(stem, "series", x_name, rows)
    }

    /// Writes `stem.csv`: one row per point, a key column, the point's x, then its seed
    /// statistics (the columns of every figure's CSV).
    fn write_points<'p>(
        &mut self,
        stem: &str,
        key_name: &str,
        x_name: &str,
        rows: impl IntoIterator<Item = (String, &'p CurvePoint)>,
    ) -> Result<(), sgdnoise_core::Error> {
        let path = self.out.join(format!("{stem}.csv"));
        let mut w = csv::Writer::from_path(&path).map_err(|e| csv_err(&path, e))?;
        w.write_record([
            key_name,
            x_name,
            "mean",
            "sd",
            "sem",
            "n",
            "n_runs",
            "n_diverged",
            "n_capped",
            "in_fit",
            "capped_mean",
        ])
        .map_err(|e| csv_err(&path, e))?;
        for (key, p) in rows {
            w.write_record([
                key,
                num(p.x),
                num(p.mean),
                num(p.sd),
                num(p.sem),
                p.n.to_string(),
                p.n_runs.to_string(),
                p.n_diverged.to_string(),
                p.n_capped.to_string(),
                u8::from(p.in_fit).to_string(),
                num(p.capped_mean),
            ])
            .map_err(|e| csv_err(&path, e))?;
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
        usage: &FitUse,
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
            n_points: usage.n_points,
            n_seeds: usage.n_seeds,
            n_left_out: usage.left_out.total(),
            left_out_why: usage.left_out.describe(),
        });
    }

    /// What a fit over the points of `tables` with x in `range` uses and leaves out.
    fn usage(&self, tables: &[&SeedTable], range: FitRange) -> FitUse {
        let mut u = FitUse {
            n_seeds: self.seeds.len(),
            ..Default::default()
        };
        for t in tables {
            t.count_left_out(&mut u.left_out);
            for (x, y) in t.means(None) {
                if !range.contains(x) {
                    u.left_out.add("outside the fit range");
                } else if !(x > 0.0 && y > 0.0) {
                    u.left_out.add("not positive");
                } else {
                    u.n_points += 1;
                }
            }
        }
        u
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
    ) -> Option<(Estimate, PowerLaw)> {
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
        let usage = self.usage(&[table], range);
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
            &usage,
        );
        Some((e, law))
    }

    /// Joint fit y ~ T^e1 P^e2 over the curves (P, table of y against T), T in `range`.
    /// Returns estimates of [e1, e2, e2/e1], the prefactor and what the fit used.
    fn joint_fit(
        &self,
        curves: &[(f64, SeedTable)],
        range: FitRange,
    ) -> Option<(Vec<Estimate>, f64, FitUse)> {
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
        let tables: Vec<&SeedTable> = curves.iter().map(|(_, t)| t).collect();
        Some((est, c, self.usage(&tables, range)))
    }

    fn save_heatmap(&mut self, stem: &str, h: &Heatmap) -> Result<(), sgdnoise_core::Error> {
        self.files.extend(h.save(&self.out.join(stem))?);
        Ok(())
    }

    /// Writes `stem.csv` with one row per heatmap cell: alpha, the vertical setting `y_name`,
    /// then the seed statistics.
    fn write_cells(
        &mut self,
        stem: &str,
        y_name: &str,
        rows: &[(f64, CurvePoint)],
    ) -> Result<(), sgdnoise_core::Error> {
        self.write_points(
            stem,
            "alpha",
            y_name,
            rows.iter().map(|(a, p)| (num(*a), p)),
        )
    }
}

fn series_of(label: String, pts: &[CurvePoint]) -> Series {
    Series {
        label,
        points: pts
            .iter()
            .filter(|p| p.in_fit)
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
fn law_line(label: String, law: &PowerLaw, x0: f64, x1: f64, color: Option<usize>) -> Line {
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
            let law = PowerLaw {
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

fn ci_text(e: &Estimate) -> String {
    if e.ci_low.is_finite() {
        format!("{:.3} [{:.3}, {:.3}]", e.value, e.ci_low, e.ci_high)
    } else {
        format!("{:.3} [no CI]", e.value)
    }
}

pub(crate) const SPREAD: &str = "mean ± s.d. over seeds";

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

#[cfg(test)]
mod testing {
    use crate::options::FitRow;
    use std::path::PathBuf;

    pub(super) fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sgdnoise-report-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    pub(super) fn find<'a>(fits: &'a [FitRow], quantity: &str, condition: &str) -> &'a FitRow {
        fits.iter()
            .find(|r| r.quantity == quantity && r.condition == condition)
            .unwrap_or_else(|| panic!("no fit {quantity} / {condition} in {fits:#?}"))
    }
}
