//! `pookie clean --images` removes every image pookie built, so this test is `#[ignore]`d:
//! scripts/test.sh (README's test command) runs it by name after the rest of the suite, so that
//! the other end-to-end tests keep their cached layers whatever order cargo picks.

mod support;

use support::e2e::*;

fn config() -> String {
    format!(
        "targets = [\"manylinux_2_17_x86_64\"]\n[python]\nsource = \"image\"\nversions = [\"3.13\"]\n[images]\nlinux-x86_64 = \"{}\"\n",
        sid_image()
    )
}

#[test]
#[ignore = "removes every pookie image: scripts/test.sh runs it after the rest"]
fn clean_images_removes_pookies_images_only() {
    require(&[&sid_image()]);
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), format!("FROM {}\nLABEL purpose=test\n", sid_image())).unwrap();
    let build = |tag: &str, label: Option<&str>| {
        let mut args = vec!["build", "-q", "-t", tag];
        if let Some(l) = label {
            args.extend(["--label", l]);
        }
        args.push(dir.path().to_str().unwrap());
        let out = std::process::Command::new(engine()).args(&args).env("DOCKER_BUILDKIT", "0").output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    build("pookie-test/managed:1", Some("org.pookie.managed=true"));
    build("pookie-test/unmanaged:1", None);
    let p = Project::new(&config());
    let out = p.pookie(&["clean", "--images"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let exists =
        |r: &str| std::process::Command::new(engine()).args(["image", "inspect", r]).output().unwrap().status.success();
    assert!(!exists("pookie-test/managed:1"), "pookie's image survived clean --images");
    assert!(exists("pookie-test/unmanaged:1"), "clean --images removed an image that is not pookie's");
    assert!(exists(&sid_image()), "clean --images removed a base image");
    engine_output(&["rmi", "pookie-test/unmanaged:1"]);
}
