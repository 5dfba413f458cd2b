//! CPython: versions users ask for, the python-build-standalone index that says which exist for
//! each target, and fetching it.

pub mod download;
pub mod fetch;
pub mod index;
pub mod version;

pub use index::{Archive, Availability, PythonIndex};
pub use version::{FullVersion, PythonVersion};

use crate::config::{PythonSource, Settings};
use fetch::{FetchError, FetchOptions};

/// The index the settings need: none with `source = "image"`; with python-build-standalone, the
/// fetched (or cached) index. When it cannot be had but versions were named and `warn` is
/// given, planning goes on without it (`warn` is told why) and the cells stay unresolved.
pub fn index_for(settings: &Settings, warn: Option<&dyn Fn(&str)>) -> Result<Option<PythonIndex>, FetchError> {
    let PythonSource::Pbs(source) = &settings.python.source else {
        return Ok(None);
    };
    let token = std::env::var("GITHUB_TOKEN").ok().filter(|t| !t.is_empty());
    let cache_dir = crate::cache::dir();
    let opts =
        FetchOptions { source, offline: settings.offline, cache_dir: &cache_dir, github_token: token.as_deref() };
    match fetch::load_index(&opts) {
        Ok(index) => Ok(Some(index)),
        Err(e) if settings.python.versions.is_some() && warn.is_some() => {
            if let Some(warn) = warn {
                warn(&format!("{e}; planning without the python-build-standalone index"));
            }
            Ok(None)
        }
        Err(e) => Err(e),
    }
}
