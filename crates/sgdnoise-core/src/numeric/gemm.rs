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
}
