//! End to end, one fixture per kind of build backend (tests/fixtures/backends), each built with
//! pookie's defaults — `pookie-build-wheel` and zig — and tested with its own test suite:
//!
//! - cpp-stdlib: setuptools C++ that uses the standard library for real (streams, <regex>,
//!   threads, exceptions unwinding through std::sort);
//! - setuppy-only: setup.py and no pyproject.toml;
//! - cython-ext: Cython at build time (and, cross, a test requirement the index has no armv7l
//!   wheel of, cross-compiled by the build job for the tests);
//! - numpy-capi: the numpy C API (numpy a build requirement and a test requirement; for armv7l,
//!   which has no numpy wheel, numpy itself cross-compiled from its sdist);
//! - skbuild-pybind11: scikit-build-core, CMake and pybind11;
//! - meson-ext: meson-python, with a header configured at build time.
//!
//! for manylinux_2_17_x86_64 (natively), aarch64 and armv7l (cross-compiled, tests under QEMU),
//! musllinux_1_2_x86_64, and win_amd64 and macOS (cross-compiled, checked structurally); and
//! meson-python in emulate mode (meson and ninja under QEMU).
//!
//! Needs what `scripts/setup.sh --tests` prepares (images, QEMU, the CPython mirrors).

mod support;

use std::path::{Path, PathBuf};
use support::e2e::*;

const FIXTURES: [&str; 6] = ["cpp-stdlib", "setuppy-only", "cython-ext", "numpy-capi", "skbuild-pybind11", "meson-ext"];
const TEST: &str = "python -m unittest discover -v -s {project}/tests";

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/backends").join(name)
}

/// The fixture's pookie.toml: its tests (numpy's need numpy), `rest` for targets and Pythons.
fn config(name: &str, rest: &str) -> String {
    let requires = if name == "numpy-capi" { "test-requires = [\"numpy\"]\n" } else { "" };
    format!("test = \"{TEST}\"\n{requires}{rest}")
}

fn image(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_string())
}

/// Runs pookie on a copy of the fixture; returns the project and the report.
fn run(name: &str, toml: &str, extra: &[&str]) -> (Project, serde_json::Value) {
    run_with(name, toml, extra, None)
}

/// [`run`] with `mirror` as the user's CPython mirror.
fn run_with(name: &str, toml: &str, extra: &[&str], mirror: Option<&Path>) -> (Project, serde_json::Value) {
    let mut p = Project::of(&fixture(name), toml);
    p.mirror = mirror.map(Path::to_path_buf);
    let report = p.root.path().join("report.json");
    let mut args = vec!["run", "--report", report.to_str().unwrap()];
    args.extend(extra);
    let out = p.pookie(&args);
    let r = if report.is_file() { p.report(&report) } else { serde_json::Value::Null };
    assert!(r.is_object(), "{name}: no report:\n{}", stderr(&out));
    (p, r)
}

/// Every job of the run passed, and each test job ran the fixture's tests to OK.
fn all_passed(name: &str, p: &Project, r: &serde_json::Value) {
    for ((id, stage), status) in job_statuses(r) {
        assert_eq!(status, "passed", "{name} {id} {stage}: {}", p.log(&format!("{id}-{stage}.log")));
        if stage == "test" {
            let log = p.log(&format!("{id}-test.log"));
            assert!(log.contains("\nOK") && log.contains("Ran "), "{name} {id}: its tests did not pass:\n{log}");
        }
    }
}

/// The wheels in dist/, one per target, each carrying its target's tag.
fn wheels_for(name: &str, p: &Project, tags: &[&str]) -> Vec<String> {
    let wheels = p.wheels();
    assert_eq!(wheels.len(), tags.len(), "{name}: {wheels:?}");
    for tag in tags {
        assert!(
            wheels.iter().any(|w| w.trim_end_matches(".whl").rsplit('-').next().unwrap().split('.').any(|t| t == *tag)),
            "{name}: no wheel tagged {tag}: {wheels:?}"
        );
    }
    wheels
}

#[test]
fn every_backend_builds_natively_for_manylinux_x86_64_and_passes_its_tests() {
    require(&[&sid_image()]);
    let _serial = serial();
    for name in FIXTURES {
        let toml = config(
            name,
            &format!(
                "targets = [\"manylinux_2_17_x86_64\"]\n[python]\nsource = \"image\"\nversions = [\"3.13\"]\n[images]\nlinux-x86_64 = \"{}\"\n",
                sid_image()
            ),
        );
        let (p, r) = run(name, &toml, &[]);
        all_passed(name, &p, &r);
        wheels_for(name, &p, &["manylinux_2_17_x86_64"]);
        let build = p.log("cp313-manylinux_2_17_x86_64-build.log");
        assert!(build.contains("pookie-build-wheel: built"), "{name}: {build}");
    }
}

#[test]
fn every_backend_cross_compiles_for_aarch64_and_armv7l_and_passes_its_tests_under_qemu() {
    let (x86_64, arm64, armhf) = (
        image("POOKIE_TEST_X86_64_IMAGE", "debian:bookworm-slim"),
        image("POOKIE_TEST_ARM64_IMAGE", "debian-pythons:bookworm-arm64"),
        image("POOKIE_TEST_ARMHF_IMAGE", "debian-pythons:bookworm-armhf"),
    );
    require(&[&x86_64, &arm64, &armhf]);
    let _serial = serial();
    for name in FIXTURES {
        let rest = format!(
            "targets = [\"manylinux_2_17_aarch64\", \"manylinux_2_17_armv7l\"]\n[python]\nsource = \"image\"\nversions = [\"3.11\"]\n\
             [images]\nlinux-x86_64 = \"{x86_64}\"\nlinux-aarch64 = \"{arm64}\"\nlinux-armv7l = \"{armhf}\"\n"
        );
        // cython-ext's tests also need crc32c, a C extension with wheels for aarch64 and none for
        // armv7l: the armv7l build cross-compiles it for the tests.
        let toml = if name == "cython-ext" {
            format!(
                "test = '''{TEST} && python -c \"import crc32c; assert crc32c.crc32c(b'123456789') == 0xE3069283\"'''\n\
                 test-requires = [\"crc32c\"]\n{rest}"
            )
        } else {
            config(name, &rest)
        };
        let (p, r) = run(name, &toml, &[]);
        if name == "cython-ext" {
            let build = p.log("cp311-manylinux_2_17_aarch64-build.log");
            assert!(
                build.contains("every requirement of the tests has a wheel for the target"),
                "aarch64: the tests' requirements were not resolved for the target:\n{build}"
            );
            let build = p.log("cp311-manylinux_2_17_armv7l-build.log");
            assert!(
                build.contains("crc32c==") && build.contains("for the target, kept for later builds and the tests"),
                "armv7l: crc32c was not cross-compiled for the tests:\n{build}"
            );
            let test = p.log("cp311-manylinux_2_17_armv7l-test.log");
            assert!(
                test.contains("pookie-target-wheels/crc32c-"),
                "armv7l: the test did not install the cross-built crc32c:\n{test}"
            );
        }
        if name == "numpy-capi" {
            // aarch64: the target's numpy headers come from its wheel on the index.
            let build = p.log("cp311-manylinux_2_17_aarch64-build.log");
            assert!(
                build.contains("headers and libraries of numpy-"),
                "the target's numpy headers were not used:\n{build}"
            );
            // armv7l: numpy publishes no armv7l wheel, so pookie-build-wheel cross-compiles numpy
            // from its sdist (meson, with the cross file's long double format), builds against
            // it, and the test job installs that same numpy instead of compiling it under QEMU.
            let build = p.log("cp311-manylinux_2_17_armv7l-build.log");
            assert!(
                build.contains("the index has no wheel for the target; building it from its sdist")
                    && build.contains("for the target, kept for later builds and the tests"),
                "numpy was not built for armv7l:\n{build}"
            );
            let test = p.log("cp311-manylinux_2_17_armv7l-test.log");
            assert!(
                test.contains("pookie-target-wheels/numpy-"),
                "the test did not install the cross-built numpy:\n{test}"
            );
        }
        all_passed(name, &p, &r);
        wheels_for(name, &p, &["manylinux_2_17_aarch64", "manylinux_2_17_armv7l"]);
        for (id, platform) in [("cp311-manylinux_2_17_aarch64", "aarch64"), ("cp311-manylinux_2_17_armv7l", "armv7l")] {
            let build = p.log(&format!("{id}-build.log"));
            assert!(build.contains(&format!("cross-compiling for linux-{platform}")), "{name}: {build}");
        }
    }
}

#[test]
fn every_backend_builds_for_musllinux_x86_64_and_passes_its_tests() {
    let musl = image("POOKIE_TEST_MUSL_IMAGE", "debian-musl:trixie");
    require(&[&musl]);
    let mirror = python_mirror();
    let _serial = serial();
    for name in FIXTURES {
        let toml = config(
            name,
            &format!(
                "targets = [\"musllinux_1_2_x86_64\"]\n[python]\nversions = [\"3.11\"]\n[images]\nmusllinux-x86_64 = \"{musl}\"\n",
            ),
        );
        let (p, r) = run_with(name, &toml, &[], Some(&mirror));
        all_passed(name, &p, &r);
        wheels_for(name, &p, &["musllinux_1_2_x86_64"]);
    }
}

/// The extension modules of a wheel: name and bytes.
fn modules(wheel: &Path, suffix: &str) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(std::fs::File::open(wheel).unwrap()).unwrap();
    let names: Vec<String> =
        z.file_names().filter_map(|n| n.ok().map(|n| n.to_string())).filter(|n| n.ends_with(suffix)).collect();
    names
        .into_iter()
        .map(|n| {
            let mut buf = Vec::new();
            z.by_name(&n).unwrap().read_to_end(&mut buf).unwrap();
            (n, buf)
        })
        .collect()
}

#[test]
fn every_backend_cross_compiles_for_windows_and_macos() {
    let mirror = win_mac_mirror();
    require(&[&sid_image()]);
    let _serial = serial();
    for name in FIXTURES {
        let toml = config(
            name,
            &format!(
                "targets = [\"win_amd64\", \"macosx_11_0_x86_64\", \"macosx_11_0_arm64\"]\n[python]\nversions = [\"3.13\"]\n\
                 [images]\nlinux-x86_64 = \"{}\"\n",
                sid_image()
            ),
        );
        let (p, r) = run_with(name, &toml, &[], Some(&mirror));
        for ((id, stage), status) in job_statuses(&r) {
            // Tests: macOS's cannot run here; Windows's need a Windows CPython the mirror lacks.
            let expected: &[&str] =
                if stage == "build" { &["passed"] } else { &["not-runnable", "no-windows-python", "passed"] };
            assert!(expected.contains(&status.as_str()), "{name} {id} {stage}: {status}");
        }
        let wheels = wheels_for(name, &p, &["win_amd64", "macosx_11_0_x86_64", "macosx_11_0_arm64"]);
        for w in &wheels {
            let path = p.dir().join("dist").join(w);
            if w.ends_with("win_amd64.whl") {
                let mods = modules(&path, ".cp313-win_amd64.pyd");
                assert!(!mods.is_empty(), "{name}: no .pyd in {w}");
                for (m, bytes) in mods {
                    assert_eq!(&bytes[..2], b"MZ", "{name}: {m} is not a PE file");
                    let pe = u32::from_le_bytes(bytes[0x3c..0x40].try_into().unwrap()) as usize;
                    assert_eq!(&bytes[pe..pe + 4], b"PE\0\0");
                    assert_eq!(u16::from_le_bytes([bytes[pe + 4], bytes[pe + 5]]), 0x8664, "{name}: {m} is not AMD64");
                }
            } else {
                let mods = modules(&path, ".cpython-313-darwin.so");
                assert!(!mods.is_empty(), "{name}: no darwin module in {w}");
                let cpu: u32 = if w.ends_with("arm64.whl") { 0x0100_000c } else { 0x0100_0007 };
                for (m, bytes) in mods {
                    assert_eq!(&bytes[..4], &[0xcf, 0xfa, 0xed, 0xfe], "{name}: {m} is not a 64-bit Mach-O");
                    assert_eq!(u32::from_le_bytes(bytes[4..8].try_into().unwrap()), cpu, "{name}: {m} CPU type");
                }
            }
        }
    }
}

/// A manylinux policy other than 2_17: zig compiles against glibc 2.28's symbols, auditwheel
/// proves the policy and the wheel carries its tag; and gcc, the base image's compiler, meets
/// the policy of that image's glibc (Debian 12: 2.36) with C++ that needs its libstdc++.
#[test]
fn manylinux_policies_are_chosen_built_for_and_proven() {
    let bookworm = image("POOKIE_TEST_BOOKWORM_PYTHONS_IMAGE", "debian-pythons:bookworm");
    require(&[&sid_image(), &bookworm]);
    let _serial = serial();
    let zig = config(
        "cpp-stdlib",
        &format!(
            "targets = [\"manylinux_*\"]\nonly = \"*-manylinux_2_28_x86_64\"\n[linux]\nmanylinux = \"2_28\"\n[python]\nsource = \"image\"\nversions = [\"3.13\"]\n\
             [images]\nlinux-x86_64 = \"{}\"\n",
            sid_image()
        ),
    );
    let (p, r) = run("cpp-stdlib", &zig, &[]);
    all_passed("cpp-stdlib", &p, &r);
    wheels_for("cpp-stdlib", &p, &["manylinux_2_28_x86_64"]);
    let plan = p.plan(&[]);
    let build = plan["jobs"].as_array().unwrap().iter().find(|j| j["stage"] == "build").unwrap();
    assert_eq!(build["env"]["POOKIE_ZIG_TARGET"], "x86_64-linux-gnu.2.28");
    assert!(p.log("cp313-manylinux_2_28_x86_64-build.log").contains("--plat manylinux_2_28_x86_64"));

    let gcc = config(
        "cpp-stdlib",
        &format!(
            "targets = [\"manylinux_2_36_x86_64\"]\n[linux]\nx86_64-compiler = \"gcc\"\n[python]\nsource = \"image\"\nversions = [\"3.11\"]\n\
             [images]\nlinux-x86_64 = \"{bookworm}\"\n"
        ),
    );
    let (p, r) = run("cpp-stdlib", &gcc, &[]);
    all_passed("cpp-stdlib", &p, &r);
    wheels_for("cpp-stdlib", &p, &["manylinux_2_36_x86_64"]);
    let test = p.log("cp311-manylinux_2_36_x86_64-test.log");
    assert!(test.contains("with libstdc++"), "gcc's module links libstdc++:\n{test}");
}

/// Emulate mode runs the build's own tools under QEMU: meson and ninja of the target's
/// architecture configure and compile in the arm64 image.
#[test]
fn meson_builds_under_qemu_in_emulate_mode() {
    let (x86_64, arm64) = (
        image("POOKIE_TEST_X86_64_IMAGE", "debian:bookworm-slim"),
        image("POOKIE_TEST_ARM64_IMAGE", "debian-pythons:bookworm-arm64"),
    );
    require(&[&x86_64, &arm64]);
    let _serial = serial();
    let toml = config(
        "meson-ext",
        &format!(
            "targets = [\"manylinux_2_17_aarch64\"]\n[linux]\nnon-native-mode = \"emulate\"\n[python]\nsource = \"image\"\nversions = [\"3.11\"]\n\
             [images]\nlinux-x86_64 = \"{x86_64}\"\nlinux-aarch64 = \"{arm64}\"\n"
        ),
    );
    let (p, r) = run("meson-ext", &toml, &[]);
    all_passed("meson-ext", &p, &r);
    wheels_for("meson-ext", &p, &["manylinux_2_17_aarch64"]);
    let build = p.log("cp311-manylinux_2_17_aarch64-build.log");
    assert!(!build.contains("cross-compiling"), "{build}");
    assert!(
        build.contains("Build type: native build") && build.contains("Host machine cpu family: aarch64"),
        "meson did not build natively on aarch64:\n{build}"
    );
}
