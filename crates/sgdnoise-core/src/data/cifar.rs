//! CIFAR-10 "binary version" batch files (`data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`).
//!
//! A file is a sequence of 3073-byte records: one label byte (0..=9), then the 32x32 image as
//! three planes, 1024 red, 1024 green, 1024 blue bytes, each plane row-major. The parser converts
//! each image to HWC (row, column, channel) order, the layout of [`super::Dataset`].
//! The file length is checked (a positive multiple of 3073, at most [`MAX_FILE`]) before anything
//! is allocated.

use super::idx::check_labels;
use super::DataError;
use std::io::Read;
use std::path::Path;

/// Image side, pixels.
pub const SIDE: usize = 32;
/// Channels (R, G, B).
pub const CHANNELS: usize = 3;
/// Bytes of one image.
pub const IMAGE_BYTES: usize = SIDE * SIDE * CHANNELS;
/// Bytes of one record: label + image.
pub const RECORD_BYTES: usize = 1 + IMAGE_BYTES;
/// Records in each official batch file.
pub const RECORDS_PER_BATCH: usize = 10_000;
/// Size of each official batch file, bytes (30,730,000).
pub const BATCH_FILE_BYTES: u64 = (RECORDS_PER_BATCH * RECORD_BYTES) as u64;
/// Largest batch file accepted, bytes.
pub const MAX_FILE: u64 = 512 << 20;
/// The training batches in pool order, then the test batch.
pub const BATCH_FILES: [&str; 6] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
    "test_batch.bin",
];
/// Class names, in label order.
pub const CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// The images and labels of one batch file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CifarBatch {
    /// `labels.len() * IMAGE_BYTES` pixels, image after image, HWC.
    pub pixels: Vec<u8>,
    pub labels: Vec<u8>,
}

fn format_err(path: &Path, reason: String) -> DataError {
    DataError::Format {
        path: path.to_path_buf(),
        reason,
    }
}

fn check_len(len: u64, path: &Path) -> Result<usize, DataError> {
    if len == 0 || !len.is_multiple_of(RECORD_BYTES as u64) || len > MAX_FILE {
        return Err(format_err(
            path,
            format!(
                "a CIFAR-10 batch file holds whole {RECORD_BYTES}-byte records (official files: {BATCH_FILE_BYTES} bytes) but this one has {len} bytes{}",
                if len > MAX_FILE {
                    " (too large)".to_string()
                } else if !len.is_multiple_of(RECORD_BYTES as u64) {
                    format!(
                        " ({} records and {} stray bytes: truncated?)",
                        len / RECORD_BYTES as u64,
                        len % RECORD_BYTES as u64
                    )
                } else {
                    String::new()
                }
            ),
        ));
    }
    Ok((len / RECORD_BYTES as u64) as usize)
}

/// Parses batch records held in memory; `path` only names the file in errors.
pub fn parse_batch(bytes: &[u8], path: &Path) -> Result<CifarBatch, DataError> {
    let n = check_len(bytes.len() as u64, path)?;
    let mut labels = Vec::with_capacity(n);
    let mut pixels = vec![0u8; n * IMAGE_BYTES];
    for (record, out) in bytes
        .chunks_exact(RECORD_BYTES)
        .zip(pixels.chunks_exact_mut(IMAGE_BYTES))
    {
        labels.push(record[0]);
        planar_to_hwc(&record[1..], out);
    }
    check_labels(&labels, 10, path)?;
    Ok(CifarBatch { pixels, labels })
}

/// Converts one image from planes (R plane, G plane, B plane) to HWC.
fn planar_to_hwc(planar: &[u8], hwc: &mut [u8]) {
    let plane = SIDE * SIDE;
    let (r, rest) = planar.split_at(plane);
    let (g, b) = rest.split_at(plane);
    for (i, px) in hwc.chunks_exact_mut(CHANNELS).enumerate() {
        px[0] = r[i];
        px[1] = g[i];
        px[2] = b[i];
    }
}

/// Reads a batch file.
pub fn read_batch(path: &Path) -> Result<CifarBatch, DataError> {
    read_batch_with_sha256(path).map(|(batch, _)| batch)
}

/// Reads a batch file, with the SHA-256 (lower-case hex) of its bytes.
pub fn read_batch_with_sha256(path: &Path) -> Result<(CifarBatch, String), DataError> {
    let io = |e| DataError::Io {
        path: path.to_path_buf(),
        error: e,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    check_len(len, path)?;
    let mut bytes = Vec::with_capacity(len as usize);
    file.by_ref()
        .take(len + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 != len {
        return Err(format_err(
            path,
            format!(
                "file changed size while being read ({len} bytes, then {})",
                bytes.len()
            ),
        ));
    }
    let batch = parse_batch(&bytes, path)?;
    let sha256 = {
        use sha2::{Digest, Sha256};
        super::digest::hex(&Sha256::digest(&bytes))
    };
    Ok((batch, sha256))
}

/// Encodes images (HWC) and labels as a batch file (for tests and tools).
pub fn encode(pixels_hwc: &[u8], labels: &[u8]) -> Vec<u8> {
    assert_eq!(pixels_hwc.len(), labels.len() * IMAGE_BYTES);
    let mut out = Vec::with_capacity(labels.len() * RECORD_BYTES);
    for (img, &label) in pixels_hwc.chunks_exact(IMAGE_BYTES).zip(labels) {
        out.push(label);
        for c in 0..CHANNELS {
            out.extend(img.chunks_exact(CHANNELS).map(|px| px[c]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planes_become_hwc() {
        let mut rec = vec![7u8];
        rec.extend([10u8; 1024]); // R
        rec.extend((0..1024).map(|i| (i % 256) as u8)); // G
        rec.extend([30u8; 1024]); // B
        let b = parse_batch(&rec, Path::new("b.bin")).unwrap();
        assert_eq!(b.labels, vec![7]);
        // pixel (row 1, col 2) = index 34: R=10, G=34, B=30
        assert_eq!(&b.pixels[34 * 3..34 * 3 + 3], &[10, 34, 30]);
        assert_eq!(encode(&b.pixels, &b.labels), rec);
    }
}
