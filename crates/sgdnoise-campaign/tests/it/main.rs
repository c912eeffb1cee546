//! The campaign crate's integration tests, one binary (helpers in `util`).

mod local;
mod sizing;
mod store;
mod table;
mod util;
