//! The binary arrays of a finished run (SPEC §10): `test_predictions.bin` (pred = f − f0 on the
//! test set at the stop, in the test set's order), `test_labels.bin` (their labels y = ±1) and,
//! with `save_params`, `params.bin` (the final weights in the order of the model's layers, as
//! `config.json`'s `num_params` counts them).
//!
//! Format (version 1), all little-endian:
//!
//! | bytes | what |
//! |---|---|
//! | 0..8 | magic `SGDNARR1` |
//! | 8..12 | format version, u32 = 1 |
//! | 12..16 | dtype, u32: the element size, 4 = f32, 8 = f64 (the run's dtype) |
//! | 16..24 | count, u64: the number of elements |
//! | 24.. | count elements of the dtype |
//!
//! A file's length is exactly 24 + count x dtype; [`read`] refuses anything else. The files are
//! written atomically before `summary.json` ([`super::RunWriter::finish`]): a finished run always
//! has them, a killed attempt may leave them beside no summary (they are replaced by the next
//! attempt), and a finished run's folder is never written again.

use std::io;
use std::path::Path;

pub const MAGIC: &[u8; 8] = b"SGDNARR1";
pub const VERSION: u32 = 1;
pub const HEADER_BYTES: usize = 24;
pub const PREDICTIONS_FILE: &str = "test_predictions.bin";
pub const LABELS_FILE: &str = "test_labels.bin";
pub const PARAMS_FILE: &str = "params.bin";

/// The element type of an array file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    F32,
    F64,
}

impl Dtype {
    pub fn bytes(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F64 => 8,
        }
    }
}

/// The file's bytes: header then `values` as `dtype` (an f64 of an f32 run converts exactly).
pub fn encode(values: &[f64], dtype: Dtype) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_BYTES + values.len() * dtype.bytes());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(dtype.bytes() as u32).to_le_bytes());
    out.extend_from_slice(&(values.len() as u64).to_le_bytes());
    for &v in values {
        match dtype {
            Dtype::F32 => out.extend_from_slice(&(v as f32).to_le_bytes()),
            Dtype::F64 => out.extend_from_slice(&v.to_le_bytes()),
        }
    }
    out
}

fn bad(path: &Path, why: String) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: {why}", path.display()),
    )
}

/// Parses the bytes of an array file (module doc), widening to f64.
pub fn decode(path: &Path, bytes: &[u8]) -> io::Result<(Dtype, Vec<f64>)> {
    if bytes.len() < HEADER_BYTES || &bytes[..8] != MAGIC {
        return Err(bad(
            path,
            "not an sgdnoise array file (no SGDNARR1 header)".into(),
        ));
    }
    let u32_at =
        |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let version = u32_at(8);
    if version != VERSION {
        return Err(bad(
            path,
            format!("format version {version}, this version reads {VERSION}"),
        ));
    }
    let dtype = match u32_at(12) {
        4 => Dtype::F32,
        8 => Dtype::F64,
        other => {
            return Err(bad(
                path,
                format!("dtype {other} (4 = f32 or 8 = f64 expected)"),
            ))
        }
    };
    let mut c = [0u8; 8];
    c.copy_from_slice(&bytes[16..24]);
    let count = u64::from_le_bytes(c);
    let body = (bytes.len() - HEADER_BYTES) as u64;
    if count.checked_mul(dtype.bytes() as u64) != Some(body) {
        return Err(bad(
            path,
            format!(
                "header says {count} elements of {} bytes, the file holds {body} bytes after it",
                dtype.bytes()
            ),
        ));
    }
    let values = bytes[HEADER_BYTES..]
        .chunks_exact(dtype.bytes())
        .map(|b| match dtype {
            Dtype::F32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
            Dtype::F64 => f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        })
        .collect();
    Ok((dtype, values))
}

/// Reads an array file.
pub fn read(path: &Path) -> io::Result<(Dtype, Vec<f64>)> {
    decode(path, &std::fs::read(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_round_trip_in_both_dtypes_with_a_fixed_header() {
        let v = [1.5, -0.25, f64::NAN, 3.0];
        for dtype in [Dtype::F32, Dtype::F64] {
            let b = encode(&v, dtype);
            assert_eq!(&b[..8], b"SGDNARR1");
            assert_eq!(b[8..12], 1u32.to_le_bytes());
            assert_eq!(b[12..16], (dtype.bytes() as u32).to_le_bytes());
            assert_eq!(b[16..24], 4u64.to_le_bytes());
            assert_eq!(b.len(), 24 + 4 * dtype.bytes());
            let (d, back) = decode(Path::new("x"), &b).unwrap();
            assert_eq!(d, dtype);
            assert_eq!((back[0], back[1], back[3]), (1.5, -0.25, 3.0));
            assert!(back[2].is_nan());
        }
    }

    #[test]
    fn a_truncated_or_foreign_array_file_is_refused_not_misread() {
        let b = encode(&[1.0, 2.0], Dtype::F32);
        for cut in [
            &b[..b.len() - 1],
            &b[..10],
            &b"SGDNARR2xxxxxxxxxxxxxxxx"[..],
        ] {
            let e = decode(Path::new("f.bin"), cut).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidData);
            assert!(e.to_string().starts_with("f.bin: "), "{e}");
        }
        // A count whose byte size overflows 64 bits.
        let mut huge = b.clone();
        huge[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode(Path::new("f.bin"), &huge).is_err());
    }
}
