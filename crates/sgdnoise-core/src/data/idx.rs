//! IDX files (the MNIST and Fashion-MNIST format), plain or gzipped.
//!
//! Layout: two zero bytes, one element-type byte (only 0x08 = unsigned byte is supported), one byte
//! giving the number of dimensions k, then k big-endian u32 sizes, then the elements row-major.
//! Images are magic 0x00000803 (2051: u8, 3 dims `[N, rows, cols]`); labels 0x00000801 (2049:
//! u8, 1 dim `[N]`).
//!
//! Hostile input: the header is checked against the real file length before anything is
//! allocated. For gzip (detected by its magic 1f 8b, whatever the file name) the promised size is
//! capped by [`MAX_PAYLOAD`] and by deflate's best compression ratio (1032:1) times the compressed
//! length, then exactly that many bytes are decompressed and the stream must end there (which also
//! makes flate2 check the gzip CRC and length trailer).

use super::DataError;
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

/// Magic of an IDX file of u8 images `[N, rows, cols]`.
pub const MAGIC_IMAGES: u32 = 0x0000_0803;
/// Magic of an IDX file of u8 labels `[N]`.
pub const MAGIC_LABELS: u32 = 0x0000_0801;
/// Largest element payload accepted, bytes (512 MiB; MNIST's largest file holds 47 MB).
pub const MAX_PAYLOAD: u64 = 512 << 20;
/// Deflate cannot compress by more than about 1032:1; a promise beyond that is a lie.
const DEFLATE_MAX_RATIO: u64 = 1032;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The dimensions and elements of an IDX file of unsigned bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxArray {
    pub magic: u32,
    pub dims: Vec<usize>,
    /// The product of `dims` bytes, row-major.
    pub data: Vec<u8>,
}

fn format_err(path: &Path, reason: impl Into<String>) -> DataError {
    DataError::Format {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn io_err(path: &Path, error: std::io::Error) -> DataError {
    DataError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// Parsed header: magic, dims, header length in bytes, payload length in bytes.
struct Header {
    magic: u32,
    dims: Vec<usize>,
    payload: u64,
}

/// Reads and checks the header from `r`. `what` describes the source for errors ("file", "gzip stream").
fn read_header(r: &mut impl Read, path: &Path, what: &str) -> Result<(Header, u64), DataError> {
    let mut head = [0u8; 4];
    read_exact_or(r, &mut head, path, || {
        format!("{what} too short for an IDX header (needs at least 4 bytes)")
    })?;
    let magic = u32::from_be_bytes(head);
    if head[0] != 0 || head[1] != 0 {
        return Err(format_err(
            path,
            format!("not an IDX file: magic 0x{magic:08x} does not start with two zero bytes"),
        ));
    }
    if head[2] != 0x08 {
        return Err(format_err(
            path,
            format!(
                "IDX element type 0x{:02x} is not supported (magic 0x{magic:08x}); only 0x08 = unsigned byte",
                head[2]
            ),
        ));
    }
    let ndims = head[3] as usize;
    if ndims == 0 || ndims > 4 {
        return Err(format_err(
            path,
            format!("IDX header gives {ndims} dimensions (magic 0x{magic:08x}); expected 1 to 4"),
        ));
    }
    let mut raw = vec![0u8; 4 * ndims];
    read_exact_or(r, &mut raw, path, || {
        format!("{what} truncated inside the IDX header ({ndims} dimensions announced)")
    })?;
    let dims: Vec<usize> = raw
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let payload = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
        .filter(|&p| p <= MAX_PAYLOAD)
        .ok_or_else(|| {
            format_err(
                path,
                format!(
                    "IDX dimensions {dims:?} promise more than {MAX_PAYLOAD} bytes; refusing (corrupt header?)"
                ),
            )
        })?;
    let header_len = 4 + 4 * ndims as u64;
    Ok((
        Header {
            magic,
            dims,
            payload,
        },
        header_len,
    ))
}

fn read_exact_or(
    r: &mut impl Read,
    buf: &mut [u8],
    path: &Path,
    msg: impl FnOnce() -> String,
) -> Result<(), DataError> {
    match r.read_exact(buf) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(format_err(path, msg())),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData
            ) =>
        {
            Err(format_err(path, format!("corrupt gzip stream: {e}")))
        }
        Err(e) => Err(io_err(path, e)),
    }
}

/// Decodes a gzip stream holding an IDX file; `compressed_len` is the size of the .gz in bytes.
fn decode_gz(r: impl Read, compressed_len: u64, path: &Path) -> Result<IdxArray, DataError> {
    let mut gz = MultiGzDecoder::new(r);
    let (h, header_len) = read_header(&mut gz, path, "gzip stream")?;
    let bound = compressed_len.saturating_mul(DEFLATE_MAX_RATIO);
    if h.payload + header_len > bound {
        return Err(format_err(
            path,
            format!(
                "IDX header promises {} bytes of data (dims {:?}) but a {compressed_len}-byte gzip file cannot hold that much",
                h.payload, h.dims
            ),
        ));
    }
    let mut data = vec![0u8; h.payload as usize];
    read_exact_or(&mut gz, &mut data, path, || {
        format!(
            "truncated: the IDX header promises {} bytes of data (dims {:?}) but the gzip stream ends before",
            h.payload, h.dims
        )
    })?;
    let mut probe = [0u8; 1];
    match gz.read(&mut probe) {
        Ok(0) => {}
        Ok(_) => {
            return Err(format_err(
                path,
                format!(
                    "the gzip stream holds more than the {} data bytes its IDX header promises (dims {:?})",
                    h.payload, h.dims
                ),
            ))
        }
        Err(e) => return Err(format_err(path, format!("corrupt gzip stream: {e}"))),
    }
    Ok(IdxArray {
        magic: h.magic,
        dims: h.dims,
        data,
    })
}

/// Decodes an uncompressed IDX file of `file_len` bytes from `r`, checking the length first.
fn decode_raw(mut r: impl Read, file_len: u64, path: &Path) -> Result<IdxArray, DataError> {
    let (h, header_len) = read_header(&mut r, path, "file")?;
    if header_len + h.payload != file_len {
        return Err(format_err(
            path,
            format!(
                "file has {file_len} bytes but its IDX header (dims {:?}) implies {} ({} header + {} data){}",
                h.dims,
                header_len + h.payload,
                header_len,
                h.payload,
                if file_len < header_len + h.payload { ": truncated" } else { "" }
            ),
        ));
    }
    let mut data = vec![0u8; h.payload as usize];
    read_exact_or(&mut r, &mut data, path, || {
        "file shrank while being read".to_string()
    })?;
    Ok(IdxArray {
        magic: h.magic,
        dims: h.dims,
        data,
    })
}

/// Parses an IDX file held in memory (raw or gzipped); `path` only names it in errors.
pub fn parse_idx(bytes: &[u8], path: &Path) -> Result<IdxArray, DataError> {
    if bytes.starts_with(&GZIP_MAGIC) {
        decode_gz(bytes, bytes.len() as u64, path)
    } else {
        decode_raw(bytes, bytes.len() as u64, path)
    }
}

/// Reads an IDX file (raw, or gzipped whatever its name).
pub fn read_idx(path: &Path) -> Result<IdxArray, DataError> {
    let file = File::open(path).map_err(|e| io_err(path, e))?;
    let len = file.metadata().map_err(|e| io_err(path, e))?.len();
    let mut r = BufReader::with_capacity(1 << 16, file);
    let mut magic = [0u8; 2];
    let n = r.fill_buf_peek(&mut magic).map_err(|e| io_err(path, e))?;
    if n == 2 && magic == GZIP_MAGIC {
        decode_gz(r, len, path)
    } else {
        decode_raw(r, len, path)
    }
}

/// Peeks at the first bytes of a buffered reader without consuming them.
trait PeekExt {
    fn fill_buf_peek(&mut self, out: &mut [u8]) -> std::io::Result<usize>;
}
impl<R: Read> PeekExt for BufReader<R> {
    fn fill_buf_peek(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        use std::io::BufRead;
        let buf = self.fill_buf()?;
        let n = buf.len().min(out.len());
        out[..n].copy_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// u8 images [N, rows, cols].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxImages {
    pub n: usize,
    pub rows: usize,
    pub cols: usize,
    /// `n * rows * cols` pixels, image after image, row-major.
    pub pixels: Vec<u8>,
}

fn images_from(a: IdxArray, path: &Path) -> Result<IdxImages, DataError> {
    if a.magic != MAGIC_IMAGES {
        return Err(format_err(
            path,
            format!(
                "wrong magic 0x{:08x} for an image file (expected 0x{MAGIC_IMAGES:08x} = 2051: u8 images [N, rows, cols])",
                a.magic
            ),
        ));
    }
    Ok(IdxImages {
        n: a.dims[0],
        rows: a.dims[1],
        cols: a.dims[2],
        pixels: a.data,
    })
}

fn labels_from(a: IdxArray, path: &Path, classes: u8) -> Result<Vec<u8>, DataError> {
    if a.magic != MAGIC_LABELS {
        return Err(format_err(
            path,
            format!(
                "wrong magic 0x{:08x} for a label file (expected 0x{MAGIC_LABELS:08x} = 2049: u8 labels [N])",
                a.magic
            ),
        ));
    }
    check_labels(&a.data, classes, path)?;
    Ok(a.data)
}

/// Every label must be below `classes`; the error names the first bad one.
pub(crate) fn check_labels(labels: &[u8], classes: u8, path: &Path) -> Result<(), DataError> {
    if let Some(i) = labels.iter().position(|&l| l >= classes) {
        return Err(format_err(
            path,
            format!(
                "label {} at index {i} is out of range (classes are 0..={})",
                labels[i],
                classes - 1
            ),
        ));
    }
    Ok(())
}

/// Reads an image file (magic 2051).
pub fn read_images(path: &Path) -> Result<IdxImages, DataError> {
    images_from(read_idx(path)?, path)
}

/// Parses an in-memory image file (magic 2051).
pub fn parse_images(bytes: &[u8], path: &Path) -> Result<IdxImages, DataError> {
    images_from(parse_idx(bytes, path)?, path)
}

/// Reads a label file (magic 2049) whose labels must all be below `classes`.
pub fn read_labels(path: &Path, classes: u8) -> Result<Vec<u8>, DataError> {
    labels_from(read_idx(path)?, path, classes)
}

/// Parses an in-memory label file (magic 2049).
pub fn parse_labels(bytes: &[u8], path: &Path, classes: u8) -> Result<Vec<u8>, DataError> {
    labels_from(parse_idx(bytes, path)?, path, classes)
}

/// SHA-256 (lower-case hex) of the IDX content with dimensions `dims` and elements `data`: its
/// header (two zero bytes, type 0x08, the number of dimensions, the sizes big-endian) and then
/// the elements. A file that parses holds exactly this content (the header is checked, and
/// the data must end where the header says, raw or gzipped), so this is the SHA-256 of the
/// file's uncompressed content, computed without reading it again.
pub fn content_sha256(dims: &[usize], data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update([0u8, 0, 0x08, dims.len() as u8]);
    for &d in dims {
        h.update((d as u32).to_be_bytes());
    }
    h.update(data);
    super::digest::hex(&h.finalize())
}

/// Encodes an IDX file of unsigned bytes (for tests and tools).
pub fn encode(dims: &[usize], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8, 0, 0x08, dims.len() as u8];
    for &d in dims {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn raw_and_gz_round_trip() {
        let pixels: Vec<u8> = (0..3 * 2 * 4).map(|i| i as u8).collect();
        let file = encode(&[3, 2, 4], &pixels);
        let p = Path::new("x");
        for bytes in [file.clone(), gz(&file)] {
            let im = parse_images(&bytes, p).unwrap();
            assert_eq!((im.n, im.rows, im.cols), (3, 2, 4));
            assert_eq!(im.pixels, pixels);
        }
    }

    #[test]
    fn gz_promise_beyond_deflate_ratio_is_refused_without_allocating() {
        // 100 M images of 28x28 claimed by a tiny gzip stream.
        let file = encode(&[100_000_000, 28, 28], &[]);
        let err = parse_idx(&gz(&file), Path::new("big.gz")).unwrap_err();
        assert!(err.to_string().contains("big.gz"), "{err}");
        let file = encode(&[100_000, 28, 28], &[]);
        let err = parse_idx(&gz(&file), Path::new("big.gz")).unwrap_err();
        assert!(err.to_string().contains("cannot hold"), "{err}");
    }
}
