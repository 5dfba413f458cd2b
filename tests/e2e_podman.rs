//! End to end on podman, as users run it: rootful (root runs pookie, as on many CI runners) and
//! rootless (an unprivileged user with subordinate ids). The basic runs of tests/e2e_run.rs —
//! a build and its test, a failing test, Ctrl-C — on rootful podman, and the example project on
//! rootless podman; `pookie doctor` starts a job's container on each and says how jobs map to
//! the caller; and a podman service as an engine of the pool of a docker default engine.
//!
//! Needs what `scripts/setup.sh --tests` prepares: podman, the sid image in root's store and in
//! the store of the rootless user (`POOKIE_TEST_ROOTLESS_USER`, default `pookie-rootless`).

mod support;

use std::os::unix::fs::MetadataExt;
use support::e2e::*;

const PODMAN: &str = "podman";

fn rootless_user() -> String {
    std::env::var("POOKIE_TEST_ROOTLESS_USER").unwrap_or_else(|_| "pookie-rootless".into())
}

/// Fails (with the fix) unless podman answers for `p`'s user and has the sid image.
fn require_podman(p: &Project) {
    let out = p.engine_output(&["info", "--format", "{{.Host.Security.Rootless}}"]);
    let image = p.engine_output(&["images", "--quiet", &sid_image()]);
    assert!(
        !image.trim().is_empty(),
        "podman ({}) lacks {}: `scripts/setup.sh --tests` loads it (rootless: {})",
        p.user.as_deref().unwrap_or("root"),
        sid_image(),
        out.trim()
    );
}

/// A project on rootful podman (this test runs as root, as CI does).
fn rootful(toml: &str) -> Project {
    assert_eq!(unsafe { libc::geteuid() }, 0, "the rootful podman tests run as root (CI does)");
    let p = Project::new(toml).on_engine(PODMAN);
    require_podman(&p);
    p
}

fn doctor_says(p: &Project, expected: &[&str]) {
    let out = p.pookie(&["doctor"]);
    let text = stdout(&out);
    assert!(out.status.success(), "pookie doctor failed:\n{text}\n{}", stderr(&out));
    for e in expected {
        assert!(text.contains(e), "pookie doctor does not say `{e}`:\n{text}");
    }
}

#[test]
fn rootful_podman_builds_and_tests_the_fixture_as_the_caller() {
    let _serial = serial();
    let p = rootful(&sid_config(""));
    doctor_says(&p, &["podman answers (rootful", "ok    container      jobs start as the caller (uid 0)"]);
    let report = p.root.path().join("report.json");
    let out = p.pookie(&["run", "--report", report.to_str().unwrap()]);
    assert!(out.status.success(), "pookie run on podman failed:\n{}\n{}", stdout(&out), stderr(&out));
    for ((id, stage), status) in job_statuses(&p.report(&report)) {
        assert_eq!(status, "passed", "{id} {stage}");
    }
    let wheels = p.wheels();
    assert_eq!(wheels.len(), 2, "{wheels:?}");
    for w in &wheels {
        assert!(w.contains("manylinux_2_17_x86_64"), "{w}");
        assert_eq!(std::fs::metadata(p.dir().join("dist").join(w)).unwrap().uid(), 0, "{w} owner");
    }
    for cp in ["cp313", "cp314"] {
        let log = p.log(&format!("{cp}-manylinux_2_17_x86_64-test.log"));
        assert!(log.contains("Ran 6 tests") && log.contains("OK (skipped=1)"), "{log}");
    }
    // The layers were built in podman's own store.
    let images = p.engine_output(&["images", "--quiet", "--filter", "label=org.pookie.managed=true"]);
    assert!(images.split_whitespace().count() >= 4, "pookie's layers are not in podman's store: {images}");
}

#[test]
fn rootful_podman_a_failing_test_fails_only_its_job() {
    let _serial = serial();
    a_failing_test_fails_only_its_job(&rootful(&sid_config(FAILING_CP314)));
}

#[test]
fn rootful_podman_ctrl_c_leaves_no_container_and_no_wheel() {
    let _serial = serial();
    ctrl_c_leaves_no_container_and_no_wheel(&rootful(&sid_config("build = \"sleep 600\"")));
}

/// The example of the quick start, run by an unprivileged user on rootless podman: its wheels
/// are built, tested and owned by that user.
#[test]
fn rootless_podman_runs_the_example() {
    let _serial = serial();
    let example = repo().join("examples/fastsum");
    let toml = std::fs::read_to_string(example.join("pookie.toml")).unwrap();
    let mut p = Project::of(&example, &toml).on_engine(PODMAN);
    let uid = if unsafe { libc::geteuid() } == 0 {
        let user = rootless_user();
        let uid = std::process::Command::new("id").args(["-u", &user]).output().unwrap();
        assert!(uid.status.success(), "no user {user}: `scripts/setup.sh --tests` creates it");
        p = p.run_by(&user);
        String::from_utf8_lossy(&uid.stdout).trim().parse::<u32>().unwrap()
    } else {
        unsafe { libc::geteuid() }
    };
    require_podman(&p);
    doctor_says(&p, &["podman answers (rootless", &format!("jobs start as the caller (uid {uid})")]);
    let out = p.pookie(&["run"]);
    assert!(out.status.success(), "pookie run on rootless podman failed:\n{}\n{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("4 jobs: 4 passed"), "{}", stdout(&out));
    let wheels = p.wheels();
    assert_eq!(wheels.len(), 2, "{wheels:?}");
    for w in &wheels {
        assert!(w.starts_with("fastsum-1.0.0-cp31"), "{w}");
        assert_eq!(std::fs::metadata(p.dir().join("dist").join(w)).unwrap().uid(), uid, "{w} owner");
    }
    let log = p.log("cp314-manylinux_2_17_x86_64-test.log");
    assert!(log.contains("OK"), "{log}");
}

/// `podman system service` on a socket of its own, as a machine serves its podman to others;
/// stopped when dropped.
struct PodmanService {
    url: String,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl PodmanService {
    fn start() -> PodmanService {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("unix://{}", dir.path().join("podman.sock").display());
        let child = std::process::Command::new(PODMAN)
            .args(["system", "service", "--time=0", &url])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("podman system service starts");
        let service = PodmanService { url, child, _dir: dir };
        for _ in 0..100 {
            let info = std::process::Command::new(PODMAN).args(["--url", &service.url, "info"]).output();
            if info.is_ok_and(|o| o.status.success()) {
                return service;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("podman system service does not answer on {}", service.url);
    }
}

impl Drop for PodmanService {
    fn drop(&mut self) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

/// A podman engine in the pool of a docker default engine: its jobs go through a volume of
/// podman's, the layers are sent from docker's store, and the wheels and logs come back.
#[test]
fn a_podman_engine_in_the_pool_runs_jobs_and_returns_their_wheels() {
    let _serial = serial();
    let service = PodmanService::start();
    let p = Project::new(&sid_config(""));
    let dir = p.root.path().join("xdg-config/pookie");
    std::fs::create_dir_all(&dir).unwrap();
    let machine = format!("[[engines]]\nname = \"podman\"\nkind = \"podman\"\nhost = \"{}\"\nslots = 1\n", service.url);
    std::fs::write(dir.join("config.toml"), machine).unwrap();
    let report = p.root.path().join("report.json");
    let out = p.pookie(&["run", "-j", "1", "--report", report.to_str().unwrap()]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let report = p.report(&report);
    let engines: std::collections::BTreeSet<&str> = report["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "job")
        .map(|n| n["engine"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(engines, ["default", "podman"].into(), "jobs ran on both engines");
    for ((id, stage), status) in job_statuses(&report) {
        assert_eq!(status, "passed", "{id} {stage}");
    }
    assert_eq!(p.wheels().len(), 2, "every wheel came back");
    let uid = unsafe { libc::getuid() };
    for w in p.wheels() {
        assert_eq!(std::fs::metadata(p.dir().join("dist").join(&w)).unwrap().uid(), uid, "{w} is the caller's");
    }
    let left = std::process::Command::new(PODMAN)
        .args(["--url", &service.url, "volume", "ls", "-q", "--filter", "label=org.pookie.run"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&left.stdout).trim().is_empty(), "a job's volume was left on podman");
}
