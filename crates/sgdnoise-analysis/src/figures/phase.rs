//! Phase-diagram figures over alpha and T (or the learning rate): heatmaps of test error, weight
//! change, t* and steps, test error against T per alpha, and the optimal temperature T_opt(alpha)
//! with its exponent in the feature regime.

use super::{
    axis_name, ci_text, cond_of, curves, drawn_points, law_line, obs_name, obs_short, range_of,
    setting_name, theory_line, Ctx, Drawn, HeatGrid,
};
use crate::crossover::{optimal_temperature, OPTIMAL_TEMPERATURE_METHOD};
use crate::fit::{bootstrap, fit_power_law, FitRange};
use crate::options::FitUse;
use crate::options::{Condition, Conds};
use crate::plot::{Band, Heatmap, LinePlot, Scale};
use crate::{group_by, values_of, Axis, Observable, SeedTable};
use sgdnoise_core::rundir::Summary;

/// " (a point rests on m–n)" when an adaptive search left some points with fewer than the
/// sweep's n seeds (m the fewest, as fits.csv's n_seeds_min and the report's seeds column), else
/// "": a figure's "n seeds" is then the most a point rests on.
fn rests_on(what: &str, fewest: Option<usize>, seeds: usize) -> String {
    match fewest {
        Some(m) if m < seeds => format!(" (a {what} rests on {m}–{seeds})"),
        _ => String::new(),
    }
}

/// Phase diagram over alpha and T: heatmaps, test error against T per alpha, T_opt(alpha).
pub(crate) fn phase(ctx: &mut Ctx, runs: &[&Summary]) -> Result<(), sgdnoise_core::Error> {
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
        let usage = ctx.usage(&[t], FitRange::ALL);
        if let Some(e) = bootstrap(
            ctx.seeds.len(),
            &|w| optimal_temperature(&t.means(w)),
            &ctx.opts.bootstrap,
        ) {
            ctx.row(
                "T_opt_vs_alpha",
                "T_opt",
                "alpha",
                cond_of(Axis::Alpha, *a),
                e,
                None,
                format!(
                    "{OPTIMAL_TEMPERATURE_METHOD}; {}",
                    ctx.opts.bootstrap.describe()
                ),
                &usage,
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
        let mut grid = HeatGrid::new(&alphas, &temps);
        let mut rows = Vec::new();
        let log = obs != Observable::TestErr;
        let mut fewest: Option<usize> = None;
        for (a, g) in &by_alpha {
            let t = ctx.table(g, y_axis, obs);
            fewest = SeedTable::fewest_of([&t]).into_iter().chain(fewest).min();
            for d in drawn_points(&t, log) {
                grid.set_drawn(*a, &d);
                rows.push((*a, d));
            }
        }
        ctx.write_cells(&stem, setting_name(y_axis), &rows)?;
        let h = Heatmap {
            title: format!("Phase diagram: {}", obs_short(obs)),
            subtitle: format!(
                "cells: {} over seeds · {}{}{}",
                if log { "geometric mean" } else { "mean" },
                ctx.seeds_note(),
                rests_on("cell", fewest, ctx.seeds.len()),
                grid.not_run_note()
            ),
            x_label: axis_name(Axis::Alpha).into(),
            y_label: axis_name(y_axis).into(),
            xs: grid.xs,
            ys: grid.ys,
            cells: grid.cells,
            value_label: obs_name(obs).into(),
            log_values: obs != Observable::TestErr,
            markers: if obs == Observable::TestErr && y_axis == Axis::Temp {
                topt.iter().map(|(a, e)| (*a, e.value)).collect()
            } else {
                Vec::new()
            },
            marker_label: "T_{opt} (lowest test error)".into(),
            empty_label: "no finished run".into(),
            categories: Vec::new(),
        };
        ctx.save_heatmap(&stem, &h)?;
    }
    // Test error against T for up to 7 alphas.
    let step = err_tables.len().div_ceil(7).max(1);
    let chosen: Vec<&Summary> = by_alpha
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0)
        .flat_map(|(_, (_, g))| g.iter().copied())
        .collect();
    let (p, _) = curves(
        ctx,
        "test_err_vs_T_per_alpha",
        "Test error against temperature, per output scale α",
        &chosen,
        Axis::Temp,
        Observable::TestErr,
        Axis::Alpha,
        Scale::Log10,
    )?;
    ctx.save_plot("test_err_vs_T_per_alpha", &p)?;
    // T_opt ~ alpha^k in the feature regime.
    let depth = runs
        .first()
        .filter(|s| s.config.arch == Some(sgdnoise_core::settings::Arch::Mlp))
        .and_then(|s| s.config.depth);
    let theory = depth.map(|d| (d as f64 - 1.0) / (d as f64 + 1.0));
    let range = FitRange::new(0.0, ctx.opts.feature_alpha_max);
    let mut p = LinePlot::new(
        "Optimal temperature T_{opt} against output scale α",
        axis_name(Axis::Alpha),
        "optimal temperature T_{opt}",
        Scale::Log2,
        Scale::Log2,
    );
    // An adaptive search's partial points rest on fewer seeds than the sweep's: say so, as
    // fits.csv's n_seeds_min and the report's seeds column do.
    let fewest = SeedTable::fewest_of(err_tables.iter().map(|(_, t)| t));
    p.subtitle = format!(
        "T_{{opt}}: lowest seed-mean test error; bars: 95% bootstrap CI over seeds · {}{}",
        ctx.seeds_note(),
        rests_on("point", fewest, ctx.seeds.len())
    );
    // An alpha without a point is not a point lost: say how many, and why (fits.csv and the
    // report give the same count for the fit).
    let with: Vec<f64> = topt.iter().map(|(a, _)| *a).collect();
    let mut why: Vec<(&str, usize)> = Vec::new();
    for (a, t) in &err_tables {
        if !with.contains(a) {
            let w = why_no_t_opt(t);
            match why.iter_mut().find(|(r, _)| *r == w) {
                Some((_, n)) => *n += 1,
                None => why.push((w, 1)),
            }
        }
    }
    if !why.is_empty() {
        let without: usize = why.iter().map(|(_, n)| n).sum();
        let reasons: Vec<String> = why
            .iter()
            .map(|(r, n)| {
                if why.len() == 1 {
                    r.to_string()
                } else {
                    format!("{r}: {n}")
                }
            })
            .collect();
        p.subtitle.push_str(&format!(
            " · {without} of {} α without T_{{opt}} ({})",
            err_tables.len(),
            reasons.join(", ")
        ));
    }
    p.series.push(super::estimate_series("T_{opt}", &topt));
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
            let cond: Condition = depth.map_or("feature regime".into(), |d| {
                Conds::new().num("depth", d as f64).into()
            });
            let used = topt_of(None);
            let mut usage = FitUse {
                n_points: used.iter().filter(|(a, _)| range.contains(*a)).count(),
                n_seeds: ctx.seeds.len(),
                n_seeds_min: SeedTable::fewest_of(
                    err_tables
                        .iter()
                        .filter(|(a, _)| range.contains(*a))
                        .map(|(_, t)| t),
                ),
                ..Default::default()
            };
            usage.left_out.add_n(
                "alpha outside the feature range",
                used.iter().filter(|(a, _)| !range.contains(*a)).count(),
            );
            // By the figure's reasons (why_no_t_opt), so that fits.csv and the figure agree.
            for (a, t) in &err_tables {
                if !used.iter().any(|(u, _)| u == a) {
                    usage
                        .left_out
                        .add_n(&format!("alpha without T_opt ({})", why_no_t_opt(t)), 1);
                }
            }
            ctx.row(
                "T_opt_vs_alpha",
                "T_opt",
                "alpha",
                cond,
                e,
                theory,
                method,
                &usage,
            );
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
                format!("fit: T_{{opt}} ∝ α^{{k}}, k = {}", ci_text(&e)),
                &law,
                x0,
                x1,
                Some(0),
            ));
            let band = ctx.law_band(&|w| fit_power_law(&topt_of(w), range), x0, x1);
            p.bands
                .push(Band::between("95% CI of the fit".into(), Some(0), &band));
            if let Some(k) = theory {
                let xm = (x0 * x1).sqrt();
                p.lines.push(theory_line(
                    format!("theory: k = (D−1)/(D+1) = {k:.3}"),
                    k,
                    (xm, law.eval(xm)),
                    x0,
                    x1,
                ));
            }
        }
    }
    let n = ctx.seeds.len();
    let csv_t: Vec<(String, Vec<Drawn>)> = vec![(
        "T_opt".into(),
        topt.iter()
            .map(|(a, e)| Drawn::estimate(*a, e, n))
            .collect(),
    )];
    ctx.write_curves("T_opt_vs_alpha", "alpha", &csv_t)?;
    ctx.save_plot("T_opt_vs_alpha", &p)?;
    Ok(())
}

/// Why an alpha's curve has no T_opt: where its lowest seed-mean test error lies among the
/// points that enter ([`optimal_temperature`] needs a point on each side of the minimum).
fn why_no_t_opt(t: &SeedTable) -> &'static str {
    let means = t.means(None);
    let Some(m) = (0..means.len()).min_by(|&i, &j| means[i].1.total_cmp(&means[j].1)) else {
        return "no point enters";
    };
    if m > 0 && m + 1 < means.len() {
        // A minimum inside the curve whose bootstrap found too few resamples with one.
        return "too few resamples with a minimum inside";
    }
    if m == 0 && means.len() > 1 {
        return "lowest at the low end of the T range";
    }
    let last = means[means.len() - 1].0;
    let diverges_above = t.points().iter().any(|q| q.x > last && q.is_diverged());
    if diverges_above {
        "lowest at the last point below divergence"
    } else {
        "lowest at the top of the T range"
    }
}

#[cfg(test)]
mod tests {
    use crate::figures::testing::{find, tmp};
    use crate::fit::BootstrapOptions;
    use crate::report::{analyze, AnalysisOptions};
    use crate::seeds::testing::summary;
    use crate::Axis;
    use crate::Kind;

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
                        s.stop_reason = sgdnoise_core::train::StopReason::Diverged;
                    }
                    runs.push(s);
                }
            }
        }
        // One more alpha (outside the feature range) whose test error falls all the way to the
        // largest T: no T_opt there, which the figure must say rather than just leave a gap.
        for kt in -14..=0 {
            let t = 2f64.powi(kt);
            for seed in 1..=3 {
                let err = 0.2 - 0.005 * (kt + 14) as f64 + 0.001 * seed as f64;
                let mut s = summary("mlp", 1024, t, 8.0, seed, err, 0.1, 10.0);
                s.config.depth = Some(5);
                runs.push(s);
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
        let svg = std::fs::read_to_string(out.join("T_opt_vs_alpha.svg")).unwrap();
        assert!(
            svg.contains("1 of 12 α without T"),
            "the alpha without T_opt is not named"
        );
        // Its test error falls to the largest T, where nothing diverges.
        assert!(svg.contains("lowest at the top of the T range"), "why not");
        // fits.csv leaves it out for the figure's reason, not a generic one.
        assert!(
            k.left_out_why
                .contains("1 alpha without T_opt (lowest at the top of the T range)"),
            "{}",
            k.left_out_why
        );
        assert!(
            !svg.contains("a point rests on"),
            "every point has every seed"
        );
        let heat = std::fs::read_to_string(out.join("phase_test_err.svg")).unwrap();
        assert!(!heat.contains("rests on"), "every cell has every seed");
        // The heatmaps can be drawn over the learning rate instead of T.
        let by_lr = AnalysisOptions {
            phase_y: Axis::Lr,
            ..opts
        };
        analyze(&runs, Kind::Phase, &by_lr, &out).unwrap();
        let csv = std::fs::read_to_string(out.join("phase_test_err.csv")).unwrap();
        assert!(
            csv.starts_with("alpha,lr,y,y_lo,y_hi,n_seeds,"),
            "{}",
            &csv[..40]
        );
        if std::env::var_os("SGDNOISE_KEEP_PLOTS").is_none() {
            let _ = std::fs::remove_dir_all(&out);
        }
    }
    /// Regression: on an adaptive search's store the heatmap's rows were the eta values present,
    /// evenly spaced (2^-15 right under 2^-11), and cells the search never ran looked like cells
    /// whose runs did not finish. Rows now sit on the lattice, and the two are told apart; the
    /// curves mark the points that rest on fewer seeds than the others.
    #[test]
    fn a_phase_heatmap_of_an_adaptive_store_keeps_the_lattice_and_says_what_was_not_run() {
        let mut runs = Vec::new();
        for (ka, kts) in [
            (-3, vec![-11, -10]),
            (-2, vec![-15, -11, -10, -9]),
            (0, vec![-11, -10, -9, -8]),
        ] {
            for kt in kts {
                // One point with a third seed: the others rest on fewer (partial points).
                let seeds = if ka == 0 && kt == -11 { 3 } else { 2 };
                for seed in 1..=seeds {
                    let mut s = summary(
                        "mlp",
                        1024,
                        2f64.powi(kt),
                        2f64.powi(ka),
                        seed,
                        0.1 + 0.001 * ((kt + 10) * (kt + 10)) as f64,
                        0.1,
                        10.0,
                    );
                    s.config.depth = Some(5);
                    runs.push(s);
                }
            }
        }
        let refs: Vec<&sgdnoise_core::rundir::Summary> = runs.iter().collect();
        let temps = crate::values_of(&refs, Axis::Temp);
        assert_eq!(temps.len(), 5);
        let grid = crate::figures::HeatGrid::new(&crate::values_of(&refs, Axis::Alpha), &temps);
        // alpha: 2^-3, 2^-2, 2^-1 (never run), 2^0; T: 2^-15..2^-8, 8 rows.
        assert_eq!(grid.xs.len(), 4);
        assert_eq!(grid.ys.len(), 8);
        let out = tmp("phase-adaptive");
        let opts = AnalysisOptions {
            bootstrap: BootstrapOptions {
                resamples: 20,
                ..Default::default()
            },
            ..Default::default()
        };
        let a = analyze(&runs, Kind::Phase, &opts, &out).unwrap();
        // The T_opt of alpha = 1 read points of 2 and 3 seeds: fits.csv says both.
        let r = find(&a.fits, "T_opt", "alpha=1");
        assert_eq!((r.n_seeds, r.n_seeds_min), (3, Some(2)), "{r:?}");
        // T_opt_vs_alpha says that its points rest on 2 to 3 seeds, and why alpha = 2^-3 has
        // none (its two points fall to the larger T, nothing diverges above).
        let svg = std::fs::read_to_string(out.join("T_opt_vs_alpha.svg")).unwrap();
        assert!(svg.contains("a point rests on 2–3"), "seeds of the points");
        assert!(
            svg.contains("1 of 3 α without T") && svg.contains("lowest at the top of the T range"),
            "why no T_opt"
        );
        let svg = std::fs::read_to_string(out.join("phase_test_err.svg")).unwrap();
        // 32 cells, 10 with runs.
        assert!(svg.contains("22 of 32 cells not run"), "subtitle");
        assert!(svg.contains("a cell rests on 2–3"), "seeds of the cells");
        assert!(svg.contains(">not run<"), "legend");
        // The curves draw the two-seed points with the small marker and say so.
        let svg = std::fs::read_to_string(out.join("test_err_vs_T_per_alpha.svg")).unwrap();
        assert!(svg.contains(">fewer than 3 seeds<"), "legend of the curves");
        for k in [-14, -13, -12] {
            assert!(
                svg.contains(&format!("2^{{−{}}}", -k)) || svg.contains(&format!("−{}<", -k)),
                "no row label 2^{k}"
            );
        }
        if std::env::var_os("SGDNOISE_KEEP_PLOTS").is_none() {
            let _ = std::fs::remove_dir_all(&out);
        }
    }

    #[test]
    fn an_alpha_without_t_opt_says_where_its_minimum_lies() {
        // err(kt) over T = 2^kt, kt = -3..=0, 3 seeds; `div` marks the T where every seed diverges.
        let table = |errs: [f64; 4], div: Option<i32>| {
            let mut runs = Vec::new();
            for (i, kt) in (-3..=0).enumerate() {
                for seed in 1..=3 {
                    let mut s = summary("mlp", 1024, 2f64.powi(kt), 1.0, seed, errs[i], 0.1, 10.0);
                    if div.is_some_and(|d| kt >= d) {
                        s.stop_reason = sgdnoise_core::train::StopReason::Diverged;
                    }
                    runs.push(s);
                }
            }
            let refs: Vec<&sgdnoise_core::rundir::Summary> = runs.iter().collect();
            crate::SeedTable::new(
                &refs,
                Axis::Temp,
                crate::Observable::TestErr,
                &crate::seeds_of(&refs),
            )
        };
        let falling = [0.3, 0.2, 0.15, 0.1];
        assert_eq!(
            super::why_no_t_opt(&table(falling, None)),
            "lowest at the top of the T range"
        );
        assert_eq!(
            super::why_no_t_opt(&table(falling, Some(0))),
            "lowest at the last point below divergence"
        );
        assert_eq!(
            super::why_no_t_opt(&table([0.1, 0.2, 0.3, 0.4], None)),
            "lowest at the low end of the T range"
        );
        assert_eq!(
            super::why_no_t_opt(&table(falling, Some(-3))),
            "no point enters"
        );
    }
}
