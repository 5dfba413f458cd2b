//! The shape of `pookie.toml` (or `[tool.pookie]` in pyproject.toml) exactly as written, with
//! the position of every value so that errors can point at it. These types are also the source
//! of `schema/pookie.schema.json`. Nothing here judges values; [`super::resolve`] does.

use crate::target::Family;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;
use toml::Spanned;

/// pookie.toml: what to build, for which platforms and Python versions, and how to test it.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "pookie.toml")]
pub struct RawConfig {
    /// Wheel platforms to build for (tags of `pookie targets`; globs such as `manylinux_*`
    /// allowed). Default: all.
    #[schemars(with = "Option<Vec<String>>")]
    pub targets: Option<Spanned<Vec<Spanned<String>>>>,
    /// Python versions to build for: a list such as `["3.12", "3.13"]` (or `["12", "13"]`), or a
    /// table with the versions and where interpreters come from. Default: the last 4 minor
    /// versions available for all chosen targets.
    #[schemars(with = "Option<PythonSchema>")]
    pub python: Option<Spanned<RawPython>>,
    /// Command that builds the wheels, run by bash in the job's copy of the project, where
    /// `python` and `pip` are the target's. Wheels go to `$POOKIE_WHEEL_DIR` (or `./dist`).
    #[schemars(with = "Option<String>")]
    pub build: Option<Spanned<String>>,
    /// PEP 517 config settings passed to the build backend by `pookie-build-wheel` (as `-C
    /// KEY=VALUE`): a table of strings, or of lists of strings for keys given more than once,
    /// e.g. `{ setup-args = ["-Dblas=none"] }`. Default: none.
    #[schemars(with = "Option<BTreeMap<String, ConfigSettingSchema>>")]
    pub config_settings: Option<Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
    /// The PEP 517 frontend of the default build command: `build` (pypa/build, its isolated
    /// environment installed by pip), `build[uv]` (installed by uv), `pip` (`pip wheel`) or `uv`
    /// (`uv build`); uv is installed in the Python layers. Cross builds keep pookie's split of
    /// build and target requirements: there `pip` and `uv` name the installer. A custom `build`
    /// command ignores it. Default: `build`.
    #[schemars(with = "Option<super::BuildFrontend>")]
    pub build_frontend: Option<Spanned<String>>,
    /// Command that tests an installed wheel, run by bash in an empty directory; `{project}`
    /// stands for the project's path. Default: no test jobs.
    #[schemars(with = "Option<String>")]
    pub test: Option<Spanned<String>>,
    /// Requirements pip-installs before the test command (e.g. `["pytest"]`).
    #[schemars(with = "Option<Vec<String>>")]
    pub test_requires: Option<Spanned<Vec<String>>>,
    /// Extras of the project installed with the wheel for its tests (`pip install
    /// 'wheel[test]'`), e.g. `["test"]`. Default: none.
    #[schemars(with = "Option<Vec<String>>")]
    pub test_extras: Option<Vec<Spanned<String>>>,
    /// Dependency groups of pyproject.toml (PEP 735 `[dependency-groups]`) whose requirements
    /// are installed for the tests, after `test-requires`, e.g. `["test"]`. Default: none.
    #[schemars(with = "Option<Vec<String>>")]
    pub test_groups: Option<Vec<Spanned<String>>>,
    /// Files and directories of the project copied into the (otherwise empty) directory the
    /// test command runs in, e.g. `["tests", "pyproject.toml"]`. Default: none.
    #[schemars(with = "Option<Vec<String>>")]
    pub test_sources: Option<Vec<Spanned<String>>>,
    /// Command run by bash in each build job's copy of the project before `build`, with the
    /// same environment (e.g. generating sources, `pip install` of a build-time tool).
    #[schemars(with = "Option<String>")]
    pub before_build: Option<Spanned<String>>,
    /// Command run by bash in each test job, in its copy of the project, before the wheel and
    /// the test requirements are installed.
    #[schemars(with = "Option<String>")]
    pub before_test: Option<Spanned<String>>,
    /// Command run by bash once per build image (a target, or an image several targets share),
    /// as an image layer of its own that later runs reuse while its command and inputs stay the
    /// same: system libraries the build links against, built or installed. Libraries installed
    /// into `$POOKIE_TARGET_PREFIX` are found by the builds and vendored by the repair step; in
    /// cross builds `CC`, `CXX`, `AR`, `RANLIB` and `$POOKIE_HOST` (for `./configure --host`)
    /// name the target's toolchain, `$POOKIE_CMAKE_TOOLCHAIN` and `$POOKIE_MESON_CROSS` its
    /// CMake toolchain file and meson cross file. Default: none.
    #[schemars(with = "Option<String>")]
    pub before_all: Option<Spanned<String>>,
    /// Replaces pookie's repair of the wheels (auditwheel, delvewheel): a bash command with
    /// `{wheel}` (the built wheel) and `{dest_dir}` (where repaired wheels go), as in
    /// cibuildwheel. An empty string copies the wheel unrepaired. pookie still checks each
    /// wheel's tags against the target. Default: pookie's repair.
    #[schemars(with = "Option<String>")]
    pub repair_wheel_command: Option<Spanned<String>>,
    /// Globs of the project's files `before-all` reads: they are copied into its layer, and a
    /// change to one of them runs it again. Default: every file of the project (as jobs see it).
    #[schemars(with = "Option<Vec<String>>")]
    pub before_all_inputs: Option<Vec<Spanned<String>>>,
    /// The build makes stable-ABI wheels (`cp3X-abi3-…`, e.g. setuptools' `py_limited_api`):
    /// build once per target with the oldest chosen Python, test with every chosen Python.
    /// Default: false.
    pub abi3: Option<bool>,
    /// Seconds since 1970 that build jobs get as `SOURCE_DATE_EPOCH`, the time reproducible
    /// builds stamp into wheels (zip entries, `__DATE__`), so that equal inputs give
    /// byte-identical wheels. Default: `$SOURCE_DATE_EPOCH` of pookie's environment, else the
    /// time of the project's last git commit, else none.
    #[schemars(with = "Option<u64>", range(min = 315532800))]
    pub source_date_epoch: Option<Spanned<i64>>,
    /// Where repaired wheels land, relative to the workspace. Default: `dist`.
    #[schemars(with = "Option<String>")]
    pub output_dir: Option<Spanned<String>>,
    /// Jobs run at once. Default: the number of CPU cores.
    #[schemars(with = "Option<u32>", range(min = 1, max = 1024))]
    pub jobs: Option<Spanned<i64>>,
    /// Environment variables set in every build and test job.
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub env: Option<Spanned<BTreeMap<Spanned<String>, Spanned<String>>>>,
    /// Names of variables of pookie's own environment handed to every build and test job
    /// (tokens, proxies, compiler flags of the machine). Their values never appear in the plan.
    /// Default: none.
    #[schemars(with = "Option<Vec<String>>")]
    pub environment_pass: Option<Vec<Spanned<String>>>,
    /// Longest a single job may run: seconds, or a duration such as `"90s"`, `"30m"`, `"1h30m"`.
    #[schemars(with = "Option<TimeoutSchema>")]
    pub timeout: Option<Spanned<RawTimeout>>,
    /// Build identifiers to leave out: space-separated globs such as `"cp310-* *-win_amd64"`,
    /// or a list of them.
    #[schemars(with = "Option<Patterns>")]
    pub skip: Option<Spanned<RawPatterns>>,
    /// Build identifiers whose tests are skipped: their wheels are built, repaired and
    /// delivered untested, and the run says so. Globs like `skip`.
    #[schemars(with = "Option<Patterns>")]
    pub test_skip: Option<Spanned<RawPatterns>>,
    /// Build only the identifiers matching these globs (e.g. `"cp312-manylinux_2_17_x86_64"`).
    #[schemars(with = "Option<Patterns>")]
    pub only: Option<Spanned<RawPatterns>>,
    /// Container engine: `docker` or `podman`. Default: `$POOKIE_ENGINE`, else docker if
    /// found, else podman.
    #[schemars(with = "Option<super::EngineKind>")]
    pub engine: Option<Spanned<String>>,
    /// PEM file of certificate authorities that image builds and jobs trust for HTTPS (needed
    /// behind TLS-inspecting proxies). Default: the file `$SSL_CERT_FILE` names, when set.
    #[schemars(with = "Option<String>")]
    pub ca_bundle: Option<Spanned<String>>,
    /// Caches shared by the jobs of a target across runs: pip's and the compiler's.
    #[serde(default)]
    pub caches: RawCaches,
    /// How Linux wheels are compiled: the x86_64 compiler and what to do with targets the host
    /// cannot run natively.
    #[serde(default)]
    pub linux: RawLinux,
    /// Base image of each image family (the FAMILY column of `pookie targets`), replacing the
    /// official public image pookie starts from.
    #[serde(default)]
    pub images: RawImages,
    /// Per-identifier changes, applied in order to the jobs whose identifier matches `select`.
    #[serde(default)]
    pub overrides: Vec<RawOverride>,
}

/// `[caches]`: caches shared by the jobs of a target, kept in pookie's cache directory, and the
/// registry that shares image layers and job results between machines.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCaches {
    /// pip's download and wheel cache, one per target and Python version, so that dependencies
    /// are downloaded once. Default: true.
    pub pip: Option<bool>,
    /// ccache for gcc and clang builds, one per image family and compiler, so that rebuilding
    /// unchanged sources is fast. Default: true.
    pub compiler: Option<bool>,
    /// An OCI registry repository (`host[:port]/path`) pookie's image layers and job results are
    /// shared through: a layer missing here is pulled from it instead of built, a job whose
    /// result is there (same cache key) takes it instead of running, and what is built or passes
    /// here is pushed to it, so that other machines and CI runners reuse it. The engine's login
    /// and TLS settings apply to layers, `docker login`'s credentials to results. Default: none
    /// (nothing is pushed anywhere).
    #[schemars(with = "Option<String>")]
    pub registry: Option<Spanned<String>>,
}

/// `[linux]`: how Linux wheels are compiled.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawLinux {
    /// Compiler for x86_64 Linux targets: `zig` (default: the policy's glibc, libc++ linked
    /// statically), or the base image's `gcc` or `clang` (its glibc and libstdc++).
    // kebab-case would spell it `x86-64-compiler`; the architecture keeps its underscore.
    #[serde(rename = "x86_64-compiler")]
    #[schemars(rename = "x86_64-compiler", with = "Option<super::Compiler>")]
    pub x86_64_compiler: Option<Spanned<String>>,
    /// The manylinux policy of manylinux targets given by a glob or by default: the glibc
    /// version wheels may need, `"2_17"` (default), `"2_28"`, `"2_34"`, … (a target named with
    /// its full tag, `manylinux_2_28_aarch64`, keeps its own).
    #[schemars(with = "Option<PolicySchema>")]
    pub manylinux: Option<Spanned<String>>,
    /// How targets the host cannot run natively are built: `cross` (default: compile on the
    /// host with a cross toolchain, test under QEMU) or `emulate` (build and test under QEMU).
    #[schemars(with = "Option<crate::target::NonNativeMode>")]
    pub non_native_mode: Option<Spanned<String>>,
}

/// The `[python]` table.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawPythonTable {
    /// Minor versions, as in the list form of `python`.
    #[schemars(with = "Option<Vec<VersionSchema>>")]
    pub versions: Option<Spanned<Vec<Spanned<RawVersion>>>>,
    /// Where interpreters come from: `pbs` (python-build-standalone, downloaded and verified;
    /// default) or `image` (already in the base image, found by `path`).
    #[schemars(with = "Option<super::PythonSourceKind>")]
    pub source: Option<Spanned<String>>,
    /// With `source = "image"`: where each interpreter is, with `{major}`, `{minor}` and `{t}`
    /// (`t` for a free-threaded version, else nothing) placeholders. Default:
    /// `/usr/bin/python{major}.{minor}{t}`.
    #[schemars(with = "Option<String>")]
    pub path: Option<Spanned<String>>,
    /// URL or local directory holding one python-build-standalone release (its SHA256SUMS
    /// beside the archives), used instead of GitHub.
    #[schemars(with = "Option<String>")]
    pub mirror: Option<Spanned<String>>,
    /// python-build-standalone release to use, e.g. `"20260814"`. Default: the latest. With
    /// `mirror`, the release the mirror must hold.
    #[schemars(with = "Option<String>")]
    pub release: Option<Spanned<String>>,
    /// Allow pre-releases (alphas, betas, release candidates). Default: false.
    pub prereleases: Option<bool>,
}

/// `python = [...]` or `[python]`.
#[derive(Debug)]
pub enum RawPython {
    List(Spanned<Vec<Spanned<RawVersion>>>),
    Table(RawPythonTable),
}

impl<'de> Deserialize<'de> for RawPython {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Spanned needs to see the sequence itself, so buffer nothing: decide on the first token.
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawPython;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of Python versions or a [python] table")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawPython, A::Error> {
                let v = Vec::<Spanned<RawVersion>>::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                // The list's own span is not available here: `RawConfig::python` is spanned, and
                // config takes it from there. Entries carry theirs.
                Ok(RawPython::List(Spanned::new(0..0, v)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawPython, A::Error> {
                RawPythonTable::deserialize(de::value::MapAccessDeserializer::new(map)).map(RawPython::Table)
            }
        }
        d.deserialize_any(V)
    }
}

/// One Python version as written: a string (`"3.12"`, `"12"`) or an integer (`12`).
#[derive(Debug, Clone)]
pub struct RawVersion(pub String);

impl<'de> Deserialize<'de> for RawVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawVersion;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a Python version as a string, such as \"3.12\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawVersion, E> {
                Ok(RawVersion(s.to_string()))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<RawVersion, E> {
                Ok(RawVersion(n.to_string()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<RawVersion, E> {
                Err(E::custom(format!(
                    "Python versions must be quoted strings such as \"3.12\", not the number {n} (unquoted, 3.10 would read as 3.1)"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// `timeout = 600` or `timeout = "10m"`.
#[derive(Debug, Clone)]
pub enum RawTimeout {
    Seconds(i64),
    Text(String),
}

impl<'de> Deserialize<'de> for RawTimeout {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawTimeout;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("seconds, or a duration such as \"30m\"")
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<RawTimeout, E> {
                Ok(RawTimeout::Seconds(n))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawTimeout, E> {
                Ok(RawTimeout::Text(s.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Globs as one space-separated string or a list.
#[derive(Debug, Clone)]
pub struct RawPatterns(pub Vec<String>);

impl<'de> Deserialize<'de> for RawPatterns {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawPatterns;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string of space-separated globs or a list of globs")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawPatterns, E> {
                Ok(RawPatterns(s.split_whitespace().map(str::to_string).collect()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawPatterns, A::Error> {
                let mut v = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    v.extend(s.split_whitespace().map(str::to_string));
                }
                Ok(RawPatterns(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// `[images]`: the base image of each family, keyed as `pookie targets`' FAMILY column (the
/// family table of [`crate::target::FAMILIES`]: a new family is one row there).
#[derive(Debug, Default)]
pub struct RawImages(pub BTreeMap<Family, Spanned<String>>);

impl<'de> Deserialize<'de> for RawImages {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// A family's key; any other key is refused as serde refuses an unknown field, where
        /// the TOML deserializer knows the key's position.
        struct Key(Family);
        impl<'de> Deserialize<'de> for Key {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let key = String::deserialize(d)?;
                Family::from_key(&key).map(Key).ok_or_else(|| de::Error::unknown_field(&key, Family::keys()))
            }
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawImages;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table of image families and their base images")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawImages, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(Key(family)) = map.next_key()? {
                    out.insert(family, map.next_value()?);
                }
                Ok(RawImages(out))
            }
        }
        d.deserialize_map(V)
    }
}

impl JsonSchema for RawImages {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RawImages".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let properties: serde_json::Map<String, serde_json::Value> = crate::target::FAMILIES
            .iter()
            .map(|f| {
                let description = format!("{}. Default: `{}`.", f.about, f.default_image);
                (f.key.to_string(), serde_json::json!({ "description": description, "type": "string" }))
            })
            .collect();
        schemars::json_schema!({
            "description": "`[images]`: the base image of each family. Defaults are official public images; the keys\nmatch `pookie targets`' family column.",
            "type": "object",
            "properties": properties,
            "additionalProperties": false,
        })
    }
}

/// One `[[overrides]]` entry.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawOverride {
    /// Globs of build identifiers this entry applies to, e.g. `"cp312-win_*"`.
    #[schemars(with = "Patterns")]
    pub select: Spanned<RawPatterns>,
    /// Replaces the build command.
    #[schemars(with = "Option<String>")]
    pub build: Option<Spanned<String>>,
    /// Replaces the build frontend.
    #[schemars(with = "Option<super::BuildFrontend>")]
    pub build_frontend: Option<Spanned<String>>,
    /// Replaces the config settings.
    #[schemars(with = "Option<BTreeMap<String, ConfigSettingSchema>>")]
    pub config_settings: Option<Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
    /// Replaces the test command.
    #[schemars(with = "Option<String>")]
    pub test: Option<Spanned<String>>,
    /// Replaces the test requirements.
    pub test_requires: Option<Vec<String>>,
    /// Replaces the before-build command.
    #[schemars(with = "Option<String>")]
    pub before_build: Option<Spanned<String>>,
    /// Replaces the before-test command.
    #[schemars(with = "Option<String>")]
    pub before_test: Option<Spanned<String>>,
    /// Replaces the repair-wheel-command.
    #[schemars(with = "Option<String>")]
    pub repair_wheel_command: Option<Spanned<String>>,
    /// Replaces the before-all command of the images of the matching builds (an image's first
    /// build in the plan decides, as in cibuildwheel).
    #[schemars(with = "Option<String>")]
    pub before_all: Option<Spanned<String>>,
    /// Added to (and overriding) the environment.
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub env: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
    /// How this entry's options join the value before it (the top level's, then earlier
    /// entries'), as cibuildwheel's `inherit`: `"none"` (default: replace), `"append"` or
    /// `"prepend"` (commands joined by `&&`, lists concatenated), e.g. `{ before-all = "append" }`.
    pub inherit: Option<RawInherit>,
}

/// `inherit` of an `[[overrides]]` entry: per option, `none`, `append` or `prepend`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawInherit {
    /// How this entry's `test` joins the one before it.
    #[schemars(with = "Option<super::Inherit>")]
    pub test: Option<Spanned<String>>,
    /// How this entry's `config-settings` join the ones before them.
    #[schemars(with = "Option<super::Inherit>")]
    pub config_settings: Option<Spanned<String>>,
    /// How this entry's `test-requires` joins the one before it.
    #[schemars(with = "Option<super::Inherit>")]
    pub test_requires: Option<Spanned<String>>,
    /// How this entry's `before-all` joins the one before it.
    #[schemars(with = "Option<super::Inherit>")]
    pub before_all: Option<Spanned<String>>,
    /// How this entry's `before-build` joins the one before it.
    #[schemars(with = "Option<super::Inherit>")]
    pub before_build: Option<Spanned<String>>,
    /// How this entry's `before-test` joins the one before it.
    #[schemars(with = "Option<super::Inherit>")]
    pub before_test: Option<Spanned<String>>,
    /// How this entry's `repair-wheel-command` joins the one before it.
    #[schemars(with = "Option<super::Inherit>")]
    pub repair_wheel_command: Option<Spanned<String>>,
}

// Schema-only shapes for values that are parsed by hand above (enums of one word are their
// own schema: crate::choice).

/// A config setting's value: a string, or a list of strings.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum ConfigSettingSchema {
    One(String),
    Many(Vec<String>),
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum PythonSchema {
    List(Vec<VersionSchema>),
    Table(RawPythonTable),
}

/// A CPython minor version: `"3.12"`, `"12"` or `12`; `"3.14t"` for the free-threaded build.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum VersionSchema {
    Text(#[schemars(regex(pattern = r"^\s*(3\.)?[0-9]+t?\s*$"))] String),
    Minor(u32),
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum TimeoutSchema {
    Seconds(#[schemars(range(min = 1))] u64),
    Text(#[schemars(regex(pattern = r"^\s*([0-9]+\s*[hms]?\s*)+$"))] String),
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum Patterns {
    Text(String),
    List(Vec<String>),
}

/// A manylinux policy: `2_17`, or as its tag begins, `manylinux_2_17`.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct PolicySchema(#[schemars(regex(pattern = r"^(manylinux_)?2_[0-9]+$"))] String);

/// The JSON schema of pookie.toml, as committed in `schema/pookie.schema.json`.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(RawConfig);
    let mut s = serde_json::to_string_pretty(&schema).expect("schema serializes");
    s.push('\n');
    s
}
