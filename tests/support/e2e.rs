//! Helpers of the end-to-end tests: they run the real `pookie` binary against a real container
//! engine and real images. A missing engine or base image fails the test with the fix; it never
//! skips.

pub use super::repo;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Mutex, MutexGuard};

/// Image with Debian sid's CPython 3.13 and 3.14 (`scripts/setup.sh` builds it with `pookie base-image`).
pub fn sid_image() -> String {
    std::env::var("POOKIE_TEST_SID_IMAGE").unwrap_or_else(|_| "debian-pythons:sid".into())
}

/// Where scripts/setup.sh keeps base image archives and CPython mirrors (`POOKIE_CI_CACHE`).
pub fn ci_cache() -> PathBuf {
    std::env::var_os("POOKIE_CI_CACHE").map_or_else(|| PathBuf::from("/var/cache/pookie-ci"), PathBuf::from)
}

pub fn engine() -> &'static str {
    if let Ok(e) = std::env::var("POOKIE_ENGINE") {
        return Box::leak(e.into_boxed_str());
    }
    "docker"
}

/// Runs an engine command, returning stdout; panics with its stderr on failure.
pub fn engine_output(args: &[&str]) -> String {
    let out = std::process::Command::new(engine()).args(args).output().unwrap_or_else(|e| {
        panic!(
            "end-to-end tests need a container engine (`{}`): {e}. `scripts/setup.sh` installs and starts one.",
            engine()
        )
    });
    assert!(out.status.success(), "`{} {}` failed: {}", engine(), args.join(" "), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Fails the test (with the fix) unless the engine answers and `images` exist.
pub fn require(images: &[&str]) {
    let out = std::process::Command::new(engine()).args(["version", "--format", "{{.Server.Version}}"]).output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "end-to-end tests need a running container engine, and `{} version` says: {}. `scripts/setup.sh` starts dockerd.",
            engine(),
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => {
            panic!("end-to-end tests need a container engine (`{}`): {e}. `scripts/setup.sh` installs one.", engine())
        }
    }
    for image in images {
        let ok = std::process::Command::new(engine())
            .args(["image", "inspect", image])
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            ok,
            "image `{image}` is missing: `scripts/setup.sh` builds it with `pookie base-image` (see README.md)"
        );
    }
}

/// pookie runs share images and CPU: one at a time keeps the tests' timings and logs sane.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// The fixture's pookie.toml on the sid image's CPython 3.13 and 3.14 for manylinux x86_64,
/// with its tests; `extra` goes at the top level.
pub fn sid_config(extra: &str) -> String {
    format!(
        r#"targets = ["manylinux_2_17_x86_64"]
test = "python -m unittest discover -v -s {{project}}/tests"
{extra}
[python]
source = "image"
versions = ["3.13", "3.14"]

[images]
linux-x86_64 = "{}"
"#,
        sid_image()
    )
}

/// A copy of the fixture project with the given pookie.toml, and a pookie cache of its own; run
/// on the default engine as the caller unless told otherwise.
pub struct Project {
    pub root: tempfile::TempDir,
    /// What `POOKIE_ENGINE` says to pookie, and which engine the test asks.
    pub engine: String,
    /// The user pookie runs as (with `runuser`), when not the caller.
    pub user: Option<String>,
    /// The user's CPython mirror (`POOKIE_PYTHON_MIRROR`): a directory outside the project,
    /// which a project's own configuration may not name.
    pub mirror: Option<PathBuf>,
}

impl Project {
    pub fn new(pookie_toml: &str) -> Self {
        Project::of(&repo().join("tests/fixtures/project"), pookie_toml)
    }

    /// The same project, run on `engine`.
    /// Runs pookie with `dir` as the user's CPython mirror.
    pub fn with_mirror(mut self, dir: &Path) -> Self {
        self.mirror = Some(dir.to_path_buf());
        self
    }

    pub fn on_engine(mut self, engine: &str) -> Self {
        self.engine = engine.to_string();
        self
    }

    /// The same project, run by `user` (the test runs as root): the project, the cache and a
    /// copy of pookie become that user's.
    pub fn run_by(mut self, user: &str) -> Self {
        // The shared zig bucket is root's: this user's runs make their own.
        std::fs::remove_file(self.root.path().join("cache/zig")).expect("unlink the zig bucket");
        let bin = self.root.path().join("bin");
        std::fs::create_dir_all(&bin).expect("bin dir");
        std::fs::copy(env!("CARGO_BIN_EXE_pookie"), bin.join("pookie")).expect("copy pookie");
        let ok = std::process::Command::new("chown")
            .args(["-R", &format!("{user}:"), &self.root.path().to_string_lossy()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "cannot give {} to {user}", self.root.path().display());
        self.user = Some(user.to_string());
        self
    }

    /// A command run as the project's user (`runuser -u USER -- env HOME=… PROGRAM`), or as is.
    fn user_command(&self, program: &str) -> std::process::Command {
        match &self.user {
            None => std::process::Command::new(program),
            Some(user) => {
                let home = std::process::Command::new("getent")
                    .args(["passwd", user])
                    .output()
                    .ok()
                    .and_then(|o| String::from_utf8_lossy(&o.stdout).split(':').nth(5).map(str::to_string))
                    .unwrap_or_else(|| panic!("no user {user}"));
                let mut c = std::process::Command::new("runuser");
                c.args(["-u", user, "--", "env", "-u", "XDG_RUNTIME_DIR", &format!("HOME={home}"), program]);
                c
            }
        }
    }

    /// Runs an engine command as the project's user, returning stdout; panics with its stderr.
    pub fn engine_output(&self, args: &[&str]) -> String {
        let out = self.user_command(&self.engine).current_dir("/").args(args).output().expect("the engine runs");
        assert!(
            out.status.success(),
            "`{} {}` failed: {}",
            self.engine,
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A copy of the project at `source` with the given pookie.toml: its sources only, as git
    /// would keep them, never the outputs of an earlier run there (`dist/`, `.pookie/`).
    pub fn of(source: &Path, pookie_toml: &str) -> Self {
        let root = tempfile::Builder::new().prefix("pookie-e2e-").tempdir().expect("temp dir");
        pookie::workspace::copy_project(source, &root.path().join("project"), &[source.join("dist")])
            .expect("copy the project");
        std::fs::write(root.path().join("project/pookie.toml"), pookie_toml).expect("write pookie.toml");
        // zig's runtimes (the zig bucket) are the toolchain's, not the project's: the tests share
        // one, as a user's projects share theirs, instead of building libc++ again in each.
        let shared = ci_cache().join("zig-runtimes");
        std::fs::create_dir_all(&shared).expect("the shared zig bucket");
        std::fs::create_dir_all(root.path().join("cache")).expect("cache dir");
        std::os::unix::fs::symlink(&shared, root.path().join("cache/zig")).expect("link the zig bucket");
        Project { root, engine: engine().to_string(), user: None, mirror: None }
    }

    pub fn dir(&self) -> PathBuf {
        self.root.path().join("project")
    }

    pub fn cache(&self) -> PathBuf {
        self.root.path().join("cache")
    }

    pub fn command(&self) -> std::process::Command {
        let mut c = match &self.user {
            None => std::process::Command::new(env!("CARGO_BIN_EXE_pookie")),
            Some(_) => self.user_command(&self.root.path().join("bin/pookie").to_string_lossy()),
        };
        // runuser passes the environment on.
        c.current_dir(self.dir()).env("POOKIE_CACHE_DIR", self.cache()).env("POOKIE_ENGINE", &self.engine);
        // The machine's own configuration, if it has one, is not the test's.
        c.env_remove("POOKIE_CONFIG").env("XDG_CONFIG_HOME", self.root.path().join("xdg-config"));
        match &self.mirror {
            Some(m) => c.env("POOKIE_PYTHON_MIRROR", m),
            None => c.env_remove("POOKIE_PYTHON_MIRROR"),
        };
        c
    }

    /// Runs pookie with `args`, echoing its output into the test log.
    pub fn pookie(&self, args: &[&str]) -> Output {
        let out = self.command().args(args).output().expect("pookie runs");
        eprintln!(
            "$ pookie {}\n--- stdout\n{}--- stderr\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub fn wheels(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.dir().join("dist"))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".whl"))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir().join(".pookie/logs").join(name)).unwrap_or_default()
    }

    pub fn report(&self, path: &Path) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(path).expect("report written")).expect("report is JSON")
    }

    /// The plan as `pookie plan --format json` prints it, with the same flags.
    pub fn plan(&self, args: &[&str]) -> serde_json::Value {
        let mut a = vec!["plan", "--format", "json"];
        a.extend(args);
        let out = self.command().args(&a).output().expect("pookie plan runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("plan is JSON")
    }

    /// Every file of the project except pookie's own places, with its content.
    pub fn user_tree(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut out = BTreeMap::new();
        walk(&self.dir(), &self.dir(), &mut out);
        out
    }
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for e in std::fs::read_dir(dir).expect("readable dir") {
        let e = e.expect("dir entry");
        let rel = e.path().strip_prefix(root).expect("inside root").to_path_buf();
        if rel == Path::new("dist") || rel == Path::new(".pookie") {
            continue;
        }
        if e.file_type().expect("file type").is_dir() {
            out.insert(rel.clone(), b"<dir>".to_vec());
            walk(root, &e.path(), out);
        } else {
            out.insert(rel, std::fs::read(e.path()).expect("readable file"));
        }
    }
}

/// Jobs of a `--report` JSON by (build id, stage) → status.
pub fn job_statuses(report: &serde_json::Value) -> BTreeMap<(String, String), String> {
    report["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter(|n| n["kind"] == "job")
        .map(|n| {
            (
                (n["build_id"].as_str().unwrap().to_string(), n["stage"].as_str().unwrap().to_string()),
                n["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub fn image_statuses(report: &serde_json::Value) -> BTreeMap<String, String> {
    report["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter(|n| n["kind"] == "image")
        .map(|n| (n["name"].as_str().unwrap().to_string(), n["status"].as_str().unwrap().to_string()))
        .collect()
}

/// The bytes of the first file in the wheel whose name ends with `suffix`.
pub fn wheel_member(wheel: &Path, suffix: &str) -> Vec<u8> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(wheel).expect("wheel opens")).expect("wheel is a zip");
    let name = z
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.to_string()))
        .find(|n| n.ends_with(suffix))
        .unwrap_or_else(|| panic!("no *{suffix} in wheel"));
    let mut buf = Vec::new();
    z.by_name(&name).expect("member").read_to_end(&mut buf).expect("member reads");
    buf
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// An override that makes the fixture's tests fail for cp314 only.
pub const FAILING_CP314: &str = r#"
[[overrides]]
select = "cp314-*"
env = { FIXTURE_FAIL = "1" }
"#;

/// Runs a project configured with [`FAILING_CP314`]: the run fails, every other job passes, the
/// summary says why, and only the tested wheel is delivered.
pub fn a_failing_test_fails_only_its_job(p: &Project) {
    let report = p.root.path().join("report.json");
    let out = p.pookie(&["run", "--report", report.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "a failing test must fail the run");
    let jobs = job_statuses(&p.report(&report));
    let get = |id: &str, stage: &str| jobs[&(id.to_string(), stage.to_string())].as_str();
    assert_eq!(get("cp313-manylinux_2_17_x86_64", "build"), "passed");
    assert_eq!(get("cp313-manylinux_2_17_x86_64", "test"), "passed");
    assert_eq!(get("cp314-manylinux_2_17_x86_64", "build"), "passed");
    assert_eq!(get("cp314-manylinux_2_17_x86_64", "test"), "failed");
    let summary = stdout(&out);
    let row = summary.lines().find(|l| l.starts_with("cp314-manylinux_2_17_x86_64") && l.contains(" test ")).unwrap();
    assert!(row.contains("FAILED") && row.contains("the tests failed"), "{row}");
    assert!(p.log("cp314-manylinux_2_17_x86_64-test.log").contains("this test fails on purpose"));
    let wheels = p.wheels();
    assert_eq!(wheels.len(), 1, "{wheels:?}");
    assert!(wheels[0].contains("-cp313-"), "{wheels:?}");
}

/// Interrupts a run of a project whose builds sleep, once their containers run: pookie exits
/// with 130, says what was interrupted, and leaves no container and no wheel.
pub fn ctrl_c_leaves_no_container_and_no_wheel(p: &Project) {
    let mut child = spawn_run(p, &[]);
    let ours = ["ps", "-aq", "--filter", "label=org.pookie.managed=true", "--filter", "name=pookie-"];
    // Wait until the builds' containers run (images may have to be built first).
    let started = std::time::Instant::now();
    loop {
        let ids =
            p.engine_output(&["ps", "-q", "--filter", "label=org.pookie.managed=true", "--filter", "name=pookie-"]);
        if ids.split_whitespace().count() >= 1 {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(600), "no job container started");
        assert!(child.try_wait().unwrap().is_none(), "pookie exited before its jobs ran");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // With runuser in between, the signal goes to pookie itself (runuser's child).
    let pid = match &p.user {
        None => child.id() as i32,
        Some(_) => {
            let out = std::process::Command::new("pgrep").args(["-P", &child.id().to_string()]).output().unwrap();
            String::from_utf8_lossy(&out.stdout).trim().parse().expect("pookie runs under runuser")
        }
    };
    unsafe { libc::kill(pid, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    eprintln!("{err}");
    assert_eq!(out.status.code(), Some(130), "an interrupted run exits with 130");
    assert!(err.contains("interrupted"), "{err}");
    assert!(err.contains("cp313-manylinux_2_17_x86_64/build"), "it must say what was interrupted: {err}");
    let left = p.engine_output(&ours);
    assert!(left.trim().is_empty(), "containers left behind: {left}");
    assert!(p.wheels().is_empty());
    let partial: Vec<_> = std::fs::read_dir(p.dir()).unwrap().filter_map(|e| e.ok()).collect();
    assert!(partial.iter().all(|e| !e.file_name().to_string_lossy().contains("partial")));
}

/// The summary table's row of one job.
pub fn summary_row<'a>(stdout: &'a str, id: &str, stage: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.split_whitespace().take(2).eq([id, stage]))
        .unwrap_or_else(|| panic!("no summary row for {id} {stage}:\n{stdout}"))
}

/// The CPython mirror scripts/setup.sh makes (musl x86_64 and aarch64, Debian's x86_64 with its
/// headers); `POOKIE_TEST_PYTHON_MIRROR` names another.
pub fn python_mirror() -> PathBuf {
    mirror_dir("POOKIE_TEST_PYTHON_MIRROR", "python-mirror", "scripts/ci-python-mirror.sh")
}

/// The Windows/macOS CPython mirror scripts/setup.sh makes; `POOKIE_TEST_WIN_MAC_MIRROR` names
/// another.
pub fn win_mac_mirror() -> PathBuf {
    mirror_dir("POOKIE_TEST_WIN_MAC_MIRROR", "python-mirror-win-mac", "scripts/ci-python-mirror-win-mac.sh")
}

/// The free-threaded CPython mirror scripts/setup.sh makes (x86_64, CPython 3.13 built with
/// --disable-gil); `POOKIE_TEST_FREE_THREADED_MIRROR` names another.
pub fn free_threaded_mirror() -> PathBuf {
    mirror_dir(
        "POOKIE_TEST_FREE_THREADED_MIRROR",
        "python-mirror-freethreaded",
        "scripts/ci-python-mirror-freethreaded.sh",
    )
}

fn mirror_dir(var: &str, name: &str, script: &str) -> PathBuf {
    let dir = std::env::var_os(var).map_or_else(|| ci_cache().join(name), PathBuf::from);
    assert!(
        dir.join("SHA256SUMS").is_file(),
        "no CPython mirror at {}: scripts/setup.sh --tests builds it with {script}",
        dir.display()
    );
    dir
}

/// `pookie run ARGS` started in the background, its output captured.
pub fn spawn_run(p: &Project, args: &[&str]) -> std::process::Child {
    p.command()
        .arg("run")
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("pookie starts")
}

/// Debian's docker-registry (the CNCF distribution registry, which scripts/setup.sh installs)
/// on a free loopback port, storing into a directory of its own; stopped when dropped.
pub struct Registry {
    /// `127.0.0.1:PORT`
    pub host: String,
    child: std::process::Child,
    storage: tempfile::TempDir,
}

impl Registry {
    pub fn start() -> Registry {
        let program = "/usr/bin/docker-registry";
        assert!(
            Path::new(program).exists(),
            "{program} is missing: run scripts/setup.sh --tests (Debian's docker-registry)"
        );
        let storage = tempfile::tempdir().expect("registry storage");
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port();
        let host = format!("127.0.0.1:{port}");
        let config = storage.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {host}\n",
                storage.path().join("data").display()
            ),
        )
        .expect("registry config");
        let child = std::process::Command::new(program)
            .arg("serve")
            .arg(&config)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(storage.path().join("registry.log")).expect("registry log"))
            .spawn()
            .expect("start docker-registry");
        let registry = Registry { host, child, storage };
        for _ in 0..100 {
            if std::net::TcpStream::connect(&registry.host).is_ok() {
                return registry;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("docker-registry does not answer on {}", registry.host);
    }

    /// The file the registry keeps the blob with this sha256 in (its filesystem storage).
    pub fn blob(&self, sha256: &str) -> std::path::PathBuf {
        self.storage.path().join("data/docker/registry/v2/blobs/sha256").join(&sha256[..2]).join(sha256).join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A second Docker daemon on this machine, as a fresh engine: its own socket, data root (an
/// empty image store) and bridge. Told to leave iptables alone (the first daemon's rules live
/// there), it gets its bridge's NAT rules from here, so that its jobs reach package indexes as
/// a remote machine's do. Stopped, and its bridge and rules removed, when dropped.
pub struct SecondEngine {
    /// `unix:///…/docker.sock`, for DOCKER_HOST.
    pub host: String,
    bridge: String,
    /// N of its bridge's 10.199.N.0/24.
    subnet: u32,
    child: std::process::Child,
    dir: tempfile::TempDir,
    killed: bool,
}

/// Starts a dockerd whose files are in `dir`, on `bridge`.
fn dockerd(dir: &Path, bridge: &str) -> std::process::Child {
    std::process::Command::new("dockerd")
        .arg("--host")
        .arg(format!("unix://{}", dir.join("docker.sock").display()))
        .arg("--data-root")
        .arg(dir.join("data"))
        .arg("--exec-root")
        .arg(dir.join("exec"))
        .arg("--pidfile")
        .arg(dir.join("docker.pid"))
        .args(["--bridge", bridge, "--iptables=false", "--ip-masq=false"])
        .stdout(std::process::Stdio::null())
        .stderr(
            std::fs::OpenOptions::new().create(true).append(true).open(dir.join("dockerd.log")).expect("dockerd log"),
        )
        .spawn()
        .expect("dockerd starts (Debian's docker.io)")
}

impl SecondEngine {
    pub fn start() -> SecondEngine {
        assert_eq!(unsafe { libc::getuid() }, 0, "a second dockerd needs root (scripts/test.sh runs as root)");
        let dir = tempfile::Builder::new().prefix("pookie-engine-").tempdir_in("/var/tmp").expect("engine dir");
        // Tests of one binary run side by side: each engine its own bridge and subnet.
        static STARTED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let i = STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let n = (std::process::id() + i) % 250;
        let bridge = format!("pookie-e{}-{i}", std::process::id() % 10_000);
        let ip = |args: &[&str]| {
            let ok = std::process::Command::new("ip").args(args).status().is_ok_and(|s| s.success());
            assert!(ok, "ip {} failed", args.join(" "));
        };
        // One left by an earlier run that was killed.
        let _ = std::process::Command::new("ip")
            .args(["link", "del", &bridge])
            .stderr(std::process::Stdio::null())
            .status();
        ip(&["link", "add", &bridge, "type", "bridge"]);
        ip(&["addr", "add", &format!("10.199.{n}.1/24"), "dev", &bridge]);
        ip(&["link", "set", &bridge, "up"]);
        for rule in nat_rules(&bridge, n) {
            let ok =
                std::process::Command::new("iptables").args(["-I"]).args(&rule).status().is_ok_and(|s| s.success());
            assert!(ok, "iptables -I {} failed", rule.join(" "));
        }
        let socket = dir.path().join("docker.sock");
        let child = dockerd(dir.path(), &bridge);
        let host = format!("unix://{}", socket.display());
        let engine = SecondEngine { host, bridge, subnet: n, child, dir, killed: false };
        engine.wait_until_it_answers();
        engine
    }

    fn wait_until_it_answers(&self) {
        for _ in 0..300 {
            if self.docker(&["info", "--format", "{{.ID}}"]).status.success() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let log = std::fs::read_to_string(self.dir.path().join("dockerd.log")).unwrap_or_default();
        panic!("the second dockerd does not answer on {}:\n{log}", self.host);
    }

    /// Kills the daemon (SIGKILL, as a machine that goes away): it answers no more. When
    /// dropped, it is started again once, which stops what it left running, and stopped.
    pub fn kill(&mut self) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGKILL) };
        let _ = self.child.wait();
        self.killed = true;
    }

    /// `docker ARGS` against this engine.
    pub fn docker(&self, args: &[&str]) -> Output {
        std::process::Command::new("docker").env("DOCKER_HOST", &self.host).args(args).output().expect("docker runs")
    }

    /// Copies `image` from the first engine, as a CI runner pulls its base image.
    pub fn load(&self, image: &str) {
        let mut save = std::process::Command::new("docker")
            .env_remove("DOCKER_HOST")
            .args(["save", image])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("docker save runs");
        let load = std::process::Command::new("docker")
            .env("DOCKER_HOST", &self.host)
            .arg("load")
            .stdin(save.stdout.take().expect("save's output"))
            .output()
            .expect("docker load runs");
        assert!(save.wait().is_ok_and(|s| s.success()), "docker save {image} failed");
        assert!(load.status.success(), "loading {image}: {}", String::from_utf8_lossy(&load.stderr));
    }
}

/// The iptables rules (chain and match, for `-I` and `-D`) that let the containers on `bridge`
/// (10.199.N.0/24) out through this machine.
fn nat_rules(bridge: &str, n: u32) -> Vec<Vec<String>> {
    let subnet = format!("10.199.{n}.0/24");
    let rule = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<String>>();
    vec![
        rule(&["POSTROUTING", "-t", "nat", "-s", &subnet, "!", "-o", bridge, "-j", "MASQUERADE"]),
        rule(&["FORWARD", "-i", bridge, "-j", "ACCEPT"]),
        rule(&["FORWARD", "-o", bridge, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"]),
    ]
}

impl Drop for SecondEngine {
    fn drop(&mut self) {
        if self.killed {
            // A new daemon on the same store stops the containers the killed one left.
            self.child = dockerd(self.dir.path(), &self.bridge);
            self.wait_until_it_answers();
        }
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
        // dockerd binds its data root over itself; one that did not end cleanly leaves it.
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path().join("data"))
            .stderr(std::process::Stdio::null())
            .status();
        for rule in nat_rules(&self.bridge, self.subnet) {
            let _ = std::process::Command::new("iptables").arg("-D").args(&rule).status();
        }
        let _ = std::process::Command::new("ip").args(["link", "del", &self.bridge]).status();
    }
}
