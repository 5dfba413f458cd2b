//! The image archive: a root file system as the single layer of a `docker save`-format tar, with
//! an image config that carries the right architecture, so `docker load` needs no `--platform`.

use super::tar::TarWriter;
use super::{BaseImageError, DEFAULT_PATH, io_err};
use crate::process::Cancel;
use crate::target::Arch;
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Seek, Write};
use std::path::Path;

/// What the image config says besides its layer.
#[derive(Clone, Debug)]
pub struct ImageMeta {
    pub arch: Arch,
    pub env: Vec<String>,
    pub cmd: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// RFC 3339, in whole seconds
    pub created: String,
    pub created_by: String,
}

impl ImageMeta {
    /// PATH, `bash` as the command, created now.
    pub fn new(arch: Arch) -> ImageMeta {
        ImageMeta {
            arch,
            env: vec![DEFAULT_PATH.to_string()],
            cmd: vec!["bash".to_string()],
            labels: BTreeMap::new(),
            created: Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            created_by: "pookie base-image".to_string(),
        }
    }
}

/// The image config JSON (its sha256 is the image id).
pub fn image_config(meta: &ImageMeta, diff_id: &str) -> Vec<u8> {
    let mut config = serde_json::json!({
        "architecture": meta.arch.oci(),
        "os": "linux",
        "created": meta.created,
        "config": {
            "Env": meta.env,
            "Cmd": meta.cmd,
            "Labels": meta.labels,
        },
        "rootfs": { "type": "layers", "diff_ids": [diff_id] },
        "history": [{ "created": meta.created, "created_by": meta.created_by }],
    });
    if let Some(v) = meta.arch.oci_variant() {
        config["variant"] = v.into();
    }
    serde_json::to_vec(&config).expect("a JSON value serializes")
}

/// What [`write_image_archive`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveInfo {
    /// `sha256:` + sha256 of the config: the id the engine gives the image.
    pub image_id: String,
    /// `sha256:` + sha256 of the uncompressed layer tar.
    pub diff_id: String,
    pub layer_size: u64,
}

/// Path of the layer inside the archive.
const LAYER_PATH: &str = "layer/layer.tar";

/// Writes a `docker save`-format archive of one layer: the layer tar is streamed from `layer`
/// (hashed on the way), followed by the image config and manifest.json. `repo_tags` may be
/// empty (the image is then loaded untagged, by id).
pub fn write_image_archive<R: Read, W: Write + Seek>(
    layer: R,
    meta: &ImageMeta,
    repo_tags: &[String],
    out: &mut W,
) -> io::Result<ArchiveInfo> {
    let mtime = u64::try_from(Timestamp::now().as_second()).unwrap_or(0);
    let mut tar = TarWriter::new(out, mtime);
    tar.dir("layer/")?;
    let mut hasher = Sha256::new();
    let layer_size = tar.stream_file(LAYER_PATH, layer, |chunk| hasher.update(chunk))?;

    let diff_id = format!("sha256:{}", hex::encode(hasher.finalize()));
    let config = image_config(meta, &diff_id);
    let config_hex = hex::encode(Sha256::digest(&config));
    let config_name = format!("{config_hex}.json");
    tar.file(&config_name, &config)?;
    let manifest = serde_json::to_vec(&serde_json::json!([{
        "Config": config_name,
        "RepoTags": if repo_tags.is_empty() { serde_json::Value::Null } else { repo_tags.into() },
        "Layers": [LAYER_PATH],
    }]))
    .expect("a JSON value serializes");
    tar.file("manifest.json", &manifest)?;
    tar.finish()?;
    Ok(ArchiveInfo { image_id: format!("sha256:{config_hex}"), diff_id, layer_size })
}

/// Packs the directory `root` (a root file system) with GNU tar — ownership as numbers,
/// permissions and symlinks kept, the contents of /dev, /proc and /sys left out — and writes it
/// as the single layer of an image archive at `out` (via a temporary file, renamed at the end).
pub fn archive_rootfs(
    root: &Path,
    meta: &ImageMeta,
    repo_tags: &[String],
    out: &Path,
    cancel: &Cancel,
) -> Result<ArchiveInfo, BaseImageError> {
    let tmp = out.with_extension(format!("tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = File::create(&tmp).map_err(io_err(format!("cannot create {}", tmp.display())))?;
        let mut args: Vec<std::ffi::OsString> = [
            "--create",
            "--file=-",
            "--numeric-owner",
            "--sort=name",
            "--anchored",
            "--exclude=./dev/*",
            "--exclude=./proc/*",
            "--exclude=./sys/*",
            "--directory",
        ]
        .into_iter()
        .map(Into::into)
        .collect();
        args.push(root.as_os_str().to_owned());
        args.push(".".into());
        let tar = duct::cmd("tar", args).reader().map_err(io_err("cannot run `tar` (GNU tar is needed)"))?;
        let written = write_image_archive(UntilCancelled { inner: &tar, cancel }, meta, repo_tags, &mut file);
        if written.is_err() {
            let _ = tar.kill();
        }
        let info = written.map_err(|e| {
            if cancel.is_cancelled() {
                BaseImageError::Interrupted { step: "packing the root file system".into() }
            } else {
                BaseImageError::Io { what: format!("packing {} failed", root.display()), source: e }
            }
        })?;
        file.sync_all().map_err(io_err(format!("cannot write {}", tmp.display())))?;
        fs::rename(&tmp, out).map_err(io_err(format!("cannot rename {} to {}", tmp.display(), out.display())))?;
        Ok(info)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// A reader that fails once the build is cancelled, so that packing stops mid-stream.
struct UntilCancelled<'a, R> {
    inner: R,
    cancel: &'a Cancel,
}

impl<R: Read> Read for UntilCancelled<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.cancel.is_cancelled() {
            return Err(io::Error::other("cancelled"));
        }
        self.inner.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use std::process::Command;

    #[test]
    fn archive_has_manifest_config_and_layer_with_its_diff_id() {
        // A layer made by GNU tar from a tiny tree.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        fs::create_dir_all(root.join("bin")).unwrap();
        fs::write(root.join("bin/hello"), "#!/bin/sh\necho hi\n").unwrap();
        std::os::unix::fs::symlink("hello", root.join("bin/hi")).unwrap();
        let layer = Command::new("tar").args(["-c", "-f", "-", "-C"]).arg(&root).arg(".").output().unwrap().stdout;
        assert!(!layer.is_empty());

        let mut meta = ImageMeta::new(Arch::Armv7l);
        meta.labels.insert("a".into(), "b".into());
        let mut out = Cursor::new(Vec::new());
        let tags = vec!["example/x:1".to_string()];
        let info = write_image_archive(&layer[..], &meta, &tags, &mut out).unwrap();
        assert_eq!(info.diff_id, format!("sha256:{}", hex::encode(Sha256::digest(&layer))));
        assert_eq!(info.layer_size, layer.len() as u64);

        let archive = dir.path().join("image.tar");
        fs::write(&archive, out.into_inner()).unwrap();
        let x = dir.path().join("x");
        fs::create_dir(&x).unwrap();
        let st = Command::new("tar").arg("-xf").arg(&archive).arg("-C").arg(&x).status().unwrap();
        assert!(st.success());

        let manifest: serde_json::Value = serde_json::from_slice(&fs::read(x.join("manifest.json")).unwrap()).unwrap();
        let config_name = manifest[0]["Config"].as_str().unwrap();
        assert_eq!(manifest[0]["RepoTags"], serde_json::json!(["example/x:1"]));
        assert_eq!(manifest[0]["Layers"], serde_json::json!([LAYER_PATH]));
        let config_bytes = fs::read(x.join(config_name)).unwrap();
        assert_eq!(format!("{}.json", hex::encode(Sha256::digest(&config_bytes))), config_name);
        assert_eq!(info.image_id, format!("sha256:{}", config_name.trim_end_matches(".json")));
        let config: serde_json::Value = serde_json::from_slice(&config_bytes).unwrap();
        assert_eq!(config["architecture"], "arm");
        assert_eq!(config["variant"], "v7");
        assert_eq!(config["os"], "linux");
        assert_eq!(config["rootfs"]["type"], "layers");
        assert_eq!(config["rootfs"]["diff_ids"], serde_json::json!([info.diff_id]));
        assert_eq!(config["config"]["Cmd"], serde_json::json!(["bash"]));
        assert_eq!(config["config"]["Env"][0], DEFAULT_PATH);
        assert_eq!(config["config"]["Labels"]["a"], "b");
        // The layer inside is byte for byte the one given.
        assert_eq!(fs::read(x.join(LAYER_PATH)).unwrap(), layer);
    }

    #[test]
    fn config_architecture_per_arch() {
        for (arch, want, variant) in [
            (Arch::X86_64, "amd64", None),
            (Arch::Aarch64, "arm64", None),
            (Arch::Armv7l, "arm", Some("v7")),
            (Arch::Ppc64le, "ppc64le", None),
            (Arch::S390x, "s390x", None),
            (Arch::I686, "386", None),
            (Arch::Riscv64, "riscv64", None),
        ] {
            let c: serde_json::Value =
                serde_json::from_slice(&image_config(&ImageMeta::new(arch), "sha256:00")).unwrap();
            assert_eq!(c["architecture"], want);
            assert_eq!(c["variant"].as_str(), variant);
        }
    }

    #[test]
    fn created_is_rfc3339_in_whole_seconds() {
        let created = ImageMeta::new(Arch::X86_64).created;
        assert!(created.ends_with('Z') && !created.contains('.'), "{created}");
        assert!(created.parse::<Timestamp>().is_ok(), "{created}");
    }

    #[test]
    fn archive_of_a_rootfs_keeps_symlinks_and_modes() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        fs::create_dir_all(root.join("usr/bin")).unwrap();
        fs::create_dir_all(root.join("dev")).unwrap();
        fs::write(root.join("dev/junk"), "x").unwrap();
        fs::write(root.join("usr/bin/tool"), "#!/bin/sh\n").unwrap();
        fs::set_permissions(root.join("usr/bin/tool"), fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink("usr/bin", root.join("bin")).unwrap();
        let out = dir.path().join("img.tar");
        let info = archive_rootfs(&root, &ImageMeta::new(Arch::Aarch64), &[], &out, &Cancel::default()).unwrap();
        let x = dir.path().join("x");
        fs::create_dir(&x).unwrap();
        assert!(Command::new("tar").arg("-xf").arg(&out).arg("-C").arg(&x).status().unwrap().success());
        let layer = fs::read(x.join(LAYER_PATH)).unwrap();
        assert_eq!(info.diff_id, format!("sha256:{}", hex::encode(Sha256::digest(&layer))));
        let listing = Command::new("tar").arg("-tvf").arg(x.join(LAYER_PATH)).output().unwrap().stdout;
        let listing = String::from_utf8(listing).unwrap();
        assert!(listing.contains("./bin -> usr/bin"), "{listing}");
        assert!(listing.lines().any(|l| l.starts_with("-rwxr-xr-x") && l.ends_with("./usr/bin/tool")), "{listing}");
        assert!(listing.lines().any(|l| l.ends_with("./dev/")), "{listing}");
        assert!(!listing.contains("./dev/junk"), "{listing}");
        // No temporary file is left next to the archive.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 3);
    }

    #[test]
    fn cancelled_packing_stops_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        fs::create_dir_all(root.join("etc")).unwrap();
        fs::write(root.join("etc/os-release"), "ID=tiny\n").unwrap();
        let cancel = Cancel::default();
        cancel.cancel();
        let out = dir.path().join("img.tar");
        let err = archive_rootfs(&root, &ImageMeta::new(Arch::X86_64), &[], &out, &cancel).unwrap_err();
        assert!(matches!(err, BaseImageError::Interrupted { .. }), "{err}");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "only the root is left");
    }
}
