//! What the host must provide for a plan, checked before anything starts: `pookie doctor`
//! prints every check, and `pookie run` stops early on a failed one with the same message.
//!
//! Each check names its fix. The checks depend on the plan: QEMU only for the architectures its
//! images and jobs run under emulation, Wine only when Windows tests are planned, and so on.

use crate::binfmt::{self, Status as Binfmt};
use crate::cache::Bucket;
use crate::config::{PythonSource, Settings};
use crate::engine::Engine;
use crate::engine::MANAGED_LABEL;
use crate::plan::{ContextFile, Layer, Node, Plan, Runner};
use crate::python::Archive;
use crate::target::Arch;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Below this much free space image builds are likely to fail (a zig layer alone is ~1.5 GB).
const DISK_FAIL_BYTES: u64 = 5 << 30;
const DISK_WARN_BYTES: u64 = 20 << 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub level: Level,
    pub detail: String,
    pub fix: Option<String>,
}

impl Check {
    fn ok(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check { name: name.into(), level: Level::Ok, detail: detail.into(), fix: None }
    }
    fn warn(name: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check { name: name.into(), level: Level::Warn, detail: detail.into(), fix: Some(fix.into()) }
    }
    fn fail(name: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check { name: name.into(), level: Level::Fail, detail: detail.into(), fix: Some(fix.into()) }
    }
}

/// What a plan asks of the host.
#[derive(Debug, Default)]
pub struct Needs {
    /// Architectures something runs under QEMU for: foreign image layers (their RUN steps) and
    /// emulated jobs.
    pub emulated: BTreeSet<Arch>,
    pub wine: bool,
    /// Base images and the images cross layers copy from.
    pub images: BTreeSet<String>,
    pub archives: Vec<Archive>,
}

impl Needs {
    pub fn of(plan: &Plan) -> Needs {
        let host = Arch::host();
        let mut n = Needs::default();
        let mut archives = BTreeMap::new();
        for (_, image) in plan.images() {
            if !image.arch.runs_natively_on(host) {
                n.emulated.insert(image.arch);
            }
            if let (Layer::Base, Some(from)) = (image.layer, &image.from) {
                n.images.insert(from.clone());
            }
            n.images.extend(image.sources.iter().cloned());
            for c in &image.context {
                if let ContextFile::Archive { archive, .. } = c {
                    archives.insert(archive.sha256.clone(), archive.clone());
                }
            }
        }
        for node in plan.graph.node_weights() {
            let Node::Job(j) = node else { continue };
            match j.runner {
                Runner::Qemu { arch } => {
                    n.emulated.insert(arch);
                }
                Runner::Wine => n.wine = true,
                _ => {}
            }
        }
        n.archives = archives.into_values().collect();
        n
    }
}

/// Every check the plan needs, in a fixed order. `engine` is the detected engine, or why there
/// is none.
/// `index` says whether the python-build-standalone index could be had (its error, as the
/// command that loaded it saw it), so that it is not loaded twice.
pub fn checks(
    settings: &Settings,
    plan: &Plan,
    index: Result<(), &str>,
    engine: Result<&Engine, String>,
) -> Vec<Check> {
    let needs = Needs::of(plan);
    let mut out = vec![engine_check(&engine)];
    let dir = binfmt::dir();
    for &arch in &needs.emulated {
        out.push(qemu_check(&dir, arch));
    }
    // Wine runs inside pookie's wine layer: nothing to ask of the host, but say where.
    if needs.wine {
        out.push(Check::ok("wine", "Windows tests run under Wine in pookie's wine image layer"));
    }
    out.extend(disk_checks(settings, engine.as_ref().ok().copied()));
    out.push(python_check(settings, index, &needs));
    if let Ok(engine) = engine {
        out.extend(image_checks(engine, &needs));
    }
    out
}

/// [`checks`], and a container started as jobs start theirs: what the engine accepts of the
/// run's arguments (user mapping, ulimits, network, mounts) only a container can tell.
/// `pookie doctor` runs this; `pookie run` leaves it to its first job.
pub fn checks_with_trial(
    settings: &Settings,
    plan: &Plan,
    index: Result<(), &str>,
    engine: Result<&Engine, String>,
) -> Vec<Check> {
    let mut out = checks(settings, plan, index, engine.clone());
    if let Ok(engine) = engine
        && out.iter().all(|c| c.name != "engine" || c.level == Level::Ok)
    {
        out.extend(container_check(engine, &Needs::of(plan)));
    }
    if let Ok(engine) = engine {
        out.extend(pool_checks(settings, plan, engine));
    }
    out
}

/// Each engine of the pool (`[[engines]]`): that it answers, and which of the plan's jobs its
/// CPU runs natively. (`pookie run` leaves one that does not answer out, with a warning.)
fn pool_checks(settings: &Settings, plan: &Plan, default: &Engine) -> Vec<Check> {
    let entries = settings.machine.iter().flat_map(|m| &m.engines);
    entries
        .map(|entry| {
            let name = format!("engine {}", entry.name);
            let fix = "check its address and that its daemon runs there (ssh:// needs a key-based login and the engine's client on the far side; tcp:// the client's TLS files)";
            let engine = match default.at(entry.kind.unwrap_or(default.kind), entry.endpoint.clone()) {
                Ok(e) => e,
                Err(e) => return Check::fail(name, e.to_string(), fix),
            };
            if let Err(e) = engine.ping() {
                return Check::fail(name, e.to_string(), fix);
            }
            let Some(arch) = engine.arch() else {
                return Check::warn(name, "answers, on a CPU pookie does not know", "runs never use it: remove it from [[engines]]");
            };
            let images: std::collections::HashMap<&str, Arch> =
                plan.images().map(|(_, n)| (n.name.as_str(), n.arch)).collect();
            let native = plan
                .jobs()
                .filter(|(_, j)| j.image.as_deref().and_then(|i| images.get(i)).is_some_and(|a| a.runs_natively_on(Some(arch))))
                .count();
            let slots = entry.slots.or_else(|| engine.cpus()).unwrap_or(1);
            Check::ok(
                name,
                format!(
                    "{} answers ({}; {slots} slot(s)); its CPU runs {native} of the plan's {} jobs natively",
                    engine.kind.program(),
                    arch.as_str(),
                    plan.jobs().count()
                ),
            )
        })
        .collect()
}

fn engine_check(engine: &Result<&Engine, String>) -> Check {
    match engine {
        Ok(e) => match e.ping() {
            Ok(()) => {
                let f = e.facts();
                let mode = if f.rootless { "rootless" } else { "rootful" };
                let detail = format!(
                    "{} answers ({mode}; storage {}, cgroups {}, runtime {})",
                    e.kind.program(),
                    or_unknown(&f.storage),
                    or_unknown(&f.cgroups),
                    or_unknown(&f.runtime)
                );
                if f.storage == "vfs" {
                    // vfs copies the whole image for every container: a zig layer is ~1.5 GB.
                    Check::warn(
                        "engine",
                        format!("{detail}: vfs copies every image into each container, which is slow"),
                        match e.kind {
                            crate::engine::EngineKind::Podman => {
                                "use overlay: `[storage] driver = \"overlay\"` in ~/.config/containers/storage.conf (rootless) or /etc/containers/storage.conf, then `podman system reset`"
                            }
                            crate::engine::EngineKind::Docker => {
                                "use the overlay2 storage driver (`\"storage-driver\": \"overlay2\"` in /etc/docker/daemon.json)"
                            }
                        },
                    )
                } else {
                    Check::ok("engine", detail)
                }
            }
            Err(err) => Check::fail("engine", err.to_string(), e.kind.start_hint()),
        },
        Err(why) => Check::fail(
            "engine",
            why.clone(),
            "install Docker (`sudo apt-get install docker.io`) or podman, or set POOKIE_ENGINE",
        ),
    }
}

fn or_unknown(s: &str) -> &str {
    if s.is_empty() { "unknown" } else { s }
}

/// Starts a container of the first base image the engine has, with the arguments jobs get
/// (`Engine::run_as_caller`) and a mounted directory, and checks that a file written there
/// belongs to the caller. Nothing when no base image is there yet (the image checks say so).
fn container_check(engine: &Engine, needs: &Needs) -> Option<Check> {
    use std::os::unix::fs::MetadataExt;
    let image = needs.images.iter().find(|i| engine.image_exists(i))?;
    let name = "container";
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let dir = match tempfile::Builder::new().prefix("pookie-doctor-").tempdir() {
        Ok(d) => d,
        Err(e) => return Some(Check::fail(name, format!("cannot make a directory to mount: {e}"), "check $TMPDIR")),
    };
    let mut args: Vec<String> = vec!["run".into(), "--rm".into(), format!("--label={MANAGED_LABEL}=true")];
    args.extend(engine.run_as_caller(uid, gid));
    args.extend([
        format!("--volume={}:/pookie/probe", dir.path().display()),
        "--".into(),
        image.clone(),
        "sh".into(),
        "-c".into(),
        "id -u > /pookie/probe/id".into(),
    ]);
    let shown = format!("{} {}", engine.kind.program(), args.join(" "));
    let fix = match (engine.kind, engine.facts().rootless) {
        (crate::engine::EngineKind::Podman, true) => {
            "rootless podman needs subordinate ids for the user (/etc/subuid, /etc/subgid), newuidmap (uidmap) and, for its network, slirp4netns with /dev/net/tun usable by the user; `podman info` and the error above say which"
        }
        (crate::engine::EngineKind::Podman, false) => {
            "as root, podman's defaults must be allowed here: the error above names what was refused (ulimits: `default_ulimits` in containers.conf; the runtime: `runtime = \"runc\"` under cgroups v1)"
        }
        (crate::engine::EngineKind::Docker, _) => "the error above says what the daemon refused",
    };
    match engine.output(&args) {
        Err(e) => Some(Check::fail(name, format!("a job's container cannot start: {e}"), fix)),
        Ok(_) => match std::fs::metadata(dir.path().join("id")) {
            Ok(m) if m.uid() == uid => Some(Check::ok(
                name,
                format!("jobs start as the caller (uid {uid}); files they write are yours ({image})"),
            )),
            Ok(m) => Some(Check::fail(
                name,
                format!("a job's file on the host belongs to uid {}, not to the caller ({uid}): `{shown}`", m.uid()),
                fix,
            )),
            Err(e) => Some(Check::fail(name, format!("a job could not write its mounted directory: {e}"), fix)),
        },
    }
}

/// Whether the kernel hands `arch`'s binaries to QEMU in a way containers see.
pub fn qemu_check(dir: &Path, arch: Arch) -> Check {
    let name = format!("qemu {}", arch.as_str());
    let fix = || format!("{} (needs qemu-user-static: `sudo apt-get install qemu-user-static`)", binfmt::SETUP_COMMAND);
    match binfmt::status(dir, arch) {
        Binfmt::NotMounted => Check::fail(name, format!("binfmt_misc is not mounted at {}", dir.display()), fix()),
        Binfmt::Disabled => Check::fail(name, format!("binfmt_misc at {} is disabled", dir.display()), fix()),
        Binfmt::NotRegistered => Check::fail(
            name,
            format!("QEMU is not registered for {}: no {} entry in {}", arch.as_str(), arch.qemu(), dir.display()),
            fix(),
        ),
        Binfmt::Registered(e) if !e.enabled => {
            Check::fail(name, format!("{} is registered but disabled", e.name), binfmt::SETUP_COMMAND)
        }
        Binfmt::Registered(e) if !e.has_fix_binary() => Check::fail(
            name,
            format!(
                "{} is registered without the F flag (flags: {}): containers cannot reach its interpreter",
                e.name, e.flags
            ),
            format!("{} (registers it again with F)", binfmt::SETUP_COMMAND),
        ),
        Binfmt::Registered(e) => Check::ok(name, format!("{} → {} (flags {})", e.name, e.interpreter, e.flags)),
    }
}

fn disk_checks(settings: &Settings, engine: Option<&Engine>) -> Vec<Check> {
    let mut places: Vec<(String, PathBuf)> = Vec::new();
    if let Some(root) = engine.and_then(Engine::data_root) {
        places.push((format!("{} data", engine.map_or("engine", |e| e.kind.program())), root));
    }
    places.push(("workspace".into(), settings.workspace.clone()));
    let mut seen = BTreeSet::new();
    places
        .into_iter()
        .filter_map(|(what, path)| {
            let (dev, free) = free_space(&path)?;
            if !seen.insert(dev) {
                return None;
            }
            let detail = format!("{} free in {} ({what})", gib(free), path.display());
            let fix = format!(
                "free space there: `pookie clean --images` removes pookie's images, `{} system prune` the engine's unused data",
                engine.map_or("docker", |e| e.kind.program())
            );
            Some(match free {
                f if f < DISK_FAIL_BYTES => Check::fail("disk", detail, fix),
                f if f < DISK_WARN_BYTES => Check::warn("disk", detail, fix),
                _ => Check::ok("disk", detail),
            })
        })
        .collect()
}

/// The device and the bytes available to unprivileged users at `path`.
fn free_space(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    let dev = std::fs::metadata(path).ok()?.dev();
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid C string and `s` a properly sized out-parameter.
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return None;
    }
    Some((dev, s.f_bavail as u64 * s.f_frsize as u64))
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / f64::from(1u32 << 30))
}

/// Where the interpreters come from: the python-build-standalone index and archives (cached,
/// or reachable), or the base images (checked with the images).
fn python_check(settings: &Settings, index: Result<(), &str>, needs: &Needs) -> Check {
    let PythonSource::Pbs(source) = &settings.python.source.value else {
        return Check::ok("python source", "interpreters come from the base images (`source = \"image\"`)");
    };
    let cache = crate::cache::dir();
    if let Err(e) = index {
        return Check::fail(
            "python source",
            format!("the python-build-standalone index cannot be had: {e}"),
            "check the network, or set `[python] mirror` to a reachable copy of a release (URL or directory)",
        );
    }
    let client = crate::python::fetch::http_client();
    let mut cached = 0;
    let mut missing = Vec::new();
    for a in &needs.archives {
        if Bucket::PythonArchives.in_dir(&cache).join(&a.sha256).join(&a.filename).is_file() {
            cached += 1;
        } else if settings.offline || !reachable(&client, a) {
            missing.push(a.url.clone());
        }
    }
    if let Some(first) = missing.first() {
        let why = if settings.offline { "not in the cache and --offline is set" } else { "not reachable" };
        return Check::fail(
            "python source",
            format!("{} archive(s) {why}, e.g. {first}", missing.len()),
            "check the network or `[python] mirror`; with --offline, run once online first",
        );
    }
    Check::ok(
        "python source",
        format!("index of {}; {} archive(s), {cached} cached", source_name(source), needs.archives.len()),
    )
}

fn source_name(source: &crate::python::fetch::Source) -> String {
    match source {
        crate::python::fetch::Source::GitHub { .. } => "python-build-standalone on GitHub".into(),
        crate::python::fetch::Source::Mirror(l) => l.display(),
    }
}

fn reachable(client: &reqwest::blocking::Client, archive: &Archive) -> bool {
    if let Some(path) = archive.local_path() {
        return path.is_file();
    }
    client.head(&archive.url).send().is_ok_and(|r| r.status().is_success() || r.status().is_redirection())
}

fn image_checks(engine: &Engine, needs: &Needs) -> Vec<Check> {
    needs
        .images
        .iter()
        .map(|image| {
            if engine.image_exists(image) {
                Check::ok("image", format!("{image} is in the engine"))
            } else {
                Check::warn(
                    "image",
                    format!("{image} is not in the engine: `pookie run` will try to pull it"),
                    format!(
                        "pull it, or without a registry make one: `sudo pookie base-image --tag {image} --suite ...`"
                    ),
                )
            }
        })
        .collect()
}

/// The checks as `pookie doctor` prints them: one line each, the fix below a failed or warned one.
pub fn render(checks: &[Check]) -> String {
    let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for c in checks {
        let level = match c.level {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        };
        let _ = writeln!(out, "{level:<4}  {:width$}  {}", c.name, c.detail);
        if let (Some(fix), true) = (&c.fix, c.level != Level::Ok) {
            let _ = writeln!(out, "{:4}  {:width$}  fix: {fix}", "", "");
        }
    }
    out
}

pub fn failed(checks: &[Check]) -> Vec<&Check> {
    checks.iter().filter(|c| c.level == Level::Fail).collect()
}
