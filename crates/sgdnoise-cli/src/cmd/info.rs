//! `sgdnoise info`: parameter count, derived settings, identity and memory estimate of a run.

use crate::flags::SettingsArgs;
use crate::output::outln;
use clap::Args;
use sgdnoise_core::memory;
use sgdnoise_core::settings::Bytes;

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
    let estimate = memory::estimate(&spec);
    let limit = memory::limit(&spec);
    let verdict = if estimate.total() > limit.bytes {
        "MORE than"
    } else {
        "within"
    };
    outln!("memory: {estimate}, {verdict} the {limit} a run may take here");
    for part in estimate.largest_first() {
        outln!(
            "  {:<28} {:>10}  {}",
            part.what,
            Bytes(part.bytes).to_string(),
            part.how
        );
    }
    if estimate.total() > limit.bytes {
        outln!("  (`sgdnoise run` refuses this run here before allocating anything)");
    }
    Ok(())
}
