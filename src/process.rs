//! External commands: finding them on PATH, and running them (engine builds and containers) with
//! their output in a log file, a time limit, and cancellation that Ctrl-C can trigger from
//! another thread.

use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The path of `program` on PATH, like the shell's `command -v`.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(program)).find(|p| p.is_file())
}

/// Shared cancellation: once cancelled, running processes are killed and no new one starts.
#[derive(Default)]
pub struct Cancel {
    flag: AtomicBool,
    running: Mutex<Vec<Arc<duct::Handle>>>,
}

impl Cancel {
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Marks the run cancelled and kills every process started through [`run_logged`].
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
        let running = self.running.lock().map(|r| r.clone()).unwrap_or_default();
        for h in running {
            let _ = h.kill();
        }
    }
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    /// Killed by a signal it did not handle.
    Signal,
    TimedOut,
    Cancelled,
}

/// Runs `expr` with stdout and stderr appended to `log`. After `timeout`, or on cancellation,
/// `stop` is called (to stop what the process controls, e.g. a container) and the process is
/// killed.
pub fn run_logged(
    expr: duct::Expression,
    log: &File,
    timeout: Option<Duration>,
    cancel: &Cancel,
    stop: impl Fn(),
) -> io::Result<Exit> {
    if cancel.is_cancelled() {
        return Ok(Exit::Cancelled);
    }
    let handle = Arc::new(expr.stderr_to_stdout().stdout_file(log.try_clone()?).stdin_null().unchecked().start()?);
    if let Ok(mut r) = cancel.running.lock() {
        r.push(handle.clone());
    }
    let started = Instant::now();
    let result = loop {
        if let Some(out) = handle.try_wait()? {
            break Ok(match out.status.code() {
                Some(c) => Exit::Code(c),
                None if cancel.is_cancelled() => Exit::Cancelled,
                None => Exit::Signal,
            });
        }
        let timed_out = timeout.is_some_and(|t| started.elapsed() >= t);
        if timed_out || cancel.is_cancelled() {
            stop();
            let _ = handle.kill();
            break Ok(if timed_out { Exit::TimedOut } else { Exit::Cancelled });
        }
        std::thread::sleep(Duration::from_millis(25));
    };
    if let Ok(mut r) = cancel.running.lock() {
        r.retain(|h| !Arc::ptr_eq(h, &handle));
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_finds_programs_on_path() {
        assert!(which("sh").is_some_and(|p| p.is_absolute()));
        assert_eq!(which("pookie-no-such-program"), None);
    }

    #[test]
    fn codes_timeouts_and_cancellation() {
        let tmp = tempfile::tempdir().unwrap();
        let log = File::create(tmp.path().join("log")).unwrap();
        let cancel = Cancel::default();
        let e = run_logged(duct::cmd!("sh", "-c", "echo hi; exit 3"), &log, None, &cancel, || {}).unwrap();
        assert_eq!(e, Exit::Code(3));
        assert_eq!(std::fs::read_to_string(tmp.path().join("log")).unwrap(), "hi\n");
        let stopped = AtomicBool::new(false);
        let e = run_logged(duct::cmd!("sleep", "5"), &log, Some(Duration::from_millis(100)), &cancel, || {
            stopped.store(true, Ordering::SeqCst)
        })
        .unwrap();
        assert_eq!(e, Exit::TimedOut);
        assert!(stopped.load(Ordering::SeqCst));
        let cancel = Arc::new(Cancel::default());
        let c2 = cancel.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            c2.cancel();
        });
        let started = Instant::now();
        let e = run_logged(duct::cmd!("sleep", "5"), &log, None, &cancel, || {}).unwrap();
        t.join().unwrap();
        assert_eq!(e, Exit::Cancelled);
        assert!(started.elapsed() < Duration::from_secs(4));
    }
}
