//! End to end: `pookie run` builds, repairs and tests real manylinux_2_17_x86_64 wheels of the
//! fixture project (a C module and a C++ module) in real containers, with Debian's CPython 3.13
//! and 3.14 (`source = "image"`), and with an interpreter archive served over HTTP (`pbs`).

mod support;

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};
use support::e2e::*;
use support::http::Server;

fn config(extra: &str) -> String {
    sid_config(extra)
}

/// Checks the wheels of a successful run and returns the compiler banner of each C++ module.
fn check_wheels(p: &Project, report: &serde_json::Value) {
    let wheels = p.wheels();
    assert_eq!(wheels.len(), 2, "one wheel per Python: {wheels:?}");
    for (wheel, cp) in wheels.iter().zip(["cp313", "cp314"]) {
        assert!(wheel.starts_with(&format!("fixturepkg-0.1.0-{cp}-{cp}-")), "{wheel}");
        let platforms = wheel.trim_end_matches(".whl").rsplit('-').next().unwrap();
        assert!(platforms.split('.').any(|t| t == "manylinux_2_17_x86_64"), "{wheel} lacks the target's tag");
    }
    for ((id, stage), status) in job_statuses(report) {
        assert_eq!(status, "passed", "{id} {stage}");
    }
    for cp in ["cp313", "cp314"] {
        let log = p.log(&format!("{cp}-manylinux_2_17_x86_64-test.log"));
        assert!(log.contains("Ran 6 tests"), "the fixture's tests did not run for {cp}:\n{log}");
        assert!(log.contains("OK (skipped=1)"), "the fixture's tests did not pass for {cp}:\n{log}");
        let build = p.log(&format!("{cp}-manylinux_2_17_x86_64-build.log"));
        assert!(build.contains("auditwheel repair --plat manylinux_2_17_x86_64"), "{build}");
    }
    // Outputs belong to whoever ran pookie.
    let uid = unsafe { libc::getuid() };
    for w in &wheels {
        assert_eq!(std::fs::metadata(p.dir().join("dist").join(w)).unwrap().uid(), uid, "{w} owner");
    }
    for e in std::fs::read_dir(p.dir().join(".pookie/jobs")).unwrap() {
        assert_eq!(e.unwrap().metadata().unwrap().uid(), uid, "job directory owner");
    }
}

/// `auditwheel show`, run in the image that repaired the wheel, must find the wheel consistent
/// with manylinux_2_17 or an older (more compatible) policy.
fn auditwheel_agrees(p: &Project, image: &str, wheel: &str) {
    let dist = p.dir().join("dist");
    let out = engine_output(&[
        "run",
        "--rm",
        "-v",
        &format!("{}:/dist:ro", dist.display()),
        image,
        "auditwheel",
        "show",
        &format!("/dist/{wheel}"),
    ]);
    let re =
        regex::Regex::new(r#"consistent with the\s+following platform tag:\s+"manylinux_2_(\d+)_x86_64""#).unwrap();
    let caps = re.captures(&out).unwrap_or_else(|| panic!("auditwheel show says:\n{out}"));
    let glibc_minor: u32 = caps[1].parse().unwrap();
    assert!(glibc_minor <= 17, "auditwheel show: the wheel needs glibc 2.{glibc_minor}:\n{out}");
}

fn python_image(plan: &serde_json::Value, cp: &str) -> String {
    plan["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["layer"] == "python" && i["name"].as_str().unwrap().split('/').any(|part| part == cp))
        .and_then(|i| i["tag"].as_str())
        .expect("python layer with a tag")
        .to_string()
}

/// Who built the C++ module of the `cp` wheel, by what it records in `.comment`: clang writes
/// "clang version", GCC only its own banner, and zig's clang links with LLD ("Linker: LLD").
fn cpp_module_compiler(p: &Project, cp: &str) -> &'static str {
    let wheel = p.wheels().into_iter().find(|w| w.contains(cp)).expect("wheel");
    let so = wheel_member(&p.dir().join("dist").join(wheel), ".so");
    let has = |s: &[u8]| so.windows(s.len()).any(|w| w == s);
    match (has(b"clang version"), has(b"Linker: LLD")) {
        (true, true) => "zig",
        (true, false) => "clang",
        _ => "gcc",
    }
}

#[test]
fn zig_and_clang_wheels_are_repaired_tested_and_cached() {
    require(&[&sid_image()]);
    let _serial = serial();
    let p = Project::new(&config(""));
    let before = p.user_tree();
    let report = p.root.path().join("report.json");

    let out = p.pookie(&["run", "--report", report.to_str().unwrap()]);
    assert!(out.status.success(), "pookie run failed:\n{}", stderr(&out));
    let r = p.report(&report);
    assert_eq!(r["passed"], true);
    check_wheels(&p, &r);
    let plan = p.plan(&[]);
    for (wheel, cp) in p.wheels().iter().zip(["cp313", "cp314"]) {
        auditwheel_agrees(&p, &python_image(&plan, cp), wheel);
        assert_eq!(cpp_module_compiler(&p, cp), "zig", "zig is the default compiler");
    }
    assert!(stdout(&out).contains("4 jobs: 4 passed, 0 cached, 0 failed"), "{}", stdout(&out));
    assert_eq!(p.user_tree(), before, "the user's tree changed outside dist/ and .pookie/");

    let out = p.pookie(&["run", "--linux-x86_64-compiler", "clang", "--report", report.to_str().unwrap()]);
    assert!(out.status.success(), "pookie run with clang failed:\n{}", stderr(&out));
    let r = p.report(&report);
    check_wheels(&p, &r);
    let plan = p.plan(&["--linux-x86_64-compiler", "clang"]);
    for (wheel, cp) in p.wheels().iter().zip(["cp313", "cp314"]) {
        auditwheel_agrees(&p, &python_image(&plan, cp), wheel);
        assert_eq!(cpp_module_compiler(&p, cp), "clang", "--linux-x86_64-compiler clang did not use clang");
    }
    assert_eq!(p.user_tree(), before, "the user's tree changed outside dist/ and .pookie/");

    // Nothing changed: every layer is found, none rebuilt.
    let pookie_images = || {
        let out = engine_output(&["images", "--quiet", "--no-trunc", "--filter", "label=org.pookie.managed=true"]);
        let mut ids: Vec<String> = out.split_whitespace().map(str::to_string).collect();
        ids.sort();
        ids
    };
    let ids_before = pookie_images();
    let out = p.pookie(&["run", "--linux-x86_64-compiler", "clang", "--report", report.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let images = image_statuses(&p.report(&report));
    assert!(!images.is_empty());
    for (name, status) in &images {
        assert_eq!(status, "cached", "{name} was rebuilt on an unchanged second run");
    }
    assert_eq!(ids_before, pookie_images(), "the engine's pookie images changed");
}

#[test]
fn a_failing_test_fails_the_run_but_not_the_other_jobs() {
    require(&[&sid_image()]);
    let _serial = serial();
    a_failing_test_fails_only_its_job(&Project::new(&config(FAILING_CP314)));
}

#[test]
fn a_job_over_its_timeout_is_stopped_and_its_container_removed() {
    require(&[&sid_image()]);
    let _serial = serial();
    let p = Project::new(&config("timeout = 3\nbuild = \"sleep 600\"").replace("\"3.13\", \"3.14\"", "\"3.13\""));
    let started = Instant::now();
    let out = p.pookie(&["run"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(started.elapsed() < Duration::from_secs(300), "the timeout did not stop the job");
    assert!(stdout(&out).contains("timed out after 3s"), "{}", stdout(&out));
    let left = engine_output(&["ps", "-aq", "--filter", "label=org.pookie.managed=true", "--filter", "status=running"]);
    assert!(left.trim().is_empty(), "containers left running: {left}");
}

#[test]
fn ctrl_c_stops_jobs_removes_containers_and_leaves_no_wheel() {
    require(&[&sid_image()]);
    let _serial = serial();
    ctrl_c_leaves_no_container_and_no_wheel(&Project::new(&config("build = \"sleep 600\"")));
}

#[test]
fn clean_removes_only_what_pookie_made() {
    require(&[&sid_image()]);
    let _serial = serial();
    let p = Project::new(&config("").replace("\"3.13\", \"3.14\"", "\"3.13\""));
    std::fs::create_dir_all(p.dir().join("dist")).unwrap();
    std::fs::write(p.dir().join("dist/NOTES.txt"), "mine").unwrap();
    let out = p.pookie(&["run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(p.wheels().len(), 1);
    let out = p.pookie(&["clean"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(p.wheels().is_empty(), "wheels pookie made must go");
    assert!(!p.dir().join(".pookie").exists());
    assert_eq!(std::fs::read_to_string(p.dir().join("dist/NOTES.txt")).unwrap(), "mine", "a user file was removed");

    // run --clean empties first, then delivers anew (from the job cache here).
    std::fs::create_dir_all(p.dir().join(".pookie/jobs/stale")).unwrap();
    let out = p.pookie(&["run", "--clean"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!p.dir().join(".pookie/jobs/stale").exists(), "run --clean kept old state");
    assert_eq!(p.wheels().len(), 1);
    assert_eq!(std::fs::read_to_string(p.dir().join("dist/NOTES.txt")).unwrap(), "mine", "a user file was removed");
}

/// An archive laid out like python-build-standalone's install_only archives (a top-level
/// `python/` with bin/, lib/ and include/), made of the sid image's CPython 3.13.
fn install_only_archive(dest: &Path) -> String {
    let script = "set -e; v=$(python3.13 -c 'import platform; print(platform.python_version())'); \
        mkdir -p /tmp/python/bin /tmp/python/lib /tmp/python/include; \
        cp /usr/bin/python3.13 /tmp/python/bin/; ln -s python3.13 /tmp/python/bin/python3; \
        cp -a /usr/lib/python3.13 /tmp/python/lib/; cp -a /usr/include/python3.13 /tmp/python/include/; \
        tar -C /tmp -czf /out/archive.tar.gz python; echo $v";
    let version =
        engine_output(&["run", "--rm", "-v", &format!("{}:/out", dest.display()), &sid_image(), "bash", "-c", script]);
    version.trim().to_string()
}

#[test]
fn python_build_standalone_archives_are_downloaded_verified_and_used() {
    require(&[&sid_image()]);
    let _serial = serial();
    let mirror = tempfile::tempdir().unwrap();
    let version = install_only_archive(mirror.path());
    let name = format!("cpython-{version}+20990101-x86_64-unknown-linux-gnu-install_only.tar.gz");
    std::fs::rename(mirror.path().join("archive.tar.gz"), mirror.path().join(&name)).unwrap();
    let bytes = std::fs::read(mirror.path().join(&name)).unwrap();
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    std::fs::write(mirror.path().join("SHA256SUMS"), format!("{sha}  {name}\n")).unwrap();
    let server = Server::files(mirror.path().to_path_buf());
    let config = format!(
        r#"targets = ["manylinux_2_17_x86_64"]
test = "python -m unittest discover -v -s {{project}}/tests"
[python]
versions = ["3.13"]
mirror = "{}"
[images]
linux-x86_64 = "{}"
"#,
        server.url(),
        sid_image()
    );
    let p = Project::new(&config);
    let report = p.root.path().join("report.json");
    let out = p.pookie(&["run", "--report", report.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let cached = p.cache().join("python").join(&sha).join(&name);
    assert!(cached.is_file(), "the archive is cached by its sha256");
    let test_log = p.log("cp313-manylinux_2_17_x86_64-test.log");
    assert!(test_log.contains("Ran 6 tests") && test_log.contains("OK"), "{test_log}");
    assert!(test_log.contains(&format!("Python {version}")), "the job did not use the archive's interpreter");

    // The mirror now serves different bytes under the published name: nothing may use them.
    // (The layer would be found by its tag, so remove it as a fresh machine would not have it.)
    let tampered = Project::new(&config);
    engine_output(&["rmi", &python_image(&tampered.plan(&[]), "cp313")]);
    std::fs::write(mirror.path().join(&name), b"not the published archive").unwrap();
    let out = tampered.pookie(&["run"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("does not match its published sha256"), "{}", stdout(&out));
    let dir = tampered.cache().join("python").join(&sha);
    let left: Vec<_> = std::fs::read_dir(&dir).map(|d| d.filter_map(|e| e.ok()).collect()).unwrap_or_default();
    assert!(left.is_empty(), "a bad download was kept: {left:?}");
    assert!(tampered.wheels().is_empty());
}

/// Containers of pookie run `run_id` the engine started between two instants (its event log).
fn containers_started(since: &str, until: &str, run_id: &str) -> usize {
    let out = engine_output(&[
        "events",
        "--since",
        since,
        "--until",
        until,
        "--filter",
        "type=container",
        "--filter",
        "event=start",
        "--filter",
        &format!("label=org.pookie.run={run_id}"),
        "--format",
        "{{.ID}}",
    ]);
    out.lines().filter(|l| !l.trim().is_empty()).count()
}

fn engine_now() -> String {
    // The daemon's clock, in the form `docker events` accepts.
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    format!("{secs:.3}")
}

#[test]
fn unchanged_jobs_are_cached_and_changes_rerun_exactly_what_they_affect() {
    require(&[&sid_image()]);
    let _serial = serial();
    let p = Project::new(&config(""));
    let report = p.root.path().join("report.json");
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "--report", report.to_str().unwrap()];
        args.extend(extra);
        let since = engine_now();
        let out = p.pookie(&args);
        std::thread::sleep(Duration::from_millis(1100));
        assert!(out.status.success(), "{}", stderr(&out));
        let r = p.report(&report);
        let started = containers_started(&since, &engine_now(), r["run_id"].as_str().unwrap());
        (job_statuses(&r), started)
    };
    let all = |jobs: &std::collections::BTreeMap<(String, String), String>, status: &str| {
        jobs.iter().all(|(_, s)| s == status)
    };

    let (jobs, started) = run(&[]);
    assert!(all(&jobs, "passed"), "{jobs:?}");
    assert_eq!(started, 4, "one container per job");

    // Nothing changed: no container starts, the wheels are delivered again.
    std::fs::remove_dir_all(p.dir().join("dist")).unwrap();
    let (jobs, started) = run(&[]);
    assert!(all(&jobs, "cached"), "{jobs:?}");
    assert_eq!(started, 0, "a warm re-run started containers");
    assert_eq!(p.wheels().len(), 2, "cached wheels must be delivered");

    // Only the test command changed: builds stay cached, tests run.
    let (jobs, _) = run(&["--test", "python -m unittest discover -s {project}/tests"]);
    for ((id, stage), status) in &jobs {
        let want = if stage == "build" { "cached" } else { "passed" };
        assert_eq!(status, want, "{id} {stage}");
    }

    // One C file changed: everything runs again.
    let c = p.dir().join("src/fixturepkg/_cmod.c");
    let text = std::fs::read_to_string(&c).unwrap();
    std::fs::write(&c, format!("{text}\n/* changed */\n")).unwrap();
    let (jobs, started) = run(&[]);
    assert!(all(&jobs, "passed"), "{jobs:?}");
    assert_eq!(started, 4);

    // --force GLOB runs the matching jobs only.
    let (jobs, _) = run(&["--force", "cp313-*"]);
    for ((id, stage), status) in &jobs {
        let want = if id.starts_with("cp313-") { "passed" } else { "cached" };
        assert_eq!(status, want, "{id} {stage}");
    }

    // A damaged cached wheel is found by its digest: that build runs again, and the wheel
    // delivered is a good one.
    // (The newest cp314 entry: the one before the C file changed is there too.)
    let cached = walk(&p.cache().join("jobs"))
        .into_iter()
        .filter(|w| w.file_name().unwrap().to_string_lossy().starts_with("fixturepkg-0.1.0-cp314"))
        .max_by_key(|w| std::fs::metadata(w).unwrap().modified().unwrap())
        .expect("a cached cp314 wheel");
    let mut bytes = std::fs::read(&cached).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&cached, bytes).unwrap();
    std::fs::remove_dir_all(p.dir().join("dist")).unwrap();
    let (jobs, started) = run(&[]);
    for ((id, stage), status) in &jobs {
        let want = if id.starts_with("cp314-") && stage == "build" { "passed" } else { "cached" };
        assert_eq!(status, want, "{id} {stage}");
    }
    assert_eq!(started, 1, "only the damaged build runs again");
    for w in p.wheels() {
        let zip = std::process::Command::new("python3")
            .args(["-m", "zipfile", "-t"])
            .arg(p.dir().join("dist").join(&w))
            .output()
            .unwrap();
        assert!(zip.status.success(), "{w} is damaged: {}", stderr(&zip));
    }
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}

#[test]
fn a_wheel_that_cannot_meet_the_policy_fails_with_auditwheels_reason() {
    require(&[&sid_image()]);
    let _serial = serial();
    // std::string from the base image's modern libstdc++ needs symbol versions newer than
    // manylinux_2_17 allows when the image's own g++ builds it (zig, the default, links libc++
    // statically and meets the policy).
    let p = Project::new(&config("[linux]\nx86_64-compiler = \"gcc\"").replace("\"3.13\", \"3.14\"", "\"3.13\""));
    std::fs::write(
        p.dir().join("src/fixturepkg/_cppmod.cpp"),
        r#"#include <Python.h>
#include <string>
static PyObject *greet(PyObject *, PyObject *arg) {
    std::string s = "hello, ";
    s += PyUnicode_AsUTF8(arg);
    return PyUnicode_FromString(s.c_str());
}
static PyMethodDef methods[] = {{"greet", greet, METH_O, ""}, {nullptr, nullptr, 0, nullptr}};
static PyModuleDef module = {PyModuleDef_HEAD_INIT, "_cppmod", nullptr, -1, methods};
PyMODINIT_FUNC PyInit__cppmod(void) { return PyModule_Create(&module); }
"#,
    )
    .unwrap();
    let report = p.root.path().join("report.json");
    let out = p.pookie(&["run", "--report", report.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let jobs = job_statuses(&p.report(&report));
    assert_eq!(jobs[&("cp313-manylinux_2_17_x86_64".to_string(), "build".to_string())], "failed");
    assert_eq!(jobs[&("cp313-manylinux_2_17_x86_64".to_string(), "test".to_string())], "skipped");
    let summary = stdout(&out);
    assert!(summary.contains("repair failed") && summary.contains("too-recent versioned symbols"), "{summary}");
    assert!(p.wheels().is_empty(), "a wheel that fails its policy must not be delivered");
}

#[test]
fn fail_fast_stops_starting_jobs_after_the_first_failure() {
    require(&[&sid_image()]);
    let _serial = serial();
    let p = Project::new(&config(
        r#"
[[overrides]]
select = "cp313-*"
build = "exit 3"
"#,
    ));
    let report = p.root.path().join("report.json");
    let out = p.pookie(&["run", "-j", "1", "--fail-fast", "--report", report.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let r = p.report(&report);
    let jobs = job_statuses(&r);
    assert_eq!(jobs[&("cp313-manylinux_2_17_x86_64".to_string(), "build".to_string())], "failed");
    // With one slot, the cp314 build had not started when cp313's failed (longest chains and
    // plan order put cp313 first): it must not start now.
    assert_eq!(jobs[&("cp314-manylinux_2_17_x86_64".to_string(), "build".to_string())], "skipped");
    let reason = r["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "cp314-manylinux_2_17_x86_64/build")
        .and_then(|n| n["reason"].as_str())
        .unwrap()
        .to_string();
    assert!(reason.contains("--fail-fast"), "{reason}");
}

#[test]
fn pip_and_compiler_caches_are_shared_between_runs() {
    require(&[&sid_image()]);
    let _serial = serial();
    let p = Project::new(
        &config(
            "build = 'python -m pip cache dir && python -m pip wheel . --no-deps -w \"$POOKIE_WHEEL_DIR\"'\n\
             [linux]\nx86_64-compiler = \"gcc\"",
        )
        .replace("\"3.13\", \"3.14\"", "\"3.13\""),
    );
    let out = p.pookie(&["run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // pip's cache is the target's directory in pookie's cache, owned by the caller. (Whether pip
    // stores downloads there depends on the index's caching headers: a proxy that strips them,
    // as this machine's does, leaves pip's HTTP cache empty.)
    let build_log = p.log("cp313-manylinux_2_17_x86_64-build.log");
    assert!(build_log.lines().any(|l| l.trim() == "/pookie/cache/pip"), "pip does not use the cache:\n{build_log}");
    let pip = p.cache().join("pip/manylinux_2_17_x86_64-cp313");
    let uid = unsafe { libc::getuid() };
    assert_eq!(std::fs::metadata(&pip).unwrap().uid(), uid, "the cache belongs to the caller");

    // The same sources built again: ccache answers the compiler from its cache.
    let out = p.pookie(&["run", "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let ccache = p.cache().join("ccache/linux-x86_64-gcc");
    let plan = p.plan(&[]);
    let stats = engine_output(&[
        "run",
        "--rm",
        "-v",
        &format!("{}:/c", ccache.display()),
        "-e",
        "CCACHE_DIR=/c",
        &python_image(&plan, "cp313"),
        "ccache",
        "--print-stats",
    ]);
    let count = |key: &str| -> u64 {
        stats.lines().find_map(|l| l.strip_prefix(key)).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
    };
    assert!(count("direct_cache_hit") + count("preprocessed_cache_hit") >= 2, "no ccache hits:\n{stats}");

    // [caches] off: no cache is mounted but zig's own (its runtime, part of the toolchain).
    let off =
        Project::new(&config("[caches]\npip = false\ncompiler = false").replace("\"3.13\", \"3.14\"", "\"3.13\""));
    let jobs = off.plan(&[])["jobs"].as_array().unwrap().clone();
    for j in jobs {
        let mounts: Vec<&str> = j["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["container"].as_str().unwrap())
            .filter(|c| *c != "/pookie/cache/zig")
            .collect();
        assert_eq!(mounts, ["/pookie/job"], "{j}");
        assert!(j["env"].get("PIP_CACHE_DIR").is_none());
    }
}

#[test]
fn an_abi3_wheel_is_built_once_and_tested_with_every_python() {
    require(&[&sid_image()]);
    let _serial = serial();
    let toml = config("abi3 = true").replace("\"3.13\", \"3.14\"", "\"3.13\", \"3.14\", \"3.15\"");
    let p = Project::of(&repo().join("examples/fastsum"), &toml);
    // fastsum uses only the limited API: build it as a stable-ABI extension for 3.13 and newer.
    std::fs::write(
        p.dir().join("setup.py"),
        "from setuptools import Extension, setup\n\
         setup(ext_modules=[Extension(\"fastsum._fastsum\", [\"src/fastsum/_fastsum.c\"], py_limited_api=True,\n\
         define_macros=[(\"Py_LIMITED_API\", \"0x030D0000\")])],\n\
         options={\"bdist_wheel\": {\"py_limited_api\": \"cp313\"}})\n",
    )
    .unwrap();

    // The plan: one build (the oldest Python), a test per Python, all after that build.
    let plan = p.plan(&[]);
    let jobs = plan["jobs"].as_array().unwrap();
    let builds: Vec<_> = jobs.iter().filter(|j| j["stage"] == "build").collect();
    assert_eq!(builds.len(), 1, "{builds:?}");
    assert_eq!(builds[0]["build_id"], "cp313-manylinux_2_17_x86_64");
    let tests: Vec<_> = jobs.iter().filter(|j| j["stage"] == "test").collect();
    assert_eq!(tests.len(), 3);
    for t in &tests {
        let deps: Vec<&str> = t["depends_on"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
        assert!(deps.contains(&"cp313-manylinux_2_17_x86_64/build"), "{t}");
    }

    let report = p.root.path().join("report.json");
    let out = p.pookie(&["run", "--report", report.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let wheels = p.wheels();
    assert_eq!(wheels.len(), 1, "{wheels:?}");
    assert!(wheels[0].starts_with("fastsum-1.0.0-cp313-abi3-"), "{wheels:?}");
    for (cp, version) in [("cp313", "3.13"), ("cp314", "3.14"), ("cp315", "3.15")] {
        let log = p.log(&format!("{cp}-manylinux_2_17_x86_64-test.log"));
        assert!(log.contains(&format!("into Python {version}")), "{cp} did not test with its own Python:\n{log}");
        assert!(log.contains("Ran 3 tests") && log.contains("OK"), "{log}");
    }
    let statuses = job_statuses(&p.report(&report));
    assert_eq!(statuses.len(), 4);
    assert!(statuses.values().all(|s| s == "passed"), "{statuses:?}");

    // A build that is not stable-ABI fails with the reason instead of failing three tests.
    std::fs::write(
        p.dir().join("setup.py"),
        "from setuptools import Extension, setup\nsetup(ext_modules=[Extension(\"fastsum._fastsum\", [\"src/fastsum/_fastsum.c\"])])\n",
    )
    .unwrap();
    let out = p.pookie(&["run"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("not a stable-ABI wheel"), "{}", stdout(&out));
}

#[test]
fn a_job_container_killed_from_outside_fails_only_its_job() {
    require(&[&sid_image()]);
    let _serial = serial();
    let p = Project::new(&config("[[overrides]]\nselect = \"cp314-*\"\nbuild = \"sleep 600\""));
    let report = p.root.path().join("report.json");
    let child = spawn_run(&p, &["-j", "2", "--report", report.to_str().unwrap()]);
    let sleeper =
        ["ps", "-q", "--filter", "label=org.pookie.managed=true", "--filter", "name=cp314-manylinux_2_17_x86_64-build"];
    let started = std::time::Instant::now();
    let id = loop {
        let ids = p.engine_output(&sleeper);
        if let Some(id) = ids.split_whitespace().next() {
            break id.to_string();
        }
        assert!(started.elapsed() < Duration::from_secs(600), "the build container never started");
        std::thread::sleep(Duration::from_millis(200));
    };
    p.engine_output(&["kill", &id]);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let r = p.report(&report);
    let jobs = job_statuses(&r);
    let job = |id: &str, stage: &str| jobs[&(id.to_string(), stage.to_string())].clone();
    assert_eq!(job("cp313-manylinux_2_17_x86_64", "build"), "passed");
    assert_eq!(job("cp313-manylinux_2_17_x86_64", "test"), "passed");
    assert_eq!(job("cp314-manylinux_2_17_x86_64", "build"), "failed");
    assert_eq!(job("cp314-manylinux_2_17_x86_64", "test"), "skipped");
    let summary = stdout(&out);
    assert!(summary.contains("the container was killed"), "{summary}");
    let wheels = p.wheels();
    assert!(wheels.len() == 1 && wheels[0].contains("-cp313-"), "{wheels:?}");
    let left = p.engine_output(&["ps", "-aq", "--filter", "label=org.pookie.managed=true", "--filter", "name=pookie-"]);
    assert!(left.trim().is_empty(), "containers left behind: {left}");
}

/// A full output directory (a 16 KiB tmpfs) fails the builds whose wheels cannot be written,
/// leaves no partial wheel, and a re-run with room delivers them from the job cache.
#[test]
fn a_full_disk_fails_the_delivery_and_a_rerun_resumes_from_the_cache() {
    require(&[&sid_image()]);
    assert_eq!(unsafe { libc::geteuid() }, 0, "this test mounts a small tmpfs and must run as root (as CI does)");
    let _serial = serial();
    let p = Project::new(&config("").replace("\"3.13\", \"3.14\"", "\"3.13\""));
    let dist = p.dir().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    let mount = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=16k", "pookie-full", dist.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(mount.success(), "cannot mount a tmpfs at {}", dist.display());
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let unmount = Unmount(dist.clone());
    // The disk is full before the wheel arrives.
    let _ = std::fs::write(dist.join("filler"), vec![1u8; 64 * 1024]);

    let report = p.root.path().join("report.json");
    let out = p.pookie(&["run", "--report", report.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let jobs = job_statuses(&p.report(&report));
    assert_eq!(jobs[&("cp313-manylinux_2_17_x86_64".to_string(), "build".to_string())], "failed");
    let summary = stdout(&out);
    assert!(
        summary.contains("its wheel could not be written to") && summary.contains("No space left on device"),
        "{summary}"
    );
    let left: Vec<_> = std::fs::read_dir(&dist).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("filler")], "a partial wheel was left");

    // Room again: the build is not run again, its wheel comes from the job cache.
    drop(unmount);
    let out = p.pookie(&["run", "--report", report.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let jobs = job_statuses(&p.report(&report));
    assert!(jobs.values().all(|s| s == "cached"), "{jobs:?}");
    assert_eq!(p.wheels().len(), 1);
}

/// Runs `p`, whose cp313 build and test pass and whose cp314 build fails (exit 1); returns the
/// run's output and each job's status by identifier and stage.
fn run_where_cp314_fails(p: &Project) -> (std::process::Output, impl Fn(&str, &str) -> String) {
    let report = p.root.path().join("report.json");
    let out = p.pookie(&["run", "--report", report.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let jobs = job_statuses(&p.report(&report));
    let job = move |id: &str, stage: &str| jobs[&(id.to_string(), stage.to_string())].clone();
    assert_eq!(job("cp313-manylinux_2_17_x86_64", "build"), "passed");
    assert_eq!(job("cp313-manylinux_2_17_x86_64", "test"), "passed");
    assert_eq!(job("cp314-manylinux_2_17_x86_64", "build"), "failed");
    (out, job)
}

/// `before-build` runs in the build's copy of the project before the build command, with its
/// environment; `before-test` runs before the wheel is installed; a failing hook fails its job
/// with its own reason, and an override replaces the hook for the builds it selects.
#[test]
fn before_build_and_before_test_hooks_run_first_and_fail_with_their_own_reason() {
    require(&[&sid_image()]);
    let _serial = serial();
    let p = Project::new(&config(
        r#"before-build = 'echo "hook for $POOKIE_BUILD_ID with $(python -c "import sys; print(sys.version_info[:2])")" > before-build.txt'
before-test = "python -c 'import fixturepkg' 2>/dev/null && exit 9 || echo wheel-not-yet-installed"
[[overrides]]
select = "cp314-*"
before-build = "exit 7"
"#,
    ));
    let (out, _) = run_where_cp314_fails(&p);
    let written =
        std::fs::read_to_string(p.dir().join(".pookie/jobs/cp313-manylinux_2_17_x86_64-build/src/before-build.txt"))
            .unwrap();
    assert_eq!(written.trim(), "hook for cp313-manylinux_2_17_x86_64 with (3, 13)");
    let test_log = p.log("cp313-manylinux_2_17_x86_64-test.log");
    let (hook, install) = (test_log.find("wheel-not-yet-installed"), test_log.find("] install: "));
    assert!(hook.is_some() && install.is_some() && hook < install, "before-test did not run first:\n{test_log}");
    let summary = stdout(&out);
    assert!(
        summary_row(&summary, "cp314-manylinux_2_17_x86_64", "build").contains("the before-build command failed"),
        "{summary}"
    );
}

/// `test-skip`: the matching builds' tests do not run (a test that would fail is not started),
/// their wheels are delivered, and the run says the tests were skipped.
#[test]
fn test_skip_delivers_the_wheel_untested_and_says_so() {
    require(&[&sid_image()]);
    let _serial = serial();
    let p = Project::new(
        &config("test-skip = \"cp313-*\"")
            .replace("\"3.13\", \"3.14\"", "\"3.13\"")
            .replace("test = \"python -m unittest discover -v -s {project}/tests\"", "test = \"exit 1\""),
    );
    let report = p.root.path().join("report.json");
    let out = p.pookie(&["run", "--report", report.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let jobs = job_statuses(&p.report(&report));
    assert_eq!(jobs[&("cp313-manylinux_2_17_x86_64".to_string(), "test".to_string())], "test-skipped");
    assert_eq!(p.wheels().len(), 1);
    let summary = stdout(&out);
    assert!(summary.contains("1 tests skipped by test-skip"), "{summary}");
    assert!(summary_row(&summary, "cp313-manylinux_2_17_x86_64", "test").contains("skipped: test-skip"), "{summary}");
}

/// `environment-pass` hands variables of pookie's environment to the jobs by name: the build
/// sees the value, the plan does not hold it, and a variable not named stays out.
#[test]
fn environment_pass_hands_named_variables_to_jobs_and_keeps_their_values_out_of_the_plan() {
    require(&[&sid_image()]);
    let _serial = serial();
    let p = Project::new(
        &config(
            r#"environment-pass = ["PKTEST_TOKEN_X"]
before-build = '[ "${PKTEST_TOKEN_X#s3cret-}" = value ] && [ -z "${PKTEST_NOT_PASSED:-}" ]'"#,
        )
        .replace("\"3.13\", \"3.14\"", "\"3.13\""),
    );
    let plan = p.command().args(["plan", "--format", "json"]).env("PKTEST_TOKEN_X", "s3cret-value").output().unwrap();
    let plan_text = stdout(&plan);
    assert!(
        plan_text.contains("PKTEST_TOKEN_X") && !plan_text.contains("s3cret-value"),
        "{plan_text}{}",
        stderr(&plan)
    );
    // `-v` shows every engine command line, the job's environment with it, on stderr and in
    // the job's log; a passed variable shows by name only.
    let out = p
        .command()
        .args(["-v", "run"])
        .env("PKTEST_TOKEN_X", "s3cret-value")
        .env("PKTEST_NOT_PASSED", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let err = stderr(&out);
    let run_line = err
        .lines()
        .find(|l| l.starts_with("+ ") && l.contains(" run --rm ") && l.contains("--env=POOKIE_STAGE=build"))
        .unwrap_or_else(|| panic!("no build job's command line:\n{err}"));
    assert!(run_line.contains("--env=PKTEST_TOKEN_X "), "{run_line}");
    assert!(!err.contains("s3cret-value"), "{err}");
    let log = p.log("cp313-manylinux_2_17_x86_64-build.log");
    assert!(log.contains("::pookie:: + ") && log.contains("--env=POOKIE_STAGE=build"), "{log}");
    // Without the variable the hook fails: the build did see it.
    let out = p.command().args(["run", "--force", "cp313-*"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("the before-build command failed"), "{}", stdout(&out));
}

/// `test-sources` copies the project's files into the directory the tests run in,
/// `test-extras` installs the wheel with the extra's requirements, and `test-groups` the
/// requirements of PEP 735 dependency groups (includes resolved).
#[test]
fn test_sources_extras_and_groups_reach_the_test_job() {
    require(&[&sid_image()]);
    let _serial = serial();
    let p = Project::new(
        &config("test-sources = [\"tests\"]\ntest-extras = [\"test\"]\ntest-groups = [\"checks\"]")
            .replace("\"3.13\", \"3.14\"", "\"3.13\"")
            .replace("{project}/tests", "tests")
            .replace("test = \"", "test = \"python -c 'import six, iniconfig' && "),
    );
    let pyproject = p.dir().join("pyproject.toml");
    let text = std::fs::read_to_string(&pyproject).unwrap();
    let extra = "[project.optional-dependencies]\ntest = [\"six\"]\n[dependency-groups]\nchecks = [{include-group = \"base\"}]\nbase = [\"iniconfig\"]\n";
    std::fs::write(&pyproject, format!("{text}\n{extra}")).unwrap();
    let out = p.pookie(&["run"]);
    assert!(out.status.success(), "{}", stdout(&out));
    let log = p.log("cp313-manylinux_2_17_x86_64-test.log");
    assert!(log.contains("Successfully installed") && log.contains("six"), "the extra was not installed:\n{log}");
    assert!(log.contains("Ran 6 tests") && log.contains("OK (skipped=1)"), "the copied tests did not run:\n{log}");
}

/// A project configured only with `[tool.cibuildwheel]` (no pookie.toml): its selectors, hooks,
/// environment and tests are honoured in a real build, with a CPython from the user's mirror
/// (the CI mirror's x86_64 interpreter) on the default base image.
#[test]
fn a_project_configured_for_cibuildwheel_builds_and_tests_unchanged() {
    let mirror = python_mirror();
    require(&["debian:bookworm-slim"]);
    let _serial = serial();
    let p = Project::new("").with_mirror(&mirror);
    std::fs::remove_file(p.dir().join("pookie.toml")).unwrap();
    let pyproject = p.dir().join("pyproject.toml");
    let text = std::fs::read_to_string(&pyproject).unwrap();
    std::fs::write(
        &pyproject,
        format!(
            r#"{text}
[tool.cibuildwheel]
build = "cp311-manylinux_x86_64"
skip = "pp*"
test-requires = "pytest"
test-command = ["python -c 'import os; assert os.environ[\"FIXTURE_FLAG\"] == \"on\"'", "pytest {{package}}/tests"]
before-build = "echo from-cibuildwheel > before-build.txt"
environment = {{ FIXTURE_FLAG = "on" }}
manylinux-x86_64-image = "manylinux2014"
"#
        ),
    )
    .unwrap();
    let report = p.root.path().join("report.json");
    let out = p.pookie(&["run", "--target", "manylinux_2_17_x86_64", "--report", report.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let jobs = job_statuses(&p.report(&report));
    let ids: Vec<&str> = jobs.keys().map(|(id, _)| id.as_str()).collect();
    assert!(ids.iter().all(|id| *id == "cp311-manylinux_2_17_x86_64"), "{ids:?}");
    assert!(jobs.values().all(|s| s == "passed"), "{jobs:?}");
    let wheels = p.wheels();
    assert!(
        wheels.len() == 1
            && wheels[0].starts_with("fixturepkg-0.1.0-cp311-cp311-")
            && wheels[0].contains("manylinux_2_17_x86_64"),
        "{wheels:?}"
    );
    let before = p.dir().join(".pookie/jobs/cp311-manylinux_2_17_x86_64-build/src/before-build.txt");
    assert_eq!(std::fs::read_to_string(before).unwrap().trim(), "from-cibuildwheel");
    let log = p.log("cp311-manylinux_2_17_x86_64-test.log");
    assert!(log.contains("passed") && log.contains("skipped"), "pytest did not run the fixture's tests:\n{log}");
    let warnings = stderr(&out) + &stdout(&out);
    assert!(warnings.contains("`manylinux-x86_64-image` is ignored"), "{warnings}");
}

/// A free-threaded CPython (`"3.13t"`, from the user's mirror, as python-build-standalone's
/// freethreaded archive would serve it) builds a `cp313-cp313t` wheel, which auditwheel repairs
/// and whose tests run without the GIL, threads and all.
#[test]
fn a_free_threaded_wheel_is_built_and_its_tests_run_without_the_gil() {
    let mirror = free_threaded_mirror();
    require(&["debian:bookworm-slim"]);
    let _serial = serial();
    let p = Project::new(
        r#"targets = ["manylinux_2_17_x86_64"]
test = "python -m unittest discover -v -s {project}/tests"
abi3 = true
[python]
versions = ["3.13t"]
"#,
    )
    .with_mirror(&mirror);
    let plan = p.pookie(&["plan"]);
    assert!(plan.status.success(), "{}", stderr(&plan));
    let said = stdout(&plan) + &stderr(&plan);
    assert!(said.contains("CPython 3.13.15 free-threaded x86_64-unknown-linux-gnu"), "{said}");
    assert!(said.contains("abi3 does not apply to free-threaded CPython: cp313t-manylinux_2_17_x86_64"), "{said}");

    let report = p.root.path().join("report.json");
    let out = p.pookie(&["run", "--report", report.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let jobs = job_statuses(&p.report(&report));
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    assert!(jobs.iter().all(|((id, _), s)| id == "cp313t-manylinux_2_17_x86_64" && s == "passed"), "{jobs:?}");
    let wheels = p.wheels();
    assert!(
        wheels.len() == 1
            && wheels[0].starts_with("fixturepkg-0.1.0-cp313-cp313t-")
            && wheels[0].contains("manylinux_2_17_x86_64"),
        "{wheels:?}"
    );
    let so = wheel_member(&p.dir().join("dist").join(&wheels[0]), ".cpython-313t-x86_64-linux-gnu.so");
    assert!(!so.is_empty());
    let log = p.log("cp313t-manylinux_2_17_x86_64-test.log");
    assert!(log.contains("Ran 6 tests") && log.contains("OK (skipped=1)"), "{log}");
    assert!(log.contains("fixturepkg: threads ran without the GIL"), "{log}");
    let build = p.log("cp313t-manylinux_2_17_x86_64-build.log");
    assert!(build.contains("auditwheel repair --plat manylinux_2_17_x86_64"), "{build}");
}

/// `repair-wheel-command` replaces pookie's repair: cibuildwheel's usual `auditwheel repair -w
/// {dest_dir} {wheel}` repairs for the job's target (`auditwheel` is the target's in a job, and
/// `AUDITWHEEL_PLAT` its policy); an empty command delivers the wheel as built, which pookie's
/// tag check then refuses for a manylinux target, saying why.
#[test]
fn repair_wheel_command_replaces_the_repair_and_the_tag_check_stays() {
    require(&[&sid_image()]);
    let _serial = serial();
    let p = Project::new(&config(
        r#"repair-wheel-command = "auditwheel repair -w {dest_dir} {wheel} && echo repaired {wheel} > {project}/repair.txt"
[[overrides]]
select = "cp314-*"
repair-wheel-command = ""
"#,
    ));
    let (out, _) = run_where_cp314_fails(&p);
    let wheels = p.wheels();
    assert!(wheels.len() == 1 && wheels[0].contains("manylinux_2_17_x86_64"), "{wheels:?}");
    let written =
        std::fs::read_to_string(p.dir().join(".pookie/jobs/cp313-manylinux_2_17_x86_64-build/src/repair.txt")).unwrap();
    assert!(written.starts_with("repaired /pookie/job/wheels/fixturepkg-"), "{written}");
    let build = p.log("cp313-manylinux_2_17_x86_64-build.log");
    assert!(build.contains("repair: repair-wheel-command") && !build.contains("--plat manylinux"), "{build}");
    // The empty command: no repair, and the linux_x86_64 wheel is not a manylinux one.
    let row = summary_row(&stdout(&out), "cp314-manylinux_2_17_x86_64", "build").to_string();
    assert!(row.contains("linux_x86_64") && row.contains("not manylinux_2_17_x86_64"), "{row}");
}

/// `build-frontend`: `uv build` for one Python, `pip wheel` for the other (an override), uv
/// installed in the Python layer; both wheels repaired and tested.
#[test]
fn build_frontends_uv_and_pip_build_the_wheels() {
    require(&[&sid_image()]);
    let _serial = serial();
    let p = Project::new(&config(
        "build-frontend = \"uv\"\n[[overrides]]\nselect = \"cp314-*\"\nbuild-frontend = \"pip\"\n",
    ));
    let plan = p.plan(&[]);
    let layers: Vec<&serde_json::Value> =
        plan["images"].as_array().unwrap().iter().filter(|i| i["layer"] == "python").collect();
    assert!(
        !layers.is_empty() && layers.iter().all(|l| l["args"]["UV_VERSION"].is_string()),
        "uv is not in the Python layers: {layers:?}"
    );
    let report = p.root.path().join("report.json");
    let out = p.pookie(&["run", "--report", report.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stdout(&out));
    check_wheels(&p, &p.report(&report));
    let uv = p.log("cp313-manylinux_2_17_x86_64-build.log");
    assert!(uv.contains("+ uv build --wheel") && uv.contains("with uv"), "not built by uv build:\n{uv}");
    let pip = p.log("cp314-manylinux_2_17_x86_64-build.log");
    assert!(pip.contains("-m pip wheel --no-deps") && pip.contains("with pip"), "not built by pip wheel:\n{pip}");
}

/// A CI matrix of two shards (`--shard 1/2`, `--shard 2/2`, each with its report) builds and
/// tests every job of the plan exactly once, each build with its tests; `pookie report merge`
/// makes their reports the report of the whole run, and its JUnit XML counts every job.
#[test]
fn two_shards_run_the_whole_plan_and_their_reports_merge() {
    let p = Project::new(&config(""));
    let plan: serde_json::Value = serde_json::from_str(&stdout(&p.pookie(&["plan", "--format", "json"]))).unwrap();
    let all: std::collections::BTreeSet<String> =
        plan["jobs"].as_array().unwrap().iter().map(|j| j["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(all.len(), 4, "2 builds and 2 tests: {all:?}");
    let mut reports = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for k in 1..=2 {
        let report = p.root.path().join(format!("shard-{k}.json"));
        let out = p.pookie(&["run", "--shard", &format!("{k}/2"), "--report", report.to_str().unwrap()]);
        assert!(out.status.success(), "shard {k}/2: {}", stderr(&out));
        let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        let ids: std::collections::BTreeSet<(String, String)> = job_statuses(&r).into_keys().collect();
        assert_eq!(ids.len(), 2, "shard {k}/2 runs one build with its test: {ids:?}");
        let builds: std::collections::BTreeSet<&String> = ids.iter().map(|(id, _)| id).collect();
        assert_eq!(builds.len(), 1, "a build and its test stay in one shard: {ids:?}");
        for (id, stage) in ids {
            assert!(seen.insert(format!("{id}/{stage}")), "{id}/{stage} ran in two shards");
        }
        reports.push(report);
    }
    assert_eq!(seen, all, "the shards together run the whole plan");
    let merged = p.root.path().join("merged.json");
    let junit = p.root.path().join("merged.xml");
    let out = p.pookie(&[
        "report",
        "merge",
        reports[0].to_str().unwrap(),
        reports[1].to_str().unwrap(),
        "--output",
        merged.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&merged).unwrap()).unwrap();
    assert_eq!(m["passed"], true);
    let statuses = job_statuses(&m);
    assert_eq!(statuses.len(), 4, "{statuses:?}");
    assert!(statuses.values().all(|s| s == "passed"), "{statuses:?}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count() - xml.matches("classname=\"images\"").count(), 4, "{xml}");
    assert!(xml.contains("failures=\"0\""), "{xml}");
    // The same report twice is not a run: refused as bad input.
    let out = p.pookie(&["report", "merge", reports[0].to_str().unwrap(), reports[0].to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("is in both"), "{}", stderr(&out));
}

/// Image layers shared through a cache registry: a run pushes the layers it has, and a machine
/// without them pulls them instead of building them, then runs the jobs in them. The project's
/// before-all makes layers no other test has (the base and toolchain layers below are shared
/// with the tests running beside this one and stay), and those are removed from the engine
/// between the runs, as on a fresh machine.
#[test]
fn layers_are_pulled_from_the_cache_registry_instead_of_built() {
    let registry = Registry::start();
    let marker = format!("layers-of-{}-{}", std::process::id(), engine_now().replace([':', ' ', '.'], "-"));
    let repository = format!("{}/pookie-cache", registry.host);
    let p = Project::new(&config(&format!("before-all = \"echo {marker}\"\n[caches]\nregistry = \"{repository}\"\n")));
    let first = p.root.path().join("first.json");
    let out = p.pookie(&["run", "--report", first.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let first: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&first).unwrap()).unwrap();
    let plan: serde_json::Value = serde_json::from_str(&stdout(&p.pookie(&["plan", "--format", "json"]))).unwrap();
    let own: std::collections::BTreeMap<String, String> = plan["images"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| ["before-all/", "python/"].iter().any(|p| i["name"].as_str().unwrap().starts_with(p)))
        .map(|i| (i["name"].as_str().unwrap().to_string(), i["tag"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(own.len(), 3, "the before-all layer and a Python layer per version: {own:?}");
    for name in own.keys() {
        assert_eq!(image_statuses(&first)[name], "built", "{name}");
    }
    // Every layer of the run is in the registry now, the shared ones too.
    for i in plan["images"].as_array().unwrap() {
        let (name, tag) = i["tag"].as_str().unwrap().strip_prefix("pookie/").unwrap().split_once(':').unwrap();
        let url = format!("http://{}/v2/pookie-cache/{name}/manifests/{tag}", registry.host);
        let found = std::process::Command::new("curl")
            .args(["-sfI", "-H", "Accept: application/vnd.docker.distribution.manifest.v2+json", "-H"])
            .arg("Accept: application/vnd.oci.image.manifest.v1+json")
            .arg(&url)
            .output()
            .expect("curl runs");
        assert!(found.status.success(), "{} is not in the registry ({url})", i["name"]);
    }
    for tag in own.values() {
        engine_output(&["rmi", tag]);
    }
    let second = p.root.path().join("second.json");
    let out = p.pookie(&["run", "--force", "--report", second.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let second: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&second).unwrap()).unwrap();
    let statuses = image_statuses(&second);
    for name in own.keys() {
        assert_eq!(statuses[name], "pulled", "{name}: {statuses:?}");
    }
    assert!(statuses.values().all(|s| s != "built"), "no layer is built: {statuses:?}");
    assert!(stdout(&out).contains("3 pulled"), "{}", stdout(&out));
    // The jobs ran in the pulled layers, and passed.
    for ((id, stage), status) in job_statuses(&second) {
        assert_eq!(status, "passed", "{id} {stage}");
    }
}

/// Job results shared through the cache registry: a run pushes each passed job's result (an OCI
/// artifact per job); with the job cache emptied, as on a machine that never ran them, the next
/// run takes every result from the registry and runs no job, and delivers the same wheels. A
/// result whose wheel was damaged in the registry is refused by its digest: that build runs again.
#[test]
fn job_results_are_taken_from_the_cache_registry_and_a_damaged_one_is_not_used() {
    let registry = Registry::start();
    let repository = format!("{}/pookie-cache", registry.host);
    let p = Project::new(&config(&format!("[caches]\nregistry = \"{repository}\"\n")));
    let run = |name: &str| -> serde_json::Value {
        let report = p.root.path().join(name);
        let out = p.pookie(&["run", "--report", report.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        p.report(&report)
    };
    let sha256 = |name: &String| pookie::digest::sha256_file(&p.dir().join("dist").join(name)).unwrap();
    let first = run("first.json");
    check_wheels(&p, &first);
    let wheels: std::collections::BTreeMap<String, String> =
        p.wheels().iter().map(|w| (w.clone(), sha256(w))).collect();
    // One artifact per job, tagged with its cache key.
    let tags = std::process::Command::new("curl")
        .arg("-sf")
        .arg(format!("http://{}/v2/pookie-cache/jobs/tags/list", registry.host))
        .output()
        .expect("curl runs");
    let tags: serde_json::Value = serde_json::from_slice(&tags.stdout).expect("the registry lists the jobs' tags");
    assert_eq!(tags["tags"].as_array().map(Vec::len), Some(4), "two builds and their tests: {tags}");

    let fresh = || {
        std::fs::remove_dir_all(p.cache().join("jobs")).expect("the job cache is emptied");
        for w in wheels.keys() {
            std::fs::remove_file(p.dir().join("dist").join(w)).unwrap();
        }
    };
    fresh();
    let report = p.root.path().join("second.json");
    let out = p.pookie(&["run", "--report", report.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("4 pulled from the cache registry"), "{}", stdout(&out));
    let second = p.report(&report);
    for ((id, stage), status) in job_statuses(&second) {
        assert_eq!(status, "pulled", "{id} {stage}");
    }
    let now: std::collections::BTreeMap<String, String> = p.wheels().iter().map(|w| (w.clone(), sha256(w))).collect();
    assert_eq!(now, wheels, "the same wheels are delivered");
    let log = p.log("cp313-manylinux_2_17_x86_64-test.log");
    assert!(log.contains("pulled from") && log.contains("OK (skipped=1)"), "the log of the run that made it:\n{log}");

    // Damaged in the registry: the blob of the 3.13 wheel, one byte changed.
    let (damaged, digest) = wheels.iter().find(|(w, _)| w.contains("-cp313-")).unwrap();
    let blob = registry.blob(digest);
    let mut bytes = std::fs::read(&blob).expect("the wheel's blob is in the registry's storage");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&blob, bytes).unwrap();
    fresh();
    let third = run("third.json");
    let statuses = job_statuses(&third);
    let build = |cp: &str| statuses[&(format!("{cp}-manylinux_2_17_x86_64"), "build".to_string())].clone();
    assert_eq!(build("cp313"), "passed", "the damaged result is not used: the build runs ({statuses:?})");
    assert_eq!(build("cp314"), "pulled", "{statuses:?}");
    let log = p.log("cp313-manylinux_2_17_x86_64-build.log");
    assert!(log.contains("the cache registry's result was not used"), "{log}");
    assert!(p.wheels().iter().any(|w| w.split('-').nth(2) == damaged.split('-').nth(2)), "{:?}", p.wheels());
}

/// A machine that never ran pookie — a second engine with an empty image store, and an empty
/// pookie cache — with the registry another machine filled: every layer is pulled, every job's
/// result taken, nothing is built and no job runs; the wheels are the first machine's.
#[test]
fn a_fresh_engine_takes_everything_from_the_cache_registry_and_builds_nothing() {
    let registry = Registry::start();
    let repository = format!("{}/pookie-cache", registry.host);
    let toml = config(&format!("[caches]\nregistry = \"{repository}\"\n"));
    let first = Project::new(&toml);
    let report = first.root.path().join("report.json");
    let out = first.pookie(&["run", "--report", report.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    check_wheels(&first, &first.report(&report));
    let sha256 = |p: &Project, name: &String| pookie::digest::sha256_file(&p.dir().join("dist").join(name)).unwrap();
    let wheels: std::collections::BTreeMap<String, String> =
        first.wheels().iter().map(|w| (w.clone(), sha256(&first, w))).collect();

    let engine = SecondEngine::start();
    engine.load(&sid_image());
    let images = |e: &SecondEngine| stdout(&e.docker(&["images", "-q", "--filter", "label=org.pookie.layer"]));
    assert!(images(&engine).trim().is_empty(), "the second engine has no layer of pookie's");
    let second = Project::new(&toml);
    let report = second.root.path().join("report.json");
    let out =
        second.command().env("DOCKER_HOST", &engine.host).args(["run", "--report"]).arg(&report).output().unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let report = second.report(&report);
    let statuses = image_statuses(&report);
    assert!(statuses.values().all(|s| s == "pulled"), "every layer is pulled: {statuses:?}");
    for ((id, stage), status) in job_statuses(&report) {
        assert_eq!(status, "pulled", "{id} {stage}: its result is taken, it does not run");
    }
    assert!(!images(&engine).trim().is_empty(), "the layers are in the second engine now");
    let now: std::collections::BTreeMap<String, String> =
        second.wheels().iter().map(|w| (w.clone(), sha256(&second, w))).collect();
    assert_eq!(now, wheels, "the first machine's wheels are delivered");
}

/// The machine file of `p` with `engines` (TOML of `[[engines]]` entries).
fn machine_file(p: &Project, engines: &str) {
    let dir = p.root.path().join("xdg-config/pookie");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), engines).unwrap();
}

/// Where each job ran, by the report.
fn job_engines(report: &serde_json::Value) -> std::collections::BTreeMap<String, String> {
    report["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter(|n| n["kind"] == "job")
        .map(|n| (n["name"].as_str().unwrap().to_string(), n["engine"].as_str().unwrap_or("?").to_string()))
        .collect()
}

#[test]
fn a_pool_of_two_engines_shares_the_jobs_and_every_wheel_comes_back() {
    let engine = SecondEngine::start();
    let p = Project::new(&config(""));
    // One slot each: while the default engine builds the second Python's layer, the first
    // Python's build goes to the other engine, which has none of pookie's layers yet.
    machine_file(&p, &format!("[[engines]]\nname = \"second\"\nhost = \"{}\"\nslots = 1\n", engine.host));
    let report = p.root.path().join("report.json");
    let out = p.pookie(&["run", "-j", "1", "--report", report.to_str().unwrap()]);
    let report = p.report(&report);
    let logs: String = job_engines(&report)
        .keys()
        .map(|job| p.log(&format!("{}.log", job.replace('/', "-"))))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n----\n");
    assert!(out.status.success(), "{}\n{logs}", stderr(&out));
    check_wheels(&p, &report);
    let engines = job_engines(&report);
    let used: std::collections::BTreeSet<&str> = engines.values().map(String::as_str).collect();
    assert_eq!(used, ["default", "second"].into(), "jobs ran on both engines: {engines:?}");
    let mut sent = false;
    for (job, on) in &engines {
        let log = p.log(&format!("{}.log", job.replace('/', "-")));
        assert!(log.contains("::pookie::"), "{job}'s log came back:\n{log}");
        if on == "second" {
            assert!(stdout(&out).contains("on second"), "the summary says where jobs ran");
            // Without a cache registry, layers go from this engine to the other.
            sent |= log.contains("::pookie:: sending pookie/");
        }
    }
    assert!(sent, "a job's log says its layer was sent to the second engine");
    // What the pool's engine ran left nothing behind there: no container, no job volume.
    let left = stdout(&engine.docker(&["ps", "-aq"]))
        + &stdout(&engine.docker(&["volume", "ls", "-q", "--filter", "label=org.pookie.run"]));
    assert!(left.trim().is_empty(), "left on the second engine: {left}");
    assert!(
        !stdout(&engine.docker(&["images", "-q", "--filter", "label=org.pookie.layer-name"])).trim().is_empty(),
        "layers were sent to it"
    );
}

#[test]
fn an_engine_of_the_pool_killed_mid_run_fails_only_its_own_job() {
    let mut engine = SecondEngine::start();
    // With a cache registry, the pool's engine pulls the layers from it (not sent from here).
    let registry = Registry::start();
    let p = Project::new(&config(&format!("[caches]\nregistry = \"{}/pookie-cache\"\n", registry.host)));
    machine_file(&p, &format!("[[engines]]\nname = \"second\"\nhost = \"{}\"\nslots = 1\n", engine.host));
    let report = p.root.path().join("report.json");
    let mut run = p.command().args(["run", "-j", "1", "--report"]).arg(&report).spawn().expect("pookie runs");
    // A job's container running there: the engine goes away under it.
    let started = Instant::now();
    loop {
        let running = stdout(&engine.docker(&["ps", "-q", "--filter", "label=org.pookie.run"]));
        if !running.trim().is_empty() {
            break;
        }
        assert!(run.try_wait().unwrap().is_none(), "the run ended before a job ran on the second engine");
        assert!(started.elapsed() < Duration::from_secs(600), "no job ran on the second engine");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    engine.kill();
    let status = run.wait().unwrap();
    assert_eq!(status.code(), Some(1), "a failed job fails the run");
    let report = p.report(&report);
    let engines = job_engines(&report);
    let nodes = report["nodes"].as_array().unwrap();
    let lost: Vec<&serde_json::Value> = nodes.iter().filter(|n| n["engine"] == "second").collect();
    assert_eq!(lost.len(), 1, "one job was on the second engine, and nothing more went there: {engines:?}");
    let lost = lost[0];
    let log = p.log(&format!("{}.log", lost["name"].as_str().unwrap().replace('/', "-")));
    assert!(log.contains("Pulling from pookie-cache/") && !log.contains("::pookie:: sending"), "{log}");
    assert_eq!(lost["status"], "failed", "{lost}");
    assert_eq!(lost["reason"], "engine second stopped answering during the job", "{lost}");
    // Everything else ran on the default engine and passed, but the lost build's test.
    for n in nodes.iter().filter(|n| n["kind"] == "job" && n["name"] != lost["name"]) {
        let downstream = n["build_id"] == lost["build_id"] && lost["stage"] == "build";
        let want = if downstream { "skipped" } else { "passed" };
        assert_eq!(n["status"], want, "{n}");
    }
    assert_eq!(p.wheels().len(), 1, "the other Python's wheel is delivered, not the lost one's");
}
