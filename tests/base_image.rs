//! `pookie base-image`: the image archive it writes loads into the real engine with the
//! architecture it claims, a cached archive is loaded and tagged without bootstrapping, and the
//! command refuses bad requests and unfit machines with the fix.
//! The engine test fails (never skips) when no engine answers: `.ci/run` starts one.

use pookie::base_image::{ImageMeta, KEY_LABEL, Options, Outcome, Spec, Variant, archive_rootfs, ensure};
use pookie::engine::Engine;
use pookie::process::Cancel;
use pookie::target::Arch;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

fn pookie() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pookie"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn engine() -> Engine {
    let engine = Engine::detect(None).unwrap_or_else(|e| panic!("this test needs a container engine: {e}"));
    if let Err(e) = engine.ping() {
        panic!("this test needs a running container engine (`.ci/run` starts dockerd): {e}");
    }
    engine
}

/// Removes the image even when an assertion fails.
struct RemoveImage<'a>(&'a Engine, &'a str);

impl Drop for RemoveImage<'_> {
    fn drop(&mut self) {
        let _ = self.0.output(["image", "rm", "-f", self.1]);
    }
}

fn tiny_rootfs(root: &Path) {
    fs::create_dir_all(root.join("usr/bin")).unwrap();
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::create_dir_all(root.join("tmp")).unwrap();
    fs::set_permissions(root.join("tmp"), fs::Permissions::from_mode(0o1777)).unwrap();
    fs::write(root.join("etc/os-release"), "ID=tiny\n").unwrap();
    fs::write(root.join("usr/bin/hello"), "#!/bin/sh\necho hello\n").unwrap();
    fs::set_permissions(root.join("usr/bin/hello"), fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("usr/bin", root.join("bin")).unwrap();
}

#[test]
fn tiny_arm64_image_loads_with_its_architecture() {
    let engine = engine();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    tiny_rootfs(&root);
    let tag = "pookie-test/tiny-arm64:1";
    let _ = engine.output(["image", "rm", "-f", tag]);
    let _cleanup = RemoveImage(&engine, tag);

    let archive = dir.path().join("tiny.tar");
    let info = archive_rootfs(&root, &ImageMeta::new(Arch::Aarch64), &[tag.to_string()], &archive, &Cancel::default())
        .unwrap();
    engine.load(&archive).unwrap_or_else(|e| panic!("loading the archive failed: {e}"));

    let inspect = engine
        .output(["image", "inspect", "--format", "{{.Architecture}} {{.Os}} {{.Id}} {{json .Config.Cmd}}", tag])
        .unwrap();
    assert_eq!(inspect.trim(), format!("arm64 linux {} [\"bash\"]", info.image_id));
    // The layer is the one written: the engine lists its diff id.
    let layers = engine.output(["image", "inspect", "--format", "{{json .RootFS.Layers}}", tag]).unwrap();
    assert_eq!(layers.trim(), format!("[\"{}\"]", info.diff_id));
}

#[test]
fn tiny_armhf_image_claims_arm_v7() {
    let engine = engine();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    tiny_rootfs(&root);
    let tag = "pookie-test/tiny-armhf:1";
    let _ = engine.output(["image", "rm", "-f", tag]);
    let _cleanup = RemoveImage(&engine, tag);

    let archive = dir.path().join("tiny.tar");
    archive_rootfs(&root, &ImageMeta::new(Arch::Armv7l), &[tag.to_string()], &archive, &Cancel::default()).unwrap();
    engine.load(&archive).unwrap();
    let inspect = engine.output(["image", "inspect", tag]).unwrap();
    let v: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    assert_eq!(v[0]["Architecture"], "arm", "{inspect}");
    // Older daemons do not report the variant; when they do, it is v7.
    if let Some(variant) = v[0]["Variant"].as_str() {
        assert_eq!(variant, "v7");
    }
}

/// An archive in the cache (with the sidecar saying what it holds) is loaded and tagged without
/// bootstrapping, so without root; asked again, the tag is already up to date.
#[test]
fn cached_archive_is_loaded_then_up_to_date() {
    let engine = engine();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    tiny_rootfs(&root);
    let tag = "pookie-test/cached-arm64:1";
    let _ = engine.output(["image", "rm", "-f", tag]);
    let _cleanup = RemoveImage(&engine, tag);

    let spec = Spec::new("bookworm", Arch::Aarch64, Variant::Minbase, None, &[], &[]).unwrap();
    let cache = dir.path().join("cache");
    fs::create_dir_all(&cache).unwrap();
    let mut meta = ImageMeta::new(Arch::Aarch64);
    meta.labels.insert(KEY_LABEL.into(), spec.key());
    let name = spec.cache_name();
    let info = archive_rootfs(&root, &meta, &[], &cache.join(format!("{name}.tar")), &Cancel::default()).unwrap();
    let sidecar = serde_json::json!({ "image_id": info.image_id, "key": spec.key(), "packages": [] });
    fs::write(cache.join(format!("{name}.json")), sidecar.to_string()).unwrap();

    let opts = Options { spec, tag: tag.into(), cache_dir: cache, force: false, keyring: None, args: String::new() };
    let mut lines = Vec::new();
    let outcome = ensure(&engine, &opts, &Cancel::default(), &mut |l: &str| lines.push(l.to_string())).unwrap();
    assert!(matches!(&outcome, Outcome::FromCache { image_id, .. } if *image_id == info.image_id), "{outcome:?}");
    assert!(lines[0].starts_with("using the cached archive"), "{lines:?}");
    let id = engine.output(["image", "inspect", "--format", "{{.Id}}", tag]).unwrap();
    assert_eq!(id.trim(), info.image_id);

    let again = ensure(&engine, &opts, &Cancel::default(), &mut |_: &str| {}).unwrap();
    assert_eq!(again, Outcome::UpToDate { image_id: info.image_id.clone() });
}

fn base_image(args: &[&str]) -> Output {
    let mut c = pookie();
    c.arg("base-image").args(args);
    c.output().unwrap()
}

#[test]
fn bad_arch_is_refused_with_the_choices() {
    let out = base_image(&["--suite", "bookworm", "--tag", "x/y:z", "--arch", "mips"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("'mips'") && err.contains("arm64") && err.contains("ppc64el"), "{err}");
}

#[test]
fn unknown_suite_needs_a_mirror() {
    let out = base_image(&["--suite", "warty", "--tag", "x/y:z"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("does not know the mirror of suite `warty`"), "{err}");
    assert!(err.contains("--mirror"), "{err}");
    assert!(err.contains("bookworm") && err.contains("noble"), "the known suites are listed: {err}");
}

#[test]
fn bad_package_and_mirror_are_refused() {
    let out = base_image(&["--suite", "sid", "--tag", "x/y:z", "--package", "python3.13-dev;rm"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("is not a valid package name"), "{}", text(&out.stderr));
    let out = base_image(&["--suite", "sid", "--tag", "x/y:z", "--mirror", "deb.debian.org/debian"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("is not a valid mirror"), "{}", text(&out.stderr));
}

/// A directory of stand-ins: a `docker` whose daemon answers and has no images, and whatever
/// else the test names (each exits 1 if ever run).
fn fakes(dir: &Path, others: &[&str]) -> String {
    fs::create_dir_all(dir).unwrap();
    let docker = "#!/bin/sh\ncase \"$1\" in version) echo 20.10.0 ;; *) exit 1 ;; esac\n";
    fs::write(dir.join("docker"), docker).unwrap();
    fs::set_permissions(dir.join("docker"), fs::Permissions::from_mode(0o755)).unwrap();
    for o in others {
        fs::write(dir.join(o), "#!/bin/sh\nexit 1\n").unwrap();
        fs::set_permissions(dir.join(o), fs::Permissions::from_mode(0o755)).unwrap();
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    format!("{}:/usr/bin:/bin", dir.display())
}

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn unfit_machine_is_told_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let path = fakes(&tmp.path().join("bin"), &[]);
    let cache = tmp.path().join("cache");
    let args = ["base-image", "--suite", "bookworm", "--tag", "pookie-test/never:1", "--cache-dir"];
    let out = pookie().args(args).arg(&cache).env("PATH", &path).env_remove("POOKIE_ENGINE").output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    if is_root() {
        // /usr/sbin is not on PATH, so debootstrap is not found.
        assert!(err.contains("`debootstrap` is not installed"), "{err}");
        assert!(err.contains("apt-get install -y debootstrap"), "{err}");
    } else {
        assert!(err.contains("must run as root"), "{err}");
    }

    // Not root: checked before anything is bootstrapped.
    if is_root() && Path::new("/usr/bin/setpriv").exists() {
        let out = Command::new("/usr/bin/setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(env!("CARGO_BIN_EXE_pookie"))
            .args(args)
            .arg(&cache)
            .env("PATH", &path)
            .env("HOME", tmp.path())
            .env_remove("POOKIE_ENGINE")
            .output()
            .unwrap();
        let err = text(&out.stderr);
        // The binary may live where nobody cannot reach it (e.g. under /root).
        if !err.contains("Permission denied") {
            assert_eq!(out.status.code(), Some(1), "{err}");
            assert!(err.contains("must run as root") && err.contains("sudo pookie base-image"), "{err}");
        }
    }

    // A foreign architecture needs QEMU registered with binfmt_misc: the message gives the commands.
    let qemu = Path::new("/proc/sys/fs/binfmt_misc/qemu-s390x");
    if is_root() && !qemu.exists() && std::env::consts::ARCH != "s390x" {
        let path = fakes(&tmp.path().join("bin2"), &["debootstrap", "chroot"]);
        let out = pookie()
            .args(["base-image", "--suite", "kali-rolling", "--mirror", "http://127.0.0.1:9/kali"])
            .args(["--arch", "s390x", "--tag", "pookie-test/never:1", "--cache-dir"])
            .arg(&cache)
            .env("PATH", &path)
            .env_remove("POOKIE_ENGINE")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(err.contains("binfmt_misc has no `qemu-s390x` entry"), "{err}");
        assert!(err.contains("pookie setup qemu --arch s390x"), "{err}");
    }
    // A keyring that is not there: named, with where to get one.
    if is_root() {
        let path = fakes(&tmp.path().join("bin3"), &["debootstrap", "chroot"]);
        let out = pookie()
            .args(["base-image", "--suite", "noble", "--keyring", "/nonexistent/ubuntu.gpg"])
            .args(["--tag", "pookie-test/never:1", "--cache-dir"])
            .arg(&cache)
            .env("PATH", &path)
            .env_remove("POOKIE_ENGINE")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(err.contains("the keyring to verify noble with is missing: /nonexistent/ubuntu.gpg"), "{err}");
        assert!(err.contains("ubuntu-keyring"), "{err}");
    }
    assert!(!cache.exists() || fs::read_dir(&cache).unwrap().next().is_none(), "nothing is left in the cache");
}
