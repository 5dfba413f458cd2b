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

use crate::engine::{Engine, EngineError};
use crate::process::{Cancel, which};
use crate::target::Arch;
use jiff::Timestamp;
use miette::Diagnostic;
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod archive;
mod spec;
mod suite;
mod tar;

pub use archive::{ArchiveInfo, ImageMeta, archive_rootfs, image_config, write_image_archive};
pub use spec::Spec;
pub use suite::{Distro, Variant};

/// Label carrying the cache key of the image.
pub const KEY_LABEL: &str = "org.pookie.base-image.key";
/// PATH in the image, and in the chroot while it is made.
const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Whether the host runs `arch`'s binaries without emulation.
fn runs_natively(arch: Arch, host: Option<Arch>) -> bool {
    host == Some(arch) || (arch == Arch::Armv7l && host == Some(Arch::Aarch64) && aarch32_capable())
}

/// Many arm64 CPUs also run 32-bit ARM code; the kernel says so in the CPU features.
fn aarch32_capable() -> bool {
    fs::read_to_string("/proc/cpuinfo").is_ok_and(|s| s.lines().any(|l| l.starts_with("CPU architecture: 7")))
}

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

/// The default cache of archives: `<pookie's cache dir>/base-images`.
pub fn default_cache_dir() -> PathBuf {
    crate::cache::dir().join("base-images")
}

/// Sidecar of a cached archive.
#[derive(serde::Serialize, serde::Deserialize)]
struct CacheEntry {
    image_id: String,
    key: String,
    packages: Vec<String>,
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
    let name = spec.cache_name();
    let archive = opts.cache_dir.join(format!("{name}.tar"));
    let sidecar = opts.cache_dir.join(format!("{name}.json"));
    if !opts.force
        && archive.is_file()
        && let Some(entry) =
            fs::read(&sidecar).ok().and_then(|b| serde_json::from_slice::<CacheEntry>(&b).ok()).filter(|e| e.key == key)
    {
        progress(&format!("using the cached archive {}", archive.display()));
        load_and_tag(engine, &archive, &entry.image_id, &opts.tag, existing.as_ref(), progress)?;
        return Ok(Outcome::FromCache { image_id: entry.image_id, archive });
    }

    preflight(spec, opts.keyring.as_deref(), &opts.args)?;
    fs::create_dir_all(&opts.cache_dir).map_err(io_err(format!("cannot create {}", opts.cache_dir.display())))?;
    let log_path = opts.cache_dir.join(format!("{name}.log"));
    let (info, installed) = {
        let work = WorkDir::create(&opts.cache_dir, &name)?;
        let mut b = Bootstrap {
            spec,
            keyring: opts.keyring.as_deref(),
            root: work.path.join("rootfs"),
            log_path: log_path.clone(),
            cancel,
            progress,
        };
        b.log_reset()?;
        b.debootstrap()?;
        let installed = b.install_packages()?;
        b.finish_rootfs()?;
        let mut meta = ImageMeta::new(spec.arch);
        meta.created_by = format!("pookie base-image {}", opts.args);
        meta.labels.insert(KEY_LABEL.into(), key.clone());
        meta.labels.insert("org.pookie.base-image.suite".into(), spec.suite.clone());
        meta.labels.insert("org.pookie.base-image.mirror".into(), spec.mirror.clone());
        meta.labels.insert("org.pookie.base-image.packages".into(), installed.join(" "));
        let started = Instant::now();
        (b.progress)("packing the root file system into an image archive");
        let info = archive_rootfs(&b.root, &meta, &[], &archive, cancel)?;
        (b.progress)(&format!(
            "wrote {} ({} MB layer) in {}",
            archive.display(),
            info.layer_size / 1_000_000,
            secs(started.elapsed())
        ));
        (info, installed)
        // `work` is removed here, and on every early return above.
    };
    let entry = CacheEntry { image_id: info.image_id.clone(), key, packages: installed };
    let tmp = sidecar.with_extension("json.tmp");
    fs::write(&tmp, serde_json::to_vec_pretty(&entry).expect("serializes"))
        .and_then(|()| fs::rename(&tmp, &sidecar))
        .map_err(io_err(format!("cannot write {}", sidecar.display())))?;
    load_and_tag(engine, &archive, &info.image_id, &opts.tag, existing.as_ref(), progress)?;
    Ok(Outcome::Built { image_id: info.image_id, archive })
}

struct Existing {
    id: String,
    key: Option<String>,
}

fn inspect(engine: &Engine, reference: &str) -> Result<Option<Existing>, BaseImageError> {
    if !engine.image_exists(reference) {
        return Ok(None);
    }
    let out = engine.output(["image", "inspect", reference])?;
    let v: serde_json::Value = serde_json::from_str(&out).map_err(|e| BaseImageError::Io {
        what: format!("cannot read `image inspect {reference}`"),
        source: io::Error::other(e),
    })?;
    let img = &v[0];
    Ok(Some(Existing {
        id: img["Id"].as_str().unwrap_or_default().to_string(),
        key: img["Config"]["Labels"][KEY_LABEL].as_str().map(str::to_string),
    }))
}

fn load_and_tag(
    engine: &Engine,
    archive: &Path,
    image_id: &str,
    tag: &str,
    previous: Option<&Existing>,
    progress: &mut dyn FnMut(&str),
) -> Result<(), BaseImageError> {
    if engine.image_exists(image_id) {
        progress(&format!("{} already holds image {}", engine.kind.program(), short_id(image_id)));
    } else {
        let started = Instant::now();
        progress(&format!("loading {} into {}", archive.display(), engine.kind.program()));
        engine.load(archive)?;
        if !engine.image_exists(image_id) {
            return Err(BaseImageError::Io {
                what: format!("{} loaded {} but has no image {image_id}", engine.kind.program(), archive.display()),
                source: io::Error::other("unexpected image id"),
            });
        }
        progress(&format!("loaded in {}", secs(started.elapsed())));
    }
    engine.output(["tag", image_id, tag])?;
    // The image the tag named before, if pookie made it and nothing else names it, is garbage now.
    if let Some(prev) = previous
        && prev.id != image_id
        && prev.key.is_some()
    {
        let _ = engine.output(["image", "rm", prev.id.as_str()]);
    }
    Ok(())
}

pub fn short_id(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..hex.len().min(12)]
}

/// The commands that register QEMU's emulator for `arch` with binfmt_misc.
pub fn qemu_registration(arch: Arch) -> String {
    let q = arch.qemu();
    format!(
        "  apt-get install -y qemu-user-static binfmt-support\n  \
         [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc\n  \
         grep -v '^#' /usr/lib/binfmt.d/{q}.conf > /proc/sys/fs/binfmt_misc/register"
    )
}

/// What bootstrapping needs of the machine: root, debootstrap, the keyring, and for a foreign
/// architecture QEMU registered with binfmt_misc.
pub fn preflight(spec: &Spec, keyring: Option<&Path>, args: &str) -> Result<(), BaseImageError> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err(BaseImageError::NotRoot { args: args.to_string() });
    }
    for (program, package) in [("debootstrap", "debootstrap"), ("chroot", "coreutils"), ("tar", "tar")] {
        if which(program).is_none() {
            return Err(BaseImageError::MissingTool {
                program: if program == "debootstrap" { "debootstrap" } else { package },
                install: format!("apt-get install -y {package}"),
            });
        }
    }
    match (keyring, spec.distro) {
        (Some(k), _) if !k.is_file() => {
            return Err(BaseImageError::MissingKeyring {
                suite: spec.suite.clone(),
                path: k.display().to_string(),
                package: spec.distro.map_or("debian-archive-keyring", |d| d.keyring().1),
            });
        }
        (None, Some(d)) if !Path::new(d.keyring().0).is_file() => {
            let (path, package) = d.keyring();
            return Err(BaseImageError::MissingKeyring { suite: spec.suite.clone(), path: path.into(), package });
        }
        _ => {}
    }
    if !runs_natively(spec.arch, Arch::host()) {
        let entry = Path::new("/proc/sys/fs/binfmt_misc").join(spec.arch.qemu());
        let enabled = fs::read_to_string(&entry).is_ok_and(|s| s.lines().next() == Some("enabled"));
        if !enabled {
            return Err(BaseImageError::NoEmulation {
                arch: spec.arch.debian(),
                qemu: spec.arch.qemu(),
                commands: qemu_registration(spec.arch),
            });
        }
    }
    Ok(())
}

/// The temporary directory holding the root file system. Dropping it unmounts whatever is
/// still mounted below it (e.g. /proc after an interrupted apt-get) and removes it.
struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    fn create(parent: &Path, name: &str) -> Result<WorkDir, BaseImageError> {
        // Work directories of builds that were killed outright (their pid is gone) are garbage.
        if let Ok(entries) = fs::read_dir(parent) {
            for e in entries.flatten() {
                let file_name = e.file_name().to_string_lossy().into_owned();
                if let Some(pid) = file_name.strip_prefix("work-").and_then(|n| n.rsplit('-').next())
                    && pid.parse::<u32>().is_ok()
                    && !Path::new("/proc").join(pid).exists()
                {
                    remove_tree(&e.path());
                }
            }
        }
        let path = parent.join(format!("work-{name}-{}", std::process::id()));
        if path.exists() {
            remove_tree(&path);
        }
        fs::create_dir_all(&path).map_err(io_err(format!("cannot create {}", path.display())))?;
        let path = path.canonicalize().map_err(io_err(format!("cannot resolve {}", path.display())))?;
        Ok(WorkDir { path })
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        remove_tree(&self.path);
    }
}

/// Mount points at or below `dir`, deepest first.
fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(info) = fs::read_to_string("/proc/self/mountinfo") else { return Vec::new() };
    let mut found: Vec<PathBuf> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|m| PathBuf::from(unescape_mount(m)))
        .filter(|m| m.starts_with(dir))
        .collect();
    found.sort_by_key(|m| std::cmp::Reverse(m.components().count()));
    found.dedup();
    found
}

/// mountinfo escapes space, tab, newline and backslash as \ooo.
fn unescape_mount(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 4], 8)
        {
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn umount(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else { return false };
    // SAFETY: a valid NUL-terminated path; MNT_DETACH only detaches the mount.
    unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) == 0 }
}

/// Unmounts everything below `dir`, then removes it — but never while something is still
/// mounted there (that would delete the host's files).
fn remove_tree(dir: &Path) {
    let canonical = dir.canonicalize();
    let dir = canonical.as_deref().unwrap_or(dir);
    for _ in 0..3 {
        let mounts = mounts_under(dir);
        if mounts.is_empty() {
            break;
        }
        for m in mounts {
            umount(&m);
        }
    }
    let left = mounts_under(dir);
    if !left.is_empty() {
        eprintln!(
            "pookie base-image: warning: not removing {}: still mounted there: {}",
            dir.display(),
            left.iter().map(|m| m.display().to_string()).collect::<Vec<_>>().join(", ")
        );
        return;
    }
    if let Err(e) = fs::remove_dir_all(dir)
        && e.kind() != io::ErrorKind::NotFound
    {
        eprintln!("pookie base-image: warning: cannot remove {}: {e}", dir.display());
    }
}

/// The environment of commands run in the chroot: a clean one plus the host's proxy settings.
fn chroot_env() -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![
        ("PATH".into(), DEFAULT_PATH.trim_start_matches("PATH=").into()),
        ("HOME".into(), "/root".into()),
        ("LC_ALL".into(), "C".into()),
        ("DEBIAN_FRONTEND".into(), "noninteractive".into()),
        ("DEBCONF_NONINTERACTIVE_SEEN".into(), "true".into()),
    ];
    for k in ["http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"] {
        if let Ok(v) = std::env::var(k) {
            env.push((k.into(), v));
        }
    }
    env
}

/// apt options for the build: the mirror may be a frozen snapshot whose Release files expired.
const APT_OPTS: &[&str] =
    &["-o", "Acquire::Check-Valid-Until=false", "-o", "Acquire::Retries=3", "-o", "Dpkg::Use-Pty=0"];

struct Bootstrap<'a> {
    spec: &'a Spec,
    keyring: Option<&'a Path>,
    root: PathBuf,
    log_path: PathBuf,
    cancel: &'a Cancel,
    progress: &'a mut dyn FnMut(&str),
}

impl Bootstrap<'_> {
    fn log_reset(&self) -> Result<(), BaseImageError> {
        File::create(&self.log_path).map(drop).map_err(io_err(format!("cannot create {}", self.log_path.display())))
    }

    /// Runs one step with its output appended to the log, in its own process group so that an
    /// interruption can stop all of it (debootstrap's and apt's children included).
    fn step(
        &mut self,
        what: &str,
        program: &str,
        args: &[&str],
        env: &[(String, String)],
    ) -> Result<(), BaseImageError> {
        let log = fs::OpenOptions::new()
            .append(true)
            .open(&self.log_path)
            .map_err(io_err(format!("cannot open {}", self.log_path.display())))?;
        let _ = writeln!(&log, "\n### {what}: {program} {}", args.join(" "));
        let mut expr = duct::cmd(program, args);
        if !env.is_empty() {
            expr = expr.full_env(env.iter().cloned());
        }
        let handle = expr
            .stdin_null()
            // duct applies the outer redirection first: stderr joins stdout after that went to the log.
            .stderr_to_stdout()
            .stdout_file(log.try_clone().map_err(io_err("cannot open the log"))?)
            .unchecked()
            .before_spawn(|c| {
                c.process_group(0);
                Ok(())
            })
            .start()
            .map_err(io_err(format!("cannot run `{program}`")))?;
        let status = loop {
            if let Some(out) = handle.try_wait().map_err(io_err(format!("waiting for `{program}`")))? {
                break out.status;
            }
            if self.cancel.is_cancelled() {
                for pid in handle.pids() {
                    // SAFETY: signalling the process group the child leads.
                    unsafe { libc::kill(-(pid as libc::pid_t), libc::SIGTERM) };
                }
                let deadline = Instant::now() + Duration::from_secs(10);
                while handle.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(100));
                }
                for pid in handle.pids() {
                    // SAFETY: as above.
                    unsafe { libc::kill(-(pid as libc::pid_t), libc::SIGKILL) };
                }
                let _ = handle.wait();
                return Err(BaseImageError::Interrupted { step: what.to_string() });
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        if status.success() {
            Ok(())
        } else {
            let text = fs::read_to_string(&self.log_path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(15)..].join("\n");
            Err(BaseImageError::Step {
                step: what.to_string(),
                status: status.code().map_or_else(|| " (killed by a signal)".to_string(), |c| format!(" (exit {c})")),
                log: self.log_path.display().to_string(),
                tail: format!("last lines:\n{tail}"),
            })
        }
    }

    fn chroot(&mut self, what: &str, command: &[&str]) -> Result<(), BaseImageError> {
        let root = self.root.to_string_lossy().into_owned();
        let mut args = vec![root.as_str()];
        args.extend_from_slice(command);
        self.step(what, "chroot", &args, &chroot_env())
    }

    fn debootstrap(&mut self) -> Result<(), BaseImageError> {
        let spec = self.spec;
        let started = Instant::now();
        (self.progress)(&format!(
            "debootstrap {} {} ({}) from {} — log: {}",
            spec.suite,
            spec.arch.debian(),
            spec.variant.name(),
            spec.mirror,
            self.log_path.display()
        ));
        let variant = format!("--variant={}", spec.variant.name());
        let arch = format!("--arch={}", spec.arch.debian());
        let root = self.root.to_string_lossy().into_owned();
        let keyring = self.keyring.map(|k| format!("--keyring={}", k.display()));
        let mut args: Vec<&str> = Vec::new();
        if spec.variant != Variant::Standard {
            args.push(&variant);
        }
        if let Some(k) = &keyring {
            args.push(k);
        }
        args.extend([arch.as_str(), spec.suite.as_str(), root.as_str(), spec.mirror.as_str()]);
        // A debootstrap older than the suite has no script for it; the family's works.
        let scripts = Path::new("/usr/share/debootstrap/scripts");
        let fallback;
        if !scripts.join(&spec.suite).exists()
            && let Some(d) = spec.distro
        {
            fallback = scripts.join(d.fallback_script()).to_string_lossy().into_owned();
            args.push(&fallback);
        }
        let mut env: Vec<(String, String)> = std::env::vars().collect();
        env.retain(|(k, _)| k != "DEBOOTSTRAP_DIR");
        env.push(("LC_ALL".into(), "C".into()));
        self.step("debootstrap", "debootstrap", &args, &env)?;
        (self.progress)(&format!("debootstrap done in {}", secs(started.elapsed())));
        Ok(())
    }

    /// apt-get installs the packages (and the optional ones the suite has) in the chroot, with
    /// /proc mounted and a policy-rc.d that keeps services from starting. Returns what it
    /// installed on top of debootstrap.
    fn install_packages(&mut self) -> Result<Vec<String>, BaseImageError> {
        let spec = self.spec;
        if spec.packages.is_empty() && spec.optional_packages.is_empty() {
            return Ok(Vec::new());
        }
        let started = Instant::now();
        let policy = self.root.join("usr/sbin/policy-rc.d");
        fs::write(
            &policy,
            "#!/bin/sh\n# written by pookie base-image: no service starts in a container image\nexit 101\n",
        )
        .map_err(io_err(format!("cannot write {}", policy.display())))?;
        set_mode(&policy, 0o755)?;
        let resolv = self.root.join("etc/resolv.conf");
        if fs::metadata(&resolv).map_or(true, |m| m.len() == 0)
            && let Ok(host) = fs::read("/etc/resolv.conf")
        {
            let _ = fs::remove_file(&resolv);
            fs::write(&resolv, host).map_err(io_err(format!("cannot write {}", resolv.display())))?;
        }
        let proc_dir = self.root.join("proc");
        fs::create_dir_all(&proc_dir).map_err(io_err("cannot create /proc in the root file system"))?;
        mount_proc(&proc_dir)?;
        let result = (|| -> Result<Vec<String>, BaseImageError> {
            let mut update = vec!["apt-get"];
            update.extend_from_slice(APT_OPTS);
            update.extend(["-q", "update"]);
            (self.progress)("apt-get update in the root file system");
            self.chroot("apt-get update", &update)?;
            let mut wanted: Vec<String> = spec.packages.clone();
            for p in &spec.optional_packages {
                let root = self.root.to_string_lossy().into_owned();
                let known = duct::cmd("chroot", [root.as_str(), "apt-cache", "show", "--no-all-versions", p.as_str()])
                    .full_env(chroot_env())
                    .stdout_capture()
                    .stderr_null()
                    .unchecked()
                    .run()
                    .is_ok_and(|o| o.status.success() && !o.stdout.is_empty());
                if known {
                    wanted.push(p.clone());
                } else {
                    (self.progress)(&format!("optional package {p} is not in {}: left out", spec.suite));
                }
            }
            wanted.sort();
            if !wanted.is_empty() {
                (self.progress)(&format!("apt-get install {}", wanted.join(" ")));
                let mut install = vec!["apt-get"];
                install.extend_from_slice(APT_OPTS);
                install.extend(["-q", "-y", "--no-install-recommends", "install"]);
                install.extend(wanted.iter().map(String::as_str));
                self.chroot("apt-get install", &install)?;
            }
            self.chroot("apt-get clean", &["apt-get", "clean"])?;
            Ok(wanted)
        })();
        let unmounted = umount(&proc_dir);
        let wanted = result?;
        if !unmounted && !mounts_under(&proc_dir).is_empty() {
            return Err(BaseImageError::Io {
                what: format!("cannot unmount {}", proc_dir.display()),
                source: io::Error::last_os_error(),
            });
        }
        (self.progress)(&format!("packages installed in {}", secs(started.elapsed())));
        Ok(wanted)
    }

    /// Makes the tree an image: no host files (resolv.conf, hostname), no apt lists or package
    /// files; and when the mirror's Release files have expired (a frozen snapshot), apt in the
    /// image is told not to check that, or `apt-get update` in a Dockerfile would fail.
    fn finish_rootfs(&mut self) -> Result<(), BaseImageError> {
        let root = &self.root;
        let lists = root.join("var/lib/apt/lists");
        let mut expired = None;
        if let Ok(entries) = fs::read_dir(&lists) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if (name.ends_with("_Release") || name.ends_with("_InRelease"))
                    && let Ok(text) = fs::read_to_string(e.path())
                    && let Some(until) = valid_until(&text)
                    && until < Timestamp::now()
                {
                    expired = Some(name);
                }
            }
        }
        if let Some(name) = expired {
            let conf = root.join("etc/apt/apt.conf.d/99pookie-check-valid-until");
            fs::write(
                &conf,
                "// Written by pookie base-image: the mirror's Release file had expired when this image was\n\
                 // made (a frozen snapshot?), so apt-get update would refuse it.\n\
                 Acquire::Check-Valid-Until \"false\";\n",
            )
            .map_err(io_err(format!("cannot write {}", conf.display())))?;
            (self.progress)(&format!(
                "the mirror's {name} has expired: wrote /etc/apt/apt.conf.d/99pookie-check-valid-until into the image"
            ));
        }
        let remove_children = |dir: &Path, keep: &dyn Fn(&str) -> bool| {
            if let Ok(entries) = fs::read_dir(dir) {
                for e in entries.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if keep(&name) {
                        continue;
                    }
                    let p = e.path();
                    let _ = if p.is_dir() && !p.is_symlink() { fs::remove_dir_all(&p) } else { fs::remove_file(&p) };
                }
            }
        };
        remove_children(&lists, &|n| n == "lock" || n == "partial" || n == "auxfiles");
        remove_children(&root.join("var/cache/apt"), &|n| n == "archives");
        remove_children(&root.join("var/cache/apt/archives"), &|n| n == "lock" || n == "partial");
        for (file, text) in [("etc/resolv.conf", ""), ("etc/hostname", "localhost\n")] {
            let p = root.join(file);
            let _ = fs::remove_file(&p);
            fs::write(&p, text).map_err(io_err(format!("cannot write {}", p.display())))?;
        }
        Ok(())
    }
}

fn set_mode(path: &Path, mode: u32) -> Result<(), BaseImageError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(io_err(format!("cannot chmod {}", path.display())))
}

fn mount_proc(target: &Path) -> Result<(), BaseImageError> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(target.as_os_str().as_bytes()).expect("no NUL in paths");
    // SAFETY: valid NUL-terminated strings; mounting a fresh proc instance.
    let rc = unsafe { libc::mount(c"proc".as_ptr(), c.as_ptr(), c"proc".as_ptr(), 0, std::ptr::null()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(BaseImageError::Io {
            what: format!("cannot mount proc on {}", target.display()),
            source: io::Error::last_os_error(),
        })
    }
}

/// The `Valid-Until` of a Release file, e.g. `Sat, 08 Nov 2025 14:20:01 UTC`. `UTC` is no RFC 2822
/// zone, but RFC 2822 reads unknown zone names as UTC, and so does jiff.
fn valid_until(release: &str) -> Option<Timestamp> {
    let line = release.lines().find_map(|l| l.strip_prefix("Valid-Until:"))?;
    jiff::fmt::rfc2822::DateTimeParser::new().parse_timestamp(line.trim()).ok()
}

pub fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let at = |s: &str| Some(s.parse::<Timestamp>().unwrap());
        assert_eq!(
            valid_until("Origin: Debian\nValid-Until: Sat, 08 Nov 2025 14:20:01 UTC\n"),
            at("2025-11-08T14:20:01Z")
        );
        assert_eq!(valid_until("Valid-Until: Tue, 27 May 2025 20:17:06 UTC"), at("2025-05-27T20:17:06Z"));
        assert_eq!(valid_until("Valid-Until: Thu, 01 Jan 1970 00:01:00 UTC\n"), at("1970-01-01T00:01:00Z"));
        assert_eq!(valid_until("Origin: Debian\n"), None);
        assert_eq!(unescape_mount("/a\\040b"), "/a b");
    }

    #[test]
    fn qemu_commands_name_the_right_binfmt_file() {
        assert!(qemu_registration(Arch::Aarch64).contains("/usr/lib/binfmt.d/qemu-aarch64.conf"));
        assert!(qemu_registration(Arch::Armv7l).contains("/usr/lib/binfmt.d/qemu-arm.conf"));
    }
}
