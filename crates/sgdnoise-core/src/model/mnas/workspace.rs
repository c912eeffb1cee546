//! The buffers of the mnas passes: per unit the im2col patches and every pre- and
//! post-activation a backward pass needs, the head's activations and means, three gradient
//! buffers, and the inputs of batches larger than the workspace ([`BigBatch`]). Each is sized
//! once for a number of images, so no step allocates.

use super::arch::Arch;
use crate::numeric::real::Real;

/// Stored activations of one unit, for `cap` images.
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
    pub(super) zh: Vec<R>,
    pub(super) ah: Vec<R>,
    /// Spatial means of `ah`: cap × 20h.
    pub(super) mean: Vec<R>,
    /// Gradient buffers: g[0] holds the gradient of the current unit's output.
    pub(super) g: [Vec<R>; 3],
    pub(super) dpatches: Vec<R>,
}

impl<R: Real> Workspace<R> {
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
        Workspace {
            cap,
            x: z(arch.input_dim),
            units,
            zh: z(hd.conv.out_len()),
            ah: z(hd.conv.out_len()),
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
