//! The executor: runs a plan's nodes on a rayon pool of `-j` threads. A node starts once every
//! node it depends on succeeded; when one fails, everything downstream is skipped with the
//! reason, and independent nodes go on (unless `--fail-fast`). Wheels reach the output
//! directory only once their tests passed (or when they have no runnable test), atomically.

pub mod job;

use crate::engine::Engine;
use crate::image::build::{self as image_build, Outcome};
use crate::plan::{Node, Plan, Runner, Stage};
use crate::process::Cancel;
use crate::report::{NodeReport, Progress, Status};
use petgraph::Direction;
use petgraph::graph::NodeIndex;
use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

pub struct Options<'a> {
    pub jobs: usize,
    pub fail_fast: bool,
    pub run_id: &'a str,
    pub workspace: &'a Path,
    pub output_dir: &'a Path,
    pub cache_dir: PathBuf,
    pub offline: bool,
}

/// What finished nodes hand to the nodes after them.
struct Done {
    status: Status,
    reason: Option<String>,
    wheels: Vec<PathBuf>,
    started_at: f64,
    seconds: f64,
}

fn epoch_seconds() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

pub fn execute(plan: &Plan, engine: &Engine, opts: &Options, cancel: &Cancel, progress: &Progress) -> Vec<NodeReport> {
    let g = &plan.graph;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(opts.jobs).build().expect("thread pool starts");
    let (tx, rx) = mpsc::channel::<(NodeIndex, Done)>();
    let mut done: HashMap<NodeIndex, Done> = HashMap::new();
    let mut ready = Ready::new(plan);
    for i in g.node_indices().filter(|&i| deps(plan, i).is_empty()) {
        ready.insert(i);
    }
    let mut running = 0usize;
    let mut stopping = false;
    let mut published: HashMap<NodeIndex, Vec<String>> = HashMap::new();
    let ctx = job::Context {
        engine,
        workspace: opts.workspace,
        output_dir: opts.output_dir,
        run_id: opts.run_id,
        cancel,
        uid: unsafe { libc::getuid() },
        gid: unsafe { libc::getgid() },
    };
    let images = image_build::Builder { engine, cache_dir: opts.cache_dir.clone(), offline: opts.offline, cancel };
    let tags: HashMap<&str, &str> =
        plan.images().filter_map(|(_, n)| n.tag.as_deref().map(|t| (n.name.as_str(), t))).collect();

    pool.in_place_scope(|scope| {
        loop {
            stopping |= cancel.is_cancelled();
            while running < opts.jobs && !stopping {
                let Some(i) = ready.pop() else { break };
                // Jobs that cannot run here finish at once, without a slot.
                if let Node::Job(j) = &g[i]
                    && let Runner::NotRunnable { reason } = &j.runner
                {
                    let d = Done {
                        status: Status::NotRunnable,
                        reason: Some(reason.clone()),
                        wheels: vec![],
                        started_at: epoch_seconds(),
                        seconds: 0.0,
                    };
                    progress.finish(&j.name, d.status, 0.0, d.reason.as_deref());
                    finish(plan, i, d, &mut done, &mut ready, &mut published, opts);
                    continue;
                }
                let input: Vec<PathBuf> =
                    deps(plan, i).iter().filter_map(|d| done.get(d)).flat_map(|d| d.wheels.clone()).collect();
                let tx = tx.clone();
                let (ctx, images, tags) = (&ctx, &images, &tags);
                progress.start(g[i].name());
                running += 1;
                scope.spawn(move |_| {
                    let started = Instant::now();
                    let started_at = epoch_seconds();
                    let (status, reason, wheels) = match &g[i] {
                        Node::Image(n) => {
                            let log = opts
                                .workspace
                                .join(".pookie/logs")
                                .join(format!("image-{}.log", n.name.replace('/', "-")));
                            match images.ensure(n, &log) {
                                Ok(Outcome::Cached) => (Status::Cached, None, vec![]),
                                Ok(Outcome::Built) => (Status::Built, None, vec![]),
                                Err(e) => (failed_or_interrupted(cancel), Some(e), vec![]),
                            }
                        }
                        Node::Job(j) => {
                            let image = j.image.as_deref().and_then(|n| tags.get(n)).copied().unwrap_or("");
                            match job::run(ctx, j, image, &input) {
                                Ok(w) => (Status::Passed, None, w),
                                Err(e) => (failed_or_interrupted(cancel), Some(e), vec![]),
                            }
                        }
                    };
                    let seconds = started.elapsed().as_secs_f64();
                    let _ = tx.send((i, Done { status, reason, wheels, started_at, seconds }));
                });
            }
            if running == 0 {
                break;
            }
            let Ok((i, d)) = rx.recv() else { break };
            running -= 1;
            progress.finish(g[i].name(), d.status, d.seconds, d.reason.as_deref());
            if d.status == Status::Failed && opts.fail_fast {
                stopping = true;
            }
            finish(plan, i, d, &mut done, &mut ready, &mut published, opts);
        }
    });
    progress.end();

    let why_not = if cancel.is_cancelled() { "interrupted before it started" } else { "not started: --fail-fast" };
    g.node_indices()
        .map(|i| {
            let d = done.remove(&i);
            let (status, reason, timing) = match d {
                Some(d) => (d.status, d.reason, (d.started_at, d.seconds)),
                None if cancel.is_cancelled() => (Status::Interrupted, Some(why_not.to_string()), (0.0, 0.0)),
                None => (Status::Skipped, Some(why_not.to_string()), (0.0, 0.0)),
            };
            NodeReport::new(&g[i], status, reason, timing, published.remove(&i).unwrap_or_default())
        })
        .collect()
}

/// Nodes whose inputs are all done, longest chain of dependents first (ties in plan order): a
/// layer or build that unlocks more work starts before a test at the end of its chain.
struct Ready {
    rank: Vec<usize>,
    set: BTreeSet<(Reverse<usize>, NodeIndex)>,
}

impl Ready {
    fn new(plan: &Plan) -> Self {
        let g = &plan.graph;
        let mut rank = vec![1; g.node_count()];
        let order = petgraph::algo::toposort(g, None).expect("plans are acyclic");
        for &i in order.iter().rev() {
            let below = g.neighbors_directed(i, Direction::Outgoing).map(|n| rank[n.index()]).max().unwrap_or(0);
            rank[i.index()] = 1 + below;
        }
        Ready { rank, set: BTreeSet::new() }
    }

    fn insert(&mut self, i: NodeIndex) {
        self.set.insert((Reverse(self.rank[i.index()]), i));
    }

    fn remove(&mut self, i: NodeIndex) {
        self.set.remove(&(Reverse(self.rank[i.index()]), i));
    }

    fn pop(&mut self) -> Option<NodeIndex> {
        self.set.pop_first().map(|(_, i)| i)
    }
}

fn failed_or_interrupted(cancel: &Cancel) -> Status {
    if cancel.is_cancelled() { Status::Interrupted } else { Status::Failed }
}

fn deps(plan: &Plan, i: NodeIndex) -> Vec<NodeIndex> {
    plan.graph.neighbors_directed(i, Direction::Incoming).collect()
}

/// Records a finished node: on success its dependents whose inputs are all done become ready
/// and finished wheels are published; on failure everything downstream is skipped.
fn finish(
    plan: &Plan,
    i: NodeIndex,
    d: Done,
    done: &mut HashMap<NodeIndex, Done>,
    ready: &mut Ready,
    published: &mut HashMap<NodeIndex, Vec<String>>,
    opts: &Options,
) {
    let g = &plan.graph;
    let ok = d.status.is_success();
    done.insert(i, d);
    if ok {
        publish_if_final(plan, i, done, published, opts);
        for next in g.neighbors_directed(i, Direction::Outgoing) {
            if !done.contains_key(&next)
                && deps(plan, next).iter().all(|p| done.get(p).is_some_and(|d| d.status.is_success()))
            {
                ready.insert(next);
            }
        }
        return;
    }
    let why = format!(
        "{} {}",
        g[i].name(),
        if done[&i].status == Status::Interrupted { "was interrupted" } else { "failed" }
    );
    let mut stack: Vec<NodeIndex> = g.neighbors_directed(i, Direction::Outgoing).collect();
    while let Some(n) = stack.pop() {
        if done.contains_key(&n) {
            continue;
        }
        ready.remove(n);
        done.insert(
            n,
            Done { status: Status::Skipped, reason: Some(why.clone()), wheels: vec![], started_at: 0.0, seconds: 0.0 },
        );
        stack.extend(g.neighbors_directed(n, Direction::Outgoing));
    }
}

/// A build's wheels go to the output directory once nothing is left to vouch for them: after
/// its test job passed, or right away when it has no runnable test.
fn publish_if_final(
    plan: &Plan,
    i: NodeIndex,
    done: &HashMap<NodeIndex, Done>,
    published: &mut HashMap<NodeIndex, Vec<String>>,
    opts: &Options,
) {
    let g = &plan.graph;
    let Node::Job(j) = &g[i] else { return };
    let build = match j.stage {
        Stage::Build => {
            let has_test = g.neighbors_directed(i, Direction::Outgoing).any(|n| matches!(&g[n], Node::Job(t) if t.stage == Stage::Test && !matches!(t.runner, Runner::NotRunnable { .. })));
            if has_test {
                return;
            }
            i
        }
        Stage::Test => {
            match deps(plan, i).into_iter().find(|d| matches!(&g[*d], Node::Job(b) if b.stage == Stage::Build)) {
                Some(b) => b,
                None => return,
            }
        }
    };
    let wheels = done.get(&build).map(|d| d.wheels.clone()).unwrap_or_default();
    let mut names = Vec::new();
    for w in wheels {
        match publish(&w, opts) {
            Ok(name) => names.push(name),
            Err(e) => eprintln!("pookie: cannot publish {}: {e}", w.display()),
        }
    }
    published.insert(build, names);
}

/// Moves a wheel into the output directory so that it appears whole or not at all: a rename
/// on the same filesystem, else a copy to a hidden temporary name and a rename.
fn publish(wheel: &Path, opts: &Options) -> std::io::Result<String> {
    let name =
        wheel.file_name().and_then(|n| n.to_str()).ok_or_else(|| std::io::Error::other("no file name"))?.to_string();
    std::fs::create_dir_all(opts.output_dir)?;
    let dest = opts.output_dir.join(&name);
    if std::fs::rename(wheel, &dest).is_err() {
        let tmp = opts.output_dir.join(format!(".{name}.pookie-partial"));
        let copied = std::fs::copy(wheel, &tmp).and_then(|_| std::fs::rename(&tmp, &dest));
        if copied.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        copied?;
    }
    crate::report::record_output(opts.workspace, &name)?;
    Ok(name)
}
