//! `pookie plan`: resolve and print the graph, run nothing.

use super::project::{self, WithoutIndex};
use super::{EXIT_BAD_INPUT, Failure, PlanFormat, ProjectArgs};
use crate::plan::render;

pub fn run(project: &ProjectArgs, format: PlanFormat, shards: Option<usize>, args: &[String]) -> Result<(), Failure> {
    let listed = matches!(format, PlanFormat::GithubMatrix | PlanFormat::Shards);
    match (listed, shards, &project.shard) {
        (true, None, _) => {
            return Err(Failure::msg(EXIT_BAD_INPUT, "--format github-matrix and --format shards need --shards N"));
        }
        (true, Some(_), Some(_)) => {
            return Err(Failure::msg(EXIT_BAD_INPUT, "--shards splits the whole plan: leave --shard out"));
        }
        (false, Some(_), _) => {
            return Err(Failure::msg(EXIT_BAD_INPUT, "--shards goes with --format github-matrix or --format shards"));
        }
        _ => {}
    }
    let planned = project::plan(project, args, WithoutIndex::PlansUnresolved)?;
    if let Some(e) = &planned.index_error {
        eprintln!("warning: {e}; planning without the python-build-standalone index");
    }
    let plan = planned.plan;
    let out = match (format, shards) {
        (PlanFormat::Text, _) => render::text(&plan),
        (PlanFormat::Json, _) => render::json(&plan),
        (PlanFormat::Dot, _) => render::dot(&plan),
        (PlanFormat::GithubMatrix, Some(n)) => render::github_matrix(&plan, n),
        (PlanFormat::Shards, Some(n)) => render::shards(&plan, n),
        (_, None) => unreachable!("refused above"),
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
