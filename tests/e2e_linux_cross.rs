//! End to end, non-native Linux: the fixture project (a C and a C++ module) built for aarch64
//! and armv7l by cross-compilation (zig) and for aarch64 under QEMU, each wheel tested under
//! QEMU in its architecture's own image with Debian's CPython; musllinux x86_64 built and tested
//! with a real musl CPython, musllinux aarch64 cross-built and tested under QEMU with the aarch64
//! musl CPython of the mirror; and
//! `pookie doctor` reporting a missing QEMU registration with its fix.
//!
//! Needs what scripts/setup.sh prepares: the engine, QEMU registered with binfmt_misc, the
//! base images (bookworm x86_64, arm64 and armhf with CPython 3.11; trixie x86_64 and arm64 with musl) and the
//! CPython mirror of scripts/ci-python-mirror.sh. A missing piece fails with its fix.

mod support;

use std::path::Path;
use support::e2e::*;

const TEST: &str = "python -m unittest discover -v -s {project}/tests";
const EM_ARM: u16 = 40;
const EM_X86_64: u16 = 62;
const EM_AARCH64: u16 = 183;

fn image(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_string())
}

/// Debian 12 (its CPython 3.11 runs pip in the cross layers, beside the target's headers).
fn x86_64_image() -> String {
    image("POOKIE_TEST_X86_64_IMAGE", "debian:bookworm-slim")
}

fn arm64_image() -> String {
    image("POOKIE_TEST_ARM64_IMAGE", "debian-pythons:bookworm-arm64")
}

fn armhf_image() -> String {
    image("POOKIE_TEST_ARMHF_IMAGE", "debian-pythons:bookworm-armhf")
}

/// Debian 12 for i386 with CPython 3.11 (the host runs it natively).
fn i386_image() -> String {
    image("POOKIE_TEST_I386_IMAGE", "debian-pythons:bookworm-i386")
}

/// Debian 13 for riscv64 (the first release with the port) with CPython 3.13.
fn riscv64_image() -> String {
    image("POOKIE_TEST_RISCV64_IMAGE", "debian-pythons:trixie-riscv64")
}

/// The sid image: its CPython 3.13 runs pip in the riscv64 cross layer.
fn x86_64_313_image() -> String {
    image("POOKIE_TEST_SID_IMAGE", "debian-pythons:sid")
}

/// Debian 13 with the `musl` package (1.2.5, as Alpine 3.22), whose loader runs a musl CPython.
fn musl_image() -> String {
    image("POOKIE_TEST_MUSL_IMAGE", "debian-musl:trixie")
}

/// trixie arm64 with musl's loader: runs the mirror's aarch64 musl CPython under QEMU.
fn musl_arm64_image() -> String {
    image("POOKIE_TEST_MUSL_ARM64_IMAGE", "debian-musl:trixie-arm64")
}

/// Fails unless the kernel hands these architectures' binaries to QEMU, visibly to containers.
fn require_qemu(entries: &[&str]) {
    for name in entries {
        let path = Path::new("/proc/sys/fs/binfmt_misc").join(name);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let flags = text.lines().find_map(|l| l.strip_prefix("flags:")).unwrap_or("");
        assert!(
            text.starts_with("enabled") && flags.contains('F'),
            "QEMU is not registered (enabled, with the F flag) at {}: `sudo pookie setup qemu` (scripts/setup.sh does it)",
            path.display()
        );
    }
}

fn config(target: &str, images: &[(&str, String)], extra: &str) -> String {
    let images: String = images.iter().map(|(k, v)| format!("{k} = \"{v}\"\n")).collect();
    format!(
        r#"targets = ["{target}"]
{extra}
[python]
source = "image"
versions = ["3.11"]

[images]
{images}"#
    )
}

/// The single job of `stage` in a `--report` JSON.
fn job<'a>(report: &'a serde_json::Value, stage: &str) -> &'a serde_json::Value {
    report["nodes"].as_array().unwrap().iter().find(|n| n["kind"] == "job" && n["stage"] == stage).expect("job")
}

fn plan_job<'a>(plan: &'a serde_json::Value, stage: &str) -> &'a serde_json::Value {
    plan["jobs"].as_array().unwrap().iter().find(|j| j["stage"] == stage).expect("job in plan")
}

fn image_tag(plan: &serde_json::Value, name: &str) -> String {
    let image = plan["images"].as_array().unwrap().iter().find(|i| i["name"] == name).expect("image in plan");
    image["tag"].as_str().expect("tag").to_string()
}

/// Every `.so` of a wheel: name and bytes.
fn shared_objects(wheel: &Path) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(std::fs::File::open(wheel).unwrap()).unwrap();
    let names: Vec<String> =
        z.file_names().filter_map(|n| n.ok().map(|n| n.to_string())).filter(|n| n.ends_with(".so")).collect();
    names
        .into_iter()
        .map(|n| {
            let mut buf = Vec::new();
            z.by_name(&n).unwrap().read_to_end(&mut buf).unwrap();
            (n, buf)
        })
        .collect()
}

/// `readelf ARGS` on an ELF file's bytes.
fn readelf(bytes: &[u8], args: &[&str]) -> String {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), bytes).unwrap();
    let out = std::process::Command::new("readelf").args(args).arg(f.path()).output().expect("readelf runs (binutils)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The one wheel in dist/, checked: both tags name `platform` (and nothing else), every
/// extension module is an ELF shared object for `machine` with the target's EXT_SUFFIX.
fn the_wheel(p: &Project, platform: &str, machine: u16, ext_suffix: &str) -> (String, Vec<(String, Vec<u8>)>) {
    let wheels = p.wheels();
    assert_eq!(wheels.len(), 1, "{wheels:?}");
    let wheel = wheels[0].clone();
    let platforms: Vec<&str> = wheel.trim_end_matches(".whl").rsplit('-').next().unwrap().split('.').collect();
    assert!(platforms.contains(&platform), "{wheel} lacks {platform}");
    let alias = platform.replace("manylinux_2_17_", "manylinux2014_");
    assert!(platforms.iter().all(|t| *t == platform || *t == alias), "{wheel} carries other tags");
    let sos = shared_objects(&p.dir().join("dist").join(&wheel));
    assert_eq!(sos.len(), 2, "the C and the C++ module: {:?}", sos.iter().map(|s| &s.0).collect::<Vec<_>>());
    for (name, bytes) in &sos {
        assert_eq!(&bytes[..4], b"\x7fELF", "{name}");
        assert_eq!(u16::from_le_bytes([bytes[18], bytes[19]]), machine, "{name}: ELF machine");
        assert_eq!(u16::from_le_bytes([bytes[16], bytes[17]]), 3, "{name}: not a shared object");
        assert!(name.ends_with(ext_suffix), "{name} does not end with {ext_suffix}");
    }
    (wheel, sos)
}

/// `auditwheel show`, in the image that repaired the wheel (through pookie's wrapper, which
/// knows the target's architecture and libc), finds the wheel consistent with `platform`.
fn auditwheel_agrees(p: &Project, image: &str, wheel: &str, platform: &str) {
    let out = engine_output(&[
        "run",
        "--rm",
        "-v",
        &format!("{}:/dist:ro", p.dir().join("dist").display()),
        image,
        "pookie-auditwheel",
        platform,
        "show",
        &format!("/dist/{wheel}"),
    ]);
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(&format!("consistent with the following platform tag: \"{platform}\"")),
        "auditwheel show says:\n{out}"
    );
}

/// The test job ran the fixture's tests, which passed, under the target's own CPython.
fn tests_passed_on(p: &Project, id: &str, platform: &str) {
    let log = p.log(&format!("{id}-test.log"));
    assert!(log.contains("Ran 6 tests"), "the fixture's tests did not run:\n{log}");
    assert!(log.contains("OK (skipped=1)"), "the fixture's tests did not pass:\n{log}");
    assert!(log.contains("fixturepkg tested on 3.11."), "{log}");
    assert!(log.contains(platform), "the tests did not run on {platform}:\n{log}");
}

fn run_ok(p: &Project, extra: &[&str]) -> serde_json::Value {
    let report = p.root.path().join("report.json");
    let mut args = vec!["run", "--report", report.to_str().unwrap()];
    args.extend(extra);
    let out = p.pookie(&args);
    assert!(out.status.success(), "pookie run {extra:?} failed:\n{}\n{}", stdout(&out), stderr(&out));
    let r = p.report(&report);
    for ((id, stage), status) in job_statuses(&r) {
        assert_eq!(status, "passed", "{id} {stage}");
    }
    r
}

#[test]
fn aarch64_wheels_cross_compiled_and_emulated_pass_their_tests_under_qemu() {
    require(&[&x86_64_image(), &arm64_image()]);
    require_qemu(&["qemu-aarch64"]);
    let _serial = serial();
    let p = Project::new(&config(
        "manylinux_2_17_aarch64",
        &[("linux-x86_64", x86_64_image()), ("linux-aarch64", arm64_image())],
        &format!("test = \"{TEST}\""),
    ));
    let id = "cp311-manylinux_2_17_aarch64";
    let suffix = ".cpython-311-aarch64-linux-gnu.so";

    // cross, the default: zig on the host's CPU, tests under QEMU in the arm64 image.
    let cross = run_ok(&p, &[]);
    let plan = p.plan(&[]);
    let (build, test) = (plan_job(&plan, "build"), plan_job(&plan, "test"));
    assert_eq!(build["runner"], "native");
    assert_eq!(build["image"], "python/linux-x86_64/zig/cp311/manylinux_2_17_aarch64");
    assert_eq!(build["env"]["POOKIE_ZIG_TARGET"], "aarch64-linux-gnu.2.17");
    assert_eq!(test["runner"], "qemu-aarch64");
    assert_eq!(test["image"], "python/linux-aarch64/runtime/cp311");
    // pip resolves and installs for the target in the build's image: only the tests run emulated.
    assert_eq!(test["install_image"], build["image"]);
    let log = p.log(&format!("{id}-test.log"));
    assert!(log.contains("were installed natively, for the target"), "{log}");
    assert!(!log.contains("with pip"), "pip ran under QEMU:\n{log}");
    let (wheel, sos) = the_wheel(&p, "manylinux_2_17_aarch64", EM_AARCH64, suffix);
    for (name, bytes) in &sos {
        let comment = readelf(bytes, &["-p", ".comment"]);
        assert!(
            comment.contains("Linker: LLD") && !comment.contains("GCC:"),
            "{name} was not linked by zig:\n{comment}"
        );
    }
    auditwheel_agrees(
        &p,
        &image_tag(&plan, "python/linux-x86_64/zig/cp311/manylinux_2_17_aarch64"),
        &wheel,
        "manylinux_2_17_aarch64",
    );
    tests_passed_on(&p, id, "linux-aarch64");
    let cross_secs = job(&cross, "build")["seconds"].as_f64().unwrap();

    // A before-test that installs a package: pip then installs the wheel under QEMU, against it.
    let toml_path = p.dir().join("pookie.toml");
    let toml = std::fs::read_to_string(&toml_path).unwrap();
    std::fs::write(&toml_path, toml.replacen("test = ", "before-test = \"python -m pip install -q six\"\ntest = ", 1))
        .unwrap();
    run_ok(&p, &["--force"]);
    let log = p.log(&format!("{id}-test.log"));
    assert!(log.contains("before-test changed the test environment's packages"), "{log}");
    tests_passed_on(&p, id, "linux-aarch64");
    std::fs::write(&toml_path, toml).unwrap();

    // emulate: gcc in the arm64 image under QEMU, tests there too; pip still installs natively,
    // in the layer the cross build used (no before-all runs there).
    let emulated = run_ok(&p, &["--linux-non-native-mode", "emulate"]);
    let plan = p.plan(&["--linux-non-native-mode", "emulate"]);
    let (build, test) = (plan_job(&plan, "build"), plan_job(&plan, "test"));
    assert_eq!(build["runner"], "qemu-aarch64");
    assert_eq!(build["image"], "python/linux-aarch64/gcc/cp311");
    assert_eq!(test["image"], "python/linux-aarch64/gcc/cp311");
    assert_eq!(test["install_image"], "python/linux-x86_64/zig/cp311/manylinux_2_17_aarch64");
    let log = p.log(&format!("{id}-test.log"));
    assert!(log.contains("were installed natively, for the target"), "{log}");
    assert!(!log.contains("with pip"), "pip ran under QEMU:\n{log}");
    let (wheel, sos) = the_wheel(&p, "manylinux_2_17_aarch64", EM_AARCH64, suffix);
    for (name, bytes) in &sos {
        let comment = readelf(bytes, &["-p", ".comment"]);
        assert!(comment.contains("GCC: (Debian"), "{name} was not compiled by the image's gcc:\n{comment}");
    }
    auditwheel_agrees(&p, &image_tag(&plan, "python/linux-aarch64/gcc/cp311"), &wheel, "manylinux_2_17_aarch64");
    tests_passed_on(&p, id, "linux-aarch64");
    let emulated_secs = job(&emulated, "build")["seconds"].as_f64().unwrap();
    eprintln!("aarch64 build: cross {cross_secs:.1}s, emulated {emulated_secs:.1}s");
}

#[test]
fn armv7l_wheels_are_cross_compiled_tagged_manylinux_2_17_armv7l_and_tested_under_qemu() {
    require(&[&x86_64_image(), &armhf_image()]);
    require_qemu(&["qemu-arm"]);
    let _serial = serial();
    // psutil, a test requirement with no armv7l wheel on PyPI, is cross-compiled from its sdist
    // by the build job, at native speed, and the test job installs that wheel (were that to
    // fail, the test job would build it from source under QEMU, as on an ARMv7 machine).
    let p = Project::new(&config(
        "manylinux_2_17_armv7l",
        &[("linux-x86_64", x86_64_image()), ("linux-armv7l", armhf_image())],
        &format!(
            "test = \"python -c 'import psutil; assert psutil.cpu_count() >= 1' && {TEST}\"\ntest-requires = [\"psutil\"]"
        ),
    ));
    run_ok(&p, &[]);
    let build_log = p.log("cp311-manylinux_2_17_armv7l-build.log");
    assert!(
        build_log.contains("psutil==") && build_log.contains("for the target, kept for later builds and the tests"),
        "psutil was not cross-compiled from its sdist for armv7l:\n{build_log}"
    );
    let test_log = p.log("cp311-manylinux_2_17_armv7l-test.log");
    assert!(
        test_log.contains("pookie-target-wheels/psutil-") && test_log.contains("linux_armv7l.whl"),
        "the test job did not install the cross-compiled psutil:\n{test_log}"
    );
    let plan = p.plan(&[]);
    assert_eq!(plan_job(&plan, "test")["runner"], "qemu-armv7l");
    let (wheel, sos) = the_wheel(&p, "manylinux_2_17_armv7l", EM_ARM, ".cpython-311-arm-linux-gnueabihf.so");
    for (name, bytes) in &sos {
        assert_eq!(bytes[4], 1, "{name} is not 32-bit");
        let attrs = readelf(bytes, &["-A"]);
        assert!(attrs.contains("Tag_ABI_VFP_args: VFP registers"), "{name} is not hard-float:\n{attrs}");
    }
    let build = p.log("cp311-manylinux_2_17_armv7l-build.log");
    assert!(build.contains("cp311-linux_armv7l.whl"), "setuptools did not tag the wheel linux_armv7l:\n{build}");
    auditwheel_agrees(
        &p,
        &image_tag(&plan, "python/linux-x86_64/zig/cp311/manylinux_2_17_armv7l"),
        &wheel,
        "manylinux_2_17_armv7l",
    );
    tests_passed_on(&p, "cp311-manylinux_2_17_armv7l", "linux-armv7l");
}

/// The one wheel in dist/ carries `platform` (and maybe the older aliases auditwheel adds) and
/// holds two extension modules: ELF shared objects for `machine`, of `class` (1: 32-bit, 2: 64-bit),
/// named with `ext_suffix`.
fn a_wheel_for(p: &Project, platform: &str, machine: u16, class: u8, ext_suffix: &str) -> String {
    let wheels = p.wheels();
    assert_eq!(wheels.len(), 1, "{wheels:?}");
    let platforms: Vec<&str> = wheels[0].trim_end_matches(".whl").rsplit('-').next().unwrap().split('.').collect();
    assert!(platforms.contains(&platform), "{} lacks {platform}", wheels[0]);
    let sos = shared_objects(&p.dir().join("dist").join(&wheels[0]));
    assert_eq!(sos.len(), 2, "the C and the C++ module: {:?}", sos.iter().map(|s| &s.0).collect::<Vec<_>>());
    for (name, bytes) in &sos {
        assert_eq!((&bytes[..4], bytes[4]), (&b"\x7fELF"[..], class), "{name}: ELF class");
        assert_eq!(u16::from_le_bytes([bytes[18], bytes[19]]), machine, "{name}: ELF machine");
        assert!(name.ends_with(ext_suffix), "{name} does not end with {ext_suffix}");
        let comment = readelf(bytes, &["-p", ".comment"]);
        assert!(comment.contains("Linker: LLD"), "{name} was not linked by zig:\n{comment}");
    }
    wheels[0].clone()
}

/// i686: zig cross-compiles it in either mode (the host runs i686 code, there is nothing to
/// emulate) and the tests run natively, without QEMU, in the i386 image with Debian's CPython.
#[test]
fn i686_wheels_are_cross_compiled_and_tested_natively() {
    require(&[&x86_64_image(), &i386_image()]);
    let _serial = serial();
    let p = Project::new(&config(
        "manylinux_2_17_i686",
        &[("linux-x86_64", x86_64_image()), ("linux-i686", i386_image())],
        &format!("test = \"{TEST}\""),
    ));
    for mode in ["cross", "emulate"] {
        let plan = p.plan(&["--linux-non-native-mode", mode]);
        let (build, test) = (plan_job(&plan, "build"), plan_job(&plan, "test"));
        assert_eq!(build["runner"], "native", "{mode}");
        assert_eq!(build["image"], "python/linux-x86_64/zig/cp311/manylinux_2_17_i686", "{mode}");
        assert_eq!(build["env"]["POOKIE_ZIG_TARGET"], "x86-linux-gnu.2.17", "{mode}");
        assert_eq!(test["runner"], "native", "{mode}");
        assert_eq!(test["image"], "python/linux-i686/runtime/cp311", "{mode}");
    }
    run_ok(&p, &[]);
    const EM_386: u16 = 3;
    let wheel = a_wheel_for(&p, "manylinux_2_17_i686", EM_386, 1, ".cpython-311-i386-linux-gnu.so");
    let plan = p.plan(&[]);
    // The fixture needs nothing of glibc newer than 2.4 (zig links libc++ statically): auditwheel
    // finds it fit for the oldest policy, whose tags the repair added too.
    auditwheel_agrees(
        &p,
        &image_tag(&plan, "python/linux-x86_64/zig/cp311/manylinux_2_17_i686"),
        &wheel,
        "manylinux_2_5_i686",
    );
    tests_passed_on(&p, "cp311-manylinux_2_17_i686", "linux-i686");
}

/// riscv64: cross-compiled by zig against glibc 2.31 (the oldest policy auditwheel knows for it),
/// tagged manylinux_2_31_riscv64, and tested under QEMU in Debian 13's riscv64 image.
#[test]
fn riscv64_wheels_are_cross_compiled_for_manylinux_2_31_and_tested_under_qemu() {
    require(&[&x86_64_313_image(), &riscv64_image()]);
    require_qemu(&["qemu-riscv64"]);
    let _serial = serial();
    let p = Project::new(
        &config(
            "manylinux_2_31_riscv64",
            &[("linux-x86_64", x86_64_313_image()), ("linux-riscv64", riscv64_image())],
            &format!("test = \"{TEST}\""),
        )
        .replace("versions = [\"3.11\"]", "versions = [\"3.13\"]"),
    );
    let plan = p.plan(&[]);
    let (build, test) = (plan_job(&plan, "build"), plan_job(&plan, "test"));
    assert_eq!(build["env"]["POOKIE_ZIG_TARGET"], "riscv64-linux-gnu.2.31");
    assert_eq!(test["runner"], "qemu-riscv64");
    assert_eq!(test["image"], "python/linux-riscv64/runtime/cp313");
    run_ok(&p, &[]);
    const EM_RISCV: u16 = 243;
    let wheel = a_wheel_for(&p, "manylinux_2_31_riscv64", EM_RISCV, 2, ".cpython-313-riscv64-linux-gnu.so");
    auditwheel_agrees(
        &p,
        &image_tag(&plan, "python/linux-x86_64/zig/cp313/manylinux_2_31_riscv64"),
        &wheel,
        "manylinux_2_31_riscv64",
    );
    let log = p.log("cp313-manylinux_2_31_riscv64-test.log");
    assert!(log.contains("Ran 6 tests") && log.contains("OK (skipped=1)"), "{log}");
    assert!(log.contains("fixturepkg tested on 3.13.") && log.contains("linux-riscv64"), "{log}");
}

/// A musl project: Python from the mirror, built with pip's default build isolation (setuptools
/// comes from the package index, over HTTPS through the CA bundle pookie passes on, as on a
/// machine behind a proxy), and tested with pytest, a test requirement from the index.
fn musl_project(target: &str, images: &[(&str, String)], test: bool) -> Project {
    let mirror = python_mirror();
    let images: String = images.iter().map(|(k, v)| format!("{k} = \"{v}\"\n")).collect();
    let test = if test {
        // The interpreter says which libc and OpenSSL it has before the fixture's tests run.
        "test = \"\"\"python -c 'import ssl, sysconfig; print(\"interpreter for\", sysconfig.get_config_var(\"HOST_GNU_TYPE\"), \"with\", ssl.OPENSSL_VERSION)' && python -m pytest -v {project}/tests\"\"\"\ntest-requires = [\"pytest\"]"
    } else {
        ""
    };
    Project::new(&format!(
        r#"targets = ["{target}"]
{test}
[python]
versions = ["3.11"]

[images]
{images}"#
    ))
    .with_mirror(&mirror)
}

/// The extension modules need no glibc, and musl's libc under the musllinux policy's name
/// (what Alpine's toolchain writes; pookie's repair renames zig's `libc.so`).
fn links_musl_only(sos: &[(String, Vec<u8>)], libc: &str) {
    for (name, bytes) in sos {
        let dynamic = readelf(bytes, &["-d", "-V"]);
        assert!(!dynamic.contains("libc.so.6") && !dynamic.contains("GLIBC_"), "{name} links glibc:\n{dynamic}");
        let needed: Vec<&str> =
            dynamic.lines().filter(|l| l.contains("(NEEDED)")).filter_map(|l| l.split('[').nth(1)).collect();
        assert!(
            needed.iter().all(|n| n.trim_end_matches(']') == libc),
            "{name} needs {needed:?}, expected only {libc}"
        );
    }
}

#[test]
fn musllinux_x86_64_wheels_are_built_and_tested_with_a_musl_cpython() {
    require(&[&musl_image()]);
    let _serial = serial();
    let p = musl_project("musllinux_1_2_x86_64", &[("musllinux-x86_64", musl_image())], true);
    run_ok(&p, &[]);
    let plan = p.plan(&[]);
    let build = plan_job(&plan, "build");
    assert_eq!(build["runner"], "native");
    assert_eq!(build["env"]["POOKIE_ZIG_TARGET"], "x86_64-linux-musl");
    let (wheel, sos) = the_wheel(&p, "musllinux_1_2_x86_64", EM_X86_64, ".cpython-311-x86_64-linux-musl.so");
    links_musl_only(&sos, "libc.musl-x86_64.so.1");
    let python = "python/musllinux-x86_64/zig/cp311/musllinux_1_2_x86_64";
    auditwheel_agrees(&p, &image_tag(&plan, python), &wheel, "musllinux_1_2_x86_64");
    let build_log = p.log("cp311-musllinux_1_2_x86_64-build.log");
    assert!(
        build_log.contains("Successfully installed setuptools"),
        "setuptools did not come from the index:\n{build_log}"
    );
    let log = p.log("cp311-musllinux_1_2_x86_64-test.log");
    assert!(
        log.contains("interpreter for x86_64-pc-linux-musl with OpenSSL 3."),
        "the tests did not run on the musl CPython with ssl:\n{log}"
    );
    assert!(log.contains("Successfully installed") && log.contains("pytest-"), "pytest was not installed:\n{log}");
    assert!(log.contains("5 passed, 1 skipped"), "the fixture's tests did not pass under pytest:\n{log}");
    assert!(log.contains("test_imported_from_the_installed_wheel PASSED"), "{log}");
}

#[test]
fn musllinux_aarch64_wheels_are_cross_compiled_and_tested_under_qemu_with_a_musl_cpython() {
    require(&[&x86_64_image(), &musl_arm64_image()]);
    require_qemu(&["qemu-aarch64"]);
    let _serial = serial();
    let p = musl_project(
        "musllinux_1_2_aarch64",
        &[("linux-x86_64", x86_64_image()), ("musllinux-aarch64", musl_arm64_image())],
        true,
    );
    run_ok(&p, &[]);
    let plan = p.plan(&[]);
    assert_eq!(plan_job(&plan, "build")["env"]["POOKIE_ZIG_TARGET"], "aarch64-linux-musl");
    assert_eq!(plan_job(&plan, "test")["runner"], "qemu-aarch64");
    // The tests ran on the aarch64 musl CPython (with ssl: pytest came from the index), under QEMU.
    let log = p.log("cp311-musllinux_1_2_aarch64-test.log");
    assert!(
        log.contains("interpreter for aarch64-") && log.contains("-linux-musl with OpenSSL 3."),
        "the tests did not run on the aarch64 musl CPython with ssl:\n{log}"
    );
    assert!(log.contains("5 passed, 1 skipped"), "the fixture's tests did not pass under pytest:\n{log}");
    assert!(log.contains("test_imported_from_the_installed_wheel PASSED"), "{log}");
    let (wheel, sos) = the_wheel(&p, "musllinux_1_2_aarch64", EM_AARCH64, ".cpython-311-aarch64-linux-musl.so");
    links_musl_only(&sos, "libc.musl-aarch64.so.1");
    let python = "python/linux-x86_64/zig/cp311/musllinux_1_2_aarch64";
    auditwheel_agrees(&p, &image_tag(&plan, python), &wheel, "musllinux_1_2_aarch64");
    // The headers and sysconfig data came from a real aarch64 musl CPython: its interpreter
    // binary is an aarch64 program for musl's loader.
    let sums = std::fs::read_to_string(python_mirror().join("SHA256SUMS")).unwrap();
    let archive =
        sums.split_whitespace().find(|n| n.contains("aarch64-unknown-linux-musl")).expect("aarch64 musl archive");
    let listing = std::process::Command::new("tar")
        .args(["-xzOf", &python_mirror().join(archive).to_string_lossy(), "python/bin/python3.11"])
        .output()
        .unwrap();
    assert!(listing.status.success());
    let interp = readelf(&listing.stdout, &["-l"]);
    assert!(interp.contains("/lib/ld-musl-aarch64.so.1"), "{interp}");
    assert_eq!(u16::from_le_bytes([listing.stdout[18], listing.stdout[19]]), EM_AARCH64);
}

/// C code that reads and writes 64-bit words through casted, unaligned pointers (as bit-array,
/// hashing and compression libraries do): on aarch64 its tests pass under QEMU; on armv7l the
/// LDRD QEMU's user mode refuses (SIGBUS) is found in the core dump and reported as what it is —
/// an access a real ARMv7 kernel performs — instead of a failed test, and the wheel is published.
#[test]
fn armv7l_unaligned_accesses_are_reported_with_their_instruction_not_as_failures() {
    require(&[&x86_64_image(), &arm64_image(), &armhf_image()]);
    require_qemu(&["qemu-aarch64", "qemu-arm"]);
    let _serial = serial();
    let p = Project::of(
        &repo().join("tests/fixtures/unaligned"),
        &format!(
            "targets = [\"manylinux_2_17_aarch64\", \"manylinux_2_17_armv7l\"]\ntest = \"{TEST}\"\n\
             [python]\nsource = \"image\"\nversions = [\"3.11\"]\n\
             [images]\nlinux-x86_64 = \"{}\"\nlinux-aarch64 = \"{}\"\nlinux-armv7l = \"{}\"\n",
            x86_64_image(),
            arm64_image(),
            armhf_image()
        ),
    );
    let report = p.root.path().join("report.json");
    let out = p.pookie(&["run", "--report", report.to_str().unwrap()]);
    assert!(out.status.success(), "an emulation limit must not fail the run:\n{}", stderr(&out));
    let r = p.report(&report);
    let jobs = job_statuses(&r);
    assert_eq!(jobs[&("cp311-manylinux_2_17_aarch64".to_string(), "test".to_string())], "passed");
    assert_eq!(jobs[&("cp311-manylinux_2_17_armv7l".to_string(), "test".to_string())], "emulation-limit");
    let node = r["nodes"].as_array().unwrap().iter().find(|n| n["name"] == "cp311-manylinux_2_17_armv7l/test").unwrap();
    let reason = node["reason"].as_str().unwrap();
    let re = regex::Regex::new(
        r"^LDRD at unaligned/_words\.cpython-311-arm-linux-gnueabihf\.so\+0x[0-9a-f]+ accessed 0x[0-9a-f]*[1235679abdef], not 4-byte aligned: QEMU's user mode",
    )
    .unwrap();
    assert!(re.is_match(reason), "{reason}");
    assert!(stdout(&out).contains("1 not verified: stopped by QEMU's user mode"), "{}", stdout(&out));
    assert_eq!(p.wheels().len(), 2, "both wheels are published: {:?}", p.wheels());
    let cwd = p.dir().join(".pookie/jobs/cp311-manylinux_2_17_armv7l-test/cwd");
    let left: Vec<_> = std::fs::read_dir(&cwd).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    assert!(left.is_empty(), "core dumps left in {}: {left:?}", cwd.display());
}

/// The same kind of access on a real ARMv7 kernel (Debian 12's, booted by qemu-system-arm):
/// scripts/armv7-alignment.sh shows QEMU's user mode stopping it with SIGBUS and the kernel
/// fixing it up.
#[test]
fn an_armv7_kernel_fixes_up_what_qemu_user_mode_refuses() {
    require(&[&armhf_image()]);
    require_qemu(&["qemu-arm"]);
    let out = std::process::Command::new(repo().join("scripts/armv7-alignment.sh")).arg(ci_cache()).output().unwrap();
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(text.contains("exit 135") && text.contains("(fixup)") && text.contains("DWord:\t\t8"), "{text}");
}

#[test]
fn doctor_reports_a_missing_qemu_registration_with_its_fix() {
    require(&[]);
    let _serial = serial();
    let p = Project::new(&config(
        "manylinux_2_17_aarch64",
        &[("linux-x86_64", x86_64_image()), ("linux-aarch64", arm64_image())],
        &format!("test = \"{TEST}\""),
    ));
    let binfmt = tempfile::tempdir().unwrap();
    let doctor = |args: &[&str]| {
        let out = p.command().env("POOKIE_BINFMT_DIR", binfmt.path()).args(args).output().unwrap();
        eprintln!("$ pookie {args:?}\n{}{}", stdout(&out), stderr(&out));
        out
    };
    let line_with = |text: &str, needle: &str| -> String {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{text}"))
            .to_string()
    };
    let fix = "fix: sudo pookie setup qemu";

    // An empty directory: binfmt_misc is not mounted there.
    let out = doctor(&["doctor"]);
    assert_eq!(out.status.code(), Some(1));
    let line = line_with(&stdout(&out), "qemu aarch64");
    assert!(line.starts_with("FAIL") && line.contains("binfmt_misc is not mounted at"), "{line}");
    assert!(stdout(&out).contains(fix), "{}", stdout(&out));

    // Mounted, but nothing registered for aarch64.
    std::fs::write(binfmt.path().join("status"), "enabled\n").unwrap();
    let out = doctor(&["doctor"]);
    assert_eq!(out.status.code(), Some(1));
    let line = line_with(&stdout(&out), "qemu aarch64");
    assert!(line.contains("QEMU is not registered for aarch64: no qemu-aarch64 entry"), "{line}");
    assert!(stdout(&out).contains(fix));

    // Registered without F: containers would not find the emulator.
    std::fs::write(binfmt.path().join("qemu-aarch64"), "enabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: P\n")
        .unwrap();
    let out = doctor(&["doctor"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(line_with(&stdout(&out), "qemu aarch64").contains("without the F flag"), "{}", stdout(&out));

    // `pookie run` stops with the same message before it builds or starts anything.
    let out = doctor(&["run"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(line_with(&err, "qemu aarch64").contains("without the F flag"), "{err}");
    assert!(err.contains(fix) && err.contains("nothing was started"), "{err}");
    assert!(!p.dir().join(".pookie/jobs").exists() && !p.dir().join(".pookie/logs").exists(), "something started");

    // A plan that runs nothing under emulation does not ask for QEMU.
    let out = doctor(&["doctor", "--target", "manylinux_2_17_x86_64"]);
    assert!(!stdout(&out).contains("qemu"), "{}", stdout(&out));

    // This machine's own registration (scripts/setup.sh made it) satisfies the check.
    let out = p.pookie(&["doctor"]);
    let line = line_with(&stdout(&out), "qemu aarch64");
    assert!(line.starts_with("ok") && line.contains("flags"), "{line}");
}

/// `build-frontend = "build[uv]"` in a cross build: pookie's split of build-machine and target
/// requirements stays, with uv (x86_64, in the cross Python layer) installing the environment.
#[test]
fn a_cross_build_with_the_uv_installer_passes_its_tests_under_qemu() {
    require(&[&x86_64_image(), &arm64_image()]);
    require_qemu(&["qemu-aarch64"]);
    let _serial = serial();
    let p = Project::new(&config(
        "manylinux_2_17_aarch64",
        &[("linux-x86_64", x86_64_image()), ("linux-aarch64", arm64_image())],
        &format!("test = \"{TEST}\"\nbuild-frontend = \"build[uv]\""),
    ));
    run_ok(&p, &[]);
    let id = "cp311-manylinux_2_17_aarch64";
    let build = p.log(&format!("{id}-build.log"));
    assert!(
        build.contains("frontend build[uv], installer uv") && build.contains("+ uv pip install --python"),
        "the environment was not installed by uv:\n{build}"
    );
    the_wheel(&p, "manylinux_2_17_aarch64", EM_AARCH64, ".cpython-311-aarch64-linux-gnu.so");
    tests_passed_on(&p, id, "linux-aarch64");
}
