//! One job: prepare its private directory (a copy of the project, its command, its inputs),
//! run `images/job.sh` in a fresh container of its image, and collect and check its wheels.
//!
//! On the default engine the job's directory and caches are mounted from this machine. An
//! engine of the pool shares no filesystem with it: the directory is sent into a volume of
//! that engine (`cp` into the job's first container), the caches are that engine's own named
//! volumes, and the finished wheels are brought back the same way. Its containers run as the
//! container's root (files sent in are root's); what comes back is written here by the
//! caller's own client, so it is the caller's.

use super::log::{last_lines, open_log};
use crate::engine::Engine;
use crate::engine::MANAGED_LABEL;
use crate::env_vars::EnvVars;
use crate::plan::layout::JobEntry;
use crate::plan::{HostDir, JobNode, Stage};
use crate::process::{self, Cancel, Exit};
use crate::workspace;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Everything jobs share during one run.
pub struct Context<'a> {
    pub engine: &'a Engine,
    pub workspace: &'a Path,
    pub output_dir: &'a Path,
    pub cache_dir: &'a Path,
    pub run_id: &'a str,
    pub cancel: &'a Cancel,
    pub uid: u32,
    pub gid: u32,
}

/// Label carrying the run a container belongs to, so an interrupted run can remove its own.
pub const RUN_LABEL: &str = "org.pookie.run";

/// Why a job did not pass (details are in the job's log); the summary shows it on one line.
#[derive(Debug)]
pub enum NotPassed {
    Failed(JobError),
    /// A Windows test whose image holds no Windows CPython (job.sh's exit code 30).
    NoWindowsPython(String),
    /// A test killed under QEMU by an access the target's kernel would have performed.
    EmulationLimit(String),
}

/// What stopped a job: pookie's own steps around the container keep their cause (`#[source]`);
/// a step of images/job.sh that failed is said in the words of [`reason`].
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("cannot prepare {}", dir.display())]
    Prepare {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create {}", path.display())]
    Mount {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Log(#[from] super::log::LogError),
    #[error("cannot run the engine")]
    Engine(#[source] std::io::Error),
    /// A step of sending the job to an engine of the pool, or of bringing its results back.
    #[error("{0}")]
    Remote(String),
    /// A step of job.sh failed: its reason, from the exit code and the log.
    #[error("{0}")]
    Step(String),
    #[error("the container was killed")]
    Killed,
    #[error("timed out after {0}s")]
    TimedOut(u64),
    #[error("interrupted")]
    Interrupted,
    #[error("cannot read the wheels in {}", dir.display())]
    Collect {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no wheel came out of the repair step")]
    NoRepairedWheel,
    /// The job left a `.whl` that is a symlink (or not a file): it could make pookie read, cache
    /// or publish a file of this machine.
    #[error("`out/{0}` is not a regular file: the job's wheels must be files it wrote")]
    NotAFile(String),
    /// A finished wheel whose name or tags do not fit the job.
    #[error(transparent)]
    Wheel(#[from] crate::wheel::WheelError),
}

impl<E: Into<JobError>> From<E> for NotPassed {
    fn from(e: E) -> Self {
        NotPassed::Failed(e.into())
    }
}

impl NotPassed {
    /// The one line the summary shows.
    pub fn reason(&self) -> String {
        match self {
            NotPassed::Failed(e) => super::log::one_line(e),
            NotPassed::NoWindowsPython(r) | NotPassed::EmulationLimit(r) => r.clone(),
        }
    }
}

/// images/job.sh's exit codes: which step of the job failed. job.sh's header keeps the same
/// table (a test below compares them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobExit {
    Layout = 2,
    Build = 10,
    NoWheel = 11,
    Repair = 12,
    BeforeBuild = 13,
    Fuse = 14,
    Install = 20,
    Tests = 21,
    /// Tests killed by SIGBUS where job.sh kept QEMU's core dumps (see executor/fault.rs).
    TestsSigbus = 22,
    BeforeTest = 23,
    /// A Windows test whose image holds no Windows CPython.
    NoWindowsPython = 30,
}

impl JobExit {
    pub const ALL: [JobExit; 11] = [
        JobExit::Layout,
        JobExit::Build,
        JobExit::NoWheel,
        JobExit::Repair,
        JobExit::BeforeBuild,
        JobExit::Fuse,
        JobExit::Install,
        JobExit::Tests,
        JobExit::TestsSigbus,
        JobExit::BeforeTest,
        JobExit::NoWindowsPython,
    ];

    pub fn from_code(code: i32) -> Option<JobExit> {
        JobExit::ALL.into_iter().find(|e| *e as i32 == code)
    }
}

/// Runs `job` on `engine` in the image `image`; test jobs install `wheels`, first in
/// `install_image` when given (see [`JobNode::install_image`]). Returns the job's finished
/// wheels (build jobs) or nothing. Its log is appended to (the caller starts it afresh).
pub fn run(
    ctx: &Context,
    engine: &Engine,
    job: &JobNode,
    image: &str,
    install_image: Option<&str>,
    wheels: &[PathBuf],
) -> Result<Vec<PathBuf>, NotPassed> {
    let dir = ctx.workspace.join(&job.dir);
    let log_path = ctx.workspace.join(&job.log);
    prepare(ctx, job, &dir, wheels).map_err(|source| JobError::Prepare { dir: dir.clone(), source })?;
    let name = format!("pookie-{}-{}", ctx.run_id, job.name.replace('/', "-"));
    let remote = if engine.is_default() { None } else { Some(Remote::create(engine, ctx.run_id, &name)?) };
    let on = Placement { engine, remote: remote.as_ref() };
    // The install stage leaves the installed tree, or nothing (then the tests' own pip
    // installs): only a job directory it cannot use fails the job.
    if let Some(install_image) = install_image {
        container(ctx, &on, job, &format!("{name}-install"), install_image, Some(INSTALL_STAGE), &log_path)?;
    }
    container(ctx, &on, job, &name, image, None, &log_path)?;
    match job.stage {
        Stage::Test => Ok(Vec::new()),
        Stage::Build => Ok(collect(&JobEntry::Out.on_host(&dir), job)?),
    }
}

/// The engine a job runs on, and its volume there when that is not the default engine.
struct Placement<'a> {
    engine: &'a Engine,
    remote: Option<&'a Remote<'a>>,
}

/// The volume of a job on an engine of the pool: its directory, sent in by the first container,
/// kept for the next one (the install stage's site for the tests), removed with the job.
struct Remote<'a> {
    engine: &'a Engine,
    volume: String,
    filled: std::cell::Cell<bool>,
}

impl<'a> Remote<'a> {
    fn create(engine: &'a Engine, run_id: &str, name: &str) -> Result<Remote<'a>, JobError> {
        let volume = format!("{name}-job");
        engine
            .output([
                "volume".to_string(),
                "create".into(),
                format!("--label={RUN_LABEL}={run_id}"),
                format!("--label={MANAGED_LABEL}=true"),
                "--".into(),
                volume.clone(),
            ])
            .map_err(|e| JobError::Remote(e.to_string()))?;
        Ok(Remote { engine, volume, filled: std::cell::Cell::new(false) })
    }

    /// `entry` of the job's directory, from the (stopped) container `name`, into `dir`.
    fn fetch(&self, name: &str, entry: &str, dir: &Path) -> Result<(), JobError> {
        let from = format!("{name}:{}/{entry}/.", crate::plan::layout::JOB_MOUNT);
        let to = dir.join(entry);
        std::fs::create_dir_all(&to).map_err(|source| JobError::Collect { dir: to.clone(), source })?;
        self.engine
            .output([std::ffi::OsString::from("cp"), "--".into(), from.into(), to.into_os_string()])
            .map(drop)
            .map_err(|e| JobError::Remote(format!("cannot bring back {entry}/: {e}")))
    }
}

impl Drop for Remote<'_> {
    fn drop(&mut self) {
        let _ = self.engine.output(["volume", "rm", "--force", "--", &self.volume]);
    }
}

/// The volume of an engine of the pool that stands for the cache directory `dir` of this
/// machine (pip's, ccache's, zig's): each engine keeps its own.
fn cache_volume(dir: &Path) -> String {
    let name: String =
        dir.to_string_lossy().chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect();
    format!("pookie-cache-{name}")
}

/// images/job.sh's stage that installs a test job's wheel and requirements for the target.
const INSTALL_STAGE: &str = "install";

/// Runs images/job.sh for `job` in a fresh container `name` of `image` (as `stage` when given,
/// else the job's own), appending to the job's log.
fn container(
    ctx: &Context,
    on: &Placement,
    job: &JobNode,
    name: &str,
    image: &str,
    stage: Option<&str>,
    log_path: &Path,
) -> Result<(), NotPassed> {
    let dir = ctx.workspace.join(&job.dir);
    let mut log = open_log(log_path)?;
    let _ = writeln!(log, "::pookie:: {}{} in {image}", job.name, stage.map(|s| format!(" ({s})")).unwrap_or_default());
    let engine = on.engine;
    // On the default engine `run --rm`; on another, `create`, fill, `start -a`, fetch, `rm`.
    let mut args: Vec<String> = match on.remote {
        None => vec!["run".into(), "--rm".into()],
        Some(_) => vec!["create".into()],
    };
    args.extend([
        format!("--name={name}"),
        format!("--label={RUN_LABEL}={}", ctx.run_id),
        format!("--label={MANAGED_LABEL}=true"),
        format!("--workdir={}", JobEntry::Src.in_container()),
    ]);
    // Outputs belong to the caller, not to root.
    match on.remote {
        None => args.extend(engine.run_as_caller(ctx.uid, ctx.gid)),
        Some(_) => args.extend(engine.run_as_root()),
    }
    for m in &job.mounts {
        let ro = if m.read_only { ":ro" } else { "" };
        let source = match (&m.host, on.remote) {
            // The job's directory is the one mount of the workspace a job has (plan/planner.rs).
            (HostDir::Workspace(_), Some(remote)) => remote.volume.clone(),
            (HostDir::Cache(p), Some(_)) => cache_volume(p),
            (HostDir::Workspace(p), None) | (HostDir::Cache(p), None) => {
                let host = match &m.host {
                    HostDir::Workspace(_) => ctx.workspace.join(p),
                    HostDir::Cache(_) => ctx.cache_dir.join(p),
                };
                // The engine would create a missing directory as root.
                std::fs::create_dir_all(&host).map_err(|source| JobError::Mount { path: host.clone(), source })?;
                host.display().to_string()
            }
        };
        args.push(format!("--volume={source}:{}{ro}", m.container));
    }
    for (k, v) in &job.env {
        if let (Some(stage), EnvVars::POOKIE_STAGE) = (stage, k.as_str()) {
            args.push(format!("--env={k}={stage}"));
        } else {
            args.push(format!("--env={k}={v}"));
        }
    }
    // By name only: the engine's client takes the value from the environment it inherits, so it
    // never appears on a command line.
    for name in job.env_pass.iter().filter(|n| std::env::var_os(n).is_some()) {
        args.push(format!("--env={name}"));
    }
    // Values ride in `--opt=value` form and positionals after `--`: none can be read as a flag.
    args.extend(["--".into(), image.to_string(), "bash".into(), JobEntry::Script.in_container()]);

    let timeout = job.timeout_secs.map(Duration::from_secs);
    let stop = || {
        let _ = engine.output(["rm", "-f", "--", name]);
    };
    let exit = match on.remote {
        None => process::run_logged(engine.cmd_logged(&args, &log), &log, timeout, ctx.cancel, stop)
            .map_err(JobError::Engine)?,
        Some(remote) => {
            let _removed = Removal { engine, name };
            engine.output(&args).map_err(|e| JobError::Remote(format!("cannot create the container: {e}")))?;
            if !remote.filled.get() {
                let to = format!("{name}:{}", crate::plan::layout::JOB_MOUNT);
                let mut from = dir.clone().into_os_string();
                from.push("/.");
                engine
                    .output([std::ffi::OsString::from("cp"), "--".into(), from, to.into()])
                    .map_err(|e| JobError::Remote(format!("cannot send the job to the engine: {e}")))?;
                remote.filled.set(true);
            }
            let start = engine.cmd_logged(["start", "--attach", "--", name], &log);
            let exit = process::run_logged(start, &log, timeout, ctx.cancel, stop).map_err(JobError::Engine)?;
            // What the host reads of the job: a build's wheels, a test's QEMU core dumps.
            match (exit, job.stage, stage) {
                (Exit::Code(0), Stage::Build, None) => remote.fetch(name, JobEntry::Out.name(), &dir)?,
                (Exit::Code(c), Stage::Test, None) if c == JobExit::TestsSigbus as i32 => {
                    let _ = remote.fetch(name, "cwd", &dir);
                }
                _ => {}
            }
            exit
        }
    };
    drop(log);
    match exit {
        Exit::Code(0) => Ok(()),
        Exit::Code(code) => Err(match JobExit::from_code(code) {
            Some(JobExit::NoWindowsPython) => {
                NotPassed::NoWindowsPython(last_lines(log_path, 1).replace("::pookie:: ", ""))
            }
            Some(JobExit::TestsSigbus) => sigbus(&dir, log_path),
            _ => JobError::Step(reason(code, log_path)).into(),
        }),
        Exit::Signal => Err(JobError::Killed.into()),
        Exit::TimedOut => Err(JobError::TimedOut(job.timeout_secs.unwrap_or(0)).into()),
        Exit::Cancelled => Err(JobError::Interrupted.into()),
    }
}

/// Removes a container of a job on an engine of the pool when the job is done with it.
struct Removal<'a> {
    engine: &'a Engine,
    name: &'a str,
}

impl Drop for Removal<'_> {
    fn drop(&mut self) {
        let _ = self.engine.output(["rm", "--force", "--", self.name]);
    }
}

fn prepare(ctx: &Context, job: &JobNode, dir: &Path, wheels: &[PathBuf]) -> std::io::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    workspace::copy_project(ctx.workspace, &JobEntry::Src.on_host(dir), &[ctx.output_dir.to_path_buf()])?;
    std::fs::write(JobEntry::Script.on_host(dir), crate::image::JOB_SCRIPT)?;
    std::fs::write(JobEntry::Command.on_host(dir), format!("{}\n", job.command))?;
    if let Some(before) = &job.before {
        std::fs::write(JobEntry::Before.on_host(dir), format!("{before}\n"))?;
    }
    // Build jobs get them too when they prepare the tests' requirements (plan/planner.rs).
    std::fs::write(JobEntry::TestRequires.on_host(dir), job.test_requires.join("\n"))?;
    match job.stage {
        Stage::Build => {
            std::fs::create_dir_all(JobEntry::Wheels.on_host(dir))?;
            std::fs::create_dir_all(JobEntry::Out.on_host(dir))?;
        }
        Stage::Test => {
            let wheel_dir = JobEntry::Wheel.on_host(dir);
            std::fs::create_dir_all(&wheel_dir)?;
            for w in wheels {
                let name = w.file_name().ok_or_else(|| std::io::Error::other("wheel without a name"))?;
                std::fs::copy(w, wheel_dir.join(name))?;
            }
        }
    }
    Ok(())
}

/// What a SIGBUS in the tests means, from QEMU's core dump in the job's test directory and the
/// extension modules of the wheels under test; the verdict goes into the log too. The core
/// dumps (hundreds of MB) are removed.
fn sigbus(dir: &Path, log_path: &Path) -> NotPassed {
    let cores: Vec<PathBuf> = std::fs::read_dir(dir.join("cwd"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    // A regular file only: a symlink the tests left there could name any file of this machine.
    let core = cores.iter().find(|p| {
        p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("qemu_")) && workspace::is_regular_file(p)
    });
    let verdict = match core {
        Some(core) => super::fault::analyze(core, &wheel_modules(&JobEntry::Wheel.on_host(dir))),
        None => {
            super::fault::Verdict::Fault("the tests were killed by SIGBUS under QEMU (no core dump was written)".into())
        }
    };
    for c in &cores {
        let _ = std::fs::remove_file(c);
    }
    let (outcome, reason) = match verdict {
        super::fault::Verdict::KernelFixesUp(r) => (NotPassed::EmulationLimit(r.clone()), r),
        super::fault::Verdict::Fault(r) => (JobError::Step(r.clone()).into(), r),
    };
    if let Ok(mut log) = open_log(log_path) {
        let _ = writeln!(log, "::pookie:: {reason}");
    }
    outcome
}

/// Larger extension modules are not read to explain a SIGBUS (a crafted wheel could inflate to any size).
const MAX_MODULE_BYTES: u64 = 1 << 30;

/// The ELF members of the wheels in `dir`: name inside the wheel, bytes.
fn wheel_modules(dir: &Path) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut out = Vec::new();
    // The tests could have changed the directory: regular files only, modules of a sane size.
    let files = std::fs::read_dir(dir).into_iter().flatten().filter_map(|e| e.ok().map(|e| e.path()));
    for wheel in files.filter(|p| workspace::is_regular_file(p)) {
        let Ok(mut z) =
            std::fs::File::open(&wheel).map_err(|_| ()).and_then(|f| zip::ZipArchive::new(f).map_err(|_| ()))
        else {
            continue;
        };
        for i in 0..z.len() {
            let Ok(mut f) = z.by_index(i) else { continue };
            let Some(name) = f.name().ok().filter(|n| n.ends_with(".so")).map(|n| n.to_string()) else { continue };
            let mut bytes = Vec::new();
            let read = f.by_ref().take(MAX_MODULE_BYTES + 1).read_to_end(&mut bytes);
            if read.is_ok() && bytes.len() as u64 <= MAX_MODULE_BYTES && bytes.starts_with(b"\x7fELF") {
                out.push((name, bytes));
            }
        }
    }
    out
}

/// The one-line reason for a failed job, from job.sh's exit code and the job's log.
fn reason(code: i32, log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let find = |needle: &str| text.lines().rev().find(|l| l.contains(needle)).map(|l| l.trim().to_string());
    match (JobExit::from_code(code), code) {
        (Some(JobExit::Build), _) => "the build command failed".into(),
        (Some(JobExit::BeforeBuild), _) => "the before-build command failed".into(),
        (Some(JobExit::BeforeTest), _) => "the before-test command failed".into(),
        (Some(JobExit::NoWheel), _) => "the build command left no wheel in $POOKIE_WHEEL_DIR or ./dist".into(),
        (Some(JobExit::Repair), _) => match find("auditwheel: error:") {
            Some(line) => format!("repair failed: {}", line.trim_start_matches("auditwheel: error:").trim()),
            None => format!("repair failed: {}", last_lines(log, 2)),
        },
        (Some(JobExit::Fuse), _) => format!("fusing the slices' wheels failed: {}", last_lines(log, 1)),
        (Some(JobExit::Install), _) => "installing the wheel (or the test requirements) failed".into(),
        (Some(JobExit::Tests), _) => "the tests failed".into(),
        (_, 125..=127) => format!("the engine could not run the container: {}", last_lines(log, 1)),
        // `docker run` exits 128+N when the container's process died of signal N.
        (_, 137) => "the container was killed (SIGKILL: stopped from outside, or out of memory)".into(),
        (_, 143) => "the container was stopped from outside (SIGTERM)".into(),
        (_, c) => format!("exited with code {c}: {}", last_lines(log, 1)),
    }
}

/// The repaired wheels of a build job, each checked against the job's target and Python.
fn collect(out: &Path, job: &JobNode) -> Result<Vec<PathBuf>, JobError> {
    let wheels = wheel_files(out)?;
    for w in &wheels {
        crate::wheel::check(w, &job.id, job.abi3).map_err(JobError::Wheel)?;
    }
    Ok(wheels)
}

/// The `.whl` files in `out`, sorted; none, or one that is not a regular file, fails the job.
fn wheel_files(out: &Path) -> Result<Vec<PathBuf>, JobError> {
    let mut wheels: Vec<PathBuf> = std::fs::read_dir(out)
        .map_err(|source| JobError::Collect { dir: out.to_path_buf(), source })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "whl"))
        .collect();
    wheels.sort();
    if wheels.is_empty() {
        return Err(JobError::NoRepairedWheel);
    }
    match wheels.iter().find(|w| !workspace::is_regular_file(w)) {
        Some(w) => Err(JobError::NotAFile(w.file_name().unwrap_or_default().to_string_lossy().into_owned())),
        None => Ok(wheels),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// pookie's own failures keep their cause, and the summary says both on one line.
    #[test]
    fn reasons_keep_their_cause_on_one_line() {
        let e: NotPassed = JobError::Prepare {
            dir: PathBuf::from("/w/.pookie/jobs/x-build"),
            source: std::io::Error::new(std::io::ErrorKind::StorageFull, "No space left on device"),
        }
        .into();
        let NotPassed::Failed(inner) = &e else { panic!("{e:?}") };
        assert!(std::error::Error::source(inner).is_some());
        assert_eq!(e.reason(), "cannot prepare /w/.pookie/jobs/x-build: No space left on device");
        assert_eq!(NotPassed::from(JobError::TimedOut(60)).reason(), "timed out after 60s");
        assert_eq!(NotPassed::EmulationLimit("unaligned LDRD".into()).reason(), "unaligned LDRD");
    }

    /// A build whose out/ holds a symlink named like a wheel fails before the file behind it is
    /// read, cached or published.
    #[test]
    fn a_symlinked_wheel_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let host_file = tmp.path().join("secret");
        std::fs::write(&host_file, "not yours").unwrap();
        let out = tmp.path().join("out");
        std::fs::create_dir(&out).unwrap();
        assert!(matches!(wheel_files(&out), Err(JobError::NoRepairedWheel)));
        std::fs::write(out.join("pkg-1.0-cp313-cp313-linux_x86_64.whl"), "a wheel").unwrap();
        assert_eq!(wheel_files(&out).unwrap().len(), 1);
        std::os::unix::fs::symlink(&host_file, out.join("pkg-1.0-cp314-cp314-linux_x86_64.whl")).unwrap();
        let e = wheel_files(&out).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`out/pkg-1.0-cp314-cp314-linux_x86_64.whl` is not a regular file: the job's wheels must be files it wrote"
        );
    }

    /// job.sh's header table and every `fail N` in it name exactly the codes of [`JobExit`].
    #[test]
    fn job_sh_and_job_exit_agree_on_the_exit_codes() {
        let script = crate::image::JOB_SCRIPT;
        let code = regex::Regex::new(r"(?:^#\s+|\s{2,})(\d+)\s+\S").unwrap();
        let table: BTreeSet<i32> = script
            .lines()
            .take_while(|l| l.starts_with('#'))
            .skip_while(|l| !l.contains("Exit codes"))
            .skip(2)
            .flat_map(|l| code.captures_iter(l).map(|c| c[1].parse::<i32>().unwrap()).collect::<Vec<_>>())
            .collect();
        let fails: BTreeSet<i32> =
            regex::Regex::new(r"\bfail (\d+) ").unwrap().captures_iter(script).map(|c| c[1].parse().unwrap()).collect();
        let ours: BTreeSet<i32> = JobExit::ALL.iter().map(|e| *e as i32).collect();
        assert_eq!(table, ours, "job.sh's table");
        assert!(fails.is_subset(&ours), "job.sh exits with {fails:?}");
        assert_eq!(JobExit::from_code(14), Some(JobExit::Fuse));
        assert_eq!(JobExit::from_code(1), None);
    }
}
