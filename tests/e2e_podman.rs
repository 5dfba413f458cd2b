//! End to end on podman, as users run it: rootful (root runs pookie, as on many CI runners) and
//! rootless (an unprivileged user with subordinate ids). The basic runs of tests/e2e_run.rs —
//! a build and its test, a failing test, Ctrl-C — on rootful podman, and the example project on
//! rootless podman; `pookie doctor` starts a job's container on each and says how jobs map to
//! the caller.
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
