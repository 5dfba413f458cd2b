//! What a run reports: live progress while it works (indicatif bars on a terminal, plain lines
//! otherwise), the summary table at the end, the `--report` JSON ([`merge`]d across the shards
//! of a CI matrix), and [`junit`] XML for CI systems.

pub mod junit;
pub mod merge;

use crate::plan::{Node, Stage};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// A job that succeeded.
    Passed,
    /// An image layer that was built.
    Built,
    /// An image layer that already existed.
    Cached,
    /// An image layer pulled from the cache registry, or a job whose result was taken from it.
    Pulled,
    Failed,
    /// Not started because something it depends on failed.
    Skipped,
    /// A job that cannot run on this host (macOS tests): never counted as passed.
    NotRunnable,
    /// A Windows test whose Windows CPython archive holds no interpreter (only headers and the
    /// import library, as a mirror made without access to Windows CPythons): never passed.
    NoWindowsPython,
    /// A test killed under QEMU by an access a real kernel of the target performs (see
    /// executor/fault.rs): neither passed nor failed, and said so.
    EmulationLimit,
    /// A test the configuration skips (`test-skip`): its wheel is delivered untested.
    TestSkipped,
    Interrupted,
}

impl Status {
    pub fn is_success(self) -> bool {
        matches!(self, Status::Passed | Status::Built | Status::Cached | Status::Pulled)
    }

    /// A test that could not run here: neither passed nor failed. Its wheel is published like
    /// one without a runnable test, and the run does not fail for it.
    pub fn is_untested(self) -> bool {
        matches!(self, Status::NotRunnable | Status::NoWindowsPython | Status::EmulationLimit | Status::TestSkipped)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Built => "built",
            Status::Cached => "cached",
            Status::Pulled => "pulled",
            Status::Failed => "FAILED",
            Status::Skipped => "skipped",
            Status::NotRunnable => "not runnable on Linux",
            Status::NoWindowsPython => "skipped: no Windows CPython",
            Status::EmulationLimit => "not verified: QEMU",
            Status::TestSkipped => "skipped: test-skip",
            Status::Interrupted => "interrupted",
        }
    }
}

/// What a reported node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    Image,
    Job,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeReport {
    pub name: String,
    pub kind: NodeKind,
    pub build_id: Option<String>,
    pub stage: Option<Stage>,
    pub status: Status,
    /// When the node started (seconds since the Unix epoch; 0 if it never did).
    pub started_at: f64,
    pub seconds: f64,
    pub reason: Option<String>,
    pub log: Option<PathBuf>,
    /// Wheels this (build) job put in the output directory.
    pub wheels: Vec<String>,
    /// The engine it ran on, when the run had a pool of them (`[[engines]]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
}

impl NodeReport {
    pub fn new(node: &Node, status: Status, reason: Option<String>, timing: (f64, f64), wheels: Vec<String>) -> Self {
        let (started_at, seconds) = timing;
        match node {
            Node::Image(n) => NodeReport {
                name: n.name.clone(),
                kind: NodeKind::Image,
                build_id: None,
                stage: None,
                status,
                started_at,
                seconds,
                reason,
                log: Some(crate::plan::layout::image_log(&n.name)),
                wheels,
                engine: None,
            },
            Node::Job(j) => NodeReport {
                name: j.name.clone(),
                kind: NodeKind::Job,
                build_id: Some(j.id.to_string()),
                stage: Some(j.stage),
                status,
                started_at,
                seconds,
                reason,
                log: Some(j.log.clone()),
                wheels,
                engine: None,
            },
        }
    }
}

/// Every job passed (images, and tests that could not run here, do not count against it).
pub fn all_passed(reports: &[NodeReport]) -> bool {
    reports.iter().all(|r| r.status.is_success() || r.status.is_untested())
}

/// The table printed at the end of `pookie run`.
pub fn summary(reports: &[NodeReport]) -> String {
    let mut out = String::new();
    let images: Vec<_> = reports.iter().filter(|r| r.kind == NodeKind::Image).collect();
    let count = |s: Status| images.iter().filter(|r| r.status == s).count();
    let _ = writeln!(
        out,
        "Images: {} built, {} cached{}{}",
        count(Status::Built),
        count(Status::Cached),
        match count(Status::Pulled) {
            0 => String::new(),
            n => format!(", {n} pulled"),
        },
        match count(Status::Failed) {
            0 => String::new(),
            n => format!(", {n} FAILED"),
        }
    );
    for r in images.iter().filter(|r| r.status == Status::Failed) {
        let _ = writeln!(out, "  {} FAILED: {}", r.name, r.reason.as_deref().unwrap_or(""));
    }
    let rows: Vec<[String; 5]> = reports
        .iter()
        .filter(|r| r.kind == NodeKind::Job)
        .map(|r| {
            let detail = if r.wheels.is_empty() { r.reason.clone().unwrap_or_default() } else { r.wheels.join(" ") };
            [
                r.build_id.clone().unwrap_or_default(),
                r.stage.map_or("", |s| s.as_str()).to_string(),
                match &r.engine {
                    Some(engine) => format!("{} on {engine}", r.status.label()),
                    None => r.status.label().to_string(),
                },
                format!("{:.1}s", r.seconds),
                detail,
            ]
        })
        .collect();
    let header = ["BUILD ID", "STAGE", "STATUS", "TIME", "WHEEL / REASON"].map(String::from);
    let all: Vec<&[String; 5]> = std::iter::once(&header).chain(rows.iter()).collect();
    let w: Vec<usize> = (0..4).map(|c| all.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    for r in all {
        let _ = writeln!(
            out,
            "{:w0$}  {:w1$}  {:w2$}  {:>w3$}  {}",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3]
        );
    }
    let jobs: Vec<_> = reports.iter().filter(|r| r.kind == NodeKind::Job).collect();
    let n = |s: Status| jobs.iter().filter(|r| r.status == s).count();
    let _ = writeln!(
        out,
        "{} jobs: {} passed, {} cached{}, {} failed, {} skipped, {} not runnable on Linux{}{}{}{}",
        jobs.len(),
        n(Status::Passed),
        n(Status::Cached),
        match n(Status::Pulled) {
            0 => String::new(),
            k => format!(", {k} pulled from the cache registry"),
        },
        n(Status::Failed),
        n(Status::Skipped),
        n(Status::NotRunnable),
        match n(Status::NoWindowsPython) {
            0 => String::new(),
            k => format!(", {k} skipped: no Windows CPython"),
        },
        match n(Status::EmulationLimit) {
            0 => String::new(),
            k => format!(", {k} not verified: stopped by QEMU's user mode"),
        },
        match n(Status::TestSkipped) {
            0 => String::new(),
            k => format!(", {k} tests skipped by test-skip"),
        },
        match n(Status::Interrupted) {
            0 => String::new(),
            k => format!(", {k} interrupted"),
        }
    );
    out
}

/// The `--report` JSON file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JsonReport {
    /// 1: this shape.
    pub format: u32,
    pub run_id: String,
    pub passed: bool,
    /// The run's wall time (merged: the slowest shard's).
    pub seconds: f64,
    pub nodes: Vec<NodeReport>,
}

impl JsonReport {
    pub const FORMAT: u32 = 1;

    pub fn new(run_id: &str, seconds: f64, nodes: Vec<NodeReport>) -> Self {
        JsonReport { format: Self::FORMAT, run_id: run_id.into(), passed: all_passed(&nodes), seconds, nodes }
    }

    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        text.push('\n');
        std::fs::write(path, text)
    }
}

/// Live progress: an overall bar and a spinner per running node on a terminal; one line per
/// event otherwise (CI logs).
pub struct Progress {
    multi: Option<MultiProgress>,
    overall: Option<ProgressBar>,
    running: Mutex<HashMap<String, ProgressBar>>,
}

impl Progress {
    /// `total`: how many nodes the run has.
    pub fn new(total: usize) -> Self {
        if !std::io::stderr().is_terminal() {
            return Progress { multi: None, overall: None, running: Mutex::new(HashMap::new()) };
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = multi.add(ProgressBar::new(total as u64));
        overall.set_style(
            ProgressStyle::with_template("{bar:30.cyan/blue} {pos}/{len} done  {elapsed}").expect("valid template"),
        );
        Progress { multi: Some(multi), overall: Some(overall), running: Mutex::new(HashMap::new()) }
    }

    pub fn start(&self, name: &str) {
        match &self.multi {
            Some(m) => {
                let bar = m.add(ProgressBar::new_spinner());
                bar.set_style(ProgressStyle::with_template("  {spinner} {msg} {elapsed}").expect("valid template"));
                bar.set_message(name.to_string());
                bar.enable_steady_tick(Duration::from_millis(120));
                if let Ok(mut r) = self.running.lock() {
                    r.insert(name.to_string(), bar);
                }
            }
            None => eprintln!("start   {name}"),
        }
    }

    pub fn finish(&self, name: &str, status: Status, seconds: f64, reason: Option<&str>) {
        let line = match reason {
            Some(r) if !status.is_success() => format!("{:<7} {name} ({seconds:.1}s): {r}", status.label()),
            _ => format!("{:<7} {name} ({seconds:.1}s)", status.label()),
        };
        match &self.multi {
            Some(m) => {
                if let Some(bar) = self.running.lock().ok().and_then(|mut r| r.remove(name)) {
                    bar.finish_and_clear();
                    m.remove(&bar);
                }
                let _ = m.println(line);
                if let Some(o) = &self.overall {
                    o.inc(1);
                }
            }
            None => eprintln!("{line}"),
        }
    }

    pub fn end(&self) {
        if let Some(o) = &self.overall {
            o.finish_and_clear();
        }
        if let Some(m) = &self.multi {
            let _ = m.clear();
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A job's report, for the tests of this module and its submodules.
    pub(crate) fn job(id: &str, stage: Stage, status: Status, reason: Option<&str>) -> NodeReport {
        NodeReport {
            engine: None,
            name: format!("{id}/{}", stage.as_str()),
            kind: NodeKind::Job,
            build_id: Some(id.into()),
            stage: Some(stage),
            status,
            started_at: 0.0,
            seconds: 0.0,
            reason: reason.map(str::to_string),
            log: None,
            wheels: vec![],
        }
    }

    #[test]
    fn tests_that_could_not_run_are_neither_passed_nor_failed() {
        let reports = [
            job("cp313-win_amd64", Stage::Build, Status::Passed, None),
            job("cp313-win_amd64", Stage::Test, Status::NoWindowsPython, Some("no Windows CPython: no python.exe")),
            job("cp313-macosx_11_0_arm64", Stage::Test, Status::NotRunnable, Some("macOS binaries need macOS")),
        ];
        assert!(all_passed(&reports));
        let text = summary(&reports);
        let row = text.lines().find(|l| l.starts_with("cp313-win_amd64") && l.contains(" test ")).unwrap();
        assert!(row.contains("skipped: no Windows CPython") && row.contains("no python.exe"), "{row}");
        assert!(
            text.contains("3 jobs: 1 passed, 0 cached, 0 failed, 0 skipped, 1 not runnable on Linux, 1 skipped: no Windows CPython"),
            "{text}"
        );
        let failed = [job("cp313-win_amd64", Stage::Test, Status::Failed, Some("the tests failed"))];
        assert!(!all_passed(&failed));
    }
}
