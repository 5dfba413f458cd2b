//! Machine-level settings: where Pythons and base images come from, the CA bundle and the
//! container engine are facts of the machine, not of a project. An air-gapped build farm names
//! them once, in `$POOKIE_CONFIG` or else `$XDG_CONFIG_HOME/pookie/config.toml`
//! (`~/.config/pookie/config.toml`), for every project: pookie.toml, `[tool.pookie]` and
//! `[tool.cibuildwheel]` projects alike. They lie beneath the project's own settings, which win
//! key by key; the command line and the environment win over both. The file is the user's, so
//! its paths (a mirror directory, a CA bundle) may be anywhere on the machine, relative to the
//! file's directory. Its values are judged here, with diagnostics pointing into it.

use super::error::{MACHINE_SPANS, Origin, Sources, printable};
use super::raw::{RawConfig, RawImages, RawPython, RawPythonTable};
use super::{CliOverrides, ConfigError, Endpoint, EngineKind, PoolEngine, PythonSourceKind};
use crate::env_vars::EnvVars;
use crate::target::Family;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml::Spanned;

/// The machine configuration file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawMachine {
    engine: Option<Spanned<String>>,
    ca_bundle: Option<Spanned<String>>,
    #[serde(default)]
    python: RawMachinePython,
    #[serde(default)]
    images: RawImages,
    #[serde(default)]
    engines: Vec<RawEngine>,
}

/// `[[engines]]`: an engine of the pool, besides the default one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawEngine {
    name: Spanned<String>,
    host: Option<Spanned<String>>,
    context: Option<Spanned<String>>,
    tls: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    slots: Option<Spanned<i64>>,
}

/// `[python]` of the machine: where interpreters come from, not which versions a project wants.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawMachinePython {
    source: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    mirror: Option<Spanned<String>>,
    release: Option<Spanned<String>>,
    prereleases: Option<bool>,
}

/// Which settings of a run came from the machine's file.
#[derive(Clone, Debug)]
pub struct MachineSettings {
    pub file: PathBuf,
    /// The keys the project left to it.
    pub keys: Vec<MachineKey>,
    /// The pool's engines besides the default one (`[[engines]]`).
    pub engines: Vec<PoolEngine>,
}

/// A key of the machine's file, printed as written there (`images.linux-x86_64`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MachineKey {
    Engine,
    Image(Family),
    PythonSource,
    PythonPath,
    PythonRelease,
    PythonPrereleases,
    PythonMirror,
    CaBundle,
    Engines,
}

impl std::fmt::Display for MachineKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MachineKey::Engine => f.write_str("engine"),
            MachineKey::Image(family) => write!(f, "images.{family}"),
            MachineKey::PythonSource => f.write_str("python.source"),
            MachineKey::PythonPath => f.write_str("python.path"),
            MachineKey::PythonRelease => f.write_str("python.release"),
            MachineKey::PythonPrereleases => f.write_str("python.prereleases"),
            MachineKey::PythonMirror => f.write_str("python.mirror"),
            MachineKey::CaBundle => f.write_str("ca-bundle"),
            MachineKey::Engines => f.write_str("engines"),
        }
    }
}

impl serde::Serialize for MachineKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The machine's configuration file: `$POOKIE_CONFIG` (which must exist), else
/// `$XDG_CONFIG_HOME/pookie/config.toml` or `~/.config/pookie/config.toml` when it exists.
fn find() -> Result<Option<PathBuf>, ConfigError> {
    if let Some(p) = std::env::var_os(EnvVars::POOKIE_CONFIG).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(p);
        if !path.is_file() {
            return Err(ConfigError::new(
                "machine_config",
                format!("POOKIE_CONFIG names `{}`, which is not a file", printable(&path.display().to_string())),
            )
            .help("point POOKIE_CONFIG at pookie's machine configuration (a TOML file), or unset it"));
        }
        return Ok(Some(path));
    }
    let dir = std::env::var_os(EnvVars::XDG_CONFIG_HOME)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os(EnvVars::HOME).map(|h| PathBuf::from(h).join(".config")));
    Ok(dir.map(|d| d.join("pookie/config.toml")).filter(|p| p.is_file()))
}

/// Lays the machine's settings beneath the project's `raw` configuration and the user's `cli`
/// (paths of the machine go where the user's own go: a mirror or CA bundle anywhere). Returns
/// what was taken from where, or None without a machine file.
pub fn apply(
    raw: &mut RawConfig,
    cli: &mut CliOverrides,
    sources: &mut Sources,
) -> Result<Option<MachineSettings>, ConfigError> {
    let Some(file) = find()? else { return Ok(None) };
    let text = std::fs::read_to_string(&file).map_err(|e| {
        ConfigError::new("machine_config", format!("cannot read the machine configuration {}: {e}", file.display()))
    })?;
    let mut src = Sources::new(&[]);
    src.file = Some((file.display().to_string(), Arc::new(super::error::quotable(&text))));
    let machine: RawMachine = toml::from_str(&text).map_err(|e| super::toml_error(e, &src))?;
    let base = file.parent().unwrap_or(Path::new("/")).to_path_buf();
    let at = |s: &Spanned<String>| Origin::File(s.span());
    // Judged on their own, pointing into the machine's file.
    super::resolve::images(&machine.images, &src)?;
    super::resolve::engine(machine.engine.as_ref(), &src)?;
    let ca_bundle = match &machine.ca_bundle {
        Some(c) => {
            let path = base.join(c.get_ref());
            let bytes =
                std::fs::read(&path).map_err(|e| {
                    ConfigError::new("ca_bundle", format!("cannot read CA bundle `{}`: {e}", printable(c.get_ref())))
                        .at(&src, &at(c), "here")
                })?;
            if !super::paths::is_pem_certificates(&bytes) {
                return Err(ConfigError::new(
                    "ca_bundle",
                    format!("`{}` holds no PEM certificate", printable(c.get_ref())),
                )
                .at(&src, &at(c), "not a CA bundle")
                .help("point it at a PEM file of certificate authorities (`-----BEGIN CERTIFICATE-----`)"));
            }
            Some(path)
        }
        None => None,
    };
    let p = &machine.python;
    let source_kind: Option<PythonSourceKind> =
        p.source.as_ref().map(|s| super::resolve::choose(s.get_ref(), &at(s), &src)).transpose()?;
    if let Some(path) = &p.path
        && !path.get_ref().contains("{minor}")
    {
        return Err(ConfigError::new("python_path", "the interpreter path must contain `{minor}`").at(
            &src,
            &at(path),
            "same path for every version",
        ));
    }
    let mirror = match &p.mirror {
        Some(m) => {
            let text = m.get_ref();
            let url = text.starts_with("https://") || text.starts_with("http://");
            let dir = base.join(text.strip_prefix("file://").unwrap_or(text));
            if !url && (text.contains("://") && !text.starts_with("file://") || !dir.is_dir()) {
                return Err(ConfigError::new("python_mirror", format!("`{}` cannot be a mirror", printable(text)))
                    .at(&src, &at(m), "neither an http(s) URL nor a directory")
                    .help("a mirror holds a python-build-standalone release: its SHA256SUMS beside the archives"));
            }
            Some(if url { text.clone() } else { dir.display().to_string() })
        }
        None => None,
    };

    // Interpreters from the image need versions named, which only the project can do.
    let project_versions = match &raw.python {
        Some(p) => match p.get_ref() {
            RawPython::List(_) => true,
            RawPython::Table(t) => t.versions.is_some(),
        },
        None => false,
    };
    let project_source =
        matches!(raw.python.as_ref().map(|p| p.get_ref()), Some(RawPython::Table(t)) if t.source.is_some());
    if let Some(s) = p.source.as_ref().filter(|_| source_kind == Some(PythonSourceKind::Image))
        && !project_source
        && !project_versions
        && cli.python_versions.is_empty()
    {
        return Err(ConfigError::new("python", "with `source = \"image\"` the Python versions must be named")
            .at(&src, &at(s), "from this machine's configuration")
            .help("the project names them (`python = [\"3.12\"]`) or the command line does (--python-version 3.12)"));
    }

    // Laid beneath the project's settings, key by key, with spans that later diagnostics
    // resolve to this file.
    sources.machine = src.file.clone();
    let mut keys = Vec::new();
    let mut take = |mine: &mut Option<Spanned<String>>, theirs: &Option<Spanned<String>>, key: MachineKey| {
        if let (None, Some(t)) = (&mine, theirs) {
            let span = t.span();
            *mine = Some(Spanned::new(span.start + MACHINE_SPANS..span.end + MACHINE_SPANS, t.get_ref().clone()));
            keys.push(key);
        }
    };
    take(&mut raw.engine, &machine.engine, MachineKey::Engine);
    for (family, theirs) in &machine.images.0 {
        let mut mine = raw.images.0.remove(family);
        take(&mut mine, &Some(theirs.clone()), MachineKey::Image(*family));
        raw.images.0.extend(mine.map(|m| (*family, m)));
    }
    // `python = [...]` is the table's `versions`; the machine fills in the rest.
    let (span, mut table) = match raw.python.take().map(|p| (p.span(), p.into_inner())) {
        Some((span, RawPython::Table(t))) => (span, t),
        Some((span, RawPython::List(l))) => (span, RawPythonTable { versions: Some(l), ..RawPythonTable::default() }),
        None => (0..0, RawPythonTable::default()),
    };
    take(&mut table.source, &p.source, MachineKey::PythonSource);
    take(&mut table.path, &p.path, MachineKey::PythonPath);
    take(&mut table.release, &p.release, MachineKey::PythonRelease);
    if table.prereleases.is_none() && p.prereleases.is_some() {
        table.prereleases = p.prereleases;
        keys.push(MachineKey::PythonPrereleases);
    }
    if table.mirror.is_none() && cli.python_mirror.is_none() && mirror.is_some() {
        cli.python_mirror = mirror;
        keys.push(MachineKey::PythonMirror);
    }
    raw.python = Some(Spanned::new(span, RawPython::Table(table)));
    if raw.ca_bundle.is_none() && cli.ca_bundle.is_none() && ca_bundle.is_some() {
        cli.ca_bundle = ca_bundle;
        keys.push(MachineKey::CaBundle);
    }
    let engines = engines(&machine.engines, &base, &src)?;
    if !engines.is_empty() {
        keys.push(MachineKey::Engines);
    }
    Ok(Some(MachineSettings { file, keys, engines }))
}

/// The pool's engines, judged: a unique name; a URL (`unix://`, `ssh://`, or `tcp://` with a TLS
/// directory unless on loopback) or a context; a slot count of at least 1.
fn engines(raw: &[RawEngine], base: &Path, src: &Sources) -> Result<Vec<PoolEngine>, ConfigError> {
    let at = |s: std::ops::Range<usize>| Origin::File(s);
    let mut out: Vec<PoolEngine> = Vec::new();
    for e in raw {
        let name = e.name.get_ref();
        let name_ok = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && name != "default";
        if !name_ok {
            return Err(ConfigError::new("engines", format!("`{}` cannot name an engine", printable(name)))
                .at(src, &at(e.name.span()), "not a name")
                .help("use letters, digits, `-`, `_` and `.` (`default` is the machine's own engine)"));
        }
        if out.iter().any(|o| &o.name == name) {
            return Err(ConfigError::new("engines", format!("two engines are named `{name}`"))
                .at(src, &at(e.name.span()), "named again here")
                .help("give each `[[engines]]` entry its own name"));
        }
        let kind = match &e.kind {
            Some(k) => Some(super::resolve::choose::<EngineKind>(k.get_ref(), &at(k.span()), src)?),
            None => None,
        };
        let tls = match &e.tls {
            Some(t) => {
                let dir = base.join(t.get_ref());
                if let Some(missing) = ["ca.pem", "cert.pem", "key.pem"].into_iter().find(|f| !dir.join(f).is_file()) {
                    return Err(ConfigError::new("engines", format!("the TLS directory has no {missing}"))
                        .at(src, &at(t.span()), "here")
                        .help("name a directory of the client's ca.pem, cert.pem and key.pem (as DOCKER_CERT_PATH)"));
                }
                Some(dir)
            }
            None => None,
        };
        let endpoint = match (&e.host, &e.context) {
            (Some(h), None) => {
                let url = h.get_ref();
                let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
                if !["unix", "tcp", "ssh"].contains(&scheme) || rest.is_empty() {
                    return Err(ConfigError::new(
                        "engines",
                        format!("`{}` is not an engine's address", printable(url)),
                    )
                    .at(src, &at(h.span()), "not unix://, tcp:// or ssh://")
                    .help(
                        "write it as DOCKER_HOST takes it: unix:///path/to/socket, ssh://user@host, tcp://host:2376",
                    ));
                }
                let host = rest.split(['/', ':']).next().unwrap_or("");
                let loopback = host == "localhost" || host.starts_with("127.") || host == "[";
                if scheme == "tcp" && tls.is_none() && !loopback {
                    return Err(ConfigError::new("engines", "an engine over tcp needs TLS")
                        .at(src, &at(h.span()), "plain tcp")
                        .help(
                            "add `tls = \"DIR\"` (the client's ca.pem, cert.pem, key.pem), or reach it over ssh://",
                        ));
                }
                Endpoint::Url { url: url.clone(), tls }
            }
            (None, Some(c)) => Endpoint::Context { name: c.get_ref().clone() },
            (Some(_), Some(c)) => {
                return Err(ConfigError::new("engines", format!("engine `{name}` has both a host and a context"))
                    .at(src, &at(c.span()), "one or the other")
                    .help("keep `host` (an address) or `context` (a docker context / podman connection)"));
            }
            (None, None) => {
                return Err(ConfigError::new("engines", format!("engine `{name}` has no address"))
                    .at(src, &at(e.name.span()), "where is it?")
                    .help("add `host = \"ssh://user@host\"` (or unix://, tcp://) or `context = \"NAME\"`"));
            }
        };
        let slots = match &e.slots {
            Some(n) if *n.get_ref() < 1 || *n.get_ref() > 1024 => {
                return Err(ConfigError::new("engines", "slots must be between 1 and 1024").at(
                    src,
                    &at(n.span()),
                    "here",
                ));
            }
            Some(n) => Some(*n.get_ref() as usize),
            None => None,
        };
        out.push(PoolEngine { name: name.clone(), endpoint, kind, slots });
    }
    Ok(out)
}
