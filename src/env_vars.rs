//! Every environment variable pookie reads on the host or sets in its jobs, in one table (as
//! uv's `EnvVars`): code names them through these constants, and `images/job.sh`, the image
//! scripts and the README use the same names. Variables only the images set for themselves
//! (`POOKIE_TARGET_PREFIX`, `POOKIE_CMAKE_TOOLCHAIN`, `POOKIE_MESON_CROSS`, set by the
//! Dockerfiles) are not here.

pub struct EnvVars;

impl EnvVars {
    // Read by pookie on the host.
    /// The container engine: `docker` or `podman` (before the configuration's `engine`).
    pub const POOKIE_ENGINE: &str = "POOKIE_ENGINE";
    /// pookie's cache directory (else `$XDG_CACHE_HOME/pookie`, else `~/.cache/pookie`).
    pub const POOKIE_CACHE_DIR: &str = "POOKIE_CACHE_DIR";
    pub const XDG_CACHE_HOME: &str = "XDG_CACHE_HOME";
    /// The machine's configuration file (else `$XDG_CONFIG_HOME/pookie/config.toml`).
    pub const POOKIE_CONFIG: &str = "POOKIE_CONFIG";
    pub const XDG_CONFIG_HOME: &str = "XDG_CONFIG_HOME";
    pub const HOME: &str = "HOME";
    /// A python-build-standalone mirror (directory or URL), as `--python-mirror`.
    pub const POOKIE_PYTHON_MIRROR: &str = "POOKIE_PYTHON_MIRROR";
    /// The registry pookie's image layers are shared through (`--cache-registry`).
    pub const POOKIE_CACHE_REGISTRY: &str = "POOKIE_CACHE_REGISTRY";
    /// The binfmt_misc directory `doctor` and `setup qemu` use.
    pub const POOKIE_BINFMT_DIR: &str = "POOKIE_BINFMT_DIR";
    /// Token for GitHub's API when the index comes from GitHub (rate limits).
    pub const GITHUB_TOKEN: &str = "GITHUB_TOKEN";
    /// The CA bundle when neither `--ca-bundle` nor `ca-bundle` names one.
    pub const SSL_CERT_FILE: &str = "SSL_CERT_FILE";
    /// Docker's legacy builder, where buildx is missing (set for the engine's client).
    pub const DOCKER_BUILDKIT: &str = "DOCKER_BUILDKIT";

    // Set in every job (images/job.sh and the user's commands read them).
    /// The build identifier, `cp313-manylinux_2_17_x86_64`.
    pub const POOKIE_BUILD_ID: &str = "POOKIE_BUILD_ID";
    /// `build` or `test` (`install` in the native first stage of a test job, see
    /// `JobNode::install_image`).
    pub const POOKIE_STAGE: &str = "POOKIE_STAGE";
    /// The CPython version, `3.13` or `3.14t`.
    pub const POOKIE_PYTHON: &str = "POOKIE_PYTHON";
    /// The target's wheel platform tag.
    pub const POOKIE_PLATFORM: &str = "POOKIE_PLATFORM";
    /// The job's copy of the project.
    pub const POOKIE_PROJECT: &str = "POOKIE_PROJECT";
    /// Where the build leaves wheels, or where the test's wheel is.
    pub const POOKIE_WHEEL_DIR: &str = "POOKIE_WHEEL_DIR";

    // Set in build jobs.
    /// How job.sh repairs: `auditwheel`, `delvewheel`, `none` or `command`.
    pub const POOKIE_REPAIR: &str = "POOKIE_REPAIR";
    /// The project's `repair-wheel-command`.
    pub const POOKIE_REPAIR_COMMAND: &str = "POOKIE_REPAIR_COMMAND";
    /// The frontend of pookie-build-wheel (`build-frontend`).
    pub const POOKIE_BUILD_FRONTEND: &str = "POOKIE_BUILD_FRONTEND";
    /// The zig target of zig's compiler wrappers.
    pub const POOKIE_ZIG_TARGET: &str = "POOKIE_ZIG_TARGET";
    /// A fat target's slices (`zig target,sysconfig platform,tag` each), built one by one.
    pub const POOKIE_SLICES: &str = "POOKIE_SLICES";
    /// A cross build whose tests run in the target's family: prepare their requirements.
    pub const POOKIE_TARGET_TESTS: &str = "POOKIE_TARGET_TESTS";
    /// before-all: the target's GNU triple, and `1` in a cross build.
    pub const POOKIE_HOST: &str = "POOKIE_HOST";
    pub const POOKIE_CROSS: &str = "POOKIE_CROSS";
    /// CPython's own cross-build variables (images/cross-python.sh says why these two).
    pub const PYTHON_HOST_PLATFORM: &str = "_PYTHON_HOST_PLATFORM";
    pub const PYTHON_SYSCONFIGDATA_NAME: &str = "_PYTHON_SYSCONFIGDATA_NAME";
    pub const CC: &str = "CC";
    pub const CXX: &str = "CXX";
    pub const AR: &str = "AR";
    /// auditwheel's default policy, as cibuildwheel's images set it.
    pub const AUDITWHEEL_PLAT: &str = "AUDITWHEEL_PLAT";
    pub const SOURCE_DATE_EPOCH: &str = "SOURCE_DATE_EPOCH";
    pub const CCACHE_DIR: &str = "CCACHE_DIR";
    /// zig's global cache: the zig cache bucket, in zig builds.
    pub const ZIG_GLOBAL_CACHE_DIR: &str = "ZIG_GLOBAL_CACHE_DIR";

    // Set in test jobs.
    /// The wheel's extras the tests install (`test-extras`).
    pub const POOKIE_TEST_EXTRAS: &str = "POOKIE_TEST_EXTRAS";
    /// Files of the project copied beside the tests (`test-sources`), one per line.
    pub const POOKIE_TEST_SOURCES: &str = "POOKIE_TEST_SOURCES";
    /// Keep QEMU's core dumps to diagnose a SIGBUS (32-bit ARM).
    pub const POOKIE_CORE_DUMPS: &str = "POOKIE_CORE_DUMPS";
    pub const PYTHONFAULTHANDLER: &str = "PYTHONFAULTHANDLER";

    // Set in build and test jobs.
    pub const PIP_CACHE_DIR: &str = "PIP_CACHE_DIR";
}
