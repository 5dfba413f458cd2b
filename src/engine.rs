//! Container engines. The engine is detected once ([`Engine::detect`]); what differs between
//! engines is asked of [`EngineKind`]'s methods, never by comparing names. Every call goes
//! through duct with its output captured, so callers decide where it is logged.

use crate::env_vars::EnvVars;
use crate::process::which;
use miette::Diagnostic;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Label on everything pookie makes (image layers, job containers), so that `pookie clean
/// --images` and the doctor's checks touch only pookie's.
pub const MANAGED_LABEL: &str = "org.pookie.managed";

static VERBOSE: AtomicBool = AtomicBool::new(false);

/// `-v`/`--verbose`: every engine command line goes to stderr, and into the log of the job or
/// image it serves ([`Engine::cmd_logged`]). Environment variables a job passes through by name
/// (`environment-pass`) show as names: their values never reach a command line.
pub fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

fn verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

/// `program args…` as a shell would take it back (words quoted where needed).
fn command_line(program: &str, args: &[OsString]) -> String {
    let word = |w: &str| {
        if !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || "-_=.,/:+@%{}".contains(c)) {
            w.to_string()
        } else {
            format!("'{}'", w.replace('\'', "'\\''"))
        }
    };
    std::iter::once(program.to_string())
        .chain(args.iter().map(|a| word(&a.to_string_lossy())))
        .collect::<Vec<_>>()
        .join(" ")
}

// The engine a user names is a setting (config::EngineKind); what it means to run one is here.
use crate::choice::Choice;
pub use crate::config::{Endpoint, EngineKind};

impl EngineKind {
    /// The command that drives it, which is also its name.
    pub fn program(self) -> &'static str {
        self.name()
    }

    /// podman asks the kernel for its default ulimits (nofile and nproc 1048576), which fails
    /// where root lacks CAP_SYS_RESOURCE (inside CI containers, under hybrid cgroups): its jobs
    /// get explicit limits within the caller's own.
    pub const fn needs_explicit_ulimits(self) -> bool {
        matches!(self, EngineKind::Podman)
    }

    /// `info --format` template of the whole answer, as JSON.
    const fn info_json_format(self) -> &'static str {
        "{{json .}}"
    }

    /// `info --format` template of the directory where the engine keeps images.
    pub const fn data_root_format(self) -> &'static str {
        match self {
            EngineKind::Docker => "{{.DockerRootDir}}",
            EngineKind::Podman => "{{.Store.GraphRoot}}",
        }
    }

    /// How to tell the user to start this engine's daemon.
    pub const fn start_hint(self) -> &'static str {
        match self {
            EngineKind::Docker => {
                "start the Docker daemon (`sudo systemctl start docker`, or `sudo dockerd &`), or point DOCKER_HOST at a running one"
            }
            EngineKind::Podman => "check `podman info`; rootless podman needs subuids for your user (see `man podman`)",
        }
    }
}

/// [`Engine::run_as_caller`]'s arguments; `limits` are the caller's hard limits of open files and
/// processes, when the engine needs explicit ulimits.
fn caller_args(kind: EngineKind, rootless: bool, uid: u32, gid: u32, limits: Option<(u64, u64)>) -> Vec<String> {
    let mut args = match (kind, rootless) {
        (EngineKind::Docker, true) => vec![],
        (EngineKind::Podman, true) => vec!["--userns=keep-id".into(), format!("--user={uid}:{gid}")],
        (_, false) => vec![format!("--user={uid}:{gid}")],
    };
    args.extend(ulimit_args(limits));
    args
}

/// Explicit ulimits of a container, within `limits` (hard limits of open files and processes).
fn ulimit_args(limits: Option<(u64, u64)>) -> Vec<String> {
    match limits {
        Some((nofile, nproc)) => vec![
            format!("--ulimit=nofile={}:{}", nofile.min(1024), nofile.min(1 << 20)),
            format!("--ulimit=nproc={n}:{n}", n = nproc.min(4096)),
        ],
        None => Vec::new(),
    }
}

/// This process's hard limit of `resource` (what a container may be given without privileges).
fn own_limit(resource: libc::__rlimit_resource_t) -> u64 {
    let mut l = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `l` is a valid out-parameter.
    if unsafe { libc::getrlimit(resource, &mut l) } != 0 || l.rlim_max == libc::RLIM_INFINITY {
        return u64::MAX;
    }
    l.rlim_max
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum EngineError {
    #[error("no container engine found: neither `docker` nor `podman` is on PATH")]
    #[diagnostic(
        code(pookie::engine::missing),
        help(
            "install Docker (`apt-get install docker.io`) or podman, or set POOKIE_ENGINE / `engine` to one that is installed"
        )
    )]
    Missing,
    #[error("`{program}` is not on PATH, but {origin} asks for it")]
    #[diagnostic(code(pookie::engine::missing), help("install {program}, or choose the other engine"))]
    NotInstalled { program: &'static str, origin: &'static str },
    #[error("POOKIE_ENGINE=`{0}` is not a container engine")]
    #[diagnostic(code(pookie::engine::unknown), help("set POOKIE_ENGINE to `docker` or `podman`"))]
    Unknown(String),
    #[error("the {program} daemon does not answer: {detail}")]
    #[diagnostic(code(pookie::engine::down), help("{hint}"))]
    Down { program: &'static str, detail: String, hint: &'static str },
    #[error("`{command}` failed: {detail}")]
    #[diagnostic(code(pookie::engine::command))]
    Command { command: String, detail: String },
}

/// What the engine says of itself (`info`), as far as jobs depend on it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// The engine runs as an unprivileged user: its root is that user, and other uids are
    /// mapped to the user's subordinate ids.
    pub rootless: bool,
    /// Storage driver (`overlay`, `vfs`, …).
    pub storage: String,
    /// cgroup version, as the engine reports it (`1`, `2`, `v1`, `v2`).
    pub cgroups: String,
    /// OCI runtime (`runc`, `crun`, …).
    pub runtime: String,
}

impl Facts {
    /// Reads `info --format '{{json .}}'` of either engine.
    fn parse(kind: EngineKind, json: &str) -> Option<Facts> {
        let v: serde_json::Value = serde_json::from_str(json.trim()).ok()?;
        let text = |x: &serde_json::Value| match x {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        Some(match kind {
            EngineKind::Docker => Facts {
                rootless: v["SecurityOptions"]
                    .as_array()
                    .is_some_and(|o| o.iter().any(|x| x.as_str().is_some_and(|x| x.contains("name=rootless")))),
                storage: text(&v["Driver"]),
                cgroups: text(&v["CgroupVersion"]),
                runtime: text(&v["DefaultRuntime"]),
            },
            EngineKind::Podman => Facts {
                rootless: v["host"]["security"]["rootless"].as_bool().unwrap_or(false),
                storage: text(&v["store"]["graphDriverName"]),
                cgroups: text(&v["host"]["cgroupVersion"]),
                runtime: text(&v["host"]["ociRuntime"]["name"]),
            },
        })
    }
}

impl Endpoint {
    /// The client's global flags that select this endpoint (before the command).
    fn flags(&self, kind: EngineKind) -> Vec<OsString> {
        let mut out: Vec<OsString> = Vec::new();
        match (self, kind) {
            (Endpoint::Default, _) => {}
            (Endpoint::Url { url, tls }, EngineKind::Docker) => {
                out.push(format!("--host={url}").into());
                if let Some(dir) = tls {
                    out.push("--tlsverify".into());
                    for (flag, file) in [("--tlscacert", "ca.pem"), ("--tlscert", "cert.pem"), ("--tlskey", "key.pem")]
                    {
                        let mut f = OsString::from(format!("{flag}="));
                        f.push(dir.join(file));
                        out.push(f);
                    }
                }
            }
            (Endpoint::Url { url, tls }, EngineKind::Podman) => {
                out.push(format!("--url={url}").into());
                if let Some(dir) = tls {
                    for (flag, file) in [("--tls-ca", "ca.pem"), ("--tls-cert", "cert.pem"), ("--tls-key", "key.pem")] {
                        let mut f = OsString::from(format!("{flag}="));
                        f.push(dir.join(file));
                        out.push(f);
                    }
                }
            }
            (Endpoint::Context { name }, EngineKind::Docker) => out.push(format!("--context={name}").into()),
            (Endpoint::Context { name }, EngineKind::Podman) => out.push(format!("--connection={name}").into()),
        }
        out
    }
}

/// The detected engine.
#[derive(Clone, Debug)]
pub struct Engine {
    pub kind: EngineKind,
    program: PathBuf,
    endpoint: Endpoint,
    /// docker without the buildx plugin needs the legacy builder (DOCKER_BUILDKIT=0).
    legacy_builder: bool,
    /// Asked once, when first needed (a command that starts no container never asks).
    facts: std::sync::OnceLock<Facts>,
}

impl Engine {
    /// `POOKIE_ENGINE`, else the configured engine, else docker, else podman.
    pub fn detect(configured: Option<EngineKind>) -> Result<Engine, EngineError> {
        let from_env = match std::env::var(EnvVars::POOKIE_ENGINE) {
            Ok(v) if !v.is_empty() => Some(EngineKind::from_name(&v).ok_or(EngineError::Unknown(v))?),
            _ => None,
        };
        let (kind, program) = match (from_env, configured) {
            (Some(k), _) => (
                k,
                which(k.program())
                    .ok_or(EngineError::NotInstalled { program: k.program(), origin: "POOKIE_ENGINE" })?,
            ),
            (None, Some(k)) => (
                k,
                which(k.program())
                    .ok_or(EngineError::NotInstalled { program: k.program(), origin: "pookie.toml's `engine`" })?,
            ),
            (None, None) => [EngineKind::Docker, EngineKind::Podman]
                .into_iter()
                .find_map(|k| which(k.program()).map(|p| (k, p)))
                .ok_or(EngineError::Missing)?,
        };
        let legacy_builder = kind == EngineKind::Docker
            && std::env::var_os(EnvVars::DOCKER_BUILDKIT).is_none()
            && duct::cmd(&program, ["buildx", "version"])
                .stdout_null()
                .stderr_null()
                .unchecked()
                .run()
                .map_or(true, |o| !o.status.success());
        Ok(Engine { kind, program, endpoint: Endpoint::Default, legacy_builder, facts: std::sync::OnceLock::new() })
    }

    /// The same engine's client, talking to another endpoint (an engine of the pool).
    pub fn at(&self, kind: EngineKind, endpoint: Endpoint) -> Result<Engine, EngineError> {
        let program = if kind == self.kind {
            self.program.clone()
        } else {
            which(kind.program()).ok_or(EngineError::NotInstalled { program: kind.program(), origin: "[[engines]]" })?
        };
        let legacy_builder = kind == EngineKind::Docker && (self.kind != kind || self.legacy_builder);
        Ok(Engine { kind, program, endpoint, legacy_builder, facts: std::sync::OnceLock::new() })
    }

    /// Whether this is the machine's default engine, whose containers see this machine's files.
    pub fn is_default(&self) -> bool {
        self.endpoint == Endpoint::Default
    }

    /// The CPU architecture the engine runs containers on natively, as it says.
    pub fn arch(&self) -> Option<crate::target::Arch> {
        let format = match self.kind {
            EngineKind::Docker => "{{.Architecture}}",
            EngineKind::Podman => "{{.Host.Arch}}",
        };
        let out = self.output(["info", "--format", format]).ok()?;
        let name = out.trim();
        crate::target::Arch::ALL.into_iter().find(|a| a.as_str() == name || a.oci() == name)
    }

    /// How many CPUs the engine's host has, as it says.
    pub fn cpus(&self) -> Option<usize> {
        let format = match self.kind {
            EngineKind::Docker => "{{.NCPU}}",
            EngineKind::Podman => "{{.Host.CPUs}}",
        };
        self.output(["info", "--format", format]).ok()?.trim().parse().ok().filter(|&n| n > 0)
    }

    /// What the engine says of itself; defaults (rootful, unknown driver) when it does not answer.
    pub fn facts(&self) -> &Facts {
        self.facts.get_or_init(|| {
            self.output(["info", "--format", self.kind.info_json_format()])
                .ok()
                .and_then(|json| Facts::parse(self.kind, &json))
                .unwrap_or_default()
        })
    }

    /// The arguments of `run` that make a job's processes the caller's: whatever they write
    /// into mounted directories belongs to `uid:gid` on the host.
    /// - rootful engines run the container as `uid:gid`;
    /// - rootless podman maps the caller's uid into the container unchanged (`keep-id`), which
    ///   it refuses in rootful mode;
    /// - rootless docker's container root is the caller, while any other uid would be one of
    ///   the caller's subordinate ids: jobs run as the container's root.
    ///
    /// podman also gets explicit ulimits (see [`EngineKind::needs_explicit_ulimits`]).
    pub fn run_as_caller(&self, uid: u32, gid: u32) -> Vec<String> {
        let limits =
            self.kind.needs_explicit_ulimits().then(|| (own_limit(libc::RLIMIT_NOFILE), own_limit(libc::RLIMIT_NPROC)));
        caller_args(self.kind, self.facts().rootless, uid, gid, limits)
    }

    /// The arguments of `run` (or `create`) of a job on an engine of the pool, whose containers
    /// run as their root: podman's explicit ulimits (see [`EngineKind::needs_explicit_ulimits`]),
    /// within this machine's, the only ones known here.
    pub fn run_as_root(&self) -> Vec<String> {
        let limits =
            self.kind.needs_explicit_ulimits().then(|| (own_limit(libc::RLIMIT_NOFILE), own_limit(libc::RLIMIT_NPROC)));
        ulimit_args(limits)
    }

    /// Fails with the fix when the daemon does not answer.
    pub fn ping(&self) -> Result<(), EngineError> {
        let out = self
            .cmd(["version", "--format", "{{.Server.Version}}"])
            .stdout_capture()
            .stderr_capture()
            .unchecked()
            .run()
            .map_err(|e| EngineError::Down {
                program: self.kind.program(),
                detail: e.to_string(),
                hint: self.kind.start_hint(),
            })?;
        if out.status.success() && !out.stdout.trim_ascii().is_empty() {
            Ok(())
        } else {
            let detail = String::from_utf8_lossy(&out.stderr)
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no answer")
                .trim()
                .to_string();
            Err(EngineError::Down { program: self.kind.program(), detail, hint: self.kind.start_hint() })
        }
    }

    /// An engine command (not yet run); with `-v`, its command line goes to stderr.
    pub fn cmd<I, S>(&self, args: I) -> duct::Expression
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let mut all = self.endpoint.flags(self.kind);
        all.extend(args.into_iter().map(Into::into));
        let args = all;
        if verbose() {
            eprintln!("+ {}", command_line(self.kind.program(), &args));
        }
        let mut e = duct::cmd(&self.program, args);
        if self.legacy_builder {
            e = e.env(EnvVars::DOCKER_BUILDKIT, "0");
        }
        e
    }

    /// [`Engine::cmd`] for a command whose output goes to `log`: with `-v`, the command line
    /// opens it too.
    pub fn cmd_logged<I, S>(&self, args: I, mut log: &std::fs::File) -> duct::Expression
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        if verbose() {
            let _ = writeln!(log, "::pookie:: + {}", command_line(self.kind.program(), &args));
        }
        self.cmd(args)
    }

    /// Runs a command to completion and returns its stdout; errors carry its stderr.
    pub fn output<I, S>(&self, args: I) -> Result<String, EngineError>
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let command = format!(
            "{} {}",
            self.kind.program(),
            args.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ")
        );
        let out = self
            .cmd(args)
            .stdout_capture()
            .stderr_capture()
            .unchecked()
            .run()
            .map_err(|e| EngineError::Command { command: command.clone(), detail: e.to_string() })?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(EngineError::Command { command, detail: String::from_utf8_lossy(&out.stderr).trim().to_string() })
        }
    }

    /// Where the engine keeps images, when it says and the directory is visible here.
    pub fn data_root(&self) -> Option<PathBuf> {
        let out = self.output(["info", "--format", self.kind.data_root_format()]).ok()?;
        Some(PathBuf::from(out.trim())).filter(|p| p.is_dir())
    }

    /// Flags of `pull` and `push` of `reference`: podman insists on TLS even for a registry on
    /// this machine's loopback, which Docker reaches over plain HTTP.
    pub fn registry_flags(&self, reference: &str) -> Vec<String> {
        let host = reference.split('/').next().unwrap_or("");
        let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
        let loopback = name == "localhost" || name.starts_with("127.");
        match (self.kind, loopback) {
            (EngineKind::Podman, true) => vec!["--tls-verify=false".into()],
            _ => Vec::new(),
        }
    }

    pub fn image_exists(&self, reference: &str) -> bool {
        self.cmd(["image", "inspect", "--format={{.Id}}", "--", reference])
            .stdout_null()
            .stderr_null()
            .unchecked()
            .run()
            .is_ok_and(|o| o.status.success())
    }

    /// Loads an image archive (`docker save` format) into the engine.
    pub fn load(&self, archive: &Path) -> Result<String, EngineError> {
        self.output([OsString::from("load"), OsString::from("--input"), archive.as_os_str().to_owned()])
    }

    /// Removes the images carrying `label`, newest first so that layers go before the layers
    /// they were built on. Returns how many were removed.
    pub fn remove_images_labelled(&self, label: &str) -> Result<usize, EngineError> {
        let filter = format!("label={label}");
        let mut removed = 0;
        loop {
            let listing = self.output(["images", "--filter", &filter, "--format", "{{.CreatedAt}}\t{{.ID}}"])?;
            let mut images: Vec<(&str, &str)> = listing.lines().filter_map(|l| l.split_once('\t')).collect();
            images.sort_unstable_by(|a, b| b.cmp(a));
            images.dedup_by_key(|(_, id)| *id);
            if images.is_empty() {
                return Ok(removed);
            }
            let mut last_error = None;
            let before = removed;
            for (_, id) in images {
                match self.output(["rmi", "--force", "--", id]) {
                    Ok(_) => removed += 1,
                    Err(e) => last_error = Some(e),
                }
            }
            if removed == before {
                return Err(last_error.expect("a failed removal left images"));
            }
        }
    }

    /// Force-removes the containers carrying `label` (e.g. every container of one run) and waits
    /// until none is left: another removal may be in progress (e.g. from the Ctrl-C handler).
    pub fn remove_labelled(&self, label: &str) -> Result<usize, EngineError> {
        let filter = format!("label={label}");
        let mut removed = 0;
        for _ in 0..50 {
            let ids = self.output(["ps", "-aq", "--filter", &filter])?;
            let ids: Vec<&str> = ids.split_whitespace().collect();
            if ids.is_empty() {
                // Then the volumes of jobs on an engine of the pool, which the containers held.
                let volumes = self.output(["volume", "ls", "-q", "--filter", &filter]).unwrap_or_default();
                for v in volumes.split_whitespace() {
                    let _ = self.output(["volume", "rm", "--force", "--", v]);
                }
                return Ok(removed);
            }
            let mut args = vec!["rm", "-f", "--"];
            args.extend(&ids);
            if self.output(args).is_ok() {
                removed += ids.len();
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        Err(EngineError::Command {
            command: format!("{} rm -f (containers labelled {label})", self.kind.program()),
            detail: "containers are still there after 10 s".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_read_back_as_the_same_words() {
        let args: Vec<OsString> = ["run", "--env=A=b c", "--", "img:tag", "it's"].map(OsString::from).to_vec();
        assert_eq!(command_line("docker", &args), "docker run '--env=A=b c' -- img:tag 'it'\\''s'");
    }

    #[test]
    fn facts_are_read_from_either_engines_info() {
        let docker = r#"{"Driver":"overlay2","CgroupVersion":"1","DefaultRuntime":"runc","SecurityOptions":["name=seccomp,profile=default"]}"#;
        let f = Facts::parse(EngineKind::Docker, docker).unwrap();
        assert_eq!(
            f,
            Facts { rootless: false, storage: "overlay2".into(), cgroups: "1".into(), runtime: "runc".into() }
        );
        let rootless = r#"{"Driver":"overlay2","SecurityOptions":["name=seccomp,profile=default","name=rootless"]}"#;
        assert!(Facts::parse(EngineKind::Docker, rootless).unwrap().rootless);
        let podman = r#"{"host":{"cgroupVersion":"v1","ociRuntime":{"name":"runc"},"security":{"rootless":true}},"store":{"graphDriverName":"vfs"}}"#;
        let f = Facts::parse(EngineKind::Podman, podman).unwrap();
        assert_eq!(f, Facts { rootless: true, storage: "vfs".into(), cgroups: "v1".into(), runtime: "runc".into() });
        assert_eq!(Facts::parse(EngineKind::Podman, "not json"), None);
    }

    #[test]
    fn jobs_run_as_the_caller_on_every_kind_of_engine() {
        let args = |kind, rootless| caller_args(kind, rootless, 1000, 100, None).join(" ");
        assert_eq!(args(EngineKind::Docker, false), "--user=1000:100");
        assert_eq!(args(EngineKind::Podman, false), "--user=1000:100", "keep-id is refused by rootful podman");
        assert_eq!(args(EngineKind::Podman, true), "--userns=keep-id --user=1000:100");
        assert_eq!(args(EngineKind::Docker, true), "", "rootless docker's root is the caller");
        // Explicit ulimits never exceed the caller's own hard limits.
        let limited = caller_args(EngineKind::Podman, false, 0, 0, Some((20_000, 96_363))).join(" ");
        assert_eq!(limited, "--user=0:0 --ulimit=nofile=1024:20000 --ulimit=nproc=4096:4096");
        let low = caller_args(EngineKind::Podman, true, 1, 1, Some((512, 100))).join(" ");
        assert!(low.ends_with("--ulimit=nofile=512:512 --ulimit=nproc=100:100"), "{low}");
    }
}
