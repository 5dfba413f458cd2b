//! `pookie init`.

use super::{EXIT_BAD_INPUT, EXIT_FAILURE, Failure};
use std::path::Path;

pub fn run(workspace: Option<&Path>, force: bool) -> Result<(), Failure> {
    let dir = match workspace {
        Some(w) => w.to_path_buf(),
        None => std::env::current_dir().map_err(|e| Failure::msg(EXIT_FAILURE, e.to_string()))?,
    };
    if !dir.is_dir() {
        return Err(Failure::msg(EXIT_BAD_INPUT, format!("workspace `{}` is not a directory", dir.display())));
    }
    let path = dir.join("pookie.toml");
    if path.exists() && !force {
        return Err(Failure::msg(
            EXIT_BAD_INPUT,
            format!("{} already exists; pass --force to overwrite it", path.display()),
        ));
    }
    let package = project_name(&dir);
    let has_tests = dir.join("tests").is_dir();
    let text = crate::config::init::template(package.as_deref(), has_tests);
    std::fs::write(&path, text)
        .map_err(|e| Failure::msg(EXIT_FAILURE, format!("cannot write {}: {e}", path.display())))?;
    println!("wrote {}", path.display());
    Ok(())
}

/// The import name of the project, from pyproject.toml's `[project] name`.
fn project_name(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("pyproject.toml")).ok()?;
    let doc: toml::Table = toml::from_str(&text).ok()?;
    let name = doc.get("project")?.get("name")?.as_str()?;
    Some(name.replace('-', "_").to_lowercase())
}
