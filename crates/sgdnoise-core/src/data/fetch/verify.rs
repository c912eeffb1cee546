//! Size and SHA-256 checks: hashing a reader, a file, or a file's content (gunzipped when it is
//! gzip, so a corrupt stream is reported as such), and whether an idx set already on disk
//! matches its reference.

use super::{io_at, FetchError, Plan};
use crate::data::DataError;
use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

pub use crate::data::digest::hex;

/// Size and SHA-256 of everything `r` yields, reading at most `limit` bytes (then stopping).
pub fn hash_reader(mut r: impl Read, limit: u64) -> io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    while total < limit {
        let want = buf.len().min((limit - total) as usize);
        let n = match r.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((total, hex(&hasher.finalize())))
}

/// Size and SHA-256 of a file's bytes.
pub fn hash_file(path: &Path) -> Result<(u64, String), FetchError> {
    let f = File::open(path).map_err(io_at(path))?;
    hash_reader(BufReader::new(f), u64::MAX).map_err(io_at(path))
}

/// Size and SHA-256 of a file's content: decompressed when it is gzip (by its magic bytes), at
/// most `limit` bytes of it.
pub fn hash_content(path: &Path, limit: u64) -> Result<(u64, String), FetchError> {
    let mut f = File::open(path).map_err(io_at(path))?;
    let mut magic = [0u8; 2];
    let n = f.read(&mut magic).map_err(io_at(path))?;
    drop(f);
    let f = BufReader::new(File::open(path).map_err(io_at(path))?);
    if n == 2 && magic == [0x1f, 0x8b] {
        hash_reader(MultiGzDecoder::new(f), limit).map_err(|e| {
            FetchError::Data(DataError::Format {
                path: path.to_path_buf(),
                reason: format!("corrupt gzip stream: {e}"),
            })
        })
    } else {
        hash_reader(f, limit).map_err(io_at(path))
    }
}

/// Content files already present and matching the reference? (IDX sets: raw or .gz.)
pub(super) fn idx_present(dir: &Path, plan: &Plan) -> Result<bool, FetchError> {
    for f in &plan.files {
        let raw = dir.join(f.name.trim_end_matches(".gz"));
        let Some(want) = &f.content else {
            return Ok(false);
        };
        let path = if raw.is_file() {
            raw
        } else if dir.join(&f.name).is_file() {
            dir.join(&f.name)
        } else {
            return Ok(false);
        };
        let (bytes, sha) = hash_content(&path, want.bytes + 1)?;
        if bytes != want.bytes || sha != want.sha256 {
            return Ok(false);
        }
    }
    Ok(true)
}
