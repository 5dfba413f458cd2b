//! End to end: `pookie run` cross-builds the fixture project (a C module and a C++ module) with
//! zig for win_amd64, win_arm64, macosx_11_0_x86_64, macosx_11_0_arm64 and macosx_11_0_universal2
//! (a fat Mach-O per module, both slices checked), from the CPython mirror that
//! `scripts/ci-python-mirror-win-mac.sh` makes (headers, import library and sysconfig data of
//! CPython 3.13; no Windows or macOS interpreter is reachable here), and checks the wheels with
//! real parsers: PE32+ `.pyd` files importing python313.dll and exporting `PyInit_*`, Mach-O
//! files of the right architecture exporting `_PyInit_*` with no libpython load command, and
//! the wheels' tags and RECORD hashes (read here and by the `wheel` tool). Windows tests run
//! under Wine whenever a Windows CPython archive is available (`POOKIE_TEST_WINDOWS_PYTHON`, or
//! python-build-standalone's in the pookie cache); otherwise the run must say "skipped: no
//! Windows CPython" and not pass them.

mod support;

use base64::Engine as _;
use object::read::macho::{FatArch as _, MachOFile64};
use object::{Architecture, BinaryFormat, Endianness, Object, ObjectSymbol};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use support::e2e::*;

fn mirror() -> PathBuf {
    win_mac_mirror()
}

/// The project's configuration; the mirror is the user's (see [`Project::with_mirror`]).
fn config(targets: &[&str]) -> String {
    let targets: Vec<String> = targets.iter().map(|t| format!("\"{t}\"")).collect();
    format!(
        r#"targets = [{}]
test = "python -m unittest discover -v -s {{project}}/tests"

[python]
versions = ["3.13"]

[images]
linux-x86_64 = "{}"
"#,
        targets.join(", "),
        sid_image()
    )
}

/// Every member of the wheel, by name.
fn members(wheel: &Path) -> Vec<(String, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(wheel).expect("wheel opens")).expect("wheel is a zip");
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).expect("member");
            let mut buf = Vec::new();
            f.read_to_end(&mut buf).expect("member reads");
            (f.name().expect("member name").to_string(), buf)
        })
        .collect()
}

/// The `wheel` tool (Debian's python3-wheel, which scripts/setup.sh installs) unpacks the wheel:
/// it refuses a file name it cannot parse, a member RECORD does not list, and a hash mismatch.
fn wheel_tool_unpacks(wheel: &Path) {
    let python = Path::new("/usr/bin/python3");
    let dest = tempfile::tempdir().expect("temp dir");
    let out = std::process::Command::new(python)
        .args(["-m", "wheel", "unpack", "--dest"])
        .arg(dest.path())
        .arg(wheel)
        .output()
        .unwrap_or_else(|e| panic!("{} -m wheel (python3-wheel, scripts/setup.sh) cannot run: {e}", python.display()));
    assert!(
        out.status.success(),
        "`wheel unpack` refuses {}: {}{}",
        wheel.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// RECORD lists every other member with its sha256 (urlsafe base64, unpadded) and size, and
/// nothing else; WHEEL's tags are exactly `tag`; the `wheel` tool agrees.
fn check_record_and_tags(wheel: &Path, tag: &str) {
    wheel_tool_unpacks(wheel);
    let files = members(wheel);
    let text = |suffix: &str| {
        let (_, bytes) = files.iter().find(|(n, _)| n.ends_with(suffix)).unwrap_or_else(|| panic!("no {suffix}"));
        String::from_utf8(bytes.clone()).expect("UTF-8")
    };
    let record = text(".dist-info/RECORD");
    let mut listed = BTreeSet::new();
    for line in record.lines().filter(|l| !l.is_empty()) {
        let mut parts = line.rsplitn(3, ',');
        let (size, hash, name) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
        listed.insert(name.to_string());
        if name.ends_with(".dist-info/RECORD") {
            continue;
        }
        let (_, bytes) =
            files.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("RECORD lists {name}, not in the wheel"));
        let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(bytes));
        assert_eq!(hash, format!("sha256={digest}"), "{name}: RECORD hash");
        assert_eq!(size, bytes.len().to_string(), "{name}: RECORD size");
    }
    let in_zip: BTreeSet<String> = files.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(listed, in_zip, "RECORD and the wheel's members differ");
    let tags: Vec<String> =
        text(".dist-info/WHEEL").lines().filter_map(|l| l.strip_prefix("Tag: ")).map(str::to_string).collect();
    assert_eq!(tags, [tag], "WHEEL tags");
    assert!(text(".dist-info/WHEEL").contains("Root-Is-Purelib: false"));
}

/// The extension modules of the fixture in a wheel, by module name.
fn modules(wheel: &Path, suffix: &str) -> Vec<(String, Vec<u8>)> {
    let found: Vec<(String, Vec<u8>)> = members(wheel)
        .into_iter()
        .filter_map(|(n, b)| n.strip_suffix(suffix).map(|m| (m.trim_start_matches("fixturepkg/").to_string(), b)))
        .collect();
    let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["_cmod", "_cppmod"], "extension modules *{suffix} in {}", wheel.display());
    found
}

/// The names an object file exports.
fn exported_names<'d>(file: &impl Object<'d>) -> Vec<String> {
    file.exports()
        .expect("export table")
        .filter_map(|e| e.expect("export").name().name().map(|n| String::from_utf8_lossy(n).into_owned()))
        .collect()
}

/// PE32+ for `arch` (AMD64, ARM64), importing python313.dll and otherwise only DLLs of every
/// Windows (the kernel and the Universal CRT), exporting `PyInit_<module>`.
fn check_pyd(module: &str, bytes: &[u8], arch: Architecture) {
    let file = object::File::parse(bytes).unwrap_or_else(|e| panic!("{module}: not an object file: {e}"));
    assert_eq!(file.format(), BinaryFormat::Pe, "{module}");
    assert_eq!(file.architecture(), arch, "{module}");
    assert!(file.is_64(), "{module}: not PE32+");
    let imports: BTreeSet<String> =
        file.imports().unwrap().map(|i| String::from_utf8_lossy(i.unwrap().library()).to_ascii_lowercase()).collect();
    assert!(imports.contains("python313.dll"), "{module} does not import python313.dll: {imports:?}");
    for dll in &imports {
        assert!(
            dll == "python313.dll" || dll == "kernel32.dll" || dll.starts_with("api-ms-win-crt-"),
            "{module} imports {dll}, which a stock Windows may lack: {imports:?}"
        );
    }
    let exports = exported_names(&file);
    assert!(exports.contains(&format!("PyInit_{module}")), "{module} exports {exports:?}");
}

/// Mach-O of `arch` for macOS 11.0, exporting `_PyInit_<module>`, leaving the Python API to the
/// interpreter (undefined, no libpython load command).
fn check_macho(module: &str, bytes: &[u8], arch: Architecture) {
    let file = MachOFile64::<Endianness>::parse(bytes).unwrap_or_else(|e| panic!("{module}: not 64-bit Mach-O: {e}"));
    assert_eq!(file.architecture(), arch, "{module}");
    let mut commands = file.macho_load_commands().unwrap();
    let mut dylibs = Vec::new();
    while let Some(c) = commands.next().unwrap() {
        if let Some(d) = c.dylib().unwrap() {
            dylibs.push(String::from_utf8_lossy(c.string(file.endian(), d.dylib.name).unwrap()).into_owned());
        }
    }
    assert!(!dylibs.is_empty(), "{module} loads no libraries at all");
    for d in &dylibs {
        assert!(!d.to_lowercase().contains("python"), "{module} has a libpython load command: {dylibs:?}");
        assert!(d.starts_with("/usr/lib/"), "{module} loads {d}, which is not part of macOS: {dylibs:?}");
    }
    let (build, _) = file.build_version().unwrap().unwrap_or_else(|| panic!("{module} has no LC_BUILD_VERSION"));
    let minos = build.minos.get(file.endian());
    assert_eq!((minos.major(), minos.minor()), (11, 0), "{module}: minimum macOS version");
    let exports = exported_names(&file);
    assert!(exports.contains(&format!("_PyInit_{module}")), "{module} exports {exports:?}");
    assert!(
        file.symbols().any(|s| s.is_undefined() && s.name().is_ok_and(|n| n.starts_with("_Py"))),
        "{module} references no Python API symbol to look up at load time"
    );
}

#[test]
fn windows_and_macos_wheels_are_built_tagged_and_linked_right() {
    let _guard = serial();
    require(&[&sid_image()]);
    let p = Project::new(&config(&[
        "win_amd64",
        "win_arm64",
        "macosx_11_0_x86_64",
        "macosx_11_0_arm64",
        "macosx_11_0_universal2",
    ]))
    .with_mirror(&mirror());
    let report = p.dir().join("report.json");
    let out = p.pookie(&["run", "--report", report.to_str().unwrap()]);
    assert!(out.status.success(), "pookie run failed");
    let wheels = p.wheels();
    assert_eq!(
        wheels,
        [
            "fixturepkg-0.1.0-cp313-cp313-macosx_11_0_arm64.whl",
            "fixturepkg-0.1.0-cp313-cp313-macosx_11_0_universal2.whl",
            "fixturepkg-0.1.0-cp313-cp313-macosx_11_0_x86_64.whl",
            "fixturepkg-0.1.0-cp313-cp313-win_amd64.whl",
            "fixturepkg-0.1.0-cp313-cp313-win_arm64.whl",
        ]
    );
    let dist = p.dir().join("dist");

    for (wheel, platform, arch) in
        [(&wheels[3], "win_amd64", Architecture::X86_64), (&wheels[4], "win_arm64", Architecture::Aarch64)]
    {
        let win = dist.join(wheel);
        check_record_and_tags(&win, &format!("cp313-cp313-{platform}"));
        for (module, bytes) in modules(&win, &format!(".cp313-{platform}.pyd")) {
            check_pyd(&module, &bytes, arch);
        }
        let stray: Vec<String> = members(&win)
            .into_iter()
            .map(|(n, _)| n)
            .filter(|n| [".pdb", ".lib", ".dll", ".a"].iter().any(|x| n.ends_with(x)))
            .collect();
        assert!(stray.is_empty(), "build leftovers in the Windows wheel: {stray:?}");
        let build_log = p.log(&format!("cp313-{platform}-build.log"));
        assert!(build_log.contains("repair: delvewheel repair"), "{build_log}");
        assert!(build_log.contains("python313.dll"), "delvewheel's analysis is not in the log:\n{build_log}");
    }

    for (wheel, tag, arch) in [
        (&wheels[2], "cp313-cp313-macosx_11_0_x86_64", Architecture::X86_64),
        (&wheels[0], "cp313-cp313-macosx_11_0_arm64", Architecture::Aarch64),
    ] {
        let path = dist.join(wheel);
        check_record_and_tags(&path, tag);
        for (module, bytes) in modules(&path, ".cpython-313-darwin.so") {
            check_macho(&module, &bytes, arch);
        }
    }

    // universal2: one wheel whose every module is a fat Mach-O of an x86_64 and an arm64 slice,
    // each aligned to its CPU's page and each a whole module, as the thin targets' are.
    let fat = dist.join(&wheels[1]);
    check_record_and_tags(&fat, "cp313-cp313-macosx_11_0_universal2");
    let fat_modules = modules(&fat, ".cpython-313-darwin.so");
    assert_eq!(fat_modules.len(), 2, "the C and the C++ module");
    for (module, bytes) in fat_modules {
        let file = object::read::macho::MachOFatFile32::parse(&*bytes)
            .unwrap_or_else(|e| panic!("{module} is not a fat Mach-O: {e}"));
        let arches: Vec<Architecture> = file.arches().iter().map(|a| a.architecture()).collect();
        assert_eq!(arches, [Architecture::X86_64, Architecture::Aarch64], "{module}");
        for a in file.arches() {
            assert_eq!(a.offset() % (1 << a.align()), 0, "{module}: a slice out of alignment");
            check_macho(&module, a.data(&*bytes).expect("slice in bounds"), a.architecture());
        }
    }
    let fat_log = p.log("cp313-macosx_11_0_universal2-build.log");
    for step in ["slice macosx_11_0_x86_64", "slice macosx_11_0_arm64", "pookie-fuse-wheels: fused"] {
        assert!(fat_log.contains(step), "no `{step}` in the universal2 build's log:\n{fat_log}");
    }

    // macOS tests cannot run here: said so, never counted as passed.
    let statuses = job_statuses(&p.report(&report));
    for t in ["macosx_11_0_x86_64", "macosx_11_0_arm64", "macosx_11_0_universal2"] {
        assert_eq!(statuses[&(format!("cp313-{t}"), "build".into())], "passed");
        assert_eq!(statuses[&(format!("cp313-{t}"), "test".into())], "not-runnable");
        assert!(summary_row(&stdout(&out), &format!("cp313-{t}"), "test").contains("not runnable on Linux"));
    }
    assert_eq!(statuses[&("cp313-win_amd64".into(), "build".into())], "passed");
    // Windows on ARM: built, its tests not runnable here (Wine runs x86 code), said so.
    assert_eq!(statuses[&("cp313-win_arm64".into(), "test".into())], "not-runnable");
    assert!(summary_row(&stdout(&out), "cp313-win_arm64", "test").contains("Windows on ARM"));
}

/// A Windows CPython archive to test with: `POOKIE_TEST_WINDOWS_PYTHON`, or a
/// python-build-standalone 3.13 archive for x86_64-pc-windows-msvc with an interpreter in the
/// user's pookie cache.
fn windows_python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("POOKIE_TEST_WINDOWS_PYTHON") {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "POOKIE_TEST_WINDOWS_PYTHON names no file: {}", p.display());
        return Some(p);
    }
    let cache = std::env::var_os("POOKIE_CACHE_DIR").map(PathBuf::from).or_else(|| {
        std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .map(|c| c.join("pookie"))
    })?;
    let name = regex::Regex::new(r"^cpython-3\.13\.\d+\+\d+-x86_64-pc-windows-msvc-install_only(_stripped)?\.tar\.gz$")
        .expect("regex");
    std::fs::read_dir(cache.join("python")).ok()?.flatten().find_map(|d| {
        std::fs::read_dir(d.path())
            .ok()?
            .flatten()
            .map(|f| f.path())
            .find(|f| f.file_name().and_then(|n| n.to_str()).is_some_and(|n| name.is_match(n)) && has_interpreter(f))
    })
}

/// Whether an install_only archive holds `python/python.exe`: the cache also keeps archives of
/// headers-only mirrors (like the CI mirror, which the other tests download from).
fn has_interpreter(archive: &Path) -> bool {
    let out = std::process::Command::new("tar").arg("-tzf").arg(archive).output().expect("tar runs");
    out.status.success() && String::from_utf8_lossy(&out.stdout).lines().any(|l| l == "python/python.exe")
}

/// The CI mirror with its Windows archive replaced by `archive` (under the mirror's release, as
/// a mirror holds one release).
fn mirror_with(archive: &Path) -> tempfile::TempDir {
    let from = mirror();
    let dir = tempfile::tempdir().expect("temp dir");
    let sums = std::fs::read_to_string(from.join("SHA256SUMS")).expect("SHA256SUMS");
    let mut out = String::new();
    let mut release = String::new();
    for line in sums.lines() {
        let name = line.split_whitespace().nth(1).expect("sum line");
        release = name.split('+').nth(1).and_then(|r| r.split('-').next()).expect("release tag").to_string();
        if !name.contains("-windows-") {
            std::fs::copy(from.join(name), dir.path().join(name)).expect("copy archive");
            out.push_str(&format!("{line}\n"));
        }
    }
    let version = archive.file_name().unwrap().to_str().unwrap().split('+').next().unwrap().to_string();
    let name = format!("{version}+{release}-x86_64-pc-windows-msvc-install_only.tar.gz");
    let bytes = std::fs::read(archive).expect("archive reads");
    std::fs::write(dir.path().join(&name), &bytes).expect("archive copies");
    out.push_str(&format!("{}  {name}\n", hex::encode(Sha256::digest(&bytes))));
    std::fs::write(dir.path().join("SHA256SUMS"), out).expect("SHA256SUMS written");
    dir
}

#[test]
fn windows_tests_run_under_wine_when_a_windows_cpython_is_available() {
    let _guard = serial();
    require(&[&sid_image()]);
    let real = windows_python();
    let own_mirror = real.as_deref().map(mirror_with);
    let mirror = own_mirror.as_ref().map_or_else(mirror, |d| d.path().to_path_buf());
    let p = Project::new(&config(&["win_amd64"])).with_mirror(&mirror);
    let report = p.dir().join("report.json");
    let out = p.pookie(&["run", "--report", report.to_str().unwrap()]);
    let statuses = job_statuses(&p.report(&report));
    let test = &statuses[&("cp313-win_amd64".into(), "test".into())];
    if real.is_some() {
        assert!(out.status.success(), "pookie run failed");
        assert_eq!(test, "passed");
        let log = p.log("cp313-win_amd64-test.log");
        assert!(log.contains("Ran 6 tests") && log.contains("OK (skipped=1)"), "{log}");
        assert!(log.contains("win-amd64"), "the tests did not run on the Windows CPython:\n{log}");
        return;
    }
    // The mirror's Windows archive has no python.exe: the test is skipped, visibly.
    assert!(out.status.success(), "a test that cannot run here does not fail the run");
    assert_eq!(test, "no-windows-python");
    let summary = stdout(&out);
    let row = summary_row(&summary, "cp313-win_amd64", "test");
    assert!(row.contains("skipped: no Windows CPython") && row.contains("python.exe"), "{row}");
    assert!(!row.contains("passed"), "{row}");
    let counts = summary.lines().find(|l| l.contains(" jobs: ")).unwrap_or_default().to_string();
    assert!(counts.contains("1 passed") && counts.contains("1 skipped: no Windows CPython"), "{counts}");
    // The build is what it is: repaired, checked and published.
    assert_eq!(p.wheels(), ["fixturepkg-0.1.0-cp313-cp313-win_amd64.whl"]);
}

#[test]
fn a_windows_wheel_needing_a_dll_windows_lacks_fails_with_delvewheels_reason() {
    let _guard = serial();
    require(&[&sid_image()]);
    // The extensions import `pookie_absent` from libabsent-1.dll, which nothing provides: an
    // import library for it is made on the fly, as a project linking a third-party DLL would.
    let build = r#"printf 'LIBRARY "libabsent-1.dll"\nEXPORTS\npookie_absent\n' > /tmp/absent.def && zig dlltool -m i386:x86-64 -d /tmp/absent.def -l /tmp/absent.lib && LDFLAGS="/tmp/absent.lib -Wl,-u,pookie_absent" python -m pip wheel . --no-deps --wheel-dir "$POOKIE_WHEEL_DIR""#;
    let p = Project::new(&format!("build = '''{build}'''\n{}", config(&["win_amd64"]))).with_mirror(&mirror());
    let report = p.dir().join("report.json");
    let out = p.pookie(&["run", "--report", report.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "the run must fail");
    let statuses = job_statuses(&p.report(&report));
    assert_eq!(statuses[&("cp313-win_amd64".into(), "build".into())], "failed");
    let summary = stdout(&out);
    let row = summary_row(&summary, "cp313-win_amd64", "build");
    assert!(row.contains("repair failed") && row.contains("libabsent-1.dll"), "{row}");
    assert!(p.wheels().is_empty(), "no wheel may reach dist/");
}
