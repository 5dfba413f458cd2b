//! `pookie plan`: resolve and print the graph, run nothing.

use super::{Failure, PlanFormat, ProjectArgs};
use crate::config::{self, matrix};
use crate::plan::{self, render};

pub fn run(project: &ProjectArgs, format: PlanFormat, args: &[String]) -> Result<(), Failure> {
    let settings = config::load(&project.overrides(), args)?;
    let index = crate::python::index_for(&settings, Some(&|w: &str| eprintln!("warning: {w}")))?;
    let matrix = matrix::resolve(&settings, index.as_ref())?;
    let plan = plan::plan(&settings, &matrix, index.as_ref().map(|i| i.release.as_str()));
    let out = match format {
        PlanFormat::Text => render::text(&plan),
        PlanFormat::Json => render::json(&plan),
        PlanFormat::Dot => render::dot(&plan),
    };
    print_out(&out)
}

/// Writes a command's output to stdout. A reader that stops early (`pookie plan | head`) is not
/// an error, and no reason to panic as `print!` does.
pub(super) fn print_out(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::msg(super::EXIT_FAILURE, format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}
