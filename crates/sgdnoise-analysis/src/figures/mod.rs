//! The figures of [`analyze`](crate::report::analyze), one file per kind of sweep
//! (`perceptron`, `tsweep`, `phase`, `batch`), and what they share: the context [`Ctx`] that saves plots
//! and the CSVs behind them and records fitted numbers, the fit helpers (power-law and joint
//! fits with bootstrap, the dashed lines that draw them) and small formatting helpers.

mod batch;
mod perceptron;
mod phase;
mod tsweep;

pub(crate) use batch::batch;
pub use batch::{b_star_of_columns, BStar, RATIO as B_STAR_RATIO};
pub(crate) use perceptron::perceptron;
pub(crate) use phase::phase;
pub(crate) use tsweep::tsweep;

use crate::fit::{
    bootstrap, bootstrap_many, fit_power_law, fit_power_law_2, Estimate, FitRange, PowerLaw,
};
use crate::options::{cond_cell, cond_columns, AnalysisOptions, Condition, Conds, FitRow, FitUse};
use crate::plot::{Band, Dash, Formats, Heatmap, Line, LinePlot, Pt, Scale, Series};
use crate::{fmt_num, group_by, Axis, CurvePoint, Observable, SeedTable};
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
    /// The figures saved so far: (stem, title as plain text), for the report.
    pub(crate) figures: Vec<(String, String)>,
}

pub(crate) fn csv_err(path: &Path, e: csv::Error) -> sgdnoise_core::Error {
    sgdnoise_core::Error::Other(format!("writing {}: {e}", path.display()))
}

/// A number in a CSV cell, as a float: see [`crate::options::plain_num`] (empty for NaN).
pub(crate) fn num(v: f64) -> String {
    crate::options::plain_num(v)
}

/// The name of a setting axis as the settings table and `collect` name it: the column name of
/// its values in every CSV.
pub(crate) fn setting_name(a: Axis) -> &'static str {
    match a {
        Axis::Temp => "temp",
        Axis::Lr => "lr",
        Axis::Ptr => "ptr",
        Axis::Alpha => "alpha",
        Axis::Chi => "chi",
        Axis::Dim => "dim",
        Axis::Batch => "batch",
        Axis::Width => "width",
    }
}

/// The condition `a = v`: label "P=128", column `ptr` = 128.
pub(crate) fn cond_of(a: Axis, v: f64) -> Condition {
    Condition {
        label: a.condition(v),
        conds: Conds::new().num(setting_name(a), v),
    }
}

/// The statistics columns of every figure CSV, after its key, x and condition columns.
const POINT_COLUMNS: [&str; 14] = [
    "y",
    "y_lo",
    "y_hi",
    "n_seeds",
    "n_runs",
    "n_diverged",
    "n_capped",
    "in_fit",
    "mean",
    "sd",
    "sem",
    "capped_mean",
    "gmean",
    "gsd",
];

impl Ctx<'_> {
    fn table(&self, runs: &[&Summary], x: Axis, obs: Observable) -> SeedTable {
        SeedTable::new(runs, x, obs, &self.seeds)
    }

    fn save_plot(&mut self, stem: &str, p: &LinePlot) -> Result<(), sgdnoise_core::Error> {
        self.files
            .extend(p.save_as(&self.out.join(stem), self.formats())?);
        self.figures
            .push((stem.to_string(), crate::plot::plain_text(&p.title)));
        Ok(())
    }

    fn formats(&self) -> Formats {
        Formats {
            print: self.opts.print,
        }
    }

    /// Writes `stem.csv` with one block of rows per curve, each keyed by its condition (a
    /// [`Condition`], or a bare label for curves without setting values, e.g. "method (a)").
    fn write_curves<K: Clone + Into<Condition>>(
        &mut self,
        stem: &str,
        x_name: &str,
        curves: &[(K, Vec<Drawn>)],
    ) -> Result<(), sgdnoise_core::Error> {
        let rows: Vec<(Condition, &Drawn)> = curves
            .iter()
            .flat_map(|(key, pts)| {
                let key: Condition = key.clone().into();
                pts.iter().map(move |p| (key.clone(), p))
            })
            .collect();
        self.write_points(stem, Some("series"), x_name, &rows)
    }

    /// Writes `stem.csv` in one tidy long format, one row per point: `series` (the curve's
    /// label, when `key_name` is given), the point's x under the setting's name (`temp`,
    /// `ptr`, `alpha`), the curve's condition columns (`ptr` = 128, `chi` = 1, ...: one per
    /// condition name of any curve, numbers as numbers; without `key_name`, as for heatmap
    /// cells, they come first: `alpha`, then x), then [`POINT_COLUMNS`]: `y`, `y_lo`,
    /// `y_hi` the drawn centre and interval (see [`Drawn`]), `n_seeds` the seeds its value
    /// rests on, `n_runs`, `n_diverged`, `n_capped` its runs and how many diverged or were
    /// capped, `in_fit` (1 where it enters fits), `mean`, `sd`, `sem` over the finished seeds,
    /// `capped_mean` the mean at the cap of the capped runs, `gmean`, `gsd` the geometric mean
    /// and standard deviation (a factor).
    fn write_points(
        &mut self,
        stem: &str,
        key_name: Option<&str>,
        x_name: &str,
        rows: &[(Condition, &Drawn)],
    ) -> Result<(), sgdnoise_core::Error> {
        let path = self.out.join(format!("{stem}.csv"));
        let mut w = csv::Writer::from_path(&path).map_err(|e| csv_err(&path, e))?;
        let conds: Vec<String> = cond_columns(rows.iter().map(|(k, _)| &k.conds))
            .into_iter()
            .filter(|c| c != x_name && Some(c.as_str()) != key_name)
            .collect();
        let mut header: Vec<&str> = key_name.into_iter().collect();
        if key_name.is_some() {
            header.push(x_name);
            header.extend(conds.iter().map(String::as_str));
        } else {
            header.extend(conds.iter().map(String::as_str));
            header.push(x_name);
        }
        header.extend(POINT_COLUMNS);
        w.write_record(&header).map_err(|e| csv_err(&path, e))?;
        for (key, d) in rows {
            let p = &d.p;
            let mut r: Vec<String> = key_name.map(|_| key.label.clone()).into_iter().collect();
            let cells = conds.iter().map(|c| cond_cell(&key.conds, c));
            let x = crate::options::setting_num(x_name, p.x);
            if key_name.is_some() {
                r.push(x);
                r.extend(cells);
            } else {
                r.extend(cells);
                r.push(x);
            }
            r.extend([
                num(d.y),
                num(d.lo),
                num(d.hi),
                p.n.to_string(),
                p.n_runs.to_string(),
                p.n_diverged.to_string(),
                p.n_capped.to_string(),
                u8::from(p.in_fit).to_string(),
                num(p.mean),
                num(p.sd),
                num(p.sem),
                num(p.capped_mean),
                num(d.gmean),
                num(d.gsd),
            ]);
            w.write_record(&r).map_err(|e| csv_err(&path, e))?;
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
        condition: impl Into<Condition>,
        e: Estimate,
        theory: Option<f64>,
        method: String,
        usage: &FitUse,
    ) {
        let c: Condition = condition.into();
        let mut row = FitRow::new(figure, quantity, against, e)
            .at(c.conds)
            .theory(theory)
            .method(method)
            .usage(usage);
        row.condition = c.label;
        self.fits.push(row);
    }

    /// What a fit over the points of `tables` with x in `range` uses and leaves out.
    fn usage(&self, tables: &[&SeedTable], range: FitRange) -> FitUse {
        let mut u = FitUse {
            n_seeds: self.seeds.len(),
            n_seeds_min: SeedTable::fewest_of(tables.iter().copied()),
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
        condition: impl Into<Condition>,
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
        let pts = |w: Option<&[u32]>| joint_points(curves, range, w);
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
        self.files
            .extend(h.save_as(&self.out.join(stem), self.formats())?);
        self.figures
            .push((stem.to_string(), crate::plot::plain_text(&h.title)));
        Ok(())
    }

    /// Writes `stem.csv` with one row per heatmap cell: `alpha`, the vertical setting `y_name`
    /// (`temp` or `lr`), then the seed statistics (see [`Ctx::write_points`]).
    fn write_cells(
        &mut self,
        stem: &str,
        y_name: &str,
        rows: &[(f64, Drawn)],
    ) -> Result<(), sgdnoise_core::Error> {
        let rows: Vec<(Condition, &Drawn)> = rows
            .iter()
            .map(|(a, p)| (cond_of(Axis::Alpha, *a), p))
            .collect();
        // No series: alpha (the heatmap's horizontal axis) first, then the vertical setting.
        self.write_points(stem, None, y_name, &rows)
    }
}

/// A series of estimates against x (T_c per P, T_opt per alpha, B* per P): each point at its
/// value with its bootstrap interval drawn as a bar.
pub(crate) fn estimate_series(label: impl Into<String>, pts: &[(f64, Estimate)]) -> Series {
    Series {
        label: label.into(),
        points: pts
            .iter()
            .map(|(x, e)| Pt {
                x: *x,
                y: e.value,
                lo: e.ci_low,
                hi: e.ci_high,
            })
            .collect(),
        bars: true,
        ..Default::default()
    }
}

/// A point of a figure: its seed statistics and what is drawn of it.
///
/// On a log axis the figure draws the geometric mean over seeds with the band ×/÷ the
/// geometric standard deviation (a spread that stays on the axis); on a linear axis the mean
/// ± one standard deviation. Estimates with a confidence interval (T_c, T_opt) are drawn at
/// their value with the interval.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Drawn {
    pub(crate) p: CurvePoint,
    /// Geometric mean and geometric standard deviation (a factor >= 1) over the seeds; NaN
    /// unless every seed's value is positive.
    pub(crate) gmean: f64,
    pub(crate) gsd: f64,
    /// The centre and the interval the figure draws.
    pub(crate) y: f64,
    pub(crate) lo: f64,
    pub(crate) hi: f64,
}

impl Drawn {
    /// An estimate with its interval at `x`, from `n` seeds.
    pub(crate) fn estimate(x: f64, e: &Estimate, n: usize) -> Drawn {
        Drawn {
            p: CurvePoint {
                x,
                mean: e.value,
                sd: f64::NAN,
                sem: f64::NAN,
                n,
                n_runs: 0,
                n_diverged: 0,
                n_capped: 0,
                in_fit: true,
                capped_mean: f64::NAN,
            },
            gmean: f64::NAN,
            gsd: f64::NAN,
            y: e.value,
            lo: e.ci_low,
            hi: e.ci_high,
        }
    }

    /// The point with x multiplied by `fx` and every value divided by `fy` (collapses).
    pub(crate) fn scaled(mut self, fx: f64, fy: f64) -> Drawn {
        self.p.x *= fx;
        self.p.mean /= fy;
        self.p.sd /= fy;
        self.p.sem /= fy;
        self.gmean /= fy;
        self.y /= fy;
        self.lo /= fy;
        self.hi /= fy;
        self
    }
}

/// The cells of a heatmap over two settings, each axis on the log lattice its values lie on
/// ([`crate::plot::log_lattice`]): an adaptive search samples some lattice values only, and its
/// rows must sit where they belong, not evenly one under the other. Every cell starts
/// [`Cell::NotRun`]; a cell with runs is set from its drawn point.
pub(crate) struct HeatGrid {
    pub(crate) xs: Vec<f64>,
    pub(crate) ys: Vec<f64>,
    pub(crate) cells: Vec<Vec<crate::plot::Cell>>,
}

impl HeatGrid {
    pub(crate) fn new(xs: &[f64], ys: &[f64]) -> HeatGrid {
        let xs = crate::plot::log_lattice(xs);
        let ys = crate::plot::log_lattice(ys);
        let cells = vec![vec![crate::plot::Cell::NotRun; xs.len()]; ys.len()];
        HeatGrid { xs, ys, cells }
    }

    fn index(vals: &[f64], v: f64) -> Option<usize> {
        vals.iter()
            .position(|g| *g == v)
            .or_else(|| vals.iter().position(|g| (g - v).abs() <= 1e-9 * g.abs()))
    }

    /// Sets the cell at (x, y); a value on neither lattice is ignored (it cannot happen: the
    /// lattices hold every value they were made from).
    pub(crate) fn set(&mut self, x: f64, y: f64, cell: crate::plot::Cell) {
        if let (Some(ix), Some(iy)) = (Self::index(&self.xs, x), Self::index(&self.ys, y)) {
            self.cells[iy][ix] = cell;
        }
    }

    /// Sets the cell at (x, d's setting) from a drawn point: diverged, capped, a value, or
    /// runs without a finished one.
    pub(crate) fn set_drawn(&mut self, x: f64, d: &Drawn) {
        use crate::plot::Cell;
        let p = d.p;
        let cell = if p.is_diverged() {
            Cell::Diverged
        } else if p.n > 0 && p.n_capped > 0 {
            Cell::Capped(d.y)
        } else if p.n > 0 {
            Cell::Value(d.y)
        } else {
            Cell::Missing
        };
        self.set(x, p.x, cell);
    }

    /// " · k of n cells not run" when the sweep left cells of the lattice out, else "".
    pub(crate) fn not_run_note(&self) -> String {
        let k = self
            .cells
            .iter()
            .flatten()
            .filter(|c| matches!(c, crate::plot::Cell::NotRun))
            .count();
        if k == 0 {
            return String::new();
        }
        format!(" · {k} of {} cells not run", self.xs.len() * self.ys.len())
    }
}

/// The points of a seed table as drawn on a log (`log`) or linear axis.
///
/// A point that enters fits ([`CurvePoint::in_fit`]) is drawn from its finished seeds, the
/// values its fits use. A point left out of fits is drawn from its finished seeds and, where
/// runs were stopped by a cap, their values at the cap (`SeedTable::capped_values`); such a
/// point is drawn open (see [`series_of`]).
pub(crate) fn drawn_points(t: &SeedTable, log: bool) -> Vec<Drawn> {
    t.points()
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let mut vals: Vec<f64> = t.values[i]
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .collect();
            if !p.in_fit {
                vals.extend(t.capped_values[i].iter().copied().filter(|v| v.is_finite()));
            }
            let n = vals.len();
            let all_positive = n > 0 && vals.iter().all(|v| *v > 0.0);
            let (gmean, gsd) = if all_positive {
                let l: Vec<f64> = vals.iter().map(|v| v.ln()).collect();
                let m = l.iter().sum::<f64>() / n as f64;
                let sd = if n < 2 {
                    0.0
                } else {
                    (l.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
                };
                (m.exp(), sd.exp())
            } else {
                (f64::NAN, f64::NAN)
            };
            let (mean, sd) = if n == p.n {
                (p.mean, p.sd)
            } else {
                let (m, sd, _) = crate::seeds::weighted_mean_sd(&vals, None);
                (m, sd)
            };
            let (y, lo, hi) = if log && all_positive {
                if n > 1 {
                    (gmean, gmean / gsd, gmean * gsd)
                } else {
                    (gmean, f64::NAN, f64::NAN)
                }
            } else if !log && n > 1 {
                (mean, mean - sd, mean + sd)
            } else if n > 0 {
                (mean, f64::NAN, f64::NAN)
            } else {
                (f64::NAN, f64::NAN, f64::NAN)
            };
            Drawn {
                p,
                gmean,
                gsd,
                y,
                lo,
                hi,
            }
        })
        .collect()
}

/// Whether the value at a cap is a lower bound of the observable (it only grows in training).
pub(crate) fn capped_is_lower_bound(obs: Observable) -> bool {
    matches!(
        obs,
        Observable::TStar
            | Observable::Steps
            | Observable::RelWeightChange
            | Observable::RelWeightChangeLayerMean
            | Observable::WallSeconds
    )
}

/// A curve of the figure: points where most runs diverged become × marks, points left out of
/// fits whose drawn value includes runs stopped by a cap open markers.
///
/// `full`: the seeds of a point that has them all (the sweep's seed count); a shown point with
/// runs of fewer seeds (an adaptive search's partial point) is listed in `few_seeds`.
pub(crate) fn series_of(label: String, pts: &[Drawn], full: usize) -> Series {
    let shown = |d: &&Drawn| d.y.is_finite() && !d.p.is_diverged();
    Series {
        label,
        points: pts
            .iter()
            .filter(shown)
            .map(|d| Pt {
                x: d.p.x,
                y: d.y,
                lo: d.lo,
                hi: d.hi,
            })
            .collect(),
        diverged: pts
            .iter()
            .filter(|d| d.p.is_diverged())
            .map(|d| d.p.x)
            .collect(),
        capped: pts
            .iter()
            .filter(shown)
            .filter(|d| !d.p.in_fit && d.p.n_capped > 0)
            .map(|d| d.p.x)
            .collect(),
        few_seeds: pts
            .iter()
            .filter(shown)
            .filter(|d| d.p.n_runs > 0 && d.p.n_runs < full)
            .map(|d| d.p.x)
            .collect(),
        bars: false,
    }
}

/// A dashed line of a power law between x0 and x1 (its fit range).
pub(crate) fn law_line(
    label: String,
    law: &PowerLaw,
    x0: f64,
    x1: f64,
    color: Option<usize>,
) -> Line {
    Line {
        label,
        from: (x0, law.eval(x0)),
        to: (x1, law.eval(x1)),
        color,
        dash: Dash::FIT,
    }
}

/// A dotted theory line of slope `slope` (log-log) through `anchor`, from x0 to x1.
pub(crate) fn theory_line(label: String, slope: f64, anchor: (f64, f64), x0: f64, x1: f64) -> Line {
    let at = |x: f64| anchor.1 * (x / anchor.0).powf(slope);
    Line {
        label,
        from: (x0, at(x0)),
        to: (x1, at(x1)),
        color: None,
        dash: Dash::THEORY,
    }
}

/// `n` log-spaced values from x0 to x1.
fn log_grid(x0: f64, x1: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|k| (x0.ln() + (x1.ln() - x0.ln()) * k as f64 / (n - 1) as f64).exp())
        .collect()
}

/// A fitted power law with its interval, the range of x it was fitted on and its 95 % band.
pub(crate) struct Fitted {
    pub(crate) e: Estimate,
    pub(crate) law: PowerLaw,
    pub(crate) x0: f64,
    pub(crate) x1: f64,
    /// (x, lo, hi): the percentile band of the fitted value over the seed resamples.
    pub(crate) band: Vec<(f64, f64, f64)>,
}

impl Fitted {
    /// The fit's dashed line and its band, over its fit range.
    pub(crate) fn drawing(&self, label: String, color: Option<usize>) -> (Line, Band) {
        (
            law_line(label, &self.law, self.x0, self.x1, color),
            Band::between(String::new(), color, &self.band),
        )
    }
}

/// A joint fit y ~ c T^e1 P^e2 with its estimates [e1, e2, e2/e1] and, per P, its line over
/// the T range that P contributed, with the 95 % band.
pub(crate) struct JointFit {
    pub(crate) est: Vec<Estimate>,
    /// What the fit used and left out.
    pub(crate) usage: FitUse,
    pub(crate) lines: Vec<Line>,
    pub(crate) bands: Vec<Band>,
}

impl Ctx<'_> {
    /// The percentile band of a power law refitted on every seed resample, on 24 log-spaced x
    /// in [x0, x1].
    fn law_band(
        &self,
        law_of: &dyn Fn(Option<&[u32]>) -> Option<PowerLaw>,
        x0: f64,
        x1: f64,
    ) -> Vec<(f64, f64, f64)> {
        if !(x0 > 0.0 && x1 > x0) {
            return Vec::new();
        }
        let grid = log_grid(x0, x1, 24);
        let est = bootstrap_many(
            self.seeds.len(),
            grid.len(),
            &|w| law_of(w).map(|l| grid.iter().map(|x| l.eval(*x).ln()).collect()),
            &self.opts.bootstrap,
        );
        band_of(&grid, est)
    }

    /// A power fit on a seed table with its drawing data (see [`Ctx::power_fit`]).
    #[allow(clippy::too_many_arguments)]
    fn power_fit_drawn(
        &mut self,
        figure: &str,
        quantity: &str,
        against: Axis,
        condition: impl Into<Condition>,
        table: &SeedTable,
        range: FitRange,
        theory: Option<f64>,
    ) -> Option<Fitted> {
        let (e, law) =
            self.power_fit(figure, quantity, against, condition, table, range, theory)?;
        let used: Vec<f64> = table
            .means(None)
            .into_iter()
            .filter(|(x, y)| *x > 0.0 && *y > 0.0 && range.contains(*x))
            .map(|p| p.0)
            .collect();
        let (x0, x1) = range_of(&used);
        let band = self.law_band(&|w| fit_power_law(&table.means(w), range), x0, x1);
        Some(Fitted {
            e,
            law,
            x0,
            x1,
            band,
        })
    }

    /// Joint fit y ~ T^e1 P^e2 over the curves (P, table of y against T), T in `range`, with
    /// its lines and bands; `names` are the symbols of e1 and e2 for the legend.
    fn joint_fit_drawn(
        &self,
        curves: &[(f64, SeedTable)],
        range: FitRange,
        names: (&str, &str),
    ) -> Option<JointFit> {
        let (est, c, usage) = self.joint_fit(curves, range)?;
        // Per P, the T range its points gave the fit.
        let spans: Vec<(f64, f64, f64)> = curves
            .iter()
            .filter_map(|(p, t)| {
                let ts: Vec<f64> = t
                    .means(None)
                    .into_iter()
                    .filter(|(x, y)| *x > 0.0 && *y > 0.0 && range.contains(*x))
                    .map(|q| q.0)
                    .collect();
                let (t0, t1) = range_of(&ts);
                (ts.len() >= 2).then_some((*p, t0, t1))
            })
            .collect();
        let grids: Vec<Vec<f64>> = spans.iter().map(|s| log_grid(s.1, s.2, 16)).collect();
        let pts = |w: Option<&[u32]>| joint_points(curves, range, w);
        let k: usize = grids.iter().map(Vec::len).sum();
        let values = bootstrap_many(
            self.seeds.len(),
            k,
            &|w| {
                let (c, e1, e2) = fit_power_law_2(&pts(w))?;
                Some(
                    spans
                        .iter()
                        .zip(&grids)
                        .flat_map(|((p, _, _), g)| {
                            g.iter().map(move |t| (c * t.powf(e1) * p.powf(e2)).ln())
                        })
                        .collect(),
                )
            },
            &self.opts.bootstrap,
        );
        let mut lines = Vec::new();
        let mut bands = Vec::new();
        let mut offset = 0;
        for (i, ((p, t0, t1), g)) in spans.iter().zip(&grids).enumerate() {
            let color = curves.iter().position(|(q, _)| q == p);
            let law = PowerLaw {
                exponent: est[0].value,
                prefactor: c * p.powf(est[1].value),
                n: 0,
            };
            let label = if i == 0 {
                format!(
                    "joint fit ∝ T^{{{}}} P^{{{}}}: {} = {:.2}, {} = {:.2}",
                    names.0, names.1, names.0, est[0].value, names.1, est[1].value
                )
            } else {
                String::new()
            };
            lines.push(law_line(label, &law, *t0, *t1, color));
            let part = values
                .as_ref()
                .map(|v| v[offset..offset + g.len()].to_vec());
            offset += g.len();
            let label = if i == 0 {
                "95% CI of the joint fit".to_string()
            } else {
                String::new()
            };
            bands.push(Band::between(label, color, &band_of(g, part)));
        }
        Some(JointFit {
            est,
            usage,
            lines,
            bands,
        })
    }

    /// The line of the subtitle that says how many seeds and what the points and bands are.
    pub(crate) fn spread_note(&self, log: bool) -> String {
        let what = if log {
            "points: geometric mean over seeds, band: ×/÷ geometric s.d."
        } else {
            "points: mean over seeds, band: ± 1 s.d."
        };
        format!("{} · {what}", self.seeds_note())
    }

    /// "5 seeds", with a warning below 5.
    pub(crate) fn seeds_note(&self) -> String {
        let n = self.seeds.len();
        let s = if n == 1 { "" } else { "s" };
        if n < 5 {
            format!("{n} seed{s} (fewer than 5: spreads and intervals are rough)")
        } else {
            format!("{n} seeds")
        }
    }
}

/// (x, e^lo, e^hi) from bootstrap estimates of ln y on a grid (empty without intervals).
fn band_of(grid: &[f64], est: Option<Vec<Estimate>>) -> Vec<(f64, f64, f64)> {
    let Some(est) = est else {
        return Vec::new();
    };
    grid.iter()
        .zip(est)
        .filter(|(_, e)| e.ci_low.is_finite() && e.ci_high.is_finite())
        .map(|(x, e)| (*x, e.ci_low.exp(), e.ci_high.exp()))
        .collect()
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

/// A number as a physicist writes it in a label: integers plainly, other powers of two as
/// 2^k (markup), else 4 significant digits.
pub(crate) fn math_num(v: f64) -> String {
    if v.is_finite() && v == v.round() && v.abs() < 1e9 {
        return format!("{}", v as i64);
    }
    if v > 0.0 {
        let k = v.log2();
        if (k - k.round()).abs() < 1e-9 {
            let k = k.round() as i64;
            return format!(
                "2^{{{}}}",
                if k < 0 {
                    format!("−{}", -k)
                } else {
                    k.to_string()
                }
            );
        }
    }
    fmt_num(v)
}

/// The symbol of a setting in labels.
pub(crate) fn axis_symbol(a: Axis) -> &'static str {
    match a {
        Axis::Temp => "T",
        Axis::Lr => "η",
        Axis::Ptr => "P",
        Axis::Alpha => "α",
        Axis::Chi => "χ",
        Axis::Dim => "d",
        Axis::Batch => "B",
        Axis::Width => "h",
    }
}

/// "P = 1024", "T = 2^{−3}", "χ = 1": a legend entry or condition in a label.
pub(crate) fn math(a: Axis, v: f64) -> String {
    format!("{} = {}", axis_symbol(a), math_num(v))
}

/// The axis label of a setting.
pub(crate) fn axis_name(a: Axis) -> &'static str {
    match a {
        Axis::Temp => "temperature T = η/(B h)",
        Axis::Lr => "learning rate η",
        Axis::Ptr => "training-set size P",
        Axis::Alpha => "output scale α",
        Axis::Chi => "density exponent χ",
        Axis::Dim => "input dimension d",
        Axis::Batch => "batch size B",
        Axis::Width => "width h",
    }
}

/// The axis label of an observable.
pub(crate) fn obs_name(o: Observable) -> &'static str {
    match o {
        Observable::TestErr => "test error",
        Observable::TrainErr => "training error",
        Observable::RelWeightChange => "relative weight change ‖w − w_{0}‖/‖w_{0}‖",
        Observable::RelWeightChangeLayerMean => "layer mean of ‖w_{l} − w_{l,0}‖/‖w_{l,0}‖",
        Observable::TStar => "training time t* = η × steps",
        Observable::Steps => "SGD steps",
        Observable::Signal => "signal w_{1} − w_{0,1}",
        Observable::Noise => "noise ‖w_{⊥} − w_{0,⊥}‖",
        Observable::SignalToNoise => "signal/noise (w_{1} − w_{0,1})/‖w_{⊥} − w_{0,⊥}‖",
        Observable::WallSeconds => "wall time (s)",
        Observable::NtkRelChange => "relative NTK change ‖K − K_{0}‖_{F}/‖K_{0}‖_{F}",
    }
}

/// The short name of an observable in titles.
pub(crate) fn obs_short(o: Observable) -> &'static str {
    match o {
        Observable::TestErr => "Test error",
        Observable::TrainErr => "Training error",
        Observable::RelWeightChange => "Weight change ‖w − w_{0}‖/‖w_{0}‖",
        Observable::RelWeightChangeLayerMean => "Layer-mean weight change",
        Observable::TStar => "Training time t*",
        Observable::Steps => "SGD steps",
        Observable::Signal => "Signal",
        Observable::Noise => "Noise",
        Observable::SignalToNoise => "Signal/noise",
        Observable::WallSeconds => "Wall time",
        Observable::NtkRelChange => "NTK change ‖K − K_{0}‖/‖K_{0}‖",
    }
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
    let mut p = LinePlot::new(title, axis_name(x), obs_name(obs), Scale::Log2, y_scale);
    p.subtitle = ctx.spread_note(y_scale.is_log());
    p.capped_lower_bound = capped_is_lower_bound(obs);
    p.full_seeds = ctx.seeds.len();
    let mut tables = Vec::new();
    let mut csv_curves = Vec::new();
    for (v, group) in group_by(runs, by) {
        let t = ctx.table(&group, x, obs);
        let pts = drawn_points(&t, y_scale.is_log());
        p.series.push(series_of(math(by, v), &pts, ctx.seeds.len()));
        csv_curves.push((cond_of(by, v), pts));
        tables.push((v, t));
    }
    ctx.write_curves(stem, setting_name(x), &csv_curves)?;
    Ok((p, tables))
}

/// The points (T, P, seed mean of y) of a joint fit over `curves` (P, table of y against T), T in
/// `range`, for the seeds `w` (all seeds for `None`, a bootstrap resample otherwise).
fn joint_points(
    curves: &[(f64, SeedTable)],
    range: FitRange,
    w: Option<&[u32]>,
) -> Vec<(f64, f64, f64)> {
    curves
        .iter()
        .flat_map(|(p, t)| {
            t.means(w)
                .into_iter()
                .filter(|(x, _)| range.contains(*x))
                .map(move |(x, y)| (x, *p, y))
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeds::testing::summary;

    #[test]
    fn log_spreads_stay_on_the_axis() {
        // Three seeds a decade apart: mean - s.d. is negative, so a ± s.d. bar on a log axis
        // would run to the bottom of the plot; the geometric spread stays on it.
        let runs: Vec<Summary> = [0.01, 0.1, 1.0]
            .iter()
            .enumerate()
            .map(|(k, v)| summary("mlp", 256, 0.5, 1.0, k as i64, *v, 0.1, 1.0))
            .collect();
        let refs: Vec<&Summary> = runs.iter().collect();
        let t = SeedTable::new(&refs, Axis::Temp, Observable::TestErr, &[0, 1, 2]);
        let p = t.points()[0];
        assert!(p.mean - p.sd < 0.0);
        let d = drawn_points(&t, true)[0];
        assert!((d.y - 0.1).abs() < 1e-12, "{d:?}");
        assert!((d.gsd - 10.0).abs() < 1e-9);
        assert!(
            (d.lo - 0.01).abs() < 1e-12 && (d.hi - 1.0).abs() < 1e-9,
            "{d:?}"
        );
        // On a linear axis: the mean ± one s.d.
        let l = drawn_points(&t, false)[0];
        assert!((l.y - p.mean).abs() < 1e-15 && (l.lo - (p.mean - p.sd)).abs() < 1e-15);
        // A majority of capped runs leaves the point out of fits and makes it open (drawn at
        // the values at the cap); a diverged majority makes it a ×.
        let mut capped = runs.clone();
        capped[0].stop_reason = sgdnoise_core::train::StopReason::MaxSteps;
        capped[1].stop_reason = sgdnoise_core::train::StopReason::MaxSteps;
        let refs: Vec<&Summary> = capped.iter().collect();
        let t = SeedTable::new(&refs, Axis::Temp, Observable::TestErr, &[0, 1, 2]);
        let s = series_of("x".into(), &drawn_points(&t, true), 3);
        assert_eq!((s.capped.len(), s.diverged.len()), (1, 0));
    }

    #[test]
    fn joint_fit_lines_stop_where_each_curve_stops() {
        // y = T P^0.5 (seed noise 1 %); P = 1024 has no runs above T = 2^-3.
        let mut runs = Vec::new();
        for p in [256usize, 1024] {
            for k in -8..=0 {
                if p == 1024 && k > -3 {
                    continue;
                }
                let t = 2f64.powi(k);
                for seed in 0..3 {
                    let y = t * (p as f64).sqrt() * (1.0 + 0.01 * (seed as f64 - 1.0));
                    runs.push(summary("mlp", p, t, 1.0, seed, 0.1, y, 1.0));
                }
            }
        }
        let refs: Vec<&Summary> = runs.iter().collect();
        let opts = AnalysisOptions {
            bootstrap: crate::fit::BootstrapOptions {
                resamples: 100,
                ..Default::default()
            },
            ..Default::default()
        };
        let out = std::env::temp_dir();
        let ctx = Ctx {
            out: &out,
            opts: &opts,
            seeds: vec![0, 1, 2],
            fits: Vec::new(),
            files: Vec::new(),
            notes: Vec::new(),
            sections: Vec::new(),
            warnings: Vec::new(),
            figures: Vec::new(),
        };
        let tables: Vec<(f64, SeedTable)> = group_by(&refs, Axis::Ptr)
            .into_iter()
            .map(|(p, g)| (p, ctx.table(&g, Axis::Temp, Observable::RelWeightChange)))
            .collect();
        let jf = ctx
            .joint_fit_drawn(
                &tables,
                FitRange::new(2f64.powi(-6), f64::INFINITY),
                ("δ", "γ"),
            )
            .unwrap();
        assert!((jf.est[0].value - 1.0).abs() < 1e-6 && (jf.est[1].value - 0.5).abs() < 1e-6);
        assert_eq!(jf.lines.len(), 2);
        // Each line spans exactly the T its curve gave the fit.
        assert_eq!((jf.lines[0].from.0, jf.lines[0].to.0), (2f64.powi(-6), 1.0));
        assert_eq!(
            (jf.lines[1].from.0, jf.lines[1].to.0),
            (2f64.powi(-6), 0.125)
        );
        assert!(jf.lines[0].label.contains("δ = 1.00") && jf.lines[1].label.is_empty());
        // The band is around the line.
        let b = &jf.bands[0].contours[0];
        let n = b.len() / 2;
        let (x, hi, lo) = (b[n / 2].0, b[n / 2].1, b[b.len() - 1 - n / 2].1);
        let y = x * 256f64.sqrt();
        assert!(lo <= y * 1.0001 && y <= hi * 1.0001, "{lo} {y} {hi}");
    }
}
