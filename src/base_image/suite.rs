//! The releases debootstrap can make: distributions, their suites and mirrors, and debootstrap's
//! variants. Suites pookie does not know work too, given a mirror.

use crate::target::Arch;

/// debootstrap's package selections.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variant {
    /// Essential packages and apt only (what slim images hold)
    Minbase,
    /// Also build-essential
    Buildd,
    /// debootstrap's default: required and important packages
    Standard,
}

impl Variant {
    pub const fn name(self) -> &'static str {
        match self {
            Variant::Minbase => "minbase",
            Variant::Buildd => "buildd",
            Variant::Standard => "standard",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Distro {
    Debian,
    Ubuntu,
}

/// Suites whose mirror pookie knows. Others work with an explicit `--mirror`.
const SUITES: &[(&str, Distro)] = &[
    ("bullseye", Distro::Debian),
    ("bookworm", Distro::Debian),
    ("trixie", Distro::Debian),
    ("forky", Distro::Debian),
    ("duke", Distro::Debian),
    ("sid", Distro::Debian),
    ("unstable", Distro::Debian),
    ("testing", Distro::Debian),
    ("stable", Distro::Debian),
    ("oldstable", Distro::Debian),
    ("focal", Distro::Ubuntu),
    ("jammy", Distro::Ubuntu),
    ("noble", Distro::Ubuntu),
    ("plucky", Distro::Ubuntu),
    ("questing", Distro::Ubuntu),
];

impl Distro {
    pub fn of_suite(suite: &str) -> Option<Distro> {
        SUITES.iter().find(|(s, _)| *s == suite).map(|(_, d)| *d)
    }

    pub fn known_suites() -> String {
        SUITES.iter().map(|(s, _)| *s).collect::<Vec<_>>().join(", ")
    }

    pub const fn default_mirror(self, arch: Arch) -> &'static str {
        match (self, arch) {
            (Distro::Debian, _) => "http://deb.debian.org/debian",
            (Distro::Ubuntu, Arch::X86_64) => "http://archive.ubuntu.com/ubuntu",
            (Distro::Ubuntu, _) => "http://ports.ubuntu.com/ubuntu-ports",
        }
    }

    /// The debootstrap script to use when the installed debootstrap predates the suite.
    pub(super) const fn fallback_script(self) -> &'static str {
        match self {
            Distro::Debian => "sid",
            Distro::Ubuntu => "gutsy",
        }
    }

    /// The keyring debootstrap verifies the suite with, and the Debian package providing it.
    pub(super) const fn keyring(self) -> (&'static str, &'static str) {
        match self {
            Distro::Debian => ("/usr/share/keyrings/debian-archive-keyring.gpg", "debian-archive-keyring"),
            Distro::Ubuntu => ("/usr/share/keyrings/ubuntu-archive-keyring.gpg", "ubuntu-keyring"),
        }
    }
}
