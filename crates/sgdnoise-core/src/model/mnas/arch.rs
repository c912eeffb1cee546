//! The architecture of the mnas network: its units (stem and inverted-residual blocks), the
//! head, every tensor's shape and where it lives in the parameter vector, and the parameter
//! count (SPEC §1; the layout is documented in [`super`]).

use crate::model::conv::{Conv, DwConv};
use crate::model::Layer;
use crate::settings::Activation;

/// What follows the second convolution of a unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Post {
    /// sigma (the stem).
    Act,
    /// (u + x) / sqrt(2).
    Residual,
    /// Nothing (a block whose output shape differs from its input's).
    Linear,
}

/// conv -> sigma -> dwconv -> sigma -> conv -> post: the stem and every inverted-residual block.
#[derive(Clone, Debug)]
pub(super) struct Unit {
    pub(super) a: Conv,
    pub(super) a_off: usize,
    pub(super) d: DwConv,
    pub(super) d_off: usize,
    pub(super) b: Conv,
    pub(super) b_off: usize,
    pub(super) post: Post,
}

#[derive(Clone, Debug)]
pub(super) struct Head {
    pub(super) conv: Conv,
    pub(super) conv_off: usize,
    /// 20h.
    pub(super) features: usize,
    /// Spatial positions averaged over.
    pub(super) positions: usize,
    pub(super) w_off: usize,
    pub(super) b_off: usize,
}

/// The network's shapes and where each tensor lives in the parameter vector.
#[derive(Clone, Debug)]
pub(super) struct Arch {
    /// The activation sigma (ReLU has its own fast loops).
    pub(super) act: Activation,
    /// With ReLU, run it in place on the matrix products' outputs and mask the backward pass by
    /// the activations (`pass::forward`); false only for the tests' unfused reference.
    pub(super) fuse_relu: bool,
    pub(super) input_dim: usize,
    pub(super) units: Vec<Unit>,
    pub(super) head: Head,
    pub(super) layers: Vec<Layer>,
    pub(super) n_params: usize,
}

impl Arch {
    pub(super) fn new(image_shape: [usize; 3], h: usize) -> Arch {
        let [ih, iw, ic] = image_shape;
        assert!(
            ih > 0 && iw > 0 && ic > 0 && h > 0,
            "mnas: empty image or width"
        );
        let mut layers = Vec::new();
        let mut off = 0usize;
        let mut push = |name: String, len: usize| {
            layers.push(Layer {
                name,
                offset: off,
                len,
            });
            off += len;
            off - len
        };
        let mut units = Vec::new();

        // Stem.
        let a = Conv::new(ih, iw, ic, 4 * h, 5, 2);
        let d = DwConv::new(a.geom.out_h, a.geom.out_w, 4 * h, 5, 1);
        let b = Conv::new(d.geom.out_h, d.geom.out_w, 4 * h, 2 * h, 1, 1);
        units.push(Unit {
            a_off: push("stem.conv".into(), a.weight_len()),
            d_off: push("stem.dw".into(), d.weight_len()),
            b_off: push("stem.proj".into(), b.weight_len()),
            a,
            d,
            b,
            post: Post::Act,
        });

        // Inverted-residual blocks.
        for (i, &(out, k, s)) in [(h, 5, 2), (h, 5, 1), (3 * h, 5, 2), (3 * h, 5, 1)]
            .iter()
            .enumerate()
        {
            let prev = &units.last().expect("stem").b;
            let (hh, ww, c) = (prev.geom.out_h, prev.geom.out_w, prev.c_out);
            let mid = 3 * c;
            let a = Conv::new(hh, ww, c, mid, 1, 1);
            let d = DwConv::new(hh, ww, mid, k, s);
            let b = Conv::new(d.geom.out_h, d.geom.out_w, mid, out, 1, 1);
            let residual = (b.geom.out_h, b.geom.out_w, out) == (hh, ww, c);
            units.push(Unit {
                a_off: push(format!("block{}.expand", i + 1), a.weight_len()),
                d_off: push(format!("block{}.dw", i + 1), d.weight_len()),
                b_off: push(format!("block{}.proj", i + 1), b.weight_len()),
                a,
                d,
                b,
                post: if residual {
                    Post::Residual
                } else {
                    Post::Linear
                },
            });
        }

        // Head.
        let last = &units.last().expect("blocks").b;
        let features = 20 * h;
        let conv = Conv::new(last.geom.out_h, last.geom.out_w, last.c_out, features, 1, 1);
        let head = Head {
            conv_off: push("head.conv".into(), conv.weight_len()),
            w_off: push("readout.w".into(), features),
            b_off: push("readout.b".into(), 1),
            positions: conv.geom.out_positions(),
            conv,
            features,
        };
        Arch {
            act: Activation::Relu,
            fuse_relu: true,
            input_dim: ih * iw * ic,
            units,
            head,
            layers,
            n_params: off,
        }
    }
}

/// Parameter count for input images of shape (height, width, channels) and base width h.
pub fn param_count(image_shape: [usize; 3], width: usize) -> usize {
    Arch::new(image_shape, width).n_params
}

/// FLOPs of one SGD step (forward + backward) of the network on `batch` images: every
/// convolution's nominal multiply-adds (2 per tap, padding taps included, as FLOP counters of
/// other frameworks count them), three times (forward product, weight gradient, input gradient)
/// except the input gradient of the stem's first convolution, which is not needed. The read-out,
/// the spatial mean, activations and the update are not counted (under 0.1 % at h >= 8).
pub fn step_flops(image_shape: [usize; 3], width: usize, batch: usize) -> f64 {
    let arch = Arch::new(image_shape, width);
    let conv =
        |c: &Conv| (c.geom.out_positions() * c.geom.k * c.geom.k * c.c_in * c.c_out) as f64 * 2.0;
    let dw = |d: &DwConv| (d.geom.out_positions() * d.geom.k * d.geom.k * d.c) as f64 * 2.0;
    let mut per_image = 3.0 * conv(&arch.head.conv);
    for (i, u) in arch.units.iter().enumerate() {
        let a_passes = if i == 0 { 2.0 } else { 3.0 };
        per_image += a_passes * conv(&u.a) + 3.0 * dw(&u.d) + 3.0 * conv(&u.b);
    }
    per_image * batch as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_counts_match_the_spec() {
        // SPEC §1.
        assert_eq!(param_count([32, 32, 3], 64), 707_649);
        assert_eq!(param_count([28, 28, 1], 64), 694_849);
        assert_eq!(param_count([32, 32, 3], 32), 192_033);
    }

    #[test]
    fn step_flops_count_every_convolution_pass() {
        // h = 1 on 32x32x3, per image: stem conv 16*16*75*4 (2 passes), stem dw 256*25*4,
        // stem proj 256*4*2; blocks (positions out, dw channels, expand c_in*mid, proj mid*out):
        // b1 16x16 -> 8x8: expand 256*2*6, dw 64*25*6, proj 64*6*1; b2 8x8: expand 64*1*3,
        // dw 64*25*3, proj 64*3*1; b3 8x8 -> 4x4: expand 64*1*3, dw 16*25*3, proj 16*3*3;
        // b4 4x4: expand 16*3*9, dw 16*25*9, proj 16*9*3; head 16*3*20. 2 FLOPs per tap.
        let taps = 2.0 * 76_800.0
            + 3.0
                * (25_600.0
                    + 2_048.0
                    + 3_072.0
                    + 9_600.0
                    + 384.0
                    + 192.0
                    + 4_800.0
                    + 192.0
                    + 192.0
                    + 1_200.0
                    + 144.0
                    + 432.0
                    + 3_600.0
                    + 432.0
                    + 960.0);
        assert_eq!(step_flops([32, 32, 3], 1, 5), 2.0 * 5.0 * taps);
    }

    #[test]
    fn layers_tile_the_parameter_vector_in_order() {
        let arch = Arch::new([32, 32, 3], 64);
        let names: Vec<&str> = arch.layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names.first(), Some(&"stem.conv"));
        assert_eq!(names.last(), Some(&"readout.b"));
        assert_eq!(names.len(), 3 + 4 * 3 + 3);
        let mut off = 0;
        for l in &arch.layers {
            assert_eq!(l.offset, off, "{}", l.name);
            off += l.len;
        }
        assert_eq!(off, 707_649);
        // Shapes: 32 -> 16 (stem) -> 8 (block 1) -> 4 (block 3); residual in blocks 2 and 4.
        let posts: Vec<Post> = arch.units.iter().map(|u| u.post).collect();
        assert_eq!(
            posts,
            [
                Post::Act,
                Post::Linear,
                Post::Residual,
                Post::Linear,
                Post::Residual
            ]
        );
        assert_eq!(arch.head.positions, 16);
        assert_eq!(Arch::new([28, 28, 1], 64).head.positions, 16); // 28 -> 14 -> 7 -> 4
    }
}
