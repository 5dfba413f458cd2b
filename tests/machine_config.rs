//! The machine's configuration (`$POOKIE_CONFIG`, else `$XDG_CONFIG_HOME/pookie/config.toml`):
//! where Pythons and base images come from, the CA bundle and the engine, named once for every
//! project, beneath each project's own settings; `pookie plan` says what came from it, and bad
//! values there are pointed at in that file.

mod support;

use serde_json::Value;
use support::{Workspace, fixture_mirror, flat, stderr_of, stdout_of, toml_str};

/// A machine configuration in its own directory, and `pookie` with POOKIE_CONFIG naming it.
struct Machine {
    dir: tempfile::TempDir,
}

impl Machine {
    fn new(text: &str) -> Machine {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), text).unwrap();
        Machine { dir }
    }

    fn file(&self) -> std::path::PathBuf {
        self.dir.path().join("config.toml")
    }

    /// `pookie ARGS` in `ws`, with this machine configuration and no user mirror.
    fn pookie(&self, ws: &Workspace, args: &[&str]) -> std::process::Output {
        ws.pookie(args).env("POOKIE_CONFIG", self.file()).env_remove("POOKIE_PYTHON_MIRROR").output().unwrap()
    }
}

fn json(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", stderr_of(out));
    serde_json::from_str(&stdout_of(out)).unwrap()
}

fn base_image(plan: &Value) -> String {
    let base = plan["images"].as_array().unwrap().iter().find(|i| i["name"] == "base/linux-x86_64").unwrap();
    base["from"].as_str().unwrap().to_string()
}

#[test]
fn the_machine_names_mirror_and_images_beneath_the_project() {
    let machine = Machine::new(&format!(
        "[python]\nmirror = {}\n\n[images]\nlinux-x86_64 = \"registry.example.org/base/debian:12\"\nlinux-aarch64 = \"registry.example.org/base/debian-arm64:12\"\n",
        toml_str(&fixture_mirror().display().to_string())
    ));
    let ws = Workspace::with_config("targets = [\"manylinux_2_17_x86_64\"]\npython = [\"3.12\"]\n");
    // No mirror in the project or from the user: the machine's serves.
    let plan = json(&machine.pookie(&ws, &["plan", "--format", "json"]));
    assert_eq!(base_image(&plan), "registry.example.org/base/debian:12");
    assert_eq!(
        plan["machine_settings"]["keys"],
        serde_json::json!(["images.linux-x86_64", "images.linux-aarch64", "python.mirror"])
    );
    let text = stdout_of(&machine.pookie(&ws, &["plan"]));
    assert!(
        text.contains(&format!(
            "From the machine's configuration {}: images.linux-x86_64, images.linux-aarch64, python.mirror",
            machine.file().display()
        )),
        "{text}"
    );
    // The project's own image wins.
    ws.write(
        "pookie.toml",
        "targets = [\"manylinux_2_17_x86_64\"]\npython = [\"3.12\"]\n[images]\nlinux-x86_64 = \"debian:trixie-slim\"\n",
    );
    let plan = json(&machine.pookie(&ws, &["plan", "--format", "json"]));
    assert_eq!(base_image(&plan), "debian:trixie-slim");
    assert!(!plan["machine_settings"]["keys"].as_array().unwrap().contains(&"images.linux-x86_64".into()));

    // A project configured only for cibuildwheel gets them too.
    let cibw = Workspace::new();
    cibw.write(
        "pyproject.toml",
        "[project]\nname = \"demo\"\nversion = \"1\"\n[tool.cibuildwheel]\nbuild = \"cp312-manylinux_x86_64\"\n",
    );
    let plan = json(&machine.pookie(&cibw, &["plan", "--format", "json"]));
    assert_eq!(base_image(&plan), "registry.example.org/base/debian:12");

    // Found in $XDG_CONFIG_HOME/pookie/config.toml without POOKIE_CONFIG.
    let xdg = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(xdg.path().join("pookie")).unwrap();
    std::fs::copy(machine.file(), xdg.path().join("pookie/config.toml")).unwrap();
    let out = ws
        .pookie(&["plan", "--format", "json"])
        .env("XDG_CONFIG_HOME", xdg.path())
        .env_remove("POOKIE_PYTHON_MIRROR")
        .output()
        .unwrap();
    assert!(json(&out)["machine_settings"]["file"].as_str().unwrap().ends_with("pookie/config.toml"));
}

/// Bad values in the machine's file are refused (exit 2) with a diagnostic quoting that file;
/// project keys do not belong there.
#[test]
fn bad_machine_settings_point_into_the_machine_file() {
    let ws = Workspace::with_config("targets = [\"manylinux_2_17_x86_64\"]\npython = [\"3.12\"]\n");
    let refused = |text: &str, says: &str, line: &str| {
        let machine = Machine::new(text);
        let out = machine.pookie(&ws, &["plan"]);
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{text}: {err}");
        assert!(flat(&err).contains(says), "{text}: {err}");
        assert!(
            err.contains(&format!("[{}:{line}", machine.file().display())),
            "{text}: does not point into the file:\n{err}"
        );
    };
    refused("[images]\nlinux-x86_64 = \"--privileged\"\n", "is not an image reference", "2:16");
    refused("engine = \"lxc\"\n", "unknown container engine `lxc`", "1:10");
    refused("[python]\nmirror = \"no-such-dir\"\n", "`no-such-dir` cannot be a mirror", "2:10");
    refused("[python]\nsource = \"conda\"\n", "unknown Python source `conda`", "2:10");
    refused("ca-bundle = \"config.toml\"\n", "holds no PEM certificate", "1:13");
    refused("targets = [\"win_amd64\"]\n", "unknown key `targets`", "1:1");
    // The pool's engines: an address each, TLS over tcp, one name each, some slots.
    refused("[[engines]]\nname = \"arm\"\n", "engine `arm` has no address", "2:8");
    refused("[[engines]]\nname = \"arm\"\nhost = \"tcp://10.0.0.5:2375\"\n", "an engine over tcp needs TLS", "3:8");
    refused("[[engines]]\nname = \"arm\"\nhost = \"http://x\"\n", "is not an engine's address", "3:8");
    refused(
        "[[engines]]\nname = \"a\"\nhost = \"ssh://b\"\n[[engines]]\nname = \"a\"\nhost = \"ssh://c\"\n",
        "two engines are named `a`",
        "5:8",
    );
    refused("[[engines]]\nname = \"arm\"\nhost = \"ssh://x\"\nslots = 0\n", "slots must be between 1 and 1024", "4:9");
    refused(
        "[[engines]]\nname = \"arm\"\ncontext = \"arm\"\ntls = \"nowhere\"\n",
        "the TLS directory has no ca.pem",
        "4:7",
    );
    refused("[[engines]]\nname = \"a b\"\nhost = \"ssh://x\"\n", "`a b` cannot name an engine", "2:8");
    // A machine value the project's settings later refuse is still quoted from the machine's
    // file, not at the same offset of pookie.toml.
    let windows = Workspace::with_config("targets = [\"win_amd64\"]\npython = [\"3.12\"]\n");
    let machine = Machine::new("[python]\nsource = \"image\"\n");
    let err = stderr_of(&machine.pookie(&windows, &["plan"]));
    assert!(
        err.contains("win_amd64 needs its CPython from python-build-standalone")
            && err.contains(&format!("[{}:2:10", machine.file().display())),
        "{err}"
    );
    // POOKIE_CONFIG must name a file.
    let out = ws.pookie(&["plan"]).env("POOKIE_CONFIG", "/nonexistent/pookie.toml").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("POOKIE_CONFIG names `/nonexistent/pookie.toml`"), "{}", stderr_of(&out));
}
