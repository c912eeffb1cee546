//! Fully connected net ("mlp"), SPEC §1. Placeholder.

use super::{Layer, Model, Target};
use crate::config::RunSpec;
use crate::real::Real;
use crate::rng::StreamRng;

/// Parameter count: d0 h + (L-1) h² + h.
pub fn param_count(input_dim: usize, depth: usize, width: usize) -> usize {
    input_dim * width + depth.saturating_sub(1) * width * width + width
}

pub struct Mlp<R> {
    w: Vec<R>,
    layers: Vec<Layer>,
}

impl<R: Real> Mlp<R> {
    pub fn from_spec(_spec: &RunSpec, _rng: &mut StreamRng) -> Self {
        unimplemented!("mlp")
    }
}

impl<R: Real> Model<R> for Mlp<R> {
    fn input_dim(&self) -> usize {
        unimplemented!()
    }
    fn params(&self) -> &[R] {
        &self.w
    }
    fn params_mut(&mut self) -> &mut [R] {
        &mut self.w
    }
    fn layers(&self) -> &[Layer] {
        &self.layers
    }
    fn predict(&mut self, _x: &[R], _n: usize, _out: &mut [R]) {
        unimplemented!()
    }
    fn forward(&mut self, _x: &[R], _n: usize, _out: &mut [R]) {
        unimplemented!()
    }
    fn backward(&mut self, _x: &[R], _c: &[R], _target: Target<'_, R>) {
        unimplemented!()
    }
}
