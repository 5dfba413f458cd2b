//! `pookie init`.

use super::{EXIT_BAD_INPUT, EXIT_FAILURE, Failure};
use std::io::Write;
use std::path::Path;

pub fn run(workspace: Option<&Path>, force: bool, from_cibuildwheel: bool, args: &[String]) -> Result<(), Failure> {
    let dir = match workspace {
        Some(w) => w.to_path_buf(),
        None => std::env::current_dir().map_err(|e| Failure::msg(EXIT_FAILURE, e.to_string()))?,
    };
    if !dir.is_dir() {
        return Err(Failure::msg(EXIT_BAD_INPUT, format!("workspace `{}` is not a directory", dir.display())));
    }
    let path = dir.join("pookie.toml");
    match std::fs::symlink_metadata(&path) {
        // Never written through: the link could point anywhere on the host.
        Ok(m) if m.file_type().is_symlink() => {
            return Err(Failure::msg(
                EXIT_BAD_INPUT,
                format!("{} is a symlink; pookie init does not write through it (remove it first)", path.display()),
            ));
        }
        Ok(_) if !force => {
            return Err(Failure::msg(
                EXIT_BAD_INPUT,
                format!("{} already exists; pass --force to overwrite it", path.display()),
            ));
        }
        _ => {}
    }
    let text = if from_cibuildwheel {
        match crate::config::read_cibuildwheel(&dir, args)? {
            Some((raw, notes)) => crate::config::init::from_cibuildwheel(&raw, &notes),
            None => {
                return Err(Failure::msg(
                    EXIT_BAD_INPUT,
                    format!("{} has no [tool.cibuildwheel] in pyproject.toml to write pookie.toml from", dir.display()),
                ));
            }
        }
    } else {
        let package = project_name(&dir);
        let has_tests = dir.join("tests").is_dir();
        crate::config::init::template(package.as_deref(), has_tests)
    };
    // A new file beside it, renamed over it: the rename replaces the entry itself.
    let write = || -> std::io::Result<()> {
        let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
        tmp.write_all(text.as_bytes())?;
        tmp.as_file().set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))?;
        tmp.persist(&path).map_err(|e| e.error)?;
        Ok(())
    };
    write().map_err(|e| Failure::msg(EXIT_FAILURE, format!("cannot write {}: {e}", path.display())))?;
    println!("wrote {}", path.display());
    Ok(())
}

/// The import name of the project, from pyproject.toml's `[project] name`, when it is a valid
/// distribution name (PEP 508): it is written into the TOML and into a shell command.
fn project_name(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("pyproject.toml")).ok()?;
    let doc: toml::Table = toml::from_str(&text).ok()?;
    let name = doc.get("project")?.get("name")?.as_str()?;
    let valid = name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    let import = name.replace(['-', '.'], "_").to_lowercase();
    (valid && !import.starts_with(|c: char| c.is_ascii_digit())).then_some(import)
}
