//! pookie builds and tests Python wheels with C/C++ code for every major platform from one
//! Linux machine, using containers, cross-compilation, QEMU user emulation and Wine.
//!
//! The pipeline, one module per stage:
//!
//! 1. [`config`] reads `pookie.toml` (or `[tool.pookie]`), applies command-line flags and
//!    judges every value, producing immutable [`config::Settings`]; bad input stops here with a
//!    diagnostic pointing at the line.
//! 2. [`python`]'s index resolves the chosen versions to python-build-standalone archives with
//!    their sha256 (or to the base image's interpreters).
//! 3. [`matrix`] expands targets × versions through the selectors into cells, each named by its
//!    [`build_id::BuildId`].
//! 4. [`plan`] turns the cells into a DAG of image layers and jobs — a pure function, printed by
//!    `pookie plan`; [`image`] holds the layer recipes (the Dockerfiles of `images/`) and the
//!    content hash that tags each layer, inputs of the planner.
//! 5. [`engine`] talks to docker or podman; [`doctor`] checks what the plan needs of the host
//!    (engine, QEMU through [`binfmt`], disk, the Python source) before `pookie run` starts
//!    anything.
//! 6. [`executor`] builds the layers (`executor/image.rs`, skipped where the content-hash tag
//!    exists) and runs the jobs (`images/job.sh` in a fresh container each,
//!    its exit codes [`executor::job::JobExit`]), checks and delivers the wheels ([`wheel`],
//!    [`outputs`]); [`report`] says how it went.
//!
//! Beneath every stage, catalogs and shared vocabulary that any stage may read: [`target`] (the
//! platforms, one table, and their families), [`python::PythonVersion`] and
//! [`python::fetch::Source`] (where archives come from, as configured), [`build_id`] (a target
//! and a version, `cp313-manylinux_2_17_x86_64`: the key of every stage from the selectors on),
//! [`workspace`] (the project's files, as jobs see them), [`platform_tag`]
//! (wheel platform tags, parsed), [`choice`] (settings that name one of a few values),
//! [`env_vars`] (every variable pookie sets or reads), [`cache`] (the cache directory's
//! buckets), [`process`] and [`digest`]. No module imports from a stage after its own.
//!
//! [`cli`] holds the commands; those that plan share `cli/project.rs`, which runs stages 1–4 in
//! order. `-v` shows every engine command line ([`engine::set_verbose`]).

pub mod base_image;
pub mod binfmt;
pub mod build_id;
pub mod cache;
pub mod choice;
pub mod cli;
pub mod config;
pub mod digest;
pub mod doctor;
pub mod engine;
pub mod env_vars;
pub mod executor;
pub mod image;
pub mod matrix;
pub mod outputs;
pub mod plan;
pub mod platform_tag;
pub mod process;
pub mod python;
pub mod report;
pub mod target;
pub mod wheel;
pub mod workspace;
