//! The user's project tree and the private copies jobs work in. Jobs never write into the
//! user's tree: each gets its own copy (without `.git`, `.pookie/` and the output directory;
//! in a git checkout without what .gitignore ignores), so parallel builds cannot share `build/`
//! or `*.egg-info`. Outside a git checkout — an unpacked sdist — .gitignore means nothing: an
//! sdist ships files its repository ignores on purpose (Cython's generated `.cxx`).

use std::io;
use std::path::{Path, PathBuf};

/// Directory of pookie's own state inside the workspace.
pub const STATE_DIR: &str = ".pookie";

/// One file, directory or symlink of the project.
struct Entry {
    path: PathBuf,
    relative: PathBuf,
    kind: std::fs::FileType,
}

/// The exclusive use of a workspace by one pookie command that writes into it (run, images,
/// clean): two runs in one workspace would share `.pookie/jobs` and the output directory. The
/// lock is the workspace directory's own (flock), so removing `.pookie/` cannot lose it; it
/// goes with the process.
pub struct Lock(#[allow(dead_code)] std::fs::File);

impl Lock {
    /// Takes the lock, or says that another process holds it.
    pub fn take(workspace: &Path) -> io::Result<Option<Lock>> {
        use std::os::fd::AsRawFd;
        let dir = std::fs::File::open(workspace)?;
        // SAFETY: a valid descriptor of ours; flock has no other preconditions.
        if unsafe { libc::flock(dir.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(Some(Lock(dir)));
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EWOULDBLOCK) { Ok(None) } else { Err(e) }
    }
}

/// Whether `root` is in a git checkout: it or a directory above holds `.git`.
fn in_git_checkout(root: &Path) -> bool {
    root.ancestors().any(|d| d.join(".git").exists())
}

/// Whether `path` is a regular file itself, not a symlink to one: what a project or a job left
/// can point anywhere on this machine.
pub fn is_regular_file(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
}

/// The commit time of the last commit of the git checkout `root` is in, when git answers. The
/// repository may be anyone's: git runs without its hooks, fsmonitor or pager.
pub fn last_commit_time(root: &Path) -> Option<u64> {
    if !in_git_checkout(root) {
        return None;
    }
    let out = std::process::Command::new("git")
        .args([
            "-c",
            "core.fsmonitor=false",
            "-c",
            "core.hooksPath=/dev/null",
            "--no-pager",
            "log",
            "-1",
            "--format=%ct",
        ])
        .current_dir(root)
        .env_remove("GIT_DIR")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout).ok()?.trim().parse().ok()
}

/// The project's entries, in a stable order: in a git checkout what git would keep (.gitignore
/// respected), otherwise all of them; never `.git`, `.pookie/` or the absolute paths in
/// `exclude`.
fn entries(root: &Path, exclude: &[PathBuf]) -> io::Result<Vec<Entry>> {
    let excluded: Vec<PathBuf> = exclude.iter().cloned().chain([root.join(".git"), root.join(STATE_DIR)]).collect();
    let git = in_git_checkout(root);
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .ignore(false)
        .git_ignore(git)
        .git_global(false)
        .git_exclude(git)
        .require_git(false)
        .parents(false)
        .follow_links(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(move |e| !excluded.iter().any(|x| e.path() == x))
        .build();
    let mut out = Vec::new();
    for entry in walker {
        let entry = entry.map_err(io::Error::other)?;
        let relative = entry.path().strip_prefix(root).map_err(io::Error::other)?.to_path_buf();
        if relative.as_os_str().is_empty() {
            continue;
        }
        let kind = entry.file_type().ok_or_else(|| io::Error::other("unknown file type"))?;
        out.push(Entry { path: entry.path().to_path_buf(), relative, kind });
    }
    Ok(out)
}

/// Copies the project at `root` into `dest`. `exclude` are absolute paths left out with
/// everything below them.
pub fn copy_project(root: &Path, dest: &Path, exclude: &[PathBuf]) -> io::Result<u64> {
    std::fs::create_dir_all(dest)?;
    let mut bytes = 0;
    for e in entries(root, exclude)? {
        let target = dest.join(&e.relative);
        if e.kind.is_dir() {
            std::fs::create_dir_all(&target)?;
        } else if e.kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&e.path)?, &target)?;
        } else if e.kind.is_file() {
            bytes += std::fs::copy(&e.path, &target)?;
        }
    }
    Ok(bytes)
}

/// A digest of exactly what [`copy_project`] would copy: paths, contents, executable bits and
/// symlink targets. Equal digests mean jobs would see the same project.
pub fn digest(root: &Path, exclude: &[PathBuf]) -> io::Result<String> {
    digest_of(&entries(root, exclude)?)
}

/// Some files of the project (what a `before-all` hook reads): their paths relative to the
/// project, and the digest of those files as [`digest`] makes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub files: Vec<PathBuf>,
    pub digest: String,
}

/// The project's files and symlinks (as [`copy_project`] sees them) whose relative path `keep`
/// accepts.
pub fn select(root: &Path, exclude: &[PathBuf], keep: impl Fn(&Path) -> bool) -> io::Result<Selection> {
    let chosen: Vec<Entry> =
        entries(root, exclude)?.into_iter().filter(|e| !e.kind.is_dir() && keep(&e.relative)).collect();
    Ok(Selection { digest: digest_of(&chosen)?, files: chosen.into_iter().map(|e| e.relative).collect() })
}

/// Copies `files` (relative to `root`, as [`select`] gives them) into `dest`, symlinks as
/// symlinks: their targets are never read.
pub fn copy_files(root: &Path, files: &[PathBuf], dest: &Path) -> io::Result<()> {
    for f in files {
        let (from, to) = (root.join(f), dest.join(f));
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir)?;
        }
        if std::fs::symlink_metadata(&from)?.file_type().is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&from)?, &to)?;
        } else {
            std::fs::copy(&from, &to)?;
        }
    }
    Ok(())
}

fn digest_of(entries: &[Entry]) -> io::Result<String> {
    use sha2::{Digest, Sha256};
    use std::os::unix::fs::PermissionsExt;
    let mut h = Sha256::new();
    let mut field = |tag: &[u8], bytes: &[u8]| {
        h.update(tag);
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    for e in entries {
        field(b"path", e.relative.as_os_str().as_encoded_bytes());
        if e.kind.is_dir() {
            field(b"dir", b"");
        } else if e.kind.is_symlink() {
            field(b"link", std::fs::read_link(&e.path)?.as_os_str().as_encoded_bytes());
        } else if e.kind.is_file() {
            let meta = std::fs::metadata(&e.path)?;
            field(b"mode", &[u8::from(meta.permissions().mode() & 0o111 != 0)]);
            field(b"file", &std::fs::read(&e.path)?);
        }
    }
    Ok(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_command_at_a_time_per_workspace() {
        let tmp = tempfile::tempdir().unwrap();
        let first = Lock::take(tmp.path()).unwrap();
        assert!(first.is_some());
        assert!(Lock::take(tmp.path()).unwrap().is_none(), "a second lock was granted");
        drop(first);
        assert!(Lock::take(tmp.path()).unwrap().is_some(), "the lock outlived its holder");
    }

    /// An unpacked sdist is no git checkout: files its repository ignores, shipped on purpose
    /// (Cython's generated sources), are part of the project; and a subdirectory of a checkout
    /// follows the checkout's rules.
    #[test]
    fn outside_a_git_checkout_gitignore_means_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let sdist = tmp.path().join("levenshtein-0.27.5");
        for (p, c) in [(".gitignore", "*.cxx\n"), ("src/mod.cxx", "// generated"), ("src/mod.pyx", "# cython")] {
            let f = sdist.join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, c).unwrap();
        }
        let dest = tmp.path().join("copy");
        copy_project(&sdist, &dest, &[]).unwrap();
        assert!(dest.join("src/mod.cxx").is_file(), "the sdist's generated source was left out");
        let checkout = tmp.path().join("repo");
        std::fs::create_dir_all(checkout.join(".git")).unwrap();
        std::fs::rename(&sdist, checkout.join("pkg")).unwrap();
        let dest = tmp.path().join("copy2");
        copy_project(&checkout.join("pkg"), &dest, &[]).unwrap();
        assert!(!dest.join("src/mod.cxx").exists(), "in a checkout, ignored files stay out");
        assert!(dest.join("src/mod.pyx").is_file());
    }

    #[test]
    fn copies_what_git_would_keep() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("proj");
        for (p, c) in [
            ("setup.py", "x"),
            ("src/mod.c", "int x;"),
            (".gitignore", "build/\n*.so\n"),
            ("build/lib/junk.o", "o"),
            ("src/mod.so", "so"),
            (".git/HEAD", "ref"),
            (".pookie/jobs/x", "x"),
            ("dist/old.whl", "w"),
            (".clang-format", "fmt"),
        ] {
            let f = root.join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, c).unwrap();
        }
        let dest = tmp.path().join("copy");
        let before = digest(&root, &[root.join("dist")]).unwrap();
        copy_project(&root, &dest, &[root.join("dist")]).unwrap();
        // The copy holds the same project (its .gitignore still hides nothing that was copied).
        assert_eq!(digest(&dest, &[]).unwrap(), before);
        assert!(dest.join("setup.py").is_file());
        assert!(dest.join("src/mod.c").is_file());
        assert!(dest.join(".clang-format").is_file());
        assert!(dest.join(".gitignore").is_file());
        for gone in ["build", "src/mod.so", ".git", ".pookie", "dist"] {
            assert!(!dest.join(gone).exists(), "{gone} was copied");
        }
    }

    #[test]
    fn digest_sees_content_and_modes_but_not_ignored_files() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join(".gitignore"), "build/\n").unwrap();
        std::fs::write(root.join("a.c"), "int a;").unwrap();
        let d0 = digest(root, &[]).unwrap();
        std::fs::create_dir_all(root.join("build")).unwrap();
        std::fs::write(root.join("build/x.o"), "o").unwrap();
        assert_eq!(digest(root, &[]).unwrap(), d0, "ignored files changed the digest");
        std::fs::write(root.join("a.c"), "int b;").unwrap();
        let d1 = digest(root, &[]).unwrap();
        assert_ne!(d1, d0);
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(root.join("a.c"), std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_ne!(digest(root, &[]).unwrap(), d1, "the executable bit is part of the project");
    }
}
