//! The engine's daemon stops in the middle of a run: the job it was running fails with one
//! clear reason, nothing more starts, no partial wheel is delivered, and once the daemon is back
//! a re-run reuses what had passed from the job cache.
//!
//! This stops and restarts the machine's dockerd (with the command line and log it was started
//! with), so it is its own test binary: no other test uses the engine meanwhile. It runs where
//! dockerd is a process of this machine and the caller may restart it: as root, with
//! POOKIE_TEST_RESTARTS_DOCKERD=1 (scripts/test.sh sets it).

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};
use support::e2e::*;

/// The running dockerd: its pid, command line and where its output goes.
struct Dockerd {
    pid: i32,
    argv: Vec<String>,
    log: Option<PathBuf>,
}

impl Dockerd {
    fn find() -> Dockerd {
        let out = std::process::Command::new("pidof").arg("dockerd").output().expect("pidof runs");
        let pid: i32 = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .and_then(|p| p.parse().ok())
            .expect("dockerd is not running as a process of this machine (scripts/setup.sh starts it)");
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
        let argv = cmdline
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let log = std::fs::read_link(format!("/proc/{pid}/fd/1")).ok().filter(|p| p.is_absolute() && p.is_file());
        Dockerd { pid, argv, log }
    }

    fn stop(&self) {
        unsafe { libc::kill(self.pid, libc::SIGTERM) };
        let started = Instant::now();
        while std::path::Path::new(&format!("/proc/{}", self.pid)).exists() {
            assert!(started.elapsed() < Duration::from_secs(60), "dockerd did not stop");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn start(&self) {
        let log = match &self.log {
            Some(p) => std::fs::OpenOptions::new().append(true).open(p).unwrap(),
            None => std::fs::File::create("/dev/null").unwrap(),
        };
        let status = std::process::Command::new("setsid")
            .arg("-f")
            .args(&self.argv)
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .status()
            .unwrap();
        assert!(status.success(), "cannot start dockerd again");
        let started = Instant::now();
        loop {
            let up = std::process::Command::new("docker")
                .args(["version", "--format", "{{.Server.Version}}"])
                .output()
                .is_ok_and(|o| o.status.success());
            if up {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "dockerd does not answer after a restart");
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

/// Starts dockerd again however the test ends.
struct Restart<'a>(&'a Dockerd);

impl Drop for Restart<'_> {
    fn drop(&mut self) {
        self.0.start();
    }
}

#[test]
fn the_engine_stopping_mid_run_fails_with_one_reason_and_a_rerun_resumes() {
    assert_eq!(engine(), "docker", "this test stops dockerd; run it with POOKIE_TEST_ENGINE unset or docker");
    assert_eq!(
        std::env::var("POOKIE_TEST_RESTARTS_DOCKERD").as_deref(),
        Ok("1"),
        "this test stops and restarts this machine's dockerd: run it through scripts/test.sh, or set POOKIE_TEST_RESTARTS_DOCKERD=1 where that is fine"
    );
    assert_eq!(unsafe { libc::geteuid() }, 0, "restarting dockerd needs root");
    require(&[&sid_image()]);
    let config =
        |cp314_build: &str| sid_config(&format!("[[overrides]]\nselect = \"cp314-*\"\nbuild = \"{cp314_build}\""));
    let p = Project::new(&config("sleep 600"));
    let report = p.root.path().join("report.json");
    let child = spawn_run(&p, &["-j", "2", "--report", report.to_str().unwrap()]);
    // cp313 is built, tested and delivered while cp314's build sleeps.
    let sleeper = ["ps", "-q", "--filter", "name=cp314-manylinux_2_17_x86_64-build"];
    let started = Instant::now();
    while p.engine_output(&sleeper).trim().is_empty() || p.wheels().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(900), "cp313 was not delivered while cp314 builds");
        std::thread::sleep(Duration::from_millis(250));
    }

    let dockerd = Dockerd::find();
    let restart = Restart(&dockerd);
    dockerd.stop();
    let out = child.wait_with_output().unwrap();
    drop(restart);

    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let jobs = job_statuses(&p.report(&report));
    let job = |id: &str, stage: &str| jobs[&(id.to_string(), stage.to_string())].clone();
    assert_eq!(job("cp313-manylinux_2_17_x86_64", "test"), "passed");
    assert_eq!(job("cp314-manylinux_2_17_x86_64", "build"), "failed");
    let summary = stdout(&out);
    assert!(summary.contains("the container engine stopped answering during the job"), "{summary}");
    let wheels = p.wheels();
    assert!(wheels.len() == 1 && wheels[0].contains("-cp313-"), "{wheels:?}");
    let partial: Vec<_> = std::fs::read_dir(p.dir().join("dist")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(partial.len(), 1, "{partial:?}");

    // Back up: what passed is reused, the rest runs.
    std::fs::write(p.dir().join("pookie.toml"), sid_config("")).unwrap();
    let out = p.pookie(&["run", "--report", report.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let jobs = job_statuses(&p.report(&report));
    let job = |id: &str, stage: &str| jobs[&(id.to_string(), stage.to_string())].clone();
    assert_eq!(job("cp313-manylinux_2_17_x86_64", "build"), "cached");
    assert_eq!(job("cp313-manylinux_2_17_x86_64", "test"), "cached");
    assert_eq!(job("cp314-manylinux_2_17_x86_64", "build"), "passed");
    assert_eq!(job("cp314-manylinux_2_17_x86_64", "test"), "passed");
    assert_eq!(p.wheels().len(), 2);
    let left = p.engine_output(&["ps", "-aq", "--filter", "label=org.pookie.managed=true", "--filter", "name=pookie-"]);
    assert!(left.trim().is_empty(), "containers left behind: {left}");
}
