//! Turning downloads into data files: gunzipping an idx file while checking the size and
//! SHA-256 of its content, and extracting exactly the six expected CIFAR-10 batch files from
//! the archive (output names from our own list, links refused, sizes checked). Both write under
//! a temporary name and rename, so an interruption leaves no half-written data file.

use super::verify::hex;
use super::{io_at, part_path, Expected, FetchError, CIFAR_ARCHIVE_DIR};
use crate::data::{cifar, DataError};
use flate2::read::{GzDecoder, MultiGzDecoder};
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::Path;

/// Writes the decompressed content of `gz` to `dest` (via `dest.part`), requiring the expected
/// size and SHA-256 of the content.
pub fn gunzip_verified(gz: &Path, dest: &Path, want: &Expected) -> Result<(), FetchError> {
    let part = part_path(dest);
    let result = (|| {
        let mut r = MultiGzDecoder::new(BufReader::new(File::open(gz).map_err(io_at(gz))?))
            .take(want.bytes + 1);
        let mut w = io::BufWriter::new(File::create(&part).map_err(io_at(&part))?);
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut total = 0u64;
        loop {
            let n = match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(FetchError::Data(DataError::Format {
                        path: gz.to_path_buf(),
                        reason: format!("corrupt gzip stream: {e}"),
                    }))
                }
            };
            hasher.update(&buf[..n]);
            w.write_all(&buf[..n]).map_err(io_at(&part))?;
            total += n as u64;
        }
        w.flush().map_err(io_at(&part))?;
        w.get_ref().sync_all().map_err(io_at(&part))?;
        if total != want.bytes {
            return Err(FetchError::Mismatch {
                path: gz.to_path_buf(),
                what: "uncompressed size",
                got: if total > want.bytes {
                    format!("more than {} bytes", want.bytes)
                } else {
                    format!("{total} bytes")
                },
                expected: format!("{} bytes", want.bytes),
            });
        }
        let sha = hex(&hasher.finalize());
        if sha != want.sha256 {
            return Err(FetchError::Mismatch {
                path: gz.to_path_buf(),
                what: "sha256 of the uncompressed content",
                got: sha,
                expected: want.sha256.clone(),
            });
        }
        fs::rename(&part, dest).map_err(io_at(dest))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&part);
    }
    result
}

/// The archive member name of an expected CIFAR batch, if `path` is exactly one of them
/// (`cifar-10-batches-bin/<name>`, optionally after `./`).
fn expected_member(path: &[u8]) -> Option<&'static str> {
    let path = path.strip_prefix(b"./").unwrap_or(path);
    let rest = path
        .strip_prefix(CIFAR_ARCHIVE_DIR.as_bytes())?
        .strip_prefix(b"/")?;
    cifar::BATCH_FILES
        .iter()
        .find(|name| name.as_bytes() == rest)
        .copied()
}

/// Extracts the six CIFAR batch files from `archive` (a .tar.gz) into `out_dir`, each required to be
/// a regular file of `member_bytes` bytes. Other members are skipped; links anywhere are refused.
pub fn extract_cifar(archive: &Path, out_dir: &Path, member_bytes: u64) -> Result<(), FetchError> {
    let bad = |reason: String| FetchError::Archive {
        path: archive.to_path_buf(),
        reason,
    };
    fs::create_dir_all(out_dir).map_err(io_at(out_dir))?;
    let file = File::open(archive).map_err(io_at(archive))?;
    let mut tar = tar::Archive::new(GzDecoder::new(BufReader::new(file)));
    let mut done: Vec<&str> = Vec::new();
    for entry in tar.entries().map_err(io_at(archive))? {
        let mut entry = entry.map_err(|e| bad(format!("cannot read the archive: {e}")))?;
        let kind = entry.header().entry_type();
        let member = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if kind.is_symlink() || kind.is_hard_link() {
            return Err(bad(format!(
                "member {member} is a link; refusing the archive"
            )));
        }
        let Some(name) = expected_member(&entry.path_bytes()) else {
            continue;
        };
        if !kind.is_file() {
            return Err(bad(format!("member {member} is not a regular file")));
        }
        if done.contains(&name) {
            return Err(bad(format!("member {member} appears twice")));
        }
        let size = entry.header().size().map_err(|e| bad(e.to_string()))?;
        if size != member_bytes {
            return Err(bad(format!(
                "member {member} has {size} bytes, expected {member_bytes}"
            )));
        }
        let dest = out_dir.join(name);
        let part = part_path(&dest);
        let copied = (|| -> io::Result<u64> {
            let mut w = File::create(&part)?;
            let n = io::copy(&mut (&mut entry).take(member_bytes), &mut w)?;
            w.sync_all()?;
            Ok(n)
        })()
        .map_err(io_at(&part));
        match copied {
            Ok(n) if n == member_bytes => fs::rename(&part, &dest).map_err(io_at(&dest))?,
            Ok(n) => {
                let _ = fs::remove_file(&part);
                return Err(bad(format!("member {member} ends after {n} bytes")));
            }
            Err(e) => {
                let _ = fs::remove_file(&part);
                return Err(e);
            }
        }
        done.push(name);
    }
    let missing: Vec<&str> = cifar::BATCH_FILES
        .iter()
        .filter(|n| !done.contains(n))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(bad(format!(
            "missing members {} (under {CIFAR_ARCHIVE_DIR}/)",
            missing.join(", ")
        )));
    }
    Ok(())
}
