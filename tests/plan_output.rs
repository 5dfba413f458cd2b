//! `pookie plan` on pookie.toml.example with the recorded python-build-standalone release: the
//! three views as snapshots, the JSON's documented shape, DOT that Graphviz accepts, and image
//! tags that are content hashes.
//!
//! Image tags hash the Dockerfiles of images/, so the snapshots show them redacted; whether
//! they are stable and change with their inputs is tested separately below.

mod support;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use support::{Workspace, stderr_of, stdout_of};

/// Runs `pookie plan <args>` in the workspace and returns stdout; fails on any error or warning.
fn plan(ws: &Workspace, args: &[&str]) -> String {
    let mut all = vec!["plan"];
    all.extend_from_slice(args);
    let out = ws.pookie(&all).output().expect("pookie runs");
    assert!(out.status.success(), "pookie {all:?} failed:\n{}", stderr_of(&out));
    assert_eq!(stderr_of(&out), "", "pookie {all:?} warned");
    stdout_of(&out)
}

fn plan_json(ws: &Workspace, args: &[&str]) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    serde_json::from_str(&plan(ws, &all)).expect("`pookie plan --format json` prints JSON")
}

/// Replaces what differs between machines and between versions of images/: the content-hash
/// part of image tags and the temporary workspace's path.
fn redact(text: &str, ws: &Workspace) -> String {
    let tags = regex::Regex::new(r"(pookie/[A-Za-z0-9_.-]+):[0-9a-f]{16}\b").expect("regex");
    let text = tags.replace_all(text, "$1:[hash]");
    let root = ws.path().canonicalize().expect("workspace path");
    text.replace(&root.to_string_lossy().into_owned(), "[workspace]")
}

#[test]
fn text_snapshot() {
    let ws = Workspace::example();
    let out = plan(&ws, &[]);
    assert!(
        out.starts_with("11 targets × 4 Python versions (3.11, 3.12, 3.13, 3.14): 44 builds, 44 tests"),
        "unexpected summary line:\n{out}"
    );
    insta::assert_snapshot!("plan_text", redact(&out, &ws));
}

#[test]
fn json_snapshot() {
    let ws = Workspace::example();
    insta::assert_snapshot!("plan_json", redact(&plan(&ws, &["--format", "json"]), &ws));
}

#[test]
fn dot_snapshot() {
    let ws = Workspace::example();
    insta::assert_snapshot!("plan_dot", redact(&plan(&ws, &["--format", "dot"]), &ws));
}

#[test]
fn output_is_deterministic() {
    let ws = Workspace::example();
    for format in ["text", "json", "dot"] {
        let a = plan(&ws, &["--format", format]);
        let b = plan(&ws, &["--format", format]);
        assert_eq!(a, b, "two runs of `pookie plan --format {format}` differ");
    }
}

#[test]
fn json_has_the_documented_fields() {
    let ws = Workspace::example();
    let v = plan_json(&ws, &[]);
    let top: BTreeSet<&str> = v.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(top, BTreeSet::from(["format", "python_release", "images", "jobs", "warnings", "machine_settings"]));
    assert_eq!(v["machine_settings"], Value::Null, "no machine configuration in the tests");
    assert_eq!(v["format"], 1);
    assert_eq!(v["python_release"], "20260814");
    assert_eq!(v["warnings"], Value::Array(vec![]));

    let images = v["images"].as_array().expect("images");
    let jobs = v["jobs"].as_array().expect("jobs");
    let image_names: BTreeSet<&str> = images.iter().map(|i| i["name"].as_str().expect("image name")).collect();
    let job_names: BTreeSet<&str> = jobs.iter().map(|j| j["name"].as_str().expect("job name")).collect();
    assert_eq!(image_names.len(), images.len(), "image names are unique");
    assert_eq!(job_names.len(), jobs.len(), "job names are unique");
    assert_eq!(jobs.len(), 88, "11 targets × 4 Pythons, a build and a test each");

    let tag_shape = regex::Regex::new(r"^pookie/[a-z0-9_.-]+:[0-9a-f]{16}$").expect("regex");
    for image in images {
        for key in ["name", "layer", "family", "arch", "recipe", "from", "tag", "args", "context", "depends_on"] {
            assert!(image.get(key).is_some(), "image lacks `{key}`: {image}");
        }
        let tag = image["tag"].as_str().expect("every tag is resolved with the index");
        assert!(tag_shape.is_match(tag), "tag {tag}");
        for dep in image["depends_on"].as_array().expect("depends_on") {
            assert!(image_names.contains(dep.as_str().expect("name")), "image depends on unknown {dep}");
        }
        for file in image["context"].as_array().expect("context") {
            if file["kind"] == "python-archive" {
                assert!(file["url"].as_str().is_some_and(|u| u.starts_with("file://")), "{file}");
                assert_eq!(file["sha256"].as_str().map(str::len), Some(64), "{file}");
            }
        }
    }

    let mut per_cell: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for job in jobs {
        for key in [
            "name",
            "build_id",
            "target",
            "python",
            "stage",
            "image",
            "install_image",
            "runner",
            "runnable",
            "reason",
            "command",
            "before",
            "env_pass",
            "test_requires",
            "env",
            "dir",
            "log",
            "mounts",
            "repair",
            "output_dir",
            "timeout_secs",
            "depends_on",
        ] {
            assert!(job.get(key).is_some(), "job lacks `{key}`: {job}");
        }
        let name = job["name"].as_str().unwrap();
        let id = job["build_id"].as_str().unwrap();
        let stage = job["stage"].as_str().unwrap();
        assert_eq!(name, format!("{id}/{stage}"));
        per_cell.entry(id).or_default().push(stage);
        assert_eq!(job["timeout_secs"], 45 * 60, "timeout = \"45m\"");
        let deps: Vec<&str> = job["depends_on"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
        match job["image"].as_str() {
            Some(image) => {
                assert!(image_names.contains(image), "{name} runs in unknown image {image}");
                assert!(deps.contains(&image), "{name} does not wait for its image {image}");
                assert_eq!(job["runnable"], true);
            }
            None => {
                assert_eq!(job["runnable"], false, "{name} has no image but is runnable");
                // macOS tests cannot run here; the example's `test-skip` names s390x.
                let reason = job["reason"].as_str().unwrap_or_default();
                assert!(reason.contains("macOS") || (reason == "test-skip" && id.ends_with("s390x")), "{job}");
            }
        }
        if stage == "test" {
            assert!(deps.contains(&format!("{id}/build").as_str()), "{name} does not wait for its build");
            assert_eq!(job["output_dir"], Value::Null);
        } else {
            assert_eq!(job["output_dir"], "dist");
            assert!(job["env"]["CFLAGS"] == "-O2", "[env] reaches build jobs: {job}");
        }
    }
    assert_eq!(per_cell.len(), 44);
    assert!(per_cell.values().all(|stages| stages == &["build", "test"]));

    // [[overrides]] in the example: armv7l/s390x get their own commands and environment.
    let job = |name: &str| jobs.iter().find(|j| j["name"] == name).unwrap_or_else(|| panic!("no job {name}"));
    let arm_test = job("cp312-manylinux_2_17_armv7l/test");
    assert_eq!(arm_test["test_requires"], serde_json::json!(["pytest", "pytest-timeout"]));
    assert_eq!(arm_test["env"]["MYPROJECT_WITH_SIMD"], "0");
    assert_eq!(job("cp312-manylinux_2_17_x86_64/test")["env"]["MYPROJECT_WITH_SIMD"], "1");
    assert!(job("cp313-win_amd64/test")["command"].as_str().unwrap().contains("win32"));
    assert_eq!(job("cp313-macosx_11_0_arm64/test")["runnable"], false);
}

#[test]
fn dot_renders_with_graphviz() {
    let ws = Workspace::example();
    let dot = plan(&ws, &["--format", "dot"]);
    let child = std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => panic!(
            "cannot run Graphviz's `dot` ({e}): this test checks that `pookie plan --format dot` renders; \
             install graphviz (e.g. `apt-get install graphviz`)"
        ),
    };
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(dot.as_bytes()).expect("write to dot");
    }
    let out = child.wait_with_output().expect("dot finishes");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "dot rejected the plan: {stderr}");
    assert!(stderr.trim().is_empty(), "dot warned: {stderr}");
    let svg = String::from_utf8(out.stdout).expect("utf-8 svg");
    assert!(svg.contains("<svg"), "dot printed no SVG");
    // Multi-line labels are real line breaks: the name and the tag are separate SVG texts.
    assert!(svg.contains(">base/linux&#45;x86_64</text>"), "image label is not split into lines");
    assert!(svg.contains(">cp312&#45;win_amd64 test</text>"), "job label is not split into lines");
}

/// name → tag of every image layer, and job → the image it runs in.
fn tags(ws: &Workspace, args: &[&str]) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let v = plan_json(ws, args);
    let images = v["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["name"].as_str().unwrap().to_string(), i["tag"].as_str().unwrap().to_string()))
        .collect();
    let jobs = v["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|j| Some((j["name"].as_str()?.to_string(), j["image"].as_str()?.to_string())))
        .collect();
    (images, jobs)
}

#[test]
fn tags_are_content_hashes() {
    let ws = Workspace::example();
    let gcc_args = ["--linux-x86_64-compiler", "gcc"];
    let (gcc, gcc_jobs) = tags(&ws, &gcc_args);
    assert_eq!(tags(&ws, &gcc_args).0, gcc, "tags differ between two identical runs");

    let (clang, clang_jobs) = tags(&ws, &["--linux-x86_64-compiler", "clang"]);
    let image_of = |images: &BTreeMap<String, String>, jobs: &BTreeMap<String, String>, job: &str| {
        let name = &jobs[job];
        (name.clone(), images[name].clone())
    };

    // The x86_64 builds move to a clang toolchain layer and Python layers on top of it...
    let (gcc_name, gcc_tag) = image_of(&gcc, &gcc_jobs, "cp312-manylinux_2_17_x86_64/build");
    let (clang_name, clang_tag) = image_of(&clang, &clang_jobs, "cp312-manylinux_2_17_x86_64/build");
    assert!(gcc_name.contains("/gcc/") && clang_name.contains("/clang/"), "{gcc_name} {clang_name}");
    assert_ne!(gcc_tag, clang_tag, "the Python layer's tag does not change with the compiler");
    assert_ne!(gcc["toolchain/linux-x86_64/gcc"], clang["toolchain/linux-x86_64/clang"]);
    let (_, gcc_musl) = image_of(&gcc, &gcc_jobs, "cp312-musllinux_1_2_x86_64/build");
    let (_, clang_musl) = image_of(&clang, &clang_jobs, "cp312-musllinux_1_2_x86_64/build");
    assert_eq!(gcc_musl, clang_musl, "musl targets compile with zig, whatever `x86_64-compiler` says");
    // zig, the default, builds x86_64 wheels in the zig layer of the policy's glibc, as it does
    // the cross targets'.
    let (zig, zig_jobs) = tags(&ws, &[]);
    let (zig_name, _) = image_of(&zig, &zig_jobs, "cp312-manylinux_2_17_x86_64/build");
    assert_eq!(zig_name, "python/linux-x86_64/zig/cp312/manylinux_2_17_x86_64");
    // zig's runtime for a target is built on first use into the zig cache bucket, not a layer.
    assert!(zig.keys().all(|name| !name.starts_with("toolchain/linux-x86_64/zig/")), "{zig:?}");

    // ...while the base layers and everything the compiler does not reach keep their tags.
    assert_eq!(gcc["base/linux-x86_64"], clang["base/linux-x86_64"], "the base layer depends on the compiler");
    assert_eq!(gcc["base/musllinux-x86_64"], clang["base/musllinux-x86_64"]);
    assert_eq!(gcc["toolchain/linux-x86_64/zig"], clang["toolchain/linux-x86_64/zig"]);
    for job in ["cp312-manylinux_2_17_aarch64/build", "cp312-win_amd64/build", "cp312-win_amd64/test"] {
        assert_eq!(image_of(&gcc, &gcc_jobs, job), image_of(&clang, &clang_jobs, job), "{job} changed");
    }

    // A different base image changes its family's whole stack, and only that.
    let (other, _) = tags(&ws, &["--target", "manylinux_2_17_x86_64", "musllinux_1_2_x86_64"]);
    assert_eq!(other["base/linux-x86_64"], gcc["base/linux-x86_64"], "tags depend on the other targets");
    ws.write("pookie.toml", &support::example().replace("\"debian:bookworm-slim\"", "\"debian:trixie-slim\""));
    let (trixie, _) = tags(&ws, &gcc_args);
    assert_ne!(trixie["base/linux-x86_64"], gcc["base/linux-x86_64"]);
    assert_ne!(trixie["python/linux-x86_64/gcc/cp312"], gcc["python/linux-x86_64/gcc/cp312"]);
    assert_eq!(trixie["base/musllinux-x86_64"], gcc["base/musllinux-x86_64"]);
}

#[test]
fn cross_layers_from_images_copy_the_targets_files_and_announce_the_target() {
    let ws = support::Workspace::with_config(
        r#"targets = ["manylinux_2_17_aarch64", "musllinux_1_2_x86_64"]
test = "python -m pytest"
[python]
source = "image"
versions = ["3.12"]
[images]
linux-aarch64 = "example.org/arm64-pythons:1"
"#,
    );
    let v = plan_json(&ws, &[]);
    let image = |name: &str| v["images"].as_array().unwrap().iter().find(|i| i["name"] == name).cloned().unwrap();
    let job = |name: &str| v["jobs"].as_array().unwrap().iter().find(|j| j["name"] == name).cloned().unwrap();

    // The cross layer takes the target's headers and sysconfig data from the aarch64 image
    // (under the interpreter's prefix), so a change of that image rebuilds it.
    let cross = image("python/linux-x86_64/zig/cp312/manylinux_2_17_aarch64");
    assert_eq!(cross["recipe"], "cross-python-image");
    assert_eq!(cross["args"]["TARGET_IMAGE"], "example.org/arm64-pythons:1");
    assert_eq!(cross["args"]["TARGET_PREFIX"], "/usr");
    assert_eq!(cross["args"]["TARGET_GNU_TYPE"], "aarch64-*-linux-gnu*");
    assert_eq!(cross["sources"], serde_json::json!(["example.org/arm64-pythons:1"]));
    assert_eq!(cross["depends_on"], serde_json::json!(["toolchain/linux-x86_64/zig"]));
    let build = job("cp312-manylinux_2_17_aarch64/build");
    assert_eq!(build["env"]["ZIG_GLOBAL_CACHE_DIR"], "/pookie/cache/zig");
    let zig_cache = build["mounts"].as_array().unwrap().iter().find(|m| m["container"] == "/pookie/cache/zig");
    let bucket = zig_cache.expect("the zig cache is mounted")["host"]["cache"].as_str().unwrap().to_string();
    assert!(bucket.starts_with("zig/") && bucket.ends_with("-x86_64"), "{bucket}");
    assert_eq!(build["env"]["_PYTHON_HOST_PLATFORM"], "linux-aarch64");
    assert_eq!(build["env"]["_PYTHON_SYSCONFIGDATA_NAME"], "_sysconfigdata__pookie_target");
    assert_eq!(build["env"]["CC"], "zig-cc");
    assert_eq!(job("cp312-manylinux_2_17_aarch64/test")["image"], "python/linux-aarch64/runtime/cp312");

    // musl builds natively with zig in their own family, without cross variables.
    let musl = job("cp312-musllinux_1_2_x86_64/build");
    assert_eq!(musl["image"], "python/musllinux-x86_64/zig/cp312/musllinux_1_2_x86_64");
    assert_eq!(musl["env"]["POOKIE_ZIG_TARGET"], "x86_64-linux-musl");
    assert!(musl["env"].get("_PYTHON_HOST_PLATFORM").is_none());

    // Emulated: gcc in the target's own family, tests in the same image.
    let v = plan_json(&ws, &["--linux-non-native-mode", "emulate"]);
    let build =
        v["jobs"].as_array().unwrap().iter().find(|j| j["name"] == "cp312-manylinux_2_17_aarch64/build").unwrap();
    assert_eq!(build["image"], "python/linux-aarch64/gcc/cp312");
    assert_eq!(build["runner"], "qemu-aarch64");
    assert!(build["env"].get("_PYTHON_HOST_PLATFORM").is_none());
}

/// Selectors that select nothing are said in `plan` (and `run`): a target's tag given to
/// `skip` (identifiers are PYTHON-TARGET), an override matching no build. A skip pattern of
/// versions the run does not build is not one (configurations are shared).
#[test]
fn selectors_that_select_nothing_are_warned_about() {
    let ws = Workspace::with_config(&format!(
        "targets = [\"manylinux_2_17_x86_64\", \"win_amd64\"]\nskip = [\"win_amd64\", \"cp39-*\"]\n\
         [[overrides]]\nselect = \"*-macosx*\"\nenv = {{ A = \"1\" }}\n{}",
        support::mirror_table().replace("[python]", "[python]\nversions = [\"3.12\"]")
    ));
    let out = ws.pookie(&["plan"]).output().unwrap();
    assert!(out.status.success(), "{}", support::stderr_of(&out));
    let text = support::stdout_of(&out);
    assert!(text.contains("`skip` pattern `win_amd64` matches no build identifier: it names a target, and identifiers are PYTHON-TARGET (`*-win_amd64`)"), "{text}");
    assert!(text.contains("[[overrides]] #1 (select = [\"*-macosx*\"]) matches no build of this run"), "{text}");
    assert!(!text.contains("cp39-*"), "{text}");
    assert!(text.contains("cp312-win_amd64"), "the target was not skipped: {text}");
}

/// `before-all` is one layer per build image, between the toolchain and the Python layers:
/// shared by the Pythons of a target, not by test-only images; keyed by its command, its
/// environment and the files it reads; the first build of an image decides its command.
#[test]
fn before_all_is_one_layer_per_build_image() {
    let config = r#"targets = ["manylinux_2_17_x86_64", "manylinux_2_17_aarch64"]
python = ["3.12", "3.13"]
before-all = "make -C vendor install PREFIX=$POOKIE_TARGET_PREFIX"
before-all-inputs = ["vendor"]
test = "true"

[[overrides]]
select = "*-manylinux_2_17_aarch64"
before-all = "echo {project} for aarch64"
"#;
    let ws = Workspace::with_config(config);
    ws.write("vendor/Makefile", "all:\n");
    ws.write("src/mod.c", "int x;\n");
    let plan = plan_json(&ws, &[]);
    let images = plan["images"].as_array().unwrap();
    let layers: Vec<&Value> = images.iter().filter(|i| i["layer"] == "before-all").collect();
    let names: Vec<&str> = layers.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["before-all/linux-x86_64/zig/x86_64-linux-gnu.2.17", "before-all/linux-x86_64/zig/aarch64-linux-gnu.2.17"]
    );
    for layer in &layers {
        let files = &layer["context"][0];
        assert_eq!(files["kind"], "project-files");
        assert_eq!(files["files"], serde_json::json!(["vendor/Makefile"]), "only the declared inputs");
        let children: Vec<&Value> =
            images.iter().filter(|i| i["depends_on"] == serde_json::json!([layer["name"]])).collect();
        assert_eq!(children.len(), 2, "both Pythons build on {}", layer["name"]);
        assert!(children.iter().all(|c| c["layer"] == "python"));
    }
    let (x86, arm) = (&layers[0]["args"], &layers[1]["args"]);
    assert_eq!(x86["BEFORE_ALL"], "make -C vendor install PREFIX=$POOKIE_TARGET_PREFIX");
    assert_eq!(arm["BEFORE_ALL"], "echo /pookie/before-all/src for aarch64", "the override and {{project}}");
    let arm_env = arm["BEFORE_ALL_ENV"].as_str().unwrap();
    for line in [
        "export CC='zig-cc'",
        "export POOKIE_ZIG_TARGET='aarch64-linux-gnu.2.17'",
        "export POOKIE_HOST='aarch64-linux-gnu'",
        "export POOKIE_CROSS='1'",
        "export RANLIB='zig-ranlib'",
    ] {
        assert!(arm_env.lines().any(|l| l == line), "{line} missing from\n{arm_env}");
    }
    assert!(!arm_env.contains("_PYTHON_SYSCONFIGDATA_NAME"), "the target's sysconfig leaked into before-all");
    assert!(!x86["BEFORE_ALL_ENV"].as_str().unwrap().contains("POOKIE_CROSS"));
    // Test-only images (the aarch64 runtime layers under QEMU) have no before-all below them.
    assert!(
        images
            .iter()
            .filter(|i| i["family"] == "linux-aarch64")
            .all(|i| !i["name"].as_str().unwrap().contains("before-all"))
    );

    // A change to an input changes the layer and the layers above it; a change elsewhere does not.
    let tag = |ws: &Workspace| {
        let plan = plan_json(ws, &[]);
        let tags: BTreeMap<String, String> = plan["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["name"].as_str().unwrap().to_string(), i["tag"].as_str().unwrap().to_string()))
            .collect();
        tags
    };
    let before = tag(&ws);
    ws.write("src/mod.c", "int y;\n");
    assert_eq!(tag(&ws), before, "a file before-all does not read changed its layer");
    ws.write("vendor/Makefile", "all:\n\ttrue\n");
    let after = tag(&ws);
    for (name, t) in &before {
        let moved = after[name] != *t;
        let above = name.starts_with("before-all/") || name.starts_with("python/linux-x86_64/zig/");
        assert_eq!(moved, above, "{name}");
    }
}

/// Build jobs get SOURCE_DATE_EPOCH: the project's last commit in a git checkout, else
/// `source-date-epoch`, with the user's `$SOURCE_DATE_EPOCH` first; tests get none.
#[test]
fn builds_get_the_time_of_the_last_commit_as_source_date_epoch() {
    let epoch = |ws: &Workspace, env: Option<&str>| -> Vec<Option<String>> {
        let mut cmd = ws.pookie(&["plan", "--format", "json"]);
        match env {
            Some(v) => cmd.env("SOURCE_DATE_EPOCH", v),
            None => cmd.env_remove("SOURCE_DATE_EPOCH"),
        };
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
        plan["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["env"]["SOURCE_DATE_EPOCH"].as_str().map(str::to_string).filter(|_| j["stage"] == "build"))
            .collect()
    };
    let ws = Workspace::with_config("targets = [\"manylinux_2_17_x86_64\"]\npython = [\"3.12\"]\ntest = \"true\"\n");
    assert_eq!(epoch(&ws, None), [None, None], "no git checkout, no setting: none");
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(ws.path())
            .env("GIT_AUTHOR_DATE", "@1712345678 +0000")
            .env("GIT_COMMITTER_DATE", "@1712345678 +0000")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.org")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.org")
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {}", stderr_of(&out));
    };
    git(&["init", "-q"]);
    git(&["add", "pookie.toml"]);
    git(&["commit", "-q", "-m", "first"]);
    assert_eq!(epoch(&ws, None), [Some("1712345678".to_string()), None]);
    assert_eq!(epoch(&ws, Some("1600000000")), [Some("1600000000".to_string()), None], "the user's wins");
    ws.write(
        "pookie.toml",
        "targets = [\"manylinux_2_17_x86_64\"]\npython = [\"3.12\"]\nsource-date-epoch = 1650000000\n",
    );
    assert_eq!(epoch(&ws, None), [Some("1650000000".to_string())]);
}

/// `test-groups`: the requirements of PEP 735 groups (names compared normalized, includes
/// resolved) join `test-requires` in every test job.
#[test]
fn test_groups_join_the_test_requirements() {
    let ws = Workspace::with_config(
        "targets = [\"manylinux_2_17_x86_64\"]\npython = [\"3.12\"]\ntest = \"pytest\"\ntest-requires = [\"pytest\"]\ntest-groups = [\"Test_Suite\"]\n",
    );
    ws.write(
        "pyproject.toml",
        "[project]\nname = \"x\"\nversion = \"1\"\n[dependency-groups]\ntest-suite = [\"hypothesis>=6\", {include-group = \"typing\"}]\ntyping = [\"mypy\"]\n",
    );
    let plan = plan_json(&ws, &[]);
    let test = plan["jobs"].as_array().unwrap().iter().find(|j| j["stage"] == "test").unwrap();
    assert_eq!(test["test_requires"], serde_json::json!(["pytest", "hypothesis>=6", "mypy"]));
}

/// `config-settings` reach the backend as `pookie-build-wheel -C KEY=VALUE` (a list gives the
/// key once per value); a build command of the project's own is left as written.
#[test]
fn config_settings_are_passed_by_pookie_build_wheel() {
    let ws = Workspace::with_config(
        "targets = [\"manylinux_2_17_x86_64\", \"win_amd64\"]\npython = [\"3.12\"]\nconfig-settings = { setup-args = [\"-Dblas=none\", \"-Dsimd=false\"], builddir = \"build dir\" }\n[[overrides]]\nselect = \"*-win_amd64\"\nbuild = \"python -m build --wheel\"\n",
    );
    let plan = plan_json(&ws, &[]);
    let command = |id: &str| {
        plan["jobs"].as_array().unwrap().iter().find(|j| j["build_id"] == id && j["stage"] == "build").unwrap()["command"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        command("cp312-manylinux_2_17_x86_64"),
        "pookie-build-wheel -C 'builddir=build dir' -C setup-args=-Dblas=none -C setup-args=-Dsimd=false"
    );
    assert_eq!(command("cp312-win_amd64"), "python -m build --wheel");
}

/// Tests under QEMU of cross builds install in the build's own (native) image first, so that pip
/// does not run emulated; emulated builds, native targets and the Pythons an abi3 build of
/// another Python serves install in the test's own image.
#[test]
fn cross_tests_under_qemu_install_in_the_build_image() {
    let ws = Workspace::with_config(
        "targets = [\"manylinux_2_17_x86_64\", \"manylinux_2_17_aarch64\"]\npython = [\"3.12\", \"3.13\"]\ntest = \"pytest\"\n",
    );
    // Each test's install image beside its build's image.
    let installs = |args: &[&str]| -> BTreeMap<String, (Value, Value)> {
        let plan = plan_json(&ws, args);
        let jobs = plan["jobs"].as_array().unwrap();
        let image_of = |name: String| jobs.iter().find(|j| j["name"] == name.as_str()).unwrap()["image"].clone();
        jobs.iter()
            .filter(|j| j["stage"] == "test")
            .map(|j| {
                let id = j["build_id"].as_str().unwrap().to_string();
                let install = j["install_image"].clone();
                let build_image = image_of(format!("{id}/build"));
                if !install.is_null() {
                    assert_eq!(j["runner"], "qemu-aarch64");
                    // After it: through its build (cross), or as a layer of its own (emulate).
                    let after = j["depends_on"].as_array().unwrap();
                    assert!(
                        install == build_image || after.contains(&install),
                        "{id}: does not wait for its install image"
                    );
                }
                (id.clone(), (install, build_image))
            })
            .collect()
    };
    let cross = installs(&[]);
    let natively: Vec<&str> = cross.iter().filter(|(_, (i, _))| !i.is_null()).map(|(id, _)| id.as_str()).collect();
    assert_eq!(natively, ["cp312-manylinux_2_17_aarch64", "cp313-manylinux_2_17_aarch64"]);
    for id in natively {
        assert_eq!(cross[id].0, cross[id].1, "{id}: the cross build's own image");
    }
    // Emulated builds' tests install in the same native layers, which they do not build in.
    let emulated = installs(&["--linux-non-native-mode", "emulate"]);
    for (id, (install, build_image)) in &emulated {
        match id.contains("aarch64") {
            true => {
                assert_eq!(install, &cross[id].1, "{id}: the layer of the cell's cross build");
                assert_ne!(install, build_image);
            }
            false => assert!(install.is_null(), "{id}"),
        }
    }

    let ws = Workspace::with_config(
        "targets = [\"manylinux_2_17_aarch64\"]\npython = [\"3.12\", \"3.13\"]\ntest = \"pytest\"\nabi3 = true\n",
    );
    // One abi3 build (3.12's) for both: 3.13's tests install in a native layer of 3.13 of their own.
    let plan = plan_json(&ws, &[]);
    let installs: BTreeMap<&str, &str> = plan["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["stage"] == "test")
        .map(|j| (j["build_id"].as_str().unwrap(), j["install_image"].as_str().unwrap()))
        .collect();
    assert_eq!(
        installs,
        BTreeMap::from([
            ("cp312-manylinux_2_17_aarch64", "python/linux-x86_64/zig/cp312/manylinux_2_17_aarch64"),
            ("cp313-manylinux_2_17_aarch64", "python/linux-x86_64/zig/cp313/manylinux_2_17_aarch64"),
        ])
    );
}

/// `--shard K/N` splits the plan into whole builds with their tests: each job in exactly one
/// shard, each shard holding the layers its jobs need and no other; `--format github-matrix`
/// lists the shards, balanced by the jobs' estimated cost.
#[test]
fn shards_split_the_plan_into_whole_builds_with_the_layers_they_need() {
    let ws = Workspace::example();
    let jobs_of = |p: &Value| -> BTreeSet<String> {
        p["jobs"].as_array().unwrap().iter().map(|j| j["name"].as_str().unwrap().to_string()).collect()
    };
    let all = jobs_of(&plan_json(&ws, &[]));
    for n in [1, 3, 7] {
        let mut union = BTreeSet::new();
        for k in 1..=n {
            let part = plan_json(&ws, &["--shard", &format!("{k}/{n}")]);
            let jobs = jobs_of(&part);
            let images: BTreeSet<String> =
                part["images"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_string()).collect();
            // Every node's dependencies are in the shard; every layer is needed by one of its jobs.
            let mut needed = BTreeSet::new();
            let mut stack: Vec<&Value> = part["jobs"].as_array().unwrap().iter().collect();
            let by_name: BTreeMap<&str, &Value> =
                part["images"].as_array().unwrap().iter().map(|i| (i["name"].as_str().unwrap(), i)).collect();
            while let Some(node) = stack.pop() {
                for d in node["depends_on"].as_array().unwrap() {
                    let d = d.as_str().unwrap();
                    assert!(images.contains(d) || jobs.contains(d), "shard {k}/{n}: {} needs {d}", node["name"]);
                    if let Some(image) = by_name.get(d)
                        && needed.insert(d.to_string())
                    {
                        stack.push(image);
                    }
                }
            }
            assert_eq!(needed, images, "shard {k}/{n} holds only the layers its jobs need");
            for j in &jobs {
                let build = format!("{}/build", j.split('/').next().unwrap());
                assert!(jobs.contains(&build), "shard {k}/{n}: {j} without {build}");
            }
            assert!(union.is_disjoint(&jobs), "a job in two of {n} shards");
            union.extend(jobs);
        }
        assert_eq!(union, all, "the {n} shards together are the plan");
    }
    // The matrix: one line of JSON; with as many shards as builds, one build each.
    let matrix = |n: usize| -> Vec<Value> {
        let out = plan(&ws, &["--format", "github-matrix", "--shards", &n.to_string()]);
        assert_eq!(out.trim_end().lines().count(), 1, "{out}");
        let m: Value = serde_json::from_str(&out).unwrap();
        m["include"].as_array().unwrap().clone()
    };
    let singles = matrix(44);
    assert!(singles.iter().all(|s| s["builds"].as_array().unwrap().len() == 1), "{singles:?}");
    let heaviest_build = singles.iter().map(|s| s["weight"].as_u64().unwrap()).max().unwrap();
    let four = matrix(4);
    let shards: Vec<&str> = four.iter().map(|s| s["shard"].as_str().unwrap()).collect();
    assert_eq!(shards, ["1/4", "2/4", "3/4", "4/4"]);
    let weights: Vec<u64> = four.iter().map(|s| s["weight"].as_u64().unwrap()).collect();
    let (max, min) = (weights.iter().max().unwrap(), weights.iter().min().unwrap());
    assert!(max - min <= heaviest_build, "unbalanced shards {weights:?} (heaviest build {heaviest_build})");
    let builds: usize = four.iter().map(|s| s["builds"].as_array().unwrap().len()).sum();
    assert_eq!(builds, 44);
}

#[test]
fn a_shard_that_is_not_k_of_n_is_refused_at_the_flag() {
    let ws = Workspace::example();
    for bad in ["0/2", "3/2", "two", "1/0", "1/999"] {
        let out = ws.pookie(&["plan", "--shard", bad]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "--shard {bad}");
        let err = stderr_of(&out);
        assert!(err.contains(&format!("`{bad}` is not a shard")) && err.contains("expected K/N"), "{err}");
    }
    let out = ws.pookie(&["plan", "--format", "github-matrix"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("need --shards N"), "{}", stderr_of(&out));
}
