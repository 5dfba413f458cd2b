//! The user's project tree and the private copies jobs work in. Jobs never write into the
//! user's tree: each gets its own copy (respecting .gitignore, without `.git`, `.pookie/` and
//! the output directory), so parallel builds cannot share `build/` or `*.egg-info`.

use std::io;
use std::path::{Path, PathBuf};

/// Directory of pookie's own state inside the workspace.
pub const STATE_DIR: &str = ".pookie";

/// Copies the project at `root` into `dest` (which must not exist yet). `exclude` are absolute
/// paths left out with everything below them.
pub fn copy_project(root: &Path, dest: &Path, exclude: &[PathBuf]) -> io::Result<u64> {
    std::fs::create_dir_all(dest)?;
    let root_owned = root.to_path_buf();
    let excluded: Vec<PathBuf> = exclude.iter().cloned().chain([root.join(".git"), root.join(STATE_DIR)]).collect();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(true)
        .require_git(false)
        .parents(false)
        .follow_links(false)
        .filter_entry(move |e| !excluded.iter().any(|x| e.path() == x))
        .build();
    let mut bytes = 0;
    for entry in walker {
        let entry = entry.map_err(io::Error::other)?;
        let rel = entry.path().strip_prefix(&root_owned).map_err(io::Error::other)?;
        if rel.as_os_str().is_empty() {
            continue;
        }
        let target = dest.join(rel);
        let ft = entry.file_type().ok_or_else(|| io::Error::other("unknown file type"))?;
        if ft.is_dir() {
            std::fs::create_dir_all(&target)?;
        } else if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &target)?;
        } else if ft.is_file() {
            bytes += std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        copy_project(&root, &dest, &[root.join("dist")]).unwrap();
        assert!(dest.join("setup.py").is_file());
        assert!(dest.join("src/mod.c").is_file());
        assert!(dest.join(".clang-format").is_file());
        assert!(dest.join(".gitignore").is_file());
        for gone in ["build", "src/mod.so", ".git", ".pookie", "dist"] {
            assert!(!dest.join(gone).exists(), "{gone} was copied");
        }
    }
}
