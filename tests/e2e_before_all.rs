//! End to end, `before-all`: tests/fixtures/before-all is a package whose extension links
//! libtally, a C library of the project (a Makefile library, in `vendor/`) that before-all builds
//! from source and installs into `$POOKIE_TARGET_PREFIX` for each build image: natively with
//! zig against the policy's glibc, cross-compiled for aarch64 (tests under QEMU), and for
//! Windows. The repair step vendors the library into each wheel, whose tests check that the
//! library loaded is the wheel's own. before-all runs once per image, not per Python, and a
//! second run starts none. The project's only configuration is `[tool.cibuildwheel]` where the
//! CPython source allows it (x86_64 and Windows, from the CI mirrors).

mod support;

use std::path::Path;
use support::e2e::*;

const BEFORE_ALL: &str =
    r#"before-all = "make -C vendor/libtally install PREFIX=\"$POOKIE_TARGET_PREFIX\" HOST=\"$POOKIE_HOST\"""#;
const TEST: &str = r#"test = "python -m unittest discover -v -s {project}/tests""#;

fn fixture(pookie_toml: &str) -> Project {
    Project::of(&repo().join("tests/fixtures/before-all"), pookie_toml)
}

/// The fixture with its `[tool.cibuildwheel]` table as its only configuration.
fn cibuildwheel_fixture() -> Project {
    let p = fixture("");
    std::fs::remove_file(p.dir().join("pookie.toml")).unwrap();
    p
}

fn run_ok(p: &Project, args: &[&str]) -> serde_json::Value {
    let report = p.root.path().join("report.json");
    let mut all = vec!["run", "--report", report.to_str().unwrap()];
    all.extend(args);
    let out = p.pookie(&all);
    assert!(out.status.success(), "pookie {all:?} failed:\n{}\n{}", stdout(&out), stderr(&out));
    let r = p.report(&report);
    for ((id, stage), status) in job_statuses(&r) {
        assert!(status == "passed" || status == "cached", "{id} {stage}: {status}");
    }
    r
}

fn zip_names(wheel: &Path) -> Vec<String> {
    let z = zip::ZipArchive::new(std::fs::File::open(wheel).unwrap()).unwrap();
    z.file_names().filter_map(|n| n.ok().map(|n| n.to_string())).collect()
}

fn image_tag(plan: &serde_json::Value, name: &str) -> String {
    let image = plan["images"].as_array().unwrap().iter().find(|i| i["name"] == name);
    image.unwrap_or_else(|| panic!("no image {name} in the plan"))["tag"].as_str().unwrap().to_string()
}

#[test]
fn before_all_builds_the_library_once_per_image_and_the_wheels_carry_it() {
    require(&[&sid_image()]);
    let _serial = serial();
    // The sid image's CPython 3.13 and 3.14: two builds on one image.
    let p = fixture(&sid_config(BEFORE_ALL));
    let layer = "before-all/linux-x86_64/zig/x86_64-linux-gnu.2.17";
    let args: [&str; 0] = [];

    // One before-all layer, under the Python layer of every build of the target.
    let plan = p.plan(&args);
    let before_all = plan["images"].as_array().unwrap().iter().find(|i| i["name"] == layer).expect("before-all layer");
    assert_eq!(before_all["layer"], "before-all");
    let files: Vec<&str> =
        before_all["context"][0]["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert!(files.contains(&"vendor/libtally/Makefile") && files.contains(&"setup.py"), "{files:?}");
    let pythons: Vec<&serde_json::Value> =
        plan["images"].as_array().unwrap().iter().filter(|i| i["layer"] == "python").collect();
    assert_eq!(pythons.len(), 2);
    for image in pythons {
        assert_eq!(image["depends_on"], serde_json::json!([layer]), "{image}");
    }

    let r = run_ok(&p, &args);
    assert!(["built", "cached"].contains(&image_statuses(&r)[layer].as_str()));
    let wheels = p.wheels();
    assert_eq!(wheels.len(), 2, "{wheels:?}");
    for wheel in &wheels {
        let names = zip_names(&p.dir().join("dist").join(wheel));
        assert!(
            names.iter().any(|n| n.starts_with("tallypkg.libs/libtally") && n.contains(".so")),
            "auditwheel did not vendor libtally into {wheel}: {names:?}"
        );
    }
    let log = p.log("cp314-manylinux_2_17_x86_64-test.log");
    assert!(log.contains("Ran 6 tests") && log.contains("OK"), "the fixture's tests did not pass:\n{log}");
    assert!(log.contains("libtally loaded from") && log.contains("tallypkg.libs"), "{log}");

    // Again, every job forced: the layer stands, before-all does not run.
    let r = run_ok(&p, &["--force"]);
    assert_eq!(image_statuses(&r)[layer], "cached");

    // Only what before-all reads keys its layer: by default the whole project...
    let tag = image_tag(&p.plan(&args), layer);
    std::fs::write(p.dir().join("src/tallypkg/__init__.py"), "from ._tally import *  # edited\n").unwrap();
    assert_ne!(image_tag(&p.plan(&args), layer), tag, "an edit of the project did not change the layer");
    // ... or its declared inputs, with pookie.toml.
    let toml = sid_config(&format!("{BEFORE_ALL}\nbefore-all-inputs = [\"vendor/libtally\"]"));
    std::fs::write(p.dir().join("pookie.toml"), toml).unwrap();
    let tag = image_tag(&p.plan(&args), layer);
    std::fs::write(p.dir().join("src/tallypkg/__init__.py"), "from ._tally import *  # edited again\n").unwrap();
    assert_eq!(image_tag(&p.plan(&args), layer), tag, "an edit outside the inputs changed the layer");
    let c = p.dir().join("vendor/libtally/tally.c");
    std::fs::write(&c, std::fs::read_to_string(&c).unwrap() + "\n/* edited */\n").unwrap();
    assert_ne!(image_tag(&p.plan(&args), layer), tag, "an edit of an input did not change the layer");
}

#[test]
fn before_all_cross_compiles_the_library_for_aarch64() {
    let (x86_64, arm64) = ("debian:bookworm-slim", "debian-pythons:bookworm-arm64");
    require(&[x86_64, arm64]);
    let _serial = serial();
    let p = fixture(&format!(
        r#"targets = ["manylinux_2_17_aarch64"]
{BEFORE_ALL}
before-all-inputs = ["vendor/libtally/"]
{TEST}
[python]
source = "image"
versions = ["3.11"]

[images]
linux-x86_64 = "{x86_64}"
linux-aarch64 = "{arm64}"
"#
    ));
    let r = run_ok(&p, &[]);
    assert!(
        ["built", "cached"]
            .contains(&image_statuses(&r)["before-all/linux-x86_64/zig/aarch64-linux-gnu.2.17"].as_str())
    );
    let wheels = p.wheels();
    assert_eq!(wheels.len(), 1, "{wheels:?}");
    let wheel = p.dir().join("dist").join(&wheels[0]);
    let lib =
        zip_names(&wheel).into_iter().find(|n| n.starts_with("tallypkg.libs/libtally")).expect("libtally vendored");
    let bytes = wheel_member(&wheel, &lib);
    assert_eq!(u16::from_le_bytes([bytes[18], bytes[19]]), 183, "{lib} is not an aarch64 ELF file");
    let log = p.log("cp311-manylinux_2_17_aarch64-test.log");
    assert!(log.contains("Ran 6 tests") && log.contains("OK"), "{log}");
    assert!(log.contains("aarch64") || log.contains("qemu"), "{log}");
    let build = p.log("cp311-manylinux_2_17_aarch64-build.log");
    assert!(build.contains("auditwheel"), "{build}");
}

#[test]
fn before_all_builds_a_dll_that_delvewheel_vendors_into_the_windows_wheel() {
    let mirror = win_mac_mirror();
    require(&[&sid_image()]);
    let _serial = serial();
    let p = fixture(&format!(
        r#"targets = ["win_amd64"]
{BEFORE_ALL}
[python]
versions = ["3.13"]

[images]
linux-x86_64 = "{}"
"#,
        sid_image()
    ))
    .with_mirror(&mirror);
    let r = run_ok(&p, &[]);
    assert!(
        ["built", "cached"].contains(&image_statuses(&r)["before-all/linux-x86_64/zig/x86_64-windows-gnu"].as_str())
    );
    let wheels = p.wheels();
    assert_eq!(wheels.len(), 1, "{wheels:?}");
    let names = zip_names(&p.dir().join("dist").join(&wheels[0]));
    let dll = names.iter().find(|n| n.starts_with("tallypkg.libs/tally") && n.ends_with(".dll"));
    assert!(dll.is_some(), "delvewheel did not vendor tally.dll: {names:?}");
}

/// A project configured only with `[tool.cibuildwheel]` (its before-all and test-command) builds
/// and tests unchanged, with a CPython from the user's mirror (the CI mirror's x86_64 one); a
/// second run starts no before-all and no job.
#[test]
fn a_cibuildwheel_project_builds_its_library_in_before_all_once() {
    let mirror = python_mirror();
    require(&["debian:bookworm-slim"]);
    let _serial = serial();
    let p = cibuildwheel_fixture().with_mirror(&mirror);
    let args = ["--target", "manylinux_2_17_x86_64"];
    let plan = p.plan(&args);
    let layer =
        plan["images"].as_array().unwrap().iter().find(|i| i["layer"] == "before-all").expect("before-all layer");
    assert_eq!(layer["name"], "before-all/linux-x86_64/zig/x86_64-linux-gnu.2.17");
    assert!(layer["args"]["BEFORE_ALL"].as_str().unwrap().starts_with("make -C vendor/libtally install"), "{layer}");
    assert!(
        layer["args"]["BEFORE_ALL_ENV"].as_str().unwrap().contains("export POOKIE_HOST='x86_64-linux-gnu'"),
        "{layer}"
    );

    run_ok(&p, &args);
    let wheels = p.wheels();
    assert_eq!(wheels.len(), 1, "{wheels:?}");
    let names = zip_names(&p.dir().join("dist").join(&wheels[0]));
    assert!(names.iter().any(|n| n.starts_with("tallypkg.libs/libtally")), "{names:?}");
    let log = p.log("cp311-manylinux_2_17_x86_64-test.log");
    assert!(log.contains("Ran 6 tests") && log.contains("tallypkg.libs"), "{log}");

    // Again: the layer stands and every job's result is cached.
    let r = run_ok(&p, &args);
    let images = image_statuses(&r);
    assert_eq!(images["before-all/linux-x86_64/zig/x86_64-linux-gnu.2.17"], "cached");
    assert!(job_statuses(&r).values().all(|s| s == "cached"), "{:?}", job_statuses(&r));
}
