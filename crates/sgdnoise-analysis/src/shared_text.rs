//! What report.md ([`crate::report`]) and report.html both say, in one place below both: the
//! methods of the curves, fits and intervals, and which fitted rows are one measurement seen
//! twice, and the line on the runs an analysis used.

use crate::figures::Ctx;
use crate::options::{seeds_note, FitRow};
use sgdnoise_core::rundir::Summary;

/// How the curves, points, fits and intervals were made (report.md and report.html).
pub(crate) fn methods_text(ctx: &Ctx) -> String {
    format!(
        "Curves: on log axes the geometric mean over seeds with a band ×/÷ the geometric standard deviation, on linear axes the mean ± one standard deviation. A (T, P) point enters fits only where a strict majority of its seeds finished (reached zero loss); its value is the mean over the finished seeds. Runs that diverged or froze are never averaged but marked (× in a strip under the curves, hatched on heatmaps); runs stopped by a cap (max_steps, max_wall) are censored: never averaged as finished, their value at the cap kept apart (`capped_mean` in the CSVs; for t* a lower bound); a point left out of fits where runs were capped is drawn open at the values of its finished and capped runs (with an arrow where the value at the cap is a lower bound: t*, steps, weight change). fits.csv says for each fit how many points and seeds it used and what it left out, and why. Confidence intervals: {}; every interval rests on the {} seeds of the sweep {}. Print versions (PDF, 300 dpi PNG): `--print`, in print/.",
        ctx.opts.bootstrap.describe(),
        ctx.seeds.len(),
        seeds_note(ctx.seeds.len())
    )
}

/// The column heads of a table of fitted rows (report.md and report.html).
pub(crate) const FIT_HEADS: [&str; 10] = [
    "quantity",
    "against",
    "condition",
    "value",
    "95% CI",
    "theory",
    "seeds",
    "points",
    "left out",
    "method",
];

/// The cells of fitted row `r` under [`FIT_HEADS`], as both reports print them (unescaped);
/// `method` is the number of its method among the footnotes under the table.
pub(crate) fn fit_cells(r: &FitRow, method: usize) -> [String; 10] {
    [
        r.quantity.clone(),
        r.against.clone(),
        r.condition.clone(),
        table_num(r.value),
        if r.ci_low.is_finite() {
            format!("[{}, {}]", table_num(r.ci_low), table_num(r.ci_high))
        } else {
            // The only way a fitted row has no interval (`fit::bootstrap_many`).
            NO_CI.into()
        },
        r.theory.map(table_num).unwrap_or_default(),
        // "2–9": some points the fit used rest on fewer seeds than the bootstrap resamples.
        match r.n_seeds_min {
            Some(m) if m < r.n_seeds => format!("{m}–{}", r.n_seeds),
            _ => r.n_seeds.to_string(),
        },
        r.n_points.to_string(),
        if r.n_left_out == 0 {
            "0".to_string()
        } else {
            format!("{}: {}", r.n_left_out, r.left_out_why)
        },
        format!("({method})"),
    ]
}

/// The 95% CI cell of a fitted row whose bootstrap gave none.
pub(crate) const NO_CI: &str = "none: under half the resamples had a value";

/// A number of the fit tables: 4 decimals, or 4 significant digits in scientific notation
/// below 0.01, where 4 decimals would print T_opt = 3e-5 as 0.0000.
pub(crate) fn table_num(v: f64) -> String {
    if v != 0.0 && v.abs() < 0.01 {
        format!("{v:.3e}")
    } else {
        format!("{v:.4}")
    }
}

/// The footnote number (from 1) of `method` among `methods`, which it joins when new.
pub(crate) fn method_number<'a>(methods: &mut Vec<&'a str>, method: &'a str) -> usize {
    match methods.iter().position(|m| *m == method) {
        Some(k) => k + 1,
        None => {
            methods.push(method);
            methods.len()
        }
    }
}

/// Groups (of two or more) among `rows` with the same quantity, value and interval to a
/// relative 10^-5: the same number measured from rescaled runs.
pub(crate) fn identical_rows(ctx: &Ctx, rows: &[usize]) -> Vec<Vec<usize>> {
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-5 * a.abs().max(b.abs()).max(1e-12);
    let mut used = vec![false; rows.len()];
    let mut out = Vec::new();
    for i in 0..rows.len() {
        if used[i] {
            continue;
        }
        let a = &ctx.fits[rows[i]];
        let mut group = vec![rows[i]];
        for j in i + 1..rows.len() {
            let b = &ctx.fits[rows[j]];
            if !used[j]
                && a.quantity == b.quantity
                && close(a.value, b.value)
                && close(a.ci_low, b.ci_low)
                && close(a.ci_high, b.ci_high)
            {
                used[j] = true;
                group.push(rows[j]);
            }
        }
        if group.len() > 1 {
            out.push(group);
        }
    }
    out
}

/// "N finished runs, k seeds (0, 1, ...); stop reasons: zero_loss 10, diverged 2".
pub(crate) fn runs_line(ctx: &Ctx, runs: &[Summary]) -> String {
    let mut reasons: std::collections::BTreeMap<&str, usize> = Default::default();
    for r in runs {
        *reasons.entry(r.stop_reason.name()).or_default() += 1;
    }
    format!(
        "{} finished runs, {} seeds ({}); stop reasons: {}{}",
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
            .join(", "),
        fewer_seeds_note(runs)
    )
}

/// Where points (runs alike but for their seeds) rest on different numbers of seeds, as an
/// adaptive sweep's partial points do (`[adaptive].seeds`, SPEC §12): how many points have
/// fewer seeds than the most any point has, and how few; empty when every point has the same.
pub(crate) fn fewer_seeds_note(runs: &[Summary]) -> String {
    let mut per_point: std::collections::BTreeMap<String, usize> = Default::default();
    for r in runs {
        let mut c = r.config.clone();
        (c.seed_init, c.seed_batch, c.seed_trainset, c.seed_testset) = (None, None, None, None);
        // The point's non-default settings (as in its run id), so that a setting written out
        // at its default by one run and left out by another is one point.
        let key = match c.resolve() {
            Ok(spec) => serde_json::to_string(&spec.identity_settings()),
            Err(_) => serde_json::to_string(&c),
        };
        *per_point.entry(key.unwrap_or_default()).or_default() += 1;
    }
    let most = per_point.values().copied().max().unwrap_or(0);
    let fewer: Vec<usize> = per_point.values().copied().filter(|&n| n < most).collect();
    let (Some(&least), Some(&max)) = (fewer.iter().min(), fewer.iter().max()) else {
        return String::new();
    };
    format!(
        "; {} of {} points rest on fewer than {most} seeds ({}: an adaptive sweep's partial points, `n_seeds` in the CSVs); an interval that reads them rests on those seeds only",
        fewer.len(),
        per_point.len(),
        if least == max {
            format!("{least} each")
        } else {
            format!("{least} to {max}")
        }
    )
}

#[cfg(test)]
mod tests {
    use super::{fewer_seeds_note, fit_cells, NO_CI};
    use crate::fit::Estimate;
    use crate::options::FitRow;
    use crate::seeds::testing::summary;

    #[test]
    fn small_values_keep_their_digits_and_a_missing_interval_says_why() {
        let row = |value: f64, ci_low: f64, ci_high: f64| {
            let e = Estimate {
                value,
                ci_low,
                ci_high,
                resamples_ok: 0,
            };
            fit_cells(&FitRow::new("T_opt_vs_alpha", "T_opt", "alpha", e), 1)
        };
        // alpha = 2048's T_opt on the whole-lattice search printed as "0.0000 [0.0000, 0.0002]".
        let c = row(3.078e-5, 1.2e-6, 2.0e-4);
        assert_eq!(
            (c[3].as_str(), c[4].as_str()),
            ("3.078e-5", "[1.200e-6, 2.000e-4]")
        );
        // At 0.01 and above, 4 decimals as before (the report's golden rows).
        let c = row(0.4805748, 0.3806, 0.5806);
        assert_eq!(
            (c[3].as_str(), c[4].as_str()),
            ("0.4806", "[0.3806, 0.5806]")
        );
        assert_eq!(row(0.0, -0.01, 0.02)[3], "0.0000");
        assert_eq!(row(0.65, f64::NAN, f64::NAN)[4], NO_CI);
    }

    #[test]
    fn runs_line_says_which_points_rest_on_fewer_seeds() {
        // Two temperatures with 5 seeds, one with 2 (an adaptive sweep's partial point).
        let mut runs = Vec::new();
        for (temp, seeds) in [(0.01, 5), (0.02, 2), (0.04, 5)] {
            for s in 0..seeds {
                runs.push(summary("mlp", 1024, temp, 1.0, s, 0.1, 0.01, 1.0));
            }
        }
        let note = fewer_seeds_note(&runs);
        assert!(
            note.starts_with("; 1 of 3 points rest on fewer than 5 seeds (2 each"),
            "{note}"
        );
        // Every point with the same seeds: nothing to say.
        runs.retain(|r| r.temp != 0.02);
        assert_eq!(fewer_seeds_note(&runs), "");
    }
}
