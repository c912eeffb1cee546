//! Perceptron figures: signal/noise and test error against P per chi (with their P exponents),
//! weight change and t* against T per P (with joint T^e_T P^e_P fits above T = c/alpha), for
//! every (d, alpha) of the store.

use super::{ci_text, curves, math, math_num, obs_short, theory_line, Ctx};
use crate::fit::FitRange;
use crate::options::Conds;
use crate::plot::{Dash, Line, Scale};
use crate::{fmt_num, group_by, select, values_of, Axis, Observable};
use sgdnoise_core::rundir::Summary;

/// Perceptron: signal/noise and test error against P per chi; weight change and t* against T
/// per P, for every (d, alpha) of the store.
pub(crate) fn perceptron(ctx: &mut Ctx, runs: &[&Summary]) -> Result<(), sgdnoise_core::Error> {
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
            let base_cond = Conds::new().num("dim", dim).num("alpha", alpha);
            let base_math = format!("{}, {}", math(Axis::Dim, dim), math(Axis::Alpha, alpha));
            perceptron_one(ctx, &sub, alpha, &suffix, &base_cond, &base_math)?;
        }
    }
    Ok(())
}

fn perceptron_one(
    ctx: &mut Ctx,
    runs: &[&Summary],
    alpha: f64,
    suffix: &str,
    base_cond: &Conds,
    base_math: &str,
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
            &format!("{title} ({}, {base_math})", math(Axis::Temp, t_ref)),
            &at_ref,
            Axis::Ptr,
            obs,
            Axis::Chi,
            Scale::Log10,
        )?;
        let mut theory_lines = Vec::new();
        for (i, (chi, t)) in tables.iter().enumerate() {
            let cond = Conds::new()
                .num("chi", *chi)
                .num("temp", t_ref)
                .and(base_cond);
            let theory = theory_of(*chi);
            if let Some(fit) = ctx.power_fit_drawn(
                &stem,
                obs.name(),
                Axis::Ptr,
                &cond,
                t,
                FitRange::ALL,
                theory,
            ) {
                let e = fit.e;
                let th = theory.map_or(String::new(), |v| format!(" (theory {v:.3})"));
                let (line, band) = fit.drawing(
                    format!("fit {}: slope {}{th}", math(Axis::Chi, *chi), ci_text(&e)),
                    Some(i),
                );
                p.lines.push(line);
                p.bands.push(band);
                // Theory drawn as a line of its slope through the middle of the fit.
                if let Some(slope) = theory {
                    let xm = (fit.x0 * fit.x1).sqrt();
                    theory_lines.push(theory_line(
                        if theory_lines.is_empty() {
                            "theory: slope 1/(1+χ)".into()
                        } else {
                            String::new()
                        },
                        slope,
                        (xm, fit.law.eval(xm)),
                        fit.x0,
                        fit.x1,
                    ));
                }
                let what = if obs == Observable::SignalToNoise {
                    "signal/noise ~ P^e"
                } else {
                    "test error ~ P^e"
                };
                ctx.notes.push(format!(
                    "{what} at {}: e = {}{}",
                    cond.label(),
                    ci_text(&e),
                    theory.map_or(String::new(), |v| format!(" (theory 1/(1+χ) = {v:.3})"))
                ));
            }
        }
        p.lines.extend(theory_lines);
        ctx.save_plot(&stem, &p)?;
        // The same exponent at every other temperature in the lazy range (fits.csv only).
        for &t in temps.iter().filter(|t| **t != t_ref && high.contains(**t)) {
            let at_t = select(runs, Axis::Temp, t);
            for &chi in &chis {
                let sub = select(&at_t, Axis::Chi, chi);
                let table = ctx.table(&sub, Axis::Ptr, obs);
                let cond = Conds::new().num("chi", chi).num("temp", t).and(base_cond);
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
                &format!(
                    "Perceptron, {}: {} against T ({base_math})",
                    math(Axis::Chi, chi),
                    obs_short(obs)
                ),
                &sub,
                Axis::Temp,
                obs,
                Axis::Ptr,
                Scale::Log10,
            )?;
            p.vlines.push((1.0 / alpha, "T = 1/α".into()));
            p.vlines.push((
                high.lo,
                format!(
                    "fit range starts: T = {}/α",
                    math_num(ctx.opts.high_t_factor)
                ),
            ));
            let cond = Conds::new()
                .num("chi", chi)
                .and(base_cond)
                .num("temp_min", high.lo);
            let (qt, qp) = if obs == Observable::RelWeightChange {
                ("δ", "γ")
            } else {
                ("x", "b")
            };
            if let Some(jf) = ctx.joint_fit_drawn(&tables, high, (qt, qp)) {
                let (est, usage) = (&jf.est, &jf.usage);
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
                    usage,
                );
                ctx.row(
                    &stem,
                    &format!("{} ({qp})", obs.name()),
                    "P",
                    &cond,
                    est[1],
                    None,
                    method,
                    usage,
                );
                ctx.notes.push(format!(
                    "{} ~ T^{qt} P^{qp} at {}: {qt} = {} (theory {}), {qp} = {}",
                    obs.name(),
                    cond.label(),
                    ci_text(&est[0]),
                    if obs == Observable::RelWeightChange {
                        "1: linear in T above 1/α"
                    } else {
                        "1"
                    },
                    ci_text(&est[1])
                ));
                // Theory: linear in T, through the middle of the largest P's fit line.
                let theory = jf.lines.last().map(|l: &Line| {
                    let mid = ((l.from.0 * l.to.0).sqrt(), (l.from.1 * l.to.1).sqrt());
                    let name = if obs == Observable::RelWeightChange {
                        "‖w − w_{0}‖/‖w_{0}‖"
                    } else {
                        "t*"
                    };
                    theory_line(format!("theory: {name} ∝ T"), 1.0, mid, l.from.0, l.to.0)
                });
                p.lines.extend(jf.lines);
                p.lines.extend(theory);
                p.bands.extend(jf.bands);
            }
            debug_assert!(p
                .lines
                .iter()
                .all(|l| l.dash == Dash::FIT || l.dash == Dash::THEORY));
            ctx.save_plot(&stem, &p)?;
        }
    }
    Ok(())
}

/// The value of `values` closest to `target` in log.
fn closest_log(values: &[f64], target: f64) -> Option<f64> {
    values.iter().copied().filter(|v| *v > 0.0).min_by(|a, b| {
        (a.ln() - target.ln())
            .abs()
            .total_cmp(&(b.ln() - target.ln()).abs())
    })
}
