//! sgdnoise-analysis: from finished runs to the paper's numbers and figures: seed averages,
//! power-law fits with bootstrap confidence intervals, the crossover temperature T_c (SPEC §8),
//! plots ([`plot`], drawn by our own PNG, SVG and PDF renderers) and reports ([`report`], [`study`]).
//!
//! Everything here works on [`Summary`](sgdnoise_core::rundir::Summary) values (what a store's
//! `collect` returns), so it runs the same on a store of real runs and on synthetic summaries in
//! tests.
//!
//! * [`Observable`]: a number read off a summary (test error, relative weight change, t*, ...).
//! * [`Axis`]: a setting that varies across a sweep (T, lr, P, alpha, chi, d).
//! * [`SeedTable`]: one curve, observable against an axis, kept per seed so that confidence
//!   intervals can resample seeds ([`fit::bootstrap`]).
//! * [`fit`]: least squares in log-log, one or two regressors, bootstrap over seeds.
//! * [`crossover`]: the T_c methods of SPEC §8 and the optimal temperature T_opt.
//! * [`tc`]: T_c(P) ~ P^-a by four methods, each with a seed-bootstrap interval, and the
//!   verdict on whether they agree.
//! * [`select`](mod@select): `analyze --where`, and the warning for runs that differ in a setting that is
//!   not an axis.
//!
//! Conventions (the censoring rule, [`SeedTable::means`]): a run *diverged* when its stop
//! reason is "diverged" (non-finite loss at large T) or "frozen" (all gradients vanished with
//! points unfitted, the other end of a blow-up); a run stopped by a step or wall-clock cap is
//! *censored* (its t* is only a lower bound, its weight change too small). Only runs that
//! reached zero loss are averaged, and a point (one x of a curve) enters a fit only where a
//! strict majority of its seeds finished; diverged and capped runs are counted (`n_diverged`,
//! `n_capped`) so figures show the point as diverged or as a bound rather than missing, and
//! fits.csv says what each fit left out and why.

// Nothing below the command line prints: progress and results reach it through values and callbacks.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod crossover;
mod figures;
pub mod fit;
pub mod kind;
pub mod options;
pub mod plot;
pub mod report;
mod report_html;
pub mod seeds;
pub mod select;
mod shared_text;
pub mod study;
pub mod tc;

pub use figures::{b_star_of_columns, BStar, B_STAR_RATIO};
pub use kind::Kind;
pub use seeds::*;
