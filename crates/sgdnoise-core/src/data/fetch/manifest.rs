//! The official files of each data set: names, mirrors, and the size and SHA-256 of every
//! download and of every uncompressed idx file (from the data-sources note: tensorflow-datasets'
//! url_checksums), gathered into the [`Plan`] that [`super::fetch`] carries out.

use crate::data::cifar;
use crate::data::locate::{RawSet, IDX_FILES};

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
