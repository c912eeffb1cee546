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
//! * [`crossover`]: the three T_c methods of SPEC §8 and the optimal temperature T_opt.
//!
//! Conventions: a run *diverged* when its stop reason is "diverged" (non-finite loss at large T)
//! or "frozen" (all gradients vanished with points unfitted, the other end of a blow-up):
//! its observables are not averaged in, but counted (`n_diverged`) so figures can show the cell
//! as diverged rather than missing. Runs stopped by a step or wall-clock cap are averaged in
//! (their value is the one at the cap) and counted in `n_capped`.

// Nothing below the command line prints: progress and results reach it through values and callbacks.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod crossover;
mod figures;
pub mod fit;
pub mod kind;
pub mod options;
pub mod plot;
pub mod report;
pub mod seeds;
pub mod study;

pub use kind::Kind;
pub use seeds::*;
