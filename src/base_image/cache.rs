//! The cache of finished archives, one entry per spec: `<name>.tar`, beside it `<name>.json`
//! saying which image the archive holds and for which key (so a hit is loaded without reading
//! the archive), and `<name>.log`, the log of the build that made it.

use super::{BaseImageError, Spec, io_err};
use std::fs;
use std::path::{Path, PathBuf};

/// The default cache of archives: `<pookie's cache dir>/base-images`.
pub fn default_cache_dir() -> PathBuf {
    crate::cache::dir().join("base-images")
}

/// One spec's files in the cache directory.
pub(super) struct Entry {
    /// Stem of the entry's files (and of its work directory while it is built).
    pub(super) name: String,
    pub(super) archive: PathBuf,
    pub(super) log: PathBuf,
    sidecar: PathBuf,
}

/// What the `.json` beside an archive says.
#[derive(serde::Serialize, serde::Deserialize)]
struct Sidecar {
    image_id: String,
    key: String,
    /// What apt-get installed on top of debootstrap.
    packages: Vec<String>,
}

impl Entry {
    pub(super) fn of(dir: &Path, spec: &Spec) -> Entry {
        let name = spec.cache_name();
        Entry {
            archive: dir.join(format!("{name}.tar")),
            log: dir.join(format!("{name}.log")),
            sidecar: dir.join(format!("{name}.json")),
            name,
        }
    }

    /// The id of the image in the archive, when the archive is there and was made for `key`.
    pub(super) fn image_id(&self, key: &str) -> Option<String> {
        if !self.archive.is_file() {
            return None;
        }
        let sidecar: Sidecar = serde_json::from_slice(&fs::read(&self.sidecar).ok()?).ok()?;
        (sidecar.key == key).then_some(sidecar.image_id)
    }

    /// Records what the archive, just written, holds. The sidecar is written whole before it is
    /// renamed into place, so a half-written one never makes a hit.
    pub(super) fn record(&self, image_id: &str, key: &str, packages: Vec<String>) -> Result<(), BaseImageError> {
        let sidecar = Sidecar { image_id: image_id.to_string(), key: key.to_string(), packages };
        let tmp = self.sidecar.with_extension("json.tmp");
        fs::write(&tmp, serde_json::to_vec_pretty(&sidecar).expect("serializes"))
            .and_then(|()| fs::rename(&tmp, &self.sidecar))
            .map_err(io_err(format!("cannot write {}", self.sidecar.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base_image::Variant;
    use crate::target::Arch;

    #[test]
    fn a_hit_needs_the_archive_and_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let spec = Spec::new("sid", Arch::X86_64, Variant::Minbase, None, &[], &[]).unwrap();
        let entry = Entry::of(dir.path(), &spec);
        assert!(entry.name.starts_with("sid-amd64-minbase-"));
        assert_eq!(entry.archive, dir.path().join(format!("{}.tar", entry.name)));
        assert_eq!(entry.log, dir.path().join(format!("{}.log", entry.name)));

        entry.record("sha256:abc", "k1", vec!["python3".into()]).unwrap();
        assert_eq!(entry.image_id("k1"), None, "no archive yet");
        fs::write(&entry.archive, "archive").unwrap();
        assert_eq!(entry.image_id("k1").as_deref(), Some("sha256:abc"));
        assert_eq!(entry.image_id("k2"), None);
        let json: serde_json::Value = serde_json::from_slice(&fs::read(&entry.sidecar).unwrap()).unwrap();
        assert_eq!(json, serde_json::json!({"image_id": "sha256:abc", "key": "k1", "packages": ["python3"]}));
        fs::write(&entry.sidecar, "{").unwrap();
        assert_eq!(entry.image_id("k1"), None, "a broken sidecar is a miss");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2, "no temporary file is left");
    }
}
