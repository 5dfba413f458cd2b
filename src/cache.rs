//! pookie's cache directory: `$POOKIE_CACHE_DIR`, else `$XDG_CACHE_HOME/pookie`, else
//! `~/.cache/pookie`.

use crate::env_vars::EnvVars;
use std::path::{Path, PathBuf};

/// The buckets of the cache directory, each one kind of thing under its own folder: the one list
/// `pookie clean --caches` removes and everything else names its folder by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bucket {
    /// python-build-standalone archives, verified, one folder per sha256.
    PythonArchives,
    /// Indexes of python-build-standalone releases (and mirrors), by source.
    PythonIndex,
    /// Results of finished jobs, by their inputs' hash (executor/cache.rs).
    Jobs,
    /// pip's caches of the jobs, one per target and Python (mounted into them).
    Pip,
    /// ccache's, one per family and compiler (mounted into gcc and clang builds).
    Ccache,
    /// zig's global caches, one per zig version and build machine architecture (mounted into zig
    /// builds): each target's libc stubs, start files, compiler-rt and, for C++, libc++, built
    /// on first use and shared by every later job and run.
    Zig,
    /// Which image layers this machine pushed to (or found in) a cache registry, one folder per
    /// registry, so that each is pushed once rather than on every run.
    Registry,
}

impl Bucket {
    pub const ALL: [Bucket; 7] = [
        Bucket::PythonArchives,
        Bucket::PythonIndex,
        Bucket::Jobs,
        Bucket::Pip,
        Bucket::Ccache,
        Bucket::Zig,
        Bucket::Registry,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Bucket::PythonArchives => "python",
            Bucket::PythonIndex => "python-index",
            Bucket::Jobs => "jobs",
            Bucket::Pip => "pip",
            Bucket::Ccache => "ccache",
            Bucket::Zig => "zig",
            Bucket::Registry => "registry",
        }
    }

    /// The bucket's folder in the cache directory `cache_dir`.
    pub fn in_dir(self, cache_dir: &Path) -> PathBuf {
        cache_dir.join(self.name())
    }
}

pub fn dir() -> PathBuf {
    if let Some(d) = std::env::var_os(EnvVars::POOKIE_CACHE_DIR).filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os(EnvVars::XDG_CACHE_HOME).filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("pookie");
    }
    let home = std::env::var_os(EnvVars::HOME).map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    home.join(".cache").join("pookie")
}
