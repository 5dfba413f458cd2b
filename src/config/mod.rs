//! Configuration: `pookie.toml` (or `[tool.pookie]` in pyproject.toml) merged with command-line
//! flags into one immutable [`Settings`]. Everything downstream reads plain values from it;
//! every judgement of user input happens here, so bad input fails before anything runs.

mod cibuildwheel;
pub mod error;
pub mod init;
pub mod machine;
pub mod paths;
pub mod raw;
mod resolve;
pub mod selector;

use crate::choice::Choice;
use crate::python::PythonVersion;
use crate::python::fetch::Source;
use crate::target::{Family, NonNativeMode, Target};
pub use error::{ConfigError, Origin, Sources, WithOrigin};
use raw::RawConfig;
use selector::Patterns;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// pookie's PEP 517 frontend (images/build-wheel.py): any build backend, natively and in cross
/// builds, where build requirements are installed for the build machine.
pub const DEFAULT_BUILD: &str = "pookie-build-wheel";
pub const DEFAULT_PYTHON_PATH: &str = "/usr/bin/python{major}.{minor}{t}";
pub(crate) const GLOB_HELP: &str = "patterns are globs: `*`, `?`, `[abc]`, `[!abc]` and `{a,b}`, e.g. \"cp31[23]-*\"";
/// How many of the newest minor versions are built when `python` is not set.
pub const DEFAULT_PYTHON_COUNT: usize = 4;

/// Compiler for x86_64 Linux targets.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, clap::ValueEnum, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Compiler {
    /// zig's clang against the policy's glibc (as the cross targets), libc++ linked statically:
    /// C++ wheels meet the policy whatever the base image's glibc and libstdc++.
    #[default]
    Zig,
    /// The base image's gcc, its glibc and libstdc++.
    Gcc,
    /// The base image's clang, its glibc and libstdc++.
    Clang,
}

impl Compiler {
    pub fn as_str(self) -> &'static str {
        match self {
            Compiler::Zig => "zig",
            Compiler::Gcc => "gcc",
            Compiler::Clang => "clang",
        }
    }
}

impl Choice for Compiler {
    const ALL: &'static [Self] = &[Compiler::Zig, Compiler::Gcc, Compiler::Clang];
    const WHAT: &'static str = "compiler";
    const CODE: &'static str = "compiler";
    const HELP: &'static str = "set `x86_64-compiler = \"zig\"` (the default), `\"gcc\"` or `\"clang\"`";
    fn name(self) -> &'static str {
        self.as_str()
    }
}

/// A supported container engine (`engine`); how pookie drives each is `crate::engine`'s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// Docker Engine, through the `docker` command.
    Docker,
    /// Podman, rootful or rootless, through the `podman` command.
    Podman,
}

impl Choice for EngineKind {
    const ALL: &'static [Self] = &[EngineKind::Docker, EngineKind::Podman];
    const WHAT: &'static str = "container engine";
    const CODE: &'static str = "engine";
    const HELP: &'static str = "remove the key to let pookie pick docker, else podman";
    fn name(self) -> &'static str {
        match self {
            EngineKind::Docker => "docker",
            EngineKind::Podman => "podman",
        }
    }
}

/// Where a container engine is: this machine's default one (its environment's `DOCKER_HOST` or
/// `CONTAINER_HOST`, as the engine's own client takes it), or one of the machine file's
/// `[[engines]]`, reached by URL or by a named context (docker) / connection (podman). How a
/// client is pointed at it is `crate::engine`'s.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Endpoint {
    Default,
    /// `unix://`, `tcp://` or `ssh://`; `tls` is a directory of `ca.pem`, `cert.pem`, `key.pem`.
    Url {
        url: String,
        tls: Option<PathBuf>,
    },
    Context {
        name: String,
    },
}

/// An engine of the pool (`[[engines]]` of the machine's file), besides the default one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PoolEngine {
    /// How the summary and the report name it.
    pub name: String,
    pub endpoint: Endpoint,
    /// None: the default engine's kind.
    pub kind: Option<EngineKind>,
    /// Jobs it runs at a time; None: its CPUs.
    pub slots: Option<usize>,
}

/// The PEP 517 frontend of the default build command (`build-frontend`, cibuildwheel's names;
/// also the schema of the key).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
pub enum BuildFrontend {
    /// pypa/build, in an isolated environment pip installs (pookie-build-wheel).
    #[default]
    #[serde(rename = "build")]
    Build,
    /// pypa/build with uv installing the isolated environment.
    #[serde(rename = "build[uv]")]
    BuildUv,
    /// `pip wheel` (cross builds: pookie's split with pip as the installer).
    #[serde(rename = "pip")]
    Pip,
    /// `uv build` (cross builds: pookie's split with uv as the installer).
    #[serde(rename = "uv")]
    Uv,
}

impl BuildFrontend {
    pub const ALL: [BuildFrontend; 4] =
        [BuildFrontend::Build, BuildFrontend::BuildUv, BuildFrontend::Pip, BuildFrontend::Uv];

    pub fn as_str(self) -> &'static str {
        match self {
            BuildFrontend::Build => "build",
            BuildFrontend::BuildUv => "build[uv]",
            BuildFrontend::Pip => "pip",
            BuildFrontend::Uv => "uv",
        }
    }

    /// The Python layers of its builds hold uv.
    pub fn needs_uv(self) -> bool {
        matches!(self, BuildFrontend::BuildUv | BuildFrontend::Uv)
    }
}

impl Choice for BuildFrontend {
    const ALL: &'static [Self] = &BuildFrontend::ALL;
    const WHAT: &'static str = "build frontend";
    const CODE: &'static str = "build-frontend";
    const HELP: &'static str = "`build` (the default) is pypa/build; `build[uv]` installs its environment with uv; `pip` and `uv` build with `pip wheel` and `uv build`";
    fn name(self) -> &'static str {
        self.as_str()
    }
}

/// Where interpreters come from, as `[python] source` names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PythonSourceKind {
    /// python-build-standalone, downloaded and verified (the default).
    #[default]
    Pbs,
    /// The interpreters already in the base image, found by `path`.
    Image,
}

impl Choice for PythonSourceKind {
    const ALL: &'static [Self] = &[PythonSourceKind::Pbs, PythonSourceKind::Image];
    const WHAT: &'static str = "Python source";
    const CODE: &'static str = "python_source";
    const HELP: &'static str =
        "`pbs` downloads python-build-standalone; `image` uses the interpreters in the base image";
    fn name(self) -> &'static str {
        match self {
            PythonSourceKind::Pbs => "pbs",
            PythonSourceKind::Image => "image",
        }
    }
}

/// Where interpreters come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PythonSource {
    /// python-build-standalone archives, downloaded on the host and verified by sha256.
    Pbs(Source),
    /// Interpreters already in the base image, at `path` (with `{major}`, `{minor}` and `{t}`).
    Image { path: String },
}

#[derive(Clone, Debug)]
pub struct PythonSettings {
    /// Explicitly chosen versions, each with where it was written (None: the newest ones).
    pub versions: WithOrigin<Option<Vec<WithOrigin<PythonVersion>>>>,
    pub source: WithOrigin<PythonSource>,
    pub prereleases: bool,
    /// `[python] release`: the index must be of this release (a mirror holds one release; this
    /// catches a mirror of another one).
    pub release: Option<WithOrigin<String>>,
}

/// One `[[overrides]]` entry, resolved.
#[derive(Clone, Debug)]
pub struct Override {
    pub select: WithOrigin<Patterns>,
    pub build: Option<String>,
    pub build_frontend: Option<BuildFrontend>,
    pub config_settings: Option<Vec<(String, String)>>,
    pub test: Option<String>,
    pub test_requires: Option<Vec<String>>,
    pub before_build: Option<String>,
    pub before_test: Option<String>,
    pub before_all: Option<String>,
    pub repair_wheel_command: Option<String>,
    pub env: BTreeMap<String, String>,
    pub inherit: Inheritance,
}

/// How an override's value joins the one before it (cibuildwheel's `inherit`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Inherit {
    /// The override's value replaces it.
    #[default]
    None,
    /// The override's command runs after it; its requirements come after.
    Append,
    /// The override's command runs before it.
    Prepend,
}

impl Choice for Inherit {
    const ALL: &'static [Self] = &[Inherit::None, Inherit::Append, Inherit::Prepend];
    const WHAT: &'static str = "inherit mode";
    const CODE: &'static str = "inherit";
    const HELP: &'static str = "`append` runs this entry's command after the one before it (lists: after), `prepend` before it; `none` replaces it";
    fn name(self) -> &'static str {
        match self {
            Inherit::None => "none",
            Inherit::Append => "append",
            Inherit::Prepend => "prepend",
        }
    }
}

impl Inherit {
    /// The command after an override that sets `value` (or not) over `before`.
    pub fn command(self, before: Option<String>, value: Option<String>) -> Option<String> {
        let blank = |c: &Option<String>| c.as_ref().is_none_or(|c| c.trim().is_empty());
        match (self, value) {
            (_, None) => before,
            (Inherit::None, value) => value,
            (_, value) if blank(&before) => value,
            (_, value) if blank(&value) => before,
            (Inherit::Append, Some(v)) => before.map(|b| format!("{b} && {v}")),
            (Inherit::Prepend, Some(v)) => before.map(|b| format!("{v} && {b}")),
        }
    }

    /// The requirements (or config settings) after an override that sets `value` (or not) over
    /// `before`.
    pub fn list<T>(self, before: Vec<T>, value: Option<Vec<T>>) -> Vec<T> {
        match (self, value) {
            (_, None) => before,
            (Inherit::None, Some(v)) => v,
            (Inherit::Append, Some(v)) => before.into_iter().chain(v).collect(),
            (Inherit::Prepend, Some(v)) => v.into_iter().chain(before).collect(),
        }
    }
}

/// The `inherit` of one override, per option.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Inheritance {
    pub config_settings: Inherit,
    pub test: Inherit,
    pub test_requires: Inherit,
    pub before_all: Inherit,
    pub before_build: Inherit,
    pub before_test: Inherit,
    pub repair_wheel_command: Inherit,
}

/// Flags that override the file (the original tool's names).
#[derive(Clone, Debug, Default)]
pub struct CliOverrides {
    pub workspace: Option<PathBuf>,
    pub build: Option<String>,
    pub test: Option<String>,
    pub python_versions: Vec<String>,
    pub targets: Vec<String>,
    pub x86_64_compiler: Option<Compiler>,
    pub non_native_mode: Option<NonNativeMode>,
    pub jobs: Option<usize>,
    pub only: Option<String>,
    pub offline: bool,
    /// Selectors that select nothing are errors, not warnings.
    pub strict: bool,
    /// The user's CPython mirror (`--python-mirror`, `POOKIE_PYTHON_MIRROR`): any directory or URL.
    pub python_mirror: Option<String>,
    /// The user's CA bundle (any file; a project's `ca-bundle` must be a file of the project).
    pub ca_bundle: Option<PathBuf>,
    /// `--shard K/N`, as written.
    pub shard: Option<String>,
    /// `--cache-registry` (or `$POOKIE_CACHE_REGISTRY`), as written.
    pub cache_registry: Option<String>,
}

/// One part of a run split for a CI matrix (`--shard K/N`): part `index` (1-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// More shards than any CI matrix runs (GitHub's limit is 256 jobs) is a typo.
    pub const MAX: usize = 256;

    /// `K/N` with 1 ≤ K ≤ N ≤ [`Shard::MAX`].
    pub fn parse(s: &str) -> Option<Shard> {
        let (k, n) = s.trim().split_once('/')?;
        let (index, count) = (k.trim().parse().ok()?, n.trim().parse().ok()?);
        (1 <= index && index <= count && count <= Shard::MAX).then_some(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The resolved configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    pub workspace: PathBuf,
    pub config_file: Option<PathBuf>,
    pub targets: WithOrigin<Vec<Target>>,
    pub python: PythonSettings,
    pub build: String,
    /// PEP 517 config settings, in order; `pookie-build-wheel` build commands get them as `-C`.
    pub config_settings: Vec<(String, String)>,
    /// The frontend `pookie-build-wheel` build commands use (`build-frontend`).
    pub build_frontend: BuildFrontend,
    pub test: Option<String>,
    pub test_requires: Vec<String>,
    /// Extras installed with the wheel for its tests; project paths copied where tests run.
    pub test_extras: Vec<String>,
    pub test_sources: Vec<PathBuf>,
    /// Requirements of the `test-groups` of pyproject.toml, includes resolved.
    pub test_groups: Vec<String>,
    /// Hooks run before the build command and before a test job installs the wheel.
    pub before_build: Option<String>,
    pub before_test: Option<String>,
    /// Replaces pookie's repair step (`repair-wheel-command`; empty: no repair).
    pub repair_wheel_command: Option<String>,
    /// Run once per build image as a layer of its own (`before-all`).
    pub before_all: Option<String>,
    /// The project files the before-all layers hold (and are keyed by): present when a
    /// `before-all` is configured anywhere.
    pub before_all_inputs: Option<crate::workspace::Selection>,
    /// One stable-ABI build per target, tested with every Python (`abi3`).
    pub abi3: bool,
    pub output_dir: PathBuf,
    /// `SOURCE_DATE_EPOCH` of the build jobs.
    pub source_date_epoch: Option<WithOrigin<u64>>,
    pub jobs: usize,
    pub env: BTreeMap<String, String>,
    pub timeout: Option<Duration>,
    pub skip: Option<WithOrigin<Patterns>>,
    pub test_skip: Option<WithOrigin<Patterns>>,
    /// Names of host variables handed to jobs (`environment-pass`).
    pub environment_pass: Vec<String>,
    pub only: Option<WithOrigin<Patterns>>,
    pub overrides: Vec<Override>,
    pub compiler: Compiler,
    pub mode: NonNativeMode,
    pub images: BTreeMap<Family, String>,
    pub engine: Option<EngineKind>,
    pub ca_bundle: Option<CaBundle>,
    pub caches: Caches,
    /// The registry repository image layers are pulled from and pushed to (`host[:port]/path`):
    /// `[caches] registry`, `--cache-registry`.
    pub cache_registry: Option<String>,
    /// The part of the plan this run executes (`--shard K/N`); None: all of it.
    pub shard: Option<Shard>,
    pub offline: bool,
    /// `--strict`: selectors that select nothing are errors.
    pub strict: bool,
    /// The settings the machine's configuration file gave (see [`machine`]).
    pub machine: Option<machine::MachineSettings>,
    /// What reading the configuration left out (keys of `[tool.cibuildwheel]` pookie does not
    /// honour), said by `plan` and `run`.
    pub notes: Vec<String>,
    pub sources: Sources,
}

/// Which caches are mounted into jobs (`[caches]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caches {
    pub pip: bool,
    pub compiler: bool,
}

/// Certificate authorities to trust inside images and jobs, with the digest that makes a change
/// of the file rebuild the base layers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaBundle {
    pub path: PathBuf,
    pub sha256: String,
}

/// Reads the configuration of the workspace and applies the flags.
/// `args` is the command line, quoted by diagnostics about flags.
pub fn load(cli: &CliOverrides, args: &[String]) -> Result<Settings, ConfigError> {
    let mut sources = Sources::new(args);
    let workspace = match &cli.workspace {
        Some(w) => {
            let origin = sources.flag("--workspace", &w.to_string_lossy());
            if !w.is_dir() {
                return Err(ConfigError::new("workspace", format!("workspace `{}` is not a directory", w.display()))
                    .at(&sources, &origin, "no such directory")
                    .help(
                        "pass the project directory (the one holding pookie.toml or pyproject.toml) to --workspace",
                    ));
            }
            w.canonicalize().map_err(|e| {
                ConfigError::new("workspace", format!("cannot open workspace `{}`: {e}", w.display()))
                    .at(&sources, &origin, "here")
            })?
        }
        None => std::env::current_dir()
            .map_err(|e| ConfigError::new("workspace", format!("cannot read the current directory: {e}")))?,
    };
    check_workspace(&workspace, &sources, cli)?;
    let (mut raw, config_file, notes) = read_config(&workspace, &mut sources)?;
    let mut cli = cli.clone();
    let machine = machine::apply(&mut raw, &mut cli, &mut sources)?;
    let mut settings = resolve::resolve(raw, config_file, workspace, &cli, sources)?;
    settings.notes = notes;
    settings.machine = machine;
    Ok(settings)
}

/// What pookie writes in the workspace and hands to the engine: `.pookie/` must be a directory
/// of the workspace (never a symlink, which a repository can ship), and the path must survive
/// the engine's `--volume HOST:CONTAINER` syntax.
fn check_workspace(workspace: &Path, sources: &Sources, cli: &CliOverrides) -> Result<(), ConfigError> {
    let origin = cli.workspace.as_ref().map_or(Origin::Default, |w| sources.flag("--workspace", &w.to_string_lossy()));
    let shown = workspace.display().to_string();
    if shown.contains([':', '\n', '\r']) {
        return Err(ConfigError::new(
            "workspace",
            format!("the workspace path `{shown}` contains `:` or a line break"),
        )
        .at(sources, &origin, "here")
        .help("container engines split volume arguments at `:`: move or link the project to a path without one"));
    }
    let state = workspace.join(crate::workspace::STATE_DIR);
    if std::fs::symlink_metadata(&state).is_ok_and(|m| !m.file_type().is_dir()) {
        return Err(ConfigError::new(
            "workspace",
            format!("`{}` is not a directory (a symlink or a file)", crate::workspace::STATE_DIR),
        )
        .at(sources, &origin, "in this workspace")
        .help("pookie keeps its state in .pookie/ and never writes through a symlink: remove it"));
    }
    Ok(())
}

/// A configuration file of the workspace, as pookie may read it: a regular file, or a symlink
/// to one inside the workspace (a symlink elsewhere could make a diagnostic print a host file).
fn config_file(workspace: &Path, name: &str) -> Result<Option<PathBuf>, ConfigError> {
    let path = workspace.join(name);
    let Ok(meta) = std::fs::symlink_metadata(&path) else { return Ok(None) };
    let refuse = |why: &str| {
        ConfigError::new("config_file", format!("{name} {why}"))
            .help(format!("make {name} a file of the project, or remove it"))
    };
    if meta.file_type().is_symlink() {
        let target = path.canonicalize().map_err(|_| refuse("is a symlink to nothing"))?;
        let root = workspace.canonicalize().map_err(|_| refuse("cannot be resolved"))?;
        if !target.starts_with(&root) {
            return Err(refuse("is a symlink to a file outside the workspace; pookie does not read it"));
        }
    }
    if path.is_dir() {
        return Err(refuse("is a directory, not a file"));
    }
    Ok(Some(path))
}

/// Finds and parses `pookie.toml`, else `[tool.pookie]` of pyproject.toml, else
/// `[tool.cibuildwheel]` of pyproject.toml (with notes on what pookie leaves out of it), else
/// defaults.
fn read_config(
    workspace: &Path,
    sources: &mut Sources,
) -> Result<(RawConfig, Option<PathBuf>, Vec<String>), ConfigError> {
    read_config_from(workspace, sources, false)
}

/// The project's `[tool.cibuildwheel]` as pookie reads it when nothing else configures the
/// project (whatever else does), and the notes on what it leaves out; None without one.
pub fn read_cibuildwheel(workspace: &Path, args: &[String]) -> Result<Option<(RawConfig, Vec<String>)>, ConfigError> {
    let mut sources = Sources::new(args);
    let (raw, file, notes) = read_config_from(workspace, &mut sources, true)?;
    Ok(file.map(|_| (raw, notes.into_iter().skip(1).collect())))
}

fn read_config_from(
    workspace: &Path,
    sources: &mut Sources,
    cibuildwheel_only: bool,
) -> Result<(RawConfig, Option<PathBuf>, Vec<String>), ConfigError> {
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|e| ConfigError::new("read", format!("cannot read {}: {e}", p.display())))
    };
    if let Some(pookie) = config_file(workspace, "pookie.toml")?.filter(|_| !cibuildwheel_only) {
        let text = read(&pookie)?;
        sources.file = Some(("pookie.toml".into(), Arc::new(error::quotable(&text))));
        let raw = toml::from_str::<RawConfig>(&text).map_err(|e| toml_error(e, sources))?;
        return Ok((raw, Some(pookie), Vec::new()));
    }
    #[derive(serde::Deserialize)]
    struct Pyproject {
        tool: Option<Tool>,
    }
    #[derive(serde::Deserialize)]
    struct Tool {
        pookie: Option<RawConfig>,
        cibuildwheel: Option<toml::Spanned<toml::Table>>,
    }
    let pyproject = config_file(workspace, "pyproject.toml")?;
    let mut table = None;
    if let Some(pyproject) = &pyproject {
        let text = read(pyproject)?;
        sources.file = Some(("pyproject.toml".into(), Arc::new(error::quotable(&text))));
        let parsed = toml::from_str::<Pyproject>(&text).map_err(|e| toml_error(e, sources))?;
        match parsed.tool {
            Some(Tool { pookie: Some(raw), .. }) if !cibuildwheel_only => {
                return Ok((raw, Some(pyproject.clone()), Vec::new()));
            }
            Some(Tool { cibuildwheel: Some(t), .. }) => table = Some((t, text)),
            _ => {}
        }
    }
    // cibuildwheel's variables configure a project as its table does, and win over it.
    let variables: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k.starts_with("CIBW_")).collect();
    let (raw, mut notes) = match (table, variables.is_empty()) {
        (None, true) => return Ok((RawConfig::default(), None, Vec::new())),
        (Some((t, text)), true) => {
            cibuildwheel::convert(t.get_ref(), &text, t.span()).map_err(|e| toml_error(e, sources))?
        }
        (t, false) => {
            let mut merged = t.map(|(t, _)| t.into_inner()).unwrap_or_default();
            let applied = cibuildwheel::with_variables(&mut merged, variables);
            // Diagnostics quote the table as the variables made it.
            let mut tool = toml::Table::new();
            tool.insert("cibuildwheel".into(), toml::Value::Table(merged));
            let mut doc = toml::Table::new();
            doc.insert("tool".into(), toml::Value::Table(tool));
            let text = toml::to_string(&doc).expect("a TOML table serializes");
            sources.file =
                Some((format!("[tool.cibuildwheel] with {}", applied.join(", ")), Arc::new(error::quotable(&text))));
            let parsed = toml::from_str::<Pyproject>(&text).map_err(|e| toml_error(e, sources))?;
            let t = parsed.tool.and_then(|t| t.cibuildwheel).expect("the table just written");
            let (raw, mut notes) =
                cibuildwheel::convert(t.get_ref(), &text, t.span()).map_err(|e| toml_error(e, sources))?;
            notes.insert(0, format!("cibuildwheel's variables {} are read", applied.join(", ")));
            (raw, notes)
        }
    };
    notes
        .insert(0, "configuration from [tool.cibuildwheel] of pyproject.toml (no pookie.toml or [tool.pookie])".into());
    // A setup.py-only project configured by variables alone has no file to name.
    let file = pyproject.unwrap_or_else(|| workspace.join("pyproject.toml"));
    Ok((raw, Some(file), notes))
}

/// Turns a TOML/serde error into a diagnostic at its span, with a "did you mean" for unknown keys.
pub(super) fn toml_error(e: toml::de::Error, sources: &Sources) -> ConfigError {
    let msg = e.message().trim().to_string();
    let origin = e.span().map_or(Origin::Default, Origin::File);
    let unknown = regex::Regex::new(r"unknown field `([^`]*)`, expected (?:one of )?(.*)").expect("valid regex");
    if let Some(c) = unknown.captures(&msg) {
        let word = c[1].to_string();
        // serde lists one key as "`a`", two as "`a` or `b`", more as "one of `a`, `b`, `c`".
        let quoted = regex::Regex::new(r"`([^`]*)`").expect("valid regex");
        let expected: Vec<String> = quoted.captures_iter(&c[2]).map(|k| k[1].to_string()).collect();
        let help = match error::suggest(&word, expected.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`? Known keys here: {}", expected.join(", ")),
            None => format!("known keys here: {}", expected.join(", ")),
        };
        return ConfigError::new("unknown_key", format!("unknown key `{word}`"))
            .at(sources, &origin, "not a pookie setting")
            .help(help);
    }
    if msg.starts_with("Python versions must be quoted") {
        let written = match (&origin, &sources.file) {
            (Origin::File(r), Some((_, text))) => text.get(r.clone()).unwrap_or("").trim().to_string(),
            _ => String::new(),
        };
        return ConfigError::new(
            "python_version",
            format!("Python versions must be quoted strings: write \"{written}\""),
        )
        .at(sources, &origin, "a number, not a string")
        .help("unquoted, TOML reads a version as a decimal number, and 3.10 becomes 3.1");
    }
    if let Some(field) = msg.strip_prefix("missing field ") {
        return ConfigError::new("missing_key", format!("missing key {field}"))
            .at(sources, &origin, "in this table")
            .help(format!("add {field}: it is required here (see README.md)"));
    }
    if msg.contains("invalid type") {
        // serde names Rust types; say what to write instead.
        let msg = msg.replace("expected i64", "expected an integer");
        return ConfigError::new("type", msg)
            .at(sources, &origin, "wrong type")
            .help("see README.md or `pookie schema` for the type each key takes");
    }
    ConfigError::new("syntax", msg).at(sources, &origin, "here").help("see README.md for the syntax of pookie.toml")
}

#[cfg(test)]
mod tests {
    use super::Inherit;

    #[test]
    fn inherit_joins_commands_and_lists() {
        let s = |v: &str| Some(v.to_string());
        assert_eq!(Inherit::Append.command(s("a"), s("b")), s("a && b"));
        assert_eq!(Inherit::Prepend.command(s("a"), s("b")), s("b && a"));
        assert_eq!(Inherit::None.command(s("a"), s("b")), s("b"));
        // An entry that does not set the option leaves it; nothing (or a blank) before: its own.
        assert_eq!(Inherit::Append.command(s("a"), None), s("a"));
        assert_eq!(Inherit::Append.command(None, s("b")), s("b"));
        assert_eq!(Inherit::Append.command(s("  "), s("b")), s("b"));
        // An empty repair-wheel-command (no repair) stays empty under None, and appends nothing.
        assert_eq!(Inherit::None.command(s("a"), s("")), s(""));
        assert_eq!(Inherit::Append.command(s("a"), s("")), s("a"));
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(Inherit::Prepend.list(v(&["pytest"]), Some(v(&["numpy"]))), v(&["numpy", "pytest"]));
        assert_eq!(Inherit::Append.list(v(&["pytest"]), Some(v(&["numpy"]))), v(&["pytest", "numpy"]));
        assert_eq!(Inherit::None.list(v(&["pytest"]), Some(v(&[]))), v(&[]));
        assert_eq!(Inherit::Append.list(v(&["pytest"]), None), v(&["pytest"]));
    }
}
