//! Base images from distribution packages (debootstrap), for build farms without a registry.
//!
//! `pookie base-image` bootstraps a Debian or Ubuntu release into a temporary root file system,
//! optionally apt-installs extra packages into it, packs it into a `docker save`-format archive
//! whose image config carries the right architecture, and loads that into the engine under the
//! tag the user chose (e.g. `debian:bookworm-slim`), so Dockerfiles naming that tag run unchanged.
//!
//! The archive is written here rather than with `docker import`, whose `--platform` is silently
//! ignored by older daemons (the image would claim the host's architecture). Finished archives
//! are cached, keyed by a hash of everything that goes into them, and the image carries that key
//! as a label: an unchanged request is answered from the engine or from the cache in seconds.
//!
//! [`ensure`] is the whole flow, one file per stage:
//! - `spec.rs` judges the request and hashes it into the key; `suite.rs` knows the
//!   distributions, suites, mirrors and debootstrap variants.
//! - `tag.rs` asks the engine what the tag names now; `cache.rs` keeps finished archives.
//! - `host.rs` checks the machine (root, tools, keyring, QEMU) before anything is made.
//! - `rootfs.rs` runs debootstrap and apt-get, each command a logged, interruptible step
//!   (`step.rs`), in a work directory that is unmounted and removed however the build ends
//!   (`workdir.rs`).
//! - `archive.rs` packs the tree into the image archive, with `tar.rs` writing the tar format.

use crate::engine::{Engine, EngineError};
use crate::process::Cancel;
use cache::Entry;
use miette::Diagnostic;
use rootfs::Rootfs;
use std::fs;
use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use step::Steps;
use tag::{inspect, load_and_tag};
use workdir::WorkDir;

mod archive;
mod cache;
mod host;
mod rootfs;
mod spec;
mod step;
mod suite;
mod tag;
mod tar;
mod workdir;

pub use archive::{ArchiveInfo, ImageMeta, archive_rootfs, image_config, write_image_archive};
pub use cache::default_cache_dir;
pub use host::{preflight, qemu_registration};
pub use spec::Spec;
pub use suite::{Distro, Variant};

/// Label carrying the cache key of the image.
pub const KEY_LABEL: &str = "org.pookie.base-image.key";
/// PATH in the image, and in the chroot while it is made.
const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Why no image came of a request; each says what to do about it.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum BaseImageError {
    #[error("pookie does not know the mirror of suite `{suite}`")]
    #[diagnostic(
        code(pookie::base_image::unknown_suite),
        help(
            "known suites: {known}; for any other suite pass its mirror, e.g. `--mirror http://deb.debian.org/debian`"
        )
    )]
    UnknownSuite { suite: String, known: String },
    #[error("`{value}` is not a valid {what}")]
    #[diagnostic(code(pookie::base_image::bad_input), help("{help}"))]
    BadInput { what: &'static str, value: String, help: &'static str },
    #[error("`pookie base-image` must run as root to bootstrap a root file system (it runs debootstrap and chroot)")]
    #[diagnostic(code(pookie::base_image::not_root), help("run it with sudo, e.g. `sudo pookie base-image {args}`"))]
    NotRoot { args: String },
    #[error("`{program}` is not installed")]
    #[diagnostic(code(pookie::base_image::missing_tool), help("install it: `{install}`"))]
    MissingTool { program: &'static str, install: String },
    #[error("the keyring to verify {suite} with is missing: {path}")]
    #[diagnostic(
        code(pookie::base_image::missing_keyring),
        help(
            "install it (`apt-get install {package}`; Debian 12 has no ubuntu-keyring: take usr/share/keyrings/ubuntu-archive-keyring.gpg out of Ubuntu's ubuntu-keyring package), or pass the keyring file with --keyring FILE"
        )
    )]
    MissingKeyring { suite: String, path: String, package: &'static str },
    #[error("{arch} binaries cannot run on this machine: binfmt_misc has no `{qemu}` entry")]
    #[diagnostic(
        code(pookie::base_image::no_qemu),
        help("register QEMU user emulation (as root), then run again:\n{commands}")
    )]
    NoEmulation { arch: &'static str, qemu: &'static str, commands: String },
    #[error("{step} failed{status}")]
    #[diagnostic(code(pookie::base_image::step), help("full log: {log}\n{tail}"))]
    Step { step: String, status: String, log: String, tail: String },
    #[error("interrupted during {step}; the temporary root file system was removed")]
    #[diagnostic(code(pookie::base_image::interrupted))]
    Interrupted { step: String },
    #[error("{what}: {source}")]
    #[diagnostic(code(pookie::base_image::io))]
    Io { what: String, source: io::Error },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Engine(#[from] EngineError),
}

impl BaseImageError {
    /// Errors in what the user asked for (exit code 2), as opposed to failures while working.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, BaseImageError::UnknownSuite { .. } | BaseImageError::BadInput { .. })
    }
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> BaseImageError {
    let what = what.into();
    move |source| BaseImageError::Io { what, source }
}

/// A request: the spec plus where it goes.
#[derive(Clone, Debug)]
pub struct Options {
    pub spec: Spec,
    pub tag: String,
    pub cache_dir: PathBuf,
    /// Rebuild even when the engine or the cache has the image.
    pub force: bool,
    /// Keyring debootstrap verifies the suite with (default: the distribution's, installed).
    pub keyring: Option<PathBuf>,
    /// The command line, for messages.
    pub args: String,
}

/// How the image came to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The tag already named an image of the same key.
    UpToDate { image_id: String },
    /// Loaded from the cached archive.
    FromCache { image_id: String, archive: PathBuf },
    /// Bootstrapped now.
    Built { image_id: String, archive: PathBuf },
}

/// Makes `opts.tag` name an image made from `opts.spec`: nothing to do when it already does,
/// loaded from the cache when the archive is there, bootstrapped otherwise. `progress` receives
/// one line per step. Once `cancel` is cancelled, the running step is stopped and the temporary
/// root file system removed.
pub fn ensure(
    engine: &Engine,
    opts: &Options,
    cancel: &Cancel,
    progress: &mut dyn FnMut(&str),
) -> Result<Outcome, BaseImageError> {
    let spec = &opts.spec;
    let key = spec.key();
    let existing = inspect(engine, &opts.tag)?;
    if !opts.force
        && let Some(img) = &existing
        && img.key.as_deref() == Some(key.as_str())
    {
        return Ok(Outcome::UpToDate { image_id: img.id.clone() });
    }
    let cached = Entry::of(&opts.cache_dir, spec);
    if !opts.force
        && let Some(image_id) = cached.image_id(&key)
    {
        progress(&format!("using the cached archive {}", cached.archive.display()));
        load_and_tag(engine, &cached.archive, &image_id, &opts.tag, existing.as_ref(), progress)?;
        return Ok(Outcome::FromCache { image_id, archive: cached.archive });
    }

    preflight(spec, opts.keyring.as_deref(), &opts.args)?;
    fs::create_dir_all(&opts.cache_dir).map_err(io_err(format!("cannot create {}", opts.cache_dir.display())))?;
    let (info, installed) = {
        let work = WorkDir::create(&opts.cache_dir, &cached.name)?;
        let mut rootfs = Rootfs {
            spec,
            keyring: opts.keyring.as_deref(),
            root: work.path.join("rootfs"),
            steps: Steps::new(cached.log.clone(), cancel)?,
            progress,
        };
        rootfs.debootstrap()?;
        let installed = rootfs.install_packages()?;
        rootfs.finish()?;
        let mut meta = ImageMeta::new(spec.arch);
        meta.created_by = format!("pookie base-image {}", opts.args);
        meta.labels.insert(KEY_LABEL.into(), key.clone());
        meta.labels.insert("org.pookie.base-image.suite".into(), spec.suite.clone());
        meta.labels.insert("org.pookie.base-image.mirror".into(), spec.mirror.clone());
        meta.labels.insert("org.pookie.base-image.packages".into(), installed.join(" "));
        let started = Instant::now();
        (rootfs.progress)("packing the root file system into an image archive");
        let info = archive_rootfs(&rootfs.root, &meta, &[], &cached.archive, cancel)?;
        (rootfs.progress)(&format!(
            "wrote {} ({} MB layer) in {}",
            cached.archive.display(),
            info.layer_size / 1_000_000,
            secs(started.elapsed())
        ));
        (info, installed)
        // `work` is removed here, and on every early return above.
    };
    cached.record(&info.image_id, &key, installed)?;
    load_and_tag(engine, &cached.archive, &info.image_id, &opts.tag, existing.as_ref(), progress)?;
    Ok(Outcome::Built { image_id: info.image_id, archive: cached.archive })
}

/// The short form of an image id, as `docker images` shows it.
pub fn short_id(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..hex.len().min(12)]
}

/// A duration for progress lines: `12.3 s`.
pub fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids_and_seconds() {
        assert_eq!(short_id("sha256:0123456789abcdef0123"), "0123456789ab");
        assert_eq!(short_id("abc"), "abc");
        assert_eq!(secs(Duration::from_millis(12_345)), "12.3 s");
    }
}
