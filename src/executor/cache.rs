//! The job cache: a build job whose inputs are unchanged (its image, by ID, the project's content,
//! its command and environment) reuses the wheels of the run that built them, and a test job
//! whose wheel and inputs are unchanged reuses its pass, without starting a container.
//! Entries live in the user cache directory under `jobs/<key>/`.

use crate::cache::Bucket;
use crate::plan::JobNode;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub struct JobCache {
    dir: PathBuf,
}

/// Bump when the meaning of a cached result changes.
const FORMAT: &str = "pookie-job-cache-v2";
const PASSED: &str = "passed";

impl JobCache {
    pub fn new(cache_dir: &Path) -> Self {
        JobCache { dir: Bucket::Jobs.in_dir(cache_dir) }
    }

    /// The key of a job: everything it reads (`images`: the IDs of the images it runs in).
    /// `upstream` is the key of the build whose wheel a test job installs.
    pub fn key(job: &JobNode, engine: &str, images: &str, project_digest: &str, upstream: Option<&str>) -> String {
        let mut h = Sha256::new();
        for part in [
            FORMAT,
            // A result proves the job ran on that engine: another engine runs it once itself.
            engine,
            images,
            project_digest,
            upstream.unwrap_or(""),
            &serde_json::to_string(job).expect("job nodes serialize"),
            crate::image::JOB_SCRIPT,
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        // The values of passed variables are inputs too (only their digest is kept here).
        for name in &job.env_pass {
            let value = std::env::var_os(name).map(|v| v.into_encoded_bytes());
            h.update([u8::from(value.is_some())]);
            let value = value.unwrap_or_default();
            h.update((value.len() as u64).to_le_bytes());
            h.update(&value);
        }
        hex::encode(h.finalize())
    }

    /// The wheels a passed build with this key produced, if they are all still there and
    /// unchanged: each is checked against the digest recorded with it. A damaged entry is
    /// removed, and the job runs again.
    pub fn wheels(&self, key: &str) -> Option<Vec<PathBuf>> {
        let dir = self.dir.join(key);
        let recorded = std::fs::read_to_string(dir.join(PASSED)).ok()?;
        let mut wheels = Vec::new();
        for line in recorded.lines() {
            let intact = line.split_once("  ").and_then(|(digest, name)| {
                let plain = Path::new(name).file_name().is_some_and(|n| n == name) && name.ends_with(".whl");
                let path = dir.join(name);
                (plain && crate::digest::sha256_file(&path).ok()? == digest).then_some(path)
            });
            match intact {
                Some(path) => wheels.push(path),
                None => {
                    let _ = std::fs::remove_dir_all(&dir);
                    return None;
                }
            }
        }
        wheels.sort();
        (!wheels.is_empty()).then_some(wheels)
    }

    /// The bucket's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn passed(&self, key: &str) -> bool {
        self.dir.join(key).join(PASSED).is_file()
    }

    /// Records a passed job and (for builds) keeps copies of its wheels, with their sha256 in
    /// the marker (`<sha256>  <name>` lines, as sha256sum writes them). The marker is written
    /// last, so an interrupted store is never mistaken for a result.
    pub fn store(&self, key: &str, wheels: &[PathBuf]) -> std::io::Result<()> {
        let dir = self.dir.join(key);
        let tmp = self.dir.join(format!(".{key}.partial"));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp)?;
        let mut marker = String::new();
        for w in wheels {
            let name = w.file_name().ok_or_else(|| std::io::Error::other("wheel without a name"))?;
            let copy = tmp.join(name);
            std::fs::copy(w, &copy)?;
            marker.push_str(&format!("{}  {}\n", crate::digest::sha256_file(&copy)?, name.to_string_lossy()));
        }
        std::fs::write(tmp.join(PASSED), marker)?;
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::rename(&tmp, &dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_or_missing_wheel_is_a_miss_and_the_entry_goes() {
        let cache_dir = tempfile::tempdir().unwrap();
        let cache = JobCache::new(cache_dir.path());
        let src = tempfile::tempdir().unwrap();
        let wheel = src.path().join("p-1.0-cp312-cp312-linux_x86_64.whl");
        std::fs::write(&wheel, b"PK wheel bytes").unwrap();

        cache.store("k", std::slice::from_ref(&wheel)).unwrap();
        let kept = cache.wheels("k").expect("a stored entry is found");
        assert_eq!(std::fs::read(&kept[0]).unwrap(), b"PK wheel bytes");

        // Same size, one byte changed: the digest tells.
        std::fs::write(&kept[0], b"PK wheel bytez").unwrap();
        assert!(cache.wheels("k").is_none());
        assert!(!cache_dir.path().join("jobs/k").exists(), "the damaged entry is removed");

        cache.store("k", std::slice::from_ref(&wheel)).unwrap();
        std::fs::remove_file(&cache.wheels("k").unwrap()[0]).unwrap();
        assert!(cache.wheels("k").is_none(), "a missing wheel is a miss");

        // A marker naming a path outside the entry is no entry.
        cache.store("k", std::slice::from_ref(&wheel)).unwrap();
        let digest = crate::digest::sha256_file(&wheel).unwrap();
        std::fs::write(cache_dir.path().join("jobs/k/passed"), format!("{digest}  ../../{}\n", "x.whl")).unwrap();
        assert!(cache.wheels("k").is_none());
    }
}
