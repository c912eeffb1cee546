//! The numeric ground floor: the element type [`real::Real`], the named random streams of
//! SPEC §7 ([`rng`]), matrix products ([`gemm`]), and the run-time choice of SIMD instruction
//! set for hand-written loops ([`simd`]).

pub mod gemm;
pub mod real;
pub mod rng;
pub mod simd;
