//! The build matrix: targets × Python versions, filtered by `skip`/`only`, with each cell's
//! interpreter resolved (an archive of the index, a path in the image, or unresolved when the
//! index could not be had).

use crate::build_id::BuildId;
use crate::config::{ConfigError, DEFAULT_PYTHON_COUNT, Origin, PythonSource, Settings, WithOrigin};
use crate::python::{Archive, Availability, PythonIndex, PythonVersion};
use crate::target::{BuildHow, Os, Target, TestRunner};
use serde::Serialize;

/// How a cell gets its interpreter(s).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Interpreter {
    /// python-build-standalone: the target's archive, plus an x86_64 one of the same version
    /// when cross-compiling (it runs pip while the target's supplies headers and sysconfig), or
    /// when an emulated build's tests run under QEMU and the index has one (pip installs their
    /// wheel natively with it).
    Archive { target: Box<Archive>, host: Option<Box<Archive>> },
    /// Already in the base image at `path`.
    Image { path: String },
    /// The index was not available; `pookie run` will need it.
    Unresolved,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub id: BuildId,
    pub interpreter: Interpreter,
}

/// The cells to build, and what the selectors say that had no effect.
#[derive(Clone, Debug, Default)]
pub struct Matrix {
    pub cells: Vec<Cell>,
    /// Selectors that select nothing: a `skip` pattern matching no identifier (a target's tag
    /// alone, `win_amd64`, is no identifier), an override whose `select` matches no build.
    pub warnings: Vec<String>,
}

const HOST_TRIPLE: &str = "x86_64-unknown-linux-gnu";

/// Resolves the matrix. `index` is None when the python-build-standalone index is not needed
/// (source = "image") or could not be had (then cells are [`Interpreter::Unresolved`]).
pub fn resolve(settings: &Settings, index: Option<&PythonIndex>) -> Result<Matrix, ConfigError> {
    let src = &settings.sources;
    let py = &settings.python;
    if let (Some(WithOrigin { value: release, origin }), Some(index)) = (&py.release, index)
        && index.release != *release
    {
        return Err(ConfigError::new(
            "release",
            format!("the python-build-standalone index is of release {}, not {release}", index.release),
        )
        .at(src, origin, "pinned here")
        .help(format!(
            "point `[python] mirror` at a copy of release {release}, or set `release = \"{}\"`",
            index.release
        )));
    }
    let versions: Vec<PythonVersion> = match (&py.versions.value, index) {
        (Some(v), _) => v.iter().map(|v| v.value).collect(),
        (None, Some(index)) => default_versions(settings, index)?,
        (None, None) => {
            return Err(ConfigError::new(
                "python",
                "cannot choose Python versions without the python-build-standalone index",
            )
            .help(
                "name the versions (`python = [\"3.12\", \"3.13\"]` or --python-version) or make the index reachable",
            ));
        }
    };

    let mut cells = Vec::new();
    for &target in &settings.targets {
        for &version in &versions {
            let id = BuildId { target, python: version };
            if !selected(settings, &id) {
                continue;
            }
            let interpreter = match (&py.source.value, index) {
                (PythonSource::Image { .. }, _) if target.info().os != Os::Linux => {
                    return Err(image_has_no(settings, target));
                }
                (PythonSource::Image { path }, _) => Interpreter::Image {
                    path: path
                        .replace("{major}", &version.major.to_string())
                        .replace("{minor}", &version.minor.to_string())
                        .replace("{t}", version.abiflags()),
                },
                (PythonSource::Pbs(_), None) => Interpreter::Unresolved,
                (PythonSource::Pbs(_), Some(index)) => {
                    let archive = |triple: &str| -> Result<Box<Archive>, ConfigError> {
                        match index.lookup(triple, version, py.prereleases) {
                            Availability::Available(a) => Ok(Box::new(a.clone())),
                            other => Err(unavailable(settings, index, target, version, triple, other)),
                        }
                    };
                    let own = archive(target.info().pbs_triple)?;
                    let host = match target.build_how(settings.mode) {
                        BuildHow::Cross { .. } => Some(archive(HOST_TRIPLE)?),
                        BuildHow::Emulated if target.info().test == TestRunner::Qemu => {
                            match index.lookup(HOST_TRIPLE, version, py.prereleases) {
                                Availability::Available(a) => Some(Box::new(a.clone())),
                                _ => None,
                            }
                        }
                        _ => None,
                    };
                    Interpreter::Archive { target: own, host }
                }
            };
            cells.push(Cell { id, interpreter });
        }
    }
    if cells.is_empty() {
        let (origin, what) = match (&settings.only, &settings.skip) {
            (Some(only), _) => (only.origin.clone(), "`only` matches no build"),
            (None, Some(skip)) => (skip.origin.clone(), "`skip` leaves no build"),
            _ => (py.versions.origin.clone(), "no builds"),
        };
        let ids: Vec<String> = settings
            .targets
            .iter()
            .flat_map(|t| versions.iter().map(move |v| BuildId { target: *t, python: *v }.to_string()))
            .take(6)
            .collect();
        return Err(ConfigError::new("empty_matrix", "the selectors leave nothing to build")
            .at(src, &origin, what)
            .help(format!(
                "identifiers look like {}; `pookie plan` without selectors lists them all",
                ids.join(", ")
            )));
    }
    let all: Vec<BuildId> = settings
        .targets
        .iter()
        .flat_map(|t| versions.iter().map(move |v| BuildId { target: *t, python: *v }))
        .collect();
    let useless = useless_selectors(settings, &all, &cells);
    if settings.strict
        && let Some((message, origin, label)) = useless.first()
    {
        return Err(ConfigError::new("useless_selector", message.clone())
            .at(src, origin, *label)
            .help("remove it or correct it; without --strict this is a warning"));
    }
    Ok(Matrix { cells, warnings: useless.into_iter().map(|(m, _, _)| m).collect() })
}

/// Selectors that select nothing, said in plain words (`--strict` is for later; today they
/// warn in `plan` and `run`).
fn useless_selectors(settings: &Settings, all: &[BuildId], cells: &[Cell]) -> Vec<(String, Origin, &'static str)> {
    let example = all.first().map(|id| id.to_string()).unwrap_or_default();
    let mut out = Vec::new();
    // A skip pattern of versions or targets this run does not build is common and harmless
    // (configurations are shared); one that no identifier of any version could match is a
    // mistake.
    let any_id: Vec<String> = crate::target::Target::all()
        .flat_map(|t| {
            (6..=15).flat_map(move |minor| {
                [PythonVersion::new(minor), PythonVersion::free_threaded(minor)]
                    .map(|python| BuildId { target: t, python }.to_string())
            })
        })
        .chain(all.iter().map(|id| id.to_string()))
        .collect();
    if let Some(WithOrigin { value: patterns, origin }) = &settings.skip {
        for g in &patterns.0 {
            if !any_id.iter().any(|id| g.matches(id)) {
                let hint = if crate::target::Target::from_tag(g.text.as_str()).is_some() {
                    format!(": it names a target, and identifiers are PYTHON-TARGET (`*-{}`)", g.text.as_str())
                } else {
                    format!(" (identifiers look like {example})")
                };
                let message = format!("`skip` pattern `{}` matches no build identifier{hint}", g.text.as_str());
                out.push((message, origin.clone(), "matches nothing"));
            }
        }
    }
    for (i, o) in settings.overrides.iter().enumerate() {
        if o.select.0.is_empty() || !cells.iter().any(|c| o.select.matches(&c.id)) {
            let patterns: Vec<&str> = o.select.0.iter().map(|g| g.text.as_str()).collect();
            let message = format!(
                "[[overrides]] #{} (select = {:?}) matches no build of this run, so it changes nothing (identifiers look like {example})",
                i + 1,
                patterns
            );
            out.push((message, o.select.origin.clone(), "matches no build"));
        }
    }
    out
}

/// Windows and macOS wheels build against the target CPython's headers (and import library, or
/// sysconfig data) from its python-build-standalone archive: no Linux base image holds those.
fn image_has_no(settings: &Settings, target: Target) -> ConfigError {
    let origin = match settings.python.source.origin {
        Origin::Default => &settings.targets.origin,
        ref o => o,
    };
    ConfigError::new(
        "python_source",
        format!("{target} needs its CPython from python-build-standalone archives, not `source = \"image\"`"),
    )
    .at(&settings.sources, origin, "Windows and macOS CPythons are in no Linux image")
    .help(format!(
        "use `source = \"pbs\"` (`mirror` may name a local copy of a release), or leave the target out: `skip = \"*-{target}\"`"
    ))
}

fn selected(settings: &Settings, id: &BuildId) -> bool {
    let skipped = settings.skip.as_ref().is_some_and(|p| p.matches(id));
    let only = settings.only.as_ref().is_none_or(|p| p.matches(id));
    !skipped && only
}

/// The last [`DEFAULT_PYTHON_COUNT`] minors that every chosen target has, with the GIL: a
/// free-threaded wheel is the maintainer's promise that the module is thread-safe without it
/// (or it re-enables the GIL at import), so those builds are asked for by name (`"3.14t"`).
fn default_versions(settings: &Settings, index: &PythonIndex) -> Result<Vec<PythonVersion>, ConfigError> {
    let prereleases = settings.python.prereleases;
    let mut common: Option<Vec<PythonVersion>> = None;
    for t in &settings.targets {
        let mut minors = index.minors(t.info().pbs_triple, prereleases);
        minors.retain(|m| !m.free_threaded);
        if let BuildHow::Cross { .. } = t.build_how(settings.mode) {
            let host = index.minors(HOST_TRIPLE, prereleases);
            minors.retain(|m| host.contains(m));
        }
        common = Some(match common {
            None => minors,
            Some(c) => c.into_iter().filter(|m| minors.contains(m)).collect(),
        });
    }
    let common = common.unwrap_or_default();
    if common.is_empty() {
        return Err(ConfigError::new(
            "python",
            format!("python-build-standalone {} has no CPython version that all chosen targets share", index.release),
        )
        .at(&settings.sources, &settings.targets.origin, "these targets")
        .help("choose fewer targets, or name versions per run with --python-version"));
    }
    Ok(common[common.len().saturating_sub(DEFAULT_PYTHON_COUNT)..].to_vec())
}

fn unavailable(
    settings: &Settings,
    index: &PythonIndex,
    target: Target,
    version: PythonVersion,
    triple: &str,
    why: Availability,
) -> ConfigError {
    let origin = settings
        .python
        .versions
        .as_ref()
        .and_then(|v| v.iter().find(|v| v.value == version))
        .map_or(&settings.python.versions.origin, |v| &v.origin)
        .clone();
    let available: Vec<String> =
        index.minors(triple, settings.python.prereleases).iter().map(|v| v.to_string()).collect();
    let (message, help) = match why {
        Availability::OnlyPrerelease(a) => (
            format!("CPython {version} exists only as the pre-release {} for {target}", a.version),
            "set `prereleases = true` under [python] to build with it".to_string(),
        ),
        _ => (
            format!(
                "CPython {version} is not available for {target} in python-build-standalone {} ({triple})",
                index.release
            ),
            format!(
                "available there: {}; or skip this cell with `skip = \"{}-{}\"`",
                available.join(", "),
                version.cp_tag(),
                target
            ),
        ),
    };
    ConfigError::new("unavailable_version", message).at(&settings.sources, &origin, "requested here").help(help)
}
