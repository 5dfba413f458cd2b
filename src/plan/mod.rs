//! The plan: a DAG of image layers and jobs that [`planner::plan`] derives from the settings and
//! the matrix, and that `pookie plan` prints and `pookie run` executes. Each node carries all
//! that executing it needs, so the executor makes no decisions of its own.

pub mod layout;
pub mod planner;
pub mod render;
pub mod shard;

use crate::build_id::BuildId;
use crate::image::Recipe;
use crate::python::Archive;
use crate::target::{Arch, Family, Repair};
use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

pub use planner::plan;

#[derive(Debug)]
pub struct Plan {
    /// Edges point from a node to the nodes that depend on it.
    pub graph: DiGraph<Node, ()>,
    /// python-build-standalone release the archives come from, when the index was used.
    pub release: Option<String>,
    /// Things the user should know that do not stop planning (e.g. unresolved versions).
    pub warnings: Vec<String>,
    /// The settings taken from the machine's configuration file, and which file.
    pub machine: Option<crate::config::machine::MachineSettings>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "node", rename_all = "lowercase")]
pub enum Node {
    Image(ImageNode),
    Job(JobNode),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    Base,
    Toolchain,
    /// The project's `before-all` hook, over a build image's toolchain.
    #[serde(rename = "before-all")]
    BeforeAll,
    Python,
}

/// What a toolchain layer installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Toolchain {
    Gcc,
    Clang,
    /// zig: C/C++ cross compiler for every non-native target, and musl's compiler everywhere.
    Zig,
    /// Wine, to run Windows interpreters.
    Wine,
    /// No compiler: images that only run tests.
    Runtime,
}

impl Toolchain {
    pub fn as_str(self) -> &'static str {
        match self {
            Toolchain::Gcc => "gcc",
            Toolchain::Clang => "clang",
            Toolchain::Zig => "zig",
            Toolchain::Wine => "wine",
            Toolchain::Runtime => "runtime",
        }
    }
}

/// A file placed in an image's build context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ContextFile {
    /// A python-build-standalone archive, downloaded and verified on the host.
    Archive { path: String, archive: Archive },
    /// The CA bundle to trust (empty when none is configured).
    CaBundle { path: String, source: Option<PathBuf>, sha256: String },
    /// Files of the project (`before-all-inputs`), relative to `root` (the workspace, left out
    /// of the plan as every absolute path), with their digest.
    Project {
        path: String,
        #[serde(skip)]
        root: PathBuf,
        files: Vec<PathBuf>,
        sha256: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct ImageNode {
    /// Readable, unique name: `base/linux-x86_64`, `toolchain/linux-x86_64/gcc`,
    /// `python/linux-x86_64/gcc/cp312`.
    pub name: String,
    pub layer: Layer,
    pub family: Family,
    pub arch: Arch,
    /// What builds it (its Dockerfile and files); printed by its name.
    pub recipe: &'static Recipe,
    /// Image this layer is built `FROM`: the family's base image or the parent layer's tag; None
    /// while the parent's tag is unresolved.
    pub from: Option<String>,
    pub args: BTreeMap<String, String>,
    pub context: Vec<ContextFile>,
    /// Other images the recipe copies files from (`COPY --from`), e.g. the target's headers for
    /// a cross layer. Like the parent, a change of one of them rebuilds the layer.
    pub sources: Vec<String>,
    /// Content-hash tag; None while a Python archive is unresolved.
    pub tag: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Build,
    Test,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Build => "build",
            Stage::Test => "test",
        }
    }
}

/// Where a job's processes run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Runner {
    /// A container on the host's CPU.
    Native,
    /// A container of another architecture, under QEMU user emulation.
    Qemu { arch: Arch },
    /// Windows binaries under Wine in an x86_64 container.
    Wine,
    /// Cannot run on this host; the reason is shown instead of a result.
    NotRunnable { reason: String },
    /// A test the configuration skips (`test-skip`): its wheel is delivered untested.
    Skipped { reason: String },
}

impl Runner {
    pub fn label(&self) -> String {
        match self {
            Runner::Native => "native".into(),
            Runner::Qemu { arch } => format!("qemu-{}", arch.as_str()),
            Runner::Wine => "wine".into(),
            Runner::NotRunnable { .. } => "not runnable on Linux".into(),
            Runner::Skipped { .. } => "skipped".into(),
        }
    }

    /// Why the job runs no container, when it does not.
    pub fn not_run_reason(&self) -> Option<&str> {
        match self {
            Runner::NotRunnable { reason } | Runner::Skipped { reason } => Some(reason),
            _ => None,
        }
    }
}

/// A host directory mounted into a job's container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mount {
    pub host: HostDir,
    pub container: String,
    pub read_only: bool,
}

/// Where a mounted host directory is. The plan holds no absolute path, so it reads the same on
/// every machine; the executor resolves these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostDir {
    /// Relative to the workspace: the job's own directory.
    Workspace(PathBuf),
    /// Relative to pookie's cache directory: caches shared by jobs and runs.
    Cache(PathBuf),
}

#[derive(Debug, Clone, Serialize)]
pub struct JobNode {
    /// `cp312-manylinux_2_17_x86_64/build`.
    pub name: String,
    pub id: BuildId,
    pub stage: Stage,
    /// Name of the image node the job runs in (None when not runnable).
    pub image: Option<String>,
    /// Tests under QEMU of a cross build: the build's (native) image, where the wheel and the
    /// test requirements are installed for the target before the tests run, so that pip does
    /// not run emulated (images/job.sh's `install` stage). None: the test job installs them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub install_image: Option<String>,
    pub runner: Runner,
    /// The user's command (build or test), run by bash.
    pub command: String,
    /// `before-build` or `before-test`: run by bash in the job's copy of the project first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// Variables of pookie's environment handed to the job by name (`environment-pass`): their
    /// values are read when the job starts, never written into the plan.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env_pass: Vec<String>,
    pub test_requires: Vec<String>,
    pub env: BTreeMap<String, String>,
    /// The job's own directory (its copy of the project, its outputs), relative to the workspace.
    pub dir: PathBuf,
    pub log: PathBuf,
    pub mounts: Vec<Mount>,
    pub repair: Repair,
    /// A build that must produce a stable-ABI (`abi3`) wheel.
    pub abi3: bool,
    /// Where finished wheels land, relative to the workspace (build jobs).
    pub output_dir: Option<PathBuf>,
    pub timeout_secs: Option<u64>,
}

impl Plan {
    pub fn images(&self) -> impl Iterator<Item = (NodeIndex, &ImageNode)> {
        self.graph.node_indices().filter_map(|i| match &self.graph[i] {
            Node::Image(n) => Some((i, n)),
            Node::Job(_) => None,
        })
    }

    pub fn jobs(&self) -> impl Iterator<Item = (NodeIndex, &JobNode)> {
        self.graph.node_indices().filter_map(|i| match &self.graph[i] {
            Node::Job(n) => Some((i, n)),
            Node::Image(_) => None,
        })
    }

    /// Names of the nodes `i` waits for.
    pub fn dependencies(&self, i: NodeIndex) -> Vec<String> {
        let mut deps: Vec<NodeIndex> = self.graph.neighbors_directed(i, petgraph::Direction::Incoming).collect();
        deps.sort();
        deps.into_iter().map(|d| self.graph[d].name().to_string()).collect()
    }
}

impl Node {
    pub fn name(&self) -> &str {
        match self {
            Node::Image(n) => &n.name,
            Node::Job(n) => &n.name,
        }
    }
}
