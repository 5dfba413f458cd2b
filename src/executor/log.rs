//! The logs of jobs and image layers: one file each under `.pookie/logs`, opened for appending,
//! and their last lines for one-line reasons.

use std::fs::File;
use std::path::{Path, PathBuf};

/// A log that cannot be opened (or its folder made).
#[derive(Debug, thiserror::Error)]
#[error("cannot open the log {}", path.display())]
pub struct LogError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// The log at `path`, appended to (its directory made).
pub fn open_log(path: &Path) -> Result<File, LogError> {
    let fail = |source| LogError { path: path.to_path_buf(), source };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    File::options().create(true).append(true).open(path).map_err(fail)
}

/// Appends a line of pookie's own to the log at `path`.
pub fn append(path: &Path, line: &str) -> Result<(), LogError> {
    use std::io::Write;
    let mut f = open_log(path)?;
    writeln!(f, "{line}").map_err(|source| LogError { path: path.to_path_buf(), source })
}

/// `error` and its sources on one line (`cannot open the log x: Permission denied`), as the
/// summary shows reasons.
pub fn one_line(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        line.push_str(": ");
        line.push_str(&s.to_string());
        source = s.source();
    }
    line
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A typed error keeps its cause, and the summary's one line still says both.
    #[test]
    fn errors_print_on_one_line_with_their_causes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let e = open_log(&file.join("log")).unwrap_err();
        assert!(std::error::Error::source(&e).is_some());
        let line = one_line(&e);
        assert!(line.starts_with(&format!("cannot open the log {}: ", file.join("log").display())), "{line}");
        assert!(!line.contains('\n'));
    }
}
