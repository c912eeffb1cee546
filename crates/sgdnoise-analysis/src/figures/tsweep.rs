//! Lazy-regime temperature sweep figures: test error, weight change and t* against T per P,
//! the crossover temperature T_c(P) by the three methods of SPEC §8 and its exponent a, the
//! collapses of test error and weight change, and the joint fits rwc ~ T^delta P^gamma and
//! t* ~ T^x P^b.

use super::{
    ci_text, curves, joint_fit_lines, law_line, max_finite_x, range_of, series_of, Ctx, SPREAD,
};
use crate::crossover::ThresholdCrossing;
use crate::fit::{bootstrap, fit_power_law, Estimate, FitRange};
use crate::plot::{LegendAt, LinePlot, Pt, Scale, Series};
use crate::{fmt_num, group_by, values_of, Axis, CurvePoint, Observable};
use sgdnoise_core::rundir::Summary;

/// Lazy-regime temperature sweep: curves against T per P, T_c(P) by the three methods,
/// collapses, weight change ~ T^delta P^gamma, t* ~ T P^b.
pub(crate) fn tsweep(ctx: &mut Ctx, runs: &[&Summary]) -> Result<(), sgdnoise_core::Error> {
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

#[cfg(test)]
mod tests {
    use crate::figures::testing::{find, tmp};
    use crate::fit::BootstrapOptions;
    use crate::report::{analyze, AnalysisOptions};
    use crate::seeds::testing::summary;
    use crate::Kind;
    use rand_distr::{Distribution, Normal};
    use sgdnoise_core::numeric::rng::{stream, Stream};
    use sgdnoise_core::rundir::Summary;

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
                        s.stop_reason = sgdnoise_core::train::StopReason::Diverged;
                        s.test_err = f64::NAN;
                    }
                    runs.push(s);
                }
            }
        }
        runs
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
}
