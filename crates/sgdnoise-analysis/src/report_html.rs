//! `report.html`: the analysis as one self-contained page, readable without a network.
//!
//! Everything the page shows is in the file: every figure inline as the SVG the analysis wrote
//! (its clip-path ids prefixed per figure, so that figures do not share ids), under each figure
//! the fitted numbers it shows (the rows of fits.csv with that figure) with their methods,
//! then the other fitted numbers, the methods of the curves and intervals, and the provenance:
//! the version of sgdnoise, the git commit where known, the store, the command, how many runs
//! were used and what was left out. No script, no external style sheet, font or image.

use crate::figures::Ctx;
use crate::shared_text::{
    fit_cells, identical_rows, method_number, methods_text, runs_line, FIT_HEADS,
};
use crate::Kind;
use sgdnoise_core::rundir::Summary;
use std::fmt::Write as _;

/// Text with `&`, `<`, `>` and `"` escaped for HTML.
pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            _ => o.push(c),
        }
    }
    o
}

/// One line of the report's markdown as HTML: escaped, with `code` and **bold**.
fn inline(md: &str) -> String {
    let e = esc(md);
    let mut out = String::new();
    let (mut code, mut bold) = (false, false);
    let mut rest = e.as_str();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('`') {
            out.push_str(if code { "</code>" } else { "<code>" });
            code = !code;
            rest = r;
        } else if let Some(r) = rest.strip_prefix("**").filter(|_| !code) {
            out.push_str(if bold { "</strong>" } else { "<strong>" });
            bold = !bold;
            rest = r;
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    if code {
        out.push_str("</code>");
    }
    if bold {
        out.push_str("</strong>");
    }
    out
}

/// Markdown lines (paragraphs, `- ` lists and `| a | b |` tables, as the report's sections
/// have) as HTML.
fn blocks(lines: &[String]) -> String {
    let mut s = String::new();
    let mut in_list = false;
    let mut table_rows = 0;
    for l in lines {
        let t = l.trim_start();
        if t.starts_with('|') {
            if in_list {
                s.push_str("</ul>\n");
                in_list = false;
            }
            let cells: Vec<&str> = t
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            if cells
                .iter()
                .all(|c| !c.is_empty() && c.chars().all(|ch| ch == '-' || ch == ':'))
            {
                continue;
            }
            let tag = if table_rows == 0 { "th" } else { "td" };
            if table_rows == 0 {
                s.push_str("<table class=\"md\">\n");
            }
            table_rows += 1;
            let _ = writeln!(
                s,
                "<tr>{}</tr>",
                cells
                    .iter()
                    .map(|c| format!("<{tag}>{}</{tag}>", inline(c)))
                    .collect::<String>()
            );
            continue;
        }
        if table_rows > 0 {
            s.push_str("</table>\n");
            table_rows = 0;
        }
        if let Some(item) = t.strip_prefix("- ") {
            if !in_list {
                s.push_str("<ul>\n");
                in_list = true;
            }
            let _ = writeln!(s, "<li>{}</li>", inline(item));
            continue;
        }
        if in_list {
            s.push_str("</ul>\n");
            in_list = false;
        }
        if !t.is_empty() {
            let _ = writeln!(s, "<p>{}</p>", inline(t));
        }
    }
    if in_list {
        s.push_str("</ul>\n");
    }
    if table_rows > 0 {
        s.push_str("</table>\n");
    }
    s
}

/// A figure's SVG as written by the analysis, ready to be inlined as figure `k`.
fn inline_svg(ctx: &Ctx, stem: &str, k: usize) -> Result<String, sgdnoise_core::Error> {
    let path = ctx.out.join(format!("{stem}.svg"));
    let svg = std::fs::read_to_string(&path).map_err(|e| sgdnoise_core::Error::io(&path, e))?;
    let start = svg.find("<svg").unwrap_or(0);
    Ok(svg[start..]
        .replace("id=\"c", &format!("id=\"f{k}c"))
        .replace("url(#c", &format!("url(#f{k}c"))
        .replacen(
            "<svg ",
            &format!("<svg role=\"img\" aria-label=\"{}\" ", esc(stem)),
            1,
        ))
}

/// The rows `rows` of fits.csv as an HTML table with the methods under it.
fn fit_table(s: &mut String, ctx: &Ctx, rows: &[usize], kind: Kind) {
    if rows.is_empty() {
        return;
    }
    let mut methods: Vec<&str> = Vec::new();
    s.push_str("<table class=\"fits\">\n<thead><tr>");
    for h in FIT_HEADS {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for &i in rows {
        let r = &ctx.fits[i];
        let m = method_number(&mut methods, &r.method);
        s.push_str("<tr class=\"fit\">");
        for (k, cell) in fit_cells(r, m).iter().enumerate() {
            // value, interval, theory, seeds and points are numbers: right-aligned.
            let class = if (3..8).contains(&k) {
                " class=\"num\""
            } else {
                ""
            };
            let _ = write!(s, "<td{class}>{}</td>", esc(cell));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody>\n</table>\n<ol class=\"methods\">\n");
    for m in &methods {
        let _ = writeln!(s, "<li>{}</li>", esc(m));
    }
    s.push_str("</ol>\n");
    for group in identical_rows(ctx, rows) {
        let conds: Vec<String> = group
            .iter()
            .map(|&i| format!("<code>{}</code>", esc(&ctx.fits[i].condition)))
            .collect();
        let why = if kind == Kind::Perceptron {
            "far above T = 1/α SGD on the hinge loss is the perceptron rule, homogeneous in η: the runs are one measurement seen through an exact rescaling, not independent confirmations."
        } else {
            "the runs behind them are the same dynamics up to an exact rescaling: one measurement, not independent confirmations."
        };
        let _ = writeln!(
            s,
            "<p class=\"note\">Note: the rows {} are identical (value and interval agree to 10<sup>-5</sup>); {why}</p>",
            conds.join(", ")
        );
    }
}

/// The whole page.
pub(crate) fn page(
    ctx: &Ctx,
    kind: Kind,
    runs: &[Summary],
) -> Result<String, sgdnoise_core::Error> {
    let mut s = String::new();
    let title = format!("sgdnoise analysis ({} sweep)", kind.name());
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        esc(&title),
        esc(&title)
    );

    // Provenance.
    let o = ctx.opts;
    s.push_str(
        "<section id=\"provenance\">\n<h2>Provenance</h2>\n<table class=\"prov\">\n<tbody>\n",
    );
    let mut prov = |k: &str, v: String| {
        let _ = writeln!(s, "<tr><th>{}</th><td>{v}</td></tr>", esc(k));
    };
    prov("sgdnoise version", esc(sgdnoise_core::VERSION));
    prov(
        "git commit",
        o.git_commit.as_deref().map_or("unknown".to_string(), |c| {
            format!("<code>{}</code>", esc(c))
        }),
    );
    prov(
        "store",
        o.store.as_ref().map_or("not given".to_string(), |p| {
            format!("<code>{}</code>", esc(&p.display().to_string()))
        }),
    );
    if !o.command.is_empty() {
        prov("command", format!("<code>{}</code>", esc(&o.command)));
    }
    if !o.source.is_empty() {
        prov("source", inline(&o.source));
    }
    prov("runs used", esc(&runs_line(ctx, runs)));
    let mut left: Vec<String> = o.left_out.clone();
    left.extend(o.selection.iter().map(|sel| format!("selected: {sel}")));
    prov(
        "runs left out",
        if left.is_empty() {
            "none".into()
        } else {
            left.iter().map(|l| esc(l)).collect::<Vec<_>>().join("<br>")
        },
    );
    prov(
        "files",
        "<code>fits.csv</code> (every fitted number), one <code>.csv</code> per figure (the numbers it draws), <code>report.md</code>".into(),
    );
    s.push_str("</tbody>\n</table>\n</section>\n");

    if !ctx.warnings.is_empty() {
        s.push_str("<section id=\"warnings\">\n<h2>Warnings</h2>\n<ul>\n");
        for w in &ctx.warnings {
            let _ = writeln!(s, "<li>{}</li>", inline(w));
        }
        s.push_str("</ul>\n</section>\n");
    }
    if !ctx.notes.is_empty() {
        s.push_str("<section id=\"results\">\n<h2>Main results</h2>\n<ul>\n");
        for n in &ctx.notes {
            let _ = writeln!(s, "<li>{}</li>", inline(n));
        }
        s.push_str("</ul>\n</section>\n");
    }
    for (title, lines) in &ctx.sections {
        let _ = writeln!(
            s,
            "<section>\n<h2>{}</h2>\n{}</section>",
            esc(title),
            blocks(lines)
        );
    }

    s.push_str("<section id=\"figures\">\n<h2>Figures and their numbers</h2>\n");
    let mut shown = vec![false; ctx.fits.len()];
    for (k, (stem, title)) in ctx.figures.iter().enumerate() {
        let _ = writeln!(
            s,
            "<figure id=\"{}\">\n{}\n<figcaption><strong>{}</strong>: {} (numbers: <code>{}.csv</code>)</figcaption>\n</figure>",
            esc(stem),
            inline_svg(ctx, stem, k)?,
            esc(stem),
            esc(title),
            esc(stem)
        );
        let rows: Vec<usize> = (0..ctx.fits.len())
            .filter(|&i| ctx.fits[i].figure == *stem)
            .collect();
        rows.iter().for_each(|&i| shown[i] = true);
        fit_table(&mut s, ctx, &rows, kind);
    }
    let rest: Vec<usize> = (0..ctx.fits.len()).filter(|&i| !shown[i]).collect();
    if !rest.is_empty() {
        s.push_str("<h3>Other fitted numbers</h3>\n");
        fit_table(&mut s, ctx, &rest, kind);
    }
    s.push_str("</section>\n");

    let _ = writeln!(
        s,
        "<section id=\"methods\">\n<h2>Methods</h2>\n<p>{}</p>",
        inline(&methods_text(ctx))
    );
    if ctx.seeds.len() < crate::options::RELIABLE_SEEDS {
        let _ = writeln!(
            s,
            "<p><strong>With {} seeds the intervals are not reliable 95% intervals</strong>: read them as spreads.</p>",
            ctx.seeds.len()
        );
    }
    s.push_str("</section>\n</body>\n</html>\n");
    Ok(s)
}

const STYLE: &str = "body { font-family: sans-serif; max-width: 1100px; margin: 1em auto; padding: 0 1em; color: #222; background: #fff; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
thead th { background: #e8eef6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.prov th { background: #f3f3f3; white-space: nowrap; }
figure { margin: 1.5em 0 0.5em 0; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 0.9em; color: #444; }
ol.methods { font-size: 0.85em; color: #444; }
p.note { font-size: 0.85em; color: #555; }
code { background: #f4f4f4; padding: 0 0.2em; }
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::AnalysisOptions;
    use crate::seeds::testing::summary;

    /// A small T-sweep: test error flat, then rising above T_c ~ P^-0.5; weight change ∝ T.
    fn runs() -> Vec<Summary> {
        let mut runs = Vec::new();
        for p in [256usize, 1024, 4096] {
            for k in -8..=0 {
                let t = 2f64.powi(k);
                let tc = 0.5 * (p as f64 / 256.0).powf(-0.5);
                for seed in 0..5 {
                    let e = 1.0 + 0.02 * (seed as f64 - 2.0);
                    let err = 0.1 * (1.0 + (t / tc).powi(2)) * e;
                    runs.push(summary(
                        "mlp",
                        p,
                        t,
                        1.0,
                        seed,
                        err,
                        0.01 * t * e,
                        t * 1e3 * e,
                    ));
                }
            }
        }
        runs
    }

    #[test]
    fn report_html_inlines_every_figure_and_every_fit_and_names_its_provenance() {
        let out = std::env::temp_dir().join(format!("sgdnoise-report-html-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let opts = AnalysisOptions {
            bootstrap: crate::fit::BootstrapOptions {
                resamples: 50,
                ..Default::default()
            },
            store: Some("/stores/s <1>".into()),
            command: "sgdnoise analyze /stores/s --out x".into(),
            git_commit: Some("0123abc".into()),
            left_out: vec!["2 copies".into()],
            ..Default::default()
        };
        let runs = runs();
        let a = crate::report::analyze(&runs, Kind::TSweep, &opts, &out).unwrap();
        let html = std::fs::read_to_string(out.join("report.html")).unwrap();
        assert!(a.files.contains(&out.join("report.html")));
        // Self-contained: no script, no link to anything outside the file.
        assert!(!html.contains("https://"));
        assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("src="));
        // One inline SVG per figure, each with its own clip ids.
        let figures = a
            .files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "svg"))
            .count();
        assert!(figures >= 5, "{figures}");
        assert_eq!(html.matches("<svg ").count(), figures);
        assert_eq!(html.matches("<figure ").count(), figures);
        assert!(
            !html.contains("id=\"c0\""),
            "clip ids are prefixed per figure"
        );
        // Every fitted number is a row of a fits table.
        let rows = html.matches("<tr class=\"fit\">").count();
        assert_eq!(rows, a.fits.len());
        // Provenance, escaped.
        assert!(html.contains(sgdnoise_core::VERSION));
        assert!(html.contains("<code>0123abc</code>"));
        assert!(html.contains("/stores/s &lt;1&gt;"));
        assert!(html.contains("sgdnoise analyze /stores/s --out x"));
        assert!(html.contains(&format!("{} finished runs, 5 seeds", runs.len())));
        assert!(html.contains("2 copies"));
        let _ = std::fs::remove_dir_all(&out);
    }

    #[test]
    fn markdown_of_the_sections_becomes_escaped_html() {
        assert_eq!(
            inline("**Verdict:** a < b in `fits.csv`"),
            "<strong>Verdict:</strong> a &lt; b in <code>fits.csv</code>"
        );
        let b = blocks(&["text".into(), "- one".into(), "- two".into(), "end".into()]);
        assert_eq!(
            b,
            "<p>text</p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n<p>end</p>\n"
        );
        let t = blocks(&["| a | b |".into(), "|---|---|".into(), "| 1 | `x` |".into()]);
        assert_eq!(
            t,
            "<table class=\"md\">\n<tr><th>a</th><th>b</th></tr>\n<tr><td>1</td><td><code>x</code></td></tr>\n</table>\n"
        );
    }
}
