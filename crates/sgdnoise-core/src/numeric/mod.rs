//! The numeric ground floor: the element type [`real::Real`], the named random streams of
//! SPEC §7 ([`rng`]), and matrix products ([`gemm`]).

pub mod gemm;
pub mod real;
pub mod rng;
