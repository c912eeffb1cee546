//! Downloading the official files (`sgdnoise data fetch`), with checksums.
//!
//! Downloads shell out to `curl -fL -C -` (resumable; `wget -c` when curl is missing) into a
//! `.part` file next to the target. A download counts only when its size and SHA-256 match the
//! reference (table from the data-sources note: tensorflow-datasets' url_checksums); a wrong one is
//! deleted and the next mirror tried; a short one is kept so the next try resumes it.
//! MNIST and Fashion-MNIST: the four `.gz` files go to `<root>/mnist/` or `<root>/fashion-mnist/`,
//! are decompressed to the raw idx files (which load fastest), whose size and SHA-256 must match the
//! reference of the uncompressed content, and the `.gz` is removed.
//! CIFAR-10: `cifar-10-binary.tar.gz` goes to `<root>/`, and only the six expected `.bin` members
//! are extracted to `<root>/cifar-10-batches-bin/` (output names come from our own list, never from
//! the archive; any link in the archive is refused), each of the expected size, then parsed.
//! Files are written under a temporary name and renamed, so an interrupted fetch leaves no
//! half-written data file. Nothing here prints; `log` receives one line per step.

use super::cifar;
use super::locate::{find_in, Located, RawSet, IDX_FILES};
use super::DataError;
use flate2::read::{GzDecoder, MultiGzDecoder};
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Expected size and SHA-256 (lower-case hex) of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    pub bytes: u64,
    pub sha256: String,
}

impl Expected {
    pub fn new(bytes: u64, sha256: &str) -> Self {
        Expected {
            bytes,
            sha256: sha256.to_ascii_lowercase(),
        }
    }
}

/// One file to download.
#[derive(Clone, Debug)]
pub struct RemoteFile {
    /// Name under each mirror and on disk (e.g. `train-images-idx3-ubyte.gz`).
    pub name: String,
    /// The download itself.
    pub download: Expected,
    /// The uncompressed content, for gzipped idx files.
    pub content: Option<Expected>,
}

/// What to download for one data set, and from where.
#[derive(Clone, Debug)]
pub struct Plan {
    pub set: RawSet,
    /// Base URLs, tried in order; a file's URL is the base followed by its name.
    pub mirrors: Vec<String>,
    pub files: Vec<RemoteFile>,
    /// CIFAR-10: the size every extracted `.bin` member must have.
    pub cifar_member_bytes: u64,
}

/// Reference (size, SHA-256) of the uncompressed MNIST idx files, in [`IDX_FILES`] order.
pub const MNIST_CONTENT: [(u64, &str); 4] = [
    (
        47_040_016,
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    (
        60_008,
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    (
        7_840_016,
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    (
        10_008,
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
];
/// Reference (size, SHA-256) of the official MNIST `.gz` downloads, in [`IDX_FILES`] order.
pub const MNIST_GZ: [(u64, &str); 4] = [
    (
        9_912_422,
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    ),
    (
        28_881,
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    ),
    (
        1_648_877,
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    ),
    (
        4_542,
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ),
];
/// Reference (size, SHA-256) of the uncompressed Fashion-MNIST idx files, in [`IDX_FILES`] order.
pub const FASHION_CONTENT: [(u64, &str); 4] = [
    (
        47_040_016,
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    ),
    (
        60_008,
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    ),
    (
        7_840_016,
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    ),
    (
        10_008,
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    ),
];
/// Reference (size, SHA-256) of the official Fashion-MNIST `.gz` downloads (Debian's differ:
/// they were recompressed; only their content matches), in [`IDX_FILES`] order.
pub const FASHION_GZ: [(u64, &str); 4] = [
    (
        26_421_880,
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    ),
    (
        29_515,
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    ),
    (
        4_422_102,
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    ),
    (
        5_148,
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    ),
];
/// MNIST mirrors (the original yann.lecun.com is no longer freely available).
pub const MNIST_MIRRORS: [&str; 2] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
];
/// Fashion-MNIST mirror.
pub const FASHION_MIRRORS: [&str; 1] =
    ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"];
/// CIFAR-10 binary version.
pub const CIFAR_MIRRORS: [&str; 1] = ["https://www.cs.toronto.edu/~kriz/"];
pub const CIFAR_ARCHIVE: &str = "cifar-10-binary.tar.gz";
pub const CIFAR_ARCHIVE_BYTES: u64 = 170_052_171;
pub const CIFAR_ARCHIVE_SHA256: &str =
    "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd";
/// Folder of the batch files inside the archive.
pub const CIFAR_ARCHIVE_DIR: &str = "cifar-10-batches-bin";

/// Reference (size, SHA-256) of the uncompressed files of a set, in file order; `None` for
/// CIFAR-10 (no per-file hashes are published).
pub fn content_reference(set: RawSet) -> Option<&'static [(u64, &'static str); 4]> {
    match set {
        RawSet::Mnist => Some(&MNIST_CONTENT),
        RawSet::Fashion => Some(&FASHION_CONTENT),
        RawSet::Cifar10 => None,
    }
}

impl Plan {
    /// The official files and mirrors of `set`.
    pub fn official(set: RawSet) -> Plan {
        let idx = |gz: &[(u64, &str); 4], content: &[(u64, &str); 4]| -> Vec<RemoteFile> {
            IDX_FILES
                .iter()
                .zip(gz.iter().zip(content))
                .map(|(name, (g, c))| RemoteFile {
                    name: format!("{name}.gz"),
                    download: Expected::new(g.0, g.1),
                    content: Some(Expected::new(c.0, c.1)),
                })
                .collect()
        };
        let (mirrors, files): (&[&str], _) = match set {
            RawSet::Mnist => (&MNIST_MIRRORS, idx(&MNIST_GZ, &MNIST_CONTENT)),
            RawSet::Fashion => (&FASHION_MIRRORS, idx(&FASHION_GZ, &FASHION_CONTENT)),
            RawSet::Cifar10 => (
                &CIFAR_MIRRORS,
                vec![RemoteFile {
                    name: CIFAR_ARCHIVE.to_string(),
                    download: Expected::new(CIFAR_ARCHIVE_BYTES, CIFAR_ARCHIVE_SHA256),
                    content: None,
                }],
            ),
        };
        Plan {
            set,
            mirrors: mirrors.iter().map(|m| m.to_string()).collect(),
            files,
            cifar_member_bytes: cifar::BATCH_FILE_BYTES,
        }
    }
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("could not download {file}:\n  {}", attempts.join("\n  "))]
    Download { file: String, attempts: Vec<String> },
    #[error("{}: {what} is wrong: {got}, expected {expected}", path.display())]
    Mismatch {
        path: PathBuf,
        what: &'static str,
        got: String,
        expected: String,
    },
    #[error("{}: unsafe or unexpected archive: {reason}", path.display())]
    Archive { path: PathBuf, reason: String },
    #[error("neither curl nor wget could be run: install one of them")]
    NoDownloader,
    #[error(transparent)]
    Data(#[from] DataError),
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> FetchError + '_ {
    move |source| FetchError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

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

fn part_path(dest: &Path) -> PathBuf {
    let mut s = dest.as_os_str().to_owned();
    s.push(".part");
    PathBuf::from(s)
}

/// Options of [`fetch`].
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

/// Content files already present and matching the reference? (IDX sets: raw or .gz.)
fn idx_present(dir: &Path, plan: &Plan) -> Result<bool, FetchError> {
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

/// Downloads and verifies the files of `plan` under `root` (layout in the module doc) and returns
/// where they are.
pub fn fetch(
    plan: &Plan,
    root: &Path,
    opts: &FetchOptions,
    log: &mut dyn FnMut(&str),
) -> Result<Located, FetchError> {
    let out = root.join(plan.set.folder());
    fs::create_dir_all(&out).map_err(io_at(&out))?;
    match plan.set {
        RawSet::Mnist | RawSet::Fashion => {
            if idx_present(&out, plan)? {
                log(&format!(
                    "{}: {} already present, checksums ok",
                    out.display(),
                    plan.set.title()
                ));
            } else {
                for f in &plan.files {
                    let gz = out.join(&f.name);
                    let raw = out.join(f.name.trim_end_matches(".gz"));
                    download_verified(&plan.mirrors, &f.name, &gz, &f.download, opts, log)?;
                    if let Some(want) = &f.content {
                        gunzip_verified(&gz, &raw, want)?;
                        fs::remove_file(&gz).map_err(io_at(&gz))?;
                        log(&format!("{}: content sha256 ok", raw.display()));
                    }
                }
            }
        }
        RawSet::Cifar10 => {
            let complete = cifar::BATCH_FILES.iter().all(|n| {
                fs::metadata(out.join(n)).is_ok_and(|m| m.len() == plan.cifar_member_bytes)
            });
            if complete {
                log(&format!(
                    "{}: CIFAR-10 batches already present",
                    out.display()
                ));
            } else {
                let f = plan.files.first().ok_or_else(|| {
                    FetchError::Data(DataError::Other("CIFAR-10 plan without archive".into()))
                })?;
                let archive = root.join(&f.name);
                download_verified(&plan.mirrors, &f.name, &archive, &f.download, opts, log)?;
                log(&format!(
                    "extracting the batch files into {}",
                    out.display()
                ));
                extract_cifar(&archive, &out, plan.cifar_member_bytes)?;
            }
            for n in cifar::BATCH_FILES {
                cifar::read_batch(&out.join(n))?;
            }
            log("CIFAR-10 batch files parse (labels 0..=9, whole records)");
        }
    }
    find_in(plan.set, &out).ok().flatten().ok_or_else(|| {
        FetchError::Data(DataError::Other(format!(
            "{}: files missing right after fetching",
            out.display()
        )))
    })
}
