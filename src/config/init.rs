//! `pookie init`: a commented pookie.toml for the project at hand.

/// The commented template; `{name}` and the test lines are filled from the project.
pub fn template(package: Option<&str>, has_tests: bool) -> String {
    let test = match (has_tests, package) {
        (true, _) => "test = \"python -m pytest {project}/tests\"\ntest-requires = [\"pytest\"]".to_string(),
        (false, Some(p)) => format!("test = \"python -c 'import {p}'\""),
        (false, None) => "# test = \"python -m pytest {project}/tests\"\n# test-requires = [\"pytest\"]".to_string(),
    };
    format!(
        r#"# pookie.toml — what pookie builds and tests. Every key is optional; see README.md.

# Wheel platforms (`pookie targets` lists them; globs such as "manylinux_*" work).
# Default: all of them.
targets = ["manylinux_2_17_x86_64", "manylinux_2_17_aarch64", "musllinux_1_2_x86_64", "win_amd64"]

# CPython minor versions. Default: the newest four that every chosen target has.
# python = ["3.12", "3.13"]

# Builds a wheel into $POOKIE_WHEEL_DIR, with the target's `python` and `pip` on PATH. The default,
# pookie's PEP 517 frontend, builds with any build backend, natively and cross.
build = "pookie-build-wheel"

# Runs in an empty directory once the wheel is installed; {{project}} is the project's path.
{test}

# output-dir = "dist"
# jobs = 4              # default: one per CPU core
# timeout = "30m"       # per job
# skip = "cp310-*"      # build identifiers look like cp312-manylinux_2_17_x86_64
# [env]
# MY_FEATURE = "1"

[linux]
# x86_64-compiler = "zig"      # or the base image's "gcc" or "clang"
# non-native-mode = "cross"    # or "emulate": build under QEMU instead of cross-compiling

# [python]
# source = "pbs"               # python-build-standalone; "image" uses the base image's Pythons
# mirror = "https://mirror.example/python-build-standalone/20260814"

# [images]
# linux-x86_64 = "debian:bookworm-slim"

# [[overrides]]
# select = "*-win_amd64"
# test = "python -c 'import sys; print(sys.platform)'"
"#
    )
}
