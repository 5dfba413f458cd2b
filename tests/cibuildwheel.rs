//! A project configured only with `[tool.cibuildwheel]` plans without a line of pookie
//! configuration: cibuildwheel's selectors and identifiers translated, its options honoured, and
//! every key pookie leaves out listed with the reason.

mod support;

use serde_json::Value;
use support::{Workspace, stderr_of, stdout_of};

const PYPROJECT: &str = r#"[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "demo"
version = "1.0"

[tool.cibuildwheel]
build = "cp312-* cp313-*"
skip = ["pp*", "*-musllinux_*", "cp313-manylinux_aarch64"]
test-skip = "*-macosx_arm64"
test-requires = "pytest hypothesis"
test-extras = "test,fast"
test-command = ["python -c 'import demo'", "pytest {package}/tests"]
before-build = "python tools/codegen.py"
environment = 'CFLAGS="-O2 -g0" GREETING=hello PATHS="$PATH:/opt/bin"'
build-frontend = "build[uv]; args: --verbose"
manylinux-x86_64-image = "manylinux_2_28"
config-settings = { "setup-args" = ["-Dfast=true", "-Dsimd=false"] }

[tool.cibuildwheel.linux]
archs = ["auto", "aarch64", "i686"]
before-build = "yum install -y libffi-devel"

[tool.cibuildwheel.windows]
archs = ["AMD64", "ARM64"]

[tool.cibuildwheel.macos]
archs = ["arm64", "universal2"]

[[tool.cibuildwheel.overrides]]
select = "cp312-manylinux_x86_64"
test-command = "pytest -x {project}/tests"
inherit.test-command = "append"

[[tool.cibuildwheel.overrides]]
select = "*-win_amd64"
config-settings.setup-args = "-Db_vscrt=mt"
inherit.config-settings = "append"

[[tool.cibuildwheel.overrides]]
select = "pp311-*"
before-test = "pip install --pre numpy"
"#;

fn plan(ws: &Workspace) -> Value {
    let out = ws.pookie(&["plan", "--format", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    serde_json::from_str(&stdout_of(&out)).unwrap()
}

#[test]
fn a_cibuildwheel_project_plans_with_its_own_configuration() {
    let ws = Workspace::new();
    ws.write("pyproject.toml", PYPROJECT);
    let v = plan(&ws);
    let jobs = v["jobs"].as_array().unwrap();
    let ids: std::collections::BTreeSet<&str> = jobs.iter().map(|j| j["build_id"].as_str().unwrap()).collect();
    // Linux auto (x86_64) and aarch64 (manylinux only: musllinux is skipped; cp313 aarch64
    // skipped), win_amd64 and win_arm64, macOS arm64 and universal2; i686 has no python-build-standalone CPython.
    let expected = [
        "cp312-manylinux_2_17_x86_64",
        "cp313-manylinux_2_17_x86_64",
        "cp312-manylinux_2_17_aarch64",
        "cp312-win_amd64",
        "cp313-win_amd64",
        "cp312-win_arm64",
        "cp313-win_arm64",
        "cp312-macosx_11_0_arm64",
        "cp313-macosx_11_0_arm64",
        "cp312-macosx_11_0_universal2",
        "cp313-macosx_11_0_universal2",
    ];
    assert_eq!(ids, expected.into_iter().collect(), "{ids:?}");

    let job = |id: &str, stage: &str| {
        jobs.iter().find(|j| j["build_id"] == id && j["stage"] == stage).unwrap_or_else(|| panic!("{id} {stage}"))
    };
    // The platform table's before-build replaces the general one for Linux.
    assert_eq!(job("cp312-win_amd64", "build")["before"], "python tools/codegen.py");
    assert_eq!(job("cp312-manylinux_2_17_x86_64", "build")["before"], "yum install -y libffi-devel");
    // config-settings reach the backend through pookie-build-wheel.
    // An override's config settings append to them (inherit.config-settings = "append").
    assert_eq!(
        job("cp312-manylinux_2_17_x86_64", "build")["command"],
        "pookie-build-wheel -C setup-args=-Dfast=true -C setup-args=-Dsimd=false"
    );
    assert_eq!(
        job("cp312-win_amd64", "build")["command"],
        "pookie-build-wheel -C setup-args=-Dfast=true -C setup-args=-Dsimd=false -C setup-args=-Db_vscrt=mt"
    );
    // A list of test commands runs one after the other; {package} is the project; the
    // override appends its test to the one before (inherit.test-command = "append").
    assert_eq!(
        job("cp313-manylinux_2_17_x86_64", "test")["command"],
        "python -c 'import demo' && pytest /pookie/job/src/tests"
    );
    assert_eq!(
        job("cp312-manylinux_2_17_x86_64", "test")["command"],
        "python -c 'import demo' && pytest /pookie/job/src/tests && pytest -x /pookie/job/src/tests"
    );
    assert_eq!(job("cp312-win_amd64", "test")["test_requires"], serde_json::json!(["pytest", "hypothesis"]));
    assert_eq!(job("cp312-win_amd64", "test")["env"]["POOKIE_TEST_EXTRAS"], "test,fast");
    // test-skip of macOS arm64 (not runnable here anyway): said as test-skip.
    assert_eq!(job("cp312-macosx_11_0_arm64", "test")["reason"], "test-skip");
    // Literal variables pass; one that expands $PATH is left out (and said).
    let env = &job("cp312-win_amd64", "build")["env"];
    assert_eq!(env["CFLAGS"], "-O2 -g0");
    assert_eq!(env["GREETING"], "hello");
    assert!(env.get("PATHS").is_none(), "{env}");

    let warnings: Vec<&str> = v["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    let said =
        |piece: &str| assert!(warnings.iter().any(|w| w.contains(piece)), "no warning with {piece:?}: {warnings:#?}");
    said("configuration from [tool.cibuildwheel] of pyproject.toml");
    said("[tool.cibuildwheel] `build-frontend` args are not passed on by pookie");
    assert_eq!(job("cp312-win_amd64", "build")["env"]["POOKIE_BUILD_FRONTEND"], "build[uv]");
    said("[tool.cibuildwheel] `manylinux-x86_64-image` is ignored: pookie builds on its own layers");
    said("[tool.cibuildwheel.linux] manylinux_2_17_i686 is left out: python-build-standalone has no CPython for it");
    said("environment `PATHS` is ignored: its value expands variables");
    assert!(!warnings.iter().any(|w| w.contains("pp*")), "PyPy selectors are dropped quietly: {warnings:#?}");
    assert!(!warnings.iter().any(|w| w.contains("select = []")), "so are PyPy-only overrides: {warnings:#?}");
}

#[test]
fn pookies_own_configuration_wins_over_cibuildwheels() {
    let ws = Workspace::new();
    ws.write("pyproject.toml", &format!("{PYPROJECT}\n[tool.pookie]\ntargets = [\"manylinux_2_17_x86_64\"]\n"));
    let v = plan(&ws);
    let warnings = v["warnings"].as_array().unwrap();
    assert!(!warnings.iter().any(|w| w.as_str().unwrap().contains("cibuildwheel")), "{warnings:?}");
    assert!(v["jobs"].as_array().unwrap().iter().all(|j| j["target"] == "manylinux_2_17_x86_64"));
}

#[test]
fn bad_values_point_into_pyproject() {
    let ws = Workspace::new();
    ws.write("pyproject.toml", &PYPROJECT.replace("test-requires = \"pytest hypothesis\"", "test-requires = 3"));
    let out = ws.pookie(&["plan"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(err.contains("pyproject.toml:") && err.contains("test-requires = 3"), "{err}");
}

/// `pookie init --from-cibuildwheel` writes a pookie.toml that plans exactly what the
/// `[tool.cibuildwheel]` table plans (every image and job), lists what it left out as comments,
/// and then takes precedence over the table.
#[test]
fn init_from_cibuildwheel_writes_the_same_plan_as_pookie_toml() {
    let ws = Workspace::new();
    let pyproject = PYPROJECT.replace(
        "[tool.cibuildwheel.linux]",
        "before-all = \"make -C vendor install\"\nrepair-wheel-command = \"auditwheel repair -w {dest_dir} {wheel}\"\ntest-groups = \"test\"\n[dependency-groups]\ntest = [\"pytest\"]\n[tool.cibuildwheel.linux]",
    );
    // [dependency-groups] must not sit inside [tool.cibuildwheel]: move it to the end.
    let pyproject = pyproject.replace("[dependency-groups]\ntest = [\"pytest\"]\n", "")
        + "\n[dependency-groups]\ntest = [\"pytest\"]\n";
    ws.write("pyproject.toml", &pyproject);
    ws.write("vendor/Makefile", "install:\n");
    let before = plan(&ws);
    let out = ws.pookie(&["init", "--from-cibuildwheel"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let written = ws.read("pookie.toml");
    assert!(written.contains("build-frontend = \"build[uv]\""), "{written}");
    assert!(written.contains("before-all = \"make -C vendor install\""), "{written}");
    let after = plan(&ws);
    assert_eq!(after["images"], before["images"], "the images differ:\n{written}");
    assert_eq!(after["jobs"], before["jobs"], "the jobs differ:\n{written}");
    // Once written, pookie.toml is the configuration: a second init refuses to overwrite it.
    let again = ws.pookie(&["init", "--from-cibuildwheel"]).output().unwrap();
    assert_eq!(again.status.code(), Some(2));
    // A project without the table is told so.
    let empty = Workspace::new();
    empty.write("pyproject.toml", "[project]\nname = \"x\"\nversion = \"1\"\n");
    let out = empty.pookie(&["init", "--from-cibuildwheel"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("has no [tool.cibuildwheel]"), "{}", stderr_of(&out));
}

/// cibuildwheel's `CIBW_*` variables configure a project as its table does, and win over it;
/// a setup.py-only project configured by variables alone plans too.
#[test]
fn cibw_variables_are_read_and_win_over_the_table() {
    let ws = Workspace::new();
    ws.write(
        "pyproject.toml",
        "[project]\nname = \"demo\"\nversion = \"1.0\"\n[tool.cibuildwheel]\nbuild = \"cp313-*\"\ntest-command = \"false\"\n",
    );
    let vars = [
        ("CIBW_BUILD", "cp312-*"),
        ("CIBW_SKIP", "*-win_* *-macosx_* *-musllinux_*"),
        ("CIBW_ARCHS_LINUX", "aarch64"),
        ("CIBW_TEST_COMMAND", "pytest {project}/tests"),
        ("CIBW_BEFORE_ALL_LINUX", "make -C vendor install"),
        ("CIBW_CONFIG_SETTINGS", "setup-args=-Da=b setup-args=-Dc=d"),
        ("CIBW_BUILD_VERBOSITY", "1"),
    ];
    let mut cmd = ws.pookie(&["plan", "--format", "json"]);
    cmd.envs(vars);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let v: Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    let ids: std::collections::BTreeSet<&str> =
        v["jobs"].as_array().unwrap().iter().map(|j| j["build_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["cp312-manylinux_2_17_aarch64"].into_iter().collect(), "{ids:?}");
    let build = v["jobs"].as_array().unwrap().iter().find(|j| j["stage"] == "build").unwrap();
    assert_eq!(build["command"], "pookie-build-wheel -C setup-args=-Da=b -C setup-args=-Dc=d");
    let test = v["jobs"].as_array().unwrap().iter().find(|j| j["stage"] == "test").unwrap();
    assert_eq!(test["command"], "pytest /pookie/job/src/tests");
    let layer = v["images"].as_array().unwrap().iter().find(|i| i["layer"] == "before-all").expect("before-all layer");
    assert_eq!(layer["args"]["BEFORE_ALL"], "make -C vendor install");
    let warnings = v["warnings"].to_string();
    assert!(warnings.contains("CIBW_ARCHS_LINUX") && warnings.contains("`build-verbosity` is ignored"), "{warnings}");

    // No pyproject.toml at all: the variables alone.
    let ws = Workspace::new();
    ws.write("setup.py", "from setuptools import setup\nsetup(name='demo', version='1.0')\n");
    let mut cmd = ws.pookie(&["plan", "--format", "json"]);
    cmd.envs([("CIBW_BUILD", "cp312-manylinux_x86_64")]);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let v: Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    let ids: Vec<&str> = v["jobs"].as_array().unwrap().iter().map(|j| j["build_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["cp312-manylinux_2_17_x86_64"]);
}

/// `inherit` in pookie.toml's overrides, as cibuildwheel defines it: each entry joins the value
/// before it (the top level's, then earlier entries'), commands by `&&`, lists concatenated;
/// `none` (and no `inherit`) replaces.
#[test]
fn overrides_inherit_append_prepend_and_replace() {
    let ws = Workspace::new();
    ws.write(
        "pookie.toml",
        r#"targets = ["manylinux_2_17_x86_64"]
test = "pytest"
test-requires = ["pytest"]
before-build = "echo top"
before-all = "make deps"
[python]
versions = ["3.12", "3.13"]
[[overrides]]
select = "cp313-*"
before-build = "echo more"
test-requires = ["numpy"]
before-all = "make more-deps"
inherit = { before-build = "append", test-requires = "prepend", before-all = "append" }
[[overrides]]
select = "*"
before-build = "echo first"
test = "python -c 'import demo'"
inherit = { before-build = "prepend", test = "none" }
"#,
    );
    let v = plan(&ws);
    let jobs = v["jobs"].as_array().unwrap();
    let job = |id: &str, stage: &str| {
        jobs.iter().find(|j| j["build_id"] == id && j["stage"] == stage).unwrap_or_else(|| panic!("{id} {stage}"))
    };
    assert_eq!(job("cp313-manylinux_2_17_x86_64", "build")["before"], "echo first && echo top && echo more");
    assert_eq!(job("cp312-manylinux_2_17_x86_64", "build")["before"], "echo first && echo top");
    assert_eq!(job("cp313-manylinux_2_17_x86_64", "test")["test_requires"], serde_json::json!(["numpy", "pytest"]));
    assert_eq!(job("cp312-manylinux_2_17_x86_64", "test")["test_requires"], serde_json::json!(["pytest"]));
    assert_eq!(job("cp312-manylinux_2_17_x86_64", "test")["command"], "python -c 'import demo'");
    // before-all: one image per target, its first build (cp312) decides, as in cibuildwheel.
    let before_all: Vec<&Value> =
        v["images"].as_array().unwrap().iter().filter(|i| i["layer"] == "before-all").collect();
    assert_eq!(before_all.len(), 1, "{before_all:?}");
    assert_eq!(before_all[0]["args"]["BEFORE_ALL"], "make deps");

    ws.write("pookie.toml", &ws.read("pookie.toml").replace("before-build = \"append\"", "before-build = \"after\""));
    let out = ws.pookie(&["plan"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(err.contains("unknown inherit mode `after`") && err.contains("pookie.toml:13:28"), "{err}");
}
