//! QEMU user emulation through the kernel's binfmt_misc: which architectures are registered,
//! and registering them (`pookie setup qemu`).
//!
//! Containers of another architecture run because the kernel hands their binaries to QEMU. The
//! registration must carry the F ("fix binary") flag: the kernel then opens the emulator when it
//! is registered, so it also works inside containers, whose file systems do not have it.
//!
//! The directory is `/proc/sys/fs/binfmt_misc`, or `$POOKIE_BINFMT_DIR` when set (e.g. to check
//! a machine image mounted elsewhere, or to see `pookie doctor` report a missing registration).

use crate::env_vars::EnvVars;
use crate::target::Arch;
use std::path::{Path, PathBuf};

pub const DEFAULT_DIR: &str = "/proc/sys/fs/binfmt_misc";
/// Where Debian's and Ubuntu's qemu-user-static put their registrations (systemd-binfmt format).
pub const CONF_DIR: &str = "/usr/lib/binfmt.d";
/// The command that registers what pookie needs; the fix of every failed QEMU check.
pub const SETUP_COMMAND: &str = "sudo pookie setup qemu";

/// The binfmt_misc directory pookie reads and writes.
pub fn dir() -> PathBuf {
    std::env::var_os(EnvVars::POOKIE_BINFMT_DIR)
        .filter(|d| !d.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_DIR), PathBuf::from)
}

/// One entry of binfmt_misc, as the kernel shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub enabled: bool,
    pub interpreter: String,
    pub flags: String,
}

impl Entry {
    /// Parses the kernel's view of an entry (`enabled`, `interpreter …`, `flags: …`, …).
    pub fn parse(name: &str, text: &str) -> Entry {
        let mut e = Entry { name: name.to_string(), enabled: false, interpreter: String::new(), flags: String::new() };
        for line in text.lines() {
            if line == "enabled" {
                e.enabled = true;
            } else if let Some(i) = line.strip_prefix("interpreter ") {
                e.interpreter = i.trim().to_string();
            } else if let Some(f) = line.strip_prefix("flags:") {
                e.flags = f.trim().to_string();
            }
        }
        e
    }

    pub fn has_fix_binary(&self) -> bool {
        self.flags.contains('F')
    }
}

/// What binfmt_misc says about one architecture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// binfmt_misc is not mounted (or `dir` is not a binfmt_misc directory).
    NotMounted,
    /// Mounted, but globally disabled (`status` says so).
    Disabled,
    NotRegistered,
    Registered(Entry),
}

/// The registration for `arch`: an entry named `qemu-<arch>` (Debian, tonistiigi/binfmt) or
/// `qemu-<arch>-static` (some distributions).
pub fn status(dir: &Path, arch: Arch) -> Status {
    match std::fs::read_to_string(dir.join("status")) {
        Err(_) => return Status::NotMounted,
        Ok(s) if s.trim() != "enabled" => return Status::Disabled,
        Ok(_) => {}
    }
    let name = arch.qemu();
    for candidate in [name.to_string(), format!("{name}-static")] {
        if let Ok(text) = std::fs::read_to_string(dir.join(&candidate)) {
            return Status::Registered(Entry::parse(&candidate, &text));
        }
    }
    Status::NotRegistered
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SetupError {
    #[error("registering QEMU with binfmt_misc needs root")]
    #[diagnostic(code(pookie::qemu::root), help("run it as root: {SETUP_COMMAND}"))]
    NotRoot,
    #[error("QEMU's user-mode emulators are not installed: no {0}")]
    #[diagnostic(
        code(pookie::qemu::missing),
        help(
            "install them (Debian/Ubuntu: `sudo apt-get install qemu-user-static`), then run `{SETUP_COMMAND}` again"
        )
    )]
    NoEmulator(String),
    #[error("binfmt_misc is not mounted at {0} and cannot be mounted there: {1}")]
    #[diagnostic(
        code(pookie::qemu::mount),
        help("mount it: `sudo mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc`")
    )]
    Mount(String, String),
    #[error("cannot write {0}: {1}")]
    #[diagnostic(code(pookie::qemu::register))]
    Write(String, String),
}

/// What `register` did for one architecture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    AlreadyThere(Entry),
    /// Registered now (replacing an entry without the F flag or disabled, if there was one).
    Now(Entry),
}

/// Mounts binfmt_misc at the default place when it is not mounted there.
pub fn ensure_mounted(dir: &Path) -> Result<(), SetupError> {
    if dir.join("status").is_file() {
        return Ok(());
    }
    if dir != Path::new(DEFAULT_DIR) {
        return Err(SetupError::Mount(dir.display().to_string(), "pookie mounts only /proc/sys/fs/binfmt_misc".into()));
    }
    let out = std::process::Command::new("mount")
        .args(["-t", "binfmt_misc", "binfmt_misc", DEFAULT_DIR])
        .output()
        .map_err(|e| SetupError::Mount(DEFAULT_DIR.into(), e.to_string()))?;
    if !out.status.success() {
        return Err(SetupError::Mount(DEFAULT_DIR.into(), String::from_utf8_lossy(&out.stderr).trim().to_string()));
    }
    Ok(())
}

/// Registers QEMU for `arch` from qemu-user-static's `binfmt.d` file, with the F flag.
pub fn register(dir: &Path, conf_dir: &Path, arch: Arch) -> Result<Registered, SetupError> {
    if let Status::Registered(e) = status(dir, arch) {
        if e.enabled && e.has_fix_binary() {
            return Ok(Registered::AlreadyThere(e));
        }
        // Without F (or disabled) it is of no use to containers: replace it.
        let path = dir.join(&e.name);
        std::fs::write(&path, "-1").map_err(|err| SetupError::Write(path.display().to_string(), err.to_string()))?;
    }
    let conf = conf_dir.join(format!("{}.conf", arch.qemu()));
    let text = std::fs::read_to_string(&conf).map_err(|_| SetupError::NoEmulator(conf.display().to_string()))?;
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(':'))
        .ok_or_else(|| SetupError::NoEmulator(format!("registration line in {}", conf.display())))?;
    let line = with_fix_binary(line);
    let register = dir.join("register");
    std::fs::write(&register, format!("{line}\n"))
        .map_err(|e| SetupError::Write(register.display().to_string(), e.to_string()))?;
    match status(dir, arch) {
        Status::Registered(e) => Ok(Registered::Now(e)),
        _ => Err(SetupError::Write(register.display().to_string(), "the kernel did not list the new entry".into())),
    }
}

/// A registration line (`:name:type:offset:magic:mask:interpreter:flags`) whose flags include F.
pub fn with_fix_binary(line: &str) -> String {
    let mut fields: Vec<String> = line.split(':').map(str::to_string).collect();
    if let Some(flags) = fields.last_mut()
        && !flags.contains('F')
    {
        flags.push('F');
    }
    fields.join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_kernels_view() {
        let e = Entry::parse(
            "qemu-aarch64",
            "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POF\noffset 0\nmagic 7f45\n",
        );
        assert!(e.enabled && e.has_fix_binary());
        assert_eq!(e.interpreter, "/usr/libexec/qemu-binfmt/aarch64-binfmt-P");
        assert!(!Entry::parse("x", "disabled\nflags: P\n").has_fix_binary());
    }

    #[test]
    fn status_of_a_directory() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(status(d.path(), Arch::Aarch64), Status::NotMounted);
        std::fs::write(d.path().join("status"), "disabled\n").unwrap();
        assert_eq!(status(d.path(), Arch::Aarch64), Status::Disabled);
        std::fs::write(d.path().join("status"), "enabled\n").unwrap();
        assert_eq!(status(d.path(), Arch::Aarch64), Status::NotRegistered);
        std::fs::write(d.path().join("qemu-arm-static"), "enabled\ninterpreter /usr/bin/qemu-arm-static\nflags: F\n")
            .unwrap();
        assert!(matches!(status(d.path(), Arch::Armv7l), Status::Registered(e) if e.has_fix_binary()));
    }

    #[test]
    fn registers_from_binfmt_d_with_the_fix_binary_flag() {
        let dir = tempfile::tempdir().unwrap();
        let conf = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("status"), "enabled\n").unwrap();
        // No qemu-user-static: the error says what to install.
        let err = register(dir.path(), conf.path(), Arch::Aarch64).unwrap_err();
        assert!(matches!(&err, SetupError::NoEmulator(p) if p.ends_with("qemu-aarch64.conf")), "{err}");
        // The line goes to `register` with F added. (A plain directory is no kernel: the entry
        // does not appear, which is reported.)
        std::fs::write(
            conf.path().join("qemu-aarch64.conf"),
            "# comment\n:qemu-aarch64:M::\\x7fELF:\\xff:/usr/libexec/qemu-binfmt/aarch64-binfmt-P:OP\n",
        )
        .unwrap();
        assert!(register(dir.path(), conf.path(), Arch::Aarch64).is_err());
        let written = std::fs::read_to_string(dir.path().join("register")).unwrap();
        assert_eq!(written, ":qemu-aarch64:M::\\x7fELF:\\xff:/usr/libexec/qemu-binfmt/aarch64-binfmt-P:OPF\n");
        // An entry with F is left alone.
        std::fs::write(dir.path().join("qemu-aarch64"), "enabled\ninterpreter /q\nflags: OPF\n").unwrap();
        assert!(matches!(register(dir.path(), conf.path(), Arch::Aarch64), Ok(Registered::AlreadyThere(_))));
    }

    #[test]
    fn adds_the_fix_binary_flag() {
        assert_eq!(
            with_fix_binary(":qemu-arm:M::\\x7fELF:\\xff:/usr/bin/qemu-arm:OC"),
            ":qemu-arm:M::\\x7fELF:\\xff:/usr/bin/qemu-arm:OCF"
        );
        assert_eq!(with_fix_binary(":qemu-arm:M::a:b:/q:POF"), ":qemu-arm:M::a:b:/q:POF");
    }
}
