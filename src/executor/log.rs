//! The logs of jobs and image layers: one file each under `.pookie/logs`, opened for appending,
//! and their last lines for one-line reasons.

use std::fs::File;
use std::path::Path;

/// The log at `path`, appended to (its directory made).
pub fn open_log(path: &Path) -> Result<File, String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    File::options().create(true).append(true).open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))
}

/// The last `n` non-empty lines of a log, without terminal colours, joined, for one-line
/// failure reasons.
pub fn last_lines(path: &Path, n: usize) -> String {
    static ANSI: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"\x1b\[[0-9;]*[A-Za-z]").expect("valid regex"));
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let text = ANSI.replace_all(&text, "");
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}
