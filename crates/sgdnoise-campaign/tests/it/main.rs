//! The campaign crate's integration tests, one binary (helpers in `util`).

mod local;
mod store;
mod table;
mod util;
