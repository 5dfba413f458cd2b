//! `pookie run`, `pookie images`, `pookie clean`.

use super::{EXIT_FAILURE, Failure, ProjectArgs};
use crate::config::selector::{Glob, Patterns};
use crate::config::{self, Settings};
use crate::engine::Engine;
use crate::engine::MANAGED_LABEL;
use crate::executor::{self, job::RUN_LABEL};
use crate::plan::{Node, Plan};
use crate::process::Cancel;
use crate::report::{self, Progress, Status};
use crate::workspace::STATE_DIR;
use clap::Args;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Exit code of an interrupted run (128 + SIGINT, as shells report it).
const EXIT_INTERRUPTED: u8 = 130;

#[derive(Args, Debug, Clone, Default)]
pub struct RunArgs {
    /// First remove what earlier runs left in the workspace (output wheels, .pookie/)
    #[arg(long)]
    pub clean: bool,
    /// Stop starting new jobs after the first failure
    #[arg(long)]
    pub fail_fast: bool,
    /// Also write the results as JSON to FILE
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Also write the results as JUnit XML to FILE (one suite per build identifier)
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Run jobs again even when their cached results stand: all of them, or the build
    /// identifiers matching GLOB
    #[arg(long, value_name = "GLOB", num_args = 0..=1, default_missing_value = "*")]
    pub force: Option<String>,
}

/// Settings and plan of a command that will execute: the index must be complete.
/// The settings and plan of `run` and `images`; the plan's warnings (selectors that select
/// nothing, keys of `[tool.cibuildwheel]` left out) are said on stderr, as `plan` says them.
fn resolve(project: &ProjectArgs, args: &[String]) -> Result<(Settings, Plan), Failure> {
    let super::project::Planned { settings, plan, .. } =
        super::project::plan(project, args, super::project::WithoutIndex::Fails)?;
    for w in &plan.warnings {
        eprintln!("warning: {}", crate::config::error::printable(w));
    }
    Ok((settings, plan))
}

/// `--report FILE` (or `--junit FILE`: `flag`) can be written: found out before the jobs run,
/// not after.
fn report_writable(settings: &Settings, flag: &str, path: &Path) -> Result<(), Failure> {
    let shown = path.display().to_string();
    let bad = |why: String| {
        let origin = settings.sources.flag(flag, &shown);
        Failure::from(
            crate::config::ConfigError::new("report", format!("cannot write the report to `{shown}`: {why}"))
                .at(&settings.sources, &origin, "here")
                .help("name a file in a directory you can write to"),
        )
    };
    if path.is_dir() {
        return Err(bad("it is a directory".into()));
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !parent.is_dir() {
        return Err(bad(format!("{} is not a directory", parent.display())));
    }
    tempfile::NamedTempFile::new_in(parent)
        .map(drop)
        .map_err(|e| bad(format!("{} cannot be written to ({})", parent.display(), e.kind())))
}

/// The workspace for this command alone, or the reason it is not.
fn lock(workspace: &Path) -> Result<crate::workspace::Lock, Failure> {
    match crate::workspace::Lock::take(workspace) {
        Ok(Some(lock)) => Ok(lock),
        Ok(None) => Err(Failure::msg(
            EXIT_FAILURE,
            format!(
                "another pookie command is running in {} (run, images or clean): wait for it to end; nothing was started",
                workspace.display()
            ),
        )),
        Err(e) => Err(Failure::msg(EXIT_FAILURE, format!("cannot lock {}: {e}", workspace.display()))),
    }
}

fn engine(settings: &Settings) -> Result<Engine, Failure> {
    let engine = Engine::detect(settings.engine).map_err(|e| Failure { report: e.into(), code: EXIT_FAILURE })?;
    engine.ping().map_err(|e| Failure { report: e.into(), code: EXIT_FAILURE })?;
    Ok(engine)
}

fn run_id() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{:08x}", nanos ^ std::process::id().rotate_left(16))
}

/// Stops the run on Ctrl-C / SIGTERM: kills what runs and removes the run's containers (and
/// its volumes on the pool's engines).
fn on_interrupt(engines: Vec<Engine>, run_id: &str, cancel: &Arc<Cancel>) {
    let (label, cancel) = (format!("{RUN_LABEL}={run_id}"), cancel.clone());
    let _ = ctrlc::set_handler(move || {
        if cancel.is_cancelled() {
            return;
        }
        eprintln!("\npookie: interrupted — stopping jobs and removing their containers");
        cancel.cancel();
        for engine in &engines {
            let _ = engine.remove_labelled(&label);
        }
    });
}

/// The machine file's `[[engines]]` that answer, with their seats; one that does not, or whose
/// CPU pookie does not know, is left out with a warning (the run goes on without it).
pub(super) fn pool(settings: &Settings, engine: &Engine) -> (Vec<Engine>, Vec<executor::Seat>) {
    let mut engines = Vec::new();
    let mut seats = Vec::new();
    for entry in settings.machine.iter().flat_map(|m| &m.engines) {
        let connected = engine.at(entry.kind.unwrap_or(engine.kind), entry.endpoint.clone());
        let answer = connected.and_then(|e| e.ping().map(|()| e));
        let e = match answer {
            Ok(e) => e,
            Err(why) => {
                eprintln!("pookie: warning: engine {} is left out of this run: {why}", entry.name);
                continue;
            }
        };
        let Some(arch) = e.arch() else {
            eprintln!(
                "pookie: warning: engine {} is left out of this run: its CPU is not one pookie knows",
                entry.name
            );
            continue;
        };
        let slots = entry.slots.or_else(|| e.cpus()).unwrap_or(1);
        seats.push(executor::Seat { name: entry.name.clone(), arch: Some(arch), slots });
        engines.push(e);
    }
    (engines, seats)
}

fn execute(
    settings: &Settings,
    plan: &Plan,
    engine: &Engine,
    fail_fast: bool,
    force: Option<Patterns>,
    images_only: bool,
) -> Result<(Vec<report::NodeReport>, String, f64, bool), Failure> {
    // pookie.toml is pookie's alone: what it says reaches a job through the job's own fields
    // (command, environment, image), so an edit re-runs only the jobs it changes.
    let mut exclude = vec![settings.output_dir.clone()];
    exclude.extend(settings.config_file.iter().filter(|f| f.file_name().is_some_and(|n| n == "pookie.toml")).cloned());
    let project_digest = crate::workspace::digest(&settings.workspace, &exclude)
        .map_err(|e| Failure::msg(EXIT_FAILURE, format!("cannot read the project: {e}")))?;
    let run_id = run_id();
    let cancel = Arc::new(Cancel::default());
    let (pool, seats) = if images_only { (Vec::new(), Vec::new()) } else { pool(settings, engine) };
    let all: Vec<Engine> = std::iter::once(engine.clone()).chain(pool.iter().cloned()).collect();
    on_interrupt(all.clone(), &run_id, &cancel);
    let opts = executor::Options {
        jobs: settings.jobs,
        fail_fast,
        run_id: &run_id,
        workspace: &settings.workspace,
        output_dir: &settings.output_dir,
        cache_dir: crate::cache::dir(),
        offline: settings.offline,
        project_digest,
        force,
        memory_budget: executor::memory_budget(),
        registry: settings.cache_registry.as_deref(),
        pool: seats,
    };
    let started = Instant::now();
    let progress = Progress::new(plan.graph.node_count());
    let reports = executor::execute(plan, engine, &pool, &opts, &cancel, &progress);
    if cancel.is_cancelled() {
        // Containers that started while the handler ran.
        for engine in &all {
            let _ = engine.remove_labelled(&format!("{RUN_LABEL}={run_id}"));
        }
    }
    Ok((reports, run_id, started.elapsed().as_secs_f64(), cancel.is_cancelled()))
}

pub fn run(project: &ProjectArgs, run: &RunArgs, args: &[String]) -> Result<(), Failure> {
    let (settings, plan) = resolve(project, args)?;
    // Bad input stops before anything is touched.
    let force = match &run.force {
        None => None,
        Some(glob) => Some(Patterns(vec![Glob::new(glob).map_err(|e| {
            let origin = settings.sources.flag("--force", glob);
            Failure::from(crate::config::ConfigError::new("force", e).at(&settings.sources, &origin, "bad pattern"))
        })?])),
    };
    if let Some(path) = &run.report {
        report_writable(&settings, "--report", path)?;
    }
    if let Some(path) = &run.junit {
        report_writable(&settings, "--junit", path)?;
    }
    let _lock = lock(&settings.workspace)?;
    let engine = engine(&settings)?;
    super::doctor::preflight(&settings, &plan, &engine)?;
    if run.clean {
        clean_workspace(&settings.workspace, &settings.output_dir)?;
    }
    let (reports, run_id, seconds, interrupted) = execute(&settings, &plan, &engine, run.fail_fast, force, false)?;
    print!("{}", report::summary(&reports));
    let written = report::JsonReport::new(&run_id, seconds, reports.clone());
    write_reports(&written, run.report.as_deref(), run.junit.as_deref())?;
    let dist = settings.output_dir.strip_prefix(&settings.workspace).unwrap_or(&settings.output_dir);
    println!("{:.1}s; wheels in {}/, logs in {STATE_DIR}/logs/", seconds, dist.display());
    if interrupted {
        let what: Vec<&str> = reports
            .iter()
            .filter(|r| r.status == Status::Interrupted && r.seconds > 0.0)
            .map(|r| r.name.as_str())
            .collect();
        return Err(Failure::msg(
            EXIT_INTERRUPTED,
            format!("interrupted: {}", if what.is_empty() { "nothing was running".into() } else { what.join(", ") }),
        ));
    }
    if report::all_passed(&reports) {
        Ok(())
    } else {
        let failed = reports.iter().filter(|r| r.status == Status::Failed).count();
        Err(Failure::msg(EXIT_FAILURE, format!("{failed} node(s) failed; see the summary above and their logs")))
    }
}

/// Writes `report` as JSON to `json` and as JUnit XML to `junit`, where asked.
fn write_reports(report: &report::JsonReport, json: Option<&Path>, junit: Option<&Path>) -> Result<(), Failure> {
    let cannot =
        |path: &Path, e: std::io::Error| Failure::msg(EXIT_FAILURE, format!("cannot write {}: {e}", path.display()));
    if let Some(path) = json {
        report.write(path).map_err(|e| cannot(path, e))?;
    }
    if let Some(path) = junit {
        std::fs::write(path, report::junit::junit(report)).map_err(|e| cannot(path, e))?;
    }
    Ok(())
}

/// `pookie report merge`: the shards' reports as one, written where asked (else printed), and
/// its summary; exit code 1 unless every job of every shard passed, as `pookie run`'s.
pub fn merge_reports(reports: &[PathBuf], output: Option<&Path>, junit: Option<&Path>) -> Result<(), Failure> {
    let merged = report::merge::merge_files(reports)
        .map_err(|e| Failure { report: miette::Report::new(e), code: super::EXIT_BAD_INPUT })?;
    if output.is_none() && junit.is_none() {
        let mut text = serde_json::to_string_pretty(&merged).expect("a report serializes");
        text.push('\n');
        super::plan::print_out(&text)?;
    } else {
        write_reports(&merged, output, junit)?;
        print!("{}", report::summary(&merged.nodes));
    }
    if merged.passed {
        Ok(())
    } else {
        let failed = merged.nodes.iter().filter(|r| r.status == Status::Failed).count();
        Err(Failure::msg(EXIT_FAILURE, format!("{failed} node(s) failed in the merged report")))
    }
}

pub fn images(project: &ProjectArgs, args: &[String]) -> Result<(), Failure> {
    let (settings, plan) = resolve(project, args)?;
    let _lock = lock(&settings.workspace)?;
    let engine = engine(&settings)?;
    super::doctor::preflight(&settings, &plan, &engine)?;
    // The same executor, on the image nodes alone.
    let only_images = Plan {
        graph: plan.graph.filter_map(|_, n| matches!(n, Node::Image(_)).then(|| n.clone()), |_, _| Some(())),
        release: plan.release.clone(),
        warnings: plan.warnings.clone(),
        machine: plan.machine.clone(),
    };
    let (reports, _, _, interrupted) = execute(&settings, &only_images, &engine, false, None, true)?;
    for r in &reports {
        let tag = match &only_images.graph.node_weights().find(|n| n.name() == r.name) {
            Some(Node::Image(n)) => n.tag.clone().unwrap_or_default(),
            _ => String::new(),
        };
        println!(
            "{:<10} {:<48} {}{}",
            r.status.label(),
            r.name,
            tag,
            r.reason.as_deref().map(|x| format!("  {x}")).unwrap_or_default()
        );
    }
    if interrupted {
        return Err(Failure::msg(EXIT_INTERRUPTED, "interrupted"));
    }
    if report::all_passed(&reports) { Ok(()) } else { Err(Failure::msg(EXIT_FAILURE, "some images failed to build")) }
}

/// Removes what pookie created in the workspace: the wheels it published into the output
/// directory (and the directory when pookie made it and it is left empty; see
/// [`crate::outputs`]) and `.pookie/`. Never other files.
fn clean_workspace(workspace: &Path, output_dir: &Path) -> Result<(), Failure> {
    let io = |e: std::io::Error| Failure::msg(EXIT_FAILURE, format!("clean: {e}"));
    let removed = crate::outputs::remove(workspace, output_dir).map_err(io)?;
    for name in &removed.kept {
        eprintln!("pookie clean: kept {name:?}: not a wheel pookie published there, or changed since");
    }
    // remove_dir_all removes a symlink itself, never what it points to.
    let state = workspace.join(STATE_DIR);
    if std::fs::symlink_metadata(&state).is_ok() {
        if std::fs::symlink_metadata(&state).is_ok_and(|m| m.file_type().is_symlink()) {
            std::fs::remove_file(&state).map_err(io)?;
        } else {
            std::fs::remove_dir_all(&state).map_err(io)?;
        }
    }
    Ok(())
}

pub fn clean(workspace: Option<&Path>, images: bool, caches: bool) -> Result<(), Failure> {
    let project = ProjectArgs { workspace: workspace.map(Path::to_path_buf), ..Default::default() };
    let args: Vec<String> = std::env::args().collect();
    let settings = config::load(&project.overrides(), &args)?;
    let _lock = lock(&settings.workspace)?;
    clean_workspace(&settings.workspace, &settings.output_dir)?;
    println!("removed pookie's files from {}", settings.workspace.display());
    // The pool's engines (`[[engines]]`) hold pookie's layers and, as volumes, its caches too.
    let has_pool = settings.machine.iter().any(|m| !m.engines.is_empty());
    let pool = if has_pool && (images || caches) {
        engine(&settings).map(|default| pool(&settings, &default).0).unwrap_or_default()
    } else {
        Vec::new()
    };
    if images {
        let engine = engine(&settings)?;
        for e in std::iter::once(&engine).chain(&pool) {
            let removed = e
                .remove_images_labelled(&format!("{MANAGED_LABEL}=true"))
                .map_err(|e| Failure { report: e.into(), code: EXIT_FAILURE })?;
            println!(
                "removed {removed} pookie image(s){}",
                if e.is_default() { "" } else { " of an engine of the pool" }
            );
        }
    }
    for e in pool.iter().filter(|_| caches) {
        let volumes = e.output(["volume", "ls", "-q", "--filter", "name=pookie-cache-"]).unwrap_or_default();
        let volumes: Vec<&str> = volumes.split_whitespace().filter(|v| v.starts_with("pookie-cache-")).collect();
        for v in &volumes {
            let _ = e.output(["volume", "rm", "--force", "--", v]);
        }
        println!("removed {} cache volume(s) of an engine of the pool", volumes.len());
    }
    if caches {
        let dir = crate::cache::dir();
        for bucket in crate::cache::Bucket::ALL {
            let p = bucket.in_dir(&dir);
            if p.exists() {
                std::fs::remove_dir_all(&p).map_err(|e| Failure::msg(EXIT_FAILURE, format!("clean: {e}")))?;
            }
        }
        println!("removed pookie's caches in {}", dir.display());
    }
    Ok(())
}
