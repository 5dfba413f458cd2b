//! Judging the raw configuration and the flags, one setting at a time: each function checks
//! its values and returns them plain; the first bad one stops with a diagnostic pointing at it.

use super::error::printable;
use super::paths;
use super::raw::{self, RawConfig, RawPython, RawTimeout, RawVersion};
use super::selector::{Glob, Patterns};
use super::{
    BuildFrontend, CaBundle, CliOverrides, Compiler, ConfigError, DEFAULT_BUILD, DEFAULT_PYTHON_PATH, EngineKind,
    GLOB_HELP, Inherit, Inheritance, Origin, Override, PythonSettings, PythonSource, PythonSourceKind, Settings, Shard,
    Sources, WithOrigin,
};
use crate::choice::Choice;
use crate::env_vars::EnvVars;
use crate::python::PythonVersion;
use crate::python::fetch::{Location, Source};
use crate::target::{DEFAULT_MANYLINUX, Family, MANYLINUX_POLICIES, NonNativeMode, Target};
use sha2::Digest;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

fn span_of<T>(s: &Spanned<T>) -> Origin {
    Origin::File(s.span())
}

pub(super) fn resolve(
    raw: RawConfig,
    config_file: Option<PathBuf>,
    workspace: PathBuf,
    cli: &CliOverrides,
    sources: Sources,
) -> Result<Settings, ConfigError> {
    let src = &sources;
    let policy = manylinux(raw.linux.manylinux.as_ref(), src)?;
    let python = python(raw.python, cli, &workspace, src)?;
    let image_source = matches!(python.source.value, PythonSource::Image { .. });
    let targets = targets(raw.targets.as_ref(), cli, policy, image_source, src)?;
    let build = build(raw.build.as_ref(), cli, src)?;
    let config_settings = config_settings(raw.config_settings.as_ref(), src)?;
    let build_frontend = build_frontend(raw.build_frontend.as_ref(), src)?.unwrap_or_default();
    let test =
        cli.test.clone().or_else(|| raw.test.as_ref().map(|t| t.get_ref().clone())).filter(|t| !t.trim().is_empty());
    let test_requires = raw.test_requires.map(|t| t.into_inner()).unwrap_or_default();
    let test_extras = test_extras(raw.test_extras.as_deref(), src)?;
    let test_sources = test_sources(raw.test_sources.as_deref(), &workspace, src)?;
    let test_groups = test_groups(raw.test_groups.as_deref(), &workspace, src)?;
    let hook = |h: Option<Spanned<String>>| h.map(|h| h.into_inner()).filter(|h| !h.trim().is_empty());
    let (before_build, before_test) = (hook(raw.before_build), hook(raw.before_test));
    let before_all = hook(raw.before_all);
    let output_dir = output_dir(raw.output_dir.as_ref(), &workspace, src)?;
    let source_date_epoch = source_date_epoch(raw.source_date_epoch.as_ref(), &workspace, src)?;
    let jobs = jobs(raw.jobs.as_ref(), cli, src)?;
    let shard = shard(cli, src)?;
    let cache_registry = cache_registry(raw.caches.registry.as_ref(), cli, src)?;
    let env = env(raw.env.as_ref(), src)?;
    let mut environment_pass = Vec::new();
    for name in raw.environment_pass.iter().flatten() {
        check_env_name(name.get_ref(), &span_of(name), src)?;
        environment_pass.push(name.get_ref().clone());
    }
    let timeout = timeout(raw.timeout.as_ref(), src)?;
    let skip = raw.skip.as_ref().map(|p| patterns(p, src)).transpose()?;
    let test_skip = raw.test_skip.as_ref().map(|p| patterns(p, src)).transpose()?;
    let only = only(raw.only.as_ref(), cli, src)?;
    let overrides = overrides(raw.overrides, src)?;
    let before_all_inputs = match before_all.is_some() || overrides.iter().any(|o| o.before_all.is_some()) {
        true => Some(before_all_inputs(raw.before_all_inputs.as_deref(), &workspace, &output_dir, src)?),
        false => None,
    };
    let compiler = compiler(raw.linux.x86_64_compiler.as_ref(), cli, src)?;
    let mode = mode(raw.linux.non_native_mode.as_ref(), cli, src)?;
    let images = images(&raw.images, src)?;
    let engine = engine(raw.engine.as_ref(), src)?;
    let ca_bundle = ca_bundle(raw.ca_bundle.as_ref(), cli, &workspace, src)?;
    Ok(Settings {
        workspace,
        config_file,
        targets,
        python,
        build,
        config_settings,
        build_frontend,
        test,
        test_requires,
        test_extras,
        test_sources,
        test_groups,
        before_build,
        before_test,
        before_all,
        before_all_inputs,
        repair_wheel_command: raw.repair_wheel_command.map(|c| c.into_inner()),
        abi3: raw.abi3.unwrap_or(false),
        output_dir,
        source_date_epoch,
        jobs,
        env,
        timeout,
        skip,
        test_skip,
        environment_pass,
        only,
        overrides,
        compiler,
        mode,
        images,
        engine,
        ca_bundle,
        caches: super::Caches { pip: raw.caches.pip.unwrap_or(true), compiler: raw.caches.compiler.unwrap_or(true) },
        cache_registry,
        shard,
        offline: cli.offline,
        strict: cli.strict,
        notes: Vec::new(),
        machine: None,
        sources,
    })
}

/// `[linux] manylinux`: the policy of manylinux targets named by globs or by default.
fn manylinux(raw: Option<&Spanned<String>>, src: &Sources) -> Result<u8, ConfigError> {
    let Some(p) = raw else { return Ok(DEFAULT_MANYLINUX) };
    let text = p.get_ref();
    let minor = text.strip_prefix("manylinux_").unwrap_or(text).strip_prefix("2_").and_then(|m| m.parse::<u8>().ok());
    match minor {
        Some(m) if MANYLINUX_POLICIES.contains(&m) => Ok(m),
        _ => {
            let known: Vec<String> = MANYLINUX_POLICIES.iter().map(|m| format!("2_{m}")).collect();
            Err(ConfigError::new("manylinux", format!("`{text}` is not a manylinux policy pookie builds for"))
                .at(src, &span_of(p), "unknown policy")
                .help(format!("choose one of {}: the glibc version wheels may need", known.join(", "))))
        }
    }
}

/// Targets: the flags replace the file's list; globs expand against the catalog, manylinux
/// targets with the policy `policy`; a full tag names its own policy.
fn targets(
    raw: Option<&Spanned<Vec<Spanned<String>>>>,
    cli: &CliOverrides,
    policy: u8,
    image_source: bool,
    src: &Sources,
) -> Result<WithOrigin<Vec<Target>>, ConfigError> {
    let (target_names, targets_origin): (Vec<(String, Origin)>, Origin) = if !cli.targets.is_empty() {
        let names = cli.targets.iter().map(|t| (t.clone(), src.flag("--target", t))).collect();
        (names, src.flag("--target", &cli.targets[0]))
    } else if let Some(t) = raw {
        (t.get_ref().iter().map(|n| (n.get_ref().clone(), span_of(n))).collect(), span_of(t))
    } else {
        let all = Target::all_with_policy(policy).filter(|t| t.info().default);
        (all.map(|t| (t.tag().to_string(), Origin::Default)).collect(), Origin::Default)
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
        let matched: Vec<Target> = match Target::from_tag(name) {
            Some(t) if glob.is_literal() => vec![t],
            _ => Target::all_with_policy(policy)
                .filter(|t| t.selectable(image_source, name) && glob.matches(t.tag()))
                .collect(),
        };
        if matched.is_empty() && !glob.is_literal() {
            return Err(ConfigError::new("unknown_target", format!("the pattern `{name}` matches no target"))
                .at(src, origin, "matches nothing")
                .help("`pookie targets` lists the targets pookie builds for"));
        }
        if matched.is_empty() {
            let mut hint = match Target::suggest(name) {
                Some(s) => format!("did you mean `{s}`? `pookie targets` lists all targets"),
                None => "`pookie targets` lists the targets pookie builds for".to_string(),
            };
            if name.starts_with("manylinux_2_") {
                let known: Vec<String> = MANYLINUX_POLICIES.iter().map(|m| format!("2_{m}")).collect();
                hint.push_str(&format!(
                    "; manylinux targets are manylinux_POLICY_ARCH, POLICY one of {}",
                    known.join(", ")
                ));
            }
            return Err(ConfigError::new("unknown_target", format!("unknown target `{name}`"))
                .at(src, origin, "not a known target")
                .help(hint));
        }
        targets.extend(matched);
    }
    targets.sort();
    targets.dedup();
    Ok(WithOrigin::new(targets, targets_origin))
}

/// Python versions (list or table), where interpreters come from, pre-releases.
fn python(
    raw: Option<Spanned<RawPython>>,
    cli: &CliOverrides,
    workspace: &Path,
    src: &Sources,
) -> Result<PythonSettings, ConfigError> {
    let (table, list) = match raw.map(|p| (p.span(), p.into_inner())) {
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
            let mut out: Vec<WithOrigin<PythonVersion>> = Vec::new();
            for (RawVersion(text), origin) in v {
                let version: PythonVersion = text.parse().map_err(|e: crate::python::version::VersionError| {
                    ConfigError::new("python_version", e.to_string())
                        .at(src, &origin, "not a Python minor version")
                        .help("write minor versions such as \"3.12\" (or \"12\")")
                })?;
                if !out.iter().any(|v| v.value == version) {
                    out.push(WithOrigin::new(version, origin));
                }
            }
            out.sort_by_key(|v| v.value);
            Some(out)
        }
    };
    let source_kind = match &table.source {
        Some(s) => choose(s.get_ref(), &span_of(s), src)?,
        None => PythonSourceKind::default(),
    };
    // The user's mirror (command line, environment) may be anywhere on the machine; a project's
    // is a URL or a directory of the project.
    let written = match &cli.python_mirror {
        Some(m) => Some((m.clone(), src.flag("--python-mirror", m), true)),
        None => table.mirror.as_ref().map(|m| (m.get_ref().clone(), span_of(m), false)),
    };
    let mirror = written.as_ref().map(|(m, _, _)| Location::parse(m, workspace));
    // A mirror that cannot serve is bad input: said here, not after images were built.
    if let (Some((m, origin, users)), Some(loc)) = (&written, &mirror) {
        let refuse = |why: &str, help: &str| {
            ConfigError::new("python_mirror", format!("`{}` cannot be a mirror", printable(m)))
                .at(src, origin, why.to_string())
                .help(help.to_string())
        };
        if let (Location::Dir(_), false) = (loc, users) {
            let relative = m.strip_prefix("file://").unwrap_or(m);
            paths::inside(workspace, relative).map_err(|r| {
                refuse(
                    &r.to_string(),
                    "a project's mirror is a URL or a directory of the project; a directory elsewhere on this machine is the user's to name: --python-mirror DIR or POOKIE_PYTHON_MIRROR=DIR",
                )
            })?;
        }
        match loc {
            Location::Dir(d) if !d.is_dir() => {
                return Err(refuse(
                    "no such directory",
                    "a mirror directory holds a python-build-standalone release: its SHA256SUMS beside the archives",
                ));
            }
            Location::Url(u) if !(u.starts_with("https://") || u.starts_with("http://")) => {
                return Err(refuse(
                    "not an http(s) or file URL",
                    "pookie fetches mirrors over https://, http:// or file://",
                ));
            }
            _ => {}
        }
    }
    let release = table.release.as_ref().map(|r| r.get_ref().clone());
    let source = match source_kind {
        PythonSourceKind::Pbs => PythonSource::Pbs(match mirror {
            Some(loc) => Source::Mirror(loc),
            None => Source::GitHub { release },
        }),
        PythonSourceKind::Image => PythonSource::Image {
            path: table.path.as_ref().map_or(DEFAULT_PYTHON_PATH.to_string(), |p| p.get_ref().clone()),
        },
    };
    if let (PythonSource::Image { path }, Some(p)) = (&source, &table.path)
        && !path.contains("{minor}")
    {
        return Err(ConfigError::new("python_path", "the interpreter path must contain `{minor}`")
            .at(src, &span_of(p), "same path for every version")
            .help("e.g. \"/usr/bin/python{major}.{minor}\" or \"/opt/python/cp{major}{minor}-cp{major}{minor}/bin/python\""));
    }
    // Both builds of a minor are different interpreters (`python3.14`, `python3.14t`).
    if let (PythonSource::Image { path }, Some(versions)) = (&source, &versions)
        && !path.contains("{t}")
        && let Some(v) = versions.iter().find(|v| v.free_threaded)
    {
        let origin = table.path.as_ref().map_or(v.origin.clone(), span_of);
        let v = v.value;
        return Err(ConfigError::new(
            "python_path",
            format!("the interpreter path has no `{{t}}`, so free-threaded {v} would run the interpreter of {}", v.with_gil()),
        )
        .at(src, &origin, "no `{t}` in the path")
        .help("write `{t}` where the free-threaded interpreter's name has its `t`, e.g. \"/usr/bin/python{major}.{minor}{t}\" or \"/opt/python/cp{major}{minor}-cp{major}{minor}{t}/bin/python\""));
    }
    if let (PythonSource::Image { .. }, None) = (&source, &versions) {
        let origin = source_name_origin(&table.source);
        return Err(ConfigError::new("python", "with `source = \"image\"` the Python versions must be named")
            .at(src, &origin, "pookie cannot list the interpreters of an image")
            .help("add `versions = [\"3.12\", \"3.13\"]` to [python] (or pass --python-version)"));
    }
    Ok(PythonSettings {
        versions: WithOrigin::new(versions, versions_origin),
        source: WithOrigin::new(source, source_name_origin(&table.source)),
        prereleases: table.prereleases.unwrap_or(false),
        release: table.release.as_ref().map(|r| WithOrigin::new(r.get_ref().clone(), span_of(r))),
    })
}

fn build(raw: Option<&Spanned<String>>, cli: &CliOverrides, src: &Sources) -> Result<String, ConfigError> {
    let build = match (&cli.build, raw) {
        (Some(b), _) => b.clone(),
        (None, Some(b)) => b.get_ref().clone(),
        (None, None) => DEFAULT_BUILD.to_string(),
    };
    if build.trim().is_empty() {
        let origin =
            cli.build.as_ref().map_or_else(|| raw.map_or(Origin::Default, span_of), |b| src.flag("--build", b));
        return Err(ConfigError::new("build", "the build command is empty")
            .at(src, &origin, "empty")
            .help(format!("remove it to use the default: {DEFAULT_BUILD}")));
    }
    Ok(build)
}

/// `config-settings`: each value a string or a list of strings (a key given more than once).
fn config_settings(
    raw: Option<&Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
    src: &Sources,
) -> Result<Vec<(String, String)>, ConfigError> {
    let mut out = Vec::new();
    for (key, value) in raw.map(|r| r.get_ref().iter()).into_iter().flatten() {
        let bad = || {
            ConfigError::new(
                "config_settings",
                format!("the config setting `{}` is not a string or a list of strings", printable(key)),
            )
            .at(src, &span_of(value), "expected \"VALUE\" or [\"VALUE\", …]")
            .help("e.g. `config-settings = { setup-args = [\"-Dblas=none\"] }`")
        };
        match value.get_ref() {
            toml::Value::String(v) => out.push((key.clone(), v.clone())),
            toml::Value::Array(items) => {
                for item in items {
                    out.push((key.clone(), item.as_str().ok_or_else(bad)?.to_string()));
                }
            }
            _ => return Err(bad()),
        }
    }
    Ok(out)
}

/// The output directory: a directory of the workspace other than the workspace itself, `.git`
/// and `.pookie`, reached without symlinks (`clean` and publishing write there).
fn output_dir(raw: Option<&Spanned<String>>, workspace: &Path, src: &Sources) -> Result<PathBuf, ConfigError> {
    let written = raw.map_or("dist".to_string(), |o| o.get_ref().clone());
    let origin = raw.map_or(Origin::Default, span_of);
    let refuse = |why: String| {
        ConfigError::new("output_dir", format!("`{}` cannot be the output directory", printable(&written)))
            .at(src, &origin, why)
            .help("name a directory of the project such as \"dist\" or \"wheelhouse\" (`.pookie` is pookie's own)")
    };
    let (below, absolute) = paths::inside(workspace, &written).map_err(|r| refuse(r.to_string()))?;
    match below.components().next().map(|c| c.as_os_str().to_string_lossy().into_owned()) {
        None => return Err(refuse("the workspace itself".into())),
        Some(first) if first == ".git" || first == crate::workspace::STATE_DIR => {
            return Err(refuse(format!("`{first}` is not the project's to fill")));
        }
        Some(_) => {}
    }
    if absolute.exists() && !absolute.is_dir() {
        return Err(refuse("a file, not a directory".into()));
    }
    Ok(absolute)
}

fn test_extras(raw: Option<&[Spanned<String>]>, src: &Sources) -> Result<Vec<String>, ConfigError> {
    let mut out = Vec::new();
    for e in raw.unwrap_or_default() {
        // PEP 685 extra names (normalized or not): letters, digits, `.`, `_`, `-`.
        let name = e.get_ref();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)) {
            return Err(ConfigError::new("test_extras", format!("`{}` is not an extra's name", printable(name)))
                .at(src, &span_of(e), "not a name")
                .help("name extras of [project.optional-dependencies], e.g. `test-extras = [\"test\"]`"));
        }
        out.push(name.clone());
    }
    Ok(out)
}

/// The requirements of PEP 735 dependency groups of the project's pyproject.toml, with
/// `{include-group = "…"}` entries resolved.
fn test_groups(raw: Option<&[Spanned<String>]>, workspace: &Path, src: &Sources) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else { return Ok(Vec::new()) };
    let refuse = |g: &Spanned<String>, why: String| {
        ConfigError::new(
            "test_groups",
            format!("dependency group `{}` cannot be installed for the tests", printable(g.get_ref())),
        )
        .at(src, &span_of(g), why)
        .help("name groups of [dependency-groups] in pyproject.toml (PEP 735), e.g. `test-groups = [\"test\"]`")
    };
    let text = paths::inside(workspace, "pyproject.toml")
        .ok()
        .filter(|(_, p)| p.is_file())
        .and_then(|(_, p)| std::fs::read_to_string(p).ok());
    let table: toml::Table = match text.as_deref().map(toml::from_str) {
        Some(Ok(t)) => t,
        Some(Err(_)) => return Err(refuse(&raw[0], "pyproject.toml is not valid TOML".into())),
        None => return Err(refuse(&raw[0], "the project has no pyproject.toml".into())),
    };
    let groups: BTreeMap<String, &toml::Value> = table
        .get("dependency-groups")
        .and_then(|g| g.as_table())
        .map(|t| t.iter().map(|(k, v)| (canonical_name(k), v)).collect())
        .unwrap_or_default();
    fn expand(
        name: &str,
        groups: &BTreeMap<String, &toml::Value>,
        seen: &mut Vec<String>,
        out: &mut Vec<String>,
    ) -> Result<(), String> {
        let key = canonical_name(name);
        if seen.contains(&key) {
            return Err(format!("group `{name}` includes itself (through {})", seen.join(" → ")));
        }
        let Some(entries) = groups.get(&key).and_then(|v| v.as_array()) else {
            return Err(format!("pyproject.toml has no dependency group `{name}`"));
        };
        seen.push(key);
        for e in entries {
            match e {
                toml::Value::String(r) => out.push(r.clone()),
                toml::Value::Table(t) => match t.get("include-group").and_then(|g| g.as_str()) {
                    Some(g) => expand(g, groups, seen, out)?,
                    None => {
                        return Err(format!(
                            "group `{name}` has an entry that is neither a requirement nor an include-group"
                        ));
                    }
                },
                _ => {
                    return Err(format!(
                        "group `{name}` has an entry that is neither a requirement nor an include-group"
                    ));
                }
            }
        }
        seen.pop();
        Ok(())
    }
    let mut out = Vec::new();
    for g in raw {
        expand(g.get_ref(), &groups, &mut Vec::new(), &mut out).map_err(|why| refuse(g, why))?;
    }
    Ok(out)
}

/// A package or group name as PEP 503/735 compare them.
fn canonical_name(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    regex::Regex::new(r"[-_.]+").expect("regex").replace_all(&lower, "-").into_owned()
}

/// Each path must be the project's (relative, no `..`, no link out) and exist.
fn test_sources(raw: Option<&[Spanned<String>]>, workspace: &Path, src: &Sources) -> Result<Vec<PathBuf>, ConfigError> {
    let mut out = Vec::new();
    for p in raw.unwrap_or_default() {
        let refuse = |why: String| {
            ConfigError::new("test_sources", format!("`{}` cannot be a test source", printable(p.get_ref())))
                .at(src, &span_of(p), why)
                .help("name files or directories of the project, relative to it, e.g. `test-sources = [\"tests\"]`")
        };
        let (below, absolute) = paths::inside(workspace, p.get_ref()).map_err(|r| refuse(r.to_string()))?;
        if below.as_os_str().is_empty() {
            return Err(refuse("the project itself".into()));
        }
        if !absolute.exists() {
            return Err(refuse("no such file or directory".into()));
        }
        out.push(below);
    }
    Ok(out)
}

/// `before-all-inputs`: globs of project paths (`*` within a directory, `**` across them; a
/// pattern naming a directory takes what is below it), each matching some file; by default the
/// whole project as jobs see it.
fn before_all_inputs(
    raw: Option<&[Spanned<String>]>,
    workspace: &Path,
    output_dir: &Path,
    src: &Sources,
) -> Result<crate::workspace::Selection, ConfigError> {
    // As for jobs (cli/run.rs), pookie.toml is pookie's alone: its keys reach the layer.
    let exclude = [output_dir.to_path_buf(), workspace.join("pookie.toml")];
    let unreadable = |e: std::io::Error| {
        ConfigError::new("before_all_inputs", format!("cannot read the project's files for before-all: {e}")).at(
            src,
            &Origin::Default,
            "here",
        )
    };
    let Some(raw) = raw else {
        return crate::workspace::select(workspace, &exclude, |_| true).map_err(unreadable);
    };
    let mut globs = Vec::new();
    for g in raw {
        let refuse = |why: String| {
            ConfigError::new("before_all_inputs", format!("`{}` cannot be a before-all input", printable(g.get_ref())))
                .at(src, &span_of(g), why)
                .help("name files of the project with globs relative to it, e.g. `before-all-inputs = [\"vendor/libfoo/**\", \"scripts/deps.sh\"]`")
        };
        let text = g.get_ref();
        if text.starts_with('/') || text.split('/').any(|c| c == "..") || text.contains('\0') || text.trim().is_empty()
        {
            return Err(refuse("not a path inside the project".into()));
        }
        let glob = globset::GlobBuilder::new(text.trim_end_matches('/'))
            .literal_separator(true)
            .build()
            .map_err(|e| refuse(format!("not a glob: {}", e.kind())))?
            .compile_matcher();
        let matches = |p: &Path| p.ancestors().any(|a| !a.as_os_str().is_empty() && glob.is_match(a));
        let found = crate::workspace::select(workspace, &exclude, matches).map_err(unreadable)?;
        if found.files.is_empty() {
            return Err(refuse("matches no file of the project".into()));
        }
        globs.push(glob);
    }
    let keep = |p: &Path| p.ancestors().any(|a| !a.as_os_str().is_empty() && globs.iter().any(|g| g.is_match(a)));
    crate::workspace::select(workspace, &exclude, keep).map_err(unreadable)
}

/// The earliest time a zip entry (and so a wheel) can carry: 1980-01-01.
const ZIP_EPOCH: i64 = 315_532_800;

/// `SOURCE_DATE_EPOCH` for the build jobs: the user's (environment), else the project's
/// (`source-date-epoch`), else the time of the project's last git commit.
fn source_date_epoch(
    raw: Option<&Spanned<i64>>,
    workspace: &Path,
    src: &Sources,
) -> Result<Option<WithOrigin<u64>>, ConfigError> {
    let check = |value: i64, origin: &Origin, shown: &str| {
        if (ZIP_EPOCH..=253_402_300_799).contains(&value) {
            Ok(value as u64)
        } else {
            Err(ConfigError::new("source_date_epoch", format!("{shown} = {value} is out of range"))
                .at(src, origin, "not between 1980 and 9999")
                .help("wheels are zip files, whose times start in 1980: give seconds since 1970, at least 315532800"))
        }
    };
    if let Ok(text) = std::env::var(EnvVars::SOURCE_DATE_EPOCH) {
        let value = text.trim().parse::<i64>().map_err(|_| {
            ConfigError::new(
                "source_date_epoch",
                format!("$SOURCE_DATE_EPOCH = `{}` is not a number of seconds", printable(&text)),
            )
            .help("set it to seconds since 1970 (e.g. `git log -1 --format=%ct`), or unset it")
        })?;
        return Ok(Some(WithOrigin::default_value(check(value, &Origin::Default, "$SOURCE_DATE_EPOCH")?)));
    }
    if let Some(v) = raw {
        return Ok(Some(WithOrigin::new(check(*v.get_ref(), &span_of(v), "source-date-epoch")?, span_of(v))));
    }
    Ok(crate::workspace::last_commit_time(workspace).filter(|t| *t >= ZIP_EPOCH as u64).map(WithOrigin::default_value))
}

/// More jobs at once than any machine runs containers for is a typo.
const MAX_JOBS: usize = 1024;

fn jobs(raw: Option<&Spanned<i64>>, cli: &CliOverrides, src: &Sources) -> Result<usize, ConfigError> {
    let jobs = match (cli.jobs, raw) {
        (Some(0), _) => {
            return Err(ConfigError::new("jobs", "--jobs must be at least 1")
                .at(src, &src.flag_any(&["--jobs", "-j"], "0"), "zero")
                .help("pass -j N with N ≥ 1, or leave it out to use every core"));
        }
        (Some(j), _) if j > MAX_JOBS => {
            return Err(ConfigError::new("jobs", format!("--jobs {j} is out of range"))
                .at(src, &src.flag_any(&["--jobs", "-j"], &j.to_string()), "must be between 1 and 1024")
                .help("leave -j out to run one job per CPU core"));
        }
        (Some(j), _) => j,
        (None, Some(j)) if *j.get_ref() < 1 || *j.get_ref() > MAX_JOBS as i64 => {
            return Err(ConfigError::new("jobs", format!("`jobs = {}` is out of range", j.get_ref()))
                .at(src, &span_of(j), "must be between 1 and 1024")
                .help("leave `jobs` out to run one job per CPU core"));
        }
        (None, Some(j)) => *j.get_ref() as usize,
        (None, None) => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    Ok(jobs)
}

/// The registry repository image layers are shared through: `host[:port]/path` as image
/// references begin (lowercase path), no tag, no scheme, so that nothing else reaches the engine.
fn cache_registry(
    raw: Option<&Spanned<String>>,
    cli: &CliOverrides,
    src: &Sources,
) -> Result<Option<String>, ConfigError> {
    let (written, origin) = match (&cli.cache_registry, raw) {
        (Some(r), _) if r.is_empty() => return Ok(None),
        (Some(r), _) => (r.clone(), src.flag("--cache-registry", r)),
        (None, Some(r)) => (r.get_ref().clone(), span_of(r)),
        (None, None) => return Ok(None),
    };
    let repository = written.trim_end_matches('/');
    // A host (with `.` or `:`, or localhost) and a path: `debian` alone would be Docker Hub's.
    let has_host = repository.split_once('/').is_some_and(|(h, _)| h.contains(['.', ':']) || h == "localhost");
    if !has_host || repository.contains('@') || !is_image_reference(&format!("{repository}/layer:tag")) {
        return Err(ConfigError::new("cache_registry", format!("`{}` is not a registry repository", printable(&written)))
            .at(src, &origin, "expected host[:port]/path")
            .help("e.g. \"ghcr.io/owner/pookie-cache\" or \"localhost:5000/pookie-cache\" (no tag, no scheme; the path lowercase)"));
    }
    Ok(Some(repository.to_string()))
}

fn shard(cli: &CliOverrides, src: &Sources) -> Result<Option<Shard>, ConfigError> {
    let Some(written) = &cli.shard else { return Ok(None) };
    match Shard::parse(written) {
        Some(s) => Ok(Some(s)),
        None => Err(ConfigError::new("shard", format!("`{}` is not a shard", printable(written)))
            .at(src, &src.flag("--shard", written), format!("expected K/N with 1 ≤ K ≤ N ≤ {}", Shard::MAX))
            .help("`--shard 2/4` runs the second of four parts of the plan; `pookie plan --format github-matrix --shards 4` lists them")),
    }
}

fn env(
    raw: Option<&Spanned<BTreeMap<Spanned<String>, Spanned<String>>>>,
    src: &Sources,
) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut env = BTreeMap::new();
    if let Some(e) = raw {
        for (k, v) in e.get_ref() {
            check_env_name(k.get_ref(), &span_of(k), src)?;
            check_env_value(k.get_ref(), v.get_ref(), &span_of(v), src)?;
            env.insert(k.get_ref().clone(), v.get_ref().clone());
        }
    }
    Ok(env)
}

fn timeout(raw: Option<&Spanned<RawTimeout>>, src: &Sources) -> Result<Option<Duration>, ConfigError> {
    let timeout = match raw {
        None => None,
        Some(t) if parse_timeout(t.get_ref()) == Some(0) => {
            return Err(ConfigError::new("timeout", "a timeout of 0 would stop every job as it starts")
                .at(src, &span_of(t), "zero")
                .help("give at least one second, e.g. `timeout = \"30m\"`, or leave `timeout` out (no limit)"));
        }
        Some(t) => Some(parse_timeout(t.get_ref()).map(Duration::from_secs).ok_or_else(|| {
            ConfigError::new("timeout", "the timeout is not a duration")
                .at(src, &span_of(t), "expected seconds or e.g. \"30m\"")
                .help("write seconds (`timeout = 1800`) or a duration such as \"90s\", \"30m\", \"1h30m\"")
        })?),
    };
    Ok(timeout)
}

fn patterns(p: &Spanned<raw::RawPatterns>, src: &Sources) -> Result<WithOrigin<Patterns>, ConfigError> {
    let origin = span_of(p);
    let globs = p
        .get_ref()
        .0
        .iter()
        .map(|g| {
            Glob::new(g).map_err(|e| ConfigError::new("selector", e).at(src, &origin, "bad pattern").help(GLOB_HELP))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(WithOrigin::new(Patterns(globs), origin))
}

/// `--only` replaces the file's `only`.
fn only(
    raw: Option<&Spanned<raw::RawPatterns>>,
    cli: &CliOverrides,
    src: &Sources,
) -> Result<Option<WithOrigin<Patterns>>, ConfigError> {
    match &cli.only {
        Some(o) => {
            let origin = src.flag("--only", o);
            let g = Glob::new(o)
                .map_err(|e| ConfigError::new("selector", e).at(src, &origin, "bad pattern").help(GLOB_HELP))?;
            Ok(Some(WithOrigin::new(Patterns(vec![g]), origin)))
        }
        None => raw.map(|p| patterns(p, src)).transpose(),
    }
}

fn overrides(raw: Vec<raw::RawOverride>, src: &Sources) -> Result<Vec<Override>, ConfigError> {
    let mut overrides = Vec::new();
    for o in raw {
        let select = patterns(&o.select, src)?;
        let mut env = BTreeMap::new();
        for (k, v) in o.env.unwrap_or_default() {
            check_env_name(k.get_ref(), &span_of(&k), src)?;
            check_env_value(k.get_ref(), v.get_ref(), &span_of(&v), src)?;
            env.insert(k.into_inner(), v.into_inner());
        }
        overrides.push(Override {
            select,
            build: o.build.map(|b| b.into_inner()),
            build_frontend: build_frontend(o.build_frontend.as_ref(), src)?,
            config_settings: match &o.config_settings {
                Some(c) => Some(config_settings(Some(c), src)?),
                None => None,
            },
            test: o.test.map(|t| t.into_inner()),
            test_requires: o.test_requires,
            before_build: o.before_build.map(|h| h.into_inner()),
            before_test: o.before_test.map(|h| h.into_inner()),
            before_all: o.before_all.map(|h| h.into_inner()),
            repair_wheel_command: o.repair_wheel_command.map(|c| c.into_inner()),
            env,
            inherit: inheritance(o.inherit.as_ref(), src)?,
        });
    }
    Ok(overrides)
}

fn compiler(raw: Option<&Spanned<String>>, cli: &CliOverrides, src: &Sources) -> Result<Compiler, ConfigError> {
    match (cli.x86_64_compiler, raw) {
        (Some(c), _) => Ok(c),
        (None, None) => Ok(Compiler::default()),
        (None, Some(s)) => choose(s.get_ref(), &span_of(s), src),
    }
}

/// The value of a setting that names one of `T`'s words, or a diagnostic at `origin` listing them.
pub(super) fn choose<T: Choice>(written: &str, origin: &Origin, src: &Sources) -> Result<T, ConfigError> {
    T::from_name(written.trim()).ok_or_else(|| {
        ConfigError::new(T::CODE, format!("unknown {} `{}`", T::WHAT, printable(written)))
            .at(src, origin, format!("expected {}", crate::choice::expected::<T>()))
            .help(T::HELP)
    })
}

fn inheritance(raw: Option<&raw::RawInherit>, src: &Sources) -> Result<Inheritance, ConfigError> {
    let Some(raw) = raw else { return Ok(Inheritance::default()) };
    let one = |v: &Option<Spanned<String>>| -> Result<Inherit, ConfigError> {
        v.as_ref().map_or(Ok(Inherit::None), |v| choose(v.get_ref(), &span_of(v), src))
    };
    Ok(Inheritance {
        config_settings: one(&raw.config_settings)?,
        test: one(&raw.test)?,
        test_requires: one(&raw.test_requires)?,
        before_all: one(&raw.before_all)?,
        before_build: one(&raw.before_build)?,
        before_test: one(&raw.before_test)?,
        repair_wheel_command: one(&raw.repair_wheel_command)?,
    })
}

fn build_frontend(raw: Option<&Spanned<String>>, src: &Sources) -> Result<Option<BuildFrontend>, ConfigError> {
    raw.map(|s| choose(s.get_ref(), &span_of(s), src)).transpose()
}

fn mode(raw: Option<&Spanned<String>>, cli: &CliOverrides, src: &Sources) -> Result<NonNativeMode, ConfigError> {
    match (cli.non_native_mode, raw) {
        (Some(m), _) => Ok(m),
        (None, None) => Ok(NonNativeMode::default()),
        (None, Some(s)) => choose(s.get_ref(), &span_of(s), src),
    }
}

/// The base image of every family: the configured one, else the official default.
pub(super) fn images(raw: &raw::RawImages, src: &Sources) -> Result<BTreeMap<Family, String>, ConfigError> {
    let mut images = BTreeMap::new();
    for family in Family::all() {
        let image = match raw.0.get(&family) {
            Some(v) if !is_image_reference(v.get_ref()) => {
                return Err(ConfigError::new("image", format!("`{}` is not an image reference", printable(v.get_ref())))
                    .at(src, &span_of(v), "not [registry/]name[:tag][@digest]")
                    .help("write a reference such as \"debian:bookworm-slim\" or \"registry.example:5000/base:1\" (names are lowercase)"));
            }
            Some(v) => v.get_ref().clone(),
            None => family.info().default_image.to_string(),
        };
        images.insert(family, image);
    }
    Ok(images)
}

/// An OCI image reference as the engines parse it (the grammar of distribution/reference):
/// `[host[:port]/]path[:tag][@algorithm:hex]`, the path lowercase. So nothing pookie passes as
/// an image can be taken for an option (`--privileged`).
pub fn is_image_reference(s: &str) -> bool {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        let component = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
        let host = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?";
        let tag = r"[\w][\w.-]{0,127}";
        let digest = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
        regex::Regex::new(&format!(r"^(?:({host})/)?({component}(?:/{component})*)(?::{tag})?(?:@{digest})?$"))
            .expect("valid regex")
    });
    let Some(c) = RE.captures(s) else { return false };
    // A first part without `.` or `:` (and not localhost) is a path component, not a host.
    c.get(1).is_none_or(|h| {
        let h = h.as_str();
        h.contains(['.', ':'])
            || h == "localhost"
            || h.chars().all(|x| x.is_ascii_lowercase() || x.is_ascii_digit() || "._-".contains(x))
    }) && s.len() <= 255 + 128 + 80
}

pub(super) fn engine(raw: Option<&Spanned<String>>, src: &Sources) -> Result<Option<EngineKind>, ConfigError> {
    raw.map(|e| choose(e.get_ref(), &span_of(e), src)).transpose()
}

/// Certificate authorities for image builds and jobs. `--ca-bundle` and `$SSL_CERT_FILE` are
/// the user's and may name any file; a project's `ca-bundle` names a file of the project (it is
/// copied into every image, where the project's code can read it).
fn ca_bundle(
    raw: Option<&Spanned<String>>,
    cli: &CliOverrides,
    workspace: &Path,
    src: &Sources,
) -> Result<Option<CaBundle>, ConfigError> {
    let bundle = |path: PathBuf, bytes: &[u8]| CaBundle { path, sha256: hex::encode(sha2::Sha256::digest(bytes)) };
    let not_pem = "point it at a PEM file of certificate authorities (`-----BEGIN CERTIFICATE-----`)";
    if let Some(path) = &cli.ca_bundle {
        let shown = path.display().to_string();
        let origin = src.flag("--ca-bundle", &shown);
        let bytes = std::fs::read(path).map_err(|e| {
            ConfigError::new("ca_bundle", format!("cannot read CA bundle `{shown}`: {e}")).at(src, &origin, "here")
        })?;
        if !paths::is_pem_certificates(&bytes) {
            return Err(ConfigError::new("ca_bundle", format!("`{shown}` holds no PEM certificate"))
                .at(src, &origin, "not a CA bundle")
                .help(not_pem));
        }
        return Ok(Some(bundle(path.clone(), &bytes)));
    }
    if let Some(c) = raw {
        let origin = span_of(c);
        let refuse = |why: String, help: &str| {
            ConfigError::new("ca_bundle", format!("`{}` cannot be the CA bundle", printable(c.get_ref())))
                .at(src, &origin, why)
                .help(help.to_string())
        };
        let outside = "a project's `ca-bundle` is a file of the project; a CA bundle elsewhere on this machine is the user's to give: `--ca-bundle FILE` or $SSL_CERT_FILE";
        let (_, path) = paths::inside(workspace, c.get_ref()).map_err(|r| refuse(r.to_string(), outside))?;
        if !crate::workspace::is_regular_file(&path) {
            return Err(refuse("no such file in the project".into(), outside));
        }
        let bytes = std::fs::read(&path).map_err(|e| refuse(format!("cannot read it: {e}"), not_pem))?;
        if !paths::is_pem_certificates(&bytes) {
            return Err(refuse("holds no PEM certificate".into(), not_pem));
        }
        return Ok(Some(bundle(path, &bytes)));
    }
    // The host's bundle is a convenience: one that is unreadable or not PEM is simply not used.
    Ok(std::env::var_os(EnvVars::SSL_CERT_FILE).map(PathBuf::from).and_then(|path| {
        let bytes = std::fs::read(&path).ok()?;
        paths::is_pem_certificates(&bytes).then(|| bundle(path, &bytes))
    }))
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

/// Linux refuses a single argument or environment string over 128 KiB (MAX_ARG_STRLEN), and
/// no C string holds a NUL: such a value would only fail once its job starts.
fn check_env_value(name: &str, value: &str, origin: &Origin, src: &Sources) -> Result<(), ConfigError> {
    const MAX_ARG_STRLEN: usize = 128 * 1024;
    if value.contains('\0') {
        return Err(ConfigError::new("env", format!("the value of `{name}` contains a NUL character"))
            .at(src, origin, "NUL")
            .help("environment variables cannot hold NUL characters"));
    }
    if name.len() + 1 + value.len() >= MAX_ARG_STRLEN {
        return Err(ConfigError::new("env", format!("the value of `{name}` is {} bytes long", value.len()))
            .at(src, origin, "over 128 KiB")
            .help("Linux refuses environment strings of 128 KiB or more: put the data in a file of the project"));
    }
    Ok(())
}

/// `600`, `"90s"`, `"30m"`, `"1h30m"`; zero is not a timeout.
/// Seconds.
fn parse_timeout(t: &RawTimeout) -> Option<u64> {
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
    Some(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references() {
        for ok in [
            "debian:bookworm-slim",
            "arm64v8/debian:bookworm-slim",
            "quay.io/pypa/manylinux2014_x86_64",
            "localhost:5000/base:1",
            "debian-pythons:sid",
            "registry.example/a/b_c__d:v1.2-rc",
            "alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(is_image_reference(ok), "{ok}");
        }
        for bad in
            ["--help", "--privileged", "UPPER/Case:@@bad", "", " debian", "debian:", "a b", "Debian", "x/../y", "-x/y"]
        {
            assert!(!is_image_reference(bad), "{bad}");
        }
    }

    #[test]
    fn timeouts() {
        let t = |s: &str| parse_timeout(&RawTimeout::Text(s.into()));
        assert_eq!(t("90s"), Some(90));
        assert_eq!(t("30m"), Some(1800));
        assert_eq!(t("1h30m"), Some(5400));
        assert_eq!(t("45"), Some(45));
        assert_eq!(t("soon"), None);
        assert_eq!(t("0s"), Some(0));
        assert_eq!(parse_timeout(&RawTimeout::Seconds(-5)), None);
    }
}
