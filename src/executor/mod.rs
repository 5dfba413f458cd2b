//! The executor: runs a plan's nodes on a rayon pool of `-j` threads. A node starts once every
//! node it depends on succeeded; when one fails, everything downstream is skipped with the
//! reason, and independent nodes go on (unless `--fail-fast`). Jobs whose inputs did not change
//! reuse their cached result without a container. Wheels reach the output directory only once
//! their tests passed (or when they have no runnable test), atomically.
//!
//! Scheduling: ready nodes start longest chain of dependents first; each holds CPU slots and an
//! assumed amount of memory (see [`cost`]) and starts only while both fit, so `-j` slots stay
//! busy without running more heavy (emulated) builds than the memory allows.
//!
//! The run's engines are seats: the default engine (seat 0: `-j` slots, the memory budget, every
//! image layer) and the pool's `[[engines]]` (their own slots). A job sits on an engine whose
//! CPU runs its image natively, in the seats' order (an arm64 engine takes aarch64 builds and
//! tests that the default engine would emulate); without one, the default engine emulates it.
//! A seat whose engine stops answering takes no more jobs.
//!
//! [`schedule`] holds these rules and runs nodes through a [`NodeRunner`]; [`execute`] gives it
//! the one that uses the container engine, and the unit tests (executor/tests.rs) a fake.

pub mod cache;
pub mod fault;
pub mod image;
pub mod job;
pub mod log;
pub mod shared_results;

use crate::config::selector::Patterns;
use crate::engine::Engine;
use crate::plan::{JobNode, Node, Plan, Runner, Stage};
use crate::process::Cancel;
use crate::report::{NodeReport, Progress, Status};
use crate::target::Arch;
use image::Outcome;
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
    /// Digest of the project as jobs see it: part of every job's cache key.
    pub project_digest: String,
    /// Build identifiers whose cached results are not used (`--force`).
    pub force: Option<Patterns>,
    /// Memory the run may plan to use, in bytes.
    pub memory_budget: u64,
    /// The registry repository image layers and job results are shared through.
    pub registry: Option<&'a str>,
    /// The pool's engines besides the default one (seat 0), in the machine file's order.
    pub pool: Vec<Seat>,
}

/// An engine as the scheduler sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seat {
    pub name: String,
    /// The CPU architecture it runs containers on natively (None: not one pookie knows).
    pub arch: Option<Arch>,
    /// Jobs it runs at a time.
    pub slots: usize,
}

/// The default engine's name in the summary and the report, beside the pool's.
pub const DEFAULT_SEAT: &str = "default";

/// What finished nodes hand to the nodes after them.
struct Done {
    status: Status,
    reason: Option<String>,
    wheels: Vec<PathBuf>,
    /// Job cache key (jobs only): a test's key includes its build's.
    key: Option<String>,
    started_at: f64,
    seconds: f64,
    /// The seat it ran on (nodes that ran in a container).
    seat: Option<usize>,
}

impl Done {
    fn instant(status: Status, reason: Option<String>, wheels: Vec<PathBuf>, key: Option<String>) -> Self {
        Done { status, reason, wheels, key, started_at: epoch_seconds(), seconds: 0.0, seat: None }
    }
}

const GIB: u64 = 1 << 30;

/// What a running node holds: CPU slots (of `-j`) and the memory it is assumed to need. The
/// assumptions: a compiler job 1 GiB; an emulated build (QEMU, several times slower) 2 slots and
/// 2 GiB; a test 512 MiB; an image build 1 GiB.
struct Cost {
    slots: usize,
    memory: u64,
}

fn cost(node: &Node) -> Cost {
    match node {
        Node::Image(_) => Cost { slots: 1, memory: GIB },
        Node::Job(j) => match (j.stage, &j.runner) {
            (Stage::Build, Runner::Qemu { .. }) => Cost { slots: 2, memory: 2 * GIB },
            (Stage::Build, _) => Cost { slots: 1, memory: GIB },
            (Stage::Test, _) => Cost { slots: 1, memory: GIB / 2 },
        },
    }
}

/// 80% of the memory the kernel reports available (at least 1 GiB).
pub fn memory_budget() -> u64 {
    let available = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines()
            .find_map(|l| l.strip_prefix("MemAvailable:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    });
    available.map_or(4 * GIB, |kb| (kb * 1024 / 5 * 4).max(GIB))
}

fn epoch_seconds() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// Runs the plan on `engine` (the default one) and the `pool`'s engines, which stand for the
/// seats of `opts.pool` in the same order.
pub fn execute(
    plan: &Plan,
    engine: &Engine,
    pool: &[Engine],
    opts: &Options,
    cancel: &Cancel,
    progress: &Progress,
) -> Vec<NodeReport> {
    assert_eq!(pool.len(), opts.pool.len(), "an engine for every seat");
    let engines: Vec<&Engine> = std::iter::once(engine).chain(pool).collect();
    let jobs_cache = cache::JobCache::new(&opts.cache_dir);
    let tags: HashMap<&str, &str> =
        plan.images().filter_map(|(_, n)| n.tag.as_deref().map(|t| (n.name.as_str(), t))).collect();
    let workers = Workers {
        jobs: job::Context {
            engine,
            workspace: opts.workspace,
            output_dir: opts.output_dir,
            cache_dir: &opts.cache_dir,
            run_id: opts.run_id,
            cancel,
            uid: unsafe { libc::getuid() },
            gid: unsafe { libc::getgid() },
        },
        images: image::Builder {
            engine,
            cache_dir: opts.cache_dir.clone(),
            offline: opts.offline,
            cancel,
            registry: opts.registry,
        },
        jobs_cache: &jobs_cache,
        shared: opts.registry.filter(|_| !opts.offline).and_then(|r| {
            shared_results::SharedResults::new(r)
                .map_err(|e| eprintln!("pookie: warning: job results are not shared this run: {e}"))
                .ok()
        }),
        force: opts.force.as_ref(),
        tags: &tags,
        ids: Default::default(),
        workspace: opts.workspace,
        project_digest: &opts.project_digest,
        seats: std::iter::once(Seat { name: DEFAULT_SEAT.into(), arch: Arch::host(), slots: opts.jobs })
            .chain(opts.pool.iter().cloned())
            .collect(),
        lost: engines.iter().map(|_| Default::default()).collect(),
        present: engines.iter().map(|_| Default::default()).collect(),
        engines,
    };
    schedule(plan, &workers, &jobs_cache, opts, cancel, progress)
}

/// How a node ended: its status, the reason it did not pass, the wheels it made.
pub type NodeOutcome = (Status, Option<String>, Vec<PathBuf>);

/// Runs one node where nodes run: [`Workers`], with the container engine, in [`execute`]. The
/// scheduler around it ([`schedule`]) needs none, so its rules have unit tests with a fake.
pub trait NodeRunner: Sync {
    /// Runs `node` to its end on the engine of `seat`, with the wheels of the nodes before it
    /// as `input`; a passing job's result is remembered under `key`.
    fn run(&self, node: &Node, key: Option<&str>, input: &[PathBuf], seat: usize) -> NodeOutcome;
    /// The cache key of `job`, whose build (for a test) had the key `upstream`.
    fn job_key(&self, job: &JobNode, upstream: Option<&str>) -> String;
    /// Whether the engine of `seat` stopped answering: nothing more starts there (on the
    /// default engine, seat 0, nothing more starts at all).
    fn lost(&self, seat: usize) -> bool;
}

/// What a seat's running nodes hold.
#[derive(Clone, Copy, Default)]
struct Held {
    running: usize,
    slots: usize,
    memory: u64,
}

/// The state of one run of the scheduler: what is done, ready and running, and what the running
/// nodes hold of the CPU slots and memory.
struct Run<'a> {
    plan: &'a Plan,
    opts: &'a Options<'a>,
    done: HashMap<NodeIndex, Done>,
    ready: Ready,
    published: HashMap<NodeIndex, Vec<String>>,
    /// The default engine, then the pool's.
    seats: Vec<Seat>,
    held: Vec<Held>,
    /// The architecture of each image layer, by name.
    arches: HashMap<&'a str, Arch>,
    /// No more nodes start (Ctrl-C, --fail-fast, a lost engine); running ones finish.
    stopping: bool,
}

impl<'a> Run<'a> {
    fn new(plan: &'a Plan, opts: &'a Options<'a>) -> Self {
        let mut ready = Ready::new(plan);
        for i in plan.graph.node_indices().filter(|&i| deps(plan, i).is_empty()) {
            ready.insert(i);
        }
        let default = Seat { name: DEFAULT_SEAT.into(), arch: Arch::host(), slots: opts.jobs };
        let seats: Vec<Seat> = std::iter::once(default).chain(opts.pool.iter().cloned()).collect();
        Run {
            plan,
            opts,
            done: HashMap::new(),
            ready,
            published: HashMap::new(),
            held: vec![Held::default(); seats.len()],
            seats,
            arches: plan.images().map(|(_, n)| (n.name.as_str(), n.arch)).collect(),
            stopping: false,
        }
    }

    fn running(&self) -> usize {
        self.held.iter().map(|h| h.running).sum()
    }

    /// The seats node `i` may run on, best first: image layers are the default engine's; a job
    /// goes to the engines whose CPU runs its image natively, else to the default engine,
    /// which emulates it. Seats whose engine was lost are left out.
    fn seats_for(&self, runner: &dyn NodeRunner, i: NodeIndex) -> Vec<usize> {
        let alive = |s: &usize| !runner.lost(*s);
        let Node::Job(j) = &self.plan.graph[i] else { return [0].into_iter().filter(alive).collect() };
        let Some(arch) = j.image.as_deref().and_then(|n| self.arches.get(n)) else {
            return [0].into_iter().filter(alive).collect();
        };
        let native: Vec<usize> =
            (0..self.seats.len()).filter(|s| arch.runs_natively_on(self.seats[*s].arch)).filter(alive).collect();
        if native.is_empty() { [0].into_iter().filter(alive).collect() } else { native }
    }

    /// Whether a node of cost `c` (its slots capped at the seat's) fits on `seat` beside the
    /// nodes running there, in slots and (on the default engine) memory; with nothing running
    /// there, any node starts.
    fn fits(&self, seat: usize, c: &Cost) -> bool {
        let (held, cap) = (&self.held[seat], self.seats[seat].slots);
        held.running == 0
            || (held.slots + c.slots.min(cap) <= cap
                && (seat != 0 || held.memory + c.memory <= self.opts.memory_budget))
    }

    fn take(&mut self, seat: usize, c: &Cost) {
        let cap = self.seats[seat].slots;
        let held = &mut self.held[seat];
        held.running += 1;
        held.slots += c.slots.min(cap);
        held.memory += c.memory;
    }

    fn release(&mut self, seat: usize, c: &Cost) {
        let cap = self.seats[seat].slots;
        let held = &mut self.held[seat];
        held.running -= 1;
        held.slots -= c.slots.min(cap);
        held.memory -= c.memory;
    }

    /// The wheels of the nodes `i` depends on.
    fn input(&self, i: NodeIndex) -> Vec<PathBuf> {
        deps(self.plan, i).iter().filter_map(|d| self.done.get(d)).flat_map(|d| d.wheels.clone()).collect()
    }

    /// The cache key of node `i` (jobs only): a test's includes its build's.
    fn key(&self, runner: &dyn NodeRunner, i: NodeIndex) -> Option<String> {
        let Node::Job(j) = &self.plan.graph[i] else { return None };
        let upstream = deps(self.plan, i).iter().find_map(|d| self.done.get(d).and_then(|d| d.key.clone()));
        Some(runner.job_key(j, upstream.as_deref()))
    }

    /// The reports of every node, in plan order; nodes that never started say why.
    fn reports(mut self, cancelled: bool, lost: bool) -> Vec<NodeReport> {
        let why_not = if cancelled {
            "interrupted before it started"
        } else if lost {
            "not started: the container engine stopped answering"
        } else {
            "not started: --fail-fast"
        };
        let g = &self.plan.graph;
        let pooled = self.seats.len() > 1;
        g.node_indices()
            .map(|i| {
                let (status, reason, timing, seat) = match self.done.remove(&i) {
                    Some(d) => (d.status, d.reason, (d.started_at, d.seconds), d.seat),
                    None if cancelled => (Status::Interrupted, Some(why_not.to_string()), (0.0, 0.0), None),
                    None => (Status::Skipped, Some(why_not.to_string()), (0.0, 0.0), None),
                };
                let mut r =
                    NodeReport::new(&g[i], status, reason, timing, self.published.remove(&i).unwrap_or_default());
                // Where it ran, when there was a choice.
                r.engine = seat.filter(|_| pooled).map(|s| self.seats[s].name.clone());
                r
            })
            .collect()
    }
}

/// Runs the plan's nodes with `runner` on a pool of `-j` threads (see the module's doc).
pub fn schedule(
    plan: &Plan,
    runner: &dyn NodeRunner,
    jobs_cache: &cache::JobCache,
    opts: &Options,
    cancel: &Cancel,
    progress: &Progress,
) -> Vec<NodeReport> {
    let g = &plan.graph;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(opts.jobs).build().expect("thread pool starts");
    let (tx, rx) = mpsc::channel::<(NodeIndex, Done)>();
    let mut run = Run::new(plan, opts);
    pool.in_place_scope(|scope| {
        loop {
            // Passes over the ready nodes, best first, until one starts nothing new. A node that
            // finds its seats full holds them for this pass: nothing after it starts there, so
            // a heavy node is not overtaken forever by lighter ones.
            let mut progressed = true;
            while progressed {
                progressed = false;
                run.stopping |= cancel.is_cancelled() || runner.lost(0);
                let mut held_back = vec![false; run.seats.len()];
                for i in run.ready.in_order() {
                    if run.stopping {
                        break;
                    }
                    let c = cost(&g[i]);
                    let seats = run.seats_for(runner, i);
                    let Some(seat) = seats.iter().copied().find(|&s| !held_back[s] && run.fits(s, &c)) else {
                        for s in seats {
                            held_back[s] = true;
                        }
                        continue;
                    };
                    run.ready.remove(i);
                    progressed = true;
                    // Jobs that cannot run here, or whose result is cached, finish at once.
                    let key = run.key(runner, i);
                    if let Some(d) = settle_without_container(&g[i], key.as_deref(), jobs_cache, opts) {
                        progress.finish(g[i].name(), d.status, 0.0, d.reason.as_deref());
                        run.finish(i, d);
                        continue;
                    }
                    let input = run.input(i);
                    let tx = tx.clone();
                    progress.start(g[i].name());
                    run.take(seat, &c);
                    scope.spawn(move |_| {
                        let started = Instant::now();
                        let started_at = epoch_seconds();
                        let (status, reason, wheels) = runner.run(&g[i], key.as_deref(), &input, seat);
                        let seconds = started.elapsed().as_secs_f64();
                        let done = Done { status, reason, wheels, key, started_at, seconds, seat: Some(seat) };
                        let _ = tx.send((i, done));
                    });
                }
            }
            if run.running() == 0 {
                break;
            }
            let Ok((i, d)) = rx.recv() else { break };
            run.release(d.seat.unwrap_or(0), &cost(&g[i]));
            progress.finish(g[i].name(), d.status, d.seconds, d.reason.as_deref());
            if d.status == Status::Failed && opts.fail_fast {
                run.stopping = true;
            }
            run.finish(i, d);
        }
    });
    progress.end();
    run.reports(cancel.is_cancelled(), runner.lost(0))
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

    /// The ready nodes, best first.
    fn in_order(&self) -> Vec<NodeIndex> {
        self.set.iter().map(|(_, i)| *i).collect()
    }
}

/// What the pool's threads need to run a node.
struct Workers<'a> {
    jobs: job::Context<'a>,
    images: image::Builder<'a>,
    jobs_cache: &'a cache::JobCache,
    /// Job results in the cache registry, unless offline.
    shared: Option<shared_results::SharedResults>,
    /// `--force`: these builds' results are not taken from the registry either.
    force: Option<&'a Patterns>,
    tags: &'a HashMap<&'a str, &'a str>,
    /// Image IDs by tag, as [`Workers::image_id`] found them.
    ids: std::sync::Mutex<HashMap<String, String>>,
    workspace: &'a Path,
    project_digest: &'a str,
    /// The default engine, then the pool's, by seat.
    engines: Vec<&'a Engine>,
    seats: Vec<Seat>,
    /// Set when a node failed there and the engine no longer answers: nothing more starts there.
    lost: Vec<std::sync::atomic::AtomicBool>,
    /// The layers each engine of the pool is known to hold (the default engine's own).
    present: Vec<std::sync::Mutex<std::collections::HashSet<String>>>,
}

impl NodeRunner for Workers<'_> {
    /// An image layer is found or built; a job runs in its container and, once passed, is
    /// remembered under `key`.
    fn run(&self, node: &Node, key: Option<&str>, input: &[PathBuf], seat: usize) -> NodeOutcome {
        let (status, reason, wheels) = self.run_node(node, key, input, seat);
        if status == Status::Failed && self.engines[seat].ping().is_err() {
            self.lost[seat].store(true, std::sync::atomic::Ordering::SeqCst);
            let what = if matches!(node, Node::Image(_)) { "image build" } else { "job" };
            let engine = match seat {
                0 => "the container engine".to_string(),
                _ => format!("engine {}", self.seats[seat].name),
            };
            return (status, Some(format!("{engine} stopped answering during the {what}")), wheels);
        }
        (status, reason, wheels)
    }

    fn job_key(&self, job: &JobNode, upstream: Option<&str>) -> String {
        // The images by their IDs: a result proves the job ran in exactly these images, and a
        // layer rebuilt under its tag on another parent image (here, or on the machine that
        // pushed a result) is another image. The image that installs a test's wheel counts too.
        let image = self.tag(&job.image).map(|t| self.image_id(t)).unwrap_or_default();
        let images = match self.tag(&job.install_image) {
            Some(install) => format!("{image};{}", self.image_id(install)),
            None => image,
        };
        cache::JobCache::key(job, self.jobs.engine.kind.program(), &images, self.project_digest, upstream)
    }

    fn lost(&self, seat: usize) -> bool {
        self.lost[seat].load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Workers<'_> {
    /// The ID of the layer tagged `tag` (asked once per run: its jobs start after it is there),
    /// or the tag itself when the engine does not say.
    fn image_id(&self, tag: &str) -> String {
        let mut ids = self.ids.lock().unwrap_or_else(|e| e.into_inner());
        ids.entry(tag.to_string())
            .or_insert_with(|| self.images.image_id(tag).unwrap_or_else(|| tag.to_string()))
            .clone()
    }

    /// The tag of the image node `name`, when it has one.
    fn tag(&self, name: &Option<String>) -> Option<&str> {
        name.as_deref().and_then(|n| self.tags.get(n)).copied()
    }

    /// Makes sure the engine of `seat` holds the layer `tag` as the default engine has it (the
    /// same image ID, so job keys hold): pulled from the cache registry when there is one and
    /// it has the layer, else sent as an image archive (`save | load`) through this machine.
    /// Once per layer and engine; one at a time per engine.
    fn bring(&self, seat: usize, tag: &str, log: &Path) -> Result<(), String> {
        let engine = self.engines[seat];
        let mut present = self.present[seat].lock().unwrap_or_else(|e| e.into_inner());
        if seat == 0 || present.contains(tag) {
            return Ok(());
        }
        // (podman says an ID without docker's `sha256:`)
        let id = self.image_id(tag);
        let id = id.trim_start_matches("sha256:");
        let theirs = || engine.output(["image", "inspect", "--format={{.Id}}", "--", tag]).ok();
        let same = |t: String| t.trim().trim_start_matches("sha256:") == id;
        if !theirs().is_some_and(same) && !self.images.pull_into(engine, tag, id, log) {
            let name = &self.seats[seat].name;
            let _ = log::append(log, &format!("::pookie:: sending {tag} to engine {name}"));
            let out = self
                .jobs
                .engine
                .cmd(["save", "--", tag])
                .pipe(engine.cmd(["load"]))
                .stdout_capture()
                .stderr_capture()
                .unchecked()
                .run()
                .map_err(|e| format!("cannot send {tag} to engine {name}: {e}"))?;
            if !theirs().is_some_and(same) {
                let why = String::from_utf8_lossy(&out.stderr).trim().lines().last().unwrap_or("").to_string();
                return Err(format!("cannot send {tag} to engine {name}: {why}"));
            }
        }
        present.insert(tag.to_string());
        Ok(())
    }

    fn run_node(&self, node: &Node, key: Option<&str>, input: &[PathBuf], seat: usize) -> NodeOutcome {
        let cancel = self.jobs.cancel;
        match node {
            Node::Image(n) => {
                let log = self.workspace.join(crate::plan::layout::image_log(&n.name));
                match self.images.ensure(n, &log) {
                    Ok(Outcome::Cached) => (Status::Cached, None, vec![]),
                    Ok(Outcome::Built) => (Status::Built, None, vec![]),
                    Ok(Outcome::Pulled) => (Status::Pulled, None, vec![]),
                    Err(e) => (failed_or_interrupted(cancel), Some(log::one_line(&e)), vec![]),
                }
            }
            Node::Job(j) => {
                let log = self.workspace.join(&j.log);
                // This run's log of the job: what comes before its containers (layers brought to
                // its engine) included.
                let _ = std::fs::remove_file(&log);
                // Another machine's result of the same job stands in for running it.
                let shared = self.shared.as_ref().zip(key).filter(|_| !self.force.is_some_and(|f| f.matches(&j.id)));
                let mut unusable = None;
                if let Some((results, key)) = shared {
                    match results.fetch(key, j.stage, self.jobs_cache, &log) {
                        Ok(Some(wheels)) => return (Status::Pulled, None, wheels),
                        Ok(None) => {}
                        Err(why) => unusable = Some(why),
                    }
                }
                // The native install stage runs x86_64 code (pip, for the target): on an engine of
                // another CPU the tests' own pip, native there, does the same.
                let image = self.tag(&j.image).unwrap_or("");
                let install = self.tag(&j.install_image).filter(|_| self.seats[seat].arch == self.seats[0].arch);
                let mut brought = Ok(());
                for tag in std::iter::once(image).chain(install) {
                    brought = brought.and_then(|()| self.bring(seat, tag, &log));
                }
                if let Err(why) = brought {
                    let _ = log::append(&log, &format!("pookie: {why}"));
                    return (failed_or_interrupted(cancel), Some(why), vec![]);
                }
                let ran = job::run(&self.jobs, self.engines[seat], j, image, install, input);
                if let Some(why) = unusable {
                    let _ = log::append(
                        &log,
                        &format!("pookie: the cache registry's result was not used, the job ran: {why}"),
                    );
                }
                match ran {
                    Ok(wheels) => {
                        // A cache that cannot be written only costs a later rebuild; a result
                        // not pushed, only another machine's run.
                        if let Some(key) = key {
                            let _ = self.jobs_cache.store(key, &wheels);
                        }
                        if let Some((results, key)) = self.shared.as_ref().zip(key)
                            && let Err(e) = results.publish(key, j.stage, &wheels, &log)
                        {
                            let _ = log::append(
                                &log,
                                &format!("pookie: could not push the result to the cache registry: {e}"),
                            );
                        }
                        (Status::Passed, None, wheels)
                    }
                    Err(e) => {
                        let status = match e {
                            job::NotPassed::NoWindowsPython(_) => Status::NoWindowsPython,
                            job::NotPassed::EmulationLimit(_) => Status::EmulationLimit,
                            job::NotPassed::Failed(_) => failed_or_interrupted(cancel),
                        };
                        (status, Some(e.reason()), vec![])
                    }
                }
            }
        }
    }
}

/// The result of a node that needs no container: a test that cannot run on this host, or a job
/// whose cached result stands (unless `--force` names it).
fn settle_without_container(node: &Node, key: Option<&str>, cache: &cache::JobCache, opts: &Options) -> Option<Done> {
    let Node::Job(j) = node else { return None };
    match &j.runner {
        Runner::NotRunnable { reason } => {
            return Some(Done::instant(Status::NotRunnable, Some(reason.clone()), vec![], None));
        }
        Runner::Skipped { reason } => {
            return Some(Done::instant(Status::TestSkipped, Some(reason.clone()), vec![], None));
        }
        _ => {}
    }
    let key = key?;
    if opts.force.as_ref().is_some_and(|f| f.matches(&j.id)) {
        return None;
    }
    match j.stage {
        Stage::Build => cache.wheels(key).map(|w| Done::instant(Status::Cached, None, w, Some(key.to_string()))),
        Stage::Test => cache.passed(key).then(|| Done::instant(Status::Cached, None, vec![], Some(key.to_string()))),
    }
}

fn failed_or_interrupted(cancel: &Cancel) -> Status {
    if cancel.is_cancelled() { Status::Interrupted } else { Status::Failed }
}

fn deps(plan: &Plan, i: NodeIndex) -> Vec<NodeIndex> {
    plan.graph.neighbors_directed(i, Direction::Incoming).collect()
}

impl Run<'_> {
    /// Records a finished node: on success its dependents whose inputs are all done become ready
    /// and finished wheels are published; on failure everything downstream is skipped.
    fn finish(&mut self, i: NodeIndex, d: Done) {
        let (plan, g) = (self.plan, &self.plan.graph);
        let ok = d.status.is_success();
        let untested = d.status.is_untested();
        self.done.insert(i, d);
        if ok || untested {
            self.publish_if_final(i);
        }
        if untested {
            return;
        }
        if ok {
            for next in g.neighbors_directed(i, Direction::Outgoing) {
                if !self.done.contains_key(&next)
                    && deps(plan, next).iter().all(|p| self.done.get(p).is_some_and(|d| d.status.is_success()))
                {
                    self.ready.insert(next);
                }
            }
            return;
        }
        let why = format!(
            "{} {}",
            g[i].name(),
            if self.done[&i].status == Status::Interrupted { "was interrupted" } else { "failed" }
        );
        let mut stack: Vec<NodeIndex> = g.neighbors_directed(i, Direction::Outgoing).collect();
        while let Some(n) = stack.pop() {
            if self.done.contains_key(&n) {
                continue;
            }
            self.ready.remove(n);
            self.done.insert(n, Done::instant(Status::Skipped, Some(why.clone()), vec![], None));
            stack.extend(g.neighbors_directed(n, Direction::Outgoing));
        }
    }

    /// A build's wheels go to the output directory once nothing is left to vouch for them: after
    /// all its tests passed or found they could not run here (an abi3 build has one per Python), or
    /// right away when it has no runnable test.
    fn publish_if_final(&mut self, i: NodeIndex) {
        let (plan, g) = (self.plan, &self.plan.graph);
        let Node::Job(j) = &g[i] else { return };
        let build = match j.stage {
            Stage::Build => i,
            Stage::Test => {
                match deps(plan, i).into_iter().find(|d| matches!(&g[*d], Node::Job(b) if b.stage == Stage::Build)) {
                    Some(b) => b,
                    None => return,
                }
            }
        };
        let tests_passed = g
            .neighbors_directed(build, Direction::Outgoing)
            .filter(|n| matches!(&g[*n], Node::Job(t) if t.stage == Stage::Test && t.runner.not_run_reason().is_none()))
            .all(|t| self.done.get(&t).is_some_and(|d| d.status.is_success() || d.status.is_untested()));
        if !tests_passed || self.published.contains_key(&build) {
            return;
        }
        let wheels = self.done.get(&build).map(|d| d.wheels.clone()).unwrap_or_default();
        let mut names = Vec::new();
        for w in wheels {
            match publish(&w, self.opts) {
                Ok(name) => names.push(name),
                // A wheel that was built but cannot be delivered (a full disk, a read-only output
                // directory) fails its build: the run must not look like it delivered it.
                Err(e) => {
                    if let Some(d) = self.done.get_mut(&build) {
                        d.status = Status::Failed;
                        d.reason =
                            Some(format!("its wheel could not be written to {}: {e}", self.opts.output_dir.display()));
                    }
                }
            }
        }
        self.published.insert(build, names);
    }
}

/// Puts a wheel into the output directory so that it appears whole or not at all: a hard link
/// (or copy) staged in `.pookie/tmp`, then a rename over any older file of that name. The source
/// stays where it is (it may be the job cache's copy).
fn publish(wheel: &Path, opts: &Options) -> std::io::Result<String> {
    let name =
        wheel.file_name().and_then(|n| n.to_str()).ok_or_else(|| std::io::Error::other("no file name"))?.to_string();
    crate::outputs::note_output_dir(opts.workspace, opts.output_dir)?;
    std::fs::create_dir_all(opts.output_dir)?;
    let dest = opts.output_dir.join(&name);
    let staging = crate::plan::layout::staging_dir(opts.workspace);
    std::fs::create_dir_all(&staging)?;
    let staged = staging.join(&name);
    let _ = std::fs::remove_file(&staged);
    if std::fs::hard_link(wheel, &staged).is_err() {
        std::fs::copy(wheel, &staged)?;
    }
    if std::fs::rename(&staged, &dest).is_err() {
        // The output directory is on another filesystem: copy beside it under a hidden name.
        let hidden = opts.output_dir.join(format!(".{name}.pookie-partial"));
        let copied = std::fs::copy(&staged, &hidden).and_then(|_| std::fs::rename(&hidden, &dest));
        let _ = std::fs::remove_file(&staged);
        if copied.is_err() {
            let _ = std::fs::remove_file(&hidden);
        }
        copied?;
    }
    crate::outputs::record(opts.workspace, &dest)?;
    Ok(name)
}

#[cfg(test)]
mod tests;
