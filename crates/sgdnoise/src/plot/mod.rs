//! See the module list in lib.rs. (to be written)
