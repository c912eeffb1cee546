//! The one spelling of a digest: lower-case hex. A leaf of `data` (it imports nothing of it), so
//! the parsers (`idx`, `cifar`), the fingerprints (`source`) and `fetch` can all name digests
//! without importing one another.

/// Lower-case hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
