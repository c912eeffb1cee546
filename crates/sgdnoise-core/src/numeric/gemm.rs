//! Matrix products, the one primitive every model's forward and backward pass is built from.
//!
//! [`Gemm`] is the seam for backends: [`Cpu`] runs the `gemm` crate (AVX-512 kernels picked at run
//! time by its `x86-v4` feature, so one binary runs on any x86-64 node); a GPU backend (cuBLAS)
//! implements the same trait. Matrices are views with arbitrary row and column strides, so a
//! transpose is free ([`MatRef::t`]).

use crate::numeric::real::Real;

/// A read-only matrix view: element (i, j) is `data[i * row_stride + j * col_stride]`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a, R> {
    pub data: &'a [R],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: isize,
    pub col_stride: isize,
}

/// A mutable matrix view (same layout rules as [`MatRef`]).
#[derive(Debug)]
pub struct MatMut<'a, R> {
    pub data: &'a mut [R],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: isize,
    pub col_stride: isize,
}

fn span(rows: usize, cols: usize, rs: isize, cs: isize) -> usize {
    assert!(rs >= 0 && cs >= 0, "negative strides are not supported");
    if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1) * rs as usize + (cols - 1) * cs as usize + 1
    }
}

impl<'a, R> MatRef<'a, R> {
    /// Row-major `rows × cols` matrix.
    pub fn rows(data: &'a [R], rows: usize, cols: usize) -> Self {
        let m = MatRef {
            data,
            rows,
            cols,
            row_stride: cols as isize,
            col_stride: 1,
        };
        assert!(
            span(rows, cols, m.row_stride, 1) <= m.data.len(),
            "matrix {rows}x{cols} larger than its slice ({})",
            m.data.len()
        );
        m
    }
    /// The transpose (no copy).
    pub fn t(self) -> Self {
        MatRef {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }
}

impl<'a, R> MatMut<'a, R> {
    /// Row-major `rows × cols` matrix.
    pub fn rows(data: &'a mut [R], rows: usize, cols: usize) -> Self {
        assert!(
            span(rows, cols, cols as isize, 1) <= data.len(),
            "matrix {rows}x{cols} larger than its slice ({})",
            data.len()
        );
        MatMut {
            data,
            rows,
            cols,
            row_stride: cols as isize,
            col_stride: 1,
        }
    }
    /// The transpose (no copy).
    pub fn t(self) -> Self {
        MatMut {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }
}

/// A backend that multiplies matrices.
pub trait Gemm: Clone + Send + Sync + 'static {
    /// `dst = beta * dst + alpha * a · b`. With `beta == 0` the old contents of `dst` are not
    /// read (they may be anything, even NaN).
    fn gemm<R: Real>(
        &self,
        alpha: R,
        a: MatRef<'_, R>,
        b: MatRef<'_, R>,
        beta: R,
        dst: MatMut<'_, R>,
    );
}

/// The CPU backend on the `gemm` crate; `threads` > 1 splits large products with rayon.
#[derive(Clone, Copy, Debug)]
pub struct Cpu {
    pub threads: usize,
}

impl Default for Cpu {
    fn default() -> Self {
        Cpu { threads: 1 }
    }
}

impl Gemm for Cpu {
    fn gemm<R: Real>(
        &self,
        alpha: R,
        a: MatRef<'_, R>,
        b: MatRef<'_, R>,
        beta: R,
        dst: MatMut<'_, R>,
    ) {
        assert_eq!(
            a.cols, b.rows,
            "gemm: inner dimensions differ ({}x{} · {}x{})",
            a.rows, a.cols, b.rows, b.cols
        );
        assert_eq!(
            (dst.rows, dst.cols),
            (a.rows, b.cols),
            "gemm: destination shape"
        );
        assert!(span(a.rows, a.cols, a.row_stride, a.col_stride) <= a.data.len());
        assert!(span(b.rows, b.cols, b.row_stride, b.col_stride) <= b.data.len());
        assert!(span(dst.rows, dst.cols, dst.row_stride, dst.col_stride) <= dst.data.len());
        let (m, n, k) = (dst.rows, dst.cols, a.cols);
        if m == 0 || n == 0 {
            return;
        }
        if k == 0 {
            // a · b is the zero matrix.
            for i in 0..m {
                for j in 0..n {
                    let idx = i * dst.row_stride as usize + j * dst.col_stride as usize;
                    dst.data[idx] = if beta == R::ZERO {
                        R::ZERO
                    } else {
                        beta * dst.data[idx]
                    };
                }
            }
            return;
        }
        let parallelism = if self.threads > 1 && m * n * k >= 1 << 18 {
            gemm::Parallelism::Rayon(self.threads)
        } else {
            gemm::Parallelism::None
        };
        let read_dst = beta != R::ZERO;
        // SAFETY: the spans of all three views were checked against their slices above, the
        // destination is uniquely borrowed, and R is f32 or f64, both supported by `gemm`.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                dst.data.as_mut_ptr(),
                dst.col_stride,
                dst.row_stride,
                read_dst,
                a.data.as_ptr(),
                a.col_stride,
                a.row_stride,
                b.data.as_ptr(),
                b.col_stride,
                b.row_stride,
                if read_dst { beta } else { R::ZERO },
                alpha,
                false,
                false,
                false,
                parallelism,
            );
        }
    }
}

/// Whether [`Cpu`] computes every element of an `m × n` product with `k` terms (a row-major
/// destination, the only kind the passes use) with the same bits when its rows are computed in
/// parts of `m_part` rows or more (at most `m`) as in one call: the condition for blocking a pass
/// over a few images at a time without changing its results. `m_part` is the smallest part
/// (the last one, where the parts do not divide `m`).
///
/// The `gemm` crate (0.19) sums each element over the depth in blocks of `kc` terms, one
/// multiply-add after another in a register (its micro-kernels unroll the depth but keep one
/// accumulator per element), and adds block after block into the destination; the rows of a
/// call only decide how the work is tiled. What changes the sums is the path it takes:
/// products with `m·n <= 256` may go to its "horizontal" dot-product kernels, `m <= 1`,
/// `n <= 1` or `k <= 2` to its matrix-vector loops, and `kc` is `min(k, 512)` when
/// `m <= 64 && n <= 64` but `k` split into equal blocks of at most its cache-derived size
/// otherwise (the two agree for `k <= 512`). So a split is exact when neither size takes a
/// special path and both sizes take the same `kc`. Pinned by
/// `row_parts_give_the_bits_of_the_whole_product`.
pub fn rows_split_exact(m: usize, m_part: usize, n: usize, k: usize) -> bool {
    if m_part >= m {
        return true;
    }
    let plain = m_part >= 2 && n >= 2 && k > 2 && m_part * n > 256;
    let same_kc = k <= 512 || n > 64 || m_part > 64 || m <= 64;
    plain && same_kc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemm_matches_naive_product_with_transposes_and_accumulation() {
        let (m, n, k) = (5, 7, 3);
        let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
        let bt: Vec<f64> = (0..n * k).map(|i| (i as f64 * 0.11).cos()).collect(); // stored n x k
        let mut c = vec![1.0; m * n];
        Cpu::default().gemm(
            2.0,
            MatRef::rows(&a, m, k),
            MatRef::rows(&bt, n, k).t(),
            1.0,
            MatMut::rows(&mut c, m, n),
        );
        for i in 0..m {
            for j in 0..n {
                let want = 1.0 + 2.0 * (0..k).map(|l| a[i * k + l] * bt[j * k + l]).sum::<f64>();
                assert!((c[i * n + j] - want).abs() < 1e-12);
            }
        }
        let mut d = vec![f64::NAN; m * n];
        Cpu::default().gemm(
            1.0,
            MatRef::rows(&a, m, k),
            MatRef::rows(&bt, n, k).t(),
            0.0,
            MatMut::rows(&mut d, m, n),
        );
        assert!(d.iter().all(|v| v.is_finite()));
    }

    /// The rows of a product computed in parts give the bits of the whole product wherever
    /// [`rows_split_exact`] says so: the shapes of the mnas passes (1 × 1 convolutions: rows =
    /// images × positions, in f32 and f64, depth above 512 too) and of their input gradients
    /// (a transposed weight matrix).
    #[test]
    fn row_parts_give_the_bits_of_the_whole_product() {
        fn check<R: Real>(m: usize, part: usize, n: usize, k: usize, transposed: bool) {
            // The smallest part is the last one.
            let smallest = if m.is_multiple_of(part) { part } else { m % part };
            assert!(rows_split_exact(m, smallest, n, k), "{m} {part} {n} {k}");
            let a: Vec<R> = (0..m * k)
                .map(|i| R::from_f64((i as f64 * 0.37).sin()))
                .collect();
            let b: Vec<R> = (0..k * n)
                .map(|i| R::from_f64((i as f64 * 0.11).cos()))
                .collect();
            let bm = if transposed {
                MatRef::rows(&b, n, k).t()
            } else {
                MatRef::rows(&b, k, n)
            };
            let alpha = R::from_f64(0.3);
            let mut whole = vec![R::ZERO; m * n];
            let cpu = Cpu::default();
            cpu.gemm(
                alpha,
                MatRef::rows(&a, m, k),
                bm,
                R::ZERO,
                MatMut::rows(&mut whole, m, n),
            );
            let mut parts = vec![R::ZERO; m * n];
            for r0 in (0..m).step_by(part) {
                let rows = part.min(m - r0);
                cpu.gemm(
                    alpha,
                    MatRef::rows(&a[r0 * k..(r0 + rows) * k], rows, k),
                    bm,
                    R::ZERO,
                    MatMut::rows(&mut parts[r0 * n..(r0 + rows) * n], rows, n),
                );
            }
            let bits = |v: &[R]| v.iter().map(|x| x.to_f64().to_bits()).collect::<Vec<u64>>();
            assert!(
                bits(&parts) == bits(&whole),
                "{m} rows in parts of {part}, n = {n}, k = {k}, transposed {transposed}"
            );
        }
        // (rows, rows per part, n, k): the stem's projection and block 1's expansion at h = 32
        // (16 × 16 positions), block 4 at h = 64 (4 × 4 positions, depth 576 > 512, n = 192),
        // a depth above 512 with small n and parts above 64 rows, a smaller last part, and parts
        // of 16 rows with n = 17 (m·n just above 256).
        let shapes = [
            (4096, 256, 64, 128),
            (4096, 768, 192, 64),
            (256, 16, 192, 576),
            (1040, 80, 32, 600),
            (1000, 300, 48, 96),
            (64, 16, 17, 40),
        ];
        for (m, part, n, k) in shapes {
            for transposed in [false, true] {
                check::<f32>(m, part, n, k, transposed);
                check::<f64>(m, part, n, k, transposed);
            }
        }
        // Paths whose sums may differ are refused.
        assert!(!rows_split_exact(1000, 16, 32, 600)); // kc: 512 for 16 rows, 300 for 1000
        assert!(!rows_split_exact(64, 8, 16, 40)); // 8 x 16 = 128 <= 256: horizontal kernels
        assert!(!rows_split_exact(64, 1, 300, 40)); // one row: a matrix-vector product
        assert!(rows_split_exact(64, 64, 1, 1)); // no split at all
    }
}
