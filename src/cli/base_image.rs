//! `pookie base-image`: a base image from distribution packages, for machines without a registry.

use super::Failure;
use clap::Args;

#[derive(Args, Debug)]
pub struct BaseImageArgs {}

pub fn run(_args: &BaseImageArgs) -> Result<(), Failure> {
    Err(Failure::msg(super::EXIT_FAILURE, "not implemented yet"))
}
