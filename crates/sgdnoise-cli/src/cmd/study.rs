//! `sgdnoise study`: the built-in perceptron study (placeholder).
use clap::Args;

#[derive(Args, Debug)]
pub struct StudyArgs {}

pub fn main(_args: StudyArgs) -> anyhow::Result<()> {
    anyhow::bail!("not yet")
}
