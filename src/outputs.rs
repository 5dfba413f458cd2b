//! What pookie wrote into the output directory, and removing exactly that. A repository can ship
//! any `.pookie/outputs.json`, so the record is trusted for nothing: `clean` removes an entry
//! only when it is a plain wheel file name, the file in the output directory is a regular file
//! (never a symlink) and its content has the sha256 recorded when pookie published it. The output
//! directory itself goes only when pookie created it and it is empty.

use crate::workspace::STATE_DIR;
use serde::{Deserialize, Serialize};
use std::io;
use std::path::Path;
use std::sync::Mutex;

const RECORD: &str = "outputs.json";
const FORMAT: u32 = 2;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Record {
    format: u32,
    /// pookie made the output directory (it did not exist before a run).
    created_dir: bool,
    wheels: Vec<Output>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Output {
    name: String,
    sha256: String,
}

fn read(workspace: &Path) -> Record {
    std::fs::read(workspace.join(STATE_DIR).join(RECORD))
        .ok()
        .and_then(|b| serde_json::from_slice::<Record>(&b).ok())
        .filter(|r| r.format == FORMAT)
        .unwrap_or_default()
}

fn write(workspace: &Path, record: &Record) -> io::Result<()> {
    let dir = workspace.join(STATE_DIR);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(RECORD);
    let tmp = dir.join(format!("{RECORD}.tmp"));
    std::fs::write(&tmp, serde_json::to_vec_pretty(record).map_err(io::Error::other)?)?;
    std::fs::rename(tmp, path)
}

static LOCK: Mutex<()> = Mutex::new(());

/// Remembers, before the output directory is first written to, whether pookie creates it.
pub fn note_output_dir(workspace: &Path, output_dir: &Path) -> io::Result<()> {
    let _guard = LOCK.lock();
    let mut record = read(workspace);
    if record.format != FORMAT {
        record = Record { format: FORMAT, created_dir: !output_dir.exists(), wheels: Vec::new() };
        write(workspace, &record)?;
    }
    Ok(())
}

/// Remembers that pookie published `wheel` (a file in the output directory) with this content.
pub fn record(workspace: &Path, wheel: &Path) -> io::Result<()> {
    let name = wheel.file_name().and_then(|n| n.to_str()).ok_or_else(|| io::Error::other("no file name"))?;
    let sha256 = crate::digest::sha256_file(wheel)?;
    let _guard = LOCK.lock();
    let mut record = read(workspace);
    record.format = FORMAT;
    record.wheels.retain(|o| o.name != name);
    record.wheels.push(Output { name: name.to_string(), sha256 });
    write(workspace, &record)
}

/// A recorded name is only ever a wheel's file name: no directories, no `..`.
fn plain_wheel_name(name: &str) -> bool {
    name.ends_with(".whl")
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && Path::new(name).file_name().is_some_and(|n| n == name)
}

/// What [`remove`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Removed {
    pub wheels: Vec<String>,
    /// Recorded names left alone: not a plain wheel name, not a regular file, or changed since.
    pub kept: Vec<String>,
    pub dir: bool,
}

/// Removes the wheels pookie recorded in `output_dir` (see the module doc for what counts) and
/// the directory when pookie made it and nothing else is left in it.
pub fn remove(workspace: &Path, output_dir: &Path) -> io::Result<Removed> {
    let record = read(workspace);
    let mut removed = Removed::default();
    for o in &record.wheels {
        let path = output_dir.join(&o.name);
        let ours = plain_wheel_name(&o.name)
            && crate::workspace::is_regular_file(&path)
            && crate::digest::sha256_file(&path).is_ok_and(|h| h == o.sha256);
        if ours {
            std::fs::remove_file(&path)?;
            removed.wheels.push(o.name.clone());
        } else if std::fs::symlink_metadata(&path).is_ok() || !plain_wheel_name(&o.name) {
            removed.kept.push(o.name.clone());
        }
    }
    let is_real_dir = std::fs::symlink_metadata(output_dir).is_ok_and(|m| m.file_type().is_dir());
    if record.created_dir && is_real_dir && std::fs::read_dir(output_dir).is_ok_and(|mut d| d.next().is_none()) {
        removed.dir = std::fs::remove_dir(output_dir).is_ok();
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path().join("ws");
        let out = ws.join("dist");
        std::fs::create_dir_all(&ws).unwrap();
        (tmp, ws, out)
    }

    #[test]
    fn removes_what_it_published_and_the_directory_it_made() {
        let (_tmp, ws, out) = setup();
        note_output_dir(&ws, &out).unwrap();
        std::fs::create_dir_all(&out).unwrap();
        let wheel = out.join("a-1.0-cp313-cp313-linux_x86_64.whl");
        std::fs::write(&wheel, b"wheel").unwrap();
        record(&ws, &wheel).unwrap();
        let r = remove(&ws, &out).unwrap();
        assert_eq!(r.wheels, vec!["a-1.0-cp313-cp313-linux_x86_64.whl".to_string()]);
        assert!(r.dir && !out.exists());
    }

    #[test]
    fn a_crafted_record_removes_nothing_outside_or_unproven() {
        let (tmp, ws, out) = setup();
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(ws.join("setup.py"), "mine").unwrap();
        let outside = tmp.path().join("host-file.whl");
        std::fs::write(&outside, "host").unwrap();
        std::fs::write(out.join("user.whl"), "the user's own wheel").unwrap();
        std::os::unix::fs::symlink(&outside, out.join("link.whl")).unwrap();
        let sha = |p: &Path| crate::digest::sha256_file(p).unwrap();
        let crafted = Record {
            format: FORMAT,
            created_dir: true,
            wheels: vec![
                Output { name: "../setup.py".into(), sha256: sha(&ws.join("setup.py")) },
                Output { name: outside.to_string_lossy().into_owned(), sha256: sha(&outside) },
                Output { name: "link.whl".into(), sha256: sha(&outside) },
                Output { name: "user.whl".into(), sha256: "0".repeat(64) },
            ],
        };
        write(&ws, &crafted).unwrap();
        let r = remove(&ws, &out).unwrap();
        assert!(r.wheels.is_empty(), "{r:?}");
        assert_eq!(r.kept.len(), 4, "{r:?}");
        assert!(ws.join("setup.py").exists() && outside.exists() && out.join("user.whl").exists());
        assert!(out.join("link.whl").exists(), "the symlink itself stays too");
        assert!(!r.dir, "a directory with files left is kept");
    }

    #[test]
    fn an_existing_output_directory_is_never_removed() {
        let (_tmp, ws, out) = setup();
        std::fs::create_dir_all(&out).unwrap();
        note_output_dir(&ws, &out).unwrap();
        let wheel = out.join("b-1.0-py3-none-any.whl");
        std::fs::write(&wheel, b"w").unwrap();
        record(&ws, &wheel).unwrap();
        let r = remove(&ws, &out).unwrap();
        assert_eq!(r.wheels.len(), 1);
        assert!(!r.dir && out.is_dir());
    }

    #[test]
    fn records_of_the_old_format_are_not_trusted() {
        let (_tmp, ws, out) = setup();
        std::fs::create_dir_all(ws.join(STATE_DIR)).unwrap();
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join("c.whl"), "c").unwrap();
        std::fs::write(ws.join(STATE_DIR).join(RECORD), r#"["c.whl"]"#).unwrap();
        assert_eq!(remove(&ws, &out).unwrap(), Removed::default());
        assert!(out.join("c.whl").exists());
    }
}
