//! Mini-batch draws (SPEC §3): B distinct indices, uniformly among the P training points, fresh
//! at every step, in O(B) time.
//!
//! The sampler keeps a permutation of 0..P and runs the first B steps of a Fisher-Yates shuffle
//! on it at every draw: position i is swapped with a uniform position in i..P. Since the array
//! stays a permutation, every draw is a uniform B-subset (in uniform order), independent of the
//! previous draws, without ever reshuffling all P indices.

use crate::numeric::rng::StreamRng;
use rand::Rng;

pub struct BatchSampler {
    perm: Vec<u32>,
}

impl BatchSampler {
    pub fn new(p: usize) -> Self {
        assert!(
            p <= u32::MAX as usize,
            "training sets are limited to 2^32 points"
        );
        BatchSampler {
            perm: (0..p as u32).collect(),
        }
    }

    /// The next batch of `b` distinct indices.
    #[inline]
    pub fn draw(&mut self, b: usize, rng: &mut StreamRng) -> &[u32] {
        let p = self.perm.len();
        debug_assert!(b <= p);
        if b == p {
            return &self.perm;
        }
        for i in 0..b {
            let j = rng.random_range(i..p);
            self.perm.swap(i, j);
        }
        &self.perm[..b]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numeric::rng::{stream, Stream};

    #[test]
    fn batches_are_distinct_and_uniform() {
        let (p, b, draws) = (10, 3, 100_000);
        let mut s = BatchSampler::new(p);
        let mut rng = stream(5, Stream::Batch);
        let mut counts = vec![0usize; p];
        let mut pair01 = 0usize;
        for _ in 0..draws {
            let batch = s.draw(b, &mut rng).to_vec();
            let mut sorted = batch.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), b, "indices in a batch must be distinct");
            for &i in &batch {
                counts[i as usize] += 1;
            }
            if batch.contains(&0) && batch.contains(&1) {
                pair01 += 1;
            }
        }
        // Each index appears with probability b/p; binomial sd = sqrt(n q (1-q)); allow 5 sd.
        let q = b as f64 / p as f64;
        let sd = (draws as f64 * q * (1.0 - q)).sqrt();
        for c in counts {
            assert!((c as f64 - draws as f64 * q).abs() < 5.0 * sd, "count {c}");
        }
        // A given pair appears with probability b(b-1)/(p(p-1)).
        let q2 = (b * (b - 1)) as f64 / (p * (p - 1)) as f64;
        let sd2 = (draws as f64 * q2 * (1.0 - q2)).sqrt();
        assert!((pair01 as f64 - draws as f64 * q2).abs() < 5.0 * sd2);
    }
}
