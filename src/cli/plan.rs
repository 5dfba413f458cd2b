//! `pookie plan`: resolve and print the graph, run nothing.

use super::project::{self, WithoutIndex};
use super::{Failure, PlanFormat, ProjectArgs};
use crate::plan::render;

pub fn run(project: &ProjectArgs, format: PlanFormat, args: &[String]) -> Result<(), Failure> {
    let planned = project::plan(project, args, WithoutIndex::PlansUnresolved)?;
    if let Some(e) = &planned.index_error {
        eprintln!("warning: {e}; planning without the python-build-standalone index");
    }
    let plan = planned.plan;
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
