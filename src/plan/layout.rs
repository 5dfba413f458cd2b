//! The job contract's places, owned here: a job's own directory under the workspace's state
//! directory, what it holds (images/job.sh's header lists the same entries), where it appears
//! inside the container, and the logs of jobs and image layers.

use crate::build_id::BuildId;
use crate::plan::Stage;
use crate::workspace::STATE_DIR;
use std::path::{Path, PathBuf};

/// Where the job's directory appears inside its container.
pub const JOB_MOUNT: &str = "/pookie/job";

/// An entry of a job's directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobEntry {
    /// The job's private copy of the project (the working directory of builds).
    Src,
    /// images/job.sh itself.
    Script,
    /// The user's build or test command.
    Command,
    /// before-build or before-test.
    Before,
    /// Test requirements (and, in cross builds, those to prepare for the target).
    TestRequires,
    /// Build: where the command leaves wheels.
    Wheels,
    /// Build: the repaired wheels pookie collects.
    Out,
    /// Test: the wheel to install.
    Wheel,
    /// Test: the wheel and the test requirements installed for the target by the install stage
    /// (a site directory; `.pookie-installed` in it once complete).
    Site,
}

impl JobEntry {
    pub const fn name(self) -> &'static str {
        match self {
            JobEntry::Src => "src",
            JobEntry::Script => "job.sh",
            JobEntry::Command => "command.sh",
            JobEntry::Before => "before.sh",
            JobEntry::TestRequires => "test-requires.txt",
            JobEntry::Wheels => "wheels",
            JobEntry::Out => "out",
            JobEntry::Wheel => "wheel",
            JobEntry::Site => "site",
        }
    }

    /// The entry in the job's directory `dir` on the host.
    pub fn on_host(self, dir: &Path) -> PathBuf {
        dir.join(self.name())
    }

    /// The entry as the job's container sees it.
    pub fn in_container(self) -> String {
        format!("{JOB_MOUNT}/{}", self.name())
    }
}

/// A job's own directory, relative to the workspace.
pub fn job_dir(id: &BuildId, stage: Stage) -> PathBuf {
    PathBuf::from(STATE_DIR).join("jobs").join(format!("{id}-{}", stage.as_str()))
}

/// A job's log, relative to the workspace.
pub fn job_log(id: &BuildId, stage: Stage) -> PathBuf {
    PathBuf::from(STATE_DIR).join("logs").join(format!("{id}-{}.log", stage.as_str()))
}

/// An image layer's log, relative to the workspace.
pub fn image_log(layer: &str) -> PathBuf {
    PathBuf::from(STATE_DIR).join("logs").join(format!("image-{}.log", layer.replace('/', "-")))
}

/// Where wheels wait, in the workspace, before they are renamed into the output directory.
pub fn staging_dir(workspace: &Path) -> PathBuf {
    workspace.join(STATE_DIR).join("tmp")
}
