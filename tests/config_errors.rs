//! Bad input through the real binary: each case exits with code 2 before anything starts, and the
//! diagnostic says what is wrong, points at it (the line of pookie.toml or the flag on the command
//! line) and, where it can, says what was meant.

mod support;

use support::{Workspace, flat, mirror_table, stderr_of, stdout_of};

/// What a failed run printed.
struct Diagnostic {
    /// stderr as printed.
    raw: String,
    /// stderr with miette's wrapping undone (see [`flat`]).
    text: String,
}

impl Diagnostic {
    /// Asserts that each piece appears in the diagnostic (wrapping ignored).
    fn says(&self, pieces: &[&str]) -> &Self {
        for p in pieces {
            assert!(self.text.contains(&flat(p)), "diagnostic lacks {p:?}:\n{}", self.raw);
        }
        self
    }

    /// Asserts that the diagnostic quotes `source` (`N │ text`: line N of the file or the command
    /// line) at `location` (`pookie.toml:LINE:COLUMN` or `command line:1:COLUMN`), labelled
    /// `label`.
    fn points_at(&self, location: &str, source: &str, label: &str) -> &Self {
        assert!(self.raw.contains(&format!("[{location}]")), "diagnostic does not point at {location}:\n{}", self.raw);
        let quoted = self.raw.lines().any(|l| l.trim() == source.trim());
        assert!(quoted, "diagnostic does not quote {source:?}:\n{}", self.raw);
        assert!(self.raw.contains(&format!("╰── {label}")), "diagnostic lacks the label {label:?}:\n{}", self.raw);
        self
    }
}

/// Runs `pookie <args>` in a workspace holding `config` as pookie.toml and checks that it was
/// refused as bad input: exit code 2, nothing on stdout, nothing created in the workspace.
fn refused(config: &str, args: &[&str]) -> Diagnostic {
    let ws = Workspace::with_config(config);
    refused_in(&ws, args)
}

fn refused_in(ws: &Workspace, args: &[&str]) -> Diagnostic {
    let before = ws.entries();
    let out = ws.pookie(args).output().expect("pookie runs");
    let raw = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "expected exit code 2 (bad input) from {args:?}; stderr:\n{raw}");
    assert_eq!(stdout_of(&out), "", "bad input printed on stdout");
    assert_eq!(ws.entries(), before, "bad input created files in the workspace");
    assert!(!ws.path().join(".pookie").exists() && !ws.path().join("dist").exists());
    assert!(raw.contains("pookie::config::") || args[0] != "plan", "not a configuration diagnostic:\n{raw}");
    Diagnostic { text: flat(&raw), raw }
}

/// A configuration that is fine once `extra` lines are added to the top.
fn with_mirror(extra: &str) -> String {
    format!("{extra}\n{}", mirror_table())
}

// Unknown keys and wrong types: caught while reading the file.

#[test]
fn unknown_key_suggests_the_known_one() {
    refused(&with_mirror("targts = [\"win_amd64\"]"), &["plan"])
        .says(&["unknown key `targts`", "did you mean `targets`?", "Known keys here: targets, python, build"])
        .points_at("pookie.toml:1:1", "1 │ targts = [\"win_amd64\"]", "not a pookie setting");
}

#[test]
fn unknown_key_in_linux() {
    // kebab-case would make `x86-64-compiler` of the field; the key is spelled x86_64-compiler.
    refused(&with_mirror("[linux]\nx86-64-compiler = \"clang\""), &["plan"])
        .says(&["unknown key `x86-64-compiler`", "did you mean `x86_64-compiler`?", "non-native-mode"])
        .points_at("pookie.toml:2:1", "2 │ x86-64-compiler = \"clang\"", "not a pookie setting");
}

#[test]
fn unknown_key_in_python() {
    let config = format!("{}verions = [\"3.12\"]\n", mirror_table());
    refused(&config, &["plan"])
        .says(&["unknown key `verions`", "did you mean `versions`?", "mirror, release, prereleases"])
        .points_at("pookie.toml:3:1", "3 │ verions = [\"3.12\"]", "not a pookie setting");
}

#[test]
fn unknown_key_in_images() {
    refused(&with_mirror("[images]\nlinux-x86-64 = \"debian:trixie-slim\""), &["plan"])
        .says(&["unknown key `linux-x86-64`", "did you mean `linux-x86_64`?", "musllinux-aarch64"])
        .points_at("pookie.toml:2:1", "2 │ linux-x86-64 = \"debian:trixie-slim\"", "not a pookie setting");
}

#[test]
fn unknown_key_in_overrides() {
    refused(&with_mirror("[[overrides]]\nselect = \"*-win_amd64\"\ntset = \"pytest\""), &["plan"])
        .says(&["unknown key `tset`", "did you mean `test`?"])
        .points_at("pookie.toml:3:1", "3 │ tset = \"pytest\"", "not a pookie setting");
}

#[test]
fn overrides_need_select() {
    refused(&with_mirror("[[overrides]]\ntest = \"pytest\""), &["plan"])
        .says(&["missing key `select`", "add `select`"])
        .points_at("pookie.toml:1:1", "1 │ [[overrides]]", "in this table");
}

#[test]
fn wrong_type() {
    refused(&with_mirror("jobs = \"four\""), &["plan"])
        .says(&["invalid type: string \"four\", expected an integer", "pookie schema"])
        .points_at("pookie.toml:1:8", "1 │ jobs = \"four\"", "wrong type");
}

#[test]
fn python_as_a_bare_string() {
    refused("python = \"3.12\"\n", &["plan"])
        .says(&["expected a list of Python versions or a [python] table"])
        .points_at("pookie.toml:1:10", "1 │ python = \"3.12\"", "wrong type");
}

#[test]
fn toml_syntax_error() {
    refused(&with_mirror("build = 'python -m build"), &["plan"])
        .says(&["pookie::config::syntax", "expected `'`", "syntax of pookie.toml"])
        .points_at("pookie.toml:1:25", "1 │ build = 'python -m build", "here");
}

#[test]
fn errors_in_pyproject_point_into_it() {
    let ws = Workspace::new();
    ws.write("pyproject.toml", "[project]\nname = \"demo\"\n\n[tool.pookie]\ntargets = [\"win_amd64\"]\njbos = 2\n");
    refused_in(&ws, &["plan"]).says(&["unknown key `jbos`", "did you mean `jobs`?"]).points_at(
        "pyproject.toml:6:1",
        "6 │ jbos = 2",
        "not a pookie setting",
    );
}

// Targets.

#[test]
fn unknown_target_in_file() {
    refused(&with_mirror("targets = [\"win_amd64\", \"manylinux_2_17_x86_65\"]"), &["plan"])
        .says(&["unknown target `manylinux_2_17_x86_65`", "did you mean `manylinux_2_17_x86_64`?", "pookie targets"])
        .points_at(
            "pookie.toml:1:25",
            "1 │ targets = [\"win_amd64\", \"manylinux_2_17_x86_65\"]",
            "not a known target",
        );
}

#[test]
fn unknown_target_on_the_command_line() {
    refused(&mirror_table(), &["plan", "--target", "win_amd64", "musllinux_1_2_arm64"])
        .says(&["unknown target `musllinux_1_2_arm64`", "did you mean `musllinux_1_2_aarch64`?"])
        .points_at("command line:1:32", "1 │ pookie plan --target win_amd64 musllinux_1_2_arm64", "not a known target");
}

#[test]
fn target_glob_matching_nothing() {
    refused(&with_mirror("targets = [\"freebsd_*\"]"), &["plan"])
        .says(&["the pattern `freebsd_*` matches no target", "pookie targets"])
        .points_at("pookie.toml:1:12", "1 │ targets = [\"freebsd_*\"]", "matches nothing");
}

#[test]
fn no_targets() {
    refused(&with_mirror("targets = []"), &["plan"])
        .says(&["no targets are selected", "name at least one target"])
        .points_at("pookie.toml:1:11", "1 │ targets = []", "empty list");
}

// Python versions.

#[test]
fn malformed_version() {
    refused("python = [\"3.12\", \"3.x\"]\n", &["plan"])
        .says(&["`3.x` is not a Python version", "write minor versions such as \"3.12\""])
        .points_at("pookie.toml:1:19", "1 │ python = [\"3.12\", \"3.x\"]", "not a Python minor version");
}

#[test]
fn malformed_version_on_the_command_line() {
    refused(&mirror_table(), &["plan", "--python-version", "3.12", "three"])
        .says(&["`three` is not a Python version"])
        .points_at("command line:1:35", "1 │ pookie plan --python-version 3.12 three", "not a Python minor version");
}

#[test]
fn patch_version() {
    refused("python = [\"3.12.1\"]\n", &["plan"])
        .says(&["`3.12.1` names a patch release; give the minor version (`3.12`) and pookie picks the newest patch"])
        .points_at("pookie.toml:1:11", "1 │ python = [\"3.12.1\"]", "not a Python minor version");
}

#[test]
fn unquoted_version() {
    refused("python = [3.10]\n", &["plan"])
        .says(&["Python versions must be quoted strings: write \"3.10\"", "3.10 becomes 3.1"])
        .points_at("pookie.toml:1:11", "1 │ python = [3.10]", "a number, not a string");
}

#[test]
fn unsupported_old_version() {
    refused("[python]\nversions = [\"2.7\"]\n", &["plan"])
        .says(&["CPython 2.7 is not supported: pookie builds for CPython 3.8 and newer"])
        .points_at("pookie.toml:2:13", "2 │ versions = [\"2.7\"]", "not a Python minor version");
    // A lone number is the minor version: "3" is CPython 3.3, and is said so.
    refused("[python]\nversions = [\"3\"]\n", &["plan"])
        .says(&["`3` reads as CPython 3.3 (a lone number is the minor version)", "3.8 and newer"])
        .points_at("pookie.toml:2:13", "2 │ versions = [\"3\"]", "not a Python minor version");
}

#[test]
fn no_versions() {
    refused("targets = [\"win_amd64\"]\npython = []\n", &["plan"])
        .says(&["no Python versions are selected", "remove the key to build the newest four"])
        .points_at("pookie.toml:2:10", "2 │ python = []", "empty list");
}

#[test]
fn version_missing_from_the_index() {
    // The fixture release (python-build-standalone 20260814) starts at 3.10.
    let config = format!("{}versions = [\"3.9\", \"3.12\"]\n", mirror_table());
    refused(&config, &["plan"])
        .says(&[
            "CPython 3.9 is not available for manylinux_2_17_x86_64 in python-build-standalone 20260814",
            "available there: 3.10, 3.11, 3.12, 3.13, 3.13t, 3.14, 3.14t;",
            "skip = \"cp39-manylinux_2_17_x86_64\"",
        ])
        .points_at("pookie.toml:3:13", "3 │ versions = [\"3.9\", \"3.12\"]", "requested here");
}

#[test]
fn prerelease_only_version() {
    let config = format!("{}versions = [\"3.14\", \"3.15\"]\n", mirror_table());
    refused(&config, &["plan"])
        .says(&[
            "CPython 3.15 exists only as the pre-release 3.15.0rc1 for manylinux_2_17_x86_64",
            "set `prereleases = true` under [python]",
        ])
        .points_at("pookie.toml:3:21", "3 │ versions = [\"3.14\", \"3.15\"]", "requested here");
}

#[test]
fn pinned_release_differs_from_the_mirror() {
    let config = format!("{}release = \"20250101\"\n", mirror_table());
    refused(&config, &["plan"])
        .says(&["the python-build-standalone index is of release 20260814, not 20250101", "release = \"20260814\""])
        .points_at("pookie.toml:3:11", "3 │ release = \"20250101\"", "pinned here");
}

#[test]
fn bad_python_source() {
    refused("[python]\nsource = \"conda\"\n", &["plan"])
        .says(&["unknown Python source `conda`", "`pbs` downloads python-build-standalone"])
        .points_at("pookie.toml:2:10", "2 │ source = \"conda\"", "expected `pbs` or `image`");
}

#[test]
fn image_source_without_versions() {
    refused("[python]\nsource = \"image\"\n", &["plan"])
        .says(&["with `source = \"image\"` the Python versions must be named", "versions = [\"3.12\", \"3.13\"]"])
        .points_at("pookie.toml:2:10", "2 │ source = \"image\"", "pookie cannot list the interpreters of an image");
}

#[test]
fn image_source_for_windows_or_macos() {
    // No Linux image holds a Windows or macOS CPython's headers; skipping the target is enough.
    let config =
        "targets = [\"manylinux_2_17_x86_64\", \"win_amd64\"]\n[python]\nsource = \"image\"\nversions = [\"3.13\"]\n";
    refused(config, &["plan"])
        .says(&[
            "win_amd64 needs its CPython from python-build-standalone archives, not `source = \"image\"`",
            "skip = \"*-win_amd64\"",
        ])
        .points_at("pookie.toml:3:10", "3 │ source = \"image\"", "Windows and macOS CPythons are in no Linux image");
    let ws = Workspace::with_config(&format!("skip = \"*-win_amd64\"\n{config}"));
    let out = ws.pookie(&["plan"]).output().expect("pookie runs");
    assert!(out.status.success(), "{}", stderr_of(&out));
}

#[test]
fn image_path_without_minor() {
    refused("[python]\nsource = \"image\"\nversions = [\"3.12\"]\npath = \"/usr/bin/python3\"\n", &["plan"])
        .says(&["the interpreter path must contain `{minor}`"])
        .points_at("pookie.toml:4:8", "4 │ path = \"/usr/bin/python3\"", "same path for every version");
}

#[test]
fn image_path_without_t_for_a_free_threaded_version() {
    let config =
        "[python]\nsource = \"image\"\nversions = [\"3.14\", \"3.14t\"]\npath = \"/usr/bin/python{major}.{minor}\"\n";
    refused(config, &["plan"])
        .says(&[
            "the interpreter path has no `{t}`, so free-threaded 3.14t would run the interpreter of 3.14",
            "/usr/bin/python{major}.{minor}{t}",
        ])
        .points_at("pookie.toml:4:8", "4 │ path = \"/usr/bin/python{major}.{minor}\"", "no `{t}` in the path");
    // Free-threaded builds begin with 3.13.
    refused("python = [\"3.12t\"]\n", &["plan"]).says(&["`3.12t`: CPython has a free-threaded build from 3.13 on"]);
}

// Selectors.

#[test]
fn skip_leaves_nothing() {
    let config = format!("skip = \"cp31*\"\n{}versions = [\"3.12\", \"3.13\"]\n", mirror_table());
    refused(&config, &["plan"])
        .says(&["the selectors leave nothing to build", "identifiers look like cp312-manylinux_2_17_x86_64"])
        .points_at("pookie.toml:1:8", "1 │ skip = \"cp31*\"", "`skip` leaves no build");
}

#[test]
fn only_matches_nothing_in_file() {
    refused(&with_mirror("only = [\"cp27-*\"]"), &["plan"])
        .says(&["the selectors leave nothing to build", "cp311-manylinux_2_17_x86_64"])
        .points_at("pookie.toml:1:8", "1 │ only = [\"cp27-*\"]", "`only` matches no build");
}

#[test]
fn only_matches_nothing_on_the_command_line() {
    refused(&mirror_table(), &["plan", "--only", "cp312-win_arm64"])
        .says(&["the selectors leave nothing to build"])
        .points_at("command line:1:20", "1 │ pookie plan --only cp312-win_arm64", "`only` matches no build");
}

#[test]
fn bad_glob() {
    refused(&with_mirror("skip = \"cp3[12-*\""), &["plan"])
        .says(&["unclosed `[` in `cp3[12-*`", "patterns are globs"])
        .points_at("pookie.toml:1:8", "1 │ skip = \"cp3[12-*\"", "bad pattern");
    refused(&mirror_table(), &["plan", "--only", "{cp312,cp313-*"])
        .says(&["unclosed `{` in `{cp312,cp313-*`"])
        .points_at("command line:1:20", "1 │ pookie plan --only {cp312,cp313-*", "bad pattern");
    // Said in glob terms, never the regex the glob becomes.
    let out = refused(&with_mirror("skip = [\"[]\"]"), &["plan"]);
    out.says(&["empty `[]` in `[]`"]).points_at("pookie.toml:1:8", "1 │ skip = [\"[]\"]", "bad pattern");
    let out = refused(&with_mirror("skip = \"cp3[9-1]-*\""), &["plan"]);
    out.says(&["`cp3[9-1]-*` is not a valid pattern", "malformed"]);
    assert!(!out.text.contains("regex"), "{}", out.text);
}

// Other values.

#[test]
fn workspace_that_does_not_exist() {
    let ws = Workspace::new();
    let missing = ws.path().join("no-such-project");
    let missing = missing.to_str().expect("utf-8 path");
    refused_in(&ws, &["plan", "--workspace", missing])
        .says(&[&format!("workspace `{missing}` is not a directory"), "pass the project directory"])
        .points_at("command line:1:25", &format!("1 │ pookie plan --workspace {missing}"), "no such directory");
}

#[test]
fn bad_compiler() {
    refused(&with_mirror("[linux]\nx86_64-compiler = \"msvc\""), &["plan"])
        .says(&["unknown compiler `msvc`", "x86_64-compiler = \"zig\"` (the default)"])
        .points_at("pookie.toml:2:19", "2 │ x86_64-compiler = \"msvc\"", "expected `zig`, `gcc` or `clang`");
}

#[test]
fn mirrors_that_cannot_serve() {
    refused("[python]\nmirror = \"no/such/dir\"", &["plan"])
        .says(&["`no/such/dir` cannot be a mirror", "SHA256SUMS"])
        .points_at("pookie.toml:2:10", "2 │ mirror = \"no/such/dir\"", "no such directory");
    refused("[python]\nmirror = \"ftp://mirror.example/pbs\"", &["plan"])
        .says(&["`ftp://mirror.example/pbs` cannot be a mirror", "https://, http:// or file://"])
        .points_at("pookie.toml:2:10", "2 │ mirror = \"ftp://mirror.example/pbs\"", "not an http(s) or file URL");
}

/// The report's path is judged before anything starts, not once every job ran.
#[test]
fn report_that_cannot_be_written() {
    refused(&mirror_table(), &["run", "--report", "/no/such/dir/report.json"])
        .says(&["cannot write the report to `/no/such/dir/report.json`: /no/such/dir is not a directory"])
        .points_at("command line:1:21", "1 │ pookie run --report /no/such/dir/report.json", "here");
    let d = refused(&mirror_table(), &["run", "--report", "/tmp"]);
    d.says(&["cannot write the report to `/tmp`: it is a directory"]);
}

#[test]
fn unknown_manylinux_policy() {
    refused(&with_mirror("[linux]\nmanylinux = \"2_30\""), &["plan"])
        .says(&["`2_30` is not a manylinux policy pookie builds for", "2_17, 2_24", "2_28", "2_41"])
        .points_at("pookie.toml:2:13", "2 │ manylinux = \"2_30\"", "unknown policy");
    refused(&with_mirror("targets = [\"manylinux_2_29_aarch64\"]"), &["plan"])
        .says(&["unknown target `manylinux_2_29_aarch64`", "manylinux_POLICY_ARCH", "2_28, 2_31"])
        .points_at("pookie.toml:1:12", "1 │ targets = [\"manylinux_2_29_aarch64\"]", "not a known target");
}

#[test]
fn bad_non_native_mode() {
    refused(&with_mirror("[linux]\nnon-native-mode = \"native\""), &["plan"])
        .says(&["unknown non-native mode `native`", "`emulate` builds under QEMU"])
        .points_at("pookie.toml:2:19", "2 │ non-native-mode = \"native\"", "expected `cross` or `emulate`");
}

#[test]
fn bad_build_frontend() {
    refused(&with_mirror("build-frontend = \"hatch\""), &["plan"])
        .says(&["unknown build frontend `hatch`", "`build[uv]` installs its environment with uv"])
        .points_at(
            "pookie.toml:1:18",
            "1 │ build-frontend = \"hatch\"",
            "expected one of `build`, `build[uv]`, `pip`, `uv`",
        );
}

#[test]
fn bad_timeout() {
    refused(&with_mirror("timeout = \"soon\""), &["plan"])
        .says(&["the timeout is not a duration", "\"1h30m\""])
        .points_at("pookie.toml:1:11", "1 │ timeout = \"soon\"", "expected seconds or e.g. \"30m\"");
    for zero in ["timeout = 0", "timeout = \"0\"", "timeout = \"0m\""] {
        refused(&with_mirror(zero), &["plan"])
            .says(&["a timeout of 0 would stop every job as it starts", "leave `timeout` out"])
            .points_at("pookie.toml:1:11", &format!("1 │ {zero}"), "zero");
    }
}

#[test]
fn zero_jobs_in_file() {
    refused(&with_mirror("jobs = 0"), &["plan"])
        .says(&["`jobs = 0` is out of range", "one job per CPU core"])
        .points_at("pookie.toml:1:8", "1 │ jobs = 0", "must be between 1 and 1024");
}

#[test]
fn too_many_jobs_on_the_command_line() {
    refused(&mirror_table(), &["plan", "-j", "100000"]).says(&["--jobs 100000 is out of range"]).points_at(
        "command line:1:16",
        "1 │ pookie plan -j 100000",
        "must be between 1 and 1024",
    );
}

#[test]
fn zero_jobs_on_the_command_line() {
    refused(&mirror_table(), &["plan", "-j", "0"]).says(&["--jobs must be at least 1", "pass -j N"]).points_at(
        "command line:1:16",
        "1 │ pookie plan -j 0",
        "zero",
    );
    refused(&mirror_table(), &["plan", "--jobs=0"]).says(&["--jobs must be at least 1"]).points_at(
        "command line:1:20",
        "1 │ pookie plan --jobs=0",
        "zero",
    );
}

#[test]
fn reserved_env_name() {
    refused(&with_mirror("[env]\nPOOKIE_STAGE = \"x\""), &["plan"])
        .says(&["`POOKIE_STAGE` is reserved", "pookie sets the POOKIE_* variables"])
        .points_at("pookie.toml:2:1", "2 │ POOKIE_STAGE = \"x\"", "reserved name");
    refused(&with_mirror("[[overrides]]\nselect = \"*\"\nenv = { POOKIE_WHEEL_DIR = \"/tmp\" }"), &["plan"])
        .says(&["`POOKIE_WHEEL_DIR` is reserved"])
        .points_at("pookie.toml:3:9", "3 │ env = { POOKIE_WHEEL_DIR = \"/tmp\" }", "reserved name");
}

#[test]
fn invalid_env_name() {
    refused(&with_mirror("[env]\n\"MY-FLAG\" = \"1\""), &["plan"])
        .says(&["`MY-FLAG` is not a valid environment variable name", "letters, digits and `_`"])
        .points_at("pookie.toml:2:1", "2 │ \"MY-FLAG\" = \"1\"", "not a variable name");
}

#[test]
fn output_dir_inside_pookie_state() {
    refused(&with_mirror("output-dir = \".pookie\""), &["plan"])
        .says(&["`.pookie` cannot be the output directory", "`.pookie` is pookie's own"])
        .points_at("pookie.toml:1:14", "1 │ output-dir = \".pookie\"", "`.pookie` is not the project's to fill");
    refused(&with_mirror("output-dir = \"\""), &["plan"]).says(&["`` cannot be the output directory"]);
}

#[test]
fn output_dir_outside_the_workspace_or_the_workspace_itself() {
    for (dir, label) in [
        ("../x", "`..` leaves the workspace"),
        ("/etc", "an absolute path, outside the workspace"),
        ("/", "an absolute path, outside the workspace"),
        (".", "the workspace itself"),
        ("./", "the workspace itself"),
        ("src/../..", "`..` leaves the workspace"),
        (".git", "`.git` is not the project's to fill"),
        (".git/hooks", "`.git` is not the project's to fill"),
    ] {
        refused(&with_mirror(&format!("output-dir = \"{dir}\"")), &["plan"])
            .says(&[&format!("`{dir}` cannot be the output directory")])
            .points_at("pookie.toml:1:14", &format!("1 │ output-dir = \"{dir}\""), label);
    }
}

#[test]
fn output_dir_through_a_symlink_or_onto_a_file() {
    let ws = Workspace::with_config(&with_mirror("output-dir = \"out/wheels\""));
    std::os::unix::fs::symlink("/tmp", ws.path().join("out")).unwrap();
    refused_in(&ws, &["plan"]).says(&["`out/wheels` cannot be the output directory"]).points_at(
        "pookie.toml:1:14",
        "1 │ output-dir = \"out/wheels\"",
        "`out` is a symlink, which could lead anywhere",
    );
    let ws = Workspace::with_config(&with_mirror("output-dir = \"setup.py\""));
    ws.write("setup.py", "mine");
    refused_in(&ws, &["plan"]).says(&["`setup.py` cannot be the output directory", "a file, not a directory"]);
}

#[test]
fn empty_build_command() {
    refused(&with_mirror("build = \"  \""), &["plan"])
        .says(&["the build command is empty", "remove it to use the default"])
        .points_at("pookie.toml:1:9", "1 │ build = \"  \"", "empty");
}

#[test]
fn ca_bundle_that_does_not_exist() {
    refused(&with_mirror("ca-bundle = \"certs/ca.pem\""), &["plan"])
        .says(&["`certs/ca.pem` cannot be the CA bundle", "`--ca-bundle FILE` or $SSL_CERT_FILE"])
        .points_at("pookie.toml:1:13", "1 │ ca-bundle = \"certs/ca.pem\"", "no such file in the project");
}

/// A project's `ca-bundle` is copied into every image, where the project's code runs: it may
/// name only a PEM file of the project, never a host file.
#[test]
fn ca_bundle_of_a_project_stays_in_the_project_and_is_pem() {
    refused(&with_mirror("ca-bundle = \"/etc/shadow\""), &["plan"])
        .says(&["`/etc/shadow` cannot be the CA bundle", "the user's to give"])
        .points_at("pookie.toml:1:13", "1 │ ca-bundle = \"/etc/shadow\"", "an absolute path, outside the workspace");
    refused(&with_mirror("ca-bundle = \"../../etc/passwd\""), &["plan"]).says(&["`..` leaves the workspace"]);
    let ws = Workspace::with_config(&with_mirror("ca-bundle = \"ca.pem\""));
    std::os::unix::fs::symlink("/etc/passwd", ws.path().join("ca.pem")).unwrap();
    refused_in(&ws, &["plan"]).says(&["`ca.pem` is a symlink"]);
    let ws = Workspace::with_config(&with_mirror("ca-bundle = \"notes.txt\""));
    ws.write("notes.txt", "root:x:0:0:root:/root:/bin/bash\n");
    refused_in(&ws, &["plan"]).says(&["`notes.txt` cannot be the CA bundle", "-----BEGIN CERTIFICATE-----"]).points_at(
        "pookie.toml:1:13",
        "1 │ ca-bundle = \"notes.txt\"",
        "holds no PEM certificate",
    );
}

#[test]
fn ca_bundle_flag_must_be_pem() {
    let ws = Workspace::with_config(&mirror_table());
    ws.write("x.txt", "not a certificate");
    let path = ws.path().join("x.txt");
    let p = path.to_str().unwrap();
    refused_in(&ws, &["plan", "--ca-bundle", p]).says(&[&format!("`{p}` holds no PEM certificate")]).points_at(
        "command line:1:25",
        &format!("1 │ pookie plan --ca-bundle {p}"),
        "not a CA bundle",
    );
}

#[test]
fn bad_engine() {
    refused(&with_mirror("engine = \"lxc\""), &["plan"]).says(&["unknown container engine `lxc`"]).points_at(
        "pookie.toml:1:10",
        "1 │ engine = \"lxc\"",
        "expected `docker` or `podman`",
    );
}

#[test]
fn bad_image_reference() {
    refused(&with_mirror("[images]\nmusllinux-x86_64 = \"alpine 3.22\""), &["plan"])
        .says(&["`alpine 3.22` is not an image reference"])
        .points_at("pookie.toml:2:20", "2 │ musllinux-x86_64 = \"alpine 3.22\"", "not [registry/]name[:tag][@digest]");
}

/// Whatever pookie hands the engine as an image must not be taken for one of its options.
#[test]
fn image_references_that_would_be_engine_options() {
    for image in ["--help", "--privileged", "-v/:/host", "UPPER/Case:@@bad", "Debian:12"] {
        refused(&with_mirror(&format!("[images]\nlinux-x86_64 = \"{image}\"")), &["doctor"])
            .says(&[&format!("`{image}` is not an image reference")])
            .points_at(
                "pookie.toml:2:16",
                &format!("2 │ linux-x86_64 = \"{image}\""),
                "not [registry/]name[:tag][@digest]",
            );
    }
}

#[test]
fn env_values_the_kernel_would_refuse() {
    refused(&with_mirror("[env]\nFLAG = \"a\\u0000b\""), &["plan"])
        .says(&["the value of `FLAG` contains a NUL character"])
        .points_at("pookie.toml:2:8", "2 │ FLAG = \"a\\u0000b\"", "NUL");
    let big = "x".repeat(140_000);
    refused(&with_mirror(&format!("[[overrides]]\nselect = \"*\"\nenv = {{ BIG = \"{big}\" }}")), &["plan"])
        .says(&["the value of `BIG` is 140000 bytes long", "128 KiB"]);
}

/// A pookie.toml that links to a host file is not read: its lines would land in the diagnostic.
#[test]
fn config_file_linked_from_outside_is_not_read() {
    let secret = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(secret.path(), "password = \"hunter2-secret\"\n").unwrap();
    let ws = Workspace::new();
    std::os::unix::fs::symlink(secret.path(), ws.path().join("pookie.toml")).unwrap();
    let d = refused_in(&ws, &["plan"]);
    d.says(&["pookie.toml is a symlink to a file outside the workspace"]);
    assert!(!d.raw.contains("hunter2"), "the linked file's content was printed:\n{}", d.raw);
    // A link inside the project is fine.
    let ws = Workspace::new();
    ws.write("ci/pookie.toml", &mirror_table());
    std::os::unix::fs::symlink("ci/pookie.toml", ws.path().join("pookie.toml")).unwrap();
    let out = ws.pookie(&["plan"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
}

#[test]
fn config_file_that_is_a_directory() {
    let ws = Workspace::new();
    std::fs::create_dir_all(ws.path().join("pookie.toml")).unwrap();
    refused_in(&ws, &["plan"]).says(&["pookie.toml is a directory, not a file"]);
}

#[test]
fn state_directory_that_is_a_symlink() {
    let ws = Workspace::with_config(&mirror_table());
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), ws.path().join(".pookie")).unwrap();
    let out = ws.pookie(&["plan"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(
        flat(&stderr_of(&out)).contains("`.pookie` is not a directory (a symlink or a file)"),
        "{}",
        stderr_of(&out)
    );
    let out = ws.pookie(&["clean"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(elsewhere.path().exists());
}

/// Terminal escape sequences written into pookie.toml never reach the terminal raw.
#[test]
fn escape_sequences_are_not_printed_raw() {
    let d = refused(&with_mirror("targets = [\"\\u001b]0;owned\\u0007red\"]"), &["plan"]);
    assert!(!d.raw.contains('\u{1b}') && !d.raw.contains('\u{7}'), "raw control characters:\n{:?}", d.raw);
    d.says(&["unknown target `\\u{1b}]0;owned\\u{7}red`"]);
    // Raw control characters in the file itself (TOML refuses them) are not quoted raw either.
    let d = refused(&with_mirror("# \u{1b}]0;owned\u{7}\ntargets = 1"), &["plan"]);
    assert!(!d.raw.contains('\u{1b}') && !d.raw.contains('\u{7}'), "raw control characters:\n{:?}", d.raw);
}

// The same checks guard every command that reads the configuration.

#[test]
fn python_versions_of_an_unknown_target() {
    let d = refused(&mirror_table(), &["python-versions", "--target", "win_amd46"]);
    d.says(&["unknown target `win_amd46`", "did you mean `win_amd64`?"]);
}

#[test]
fn run_with_bad_input_starts_nothing() {
    // Leftovers of an earlier run that --clean would remove: bad input must not get that far.
    let ws = Workspace::with_config(&with_mirror("jobs = \"four\""));
    ws.write(".pookie/logs/old.log", "old");
    ws.write("dist/old-1.0-py3-none-any.whl", "old");
    for args in [&["run", "--clean"][..], &["images"], &["python-versions"], &["clean"]] {
        let out = ws.pookie(args).output().expect("pookie runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr_of(&out));
        assert!(flat(&stderr_of(&out)).contains("expected an integer"), "{args:?}: {}", stderr_of(&out));
        assert_eq!(ws.read(".pookie/logs/old.log"), "old", "{args:?} touched .pookie/");
        assert_eq!(ws.read("dist/old-1.0-py3-none-any.whl"), "old", "{args:?} touched dist/");
    }
}

#[test]
fn useless_selectors_are_refused_with_strict() {
    let config = "targets = [\"manylinux_2_17_x86_64\", \"win_amd64\"]\nskip = \"win_amd64\"\n";
    refused(&with_mirror(config), &["plan", "--strict"])
        .says(&["`skip` pattern `win_amd64` matches no build identifier", "`*-win_amd64`", "without --strict"])
        .points_at("pookie.toml:2:8", "2 │ skip = \"win_amd64\"", "matches nothing");
    let config = "[[overrides]]\nselect = []\nenv = { A = \"1\" }\n";
    refused(&format!("{}\n{config}", mirror_table()), &["plan", "--strict"])
        .says(&["[[overrides]] #1 (select = []) matches no build of this run"])
        .points_at("pookie.toml:5:10", "5 │ select = []", "matches no build");
}

/// A project's mirror is a URL or a directory of the project; the user names any other
/// directory (`--python-mirror`, `POOKIE_PYTHON_MIRROR`, which every test here uses).
#[test]
fn a_projects_mirror_directory_stays_in_the_project() {
    refused("[python]\nmirror = \"/etc\"\n", &["plan"])
        .says(&["`/etc` cannot be a mirror", "--python-mirror DIR or POOKIE_PYTHON_MIRROR=DIR"])
        .points_at("pookie.toml:2:10", "2 │ mirror = \"/etc\"", "an absolute path, outside the workspace");
    refused("[python]\nmirror = \"file://../../etc\"\n", &["plan"]).says(&["`file://../../etc` cannot be a mirror"]);
    // A link in the project to a directory elsewhere is not followed.
    let ws = Workspace::with_config("[python]\nmirror = \"pbs\"\n");
    std::os::unix::fs::symlink(support::fixture_mirror(), ws.path().join("pbs")).unwrap();
    refused_in(&ws, &["plan"]).says(&["`pbs` cannot be a mirror"]);
    // The same directory is the user's to name.
    let ws = Workspace::with_config("[python]\nversions = [\"3.12\"]\n");
    let out = ws.pookie(&["plan", "--python-mirror", support::fixture_mirror().to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
}

#[test]
fn test_sources_and_extras_are_checked() {
    refused(&with_mirror("test-sources = [\"../outside\"]"), &["plan"])
        .says(&["`../outside` cannot be a test source"])
        .points_at("pookie.toml:1:17", "1 │ test-sources = [\"../outside\"]", "`..` leaves the workspace");
    refused(&with_mirror("test-sources = [\"missing\"]"), &["plan"])
        .says(&["`missing` cannot be a test source"])
        .points_at("pookie.toml:1:17", "1 │ test-sources = [\"missing\"]", "no such file or directory");
    refused(&with_mirror("test-extras = [\"a b\"]"), &["plan"]).says(&["`a b` is not an extra's name"]).points_at(
        "pookie.toml:1:16",
        "1 │ test-extras = [\"a b\"]",
        "not a name",
    );
}

#[test]
fn before_all_inputs_are_files_of_the_project() {
    let with_hook = |inputs: &str| with_mirror(&format!("before-all = \"make\"\nbefore-all-inputs = {inputs}"));
    refused(&with_hook("[\"../elsewhere\"]"), &["plan"])
        .says(&["`../elsewhere` cannot be a before-all input"])
        .points_at("pookie.toml:2:22", "2 │ before-all-inputs = [\"../elsewhere\"]", "not a path inside the project");
    refused(&with_hook("[\"vendor/**\"]"), &["plan"]).says(&["`vendor/**` cannot be a before-all input"]).points_at(
        "pookie.toml:2:22",
        "2 │ before-all-inputs = [\"vendor/**\"]",
        "matches no file of the project",
    );
    refused(&with_hook("[\"src/{a\"]"), &["plan"]).says(&["`src/{a` cannot be a before-all input", "not a glob"]);
}

#[test]
fn source_date_epoch_before_zip_time() {
    refused(&with_mirror("source-date-epoch = 1000"), &["plan"])
        .says(&["source-date-epoch = 1000 is out of range", "315532800"])
        .points_at("pookie.toml:1:21", "1 │ source-date-epoch = 1000", "not between 1980 and 9999");
}

#[test]
fn test_groups_must_be_groups_of_pyproject() {
    let ws = Workspace::with_config(&with_mirror("test-groups = [\"test\"]"));
    refused_in(&ws, &["plan"]).says(&["dependency group `test` cannot be installed for the tests"]).points_at(
        "pookie.toml:1:16",
        "1 │ test-groups = [\"test\"]",
        "the project has no pyproject.toml",
    );
    ws.write("pyproject.toml", "[dependency-groups]\nlint = [\"ruff\"]\ncycle = [{include-group = \"loop\"}]\nloop = [{include-group = \"cycle\"}]\n");
    refused_in(&ws, &["plan"]).says(&["pyproject.toml has no dependency group `test`"]);
    ws.write("pookie.toml", &with_mirror("test-groups = [\"Cycle\"]"));
    refused_in(&ws, &["plan"]).says(&["includes itself"]);
}

#[test]
fn config_settings_are_strings() {
    refused(&with_mirror("config-settings = { setup-args = 3 }"), &["plan"])
        .says(&["the config setting `setup-args` is not a string or a list of strings"])
        .points_at(
            "pookie.toml:1:34",
            "1 │ config-settings = { setup-args = 3 }",
            "expected \"VALUE\" or [\"VALUE\", …]",
        );
}

#[test]
fn bad_cache_registry() {
    refused(&with_mirror("[caches]\nregistry = \"pookie-cache\""), &["plan"])
        .says(&["`pookie-cache` is not a registry repository", "ghcr.io/owner/pookie-cache"])
        .points_at("pookie.toml:2:12", "2 │ registry = \"pookie-cache\"", "expected host[:port]/path");
    refused(&with_mirror(""), &["plan", "--cache-registry", "https://ghcr.io/x"])
        .says(&["`https://ghcr.io/x` is not a registry repository"])
        .points_at(
            "command line:1:30",
            "1 │ pookie plan --cache-registry https://ghcr.io/x",
            "expected host[:port]/path",
        );
}

#[test]
fn bad_shard() {
    refused(&with_mirror(""), &["run", "--shard", "5/4"]).says(&["`5/4` is not a shard"]).points_at(
        "command line:1:20",
        "1 │ pookie run --shard 5/4",
        "expected K/N with 1 ≤ K ≤ N ≤ 256",
    );
}
