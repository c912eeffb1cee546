//! The buffers of the mnas passes: per unit the im2col patches and every pre- and
//! post-activation a backward pass needs, the head's pre-activations and means, three gradient
//! buffers, and the inputs of batches larger than the workspace ([`BigBatch`]). Each is sized
//! once for a number of images, so no step allocates.

use super::arch::Arch;
use crate::numeric::real::Real;

/// Stored activations of one unit, for `cap` images. With the fused ReLU (`Arch::fuse_relu`)
/// `za` is not written, nor `zb` except for residual units (the passes mask by the activations).
pub(super) struct UnitBufs<R> {
    pub(super) patches: Vec<R>,
    pub(super) za: Vec<R>,
    pub(super) aa: Vec<R>,
    pub(super) zd: Vec<R>,
    pub(super) ad: Vec<R>,
    pub(super) zb: Vec<R>,
    pub(super) out: Vec<R>,
}

/// Everything a forward and backward pass of up to `cap` images writes.
pub(super) struct Workspace<R> {
    pub(super) cap: usize,
    /// Copy of the input batch.
    pub(super) x: Vec<R>,
    pub(super) units: Vec<UnitBufs<R>>,
    /// The head's pre-activations (its activations are summed into `mean` as they are
    /// computed, never stored).
    pub(super) zh: Vec<R>,
    /// Spatial means of `ah`: cap × 20h.
    pub(super) mean: Vec<R>,
    /// Gradient buffers: g[0] holds the gradient of the current unit's output.
    pub(super) g: [Vec<R>; 3],
    pub(super) dpatches: Vec<R>,
}

impl<R: Real> Workspace<R> {
    /// The numbers [`Workspace::new`] allocates (saturating), for the memory estimate.
    pub(super) fn len(arch: &Arch, cap: usize, with_grad: bool) -> usize {
        let (max_tensor, max_patches) = Self::max_lens(arch);
        let per_image = arch
            .units
            .iter()
            .map(|u| {
                u.a.patches_len()
                    .saturating_add(u.a.out_len().saturating_mul(2))
                    .saturating_add(u.d.out_len().saturating_mul(2))
                    .saturating_add(u.b.out_len().saturating_mul(2))
            })
            .fold(0usize, usize::saturating_add)
            .saturating_add(arch.input_dim)
            .saturating_add(arch.head.conv.out_len())
            .saturating_add(arch.head.features)
            .saturating_add(if with_grad {
                max_tensor.saturating_mul(3).saturating_add(max_patches)
            } else {
                0
            });
        per_image.saturating_mul(cap)
    }

    /// The largest tensor of one image and the largest im2col buffer after the stem.
    fn max_lens(arch: &Arch) -> (usize, usize) {
        let hd = &arch.head;
        let max_tensor = arch
            .units
            .iter()
            .flat_map(|u| [u.a.in_len(), u.a.out_len(), u.d.out_len(), u.b.out_len()])
            .chain([hd.conv.out_len()])
            .max()
            .unwrap_or(0);
        let max_patches = arch
            .units
            .iter()
            .skip(1)
            .map(|u| u.a.patches_len())
            .max()
            .unwrap_or(0);
        (max_tensor, max_patches)
    }

    /// Buffers for `cap` images; the gradient buffers only `with_grad` (not for `predict`).
    pub(super) fn new(arch: &Arch, cap: usize, with_grad: bool) -> Self {
        let z = |len: usize| vec![R::ZERO; cap * len];
        let zg = |len: usize| if with_grad { z(len) } else { Vec::new() };
        let units: Vec<UnitBufs<R>> = arch
            .units
            .iter()
            .map(|u| UnitBufs {
                patches: z(u.a.patches_len()),
                za: z(u.a.out_len()),
                aa: z(u.a.out_len()),
                zd: z(u.d.out_len()),
                ad: z(u.d.out_len()),
                zb: z(u.b.out_len()),
                out: z(u.b.out_len()),
            })
            .collect();
        let hd = &arch.head;
        let (max_tensor, max_patches) = Self::max_lens(arch);
        Workspace {
            cap,
            x: z(arch.input_dim),
            units,
            zh: z(hd.conv.out_len()),
            mean: z(hd.features),
            g: [zg(max_tensor), zg(max_tensor), zg(max_tensor)],
            dpatches: zg(max_patches),
        }
    }
}

#[derive(Default)]
pub(super) struct BigBatch<R> {
    pub(super) x: Vec<R>,
    pub(super) grad: Vec<R>,
    pub(super) out: Vec<R>,
    /// First image of the chunk whose activations the workspace holds.
    pub(super) held: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allocated(ws: &Workspace<f32>) -> usize {
        ws.x.len()
            + ws.units
                .iter()
                .map(|u| {
                    u.patches.len()
                        + u.za.len()
                        + u.aa.len()
                        + u.zd.len()
                        + u.ad.len()
                        + u.zb.len()
                        + u.out.len()
                })
                .sum::<usize>()
            + ws.zh.len()
            + ws.mean.len()
            + ws.g.iter().map(Vec::len).sum::<usize>()
            + ws.dpatches.len()
    }

    /// The memory estimate counts exactly what `new` allocates.
    #[test]
    fn len_counts_what_new_allocates() {
        for (shape, h, cap) in [
            ([32, 32, 3], 4, 3),
            ([28, 28, 1], 2, 1),
            ([32, 32, 3], 8, 64),
        ] {
            let arch = Arch::new(shape, h);
            for grad in [true, false] {
                let ws = Workspace::<f32>::new(&arch, cap, grad);
                assert_eq!(Workspace::<f32>::len(&arch, cap, grad), allocated(&ws));
            }
        }
    }
}
