//! `sgdnoise info`: parameter count, derived settings and identity of a run's model.

use crate::flags::SettingsArgs;
use crate::output::outln;
use clap::Args;

#[derive(Args, Debug)]
pub struct InfoArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,
}

pub fn main(args: InfoArgs) -> anyhow::Result<()> {
    let mut config = args.settings.to_config()?;
    // The model does not depend on the temperature: a run without one is described at T = 1.
    let given_t = config.temp.is_some() || config.lr.is_some();
    if !given_t {
        config.temp = Some(1.0);
    }
    let spec = config.resolve()?;
    outln!(
        "{}, dataset {}, input dim {}",
        crate::cmd::run::model_name(&spec),
        spec.dataset,
        spec.input_dim
    );
    outln!("parameters: {}", sgdnoise_core::model::param_count(&spec));
    if given_t {
        outln!("T = {}, lr = {}, B = {}", spec.temp, spec.lr, spec.batch);
        outln!("identity: {}  {}", spec.identity(), spec.identity_text());
    }
    Ok(())
}
