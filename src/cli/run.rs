//! `pookie run`, `pookie images`, `pookie clean`.

use super::{Failure, ProjectArgs};
use clap::Args;
use std::path::Path;

#[derive(Args, Debug, Clone, Default)]
pub struct RunArgs {
    /// First remove what earlier runs left in the workspace (output wheels, .pookie/)
    #[arg(long)]
    pub clean: bool,
    /// Stop starting new jobs after the first failure
    #[arg(long)]
    pub fail_fast: bool,
    /// Also write the results as JSON to FILE
    #[arg(long, value_name = "FILE")]
    pub report: Option<std::path::PathBuf>,
}

pub fn run(_project: &ProjectArgs, _run: &RunArgs, _args: &[String]) -> Result<(), Failure> {
    Err(Failure::msg(super::EXIT_FAILURE, "not implemented yet"))
}

pub fn images(_project: &ProjectArgs, _args: &[String]) -> Result<(), Failure> {
    Err(Failure::msg(super::EXIT_FAILURE, "not implemented yet"))
}

pub fn clean(_workspace: Option<&Path>, _images: bool, _caches: bool) -> Result<(), Failure> {
    Err(Failure::msg(super::EXIT_FAILURE, "not implemented yet"))
}
