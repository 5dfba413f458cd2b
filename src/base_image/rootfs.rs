//! The root file system: debootstrap makes it, apt-get adds packages in a chroot of it, and it is
//! trimmed into what an image should hold.

use super::step::Steps;
use super::suite::Variant;
use super::workdir::{mount_proc, mounts_under, umount};
use super::{BaseImageError, DEFAULT_PATH, Spec, io_err, secs};
use jiff::Timestamp;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The environment of commands run in the chroot: a clean one plus the host's proxy settings.
fn chroot_env() -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![
        ("PATH".into(), DEFAULT_PATH.trim_start_matches("PATH=").into()),
        ("HOME".into(), "/root".into()),
        ("LC_ALL".into(), "C".into()),
        ("DEBIAN_FRONTEND".into(), "noninteractive".into()),
        ("DEBCONF_NONINTERACTIVE_SEEN".into(), "true".into()),
    ];
    for k in ["http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"] {
        if let Ok(v) = std::env::var(k) {
            env.push((k.into(), v));
        }
    }
    env
}

/// apt options for the build: the mirror may be a frozen snapshot whose Release files expired.
const APT_OPTS: &[&str] =
    &["-o", "Acquire::Check-Valid-Until=false", "-o", "Acquire::Retries=3", "-o", "Dpkg::Use-Pty=0"];

/// A root file system in the making at `root`.
pub(super) struct Rootfs<'a> {
    pub(super) spec: &'a Spec,
    /// Keyring debootstrap verifies the suite with (default: the distribution's).
    pub(super) keyring: Option<&'a Path>,
    pub(super) root: PathBuf,
    pub(super) steps: Steps<'a>,
    pub(super) progress: &'a mut dyn FnMut(&str),
}

impl Rootfs<'_> {
    fn chroot(&mut self, what: &str, command: &[&str]) -> Result<(), BaseImageError> {
        let root = self.root.to_string_lossy().into_owned();
        let mut args = vec![root.as_str()];
        args.extend_from_slice(command);
        self.steps.run(what, "chroot", &args, &chroot_env())
    }

    pub(super) fn debootstrap(&mut self) -> Result<(), BaseImageError> {
        let spec = self.spec;
        let started = Instant::now();
        (self.progress)(&format!(
            "debootstrap {} {} ({}) from {} — log: {}",
            spec.suite,
            spec.arch.debian(),
            spec.variant.name(),
            spec.mirror,
            self.steps.log().display()
        ));
        let variant = format!("--variant={}", spec.variant.name());
        let arch = format!("--arch={}", spec.arch.debian());
        let root = self.root.to_string_lossy().into_owned();
        let keyring = self.keyring.map(|k| format!("--keyring={}", k.display()));
        let mut args: Vec<&str> = Vec::new();
        if spec.variant != Variant::Standard {
            args.push(&variant);
        }
        if let Some(k) = &keyring {
            args.push(k);
        }
        args.extend([arch.as_str(), spec.suite.as_str(), root.as_str(), spec.mirror.as_str()]);
        // A debootstrap older than the suite has no script for it; the family's works.
        let scripts = Path::new("/usr/share/debootstrap/scripts");
        let fallback;
        if !scripts.join(&spec.suite).exists()
            && let Some(d) = spec.distro
        {
            fallback = scripts.join(d.fallback_script()).to_string_lossy().into_owned();
            args.push(&fallback);
        }
        let mut env: Vec<(String, String)> = std::env::vars().collect();
        env.retain(|(k, _)| k != "DEBOOTSTRAP_DIR");
        env.push(("LC_ALL".into(), "C".into()));
        self.steps.run("debootstrap", "debootstrap", &args, &env)?;
        (self.progress)(&format!("debootstrap done in {}", secs(started.elapsed())));
        Ok(())
    }

    /// apt-get installs the packages (and the optional ones the suite has) in the chroot, with
    /// /proc mounted and a policy-rc.d that keeps services from starting. Returns what it
    /// installed on top of debootstrap.
    pub(super) fn install_packages(&mut self) -> Result<Vec<String>, BaseImageError> {
        let spec = self.spec;
        if spec.packages.is_empty() && spec.optional_packages.is_empty() {
            return Ok(Vec::new());
        }
        let started = Instant::now();
        let policy = self.root.join("usr/sbin/policy-rc.d");
        fs::write(
            &policy,
            "#!/bin/sh\n# written by pookie base-image: no service starts in a container image\nexit 101\n",
        )
        .map_err(io_err(format!("cannot write {}", policy.display())))?;
        set_mode(&policy, 0o755)?;
        let resolv = self.root.join("etc/resolv.conf");
        if fs::metadata(&resolv).map_or(true, |m| m.len() == 0)
            && let Ok(host) = fs::read("/etc/resolv.conf")
        {
            let _ = fs::remove_file(&resolv);
            fs::write(&resolv, host).map_err(io_err(format!("cannot write {}", resolv.display())))?;
        }
        let proc_dir = self.root.join("proc");
        fs::create_dir_all(&proc_dir).map_err(io_err("cannot create /proc in the root file system"))?;
        mount_proc(&proc_dir)?;
        let result = (|| -> Result<Vec<String>, BaseImageError> {
            let mut update = vec!["apt-get"];
            update.extend_from_slice(APT_OPTS);
            update.extend(["-q", "update"]);
            (self.progress)("apt-get update in the root file system");
            self.chroot("apt-get update", &update)?;
            let mut wanted: Vec<String> = spec.packages.clone();
            for p in &spec.optional_packages {
                let root = self.root.to_string_lossy().into_owned();
                let known = duct::cmd("chroot", [root.as_str(), "apt-cache", "show", "--no-all-versions", p.as_str()])
                    .full_env(chroot_env())
                    .stdout_capture()
                    .stderr_null()
                    .unchecked()
                    .run()
                    .is_ok_and(|o| o.status.success() && !o.stdout.is_empty());
                if known {
                    wanted.push(p.clone());
                } else {
                    (self.progress)(&format!("optional package {p} is not in {}: left out", spec.suite));
                }
            }
            wanted.sort();
            if !wanted.is_empty() {
                (self.progress)(&format!("apt-get install {}", wanted.join(" ")));
                let mut install = vec!["apt-get"];
                install.extend_from_slice(APT_OPTS);
                install.extend(["-q", "-y", "--no-install-recommends", "install"]);
                install.extend(wanted.iter().map(String::as_str));
                self.chroot("apt-get install", &install)?;
            }
            self.chroot("apt-get clean", &["apt-get", "clean"])?;
            Ok(wanted)
        })();
        let unmounted = umount(&proc_dir);
        let wanted = result?;
        if !unmounted && !mounts_under(&proc_dir).is_empty() {
            return Err(BaseImageError::Io {
                what: format!("cannot unmount {}", proc_dir.display()),
                source: io::Error::last_os_error(),
            });
        }
        (self.progress)(&format!("packages installed in {}", secs(started.elapsed())));
        Ok(wanted)
    }

    /// Makes the tree an image: no host files (resolv.conf, hostname), no apt lists or package
    /// files; and when the mirror's Release files have expired (a frozen snapshot), apt in the
    /// image is told not to check that, or `apt-get update` in a Dockerfile would fail.
    pub(super) fn finish(&mut self) -> Result<(), BaseImageError> {
        let root = &self.root;
        let lists = root.join("var/lib/apt/lists");
        let mut expired = None;
        if let Ok(entries) = fs::read_dir(&lists) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if (name.ends_with("_Release") || name.ends_with("_InRelease"))
                    && let Ok(text) = fs::read_to_string(e.path())
                    && let Some(until) = valid_until(&text)
                    && until < Timestamp::now()
                {
                    expired = Some(name);
                }
            }
        }
        if let Some(name) = expired {
            let conf = root.join("etc/apt/apt.conf.d/99pookie-check-valid-until");
            fs::write(
                &conf,
                "// Written by pookie base-image: the mirror's Release file had expired when this image was\n\
                 // made (a frozen snapshot?), so apt-get update would refuse it.\n\
                 Acquire::Check-Valid-Until \"false\";\n",
            )
            .map_err(io_err(format!("cannot write {}", conf.display())))?;
            (self.progress)(&format!(
                "the mirror's {name} has expired: wrote /etc/apt/apt.conf.d/99pookie-check-valid-until into the image"
            ));
        }
        let remove_children = |dir: &Path, keep: &dyn Fn(&str) -> bool| {
            if let Ok(entries) = fs::read_dir(dir) {
                for e in entries.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if keep(&name) {
                        continue;
                    }
                    let p = e.path();
                    let _ = if p.is_dir() && !p.is_symlink() { fs::remove_dir_all(&p) } else { fs::remove_file(&p) };
                }
            }
        };
        remove_children(&lists, &|n| n == "lock" || n == "partial" || n == "auxfiles");
        remove_children(&root.join("var/cache/apt"), &|n| n == "archives");
        remove_children(&root.join("var/cache/apt/archives"), &|n| n == "lock" || n == "partial");
        for (file, text) in [("etc/resolv.conf", ""), ("etc/hostname", "localhost\n")] {
            let p = root.join(file);
            let _ = fs::remove_file(&p);
            fs::write(&p, text).map_err(io_err(format!("cannot write {}", p.display())))?;
        }
        Ok(())
    }
}

fn set_mode(path: &Path, mode: u32) -> Result<(), BaseImageError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(io_err(format!("cannot chmod {}", path.display())))
}

/// The `Valid-Until` of a Release file, e.g. `Sat, 08 Nov 2025 14:20:01 UTC`. `UTC` is no RFC 2822
/// zone, but RFC 2822 reads unknown zone names as UTC, and so does jiff.
fn valid_until(release: &str) -> Option<Timestamp> {
    let line = release.lines().find_map(|l| l.strip_prefix("Valid-Until:"))?;
    jiff::fmt::rfc2822::DateTimeParser::new().parse_timestamp(line.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::Cancel;
    use crate::target::Arch;

    #[test]
    fn valid_until_reads_apt_dates() {
        let at = |s: &str| Some(s.parse::<Timestamp>().unwrap());
        assert_eq!(
            valid_until("Origin: Debian\nValid-Until: Sat, 08 Nov 2025 14:20:01 UTC\n"),
            at("2025-11-08T14:20:01Z")
        );
        assert_eq!(valid_until("Valid-Until: Tue, 27 May 2025 20:17:06 UTC"), at("2025-05-27T20:17:06Z"));
        assert_eq!(valid_until("Valid-Until: Thu, 01 Jan 1970 00:01:00 UTC\n"), at("1970-01-01T00:01:00Z"));
        assert_eq!(valid_until("Origin: Debian\n"), None);
    }

    /// A tree as debootstrap and apt leave it, with the mirror's InRelease valid until `until`.
    fn apt_tree(root: &Path, until: &str) {
        let lists = root.join("var/lib/apt/lists");
        for d in ["partial", "auxfiles"] {
            fs::create_dir_all(lists.join(d)).unwrap();
        }
        fs::write(lists.join("lock"), "").unwrap();
        fs::write(lists.join("mirror_dists_sid_InRelease"), format!("Origin: Debian\nValid-Until: {until}\n")).unwrap();
        fs::write(lists.join("mirror_dists_sid_main_binary-amd64_Packages"), "Package: x\n").unwrap();
        let archives = root.join("var/cache/apt/archives");
        fs::create_dir_all(archives.join("partial")).unwrap();
        fs::write(archives.join("lock"), "").unwrap();
        fs::write(archives.join("x_1.0_amd64.deb"), "deb").unwrap();
        fs::write(root.join("var/cache/apt/pkgcache.bin"), "cache").unwrap();
        fs::create_dir_all(root.join("etc/apt/apt.conf.d")).unwrap();
        fs::write(root.join("etc/resolv.conf"), "nameserver 192.0.2.1\n").unwrap();
        fs::write(root.join("etc/hostname"), "buildhost\n").unwrap();
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        v.sort();
        v
    }

    #[test]
    fn finishing_trims_apt_and_host_files() {
        let dir = tempfile::tempdir().unwrap();
        let spec = Spec::new("sid", Arch::X86_64, Variant::Minbase, None, &[], &[]).unwrap();
        let cancel = Cancel::default();
        let conf = "etc/apt/apt.conf.d/99pookie-check-valid-until";
        for (until, expired) in [("Wed, 01 Jan 2020 00:00:00 UTC", true), ("Tue, 01 Jan 2999 00:00:00 UTC", false)] {
            let root = dir.path().join(if expired { "expired" } else { "valid" });
            apt_tree(&root, until);
            let mut lines = Vec::new();
            let mut progress = |l: &str| lines.push(l.to_string());
            let steps = Steps::new(dir.path().join("log"), &cancel).unwrap();
            let mut rootfs = Rootfs { spec: &spec, keyring: None, root: root.clone(), steps, progress: &mut progress };
            rootfs.finish().unwrap();
            assert_eq!(names(&root.join("var/lib/apt/lists")), ["auxfiles", "lock", "partial"]);
            assert_eq!(names(&root.join("var/cache/apt")), ["archives"]);
            assert_eq!(names(&root.join("var/cache/apt/archives")), ["lock", "partial"]);
            assert_eq!(fs::read_to_string(root.join("etc/resolv.conf")).unwrap(), "");
            assert_eq!(fs::read_to_string(root.join("etc/hostname")).unwrap(), "localhost\n");
            assert_eq!(root.join(conf).exists(), expired, "{until}");
            assert_eq!(lines.iter().any(|l| l.contains("has expired")), expired, "{lines:?}");
        }
        let written = fs::read_to_string(dir.path().join("expired").join(conf)).unwrap();
        assert!(written.contains("Acquire::Check-Valid-Until \"false\";"), "{written}");
    }
}
