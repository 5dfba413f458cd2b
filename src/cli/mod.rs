//! The command line: clap definitions and dispatch to one module per subcommand.

mod base_image;
mod doctor;
mod info;
mod init;
mod plan;
mod project;
mod run;

use crate::config::{CliOverrides, Compiler};
use crate::env_vars::EnvVars;
use crate::target::NonNativeMode;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "pookie",
    version,
    about = "Build and test Python wheels with C/C++ code for every major platform from one Linux machine"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Print every container-engine command line (with the job's environment) to stderr and
    /// into the job's or image's log
    #[arg(short = 'v', long, global = true)]
    pub verbose: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print the plan (images and jobs) without running anything
    Plan {
        #[command(flatten)]
        project: ProjectArgs,
        /// Output format
        #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
        format: PlanFormat,
        /// How many shards `github-matrix` and `shards` split the plan into
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=crate::config::Shard::MAX as i64))]
        shards: Option<u16>,
    },
    /// Build the images and run every job of the plan; tested, repaired wheels land in the output directory
    Run {
        #[command(flatten)]
        project: ProjectArgs,
        #[command(flatten)]
        run: run::RunArgs,
    },
    /// Build (if needed) and list the images of the plan
    Images {
        #[command(flatten)]
        project: ProjectArgs,
    },
    /// Remove what pookie created: in the workspace (output wheels, .pookie/), and with flags its images and caches
    Clean {
        /// Project directory (default: the current directory)
        #[arg(long, value_name = "DIR")]
        workspace: Option<PathBuf>,
        /// Also remove pookie's container images (only pookie's)
        #[arg(long)]
        images: bool,
        /// Also remove pookie's download caches
        #[arg(long)]
        caches: bool,
    },
    /// Check what the plan needs of this host (engine, QEMU, Wine, disk, Python source), each failure with its fix
    Doctor {
        #[command(flatten)]
        project: ProjectArgs,
    },
    /// Prepare this host (needs root)
    #[command(subcommand)]
    Setup(Setup),
    /// Build a base image from a Debian or Ubuntu release with debootstrap and import it into the engine
    BaseImage(base_image::BaseImageArgs),
    /// Work with `pookie run --report` files
    #[command(subcommand)]
    Report(Report),
    /// Write a commented pookie.toml for the project in the workspace
    Init {
        /// Project directory
        #[arg(long, value_name = "DIR")]
        workspace: Option<PathBuf>,
        /// Overwrite an existing pookie.toml
        #[arg(long)]
        force: bool,
        /// Write what [tool.cibuildwheel] of pyproject.toml means (the builds, hooks and tests
        /// pookie would run from it), with what it leaves out as comments
        #[arg(long)]
        from_cibuildwheel: bool,
    },
    /// Print the JSON schema of pookie.toml
    Schema,
    /// List the targets pookie builds for
    Targets,
    /// List the CPython versions python-build-standalone offers per target (--target to choose)
    PythonVersions {
        #[command(flatten)]
        project: ProjectArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum Report {
    /// Merge the reports of the shards of one plan (`pookie run --shard K/N --report FILE` on
    /// each runner) into the report of the whole run
    Merge {
        /// The shards' report files
        #[arg(required = true, value_name = "REPORT")]
        reports: Vec<PathBuf>,
        /// Write the merged report (JSON) to FILE
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Write it as JUnit XML to FILE too
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum Setup {
    /// Register QEMU's user-mode emulators with binfmt_misc (with the F flag, so containers see them)
    #[command(
        after_help = "Needs root and QEMU's static emulators (Debian/Ubuntu: `apt-get install qemu-user-static`).\n\
        Mounts binfmt_misc when needed; replaces a registration that lacks the F flag."
    )]
    Qemu {
        /// Architecture (aarch64, armv7l, ppc64le, s390x, riscv64); default: all that the host does not run natively
        #[arg(long = "arch", value_name = "ARCH")]
        arch: Vec<String>,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanFormat {
    Text,
    Json,
    Dot,
    /// The shards (`--shards N`) as a GitHub Actions matrix, on one line: `{"include": [...]}`
    GithubMatrix,
    /// The shards (`--shards N`) as a JSON list
    Shards,
}

/// Flags shared by the commands that read the project's configuration. They override
/// pookie.toml and keep the original tool's names.
#[derive(Args, Debug, Clone, Default)]
pub struct ProjectArgs {
    /// Project directory (default: the current directory)
    #[arg(long, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// Build command (replaces `build`)
    #[arg(long, value_name = "COMMAND")]
    pub build: Option<String>,
    /// Test command (replaces `test`)
    #[arg(long, value_name = "COMMAND")]
    pub test: Option<String>,
    /// Python versions, e.g. `3.12 3.13` or `12 13` (replaces `python`)
    #[arg(long = "python-version", value_name = "V", num_args = 1..)]
    pub python_version: Vec<String>,
    /// Targets (replaces `targets`)
    #[arg(long = "target", value_name = "T", num_args = 1..)]
    pub target: Vec<String>,
    /// Compiler for x86_64 Linux targets
    #[arg(long = "linux-x86_64-compiler", value_enum, value_name = "COMPILER")]
    pub linux_x86_64_compiler: Option<Compiler>,
    /// How targets the host cannot run natively are built
    #[arg(long = "linux-non-native-mode", value_enum, value_name = "MODE")]
    pub linux_non_native_mode: Option<NonNativeMode>,
    /// Jobs to run at once (default: CPU cores)
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Only the build identifiers matching this glob
    #[arg(long, value_name = "ID")]
    pub only: Option<String>,
    /// Use cached downloads and indexes only
    #[arg(long)]
    pub offline: bool,
    /// PEM file of certificate authorities that image builds and jobs trust (replaces
    /// `ca-bundle` and $SSL_CERT_FILE)
    #[arg(long = "ca-bundle", value_name = "FILE")]
    pub ca_bundle: Option<PathBuf>,
    /// python-build-standalone release to use instead of GitHub: a directory or URL holding its
    /// SHA256SUMS beside the archives (replaces `[python] mirror`)
    #[arg(long = "python-mirror", value_name = "DIR|URL", env = EnvVars::POOKIE_PYTHON_MIRROR)]
    pub python_mirror: Option<String>,
    /// Refuse selectors that select nothing (a `skip` no build matches, an override that
    /// applies to no build) instead of warning about them
    #[arg(long)]
    pub strict: bool,
    /// Only part K of N of the plan, for a CI matrix: whole builds with their tests, the parts
    /// balanced by what their jobs cost (`pookie plan --format github-matrix --shards N`)
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Share image layers through this registry repository, `host[:port]/path` (replaces
    /// `[caches] registry`): pull layers missing here, push layers built here
    #[arg(long = "cache-registry", value_name = "REPOSITORY", env = EnvVars::POOKIE_CACHE_REGISTRY)]
    pub cache_registry: Option<String>,
}

impl ProjectArgs {
    pub fn overrides(&self) -> CliOverrides {
        CliOverrides {
            workspace: self.workspace.clone(),
            build: self.build.clone(),
            test: self.test.clone(),
            python_versions: self.python_version.clone(),
            targets: self.target.clone(),
            x86_64_compiler: self.linux_x86_64_compiler,
            non_native_mode: self.linux_non_native_mode,
            jobs: self.jobs,
            only: self.only.clone(),
            offline: self.offline,
            strict: self.strict,
            python_mirror: self.python_mirror.clone(),
            ca_bundle: self.ca_bundle.clone(),
            shard: self.shard.clone(),
            cache_registry: self.cache_registry.clone(),
        }
    }
}

/// Exit codes: 0 success, 1 failure while working, 2 bad input.
pub const EXIT_FAILURE: u8 = 1;
pub const EXIT_BAD_INPUT: u8 = 2;

pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let cli = Cli::parse();
    crate::engine::set_verbose(cli.verbose);
    let result = match &cli.command {
        Command::Plan { project, format, shards } => plan::run(project, *format, shards.map(usize::from), &args),
        Command::Run { project, run } => run::run(project, run, &args),
        Command::Images { project } => run::images(project, &args),
        Command::Clean { workspace, images, caches } => run::clean(workspace.as_deref(), *images, *caches),
        Command::Doctor { project } => doctor::run(project, &args),
        Command::Setup(Setup::Qemu { arch }) => doctor::setup_qemu(arch),
        Command::BaseImage(a) => base_image::run(a),
        Command::Report(Report::Merge { reports, output, junit }) => {
            run::merge_reports(reports, output.as_deref(), junit.as_deref())
        }
        Command::Init { workspace, force, from_cibuildwheel } => {
            init::run(workspace.as_deref(), *force, *from_cibuildwheel, &args)
        }
        Command::Schema => {
            print!("{}", crate::config::raw::schema_json());
            Ok(())
        }
        Command::Targets => {
            print!("{}", info::targets());
            Ok(())
        }
        Command::PythonVersions { project } => info::python_versions(project, &args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure { report, code }) => {
            eprintln!("{report:?}");
            ExitCode::from(code)
        }
    }
}

/// An error on its way out: the diagnostic and the exit code it means.
pub struct Failure {
    pub report: miette::Report,
    pub code: u8,
}

impl From<crate::config::ConfigError> for Failure {
    fn from(e: crate::config::ConfigError) -> Self {
        Failure { report: miette::Report::new(e), code: EXIT_BAD_INPUT }
    }
}

impl From<crate::python::fetch::FetchError> for Failure {
    fn from(e: crate::python::fetch::FetchError) -> Self {
        Failure { report: miette::Report::new(e), code: EXIT_FAILURE }
    }
}

impl Failure {
    pub fn msg(code: u8, message: impl Into<String>) -> Self {
        Failure { report: miette::miette!("{}", message.into()), code }
    }
}
