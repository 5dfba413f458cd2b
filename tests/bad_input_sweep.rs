//! One sweep over the bad inputs a careless user or a hostile project brings, each through
//! `pookie run` (the command that would start containers): every one must end with exit code 2,
//! a message saying what is wrong, a pointer at the line of pookie.toml or at the flag, and
//! nothing started. A container engine that records being called stands on PATH as `docker` and
//! `podman`: no case may reach it. config_errors.rs holds the detailed checks of each message.

mod support;

use std::path::Path;
use support::{Workspace, flat, stderr_of, stdout_of};

/// One bad input: extra lines of pookie.toml, extra `run` arguments, what the message says and
/// where it points (`pookie.toml:LINE` or `command line`).
struct Case {
    config: &'static str,
    args: &'static [&'static str],
    says: &'static str,
    at: &'static str,
}

const fn file(config: &'static str, says: &'static str, at: &'static str) -> Case {
    Case { config, args: &[], says, at }
}

const fn flag(args: &'static [&'static str], says: &'static str) -> Case {
    Case { config: "", args, says, at: "command line" }
}

const CASES: &[Case] = &[
    // Keys and types.
    file("targts = [\"win_amd64\"]", "unknown key `targts`", "pookie.toml:1:1"),
    file("[linux]\nx86-64-compiler = \"clang\"", "unknown key `x86-64-compiler`", "pookie.toml:2:1"),
    file("[images]\nlinux-x86-64 = \"debian:12\"", "unknown key `linux-x86-64`", "pookie.toml:2:1"),
    file("[caches]\npip = \"yes\"", "expected a boolean", "pookie.toml:2:7"),
    file("jobs = \"four\"", "expected an integer", "pookie.toml:1:8"),
    file("jobs = 0", "is out of range", "pookie.toml:1:8"),
    file("jobs = -3", "is out of range", "pookie.toml:1:8"),
    file("abi3 = \"true\"", "expected a boolean", "pookie.toml:1:8"),
    file("build = \"\"", "empty", "pookie.toml:1:9"),
    file("build = [\"pookie-build-wheel\"]", "expected a string", "pookie.toml:1:9"),
    file("targets = \"win_amd64\"\ntargets = \"win_amd64\"", "duplicate key", "pookie.toml:2:1"),
    file("targets = [\"win_amd64\"", "unclosed array", "pookie.toml:1:"),
    // Targets and Python versions.
    file("targets = [\"win_amd46\"]", "unknown target `win_amd46`", "pookie.toml:1:12"),
    file("targets = [\"solaris_*\"]", "matches no target", "pookie.toml:1:12"),
    file("targets = []", "no targets", "pookie.toml:1:11"),
    file("python = [\"3.x\"]", "`3.x` is not a Python version", "pookie.toml:1:11"),
    file("python = [\"3.12.1\"]", "3.12.1", "pookie.toml:1:11"),
    file("python = [3.12]", "must be quoted strings", "pookie.toml:1:11"),
    file("python = [\"2.7\"]", "not supported", "pookie.toml:1:11"),
    file("python = []", "no Python versions", "pookie.toml:1:10"),
    file("python = \"3.12\"", "expected a list", "pookie.toml:1:10"),
    // Selectors.
    file("skip = \"*\"", "leave nothing to build", "pookie.toml:1:8"),
    file("only = \"pp39-*\"", "leave nothing to build", "pookie.toml:1:8"),
    file("skip = \"cp3[\"", "unclosed `[` in `cp3[`", "pookie.toml:1:8"),
    file("skip = \"[]\"", "empty `[]`", "pookie.toml:1:8"),
    file("test-skip = \"{a,b\"", "unclosed `{`", "pookie.toml:1:13"),
    file("[[overrides]]\nenv = { A = \"1\" }", "missing key `select`", "pookie.toml:1:1"),
    file("[[overrides]]\nselect = \"*\"\nbogus = 1", "unknown key `bogus`", "pookie.toml:3:1"),
    // Linux options.
    file("[linux]\nx86_64-compiler = \"icc\"", "icc", "pookie.toml:2:19"),
    file("[linux]\nmanylinux = \"2_5\"", "2_5", "pookie.toml:2:13"),
    file("[linux]\nnon-native-mode = \"qemu\"", "qemu", "pookie.toml:2:19"),
    file("build-frontend = \"poetry\"", "unknown build frontend `poetry`", "pookie.toml:1:18"),
    file("[[overrides]]\nselect = \"*\"\nbuild-frontend = \"uv build\"", "unknown build frontend", "pookie.toml:3:18"),
    file("timeout = \"soon\"", "not a duration", "pookie.toml:1:11"),
    file("timeout = 0", "0", "pookie.toml:1:11"),
    file("engine = \"lxc\"", "lxc", "pookie.toml:1:10"),
    // Environment.
    file("[env]\nPOOKIE_WHEEL_DIR = \"/tmp\"", "reserved", "pookie.toml:2:1"),
    file("[env]\n\"A B\" = \"1\"", "not a valid environment variable name", "pookie.toml:2:1"),
    file("[env]\nFLAG = \"a\\u0000b\"", "NUL character", "pookie.toml:2:8"),
    file("environment-pass = [\"A=B\"]", "A=B", "pookie.toml:1:21"),
    // Paths a project names: confined to the workspace.
    file("output-dir = \"/etc\"", "/etc", "pookie.toml:1:14"),
    file("output-dir = \"../x\"", "../x", "pookie.toml:1:14"),
    file("output-dir = \".\"", "output-dir", "pookie.toml:1:14"),
    file("output-dir = \".pookie/out\"", ".pookie", "pookie.toml:1:14"),
    file("output-dir = \"a\\u0000b\"", "NUL", "pookie.toml:1:14"),
    file("ca-bundle = \"/etc/shadow\"", "/etc/shadow", "pookie.toml:1:13"),
    file("ca-bundle = \"missing.pem\"", "missing.pem", "pookie.toml:1:13"),
    file("test-sources = [\"../outside\"]", "cannot be a test source", "pookie.toml:1:17"),
    file("test-sources = [\"missing\"]", "cannot be a test source", "pookie.toml:1:17"),
    file("test-extras = [\"a b\"]", "not an extra's name", "pookie.toml:1:16"),
    file(
        "before-all = \"make\"\nbefore-all-inputs = [\"/etc/passwd\"]",
        "cannot be a before-all input",
        "pookie.toml:2:22",
    ),
    file(
        "before-all = \"make\"\nbefore-all-inputs = [\"nothing/**\"]",
        "matches no file of the project",
        "pookie.toml:2:22",
    ),
    file("[python]\nmirror = \"/etc\"", "cannot be a mirror", "pookie.toml:2:10"),
    file("[python]\nmirror = \"ftp://example.org/pbs\"", "ftp://", "pookie.toml:2:10"),
    file("[python]\nmirror = \"no-such-dir\"", "no-such-dir", "pookie.toml:2:10"),
    file("[python]\nsource = \"conda\"", "conda", "pookie.toml:2:10"),
    // Image references that would be engine options or are not references.
    file("[images]\nlinux-x86_64 = \"--privileged\"", "is not an image reference", "pookie.toml:2:16"),
    file("[images]\nlinux-x86_64 = \"-v/:/host\"", "is not an image reference", "pookie.toml:2:16"),
    file("[images]\nlinux-x86_64 = \"UPPER/Case:@@bad\"", "is not an image reference", "pookie.toml:2:16"),
    file("[images]\nmusllinux-x86_64 = \"alpine 3.22\"", "is not an image reference", "pookie.toml:2:20"),
    // The command line.
    flag(&["--target", "win_amd46"], "unknown target `win_amd46`"),
    flag(&["--python-version", "3.x"], "`3.x` is not a Python version"),
    flag(&["--only", "pp39-*"], "leave nothing to build"),
    flag(&["--only", "cp3["], "unclosed `[`"),
    flag(&["-j", "0"], "0"),
    flag(&["-j", "100000"], "100000"),
    flag(&["--build", ""], "empty"),
    flag(&["--ca-bundle", "/etc/hostname"], "PEM"),
    flag(&["--report", "/nonexistent-dir/report.json"], "cannot write the report"),
    flag(&["--report", "."], "cannot write the report"),
    flag(&["--force", "cp3["], "unclosed `[`"),
];

/// A `docker` and a `podman` that record being called and fail: the engine pookie would find.
fn tripwire(dir: &Path) -> std::path::PathBuf {
    let marker = dir.join("engine-was-called");
    for program in ["docker", "podman"] {
        let path = dir.join(program);
        std::fs::write(&path, format!("#!/bin/sh\necho \"$0 $*\" >> '{}'\nexit 1\n", marker.display())).unwrap();
        let mut perms = std::fs::metadata(&path).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&path, perms).unwrap();
    }
    marker
}

#[test]
fn every_bad_input_is_refused_before_anything_starts() {
    assert!(CASES.len() >= 40, "the sweep is meant to cover 40+ inputs");
    let bin = tempfile::tempdir().unwrap();
    let marker = tripwire(bin.path());
    let path = format!("{}:{}", bin.path().display(), std::env::var("PATH").unwrap_or_default());
    let mut failures = Vec::new();
    for case in CASES {
        let ws = Workspace::with_config(&format!("{}\n", case.config));
        ws.write("dist/earlier-1.0-py3-none-any.whl", "earlier");
        let before = ws.entries();
        let mut cmd = ws.pookie(&["run"]);
        cmd.args(case.args).env("PATH", &path).env("POOKIE_ENGINE", "docker");
        let out = cmd.output().expect("pookie runs");
        let (raw, shown) = (stderr_of(&out), format!("{:?} {:?}", case.config, case.args));
        let text = flat(&raw);
        let mut wrong = Vec::new();
        if out.status.code() != Some(2) {
            wrong.push(format!("exit code {:?}, not 2", out.status.code()));
        }
        if !text.contains(&flat(case.says)) {
            wrong.push(format!("does not say {:?}", case.says));
        }
        if !raw.contains(&format!("[{}", case.at)) {
            wrong.push(format!("does not point at {}", case.at));
        }
        if !stdout_of(&out).is_empty() {
            wrong.push("printed on stdout".into());
        }
        if ws.entries() != before || ws.read("dist/earlier-1.0-py3-none-any.whl") != "earlier" {
            wrong.push("changed the workspace".into());
        }
        if marker.exists() {
            wrong.push(format!("called the engine: {}", std::fs::read_to_string(&marker).unwrap_or_default()));
            let _ = std::fs::remove_file(&marker);
        }
        if raw.contains('\u{1b}') {
            wrong.push("printed an escape sequence".into());
        }
        if !wrong.is_empty() {
            failures.push(format!("{shown}: {}\n{raw}", wrong.join("; ")));
        }
    }
    // The tripwire works: good input does reach the engine.
    let ws = Workspace::with_config("targets = [\"manylinux_2_17_x86_64\"]\n");
    let out = ws.pookie(&["run"]).env("PATH", &path).env("POOKIE_ENGINE", "docker").output().unwrap();
    assert!(!out.status.success() && marker.exists(), "good input did not reach the engine: {}", stderr_of(&out));
    assert!(
        failures.is_empty(),
        "{} of {} bad inputs were not refused as they should be:\n\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

/// A workspace whose path holds `:` would be split by the engine's `--volume HOST:CONTAINER`:
/// refused before anything starts.
#[test]
fn a_workspace_path_with_a_colon_is_refused_before_anything_starts() {
    let bin = tempfile::tempdir().unwrap();
    let marker = tripwire(bin.path());
    let path = format!("{}:{}", bin.path().display(), std::env::var("PATH").unwrap_or_default());
    let ws = Workspace::new();
    let project = ws.path().join("proj:ect");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join("pookie.toml"), "targets = [\"manylinux_2_17_x86_64\"]\n").unwrap();
    let out = ws
        .pookie(&["run", "--workspace", project.to_str().unwrap()])
        .env("PATH", &path)
        .env("POOKIE_ENGINE", "docker")
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(flat(&err).contains("contains `:` or a line break"), "{err}");
    assert!(!marker.exists(), "the engine was called");
    assert!(!project.join(".pookie").exists());
}
