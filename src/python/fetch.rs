//! Fetching the python-build-standalone index: from GitHub (the default), or from a mirror URL
//! or directory laid out like one release (its `SHA256SUMS` beside the archives). Resolved
//! indexes are cached in the user cache directory for a day; `--offline` reads only the cache.

use super::index::{ParseError, PythonIndex};
use crate::cache::Bucket;
use miette::Diagnostic;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const GITHUB_LATEST_API: &str = "https://api.github.com/repos/astral-sh/python-build-standalone/releases/latest";
pub const GITHUB_DOWNLOADS: &str = "https://github.com/astral-sh/python-build-standalone/releases/download";
/// How long a fetched index is trusted before pookie asks again.
pub const INDEX_TTL: Duration = Duration::from_secs(24 * 3600);

/// Where the index (and later the archives) come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// python-build-standalone on GitHub: the `latest` release, or a pinned one.
    GitHub { release: Option<String> },
    /// A URL or directory holding one release's `SHA256SUMS` and archives.
    Mirror(Location),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Url(String),
    Dir(PathBuf),
}

impl Location {
    /// `file://` URLs and paths are directories; anything with a scheme is a URL.
    pub fn parse(s: &str, relative_to: &Path) -> Location {
        if let Some(p) = s.strip_prefix("file://") {
            Location::Dir(relative_to.join(p))
        } else if s.contains("://") {
            Location::Url(s.trim_end_matches('/').to_string())
        } else {
            Location::Dir(relative_to.join(s))
        }
    }

    pub fn display(&self) -> String {
        match self {
            Location::Url(u) => u.clone(),
            Location::Dir(d) => format!("file://{}", d.display()),
        }
    }
}

pub struct FetchOptions<'a> {
    pub source: &'a Source,
    pub offline: bool,
    pub cache_dir: &'a Path,
    pub github_token: Option<&'a str>,
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum FetchError {
    #[error("could not reach {url}: {reason}")]
    #[diagnostic(
        code(pookie::python::network),
        help(
            "check the network, set `[python] mirror` to a reachable copy of the release, or pass --offline to use the cached index"
        )
    )]
    Network { url: String, reason: String },
    #[error("{url} answered HTTP {status}: rate limited")]
    #[diagnostic(
        code(pookie::python::rate_limited),
        help(
            "set GITHUB_TOKEN to a GitHub token (pookie sends it to github.com), use `[python] mirror`, or pass --offline to use the cached index"
        )
    )]
    RateLimited { url: String, status: u16 },
    #[error("{url} answered HTTP {status}")]
    #[diagnostic(code(pookie::python::http), help("{hint}"))]
    Http { url: String, status: u16, hint: String },
    #[error("cannot read {path}: {reason}")]
    #[diagnostic(
        code(pookie::python::mirror),
        help("a mirror directory holds a release's SHA256SUMS next to its archives")
    )]
    Read { path: String, reason: String },
    #[error("no cached python-build-standalone index for {source_name}")]
    #[diagnostic(
        code(pookie::python::offline),
        help("run once without --offline to fill the cache, or set `[python] mirror` to a local directory")
    )]
    NoCache { source_name: String },
    #[error("the release's SHA256SUMS from {url} is unusable: {error}")]
    #[diagnostic(code(pookie::python::sums))]
    Parse { url: String, error: ParseError },
    #[error("GitHub's release answer from {url} has no tag_name")]
    #[diagnostic(code(pookie::python::github))]
    NoTag { url: String },
}

#[derive(Serialize, Deserialize)]
struct CacheEntry {
    fetched_at: u64,
    source: String,
    index: PythonIndex,
}

fn source_key(source: &Source) -> String {
    match source {
        Source::GitHub { release } => format!("github:{}", release.as_deref().unwrap_or("latest")),
        Source::Mirror(loc) => format!("mirror:{}", loc.display()),
    }
}

fn cache_path(cache_dir: &Path, key: &str) -> PathBuf {
    let digest = hex::encode(Sha256::digest(key.as_bytes()));
    Bucket::PythonIndex.in_dir(cache_dir).join(format!("{}.json", &digest[..16]))
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Returns the index of the configured source: from a mirror directory directly, else from the
/// cache while fresh (or whenever `offline`), else from the network (and refreshes the cache).
pub fn load_index(opts: &FetchOptions) -> Result<PythonIndex, FetchError> {
    if let Source::Mirror(Location::Dir(dir)) = opts.source {
        let path = dir.join("SHA256SUMS");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| FetchError::Read { path: path.display().to_string(), reason: e.to_string() })?;
        let base = format!("file://{}", dir.display());
        return PythonIndex::from_sha256sums(&text, &base).map_err(|error| FetchError::Parse { url: base, error });
    }
    let key = source_key(opts.source);
    let path = cache_path(opts.cache_dir, &key);
    let cached: Option<CacheEntry> = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice::<CacheEntry>(&b).ok())
        .filter(|e| e.source == key);
    if let Some(entry) = cached
        && (opts.offline || now().saturating_sub(entry.fetched_at) < INDEX_TTL.as_secs())
    {
        return Ok(entry.index);
    }
    if opts.offline {
        return Err(FetchError::NoCache { source_name: key });
    }
    let index = fetch(opts)?;
    let entry = CacheEntry { fetched_at: now(), source: key, index };
    // The cache is an optimisation: failing to write it must not fail the command.
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
        let tmp = path.with_extension("json.tmp");
        if std::fs::write(&tmp, serde_json::to_vec(&entry).unwrap_or_default()).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
    }
    Ok(entry.index)
}

pub fn http_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .user_agent(concat!("pookie/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(15))
        .timeout(Duration::from_secs(600))
        .build()
        .expect("HTTP client builds")
}

/// Only github.com hosts receive the token: never hand it to a mirror.
fn is_github(url: &str) -> bool {
    let host = url.split("://").nth(1).unwrap_or("").split(['/', ':']).next().unwrap_or("");
    host == "github.com" || host == "api.github.com"
}

pub fn get(
    client: &reqwest::blocking::Client,
    url: &str,
    token: Option<&str>,
) -> Result<reqwest::blocking::Response, FetchError> {
    let mut req = client.get(url);
    if let (Some(token), true) = (token, is_github(url)) {
        req = req.bearer_auth(token);
    }
    let resp = req.send().map_err(|e| FetchError::Network { url: url.to_string(), reason: error_chain(&e) })?;
    let status = resp.status().as_u16();
    let limited = status == 429
        || (status == 403 && resp.headers().get("x-ratelimit-remaining").is_some_and(|v| v == "0"))
        || (status == 403 && is_github(url));
    match status {
        200..=299 => Ok(resp),
        _ if limited => Err(FetchError::RateLimited { url: url.to_string(), status }),
        404 => Err(FetchError::Http {
            url: url.to_string(),
            status,
            hint: "the file is not there: check `[python] mirror` (it must hold SHA256SUMS and the archives) or `[python] release`".into(),
        }),
        _ => Err(FetchError::Http {
            url: url.to_string(),
            status,
            hint: "retry later, or set `[python] mirror` to a reachable copy of the release".into(),
        }),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

fn fetch(opts: &FetchOptions) -> Result<PythonIndex, FetchError> {
    let client = http_client();
    let base = match opts.source {
        Source::Mirror(Location::Url(u)) => u.clone(),
        Source::Mirror(Location::Dir(_)) => unreachable!("directories are read without a cache"),
        Source::GitHub { release: Some(tag) } => format!("{GITHUB_DOWNLOADS}/{tag}"),
        Source::GitHub { release: None } => {
            let resp = get(&client, GITHUB_LATEST_API, opts.github_token)?;
            let body = resp
                .text()
                .map_err(|e| FetchError::Network { url: GITHUB_LATEST_API.into(), reason: error_chain(&e) })?;
            let v: serde_json::Value =
                serde_json::from_str(&body).map_err(|_| FetchError::NoTag { url: GITHUB_LATEST_API.into() })?;
            let tag = v["tag_name"].as_str().ok_or(FetchError::NoTag { url: GITHUB_LATEST_API.into() })?;
            format!("{GITHUB_DOWNLOADS}/{tag}")
        }
    };
    let url = format!("{base}/SHA256SUMS");
    let text = get(&client, &url, opts.github_token)?
        .text()
        .map_err(|e| FetchError::Network { url: url.clone(), reason: error_chain(&e) })?;
    PythonIndex::from_sha256sums(&text, &base).map_err(|error| FetchError::Parse { url, error })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        let ws = Path::new("/ws");
        assert_eq!(Location::parse("https://m.example/pbs/", ws), Location::Url("https://m.example/pbs".into()));
        assert_eq!(Location::parse("file:///srv/pbs", ws), Location::Dir("/srv/pbs".into()));
        assert_eq!(Location::parse("mirror", ws), Location::Dir("/ws/mirror".into()));
    }

    #[test]
    fn token_goes_to_github_only() {
        assert!(is_github(GITHUB_LATEST_API));
        assert!(is_github("https://github.com/astral-sh/x"));
        assert!(!is_github("https://github.com.evil.example/x"));
        assert!(!is_github("http://127.0.0.1:8080/SHA256SUMS"));
    }
}
