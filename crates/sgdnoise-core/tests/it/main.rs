//! The core crate's integration tests, one binary (helpers in `util`; tests that need the real
//! data files are ignored unless enabled, see there).

mod data_fetch;
mod data_identity;
mod data_parsers;
mod data_real;
mod docs;
mod dynamics;
mod forward_predict;
mod golden;
mod mnas_cifar_files;
mod model_training;
mod ntk;
mod perceptron_run;
mod util;
