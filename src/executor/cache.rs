//! The job cache: a build job whose inputs are unchanged (its image, the project's content,
//! its command and environment) reuses the wheels of the run that built them, and a test job
//! whose wheel and inputs are unchanged reuses its pass, without starting a container.
//! Entries live in the user cache directory under `jobs/<key>/`.

use crate::plan::JobNode;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub struct JobCache {
    dir: PathBuf,
}

/// Bump when the meaning of a cached result changes.
const FORMAT: &str = "pookie-job-cache-v1";
const PASSED: &str = "passed";

impl JobCache {
    pub fn new(cache_dir: &Path) -> Self {
        JobCache { dir: cache_dir.join("jobs") }
    }

    /// The key of a job: everything it reads. `upstream` is the key of the build whose wheel a
    /// test job installs.
    pub fn key(job: &JobNode, engine: &str, image_tag: &str, project_digest: &str, upstream: Option<&str>) -> String {
        let mut h = Sha256::new();
        for part in [
            FORMAT,
            // A result proves the job ran on that engine: another engine runs it once itself.
            engine,
            image_tag,
            project_digest,
            upstream.unwrap_or(""),
            &serde_json::to_string(job).expect("job nodes serialize"),
            crate::image::JOB_SCRIPT,
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(h.finalize())
    }

    /// The wheels a passed build with this key produced, if they are all still there.
    pub fn wheels(&self, key: &str) -> Option<Vec<PathBuf>> {
        let dir = self.dir.join(key);
        if !dir.join(PASSED).is_file() {
            return None;
        }
        let mut wheels: Vec<PathBuf> = std::fs::read_dir(&dir)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "whl"))
            .collect();
        wheels.sort();
        (!wheels.is_empty()).then_some(wheels)
    }

    pub fn passed(&self, key: &str) -> bool {
        self.dir.join(key).join(PASSED).is_file()
    }

    /// Records a passed job and (for builds) keeps copies of its wheels. The marker is written
    /// last, so an interrupted store is never mistaken for a result.
    pub fn store(&self, key: &str, wheels: &[PathBuf]) -> std::io::Result<()> {
        let dir = self.dir.join(key);
        let tmp = self.dir.join(format!(".{key}.partial"));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp)?;
        for w in wheels {
            let name = w.file_name().ok_or_else(|| std::io::Error::other("wheel without a name"))?;
            std::fs::copy(w, tmp.join(name))?;
        }
        std::fs::write(tmp.join(PASSED), b"")?;
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::rename(&tmp, &dir)
    }
}
