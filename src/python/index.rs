//! Which CPython builds python-build-standalone offers: parsed from a release's `SHA256SUMS`,
//! keeping the `install_only` archives (stripped when available) of the default and the
//! free-threaded flavor.

use super::version::{FullVersion, PythonVersion};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// One downloadable CPython archive, with the checksum it must match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Archive {
    pub version: FullVersion,
    /// The free-threaded build (`…-freethreaded-install_only…`); indexes cached before it existed
    /// hold only default builds.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub free_threaded: bool,
    pub triple: String,
    pub filename: String,
    pub url: String,
    pub sha256: String,
}

impl Archive {
    /// The minor version the archive serves, free-threaded or not.
    pub fn python(&self) -> PythonVersion {
        PythonVersion { free_threaded: self.free_threaded, ..self.version.minor_version() }
    }

    /// The file of an archive in a mirror directory (`file://` URL). The index escapes `+` in
    /// URLs (`3.12.1%2B20260814`); the directory holds the plain name.
    pub fn local_path(&self) -> Option<std::path::PathBuf> {
        self.url.strip_prefix("file://").map(|p| std::path::PathBuf::from(p.replace("%2B", "+")))
    }
}

/// The CPython archives of one python-build-standalone release.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PythonIndex {
    /// Release tag, e.g. `20260814`.
    pub release: String,
    /// Where the archives are downloaded from (URL, or `file://` directory).
    pub base_url: String,
    /// Best archive per (triple, full version, flavor), sorted by triple, version, flavor.
    pub archives: Vec<Archive>,
}

/// What the index holds for one target triple and minor version.
#[derive(Debug, Clone, Copy)]
pub enum Availability<'a> {
    Available(&'a Archive),
    /// Only pre-releases exist and they were not asked for.
    OnlyPrerelease(&'a Archive),
    Missing,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("line {0} of SHA256SUMS is not `<sha256>  <file name>`")]
    BadLine(usize),
    #[error("SHA256SUMS lists no CPython install_only archive")]
    Empty,
    #[error("SHA256SUMS mixes releases {0} and {1}")]
    MixedReleases(String, String),
}

static ARCHIVE_NAME: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r"^cpython-(\d+)\.(\d+)\.(\d+)((?:a|b|rc)\d+)?\+(\d+)-([a-z0-9_]+-[a-z0-9_]+-[a-z0-9_]+(?:-[a-z0-9_]+)??)(-freethreaded)?-(install_only_stripped|install_only)\.tar\.gz$",
    )
    .expect("valid regex")
});

/// Flavors pookie does not build for (debug) end the triple part of a name in a flavor word.
fn is_other_flavor(triple: &str) -> bool {
    triple.ends_with("-debug") || triple.ends_with("-freethreaded")
}

impl PythonIndex {
    /// Parses a release's `SHA256SUMS`; `base_url` is where the listed files can be fetched.
    pub fn from_sha256sums(text: &str, base_url: &str) -> Result<Self, ParseError> {
        let base_url = base_url.trim_end_matches('/').to_string();
        // (triple, version, flavor) -> (stripped?, archive): prefer stripped archives, they are smaller.
        let mut best: BTreeMap<(String, FullVersion, bool), (bool, Archive)> = BTreeMap::new();
        let mut release: Option<String> = None;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let (sha, name) = line
                .split_once(char::is_whitespace)
                .map(|(a, b)| (a, b.trim_start().trim_start_matches('*')))
                .ok_or(ParseError::BadLine(n + 1))?;
            if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ParseError::BadLine(n + 1));
            }
            let Some(c) = ARCHIVE_NAME.captures(name) else { continue };
            let triple = c[6].to_string();
            if is_other_flavor(&triple) {
                continue;
            }
            let free_threaded = c.get(7).is_some();
            let tag = c[5].to_string();
            match &release {
                Some(r) if *r != tag => return Err(ParseError::MixedReleases(r.clone(), tag)),
                _ => release = Some(tag),
            }
            let version = FullVersion {
                major: c[1].parse().map_err(|_| ParseError::BadLine(n + 1))?,
                minor: c[2].parse().map_err(|_| ParseError::BadLine(n + 1))?,
                patch: c[3].parse().map_err(|_| ParseError::BadLine(n + 1))?,
                pre: c.get(4).map_or(String::new(), |m| m.as_str().to_string()),
            };
            let stripped = &c[8] == "install_only_stripped";
            let archive = Archive {
                version: version.clone(),
                free_threaded,
                triple: triple.clone(),
                filename: name.to_string(),
                url: format!("{base_url}/{}", name.replace('+', "%2B")),
                sha256: sha.to_ascii_lowercase(),
            };
            let slot = best.entry((triple, version, free_threaded)).or_insert((stripped, archive.clone()));
            if stripped && !slot.0 {
                *slot = (stripped, archive);
            }
        }
        let release = release.ok_or(ParseError::Empty)?;
        let mut archives: Vec<Archive> = best.into_values().map(|(_, a)| a).collect();
        archives.sort_by(|a, b| {
            (&a.triple, a.version.sort_key(), a.free_threaded).cmp(&(&b.triple, b.version.sort_key(), b.free_threaded))
        });
        Ok(PythonIndex { release, base_url, archives })
    }

    /// Newest archive of `minor` (of its flavor) for `triple`; pre-releases only when `prereleases`.
    pub fn lookup(&self, triple: &str, minor: PythonVersion, prereleases: bool) -> Availability<'_> {
        let mut of_minor = self.archives.iter().filter(|a| a.triple == triple && a.python() == minor);
        let newest_final = of_minor.clone().rfind(|a| !a.version.is_prerelease());
        let newest_any = of_minor.next_back();
        match (newest_final, newest_any) {
            (Some(a), _) if !prereleases => Availability::Available(a),
            (_, Some(a)) if prereleases => Availability::Available(a),
            (None, Some(a)) => Availability::OnlyPrerelease(a),
            _ => Availability::Missing,
        }
    }

    /// Minor versions available for `triple`, oldest first, free-threaded builds after their
    /// minor's default one.
    pub fn minors(&self, triple: &str, prereleases: bool) -> Vec<PythonVersion> {
        let mut v: Vec<PythonVersion> = self
            .archives
            .iter()
            .filter(|a| a.triple == triple && (prereleases || !a.version.is_prerelease()))
            .map(Archive::python)
            .collect();
        v.sort();
        v.dedup();
        v
    }

    pub fn triples(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.archives.iter().map(|a| a.triple.as_str()).collect();
        v.dedup();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUMS: &str = "\
1111111111111111111111111111111111111111111111111111111111111111  cpython-3.12.11+20260814-x86_64-unknown-linux-gnu-install_only.tar.gz
2222222222222222222222222222222222222222222222222222222222222222  cpython-3.12.11+20260814-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz
3333333333333333333333333333333333333333333333333333333333333333  cpython-3.12.11+20260814-x86_64-unknown-linux-gnu-freethreaded-install_only_stripped.tar.gz
4444444444444444444444444444444444444444444444444444444444444444  cpython-3.15.0rc1+20260814-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz
5555555555555555555555555555555555555555555555555555555555555555  cpython-3.12.11+20260814-x86_64-unknown-linux-gnu-debug-full.tar.zst
6666666666666666666666666666666666666666666666666666666666666666  cpython-3.11.9+20260814-armv7-unknown-linux-gnueabihf-install_only_stripped.tar.gz
7777777777777777777777777777777777777777777777777777777777777777  cpython-3.13.2+20260814-aarch64-apple-darwin-freethreaded-install_only_stripped.tar.gz
";

    #[test]
    fn keeps_default_and_free_threaded_flavors_and_prefers_stripped() {
        let idx = PythonIndex::from_sha256sums(SUMS, "https://example.org/rel/").unwrap();
        assert_eq!(idx.release, "20260814");
        assert_eq!(idx.archives.len(), 5);
        // A three-part triple is not taken for a four-part one ending in the flavor.
        assert!(idx.archives.iter().any(|a| a.triple == "aarch64-apple-darwin" && a.free_threaded));
        let Availability::Available(ft) =
            idx.lookup("x86_64-unknown-linux-gnu", PythonVersion::free_threaded(12), false)
        else {
            panic!("3.12t missing")
        };
        assert_eq!((ft.sha256.as_str(), ft.free_threaded), ("3".repeat(64).as_str(), true));
        let Availability::Available(a) = idx.lookup("x86_64-unknown-linux-gnu", PythonVersion::new(12), false) else {
            panic!("3.12 missing")
        };
        assert_eq!(a.sha256, "2".repeat(64));
        assert_eq!(
            a.url,
            "https://example.org/rel/cpython-3.12.11%2B20260814-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz"
        );
        assert_eq!(
            idx.triples(),
            ["aarch64-apple-darwin", "armv7-unknown-linux-gnueabihf", "x86_64-unknown-linux-gnu"]
        );
    }

    #[test]
    fn prereleases_only_when_asked() {
        let idx = PythonIndex::from_sha256sums(SUMS, "x").unwrap();
        let t = "x86_64-unknown-linux-gnu";
        assert!(matches!(idx.lookup(t, PythonVersion::new(15), false), Availability::OnlyPrerelease(_)));
        assert!(matches!(idx.lookup(t, PythonVersion::new(15), true), Availability::Available(_)));
        assert!(matches!(idx.lookup(t, PythonVersion::new(9), true), Availability::Missing));
        assert_eq!(idx.minors(t, false), [PythonVersion::new(12), PythonVersion::free_threaded(12)]);
        assert_eq!(
            idx.minors(t, true),
            [PythonVersion::new(12), PythonVersion::free_threaded(12), PythonVersion::new(15)]
        );
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(PythonIndex::from_sha256sums("nonsense\n", "x"), Err(ParseError::BadLine(1)));
        assert_eq!(PythonIndex::from_sha256sums("", "x"), Err(ParseError::Empty));
    }
}
