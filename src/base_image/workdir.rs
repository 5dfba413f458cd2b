//! The temporary work directory that holds the root file system while it is made, and the mounts
//! in it: whatever is mounted there is unmounted before anything is removed, so that removing
//! the tree never reaches into the host's /proc or /dev.

use super::{BaseImageError, io_err};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The temporary directory holding the root file system. Dropping it unmounts whatever is
/// still mounted below it (e.g. /proc after an interrupted apt-get) and removes it.
pub(super) struct WorkDir {
    pub(super) path: PathBuf,
}

impl WorkDir {
    pub(super) fn create(parent: &Path, name: &str) -> Result<WorkDir, BaseImageError> {
        // Work directories of builds that were killed outright (their pid is gone) are garbage.
        if let Ok(entries) = fs::read_dir(parent) {
            for e in entries.flatten() {
                let file_name = e.file_name().to_string_lossy().into_owned();
                if let Some(pid) = file_name.strip_prefix("work-").and_then(|n| n.rsplit('-').next())
                    && pid.parse::<u32>().is_ok()
                    && !Path::new("/proc").join(pid).exists()
                {
                    remove_tree(&e.path());
                }
            }
        }
        let path = parent.join(format!("work-{name}-{}", std::process::id()));
        if path.exists() {
            remove_tree(&path);
        }
        fs::create_dir_all(&path).map_err(io_err(format!("cannot create {}", path.display())))?;
        let path = path.canonicalize().map_err(io_err(format!("cannot resolve {}", path.display())))?;
        Ok(WorkDir { path })
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        remove_tree(&self.path);
    }
}

/// Mount points at or below `dir`, deepest first.
pub(super) fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(info) = fs::read_to_string("/proc/self/mountinfo") else { return Vec::new() };
    let mut found: Vec<PathBuf> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|m| PathBuf::from(unescape_mount(m)))
        .filter(|m| m.starts_with(dir))
        .collect();
    found.sort_by_key(|m| std::cmp::Reverse(m.components().count()));
    found.dedup();
    found
}

/// mountinfo escapes space, tab, newline and backslash as \ooo.
fn unescape_mount(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 4], 8)
        {
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(super) fn umount(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else { return false };
    // SAFETY: a valid NUL-terminated path; MNT_DETACH only detaches the mount.
    unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) == 0 }
}

/// Unmounts everything below `dir`, then removes it — but never while something is still
/// mounted there (that would delete the host's files).
fn remove_tree(dir: &Path) {
    let canonical = dir.canonicalize();
    let dir = canonical.as_deref().unwrap_or(dir);
    for _ in 0..3 {
        let mounts = mounts_under(dir);
        if mounts.is_empty() {
            break;
        }
        for m in mounts {
            umount(&m);
        }
    }
    let left = mounts_under(dir);
    if !left.is_empty() {
        eprintln!(
            "pookie base-image: warning: not removing {}: still mounted there: {}",
            dir.display(),
            left.iter().map(|m| m.display().to_string()).collect::<Vec<_>>().join(", ")
        );
        return;
    }
    if let Err(e) = fs::remove_dir_all(dir)
        && e.kind() != io::ErrorKind::NotFound
    {
        eprintln!("pookie base-image: warning: cannot remove {}: {e}", dir.display());
    }
}

pub(super) fn mount_proc(target: &Path) -> Result<(), BaseImageError> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(target.as_os_str().as_bytes()).expect("no NUL in paths");
    // SAFETY: valid NUL-terminated strings; mounting a fresh proc instance.
    let rc = unsafe { libc::mount(c"proc".as_ptr(), c.as_ptr(), c"proc".as_ptr(), 0, std::ptr::null()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(BaseImageError::Io {
            what: format!("cannot mount proc on {}", target.display()),
            source: io::Error::last_os_error(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes() {
        assert_eq!(unescape_mount("/a\\040b"), "/a b");
        assert_eq!(unescape_mount("/a\\134b"), "/a\\b");
        assert_eq!(unescape_mount("/plain"), "/plain");
    }

    #[test]
    fn work_dirs_of_dead_builds_are_removed_and_own_on_drop() {
        let cache = tempfile::tempdir().unwrap();
        // No process has this pid (it is above the kernel's pid_max).
        let stale = cache.path().join("work-sid-amd64-minbase-0123-999999999");
        fs::create_dir_all(stale.join("rootfs/etc")).unwrap();
        let work = WorkDir::create(cache.path(), "sid-amd64-minbase-4567").unwrap();
        assert!(!stale.exists());
        assert!(work.path.is_dir() && work.path.is_absolute());
        fs::create_dir_all(work.path.join("rootfs/usr")).unwrap();
        let path = work.path.clone();
        drop(work);
        assert!(!path.exists());
        assert_eq!(fs::read_dir(cache.path()).unwrap().count(), 0);
    }
}
