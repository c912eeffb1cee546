//! A run's identity: the name of its folder in a store, and the key by which a sweep knows that
//! a run is already done.
//!
//! The identity hashes a canonical form of the run's settings, built so that adding a setting
//! to the table does not change the identity of any existing run:
//!
//! 1. take every setting of [`RunSpec::to_config`] whose role is
//!    [`Result`](super::Role::Result) (execution settings such as `threads` and `data_dir` never
//!    count) and that applies to the run;
//! 2. leave out each one whose value equals its declared default in the run's context
//!    ([`defaults`](super::defaults)): a new setting enters a run's identity only when it is set
//!    to something other than its default;
//! 3. write `{"schema": IDENTITY_SCHEMA, "settings": {name: value, ...}}` as compact JSON with the
//!    names sorted (numbers as serde_json writes them: the shortest text that reads back to the
//!    same f64; names of enumerated values as written in files);
//! 4. the identity is the first 16 hex digits of the SHA-256 of that text.
//!
//! A run on image data other than the canonical set of its task (a truncated MNIST, a cut
//! CIFAR batch: `data::source`) is another run: its canonical form also holds the data's digest,
//! `{"data": DIGEST, "schema": ..., "settings": {...}}` ([`RunSpec::data_digest`], set by
//! `data::bind` once the files are opened). On the canonical data (and synthetic data) there is
//! no `data` key, so those identities are those of the settings alone. Plans (`sweep plan`,
//! presets, the study) are made without opening data: their identities are those of runs on the
//! canonical data, and a run whose files turn out to be other data is refused when it opens
//! them (`run::execute`), never stored under an identity that does not describe it.
//!
//! `config.json` of every run records the canonical settings (`identity_settings`) and the
//! schema. Changing a declared default, or the meaning of a setting, changes what an identity
//! means: then bump [`IDENTITY_SCHEMA`], which changes every identity on purpose.

use super::resolve::RunSpec;
use super::table::{Role, RunConfig, SETTINGS};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::cell::Cell;
use std::collections::BTreeMap;

/// The version of the canonical form (see the module doc).
pub const IDENTITY_SCHEMA: u32 = 1;

thread_local! {
    static COMPUTED: Cell<u64> = const { Cell::new(0) };
}

/// How many identities this thread has computed so far: an operation count for tests of how
/// work grows with a plan (issue 15, item 9: planning a sweep must compute one identity per
/// combination, not one per pair of combinations as a duplicate search by list once did).
pub fn computed_on_this_thread() -> u64 {
    COMPUTED.with(Cell::get)
}

#[derive(Serialize)]
struct Canonical<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a str>,
    schema: u32,
    settings: &'a BTreeMap<&'static str, serde_json::Value>,
}

impl RunSpec {
    /// The settings that make up the identity: those that differ from their declared default.
    pub fn identity_settings(&self) -> BTreeMap<&'static str, serde_json::Value> {
        let config = self.to_config();
        let context = self.context();
        SETTINGS
            .iter()
            .filter(|s| s.role == Role::Result)
            .filter_map(|s| {
                let value = config.json(s.name)?;
                (Some(&value) != RunConfig::default_json(s.name, &context).as_ref())
                    .then_some((s.name, value))
            })
            .collect()
    }

    /// The text whose hash is the identity.
    pub fn identity_text(&self) -> String {
        serde_json::to_string(&Canonical {
            data: self.data_digest.as_deref(),
            schema: IDENTITY_SCHEMA,
            settings: &self.identity_settings(),
        })
        .expect("the canonical settings serialise")
    }

    /// The run's identity: 16 hex digits (see the module doc).
    pub fn identity(&self) -> String {
        COMPUTED.with(|c| c.set(c.get() + 1));
        let digest = Sha256::digest(self.identity_text().as_bytes());
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }
}
