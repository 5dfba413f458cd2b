//! The front of every command that plans, in pipeline order: read the configuration
//! (`config`), load the python-build-standalone index (`python`), resolve the build matrix and
//! plan (`plan`). `plan`, `run`, `images` and `doctor` share it; each says only how it takes an
//! index that cannot be had.

use super::{Failure, ProjectArgs};
use crate::config::{self, PythonSource, Settings};
use crate::env_vars::EnvVars;
use crate::matrix;
use crate::plan::{self, Plan};
use crate::python::PythonIndex;
use crate::python::fetch::{self, FetchError, FetchOptions};

/// How a command takes a python-build-standalone index that cannot be had.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum WithoutIndex {
    /// It stops the command (`run`, `images`: nothing can be built without it).
    Fails,
    /// Planning goes on where the configuration names the versions (their cells stay
    /// unresolved, and [`Planned::index_error`] says why); otherwise it stops the command.
    PlansUnresolved,
}

pub(super) struct Planned {
    pub settings: Settings,
    /// Why the index could not be had, when the plan was made without it.
    pub index_error: Option<FetchError>,
    pub plan: Plan,
}

/// The settings' python-build-standalone index (fetched, or cached): none with
/// `source = "image"`.
pub(super) fn python_index(settings: &Settings) -> Result<Option<PythonIndex>, FetchError> {
    let PythonSource::Pbs(source) = &settings.python.source.value else {
        return Ok(None);
    };
    let token = std::env::var(EnvVars::GITHUB_TOKEN).ok().filter(|t| !t.is_empty());
    let cache_dir = crate::cache::dir();
    let opts =
        FetchOptions { source, offline: settings.offline, cache_dir: &cache_dir, github_token: token.as_deref() };
    fetch::load_index(&opts).map(Some)
}

/// Configuration, index, matrix and plan of the project.
pub(super) fn plan(project: &ProjectArgs, args: &[String], without: WithoutIndex) -> Result<Planned, Failure> {
    let settings = config::load(&project.overrides(), args)?;
    let (index, index_error) = match python_index(&settings) {
        Ok(index) => (index, None),
        Err(e) if without == WithoutIndex::PlansUnresolved && settings.python.versions.is_some() => (None, Some(e)),
        Err(e) => return Err(e.into()),
    };
    let matrix = matrix::resolve(&settings, index.as_ref())?;
    let mut plan = plan::plan(&settings, &matrix, index.as_ref().map(|i| i.release.as_str()));
    if let Some(shard) = settings.shard {
        plan = plan::shard::select(plan, shard);
    }
    Ok(Planned { settings, index_error, plan })
}
