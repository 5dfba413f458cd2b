//! Downloading python-build-standalone archives on the host: cached in the user cache
//! directory by sha256, and verified before every use. A file that does not match its recorded
//! sha256 is deleted and never used.

use super::Archive;
use super::fetch::{self, FetchError};
use crate::cache::Bucket;
use crate::env_vars::EnvVars;
use miette::Diagnostic;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum DownloadError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Fetch(#[from] FetchError),
    #[error("{file} does not match its published sha256 (expected {expected}, got {actual}); the file was discarded")]
    #[diagnostic(
        code(pookie::python::checksum),
        help("the download was corrupted or the mirror serves a different file: retry, or fix the mirror")
    )]
    Checksum { file: String, expected: String, actual: String },
    #[error("{file} is not in the download cache and --offline forbids fetching it")]
    #[diagnostic(
        code(pookie::python::offline),
        help("run once without --offline, or use a local `[python] mirror` directory")
    )]
    Offline { file: String },
    #[error("cannot write {path}: {reason}")]
    #[diagnostic(code(pookie::python::cache))]
    Io { path: String, reason: String },
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> DownloadError + '_ {
    move |e| DownloadError::Io { path: path.display().to_string(), reason: e.to_string() }
}

/// Returns the path of a verified copy of `archive` in `cache_dir`, downloading it if needed.
pub fn fetch_archive(archive: &Archive, cache_dir: &Path, offline: bool) -> Result<PathBuf, DownloadError> {
    let dir = Bucket::PythonArchives.in_dir(cache_dir).join(&archive.sha256);
    let path = dir.join(&archive.filename);
    if path.is_file() {
        let actual = crate::digest::sha256_file(&path).map_err(io_err(&path))?;
        if actual == archive.sha256 {
            return Ok(path);
        }
        // A cached file that no longer matches (a damaged disk, a killed copy from an older
        // pookie) is never used: it is fetched again, and verified like any download.
        std::fs::remove_file(&path).map_err(io_err(&path))?;
    }
    let local = archive.local_path();
    if offline && local.is_none() {
        return Err(DownloadError::Offline { file: archive.filename.clone() });
    }
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let partial = dir.join(format!("{}.partial", archive.filename));
    let result = download(archive, local.as_deref(), &partial);
    let actual = match result {
        Ok(sha) => sha,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    if actual != archive.sha256 {
        let _ = std::fs::remove_file(&partial);
        return Err(DownloadError::Checksum {
            file: archive.filename.clone(),
            expected: archive.sha256.clone(),
            actual,
        });
    }
    std::fs::rename(&partial, &path).map_err(io_err(&path))?;
    Ok(path)
}

/// Writes the archive to `dest`, returning the sha256 of what was written.
fn download(archive: &Archive, local: Option<&Path>, dest: &Path) -> Result<String, DownloadError> {
    let mut out = std::fs::File::create(dest).map_err(io_err(dest))?;
    let mut h = Sha256::new();
    let mut reader: Box<dyn Read> = match local {
        Some(p) => Box::new(
            std::fs::File::open(p)
                .map_err(|e| FetchError::Read { path: p.display().to_string(), reason: e.to_string() })?,
        ),
        None => {
            let token = std::env::var(EnvVars::GITHUB_TOKEN).ok().filter(|t| !t.is_empty());
            Box::new(fetch::get(&fetch::http_client(), &archive.url, token.as_deref())?)
        }
    };
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| FetchError::Network { url: archive.url.clone(), reason: e.to_string() })?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(io_err(dest))?;
    }
    out.flush().map_err(io_err(dest))?;
    Ok(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::FullVersion;

    fn archive(url: String, sha256: String) -> Archive {
        Archive {
            version: FullVersion { major: 3, minor: 12, patch: 1, pre: String::new() },
            free_threaded: false,
            triple: "x86_64-unknown-linux-gnu".into(),
            filename: "cpython.tar.gz".into(),
            url,
            sha256,
        }
    }

    #[test]
    fn verifies_and_caches_local_archives() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src.tar.gz");
        std::fs::write(&src, b"archive bytes").unwrap();
        let sha = hex::encode(Sha256::digest(b"archive bytes"));
        let cache = tmp.path().join("cache");
        let a = archive(format!("file://{}", src.display()), sha.clone());
        let got = fetch_archive(&a, &cache, true).unwrap();
        assert_eq!(std::fs::read(&got).unwrap(), b"archive bytes");
        // A damaged cached copy is fetched again, not used.
        std::fs::write(&got, b"archive bytez").unwrap();
        assert_eq!(fetch_archive(&a, &cache, true).unwrap(), got);
        assert_eq!(std::fs::read(&got).unwrap(), b"archive bytes");
        // Served from the cache once the source is gone.
        std::fs::remove_file(&src).unwrap();
        assert_eq!(fetch_archive(&a, &cache, true).unwrap(), got);
        // Damaged with no source left: an error, and the damaged file is gone.
        std::fs::write(&got, b"archive bytez").unwrap();
        assert!(fetch_archive(&a, &cache, true).is_err());
        assert!(!got.exists());
    }

    #[test]
    fn reads_local_archives_under_their_escaped_url() {
        let tmp = tempfile::tempdir().unwrap();
        let name = "cpython-3.12.1+20260814-x86_64-unknown-linux-gnu-install_only.tar.gz";
        std::fs::write(tmp.path().join(name), b"archive bytes").unwrap();
        let sha = hex::encode(Sha256::digest(b"archive bytes"));
        let index = crate::python::PythonIndex::from_sha256sums(
            &format!("{sha}  {name}\n"),
            &format!("file://{}", tmp.path().display()),
        )
        .unwrap();
        let got = fetch_archive(&index.archives[0], &tmp.path().join("cache"), true).unwrap();
        assert_eq!(std::fs::read(got).unwrap(), b"archive bytes");
    }

    #[test]
    fn mismatch_is_an_error_and_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src.tar.gz");
        std::fs::write(&src, b"tampered").unwrap();
        let cache = tmp.path().join("cache");
        let a = archive(format!("file://{}", src.display()), "0".repeat(64));
        let err = fetch_archive(&a, &cache, false).unwrap_err();
        assert!(matches!(err, DownloadError::Checksum { .. }), "{err}");
        let dir = cache.join("python").join("0".repeat(64));
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "partial or bad file left behind");
    }
}
