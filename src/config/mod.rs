//! Configuration: `pookie.toml` (or `[tool.pookie]` in pyproject.toml) merged with command-line
//! flags into one immutable [`Settings`]. Everything downstream reads plain values from it;
//! every judgement of user input happens here, so bad input fails before anything runs.

pub mod error;
pub mod init;
pub mod matrix;
pub mod raw;
pub mod selector;

use crate::engine::EngineKind;
use crate::python::PythonVersion;
use crate::python::fetch::{Location, Source};
use crate::target::{Family, NonNativeMode, Target};
pub use error::{ConfigError, Origin, Sources};
use raw::{RawConfig, RawPython, RawTimeout, RawVersion};
use selector::{Glob, Patterns};
use serde::Serialize;
use sha2::Digest;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use toml::Spanned;

pub const DEFAULT_BUILD: &str = r#"python -m pip wheel . --no-deps --wheel-dir "$POOKIE_WHEEL_DIR""#;
pub const DEFAULT_PYTHON_PATH: &str = "/usr/bin/python{major}.{minor}";
const GLOB_HELP: &str = "patterns are globs: `*`, `?`, `[abc]`, `[!abc]` and `{a,b}`, e.g. \"cp31[23]-*\"";
/// How many of the newest minor versions are built when `python` is not set.
pub const DEFAULT_PYTHON_COUNT: usize = 4;

/// Compiler for x86_64 Linux targets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Compiler {
    #[default]
    Gcc,
    Clang,
}

impl Compiler {
    pub fn as_str(self) -> &'static str {
        match self {
            Compiler::Gcc => "gcc",
            Compiler::Clang => "clang",
        }
    }
}

/// Where interpreters come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PythonSource {
    /// python-build-standalone archives, downloaded on the host and verified by sha256.
    Pbs(Source),
    /// Interpreters already in the base image, at `path` (with `{major}`/`{minor}`).
    Image { path: String },
}

#[derive(Clone, Debug)]
pub struct PythonSettings {
    /// Explicitly chosen versions, with where each was written.
    pub versions: Option<Vec<(PythonVersion, Origin)>>,
    pub versions_origin: Origin,
    pub source: PythonSource,
    pub prereleases: bool,
    /// `[python] release`, with where it was written: the index must be of this release (a
    /// mirror holds one release; this catches a mirror of another one).
    pub release: Option<(String, Origin)>,
}

/// One `[[overrides]]` entry, resolved.
#[derive(Clone, Debug)]
pub struct Override {
    pub select: Patterns,
    pub build: Option<String>,
    pub test: Option<String>,
    pub test_requires: Option<Vec<String>>,
    pub env: BTreeMap<String, String>,
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
}

/// The resolved configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    pub workspace: PathBuf,
    pub config_file: Option<PathBuf>,
    pub targets: Vec<Target>,
    pub targets_origin: Origin,
    pub python: PythonSettings,
    pub build: String,
    pub test: Option<String>,
    pub test_requires: Vec<String>,
    pub output_dir: PathBuf,
    pub jobs: usize,
    pub env: BTreeMap<String, String>,
    pub timeout: Option<Duration>,
    pub skip: Option<(Patterns, Origin)>,
    pub only: Option<(Patterns, Origin)>,
    pub overrides: Vec<Override>,
    pub compiler: Compiler,
    pub mode: NonNativeMode,
    pub images: BTreeMap<Family, String>,
    pub engine: Option<EngineKind>,
    pub ca_bundle: Option<CaBundle>,
    pub offline: bool,
    pub sources: Sources,
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
    let (raw, config_file) = read_config(&workspace, &mut sources)?;
    resolve(raw, config_file, workspace, cli, sources)
}

/// Finds and parses `pookie.toml`, else `[tool.pookie]` of pyproject.toml, else defaults.
fn read_config(workspace: &Path, sources: &mut Sources) -> Result<(RawConfig, Option<PathBuf>), ConfigError> {
    let pookie = workspace.join("pookie.toml");
    let pyproject = workspace.join("pyproject.toml");
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|e| ConfigError::new("read", format!("cannot read {}: {e}", p.display())))
    };
    if pookie.is_file() {
        let text = read(&pookie)?;
        sources.file = Some(("pookie.toml".into(), Arc::new(text.clone())));
        let raw = toml::from_str::<RawConfig>(&text).map_err(|e| toml_error(e, sources))?;
        return Ok((raw, Some(pookie)));
    }
    if pyproject.is_file() {
        #[derive(serde::Deserialize)]
        struct Pyproject {
            tool: Option<Tool>,
        }
        #[derive(serde::Deserialize)]
        struct Tool {
            pookie: Option<RawConfig>,
        }
        let text = read(&pyproject)?;
        sources.file = Some(("pyproject.toml".into(), Arc::new(text.clone())));
        let parsed = toml::from_str::<Pyproject>(&text).map_err(|e| toml_error(e, sources))?;
        if let Some(raw) = parsed.tool.and_then(|t| t.pookie) {
            return Ok((raw, Some(pyproject)));
        }
    }
    Ok((RawConfig::default(), None))
}

/// Turns a TOML/serde error into a diagnostic at its span, with a "did you mean" for unknown keys.
fn toml_error(e: toml::de::Error, sources: &Sources) -> ConfigError {
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

fn span_of<T>(s: &Spanned<T>) -> Origin {
    Origin::File(s.span())
}

fn resolve(
    raw: RawConfig,
    config_file: Option<PathBuf>,
    workspace: PathBuf,
    cli: &CliOverrides,
    sources: Sources,
) -> Result<Settings, ConfigError> {
    let src = &sources;

    // Targets: flags replace the file's list.
    let (target_names, targets_origin): (Vec<(String, Origin)>, Origin) = if !cli.targets.is_empty() {
        let names = cli.targets.iter().map(|t| (t.clone(), src.flag("--target", t))).collect();
        (names, src.flag("--target", &cli.targets[0]))
    } else if let Some(t) = &raw.targets {
        (t.get_ref().iter().map(|n| (n.get_ref().clone(), span_of(n))).collect(), span_of(t))
    } else {
        (Target::all().map(|t| (t.tag().to_string(), Origin::Default)).collect(), Origin::Default)
    };
    if target_names.is_empty() {
        return Err(ConfigError::new("targets", "no targets are selected")
            .at(src, &targets_origin, "empty list")
            .help(
                "name at least one target, e.g. `targets = [\"manylinux_2_17_x86_64\"]`; `pookie targets` lists them",
            ));
    }
    let mut targets = Vec::new();
    for (name, origin) in &target_names {
        let glob = Glob::new(name)
            .map_err(|e| ConfigError::new("targets", e).at(src, origin, "bad pattern").help(GLOB_HELP))?;
        let matched: Vec<Target> = Target::all().filter(|t| glob.matches(t.tag())).collect();
        if matched.is_empty() && !glob.is_literal() {
            return Err(ConfigError::new("unknown_target", format!("the pattern `{name}` matches no target"))
                .at(src, origin, "matches nothing")
                .help("`pookie targets` lists the targets pookie builds for"));
        }
        if matched.is_empty() {
            let hint = match Target::suggest(name) {
                Some(s) => format!("did you mean `{s}`? `pookie targets` lists all targets"),
                None => "`pookie targets` lists the targets pookie builds for".to_string(),
            };
            return Err(ConfigError::new("unknown_target", format!("unknown target `{name}`"))
                .at(src, origin, "not a known target")
                .help(hint));
        }
        targets.extend(matched);
    }
    targets.sort();
    targets.dedup();

    // Python.
    let (table, list) = match raw.python.map(|p| (p.span(), p.into_inner())) {
        Some((_, RawPython::Table(t))) => (t, None),
        Some((span, RawPython::List(l))) => (raw::RawPythonTable::default(), Some(Spanned::new(span, l.into_inner()))),
        None => (raw::RawPythonTable::default(), None),
    };
    let file_versions = list.or(table.versions);
    let (versions, versions_origin) = if !cli.python_versions.is_empty() {
        let v = cli
            .python_versions
            .iter()
            .map(|s| (RawVersion(s.clone()), src.flag("--python-version", s)))
            .collect::<Vec<_>>();
        let o = v[0].1.clone();
        (Some(v), o)
    } else if let Some(l) = &file_versions {
        (Some(l.get_ref().iter().map(|v| (v.get_ref().clone(), span_of(v))).collect()), span_of(l))
    } else {
        (None, Origin::Default)
    };
    let versions = match versions {
        None => None,
        Some(v) if v.is_empty() => {
            return Err(ConfigError::new("python", "no Python versions are selected")
                .at(src, &versions_origin, "empty list")
                .help("name versions such as [\"3.12\", \"3.13\"], or remove the key to build the newest four"));
        }
        Some(v) => {
            let mut out: Vec<(PythonVersion, Origin)> = Vec::new();
            for (RawVersion(text), origin) in v {
                let version: PythonVersion = text.parse().map_err(|e: crate::python::version::VersionError| {
                    ConfigError::new("python_version", e.to_string())
                        .at(src, &origin, "not a Python minor version")
                        .help("write minor versions such as \"3.12\" (or \"12\")")
                })?;
                if !out.iter().any(|(v, _)| *v == version) {
                    out.push((version, origin));
                }
            }
            out.sort_by_key(|(v, _)| *v);
            Some(out)
        }
    };
    let source_name = table.source.as_ref().map(|s| (s.get_ref().as_str(), span_of(s)));
    let mirror = table.mirror.as_ref().map(|m| Location::parse(m.get_ref(), &workspace));
    let release = table.release.as_ref().map(|r| r.get_ref().clone());
    let source = match source_name {
        None | Some(("pbs", _)) => PythonSource::Pbs(match mirror {
            Some(loc) => Source::Mirror(loc),
            None => Source::GitHub { release },
        }),
        Some(("image", _)) => PythonSource::Image {
            path: table.path.as_ref().map_or(DEFAULT_PYTHON_PATH.to_string(), |p| p.get_ref().clone()),
        },
        Some((other, origin)) => {
            return Err(ConfigError::new("python_source", format!("unknown Python source `{other}`"))
                .at(src, &origin, "expected `pbs` or `image`")
                .help("`pbs` downloads python-build-standalone; `image` uses the interpreters in the base image"));
        }
    };
    if let (PythonSource::Image { path }, Some(p)) = (&source, &table.path)
        && !path.contains("{minor}")
    {
        return Err(ConfigError::new("python_path", "the interpreter path must contain `{minor}`")
            .at(src, &span_of(p), "same path for every version")
            .help("e.g. \"/usr/bin/python{major}.{minor}\" or \"/opt/python/cp{major}{minor}-cp{major}{minor}/bin/python\""));
    }
    if let (PythonSource::Image { .. }, None) = (&source, &versions) {
        let origin = source_name_origin(&table.source);
        return Err(ConfigError::new("python", "with `source = \"image\"` the Python versions must be named")
            .at(src, &origin, "pookie cannot list the interpreters of an image")
            .help("add `versions = [\"3.12\", \"3.13\"]` to [python] (or pass --python-version)"));
    }
    let python = PythonSettings {
        versions,
        versions_origin,
        source,
        prereleases: table.prereleases.unwrap_or(false),
        release: table.release.as_ref().map(|r| (r.get_ref().clone(), span_of(r))),
    };

    // Commands and simple values.
    let build = match (&cli.build, &raw.build) {
        (Some(b), _) => b.clone(),
        (None, Some(b)) => b.get_ref().clone(),
        (None, None) => DEFAULT_BUILD.to_string(),
    };
    if build.trim().is_empty() {
        let origin = cli
            .build
            .as_ref()
            .map_or_else(|| raw.build.as_ref().map_or(Origin::Default, span_of), |b| src.flag("--build", b));
        return Err(ConfigError::new("build", "the build command is empty")
            .at(src, &origin, "empty")
            .help(format!("remove it to use the default: {DEFAULT_BUILD}")));
    }
    let test =
        cli.test.clone().or_else(|| raw.test.as_ref().map(|t| t.get_ref().clone())).filter(|t| !t.trim().is_empty());
    let test_requires = raw.test_requires.map(|t| t.into_inner()).unwrap_or_default();

    let output_dir = raw.output_dir.as_ref().map_or("dist".to_string(), |o| o.get_ref().clone());
    if output_dir.trim().is_empty() || output_dir.split(['/', '\\']).any(|c| c == ".pookie") {
        let origin = raw.output_dir.as_ref().map_or(Origin::Default, span_of);
        return Err(ConfigError::new("output_dir", format!("`{output_dir}` cannot be the output directory"))
            .at(src, &origin, "here")
            .help("name a directory such as \"dist\" or \"wheelhouse\"; `.pookie` is pookie's own"));
    }
    let output_dir = workspace.join(output_dir);

    let jobs = match (cli.jobs, &raw.jobs) {
        (Some(0), _) => {
            return Err(ConfigError::new("jobs", "--jobs must be at least 1")
                .at(src, &src.flag_any(&["--jobs", "-j"], "0"), "zero")
                .help("pass -j N with N ≥ 1, or leave it out to use every core"));
        }
        (Some(j), _) => j,
        (None, Some(j)) if *j.get_ref() < 1 || *j.get_ref() > 1024 => {
            return Err(ConfigError::new("jobs", format!("`jobs = {}` is out of range", j.get_ref()))
                .at(src, &span_of(j), "must be between 1 and 1024")
                .help("leave `jobs` out to run one job per CPU core"));
        }
        (None, Some(j)) => *j.get_ref() as usize,
        (None, None) => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };

    let mut env = BTreeMap::new();
    if let Some(e) = &raw.env {
        for (k, v) in e.get_ref() {
            check_env_name(k.get_ref(), &span_of(k), src)?;
            env.insert(k.get_ref().clone(), v.get_ref().clone());
        }
    }

    let timeout = match &raw.timeout {
        None => None,
        Some(t) => Some(parse_timeout(t.get_ref()).ok_or_else(|| {
            ConfigError::new("timeout", "the timeout is not a duration")
                .at(src, &span_of(t), "expected seconds or e.g. \"30m\"")
                .help("write seconds (`timeout = 1800`) or a duration such as \"90s\", \"30m\", \"1h30m\"")
        })?),
    };

    let patterns = |p: &Spanned<raw::RawPatterns>| -> Result<(Patterns, Origin), ConfigError> {
        let origin = span_of(p);
        let globs = p
            .get_ref()
            .0
            .iter()
            .map(|g| {
                Glob::new(g)
                    .map_err(|e| ConfigError::new("selector", e).at(src, &origin, "bad pattern").help(GLOB_HELP))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((Patterns(globs), origin))
    };
    let skip = raw.skip.as_ref().map(patterns).transpose()?;
    let only = match &cli.only {
        Some(o) => {
            let origin = src.flag("--only", o);
            let g = Glob::new(o)
                .map_err(|e| ConfigError::new("selector", e).at(src, &origin, "bad pattern").help(GLOB_HELP))?;
            Some((Patterns(vec![g]), origin))
        }
        None => raw.only.as_ref().map(patterns).transpose()?,
    };

    let mut overrides = Vec::new();
    for o in raw.overrides {
        let (select, _) = patterns(&o.select)?;
        let mut env = BTreeMap::new();
        for (k, v) in o.env.unwrap_or_default() {
            check_env_name(k.get_ref(), &span_of(&k), src)?;
            env.insert(k.into_inner(), v.into_inner());
        }
        overrides.push(Override {
            select,
            build: o.build.map(|b| b.into_inner()),
            test: o.test.map(|t| t.into_inner()),
            test_requires: o.test_requires,
            env,
        });
    }

    let compiler = match (cli.x86_64_compiler, &raw.linux.x86_64_compiler) {
        (Some(c), _) => c,
        (None, None) => Compiler::default(),
        (None, Some(s)) => match s.get_ref().as_str() {
            "gcc" => Compiler::Gcc,
            "clang" => Compiler::Clang,
            other => {
                return Err(ConfigError::new("compiler", format!("unknown compiler `{other}`"))
                    .at(src, &span_of(s), "expected `gcc` or `clang`")
                    .help("set `x86_64-compiler = \"gcc\"` or `\"clang\"`"));
            }
        },
    };
    let mode = match (cli.non_native_mode, &raw.linux.non_native_mode) {
        (Some(m), _) => m,
        (None, None) => NonNativeMode::default(),
        (None, Some(s)) => match s.get_ref().as_str() {
            "cross" => NonNativeMode::Cross,
            "emulate" => NonNativeMode::Emulate,
            other => {
                return Err(ConfigError::new("mode", format!("unknown non-native mode `{other}`"))
                    .at(src, &span_of(s), "expected `cross` or `emulate`")
                    .help("`cross` compiles on the host and tests under QEMU; `emulate` builds under QEMU too"));
            }
        },
    };

    let mut images = BTreeMap::new();
    for (key, value) in raw.images.entries() {
        let family = Family::from_key(key).expect("every [images] key is a family");
        let image = match value {
            Some(v) if v.get_ref().trim().is_empty() || v.get_ref().contains(char::is_whitespace) => {
                return Err(ConfigError::new("image", format!("`{}` is not an image reference", v.get_ref()))
                    .at(src, &span_of(v), "here")
                    .help("write a reference such as \"debian:bookworm-slim\" or \"registry.example/base:1\""));
            }
            Some(v) => v.get_ref().clone(),
            None => family.info().default_image.to_string(),
        };
        images.insert(family, image);
    }

    let engine = match &raw.engine {
        None => None,
        Some(e) => Some(EngineKind::from_name(e.get_ref()).ok_or_else(|| {
            ConfigError::new("engine", format!("unknown container engine `{}`", e.get_ref()))
                .at(src, &span_of(e), "expected `docker` or `podman`")
                .help("remove the key to let pookie pick docker, else podman")
        })?),
    };

    let ca_bundle = match &raw.ca_bundle {
        Some(c) => {
            let path = workspace.join(c.get_ref());
            let bytes = std::fs::read(&path).map_err(|e| {
                ConfigError::new("ca_bundle", format!("cannot read CA bundle `{}`: {e}", c.get_ref()))
                    .at(src, &span_of(c), "here")
                    .help("point `ca-bundle` at a PEM file of certificate authorities, or remove it")
            })?;
            Some(CaBundle { path, sha256: hex::encode(sha2::Sha256::digest(&bytes)) })
        }
        // The host's bundle is a convenience: an unreadable one is simply not used.
        None => std::env::var_os("SSL_CERT_FILE").map(PathBuf::from).and_then(|path| {
            let bytes = std::fs::read(&path).ok()?;
            Some(CaBundle { path, sha256: hex::encode(sha2::Sha256::digest(&bytes)) })
        }),
    };

    Ok(Settings {
        workspace,
        config_file,
        targets,
        targets_origin,
        python,
        build,
        test,
        test_requires,
        output_dir,
        jobs,
        env,
        timeout,
        skip,
        only,
        overrides,
        compiler,
        mode,
        images,
        engine,
        ca_bundle,
        offline: cli.offline,
        sources,
    })
}

fn source_name_origin(s: &Option<Spanned<String>>) -> Origin {
    s.as_ref().map_or(Origin::Default, span_of)
}

fn check_env_name(name: &str, origin: &Origin, src: &Sources) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        return Err(ConfigError::new("env", format!("`{name}` is not a valid environment variable name"))
            .at(src, origin, "not a variable name")
            .help("names are letters, digits and `_`, not starting with a digit"));
    }
    if name.starts_with("POOKIE_") {
        return Err(ConfigError::new("env", format!("`{name}` is reserved"))
            .at(src, origin, "reserved name")
            .help("pookie sets the POOKIE_* variables of each job itself"));
    }
    Ok(())
}

/// `600`, `"90s"`, `"30m"`, `"1h30m"`; zero is not a timeout.
fn parse_timeout(t: &RawTimeout) -> Option<Duration> {
    let secs = match t {
        RawTimeout::Seconds(n) => u64::try_from(*n).ok()?,
        RawTimeout::Text(s) => {
            let re =
                regex::Regex::new(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+)\s*s?)?\s*$").expect("valid regex");
            let c = re.captures(s)?;
            if c.get(1).is_none() && c.get(2).is_none() && c.get(3).is_none() {
                return None;
            }
            let n = |i: usize| c.get(i).map_or(Some(0), |m| m.as_str().parse::<u64>().ok());
            n(1)?.checked_mul(3600)?.checked_add(n(2)?.checked_mul(60)?)?.checked_add(n(3)?)?
        }
    };
    (secs > 0).then(|| Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts() {
        let t = |s: &str| parse_timeout(&RawTimeout::Text(s.into()));
        assert_eq!(t("90s"), Some(Duration::from_secs(90)));
        assert_eq!(t("30m"), Some(Duration::from_secs(1800)));
        assert_eq!(t("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(t("45"), Some(Duration::from_secs(45)));
        assert_eq!(t("soon"), None);
        assert_eq!(t("0s"), None);
        assert_eq!(parse_timeout(&RawTimeout::Seconds(-5)), None);
    }
}
