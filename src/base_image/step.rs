//! The commands of a build (debootstrap, apt-get in the chroot): each runs as a step whose output
//! goes to one log, whose failure is reported with the log's last lines, and which stops — its
//! children included — when the build is cancelled.
//!
//! Not `process::run_logged`, which kills only the process it started: a step runs in its own
//! process group, which gets SIGTERM and, 10 s later, SIGKILL, so that debootstrap's and apt's
//! children stop too and the work directory can be unmounted and removed.

use super::{BaseImageError, io_err};
use crate::process::Cancel;
use std::fs::{self, File};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The steps of one build, sharing its log and its cancellation.
pub(super) struct Steps<'a> {
    log: PathBuf,
    cancel: &'a Cancel,
}

impl<'a> Steps<'a> {
    /// Starts `log` empty.
    pub(super) fn new(log: PathBuf, cancel: &'a Cancel) -> Result<Self, BaseImageError> {
        File::create(&log).map_err(io_err(format!("cannot create {}", log.display())))?;
        Ok(Steps { log, cancel })
    }

    pub(super) fn log(&self) -> &Path {
        &self.log
    }

    /// Runs `program` with its output appended to the log, in its own process group so that an
    /// interruption can stop all of it (debootstrap's and apt's children included). `env`, when
    /// not empty, is the whole environment.
    pub(super) fn run(
        &self,
        what: &str,
        program: &str,
        args: &[&str],
        env: &[(String, String)],
    ) -> Result<(), BaseImageError> {
        let log = fs::OpenOptions::new()
            .append(true)
            .open(&self.log)
            .map_err(io_err(format!("cannot open {}", self.log.display())))?;
        let _ = writeln!(&log, "\n### {what}: {program} {}", args.join(" "));
        let mut expr = duct::cmd(program, args);
        if !env.is_empty() {
            expr = expr.full_env(env.iter().cloned());
        }
        let handle = expr
            .stdin_null()
            // duct applies the outer redirection first: stderr joins stdout after that went to the log.
            .stderr_to_stdout()
            .stdout_file(log.try_clone().map_err(io_err("cannot open the log"))?)
            .unchecked()
            .before_spawn(|c| {
                c.process_group(0);
                Ok(())
            })
            .start()
            .map_err(io_err(format!("cannot run `{program}`")))?;
        let status = loop {
            if let Some(out) = handle.try_wait().map_err(io_err(format!("waiting for `{program}`")))? {
                break out.status;
            }
            if self.cancel.is_cancelled() {
                for pid in handle.pids() {
                    // SAFETY: signalling the process group the child leads.
                    unsafe { libc::kill(-(pid as libc::pid_t), libc::SIGTERM) };
                }
                let deadline = Instant::now() + Duration::from_secs(10);
                while handle.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(100));
                }
                for pid in handle.pids() {
                    // SAFETY: as above.
                    unsafe { libc::kill(-(pid as libc::pid_t), libc::SIGKILL) };
                }
                let _ = handle.wait();
                return Err(BaseImageError::Interrupted { step: what.to_string() });
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        if status.success() {
            Ok(())
        } else {
            let text = fs::read_to_string(&self.log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(15)..].join("\n");
            Err(BaseImageError::Step {
                step: what.to_string(),
                status: status.code().map_or_else(|| " (killed by a signal)".to_string(), |c| format!(" (exit {c})")),
                log: self.log.display().to_string(),
                tail: format!("last lines:\n{tail}"),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn output_goes_to_the_log_and_failures_show_its_tail() {
        let dir = tempfile::tempdir().unwrap();
        let cancel = Cancel::default();
        let steps = Steps::new(dir.path().join("build.log"), &cancel).unwrap();
        let env = [("GREETING".to_string(), "hello".to_string())];
        steps.run("greet", "/bin/sh", &["-c", "echo $GREETING"], &env).unwrap();
        let err = steps.run("fail", "/bin/sh", &["-c", "echo out; echo err >&2; exit 3"], &[]).unwrap_err();
        let BaseImageError::Step { step, status, log, tail } = err else { panic!("{err}") };
        assert_eq!((step.as_str(), status.as_str()), ("fail", " (exit 3)"));
        assert_eq!(Path::new(&log), steps.log());
        assert!(tail.ends_with("out\nerr"), "{tail}");
        let text = fs::read_to_string(steps.log()).unwrap();
        assert!(text.starts_with("\n### greet: /bin/sh -c echo $GREETING\nhello\n"), "{text}");
        assert!(text.contains("### fail: /bin/sh -c"), "{text}");
    }

    #[test]
    fn cancelling_stops_the_whole_process_group() {
        let dir = tempfile::tempdir().unwrap();
        let cancel = Arc::new(Cancel::default());
        let steps = Steps::new(dir.path().join("build.log"), &cancel).unwrap();
        let pid_file = dir.path().join("child.pid");
        let script = format!("sleep 30 & echo $! > {}; wait", pid_file.display());
        let c = cancel.clone();
        let canceller = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            c.cancel();
        });
        let started = Instant::now();
        let err = steps.run("sleep", "/bin/sh", &["-c", &script], &[]).unwrap_err();
        canceller.join().unwrap();
        assert!(matches!(err, BaseImageError::Interrupted { ref step } if step == "sleep"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        // The shell's child got the signal too: it is gone, or a zombie waiting for its reaper.
        let child = fs::read_to_string(&pid_file).unwrap();
        let stat = Path::new("/proc").join(child.trim()).join("stat");
        let deadline = Instant::now() + Duration::from_secs(2);
        while fs::read_to_string(&stat).is_ok_and(|s| !s.contains(") Z ")) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(fs::read_to_string(&stat).map_or(true, |s| s.contains(") Z ")), "the background sleep still runs");
    }
}
