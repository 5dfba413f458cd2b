//! The target catalog: every platform pookie builds wheels for, as one table.
//!
//! Everything the rest of pookie needs to know about a target (its wheel tag, where it builds in
//! each mode, how its tests run, which python-build-standalone triple serves it) is a column of
//! [`CATALOG`]; code asks the table instead of matching on target names.

use crate::platform_tag::PlatformTag;
use serde::Serialize;
use std::fmt;

/// A platform of the catalog: CPU, OS and libc. manylinux platforms take a policy besides (see
/// [`Target`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Platform {
    ManylinuxX86_64,
    ManylinuxAarch64,
    ManylinuxArmv7l,
    ManylinuxPpc64le,
    ManylinuxS390x,
    ManylinuxI686,
    ManylinuxRiscv64,
    MusllinuxX86_64,
    MusllinuxAarch64,
    MusllinuxArmv7l,
    MusllinuxPpc64le,
    MusllinuxS390x,
    MusllinuxI686,
    MusllinuxRiscv64,
    WinAmd64,
    WinArm64,
    MacosX86_64,
    MacosArm64,
    MacosUniversal2,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    Linux,
    Windows,
    Macos,
}

/// A CPU architecture of the catalog. `pookie base-image` makes images for the same set, under
/// Debian's names ([`Arch::debian`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    X86_64,
    Aarch64,
    Armv7l,
    Ppc64le,
    S390x,
    I686,
    Riscv64,
}

impl Arch {
    pub const ALL: [Arch; 7] =
        [Arch::X86_64, Arch::Aarch64, Arch::Armv7l, Arch::Ppc64le, Arch::S390x, Arch::I686, Arch::Riscv64];

    /// The architecture this pookie runs on, if it is one of the catalog's.
    pub fn host() -> Option<Arch> {
        match std::env::consts::ARCH {
            "x86_64" => Some(Arch::X86_64),
            "aarch64" => Some(Arch::Aarch64),
            "arm" => Some(Arch::Armv7l),
            "powerpc64" if cfg!(target_endian = "little") => Some(Arch::Ppc64le),
            "s390x" => Some(Arch::S390x),
            "x86" => Some(Arch::I686),
            "riscv64" => Some(Arch::Riscv64),
            _ => None,
        }
    }

    /// Whether a `host` CPU runs this architecture's binaries without QEMU: its own, and i686's
    /// on x86_64 (the kernel's 32-bit compatibility, as manylinux's i686 images use it). 32-bit
    /// ARM on some arm64 CPUs depends on the CPU (base_image/host.rs asks it).
    pub fn runs_natively_on(self, host: Option<Arch>) -> bool {
        host == Some(self) || (self == Arch::I686 && host == Some(Arch::X86_64))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
            Arch::Armv7l => "armv7l",
            Arch::Ppc64le => "ppc64le",
            Arch::S390x => "s390x",
            Arch::I686 => "i686",
            Arch::Riscv64 => "riscv64",
        }
    }

    /// Name of the QEMU user-mode emulator (and of its binfmt_misc entry) for this architecture.
    pub fn qemu(self) -> &'static str {
        match self {
            Arch::X86_64 => "qemu-x86_64",
            Arch::Aarch64 => "qemu-aarch64",
            Arch::Armv7l => "qemu-arm",
            Arch::Ppc64le => "qemu-ppc64le",
            Arch::S390x => "qemu-s390x",
            Arch::I686 => "qemu-i386",
            Arch::Riscv64 => "qemu-riscv64",
        }
    }

    /// The CPU field of the GNU type a CPython was built for (sysconfig's `HOST_GNU_TYPE`), as a
    /// shell pattern: Debian's armhf CPython says `arm-…-gnueabihf`, python-build-standalone's
    /// `armv7-…`.
    pub fn gnu_cpu_pattern(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
            Arch::Armv7l => "arm*",
            Arch::Ppc64le => "powerpc64le",
            Arch::S390x => "s390x",
            Arch::I686 => "i?86",
            Arch::Riscv64 => "riscv64",
        }
    }

    /// Architecture name in OCI image configs (`docker image inspect`'s `Architecture`).
    pub fn oci(self) -> &'static str {
        match self {
            Arch::X86_64 => "amd64",
            Arch::Aarch64 => "arm64",
            Arch::Armv7l => "arm",
            Arch::Ppc64le => "ppc64le",
            Arch::S390x => "s390x",
            Arch::I686 => "386",
            Arch::Riscv64 => "riscv64",
        }
    }

    /// `variant` of OCI image configs, for the architecture whose name alone is ambiguous.
    pub fn oci_variant(self) -> Option<&'static str> {
        (self == Arch::Armv7l).then_some("v7")
    }

    /// The name dpkg and debootstrap use.
    pub fn debian(self) -> &'static str {
        match self {
            Arch::X86_64 => "amd64",
            Arch::Aarch64 => "arm64",
            Arch::Armv7l => "armhf",
            Arch::Ppc64le => "ppc64el",
            Arch::S390x => "s390x",
            Arch::I686 => "i386",
            Arch::Riscv64 => "riscv64",
        }
    }

    pub fn from_debian(name: &str) -> Option<Arch> {
        Arch::ALL.into_iter().find(|a| a.debian() == name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Libc {
    Glibc,
    Musl,
    /// Windows and macOS: no libc policy applies.
    System,
}

impl Libc {
    /// The system field of a GNU type, as a shell pattern (`gnu`, `gnueabihf`, `musl`, …).
    pub fn gnu_system_pattern(self) -> &'static str {
        match self {
            Libc::Glibc => "gnu*",
            Libc::Musl => "musl*",
            Libc::System => "*",
        }
    }
}

/// A base-image family: one base image (per CPU architecture and libc) that layers build on.
/// Users override the image of each family under `[images]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "&'static str")]
pub enum Family {
    LinuxX86_64,
    LinuxAarch64,
    LinuxArmv7l,
    LinuxPpc64le,
    LinuxS390x,
    LinuxI686,
    LinuxRiscv64,
    MusllinuxX86_64,
    MusllinuxAarch64,
    MusllinuxArmv7l,
    MusllinuxPpc64le,
    MusllinuxS390x,
    MusllinuxI686,
    MusllinuxRiscv64,
}

pub struct FamilyInfo {
    pub family: Family,
    /// Key under `[images]`.
    pub key: &'static str,
    pub arch: Arch,
    pub libc: Libc,
    /// Official public image used unless `[images]` says otherwise. Foreign-architecture images
    /// are selected by their per-architecture repository, not by `--platform`, so that a locally
    /// built image of the same name is used without any registry.
    pub default_image: &'static str,
    /// What its images serve, for the schema of `[images]`.
    pub about: &'static str,
}

pub const FAMILIES: &[FamilyInfo] = &[
    fam(
        Family::LinuxX86_64,
        "linux-x86_64",
        Arch::X86_64,
        Libc::Glibc,
        "debian:bookworm-slim",
        "glibc x86_64: manylinux x86_64 builds and tests, cross builds, Windows and macOS builds",
    ),
    fam(
        Family::LinuxAarch64,
        "linux-aarch64",
        Arch::Aarch64,
        Libc::Glibc,
        "arm64v8/debian:bookworm-slim",
        "glibc aarch64 (emulated builds, tests)",
    ),
    fam(Family::LinuxArmv7l, "linux-armv7l", Arch::Armv7l, Libc::Glibc, "arm32v7/debian:bookworm-slim", "glibc armv7l"),
    fam(
        Family::LinuxPpc64le,
        "linux-ppc64le",
        Arch::Ppc64le,
        Libc::Glibc,
        "ppc64le/debian:bookworm-slim",
        "glibc ppc64le",
    ),
    fam(Family::LinuxS390x, "linux-s390x", Arch::S390x, Libc::Glibc, "s390x/debian:bookworm-slim", "glibc s390x"),
    fam(
        Family::LinuxI686,
        "linux-i686",
        Arch::I686,
        Libc::Glibc,
        "i386/debian:bookworm-slim",
        "glibc i686 (tests of i686 cross builds; the host runs i686 code natively)",
    ),
    // Debian's riscv64 port became official with trixie (13).
    fam(
        Family::LinuxRiscv64,
        "linux-riscv64",
        Arch::Riscv64,
        Libc::Glibc,
        "riscv64/debian:trixie-slim",
        "glibc riscv64 (emulated builds, tests; Debian's port is official from trixie on)",
    ),
    fam(Family::MusllinuxX86_64, "musllinux-x86_64", Arch::X86_64, Libc::Musl, "alpine:3.22", "musl x86_64"),
    fam(
        Family::MusllinuxAarch64,
        "musllinux-aarch64",
        Arch::Aarch64,
        Libc::Musl,
        "arm64v8/alpine:3.22",
        "musl aarch64",
    ),
    fam(Family::MusllinuxArmv7l, "musllinux-armv7l", Arch::Armv7l, Libc::Musl, "arm32v7/alpine:3.22", "musl armv7l"),
    fam(
        Family::MusllinuxPpc64le,
        "musllinux-ppc64le",
        Arch::Ppc64le,
        Libc::Musl,
        "ppc64le/alpine:3.22",
        "musl ppc64le",
    ),
    fam(Family::MusllinuxS390x, "musllinux-s390x", Arch::S390x, Libc::Musl, "s390x/alpine:3.22", "musl s390x"),
    fam(Family::MusllinuxI686, "musllinux-i686", Arch::I686, Libc::Musl, "i386/alpine:3.22", "musl i686"),
    fam(
        Family::MusllinuxRiscv64,
        "musllinux-riscv64",
        Arch::Riscv64,
        Libc::Musl,
        "riscv64/alpine:3.22",
        "musl riscv64",
    ),
];

const fn fam(
    family: Family,
    key: &'static str,
    arch: Arch,
    libc: Libc,
    image: &'static str,
    about: &'static str,
) -> FamilyInfo {
    FamilyInfo { family, key, arch, libc, default_image: image, about }
}

impl Family {
    pub fn info(self) -> &'static FamilyInfo {
        &FAMILIES[self as usize]
    }
    pub fn key(self) -> &'static str {
        self.info().key
    }
    pub fn all() -> impl Iterator<Item = Family> {
        FAMILIES.iter().map(|f| f.family)
    }
    pub fn from_key(key: &str) -> Option<Family> {
        FAMILIES.iter().find(|f| f.key == key).map(|f| f.family)
    }
    /// Every family's key, in the table's order.
    pub fn keys() -> &'static [&'static str] {
        static KEYS: std::sync::LazyLock<Vec<&'static str>> =
            std::sync::LazyLock::new(|| FAMILIES.iter().map(|f| f.key).collect());
        &KEYS
    }
}

impl From<Family> for &'static str {
    fn from(f: Family) -> Self {
        f.key()
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// How a target's tests can run on an x86_64 Linux host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TestRunner {
    Native,
    Qemu,
    Wine,
    /// macOS binaries cannot run on Linux at all.
    NotRunnable,
}

/// How a wheel is made to meet its platform policy after the build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Repair {
    /// `auditwheel repair --plat <tag>`: vendors libraries and proves the policy.
    Auditwheel,
    /// `delvewheel repair`: vendors DLLs that a stock Windows lacks.
    Delvewheel,
    /// Nothing to repair (macOS cross builds link nothing but the system).
    None,
}

pub struct TargetInfo {
    pub platform: Platform,
    /// Wheel platform tag, which is also the target's name in pookie.toml; of manylinux
    /// platforms, with the default policy (see [`Target::tag`] for the others).
    pub tag: &'static str,
    pub os: Os,
    pub arch: Arch,
    pub libc: Libc,
    /// python-build-standalone target triple.
    pub pbs_triple: &'static str,
    /// python-build-standalone builds CPython for it. The others (i686 Linux, musl beyond x86_64
    /// and aarch64) take their interpreters from images (`source = "image"`): with the default
    /// source, neither the default target set nor globs include them, only their tags.
    pub pbs: bool,
    /// Built when `targets` is not set. The targets added later (i686, riscv64, musl beyond
    /// x86_64 and aarch64, win_arm64) are named to be built, as cibuildwheel's `archs` names them.
    pub default: bool,
    /// Of manylinux platforms, the oldest policy (glibc 2.N) pookie builds for, which `tag`
    /// names; 0 for the others.
    pub min_policy: u8,
    /// Family whose base image holds the target's own CPython: where native and emulated builds
    /// run and where Linux tests run. Windows and macOS borrow the x86_64 Linux family.
    pub family: Family,
    /// Runs natively on an x86_64 Linux host.
    pub native: bool,
    /// zig target: of cross builds, of every build of musl targets (see
    /// [`TargetInfo::zig_in_own_family`]) and of x86_64 builds with `x86_64-compiler = "zig"`;
    /// of manylinux platforms, for the default policy (see [`Target::zig_target`]).
    pub zig_target: Option<&'static str>,
    /// Can be built inside an emulated container of its own architecture.
    pub emulate: bool,
    pub test: TestRunner,
    pub repair: Repair,
    /// What `sysconfig.get_platform()` says in the target's own CPython. Cross builds announce
    /// it through `_PYTHON_HOST_PLATFORM`, from which setuptools tags the wheel (`linux_aarch64`,
    /// which auditwheel turns into the policy tag; `win_amd64`; `macosx_11_0_arm64`, checked by
    /// setuptools against the minimum macOS version in the Mach-O files).
    pub sysconfig_platform: &'static str,
    /// Environment of the target's build jobs (macOS: the deployment target its tag names).
    pub build_env: &'static [(&'static str, &'static str)],
    /// Of a fat target (universal2), the thin targets whose builds it fuses: the build command
    /// runs once for each, as a cross build of that target, and images/fuse-wheels.py makes one
    /// wheel whose Mach-O files hold every slice.
    pub slices: &'static [Platform],
}

const MACOS_11: &[(&str, &str)] = &[("MACOSX_DEPLOYMENT_TARGET", "11.0")];

#[rustfmt::skip]
pub const CATALOG: &[TargetInfo] = &[
    TargetInfo { platform: Platform::ManylinuxX86_64, tag: "manylinux_2_17_x86_64", os: Os::Linux, arch: Arch::X86_64, libc: Libc::Glibc,
        pbs_triple: "x86_64-unknown-linux-gnu", pbs: true, default: true, min_policy: 17, family: Family::LinuxX86_64, native: true,
        zig_target: Some("x86_64-linux-gnu.2.17"), emulate: false, test: TestRunner::Native, repair: Repair::Auditwheel,
        sysconfig_platform: "linux-x86_64", build_env: &[], slices: &[] },
    TargetInfo { platform: Platform::ManylinuxAarch64, tag: "manylinux_2_17_aarch64", os: Os::Linux, arch: Arch::Aarch64, libc: Libc::Glibc,
        pbs_triple: "aarch64-unknown-linux-gnu", pbs: true, default: true, min_policy: 17, family: Family::LinuxAarch64, native: false,
        zig_target: Some("aarch64-linux-gnu.2.17"), emulate: true, test: TestRunner::Qemu, repair: Repair::Auditwheel,
        sysconfig_platform: "linux-aarch64", build_env: &[], slices: &[] },
    TargetInfo { platform: Platform::ManylinuxArmv7l, tag: "manylinux_2_17_armv7l", os: Os::Linux, arch: Arch::Armv7l, libc: Libc::Glibc,
        pbs_triple: "armv7-unknown-linux-gnueabihf", pbs: true, default: true, min_policy: 17, family: Family::LinuxArmv7l, native: false,
        zig_target: Some("arm-linux-gnueabihf.2.17"), emulate: true, test: TestRunner::Qemu, repair: Repair::Auditwheel,
        sysconfig_platform: "linux-armv7l", build_env: &[], slices: &[] },
    // glibc's ppc64le port began with 2.19, its symbols versioned GLIBC_2.17 (the manylinux_2_17
    // baseline); zig provides its libc from 2.19 on. auditwheel still proves the 2.17 policy.
    TargetInfo { platform: Platform::ManylinuxPpc64le, tag: "manylinux_2_17_ppc64le", os: Os::Linux, arch: Arch::Ppc64le, libc: Libc::Glibc,
        pbs_triple: "ppc64le-unknown-linux-gnu", pbs: true, default: true, min_policy: 17, family: Family::LinuxPpc64le, native: false,
        zig_target: Some("powerpc64le-linux-gnu.2.19"), emulate: true, test: TestRunner::Qemu, repair: Repair::Auditwheel,
        sysconfig_platform: "linux-ppc64le", build_env: &[], slices: &[] },
    TargetInfo { platform: Platform::ManylinuxS390x, tag: "manylinux_2_17_s390x", os: Os::Linux, arch: Arch::S390x, libc: Libc::Glibc,
        pbs_triple: "s390x-unknown-linux-gnu", pbs: true, default: true, min_policy: 17, family: Family::LinuxS390x, native: false,
        zig_target: Some("s390x-linux-gnu.2.17"), emulate: true, test: TestRunner::Qemu, repair: Repair::Auditwheel,
        sysconfig_platform: "linux-s390x", build_env: &[], slices: &[] },
    // i686 runs natively on x86_64 (the kernel's 32-bit compatibility): cross-compiled by zig in
    // both modes (nothing to emulate), tested natively in its own family.
    TargetInfo { platform: Platform::ManylinuxI686, tag: "manylinux_2_17_i686", os: Os::Linux, arch: Arch::I686, libc: Libc::Glibc,
        pbs_triple: "i686-unknown-linux-gnu", pbs: false, default: false, min_policy: 17, family: Family::LinuxI686, native: false,
        zig_target: Some("x86-linux-gnu.2.17"), emulate: false, test: TestRunner::Native, repair: Repair::Auditwheel,
        sysconfig_platform: "linux-i686", build_env: &[], slices: &[] },
    // glibc's riscv64 port began with 2.27; auditwheel's policies know riscv64 from manylinux_2_31
    // on, the oldest policy a riscv64 wheel can prove (cibuildwheel's images are manylinux_2_39).
    TargetInfo { platform: Platform::ManylinuxRiscv64, tag: "manylinux_2_31_riscv64", os: Os::Linux, arch: Arch::Riscv64, libc: Libc::Glibc,
        pbs_triple: "riscv64-unknown-linux-gnu", pbs: true, default: false, min_policy: 31, family: Family::LinuxRiscv64, native: false,
        zig_target: Some("riscv64-linux-gnu.2.31"), emulate: true, test: TestRunner::Qemu, repair: Repair::Auditwheel,
        sysconfig_platform: "linux-riscv64", build_env: &[], slices: &[] },
    TargetInfo { platform: Platform::MusllinuxX86_64, tag: "musllinux_1_2_x86_64", os: Os::Linux, arch: Arch::X86_64, libc: Libc::Musl,
        pbs_triple: "x86_64-unknown-linux-musl", pbs: true, default: true, min_policy: 0, family: Family::MusllinuxX86_64, native: true,
        zig_target: Some("x86_64-linux-musl"), emulate: false, test: TestRunner::Native, repair: Repair::Auditwheel,
        sysconfig_platform: "linux-x86_64", build_env: &[], slices: &[] },
    TargetInfo { platform: Platform::MusllinuxAarch64, tag: "musllinux_1_2_aarch64", os: Os::Linux, arch: Arch::Aarch64, libc: Libc::Musl,
        pbs_triple: "aarch64-unknown-linux-musl", pbs: true, default: true, min_policy: 0, family: Family::MusllinuxAarch64, native: false,
        zig_target: Some("aarch64-linux-musl"), emulate: true, test: TestRunner::Qemu, repair: Repair::Auditwheel,
        sysconfig_platform: "linux-aarch64", build_env: &[], slices: &[] },
    TargetInfo { platform: Platform::MusllinuxArmv7l, tag: "musllinux_1_2_armv7l", os: Os::Linux, arch: Arch::Armv7l, libc: Libc::Musl,
        pbs_triple: "armv7-unknown-linux-musleabihf", pbs: false, default: false, min_policy: 0, family: Family::MusllinuxArmv7l, native: false,
        zig_target: Some("arm-linux-musleabihf"), emulate: true, test: TestRunner::Qemu, repair: Repair::Auditwheel,
        sysconfig_platform: "linux-armv7l", build_env: &[], slices: &[] },
    TargetInfo { platform: Platform::MusllinuxPpc64le, tag: "musllinux_1_2_ppc64le", os: Os::Linux, arch: Arch::Ppc64le, libc: Libc::Musl,
        pbs_triple: "ppc64le-unknown-linux-musl", pbs: false, default: false, min_policy: 0, family: Family::MusllinuxPpc64le, native: false,
        zig_target: Some("powerpc64le-linux-musl"), emulate: true, test: TestRunner::Qemu, repair: Repair::Auditwheel,
        sysconfig_platform: "linux-ppc64le", build_env: &[], slices: &[] },
    TargetInfo { platform: Platform::MusllinuxS390x, tag: "musllinux_1_2_s390x", os: Os::Linux, arch: Arch::S390x, libc: Libc::Musl,
        pbs_triple: "s390x-unknown-linux-musl", pbs: false, default: false, min_policy: 0, family: Family::MusllinuxS390x, native: false,
        zig_target: Some("s390x-linux-musl"), emulate: true, test: TestRunner::Qemu, repair: Repair::Auditwheel,
        sysconfig_platform: "linux-s390x", build_env: &[], slices: &[] },
    TargetInfo { platform: Platform::MusllinuxI686, tag: "musllinux_1_2_i686", os: Os::Linux, arch: Arch::I686, libc: Libc::Musl,
        pbs_triple: "i686-unknown-linux-musl", pbs: false, default: false, min_policy: 0, family: Family::MusllinuxI686, native: false,
        zig_target: Some("x86-linux-musl"), emulate: false, test: TestRunner::Native, repair: Repair::Auditwheel,
        sysconfig_platform: "linux-i686", build_env: &[], slices: &[] },
    TargetInfo { platform: Platform::MusllinuxRiscv64, tag: "musllinux_1_2_riscv64", os: Os::Linux, arch: Arch::Riscv64, libc: Libc::Musl,
        pbs_triple: "riscv64-unknown-linux-musl", pbs: false, default: false, min_policy: 0, family: Family::MusllinuxRiscv64, native: false,
        zig_target: Some("riscv64-linux-musl"), emulate: true, test: TestRunner::Qemu, repair: Repair::Auditwheel,
        sysconfig_platform: "linux-riscv64", build_env: &[], slices: &[] },
    TargetInfo { platform: Platform::WinAmd64, tag: "win_amd64", os: Os::Windows, arch: Arch::X86_64, libc: Libc::System,
        pbs_triple: "x86_64-pc-windows-msvc", pbs: true, default: true, min_policy: 0, family: Family::LinuxX86_64, native: false,
        zig_target: Some("x86_64-windows-gnu"), emulate: false, test: TestRunner::Wine, repair: Repair::Delvewheel,
        sysconfig_platform: "win-amd64", build_env: &[], slices: &[] },
    // Windows on ARM: Wine runs x86 code only, so its tests cannot run here.
    TargetInfo { platform: Platform::WinArm64, tag: "win_arm64", os: Os::Windows, arch: Arch::Aarch64, libc: Libc::System,
        pbs_triple: "aarch64-pc-windows-msvc", pbs: true, default: false, min_policy: 0, family: Family::LinuxX86_64, native: false,
        zig_target: Some("aarch64-windows-gnu"), emulate: false, test: TestRunner::NotRunnable, repair: Repair::Delvewheel,
        sysconfig_platform: "win-arm64", build_env: &[], slices: &[] },
    TargetInfo { platform: Platform::MacosX86_64, tag: "macosx_11_0_x86_64", os: Os::Macos, arch: Arch::X86_64, libc: Libc::System,
        pbs_triple: "x86_64-apple-darwin", pbs: true, default: true, min_policy: 0, family: Family::LinuxX86_64, native: false,
        zig_target: Some("x86_64-macos.11.0"), emulate: false, test: TestRunner::NotRunnable, repair: Repair::None,
        sysconfig_platform: "macosx-11.0-x86_64", build_env: MACOS_11, slices: &[] },
    TargetInfo { platform: Platform::MacosArm64, tag: "macosx_11_0_arm64", os: Os::Macos, arch: Arch::Aarch64, libc: Libc::System,
        pbs_triple: "aarch64-apple-darwin", pbs: true, default: true, min_policy: 0, family: Family::LinuxX86_64, native: false,
        zig_target: Some("aarch64-macos.11.0"), emulate: false, test: TestRunner::NotRunnable, repair: Repair::None,
        sysconfig_platform: "macosx-11.0-arm64", build_env: MACOS_11, slices: &[] },
    // One wheel for both Mac CPUs, as python.org's installers are: an x86_64 and an arm64 build
    // fused (the headers and sysconfig data come from the arm64 CPython; they are the same but
    // for the CPU). Built when named, as cibuildwheel's `archs = ["universal2"]`.
    TargetInfo { platform: Platform::MacosUniversal2, tag: "macosx_11_0_universal2", os: Os::Macos, arch: Arch::Aarch64, libc: Libc::System,
        pbs_triple: "aarch64-apple-darwin", pbs: true, default: false, min_policy: 0, family: Family::LinuxX86_64, native: false,
        zig_target: Some("aarch64-macos.11.0"), emulate: false, test: TestRunner::NotRunnable, repair: Repair::None,
        sysconfig_platform: "macosx-11.0-universal2", build_env: MACOS_11, slices: &[Platform::MacosX86_64, Platform::MacosArm64] },
];

impl TargetInfo {
    /// musl targets compile with zig in their own family too (natively or under QEMU): a
    /// musllinux base image need not be Alpine (Debian with the `musl` package runs a musl CPython),
    /// and Debian's musl-gcc has no C++; zig brings musl and libc++ for any base image.
    pub fn zig_in_own_family(&self) -> bool {
        self.libc == Libc::Musl
    }

    /// Shell pattern for the `HOST_GNU_TYPE` of the target's CPython (`aarch64-*-linux-gnu*`,
    /// `x86_64-apple-darwin*`): cross layers check that the sysconfig data they take is the
    /// target's. Windows CPythons have no sysconfig data (nor a GNU type).
    /// The GNU triple of the target as autotools' `--host` takes it (`aarch64-linux-gnu`,
    /// `arm-linux-gnueabihf`, `x86_64-w64-mingw32`), named to before-all as `$POOKIE_HOST`.
    pub fn host_triple(&self) -> String {
        let cpu = match self.arch {
            Arch::Armv7l => "arm",
            Arch::I686 => "i686",
            a => a.gnu_cpu_pattern(),
        };
        match (self.os, self.libc) {
            (Os::Windows, _) => format!("{cpu}-w64-mingw32"),
            (Os::Macos, _) => format!("{cpu}-apple-darwin"),
            (_, Libc::Musl) if self.arch == Arch::Armv7l => "arm-linux-musleabihf".into(),
            (_, Libc::Musl) => format!("{cpu}-linux-musl"),
            _ if self.arch == Arch::Armv7l => "arm-linux-gnueabihf".into(),
            _ => format!("{cpu}-linux-gnu"),
        }
    }

    pub fn gnu_type_pattern(&self) -> Option<String> {
        let cpu = self.arch.gnu_cpu_pattern();
        match self.os {
            Os::Linux => Some(format!("{cpu}-*-linux-{}", self.libc.gnu_system_pattern())),
            Os::Macos => Some(format!("{cpu}-apple-darwin*")),
            Os::Windows => None,
        }
    }
}

/// Where and how a target's wheels are compiled, given the configured non-native mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum BuildHow {
    /// In the target's own family on the host's CPU.
    Native,
    /// In the target's own family under QEMU.
    Emulated,
    /// In the x86_64 Linux family with zig targeting `zig_target`.
    Cross { zig_target: &'static str },
}

/// What to do with targets that do not run natively (`[linux] non-native-mode`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, clap::ValueEnum, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum NonNativeMode {
    /// Compile on the host with a cross toolchain, test under QEMU.
    #[default]
    Cross,
    /// Build and test under QEMU.
    Emulate,
}

impl crate::choice::Choice for NonNativeMode {
    const ALL: &'static [Self] = &[NonNativeMode::Cross, NonNativeMode::Emulate];
    const WHAT: &'static str = "non-native mode";
    const CODE: &'static str = "mode";
    const HELP: &'static str = "`cross` compiles on the host and tests under QEMU; `emulate` builds under QEMU too";
    fn name(self) -> &'static str {
        match self {
            NonNativeMode::Cross => "cross",
            NonNativeMode::Emulate => "emulate",
        }
    }
}

/// The manylinux policies pookie builds for: glibc 2.N for each N here, those auditwheel 6.8
/// knows from 2_17 on. zig compiles against that glibc version's symbols (ppc64le's from 2.19,
/// where glibc's port began); auditwheel proves the policy and writes its tag.
pub const MANYLINUX_POLICIES: &[u8] = &[17, 24, 26, 27, 28, 31, 34, 35, 36, 37, 38, 39, 40, 41];
/// The policy of manylinux targets unless `[linux] manylinux` or a target's tag says otherwise.
pub const DEFAULT_MANYLINUX: u8 = 17;

/// Tag and zig target of a manylinux platform under one policy.
type PolicyVariant = (&'static str, Option<&'static str>);

/// Tag and zig target of each manylinux platform under each policy: a fixed set, made once.
static POLICY_VARIANTS: std::sync::LazyLock<std::collections::HashMap<(Platform, u8), PolicyVariant>> =
    std::sync::LazyLock::new(|| {
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        let mut variants = std::collections::HashMap::new();
        for info in CATALOG.iter().filter(|i| i.libc == Libc::Glibc) {
            for &n in MANYLINUX_POLICIES.iter().filter(|&&n| n >= info.min_policy) {
                let tag = leak(info.tag.replacen(&format!("_2_{}_", info.min_policy), &format!("_2_{n}_"), 1));
                let zig = info.zig_target.map(|z| match z.rsplit_once(".2.") {
                    Some((arch_os, minimum)) => {
                        let minimum: u8 = minimum.parse().unwrap_or(DEFAULT_MANYLINUX);
                        leak(format!("{arch_os}.2.{}", n.max(minimum)))
                    }
                    None => z,
                });
                variants.insert((info.platform, n), (tag, zig));
            }
        }
        variants
    });

/// A wheel platform pookie can build for: a platform of the catalog and, for manylinux, the
/// policy — the glibc version the wheel may need (`manylinux_2_28_x86_64`: glibc 2.28).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    platform: Platform,
    /// glibc's minor version of the manylinux policy; 0 for other targets.
    glibc: u8,
}

impl Platform {
    pub fn info(self) -> &'static TargetInfo {
        &CATALOG[self as usize]
    }

    /// The platform as a target: manylinux with the default policy, or the platform's oldest
    /// when the default is older (riscv64: 2_31).
    pub fn target(self) -> Target {
        let info = self.info();
        let glibc = if info.libc == Libc::Glibc { DEFAULT_MANYLINUX.max(info.min_policy) } else { 0 };
        Target { platform: self, glibc }
    }
}

impl Target {
    pub fn info(self) -> &'static TargetInfo {
        self.platform.info()
    }

    pub fn platform(self) -> Platform {
        self.platform
    }

    /// glibc's minor version of a manylinux target's policy.
    pub fn manylinux_policy(self) -> Option<u8> {
        (self.glibc != 0).then_some(self.glibc)
    }

    /// The same platform with another manylinux policy, never older than the platform's oldest
    /// (`[linux] manylinux = "2_17"` leaves riscv64 at 2_31); None for other targets or policies
    /// pookie does not know.
    pub fn with_policy(self, glibc: u8) -> Option<Target> {
        (self.glibc != 0 && MANYLINUX_POLICIES.contains(&glibc))
            .then_some(Target { glibc: glibc.max(self.info().min_policy), ..self })
    }

    /// The wheel platform tag, which is also the target's name: `manylinux_2_28_aarch64`.
    pub fn tag(self) -> &'static str {
        match self.glibc {
            0 => self.info().tag,
            g if g == self.info().min_policy => self.info().tag,
            _ => POLICY_VARIANTS[&(self.platform, self.glibc)].0,
        }
    }

    /// The zig target of the target's builds, with the policy's glibc for manylinux
    /// (`aarch64-linux-gnu.2.28`); never older than the catalog's (ppc64le: 2.19).
    pub fn zig_target(self) -> Option<&'static str> {
        match self.glibc {
            0 => self.info().zig_target,
            g if g == self.info().min_policy => self.info().zig_target,
            _ => POLICY_VARIANTS[&(self.platform, self.glibc)].1,
        }
    }

    /// The catalog's targets, manylinux ones with the policy `glibc`.
    pub fn all_with_policy(glibc: u8) -> impl Iterator<Item = Target> {
        CATALOG.iter().map(move |t| {
            let target = t.platform.target();
            target.with_policy(glibc).unwrap_or(target)
        })
    }

    /// What a glob `pattern` matches: every target, or with python-build-standalone's
    /// interpreters (`image_source` false) those it builds CPython for; a fat target (universal2)
    /// only where the pattern names it, as its wheel holds what `macosx_*`'s thin ones do.
    pub fn selectable(self, image_source: bool, pattern: &str) -> bool {
        let info = self.info();
        (image_source || info.pbs) && (info.slices.is_empty() || pattern.contains("universal2"))
    }

    /// The catalog's targets, manylinux ones with the default policy.
    pub fn all() -> impl Iterator<Item = Target> {
        Target::all_with_policy(DEFAULT_MANYLINUX)
    }

    /// The target a tag names: a catalog tag, or a manylinux one with any known policy.
    pub fn from_tag(tag: &str) -> Option<Target> {
        if let Some(t) = CATALOG.iter().find(|t| t.tag == tag) {
            return Some(t.platform.target());
        }
        let PlatformTag::Manylinux { glibc: (2, minor), arch } = PlatformTag::parse(tag) else { return None };
        let glibc: u8 = minor.try_into().ok()?;
        CATALOG
            .iter()
            .filter(|t| t.libc == Libc::Glibc && t.tag.ends_with(&format!("_{arch}")))
            .find_map(|t| t.platform.target().with_policy(glibc))
            // A policy older than the platform's oldest names no target (manylinux_2_17_riscv64).
            .filter(|t| t.tag() == tag)
    }

    /// The catalog tag closest to `tag`, for "did you mean" hints.
    pub fn suggest(tag: &str) -> Option<&'static str> {
        CATALOG
            .iter()
            .map(|t| (strsim::jaro_winkler(tag, t.tag), t.tag))
            .filter(|(score, _)| *score > 0.75)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, tag)| tag)
    }

    /// Decides where the target compiles. `mode` only matters for non-native Linux targets;
    /// Windows and macOS are always cross-compiled (there is nothing to emulate them with).
    pub fn build_how(self, mode: NonNativeMode) -> BuildHow {
        let info = self.info();
        match (info.native, self.zig_target(), info.emulate, mode) {
            (true, _, _, _) => BuildHow::Native,
            (false, _, true, NonNativeMode::Emulate) => BuildHow::Emulated,
            (false, Some(zig_target), _, _) => BuildHow::Cross { zig_target },
            (false, None, _, _) => BuildHow::Emulated,
        }
    }

    /// The platform tag of its wheels; a wheel may spell it another way (auditwheel adds the
    /// legacy alias `manylinux2014_*` of manylinux_2_17), which parses to the same value.
    pub fn platform_tag(self) -> PlatformTag {
        PlatformTag::parse(self.tag())
    }
}

impl Serialize for Target {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.tag())
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_indexed_by_their_enums() {
        for (i, t) in CATALOG.iter().enumerate() {
            assert_eq!(t.platform as usize, i, "{} out of place", t.tag);
        }
        for (i, f) in FAMILIES.iter().enumerate() {
            assert_eq!(f.family as usize, i, "{} out of place", f.key);
        }
    }

    #[test]
    fn linux_targets_live_in_a_family_of_their_arch_and_libc() {
        for t in CATALOG.iter().filter(|t| t.os == Os::Linux) {
            assert_eq!(t.family.info().arch, t.arch, "{}", t.tag);
            assert_eq!(t.family.info().libc, t.libc, "{}", t.tag);
        }
    }

    #[test]
    fn mode_decides_only_for_non_native_linux() {
        use NonNativeMode::*;
        assert_eq!(Platform::ManylinuxX86_64.target().build_how(Emulate), BuildHow::Native);
        assert_eq!(Platform::ManylinuxAarch64.target().build_how(Emulate), BuildHow::Emulated);
        assert_eq!(
            Platform::ManylinuxAarch64.target().build_how(Cross),
            BuildHow::Cross { zig_target: "aarch64-linux-gnu.2.17" }
        );
        assert!(matches!(Platform::WinAmd64.target().build_how(Emulate), BuildHow::Cross { .. }));
        assert!(matches!(Platform::MacosArm64.target().build_how(Emulate), BuildHow::Cross { .. }));
    }

    #[test]
    fn debian_names_round_trip() {
        for a in Arch::ALL {
            assert_eq!(Arch::from_debian(a.debian()), Some(a));
        }
        assert_eq!(Arch::Ppc64le.debian(), "ppc64el");
        assert_eq!(Arch::from_debian("x86_64"), None);
    }

    #[test]
    fn cross_builds_announce_the_targets_platform() {
        // The platform names the tag is made from.
        let policy = regex::Regex::new(r"^(manylinux_2_\d+|musllinux_1_2)").unwrap();
        for t in CATALOG {
            assert_eq!(t.sysconfig_platform.replace(['-', '.'], "_"), policy.replace(t.tag, "linux"), "{}", t.tag);
            assert_eq!(t.min_policy != 0, t.libc == Libc::Glibc, "{}", t.tag);
            assert!(t.min_policy == 0 || t.tag.starts_with(&format!("manylinux_2_{}_", t.min_policy)), "{}", t.tag);
        }
        // Debian's armhf CPython and python-build-standalone's name the CPU differently.
        assert_eq!(Platform::ManylinuxArmv7l.info().gnu_type_pattern().as_deref(), Some("arm*-*-linux-gnu*"));
        assert_eq!(Platform::MusllinuxX86_64.info().gnu_type_pattern().as_deref(), Some("x86_64-*-linux-musl*"));
        assert_eq!(Platform::MacosArm64.info().gnu_type_pattern().as_deref(), Some("aarch64-apple-darwin*"));
        assert_eq!(Platform::WinAmd64.info().gnu_type_pattern(), None);
        for t in CATALOG.iter().filter(|t| t.libc == Libc::Musl) {
            assert!(t.zig_in_own_family() && t.zig_target.is_some_and(|z| z.contains("-linux-musl")), "{}", t.tag);
        }
    }

    #[test]
    fn suggestions_and_aliases() {
        assert_eq!(Target::suggest("manylinux_2_17_x86_65"), Some("manylinux_2_17_x86_64"));
        assert_eq!(Target::suggest("musllinux_1_2_arm64"), Some("musllinux_1_2_aarch64"));
        assert_eq!(Target::suggest("zzz"), None);
        let accepts = |t: Target, tag: &str| PlatformTag::parse(tag) == t.platform_tag();
        assert!(accepts(Platform::ManylinuxX86_64.target(), "manylinux2014_x86_64"));
        assert!(!accepts(Platform::ManylinuxX86_64.target(), "linux_x86_64"));
    }
}

#[cfg(test)]
mod policy_tests {
    use super::*;

    #[test]
    fn manylinux_policies_name_their_glibc_in_tag_and_zig_target() {
        let t = Target::from_tag("manylinux_2_28_aarch64").unwrap();
        assert_eq!(t.platform(), Platform::ManylinuxAarch64);
        assert_eq!((t.tag(), t.zig_target()), ("manylinux_2_28_aarch64", Some("aarch64-linux-gnu.2.28")));
        assert_eq!(t.manylinux_policy(), Some(28));
        // ppc64le's zig libc begins at 2.19: the 2_17 policy builds against it.
        let ppc = Platform::ManylinuxPpc64le.target();
        assert_eq!(ppc.zig_target(), Some("powerpc64le-linux-gnu.2.19"));
        assert_eq!(ppc.with_policy(34).unwrap().zig_target(), Some("powerpc64le-linux-gnu.2.34"));
        // The default policy is the catalog's; policies pookie does not know, and other libcs, are not.
        assert_eq!(Target::from_tag("manylinux_2_17_x86_64"), Some(Platform::ManylinuxX86_64.target()));
        assert_eq!(Target::from_tag("manylinux_2_29_x86_64"), None);
        assert_eq!(Target::from_tag("manylinux_2_28_loongarch64"), None);
        assert_eq!(Platform::MusllinuxX86_64.target().with_policy(28), None);
        assert_eq!(Platform::WinAmd64.target().tag(), "win_amd64");
        // Every policy of every manylinux platform round-trips through its tag.
        for t in Target::all().filter(|t| t.manylinux_policy().is_some()) {
            for &n in MANYLINUX_POLICIES {
                let v = t.with_policy(n).unwrap();
                assert_eq!(Target::from_tag(v.tag()), Some(v), "{}", v.tag());
            }
        }
        // riscv64 begins at 2_31: older policies leave it there, and name no target of it.
        let riscv = Platform::ManylinuxRiscv64.target();
        assert_eq!((riscv.tag(), riscv.zig_target()), ("manylinux_2_31_riscv64", Some("riscv64-linux-gnu.2.31")));
        assert_eq!(riscv.with_policy(17), Some(riscv));
        assert_eq!(riscv.with_policy(39).unwrap().tag(), "manylinux_2_39_riscv64");
        assert_eq!(Target::from_tag("manylinux_2_17_riscv64"), None);
        assert_eq!(Target::from_tag("manylinux_2_34_riscv64").unwrap().zig_target(), Some("riscv64-linux-gnu.2.34"));
        assert_eq!(Platform::ManylinuxI686.target().tag(), "manylinux_2_17_i686");
        assert!(Arch::I686.runs_natively_on(Some(Arch::X86_64)) && !Arch::Riscv64.runs_natively_on(Some(Arch::X86_64)));
        let all_28: Vec<&str> = Target::all_with_policy(28).map(Target::tag).collect();
        assert!(all_28.contains(&"manylinux_2_28_armv7l") && all_28.contains(&"musllinux_1_2_x86_64"));
    }
}
