//! What bootstrapping needs of this machine, checked before anything is made, with the fix for
//! each lack.

use super::{BaseImageError, Spec};
use crate::process::which;
use crate::target::Arch;
use std::fs;
use std::path::Path;

/// The command that registers QEMU's emulator for `arch` with binfmt_misc (the same fix
/// `pookie doctor` gives).
pub fn qemu_registration(arch: Arch) -> String {
    format!("  apt-get install -y qemu-user-static\n  sudo pookie setup qemu --arch {}", arch.as_str())
}

/// What bootstrapping needs of the machine: root, debootstrap, the keyring, and for a foreign
/// architecture QEMU registered with binfmt_misc.
pub fn preflight(spec: &Spec, keyring: Option<&Path>, args: &str) -> Result<(), BaseImageError> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err(BaseImageError::NotRoot { args: args.to_string() });
    }
    for (program, package) in [("debootstrap", "debootstrap"), ("chroot", "coreutils"), ("tar", "tar")] {
        if which(program).is_none() {
            return Err(BaseImageError::MissingTool {
                program: if program == "debootstrap" { "debootstrap" } else { package },
                install: format!("apt-get install -y {package}"),
            });
        }
    }
    match (keyring, spec.distro) {
        (Some(k), _) if !k.is_file() => {
            return Err(BaseImageError::MissingKeyring {
                suite: spec.suite.clone(),
                path: k.display().to_string(),
                package: spec.distro.map_or("debian-archive-keyring", |d| d.keyring().1),
            });
        }
        (None, Some(d)) if !Path::new(d.keyring().0).is_file() => {
            let (path, package) = d.keyring();
            return Err(BaseImageError::MissingKeyring { suite: spec.suite.clone(), path: path.into(), package });
        }
        _ => {}
    }
    if !runs_natively(spec.arch, Arch::host()) {
        let entry = Path::new("/proc/sys/fs/binfmt_misc").join(spec.arch.qemu());
        let enabled = fs::read_to_string(&entry).is_ok_and(|s| s.lines().next() == Some("enabled"));
        if !enabled {
            return Err(BaseImageError::NoEmulation {
                arch: spec.arch.debian(),
                qemu: spec.arch.qemu(),
                commands: qemu_registration(spec.arch),
            });
        }
    }
    Ok(())
}

/// Whether the host runs `arch`'s binaries without emulation.
fn runs_natively(arch: Arch, host: Option<Arch>) -> bool {
    arch.runs_natively_on(host) || (arch == Arch::Armv7l && host == Some(Arch::Aarch64) && aarch32_capable())
}

/// Many arm64 CPUs also run 32-bit ARM code; the kernel says so in the CPU features.
fn aarch32_capable() -> bool {
    fs::read_to_string("/proc/cpuinfo").is_ok_and(|s| s.lines().any(|l| l.starts_with("CPU architecture: 7")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemu_commands_name_the_right_binfmt_file() {
        assert!(qemu_registration(Arch::Aarch64).contains("pookie setup qemu --arch aarch64"));
        assert!(qemu_registration(Arch::Armv7l).contains("pookie setup qemu --arch armv7l"));
    }

    #[test]
    fn the_host_runs_its_own_binaries() {
        assert!(Arch::ALL.into_iter().all(|a| runs_natively(a, Some(a))));
        assert!(!runs_natively(Arch::S390x, Some(Arch::X86_64)));
        assert!(!runs_natively(Arch::Armv7l, Some(Arch::X86_64)));
        assert!(!runs_natively(Arch::X86_64, None));
    }
}
