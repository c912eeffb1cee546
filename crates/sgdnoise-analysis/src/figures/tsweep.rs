//! Lazy-regime temperature sweep figures: test error, weight change and t* against T per P,
//! the crossover temperature T_c(P) by the three methods of SPEC §8 and its exponent a, the
//! collapses of test error and weight change, and the joint fits rwc ~ T^delta P^gamma and
//! t* ~ T^x P^b.

use super::{
    axis_name, ci_text, curves, drawn_points, law_line, math, obs_name, range_of, series_of,
    theory_line, Ctx, Drawn,
};
use crate::crossover::ThresholdCrossing;
use crate::fit::{bootstrap, fit_power_law, Estimate, FitRange};
use crate::plot::{format_tick, Band, Format, LinePlot, Pt, Scale, Series};
use crate::{fmt_num, group_by, values_of, Axis, Observable};
use sgdnoise_core::rundir::Summary;

/// Lazy-regime temperature sweep: curves against T per P, T_c(P) by the three methods,
/// collapses, weight change ~ T^delta P^gamma, t* ~ T P^b.
pub(crate) fn tsweep(ctx: &mut Ctx, runs: &[&Summary]) -> Result<(), sgdnoise_core::Error> {
    let (p_err, err_tables) = curves(
        ctx,
        "test_err_vs_T",
        "Test error against temperature",
        runs,
        Axis::Temp,
        Observable::TestErr,
        Axis::Ptr,
        Scale::Log10,
    )?;
    let (mut p_rwc, rwc_tables) = curves(
        ctx,
        "rwc_vs_T",
        "Weight change ‖w − w_{0}‖/‖w_{0}‖ against temperature",
        runs,
        Axis::Temp,
        Observable::RelWeightChange,
        Axis::Ptr,
        Scale::Log10,
    )?;
    let (mut p_ts, ts_tables) = curves(
        ctx,
        "t_star_vs_T",
        "Training time t* against temperature",
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
        format!(
            "threshold of T_{{c}} method (a): {}",
            format_tick(threshold, Format::Mantissa)
        ),
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
            bars: true,
            ..Default::default()
        });
        tc_values.push((method, vals));
    }
    let mut p_tc = LinePlot::new(
        "Crossover temperature T_{c} against training-set size P",
        axis_name(Axis::Ptr),
        "crossover temperature T_{c}",
        Scale::Log2,
        Scale::Log2,
    );
    p_tc.subtitle = format!("bars: 95% bootstrap CI over seeds · {}", ctx.seeds_note());
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
            // Over the P that have a T_c, with the band of the refitted law.
            let (x0, x1) = range_of(&tc_of(None).iter().map(|v| v.0).collect::<Vec<_>>());
            p_tc.lines.push(law_line(
                format!("fit {label}: T_{{c}} ∝ P^{{−a}}, a = {}", ci_text(&e)),
                &law,
                x0,
                x1,
                Some(i),
            ));
            let band = ctx.law_band(&|w| fit_power_law(&tc_of(w), FitRange::ALL), x0, x1);
            p_tc.bands.push(Band::between(
                if i == 0 {
                    "95% CI of the fits".into()
                } else {
                    String::new()
                },
                Some(i),
                &band,
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
        a_collapse = Some(e);
    } else {
        ctx.notes
            .push("T_c method (c): no collapse exponent inside the scanned range".into());
    }
    ctx.save_plot("T_c_vs_P", &p_tc)?;
    {
        let n = ctx.seeds.len();
        let tc_csv: Vec<(String, Vec<Drawn>)> = tc_values
            .iter()
            .map(|(m, v)| {
                (
                    m.clone(),
                    v.iter().map(|(p, e)| Drawn::estimate(*p, e, n)).collect(),
                )
            })
            .collect();
        ctx.write_curves("T_c_vs_P", "P", &tc_csv)?;
    }

    // Collapse figure: test error against T (P/P_ref)^a, P_ref the geometric mean of the P
    // (so that the axis stays in the range of T), with the band each curve sweeps over the
    // interval of a.
    let p_ref = geometric_mean(&err_tables.iter().map(|t| t.0).collect::<Vec<_>>());
    let collapse_a = a_collapse
        .map(|e| (e, "method (c)"))
        .or(a_estimates.first().map(|e| (*e, "method (a)")));
    if let Some((ea, which)) = collapse_a {
        let a = ea.value;
        let mut p = LinePlot::new(
            &format!("Collapse of the test error: a = {} ({which})", ci_text(&ea)),
            &format!(
                "T · (P/P_{{ref}})^{{a}}, P_{{ref}} = {}",
                fmt_num(p_ref.round())
            ),
            obs_name(Observable::TestErr),
            Scale::Log2,
            Scale::Log10,
        );
        p.subtitle = format!(
            "points: geometric mean over seeds · shaded: where each curve lies for a in its 95% CI · {}",
            ctx.seeds_note()
        );
        let mut csv_c = Vec::new();
        for (i, (pv, t)) in err_tables.iter().enumerate() {
            let r = pv / p_ref;
            let pts: Vec<Drawn> = drawn_points(t, true)
                .into_iter()
                .map(|d| d.scaled(r.powf(a), 1.0))
                .collect();
            p.series
                .push(without_spread(series_of(math(Axis::Ptr, *pv), &pts)));
            if ea.ci_low.is_finite() && (r - 1.0).abs() > 1e-9 {
                let shown = shown_points(t);
                let at = |e: f64| -> Vec<(f64, f64)> {
                    shown.iter().map(|(x, y)| (x * r.powf(e), *y)).collect()
                };
                p.bands.push(Band::swept(
                    String::new(),
                    Some(i),
                    &at(ea.ci_low),
                    &at(ea.ci_high),
                ));
            }
            csv_c.push((Axis::Ptr.condition(*pv), pts));
        }
        ctx.write_curves("test_err_collapse", "T_(P/P_ref)^a", &csv_c)?;
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
    if let Some(jf) = ctx.joint_fit_drawn(&rwc_tables, range, ("δ", "γ")) {
        let est = &jf.est;
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
        p_rwc.lines.extend(jf.lines);
        p_rwc.bands.extend(jf.bands);
        // Collapse of the weight change: rwc / (P/P_ref)^gamma against T, with the band each
        // curve sweeps over the interval of gamma.
        let eg = est[1];
        let g = eg.value;
        let mut p = LinePlot::new(
            &format!("Collapse of the weight change: γ = {}", ci_text(&eg)),
            axis_name(Axis::Temp),
            &format!(
                "‖w − w_{{0}}‖/‖w_{{0}}‖ / (P/P_{{ref}})^{{γ}}, P_{{ref}} = {}",
                fmt_num(p_ref.round())
            ),
            Scale::Log2,
            Scale::Log10,
        );
        p.subtitle = format!(
            "points: geometric mean over seeds · shaded: where each curve lies for γ in its 95% CI · {}",
            ctx.seeds_note()
        );
        p.capped_lower_bound = true;
        let mut csv_c = Vec::new();
        for (i, (pv, t)) in rwc_tables.iter().enumerate() {
            let r = pv / p_ref;
            let pts: Vec<Drawn> = drawn_points(t, true)
                .into_iter()
                .map(|d| d.scaled(1.0, r.powf(g)))
                .collect();
            p.series
                .push(without_spread(series_of(math(Axis::Ptr, *pv), &pts)));
            if eg.ci_low.is_finite() && (r - 1.0).abs() > 1e-9 {
                let shown = shown_points(t);
                let at = |e: f64| -> Vec<(f64, f64)> {
                    shown.iter().map(|(x, y)| (*x, y / r.powf(e))).collect()
                };
                p.bands.push(Band::swept(
                    String::new(),
                    Some(i),
                    &at(eg.ci_low),
                    &at(eg.ci_high),
                ));
            }
            csv_c.push((Axis::Ptr.condition(*pv), pts));
        }
        ctx.write_curves("rwc_collapse", "T", &csv_c)?;
        ctx.save_plot("rwc_collapse", &p)?;
    }
    // t* ~ T^x P^b over all T.
    if let Some(jf) = ctx.joint_fit_drawn(&ts_tables, FitRange::ALL, ("x", "b")) {
        let est = &jf.est;
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
        // Theory t* ∝ T through the middle of the largest P's fit line.
        if let Some(l) = jf.lines.last() {
            let mid = ((l.from.0 * l.to.0).sqrt(), (l.from.1 * l.to.1).sqrt());
            p_ts.lines.push(theory_line(
                "theory: t* ∝ T".into(),
                1.0,
                mid,
                l.from.0,
                l.to.0,
            ));
        }
        p_ts.lines.splice(0..0, jf.lines);
        p_ts.bands.extend(jf.bands);
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
    let (p, _) = curves(
        ctx,
        "test_err_vs_P",
        "Test error against training-set size P",
        &chosen,
        Axis::Ptr,
        Observable::TestErr,
        Axis::Temp,
        Scale::Log10,
    )?;
    ctx.save_plot("test_err_vs_P", &p)?;
    ctx.save_plot("test_err_vs_T", &p_err)?;
    ctx.save_plot("rwc_vs_T", &p_rwc)?;
    ctx.save_plot("t_star_vs_T", &p_ts)?;
    Ok(())
}

/// The (x, geometric mean) a curve draws (points where most runs diverged left out).
fn shown_points(t: &crate::SeedTable) -> Vec<(f64, f64)> {
    drawn_points(t, true)
        .iter()
        .filter(|d| d.p.n > 0 && !d.p.is_diverged() && d.y > 0.0)
        .map(|d| (d.p.x, d.y))
        .collect()
}

/// A curve drawn without its seed band (where another band, the collapse's, is shown).
fn without_spread(mut s: Series) -> Series {
    for p in &mut s.points {
        p.lo = f64::NAN;
        p.hi = f64::NAN;
    }
    s
}

fn geometric_mean(v: &[f64]) -> f64 {
    let pos: Vec<f64> = v.iter().copied().filter(|x| *x > 0.0).collect();
    if pos.is_empty() {
        return 1.0;
    }
    (pos.iter().map(|x| x.ln()).sum::<f64>() / pos.len() as f64).exp()
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
        assert!(csv.starts_with(
            "series,T,mean,sd,sem,n,n_runs,n_diverged,n_capped,gmean,gsd,y,y_lo,y_hi\n"
        ));
        let last = csv.lines().rfind(|l| l.starts_with("P=2048")).unwrap();
        let cols: Vec<&str> = last.split(',').collect();
        // n, n_runs, n_diverged, n_capped; then nothing drawn (gmean, gsd, y, y_lo, y_hi).
        assert_eq!(cols[5..9], ["0", "4", "4", "0"], "{last}");
        assert!(cols[9..].iter().all(|c| c.is_empty()), "{last}");
        assert!(a.report.contains("method (c) collapse"));
        if std::env::var_os("SGDNOISE_KEEP_PLOTS").is_none() {
            let _ = std::fs::remove_dir_all(&out);
        }
    }
}
