//! `sgdnoise info`: parameter count and derived settings of a model.

use clap::Args;
use sgdnoise_core::settings::RunConfig;

#[derive(Args, Debug)]
pub struct InfoArgs {
    #[arg(long)]
    pub arch: Option<String>,
    #[arg(long)]
    pub act: Option<String>,
    #[arg(long)]
    pub width: Option<usize>,
    #[arg(long)]
    pub depth: Option<usize>,
    #[arg(long)]
    pub dataset: Option<String>,
    #[arg(long = "dim")]
    pub dim: Option<usize>,
}

pub fn main(args: InfoArgs) -> anyhow::Result<()> {
    let config = RunConfig {
        arch: args.arch,
        act: args.act,
        width: args.width,
        depth: args.depth,
        dataset: args.dataset,
        dim: args.dim,
        temp: Some(1.0),
        ..Default::default()
    };
    let spec = config.resolve()?;
    println!(
        "arch {:?}, dataset {}, input dim {}",
        spec.arch,
        spec.dataset.name(),
        spec.input_dim
    );
    println!("parameters: {}", sgdnoise_core::model::param_count(&spec));
    Ok(())
}
