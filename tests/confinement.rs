//! A repository crafted to reach the host through pookie's state files: `pookie clean` (and
//! `run --clean`, which shares it) removes only wheels it can prove it published — plain file
//! names in the output directory with the recorded sha256 — never a file elsewhere, never
//! through a symlink, never a directory it did not make.

mod support;

use support::{Workspace, mirror_table, stderr_of};

fn sha256(path: &std::path::Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

#[test]
fn a_crafted_outputs_record_deletes_nothing() {
    let ws = Workspace::with_config(&mirror_table());
    let host = tempfile::tempdir().unwrap();
    let host_file = host.path().join("precious.whl");
    std::fs::write(&host_file, "the host's").unwrap();
    ws.write("setup.py", "the project's");
    ws.write("src/mod.c", "int x;");
    ws.write("dist/mine-1.0-py3-none-any.whl", "the user's own wheel");
    std::os::unix::fs::symlink(&host_file, ws.path().join("dist/link.whl")).unwrap();
    let record = serde_json::json!({
        "format": 2,
        "created_dir": true,
        "wheels": [
            { "name": "../setup.py", "sha256": sha256(&ws.path().join("setup.py")) },
            { "name": "../src/mod.c", "sha256": sha256(&ws.path().join("src/mod.c")) },
            { "name": host_file.to_str().unwrap(), "sha256": sha256(&host_file) },
            { "name": "link.whl", "sha256": sha256(&host_file) },
            { "name": "mine-1.0-py3-none-any.whl", "sha256": "0".repeat(64) },
        ],
    });
    ws.write(".pookie/outputs.json", &record.to_string());
    let out = ws.pookie(&["clean"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(std::fs::read_to_string(&host_file).unwrap(), "the host's");
    assert_eq!(ws.read("setup.py"), "the project's");
    assert_eq!(ws.read("src/mod.c"), "int x;");
    assert_eq!(ws.read("dist/mine-1.0-py3-none-any.whl"), "the user's own wheel");
    assert!(std::fs::symlink_metadata(ws.path().join("dist/link.whl")).is_ok());
    assert!(!ws.path().join(".pookie").exists(), "pookie's own state goes");
    assert!(stderr_of(&out).contains("kept \"../setup.py\""), "{}", stderr_of(&out));
}

#[test]
fn an_output_directory_pookie_did_not_make_stays() {
    let ws = Workspace::with_config(&format!("output-dir = \"wheelhouse\"\n{}", mirror_table()));
    std::fs::create_dir_all(ws.path().join("wheelhouse")).unwrap();
    ws.write(".pookie/outputs.json", r#"{"format": 2, "created_dir": false, "wheels": []}"#);
    let out = ws.pookie(&["clean"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(ws.path().join("wheelhouse").is_dir(), "clean removed a directory it did not make");
}

/// Two commands that write into one workspace do not run at once: while one holds it, the
/// other stops before it touches anything, and says why.
#[test]
fn a_second_command_in_the_same_workspace_waits_its_turn() {
    use std::os::fd::AsRawFd;
    let ws = Workspace::with_config(&mirror_table());
    ws.write("dist/x-1.0-py3-none-any.whl", "kept");
    let dir = std::fs::File::open(ws.path()).unwrap();
    // The lock pookie takes, held here as another pookie would.
    assert_eq!(unsafe { libc::flock(dir.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) }, 0);
    for args in [&["clean"][..], &["run"], &["images"]] {
        let out = ws.pookie(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr_of(&out));
        assert!(stderr_of(&out).contains("another pookie command is running in"), "{}", stderr_of(&out));
    }
    assert_eq!(ws.read("dist/x-1.0-py3-none-any.whl"), "kept");
    drop(dir);
    let out = ws.pookie(&["clean"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
}
