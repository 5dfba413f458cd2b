//! Shared helpers of the integration tests: a throw-away workspace, the `pookie` binary with a
//! deterministic environment, the recorded python-build-standalone release, and a way to read
//! miette's wrapped diagnostics; [`http`], a local HTTP server (mirrors, failing registries);
//! [`e2e`], projects run by the real binary against a real container engine.
#![allow(dead_code)]

pub mod e2e;
pub mod http;

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The recorded python-build-standalone release 20260814 (its SHA256SUMS), usable as a mirror.
pub fn fixture_mirror() -> PathBuf {
    repo().join("tests/fixtures/pbs-20260814")
}

pub fn fixture_sums() -> String {
    std::fs::read_to_string(fixture_mirror().join("SHA256SUMS")).expect("fixture SHA256SUMS")
}

pub fn example() -> String {
    std::fs::read_to_string(repo().join("pookie.toml.example")).expect("pookie.toml.example")
}

/// A `[python]` table, to append to configurations that need an index: the fixture release is
/// the user's mirror (`POOKIE_PYTHON_MIRROR`, see [`Workspace::pookie`]), as a directory outside
/// the project may only be.
pub fn mirror_table() -> String {
    "\n[python]\n".to_string()
}

/// A TOML basic string holding `s`.
pub fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A temporary project directory with its own (empty) pookie cache.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    pub cache: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Self {
        Workspace {
            dir: tempfile::Builder::new().prefix("pookie-ws-").tempdir().expect("temp dir"),
            cache: tempfile::Builder::new().prefix("pookie-cache-").tempdir().expect("temp dir"),
        }
    }

    /// A workspace whose pookie.toml is `toml`.
    pub fn with_config(toml: &str) -> Self {
        let ws = Workspace::new();
        ws.write("pookie.toml", toml);
        ws
    }

    /// A workspace holding pookie.toml.example as pookie.toml, with the fixture release where the
    /// example's mirror points (tests/fixtures/pbs-20260814, relative to the project).
    pub fn example() -> Self {
        let ws = Workspace::with_config(&example());
        let dest = ws.path().join("tests/fixtures/pbs-20260814");
        std::fs::create_dir_all(&dest).expect("mkdir");
        std::fs::copy(fixture_mirror().join("SHA256SUMS"), dest.join("SHA256SUMS")).expect("copy fixture");
        ws
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, text: &str) {
        let p = self.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, text).expect("write");
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path().join(name)).expect("read")
    }

    /// `pookie <args>` in this workspace, with the cache in this workspace's cache directory and
    /// the fixture release as the user's mirror, unless pookie.toml names a mirror itself.
    pub fn pookie(&self, args: &[&str]) -> Command {
        let mut cmd = pookie(self.cache.path());
        cmd.current_dir(self.path()).args(args);
        let config = std::fs::read_to_string(self.path().join("pookie.toml")).unwrap_or_default();
        if !config.lines().any(|l| l.trim_start().starts_with("mirror")) {
            cmd.env("POOKIE_PYTHON_MIRROR", fixture_mirror());
        }
        cmd
    }

    /// Names of the entries of the workspace, sorted.
    pub fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.path())
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

/// The `pookie` binary with an environment that makes results independent of the machine: its
/// own cache, no token, no CA bundle, no colors, no engine preference.
pub fn pookie(cache: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pookie"));
    cmd.env("POOKIE_CACHE_DIR", cache)
        .env("NO_COLOR", "1")
        .env_remove("SSL_CERT_FILE")
        .env_remove("GITHUB_TOKEN")
        .env_remove("POOKIE_PYTHON_MIRROR")
        .env_remove("POOKIE_ENGINE")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("FORCE_COLOR")
        .env_remove("IGNORE_IS_TERMINAL")
        .env_remove("NO_GRAPHICS")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("ALL_PROXY")
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env_remove("all_proxy")
        .env_remove("SOURCE_DATE_EPOCH")
        // No machine configuration but the one a test writes.
        .env_remove("POOKIE_CONFIG")
        .env("XDG_CONFIG_HOME", cache.join("xdg-config"));
    // cibuildwheel's variables configure projects that have no pookie configuration.
    for (name, _) in std::env::vars().filter(|(k, _)| k.starts_with("CIBW_")) {
        cmd.env_remove(name);
    }
    cmd
}

/// A diagnostic with miette's line wrapping undone: runs of whitespace become one space, and a
/// break after a hyphen (miette wraps `manylinux_2_17-` `x86_64`-style words there) disappears.
pub fn flat(s: &str) -> String {
    let unwrapped = regex::Regex::new(r"-\n[ │]*").expect("regex").replace_all(s, "-");
    let unwrapped = regex::Regex::new(r"\n *│ ").expect("regex").replace_all(&unwrapped, " ");
    unwrapped.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8 stdout")
}

pub fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("utf-8 stderr")
}
