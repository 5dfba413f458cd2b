//! `pookie base-image`: a base image from distribution packages, for machines without a registry.

use super::{EXIT_BAD_INPUT, EXIT_FAILURE, Failure};
use crate::base_image::{self as bi, BaseImageError, Options, Outcome, Spec, Variant};
use crate::engine::Engine;
use crate::process::Cancel;
use crate::target::Arch;
use clap::Args;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  \
    sudo pookie base-image --suite bookworm --tag debian:bookworm-slim\n  \
    sudo pookie base-image --suite bookworm --arch arm64 --tag arm64v8/debian:bookworm-slim\n  \
    sudo pookie base-image --suite sid --tag pookie/sid-pythons --package python3.13-dev --package python3.14-dev\n\n\
    Needs root, debootstrap and, for a foreign --arch, QEMU registered with binfmt_misc. The finished\n\
    archive is cached: an unchanged request is answered in seconds (--force rebuilds).")]
pub struct BaseImageArgs {
    /// Release to bootstrap: a Debian or Ubuntu codename (bookworm, trixie, sid, noble, ...)
    #[arg(long, value_name = "SUITE")]
    pub suite: String,
    /// Tag to give the image, e.g. `debian:bookworm-slim` (the name the Dockerfiles use)
    #[arg(long, value_name = "NAME:TAG")]
    pub tag: String,
    /// Architecture of the image (default: the host's)
    #[arg(long, value_parser = debian_arch())]
    pub arch: Option<Arch>,
    /// Package mirror (default: the suite's official one; required for suites pookie does not know)
    #[arg(long, value_name = "URL")]
    pub mirror: Option<String>,
    /// debootstrap variant
    #[arg(long, value_enum, default_value_t = Variant::Minbase)]
    pub variant: Variant,
    /// Package to apt-get install after debootstrap (repeatable, or comma-separated)
    #[arg(long = "package", value_name = "NAME")]
    pub packages: Vec<String>,
    /// Package to install only if the suite has it (repeatable, or comma-separated)
    #[arg(long = "optional-package", value_name = "NAME")]
    pub optional_packages: Vec<String>,
    /// Where finished image archives are kept (default: <pookie cache>/base-images)
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Rebuild even when the tag already names this image or the archive is cached
    #[arg(long)]
    pub force: bool,
    /// Keyring to verify the suite's Release file with (default: the distribution's archive keyring)
    #[arg(long, value_name = "FILE")]
    pub keyring: Option<PathBuf>,
}

/// `--arch` takes Debian's names (amd64, arm64, armhf, ...), as debootstrap does.
fn debian_arch() -> impl TypedValueParser<Value = Arch> {
    PossibleValuesParser::new(Arch::ALL.map(Arch::debian))
        .map(|name| Arch::from_debian(&name).expect("a possible value"))
}

fn failure(e: BaseImageError) -> Failure {
    let code = if e.is_bad_input() { EXIT_BAD_INPUT } else { EXIT_FAILURE };
    Failure { report: miette::Report::new(e), code }
}

pub fn run(a: &BaseImageArgs) -> Result<(), Failure> {
    let started = Instant::now();
    // The help of some errors is shell commands to copy: never wrap them.
    let _ = miette::set_hook(Box::new(|_| Box::new(miette::MietteHandlerOpts::new().wrap_lines(false).build())));
    let arch = match a.arch.or_else(Arch::host) {
        Some(arch) => arch,
        None => {
            return Err(Failure::msg(
                EXIT_BAD_INPUT,
                format!(
                    "cannot tell the Debian name of this machine's architecture ({}): pass --arch",
                    std::env::consts::ARCH
                ),
            ));
        }
    };
    let spec = Spec::new(&a.suite, arch, a.variant, a.mirror.as_deref(), &a.packages, &a.optional_packages)
        .map_err(failure)?;
    let opts = Options {
        spec,
        tag: a.tag.clone(),
        cache_dir: a.cache_dir.clone().unwrap_or_else(bi::default_cache_dir),
        force: a.force,
        keyring: a.keyring.clone(),
        args: std::env::args().skip(2).collect::<Vec<_>>().join(" "),
    };
    let engine = Engine::detect(None).map_err(|e| Failure { report: miette::Report::new(e), code: EXIT_FAILURE })?;
    engine.ping().map_err(|e| Failure { report: miette::Report::new(e), code: EXIT_FAILURE })?;
    // Ctrl-C / SIGTERM stop the running step and remove the temporary root file system.
    let cancel = Arc::new(Cancel::default());
    let on_signal = cancel.clone();
    let _ = ctrlc::set_handler(move || on_signal.cancel());

    let mut progress = |line: &str| eprintln!("pookie base-image: {line}");
    let outcome = bi::ensure(&engine, &opts, &cancel, &mut progress).map_err(failure)?;
    let elapsed = bi::secs(started.elapsed());
    let (id, how) = match &outcome {
        Outcome::UpToDate { image_id } => (image_id, "already up to date".to_string()),
        Outcome::FromCache { image_id, .. } => (image_id, format!("loaded from the cache in {elapsed}")),
        Outcome::Built { image_id, .. } => (image_id, format!("built in {elapsed}")),
    };
    println!(
        "{} ({} {} {}, image {}): {how}",
        opts.tag,
        opts.spec.suite,
        opts.spec.arch.debian(),
        opts.spec.variant.name(),
        bi::short_id(id)
    );
    Ok(())
}
