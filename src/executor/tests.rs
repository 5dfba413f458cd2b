//! The scheduler's rules, with a fake [`NodeRunner`] in place of the container engine: order,
//! skips downstream of a failure, fail-fast, publishing after tests, the job cache, slot and
//! memory accounting, Ctrl-C and a lost engine. Each runs in milliseconds.

use super::*;
use crate::build_id::BuildId;
use crate::plan::{ImageNode, Layer};
use crate::python::PythonVersion;
use crate::target::{Arch, Family, Platform, Repair};
use petgraph::graph::DiGraph;
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn image(name: &str) -> Node {
    Node::Image(ImageNode {
        name: name.into(),
        layer: Layer::Python,
        family: Family::LinuxX86_64,
        arch: Arch::X86_64,
        recipe: &crate::image::PYTHON,
        from: Some("debian:bookworm-slim".into()),
        args: BTreeMap::new(),
        context: vec![],
        sources: vec![],
        tag: Some(format!("pookie/{name}:0")),
    })
}

fn job(minor: u8, stage: Stage, runner: Runner) -> Node {
    let id = BuildId { target: Platform::ManylinuxX86_64.target(), python: PythonVersion::new(minor) };
    Node::Job(JobNode {
        name: format!("{id}/{}", stage.as_str()),
        id,
        stage,
        image: Some(format!("python/cp3{minor}")),
        install_image: None,
        runner,
        command: "true".into(),
        before: None,
        env_pass: vec![],
        test_requires: vec![],
        env: BTreeMap::new(),
        dir: PathBuf::from(format!(".pookie/jobs/{id}-{}", stage.as_str())),
        log: PathBuf::from(format!(".pookie/logs/{id}-{}.log", stage.as_str())),
        mounts: vec![],
        repair: Repair::Auditwheel,
        abi3: false,
        output_dir: None,
        timeout_secs: None,
    })
}

/// One image, then for each minor its Python layer, build and test: `base → python/cp3N →
/// build → test`. `runners` gives each build's runner and each test's.
fn plan(cells: &[(u8, Runner, Runner)]) -> Plan {
    let mut g = DiGraph::new();
    let base = g.add_node(image("base"));
    for (minor, build_runner, test_runner) in cells {
        let python = g.add_node(image(&format!("python/cp3{minor}")));
        let build = g.add_node(job(*minor, Stage::Build, build_runner.clone()));
        let test = g.add_node(job(*minor, Stage::Test, test_runner.clone()));
        g.add_edge(base, python, ());
        g.add_edge(python, build, ());
        g.add_edge(build, test, ());
        g.add_edge(python, test, ());
    }
    Plan { graph: g, release: None, warnings: vec![], machine: None }
}

fn two_cells() -> Plan {
    plan(&[(13, Runner::Native, Runner::Native), (14, Runner::Native, Runner::Native)])
}

/// Fails the nodes named in `fail`, records what ran and how many ran at once; builds leave
/// one wheel each.
#[derive(Default)]
struct Fake {
    wheels: PathBuf,
    fail: Vec<String>,
    delay: Duration,
    ran: Mutex<Vec<String>>,
    /// When each node ran.
    spans: Mutex<Vec<(String, Instant, Instant)>>,
    running: AtomicUsize,
    most_at_once: AtomicUsize,
    /// Cancels this when the named node runs (Ctrl-C during it).
    cancel_during: Option<(String, std::sync::Arc<Cancel>)>,
    /// The engine stops answering when a node fails.
    lose_engine_on_failure: bool,
    lost: Mutex<BTreeSet<usize>>,
    /// Every job on this seat fails: its engine is lost.
    lose_seat: Option<usize>,
    /// The seat each node ran on.
    seats: Mutex<BTreeMap<String, usize>>,
}

impl NodeRunner for Fake {
    fn run(&self, node: &Node, _key: Option<&str>, input: &[PathBuf], seat: usize) -> NodeOutcome {
        self.seats.lock().unwrap().insert(node.name().to_string(), seat);
        // Every job that reaches a lost engine fails, as on a real one.
        if self.lose_seat == Some(seat) {
            self.lost.lock().unwrap().insert(seat);
            return (Status::Failed, Some("the engine stopped answering".into()), vec![]);
        }
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_at_once.fetch_max(now, Ordering::SeqCst);
        self.ran.lock().unwrap().push(node.name().to_string());
        let start = Instant::now();
        std::thread::sleep(self.delay);
        self.spans.lock().unwrap().push((node.name().to_string(), start, Instant::now()));
        self.running.fetch_sub(1, Ordering::SeqCst);
        if let Some((name, cancel)) = &self.cancel_during
            && name == node.name()
        {
            cancel.cancel();
            return (Status::Interrupted, Some("interrupted".into()), vec![]);
        }
        if self.fail.iter().any(|f| f == node.name()) {
            if self.lose_engine_on_failure {
                self.lost.lock().unwrap().insert(seat);
            }
            return (Status::Failed, Some("it failed".into()), vec![]);
        }
        match node {
            Node::Image(_) => (Status::Built, None, vec![]),
            Node::Job(j) if j.stage == Stage::Build => {
                let wheel = self.wheels.join(format!(
                    "pkg-1.0-{}-{}-manylinux_2_17_x86_64.whl",
                    j.id.python.cp_tag(),
                    j.id.python.cp_tag()
                ));
                std::fs::write(&wheel, j.name.as_bytes()).unwrap();
                (Status::Passed, None, vec![wheel])
            }
            Node::Job(_) => {
                assert_eq!(input.len(), 1, "a test gets its build's wheel");
                (Status::Passed, None, vec![])
            }
        }
    }

    fn job_key(&self, job: &JobNode, upstream: Option<&str>) -> String {
        let name = job.name.replace('/', "-");
        match upstream {
            Some(u) => format!("{u}+{name}"),
            None => name,
        }
    }

    fn lost(&self, seat: usize) -> bool {
        self.lost.lock().unwrap().contains(&seat)
    }
}

struct World {
    _dir: tempfile::TempDir,
    workspace: PathBuf,
    output: PathBuf,
    cache: PathBuf,
    wheels: PathBuf,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let world = World {
            workspace: root.join("ws"),
            output: root.join("ws/dist"),
            cache: root.join("cache"),
            wheels: root.join("built"),
            _dir: dir,
        };
        for d in [&world.workspace, &world.cache, &world.wheels] {
            std::fs::create_dir_all(d).unwrap();
        }
        world
    }

    fn fake(&self) -> Fake {
        Fake { wheels: self.wheels.clone(), ..Fake::default() }
    }

    fn options(&self, jobs: usize) -> Options<'_> {
        Options {
            jobs,
            fail_fast: false,
            run_id: "test",
            workspace: &self.workspace,
            output_dir: &self.output,
            cache_dir: self.cache.clone(),
            offline: true,
            project_digest: "p".into(),
            force: None,
            memory_budget: 64 * GIB,
            registry: None,
            pool: vec![],
        }
    }

    fn run(&self, plan: &Plan, fake: &Fake, opts: &Options, cancel: &Cancel) -> BTreeMap<String, (Status, String)> {
        let cache = cache::JobCache::new(&opts.cache_dir);
        schedule(plan, fake, &cache, opts, cancel, &Progress::new(plan.graph.node_count()))
            .into_iter()
            .map(|r| (r.name, (r.status, r.reason.unwrap_or_default())))
            .collect()
    }

    fn published(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.output)
            .map(|d| d.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect())
            .unwrap_or_default();
        names.sort();
        names
    }
}

const B13: &str = "cp313-manylinux_2_17_x86_64/build";
const T13: &str = "cp313-manylinux_2_17_x86_64/test";
const B14: &str = "cp314-manylinux_2_17_x86_64/build";
const T14: &str = "cp314-manylinux_2_17_x86_64/test";

#[test]
fn every_node_runs_after_its_inputs_and_passing_wheels_are_published() {
    let w = World::new();
    let fake = w.fake();
    let out = w.run(&two_cells(), &fake, &w.options(2), &Cancel::default());
    assert!(out.values().all(|(s, _)| s.is_success()), "{out:?}");
    let ran = fake.ran.lock().unwrap().clone();
    let at = |n: &str| ran.iter().position(|r| r == n).unwrap_or_else(|| panic!("{n} did not run: {ran:?}"));
    assert!(at("base") < at("python/cp313") && at("python/cp313") < at(B13) && at(B13) < at(T13), "{ran:?}");
    assert!(at("python/cp314") < at(B14) && at(B14) < at(T14), "{ran:?}");
    assert_eq!(ran.len(), 7, "each node once: {ran:?}");
    assert_eq!(
        w.published(),
        ["pkg-1.0-cp313-cp313-manylinux_2_17_x86_64.whl", "pkg-1.0-cp314-cp314-manylinux_2_17_x86_64.whl"]
    );
}

#[test]
fn a_failure_skips_what_depends_on_it_and_nothing_else() {
    let w = World::new();
    let fake = Fake { fail: vec![B13.into()], ..w.fake() };
    let out = w.run(&two_cells(), &fake, &w.options(2), &Cancel::default());
    assert_eq!(out[B13], (Status::Failed, "it failed".into()));
    assert_eq!(out[T13], (Status::Skipped, format!("{B13} failed")));
    assert_eq!(out[T14].0, Status::Passed);
    assert!(!fake.ran.lock().unwrap().contains(&T13.to_string()));
    assert_eq!(w.published(), ["pkg-1.0-cp314-cp314-manylinux_2_17_x86_64.whl"]);
}

#[test]
fn a_wheel_whose_tests_fail_is_not_published() {
    let w = World::new();
    let fake = Fake { fail: vec![T14.into()], ..w.fake() };
    let out = w.run(&two_cells(), &fake, &w.options(2), &Cancel::default());
    assert_eq!(out[B14].0, Status::Passed);
    assert_eq!(out[T14].0, Status::Failed);
    assert_eq!(w.published(), ["pkg-1.0-cp313-cp313-manylinux_2_17_x86_64.whl"]);
}

#[test]
fn fail_fast_starts_nothing_after_the_first_failure() {
    let w = World::new();
    let fake = Fake { fail: vec!["python/cp313".into()], ..w.fake() };
    let opts = Options { fail_fast: true, ..w.options(1) };
    let out = w.run(&two_cells(), &fake, &opts, &Cancel::default());
    assert_eq!(out["python/cp313"].0, Status::Failed);
    // With one slot, the other cell had not started: it is reported, not run.
    let not_started: Vec<&String> =
        out.iter().filter(|(_, (_, r))| r == "not started: --fail-fast").map(|(n, _)| n).collect();
    assert!(!not_started.is_empty(), "{out:?}");
    for n in not_started {
        assert!(!fake.ran.lock().unwrap().contains(n), "{n} ran");
    }
    assert!(w.published().is_empty());
}

#[test]
fn cached_results_stand_without_running_and_are_published() {
    let w = World::new();
    let fake = w.fake();
    let opts = w.options(2);
    let cache = cache::JobCache::new(&opts.cache_dir);
    // A build and its test that passed in an earlier run, under the keys the runner gives.
    let wheel = w.wheels.join("pkg-1.0-cp313-cp313-manylinux_2_17_x86_64.whl");
    std::fs::write(&wheel, b"cached").unwrap();
    let build_key = B13.replace('/', "-");
    cache.store(&build_key, &[wheel]).unwrap();
    cache.store(&format!("{build_key}+{}", T13.replace('/', "-")), &[]).unwrap();
    let out = w.run(&two_cells(), &fake, &opts, &Cancel::default());
    assert_eq!(out[B13].0, Status::Cached);
    assert_eq!(out[T13].0, Status::Cached);
    let ran = fake.ran.lock().unwrap().clone();
    assert!(!ran.contains(&B13.to_string()) && !ran.contains(&T13.to_string()), "{ran:?}");
    assert_eq!(w.published().len(), 2);
    // --force runs them again.
    let fake = w.fake();
    let cp313 = crate::config::selector::Glob::new("cp313-*").unwrap();
    let forced = Options { force: Some(crate::config::selector::Patterns(vec![cp313])), ..w.options(2) };
    let out = w.run(&two_cells(), &fake, &forced, &Cancel::default());
    assert_eq!(out[B13].0, Status::Passed);
    assert!(fake.ran.lock().unwrap().contains(&T13.to_string()));
}

#[test]
fn a_test_that_cannot_run_here_is_not_run_and_its_wheel_is_published() {
    let w = World::new();
    let fake = w.fake();
    let p = plan(&[(13, Runner::Native, Runner::NotRunnable { reason: "not runnable on Linux".into() })]);
    let out = w.run(&p, &fake, &w.options(2), &Cancel::default());
    assert_eq!(out[T13], (Status::NotRunnable, "not runnable on Linux".into()));
    assert!(!fake.ran.lock().unwrap().contains(&T13.to_string()));
    assert_eq!(w.published(), ["pkg-1.0-cp313-cp313-manylinux_2_17_x86_64.whl"]);
}

#[test]
fn slots_and_memory_bound_what_runs_at_once() {
    let cells = [
        (11, Runner::Native, Runner::Native),
        (12, Runner::Native, Runner::Native),
        (13, Runner::Native, Runner::Native),
    ];
    // Three slots, room for all: up to three at once.
    let w = World::new();
    let fake = Fake { delay: Duration::from_millis(40), ..w.fake() };
    w.run(&plan(&cells), &fake, &w.options(3), &Cancel::default());
    assert_eq!(fake.most_at_once.load(Ordering::SeqCst), 3);
    // Memory for less than two of any node (tests are assumed 512 MiB, the others 1 GiB): one
    // at a time, though slots are free.
    let fake = Fake { delay: Duration::from_millis(20), ..w.fake() };
    let tight = Options { memory_budget: GIB * 3 / 4, ..w.options(3) };
    w.run(&plan(&cells), &fake, &tight, &Cancel::default());
    assert_eq!(fake.most_at_once.load(Ordering::SeqCst), 1);
    // An emulated build holds two slots: with -j2 nothing runs beside it.
    let w = World::new();
    let qemu = Runner::Qemu { arch: Arch::Aarch64 };
    let fake = Fake { delay: Duration::from_millis(30), ..w.fake() };
    w.run(
        &plan(&[(12, qemu.clone(), Runner::Native), (13, qemu, Runner::Native)]),
        &fake,
        &w.options(2),
        &Cancel::default(),
    );
    let spans = fake.spans.lock().unwrap().clone();
    assert_eq!(spans.len(), 7, "{spans:?}");
    for (name, start, end) in spans.iter().filter(|(n, ..)| n.ends_with("/build")) {
        let beside: Vec<&String> =
            spans.iter().filter(|(n, s, e)| n != name && s < end && e > start).map(|(n, ..)| n).collect();
        assert!(beside.is_empty(), "{name} ran beside {beside:?}");
    }
    assert_eq!(fake.most_at_once.load(Ordering::SeqCst), 2, "layers and tests still run two at once");
}

#[test]
fn ctrl_c_interrupts_the_run_and_starts_nothing_more() {
    let w = World::new();
    let cancel = std::sync::Arc::new(Cancel::default());
    let fake = Fake { cancel_during: Some((B13.into(), cancel.clone())), ..w.fake() };
    let out = w.run(&two_cells(), &fake, &w.options(1), &cancel);
    assert_eq!(out[B13].0, Status::Interrupted);
    assert_eq!(out[T13], (Status::Skipped, format!("{B13} was interrupted")));
    let never: Vec<_> =
        out.iter().filter(|(_, (s, r))| *s == Status::Interrupted && r == "interrupted before it started").collect();
    assert!(!never.is_empty(), "{out:?}");
    assert!(w.published().is_empty());
}

#[test]
fn a_lost_engine_stops_the_run_and_says_so() {
    let w = World::new();
    let fake = Fake { fail: vec!["python/cp313".into()], lose_engine_on_failure: true, ..w.fake() };
    let out = w.run(&two_cells(), &fake, &w.options(1), &Cancel::default());
    assert!(
        out.values().any(|(s, r)| *s == Status::Skipped && r == "not started: the container engine stopped answering"),
        "{out:?}"
    );
}

fn seat(name: &str, arch: Arch, slots: usize) -> Seat {
    Seat { name: name.into(), arch: Some(arch), slots }
}

/// `cells` as [`plan`] makes them, with each cell's Python layer (and so its jobs) of `arch`.
fn plan_of(cells: &[(u8, Arch, Runner)]) -> Plan {
    let mut p = plan(&cells.iter().map(|(m, _, r)| (*m, r.clone(), r.clone())).collect::<Vec<_>>());
    for i in p.graph.node_indices() {
        if let Node::Image(n) = &mut p.graph[i]
            && let Some((_, arch, _)) = cells.iter().find(|(m, _, _)| n.name == format!("python/cp3{m}"))
        {
            n.arch = *arch;
        }
    }
    p
}

#[test]
fn jobs_go_to_an_engine_whose_cpu_runs_them_natively_and_images_stay_on_the_default_one() {
    let w = World::new();
    let fake = w.fake();
    let qemu = Runner::Qemu { arch: Arch::Aarch64 };
    let p = plan_of(&[(13, Arch::Aarch64, qemu.clone()), (14, Arch::X86_64, Runner::Native)]);
    let opts = Options { pool: vec![seat("arm", Arch::Aarch64, 2), seat("x86", Arch::X86_64, 1)], ..w.options(1) };
    let cache = cache::JobCache::new(&opts.cache_dir);
    let reports = schedule(&p, &fake, &cache, &opts, &Cancel::default(), &Progress::new(p.graph.node_count()));
    assert!(reports.iter().all(|r| r.status.is_success()), "{reports:?}");
    let seats = fake.seats.lock().unwrap().clone();
    // The aarch64 cell on the arm64 engine, never emulated on the default one.
    assert_eq!((seats[B13], seats[T13]), (1, 1), "{seats:?}");
    // The x86_64 cell on the x86_64 engines (the default first), layers on the default engine.
    assert!([0, 2].contains(&seats[B14]) && [0, 2].contains(&seats[T14]), "{seats:?}");
    assert_eq!((seats["base"], seats["python/cp313"], seats["python/cp314"]), (0, 0, 0));
    // The report says where jobs ran.
    let on = |n: &str| reports.iter().find(|r| r.name == n).and_then(|r| r.engine.clone());
    assert_eq!(on(B13).as_deref(), Some("arm"));
    assert_eq!(on("base").as_deref(), Some(DEFAULT_SEAT));
}

#[test]
fn without_a_native_engine_the_default_one_emulates_and_the_pool_shares_the_native_jobs() {
    let w = World::new();
    let fake = Fake { delay: Duration::from_millis(30), ..w.fake() };
    let qemu = Runner::Qemu { arch: Arch::Aarch64 };
    let cells: Vec<(u8, Arch, Runner)> =
        vec![(10, Arch::Aarch64, qemu), (11, Arch::X86_64, Runner::Native), (12, Arch::X86_64, Runner::Native)];
    let p = plan_of(&cells);
    let opts = Options { pool: vec![seat("x86", Arch::X86_64, 1)], ..w.options(1) };
    let out = w.run(&p, &fake, &opts, &Cancel::default());
    assert!(out.values().all(|(s, _)| s.is_success()), "{out:?}");
    let seats = fake.seats.lock().unwrap().clone();
    assert_eq!(seats["cp310-manylinux_2_17_x86_64/build"], 0, "emulated where QEMU is: {seats:?}");
    let x86: BTreeSet<usize> =
        seats.iter().filter(|(n, _)| n.starts_with("cp31") && !n.starts_with("cp310")).map(|(_, s)| *s).collect();
    assert_eq!(x86, BTreeSet::from([0, 1]), "both engines took native jobs: {seats:?}");
    assert!(fake.most_at_once.load(Ordering::SeqCst) <= 2, "one slot each");
}

#[test]
fn a_lost_engine_of_the_pool_fails_its_own_job_and_the_rest_go_on_elsewhere() {
    let w = World::new();
    // The first job on the x86 engine fails there and the engine answers no more.
    let fake = Fake { lose_seat: Some(1), delay: Duration::from_millis(20), ..w.fake() };
    let cells =
        [(12, Arch::X86_64, Runner::Native), (13, Arch::X86_64, Runner::Native), (14, Arch::X86_64, Runner::Native)];
    let p = plan_of(&cells);
    // One slot: no second job is on that engine when it is lost, so exactly one fails there.
    let opts = Options { pool: vec![seat("x86", Arch::X86_64, 1)], ..w.options(1) };
    let out = w.run(&p, &fake, &opts, &Cancel::default());
    let seats = fake.seats.lock().unwrap().clone();
    let on_lost: Vec<&String> = seats.iter().filter(|(_, s)| **s == 1).map(|(n, _)| n).collect();
    assert_eq!(on_lost.len(), 1, "nothing more went to the lost engine: {seats:?}");
    let lost_job = on_lost[0].as_str();
    assert_eq!(out[lost_job], (Status::Failed, "the engine stopped answering".into()));
    let failed = out.iter().filter(|(_, (s, _))| *s == Status::Failed).count();
    let skipped = out.iter().filter(|(_, (s, _))| *s == Status::Skipped).count();
    assert_eq!((failed, skipped), (1, if lost_job.ends_with("/build") { 1 } else { 0 }), "{out:?}");
    assert_eq!(out.values().filter(|(s, _)| *s == Status::Passed).count(), 6 - failed - skipped, "{out:?}");
}
