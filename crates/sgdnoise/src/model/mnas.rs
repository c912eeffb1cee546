//! MnasNet-like CNN ("mnas"), SPEC §1. Placeholder.

use super::{Layer, Model, Target};
use crate::config::RunSpec;
use crate::real::Real;
use crate::rng::StreamRng;

/// Parameter count for input images of shape (height, width, channels) and base width h.
pub fn param_count(_image_shape: [usize; 3], _width: usize) -> usize {
    unimplemented!("mnas parameter count")
}

pub struct Mnas<R> {
    w: Vec<R>,
    layers: Vec<Layer>,
}

impl<R: Real> Mnas<R> {
    pub fn from_spec(_spec: &RunSpec, _rng: &mut StreamRng) -> Self {
        unimplemented!("mnas")
    }
}

impl<R: Real> Model<R> for Mnas<R> {
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
