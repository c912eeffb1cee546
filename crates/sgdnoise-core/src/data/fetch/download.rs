//! Downloads: `curl -fL -C -` (resumable; `wget -c` when curl is missing) into `dest.part`,
//! mirror after mirror, until one delivers the expected size and SHA-256; a wrong file is deleted
//! and the next mirror tried, a short one kept so that the next try resumes it.

use super::verify::hash_file;
use super::{io_at, part_path, Expected, FetchError};
use std::fs;
use std::io;
use std::path::Path;
use std::process::{Command, Stdio};

/// Options of [`fetch`](super::fetch).
#[derive(Clone, Debug, Default)]
pub struct FetchOptions {
    /// Let curl/wget draw their progress bar on stderr (the CLI sets this on a terminal).
    pub progress: bool,
}

/// Runs curl (or wget when curl is missing) to fetch `url` into `part`, resuming it.
/// `Err` carries the reason; `NoDownloader` when neither program exists.
fn run_downloader(url: &str, part: &Path, opts: &FetchOptions) -> Result<(), FetchError> {
    let stderr = || {
        if opts.progress {
            Stdio::inherit()
        } else {
            Stdio::piped()
        }
    };
    let mut curl = Command::new("curl");
    curl.args(["-fL", "-C", "-", "--retry", "3", "--connect-timeout", "30"])
        .arg(if opts.progress {
            "--progress-bar"
        } else {
            "-sS"
        })
        .arg("-o")
        .arg(part)
        .arg(url)
        .stdout(Stdio::null())
        .stderr(stderr());
    let out = match curl.output() {
        Ok(out) => out,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let mut wget = Command::new("wget");
            wget.arg("-c")
                .args(if opts.progress { &[][..] } else { &["-q"][..] })
                .arg("-O")
                .arg(part)
                .arg(url)
                .stdout(Stdio::null())
                .stderr(stderr());
            match wget.output() {
                Ok(out) => out,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(FetchError::NoDownloader)
                }
                Err(e) => return Err(io_at(part)(e)),
            }
        }
        Err(e) => return Err(io_at(part)(e)),
    };
    if out.status.success() {
        Ok(())
    } else {
        // curl repeats its message once per retry: keep the last line
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        Err(FetchError::Download {
            file: url.to_string(),
            attempts: vec![format!("{} ({})", last.trim(), out.status)],
        })
    }
}

/// Downloads `name` from the first mirror that delivers it with the expected size and SHA-256,
/// into `dest` (written as `dest.part`, renamed when verified). An existing `dest` that already
/// matches is kept.
pub fn download_verified(
    mirrors: &[String],
    name: &str,
    dest: &Path,
    want: &Expected,
    opts: &FetchOptions,
    log: &mut dyn FnMut(&str),
) -> Result<(), FetchError> {
    if dest.is_file() {
        let (bytes, sha) = hash_file(dest)?;
        if bytes == want.bytes && sha == want.sha256 {
            log(&format!(
                "{}: already downloaded, checksum ok",
                dest.display()
            ));
            return Ok(());
        }
        log(&format!(
            "{}: present but its checksum is wrong; downloading again",
            dest.display()
        ));
        fs::remove_file(dest).map_err(io_at(dest))?;
    }
    let part = part_path(dest);
    let mut attempts = Vec::new();
    for mirror in mirrors {
        let url = format!("{mirror}{name}");
        log(&format!("downloading {url}"));
        let outcome = run_downloader(&url, &part, opts);
        if let Err(FetchError::NoDownloader) = outcome {
            return Err(FetchError::NoDownloader);
        }
        let size = fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        if size == want.bytes {
            let (_, sha) = hash_file(&part)?;
            if sha == want.sha256 {
                fs::rename(&part, dest).map_err(io_at(dest))?;
                log(&format!("{}: sha256 ok", dest.display()));
                return Ok(());
            }
            attempts.push(format!(
                "{url}: sha256 {sha}, expected {} (deleted)",
                want.sha256
            ));
            fs::remove_file(&part).map_err(io_at(&part))?;
        } else if size > want.bytes {
            attempts.push(format!(
                "{url}: {size} bytes, expected {} (deleted)",
                want.bytes
            ));
            fs::remove_file(&part).map_err(io_at(&part))?;
        } else {
            let why = match outcome {
                Err(FetchError::Download { attempts: a, .. }) => a.join("; "),
                Err(e) => e.to_string(),
                Ok(()) => "the download ended early".to_string(),
            };
            attempts.push(if size == 0 {
                format!("{url}: {why}")
            } else {
                format!(
                    "{url}: got {size} of {} bytes: {why} (the partial file is kept; run again to resume)",
                    want.bytes
                )
            });
        }
    }
    Err(FetchError::Download {
        file: name.to_string(),
        attempts,
    })
}
