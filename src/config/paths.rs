//! The paths a project's configuration names (its output directory, a CA bundle, …) stay inside
//! the workspace: a project's files may come from anyone (a pull request, an sdist), and must not
//! make pookie read or write elsewhere on the host. A path is judged as written — relative, no
//! `..`, no NUL — and then walked component by component without following symlinks, since a
//! symlink inside the workspace can point anywhere. Host-wide files (a CA bundle from
//! `$SSL_CERT_FILE`) come only from the user's side: the environment and the command line.

use std::path::{Component, Path, PathBuf};

/// Why a path a project names cannot be used; `Display` says it in a few words for the label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Empty,
    Nul,
    Absolute,
    Parent,
    /// A component that exists is a symlink (the path relative to the workspace).
    Symlink(PathBuf),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Empty => write!(f, "empty"),
            Refusal::Nul => write!(f, "contains a NUL character"),
            Refusal::Absolute => write!(f, "an absolute path, outside the workspace"),
            Refusal::Parent => write!(f, "`..` leaves the workspace"),
            Refusal::Symlink(p) => write!(f, "`{}` is a symlink, which could lead anywhere", p.display()),
        }
    }
}

/// `relative`, resolved inside `workspace`: the normalized path below it (possibly empty, for
/// the workspace itself) and the absolute path. Parts that do not exist yet are fine.
pub fn inside(workspace: &Path, relative: &str) -> Result<(PathBuf, PathBuf), Refusal> {
    if relative.trim().is_empty() {
        return Err(Refusal::Empty);
    }
    if relative.contains('\0') {
        return Err(Refusal::Nul);
    }
    let mut below = PathBuf::new();
    for c in Path::new(relative).components() {
        match c {
            Component::Normal(part) => {
                below.push(part);
                let here = workspace.join(&below);
                if std::fs::symlink_metadata(&here).is_ok_and(|m| m.file_type().is_symlink()) {
                    return Err(Refusal::Symlink(below));
                }
            }
            Component::CurDir => {}
            Component::ParentDir => return Err(Refusal::Parent),
            Component::RootDir | Component::Prefix(_) => return Err(Refusal::Absolute),
        }
    }
    let absolute = workspace.join(&below);
    Ok((below, absolute))
}

/// Whether the text of a file is a PEM bundle of certificates.
pub fn is_pem_certificates(bytes: &[u8]) -> bool {
    String::from_utf8_lossy(bytes).contains("-----BEGIN CERTIFICATE-----")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_workspace() {
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path();
        std::fs::create_dir_all(ws.join("real")).unwrap();
        std::os::unix::fs::symlink("/etc", ws.join("link")).unwrap();
        std::os::unix::fs::symlink("real", ws.join("inner-link")).unwrap();
        assert_eq!(inside(ws, "dist").unwrap(), (PathBuf::from("dist"), ws.join("dist")));
        assert_eq!(inside(ws, "./out/wheels").unwrap().0, PathBuf::from("out/wheels"));
        assert_eq!(inside(ws, "real/x").unwrap().0, PathBuf::from("real/x"));
        assert_eq!(inside(ws, "."), Ok((PathBuf::new(), ws.to_path_buf())));
        assert_eq!(inside(ws, "../x"), Err(Refusal::Parent));
        assert_eq!(inside(ws, "a/../../x"), Err(Refusal::Parent));
        assert_eq!(inside(ws, "/etc"), Err(Refusal::Absolute));
        assert_eq!(inside(ws, ""), Err(Refusal::Empty));
        assert_eq!(inside(ws, "a\0b"), Err(Refusal::Nul));
        assert_eq!(inside(ws, "link/passwd"), Err(Refusal::Symlink("link".into())));
        assert_eq!(inside(ws, "inner-link"), Err(Refusal::Symlink("inner-link".into())));
    }

    #[test]
    fn pem_bundles_are_recognized() {
        assert!(is_pem_certificates(b"# comment\n-----BEGIN CERTIFICATE-----\nMII...\n-----END CERTIFICATE-----\n"));
        assert!(!is_pem_certificates(b"root:x:0:0:root:/root:/bin/bash\n"));
    }
}
