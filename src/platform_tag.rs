//! Wheel platform tags (PEP 425, PEP 600 manylinux, PEP 656 musllinux): parsed into what they
//! say and printed in their canonical spelling. manylinux's legacy names (`manylinux1`,
//! `manylinux2010`, `manylinux2014`) parse to the PEP 600 tag they alias, so comparing two
//! parsed tags answers "same platform" whatever spelling auditwheel or a backend chose.

use std::fmt;
use std::str::FromStr;

/// A wheel's platform tag.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PlatformTag {
    /// `manylinux_X_Y_ARCH`: needs glibc X.Y or newer.
    Manylinux { glibc: (u16, u16), arch: String },
    /// `musllinux_X_Y_ARCH`: needs musl X.Y or newer.
    Musllinux { musl: (u16, u16), arch: String },
    /// `macosx_X_Y_ARCH`: macOS X.Y or newer (`ARCH` may be `universal2`).
    Macos { version: (u16, u16), arch: String },
    /// `win32`, `win_amd64`, `win_arm64`.
    Windows { arch: Option<String> },
    /// `linux_ARCH`: a wheel no policy vouches for (what a build writes before repair).
    Linux { arch: String },
    /// `any`: pure Python.
    Any,
    /// A tag of another platform (iOS, Android, …), kept as written.
    Other(String),
}

/// manylinux's names before PEP 600, and the glibc version each stands for.
const LEGACY_MANYLINUX: [(&str, (u16, u16)); 3] =
    [("manylinux1", (2, 5)), ("manylinux2010", (2, 12)), ("manylinux2014", (2, 17))];

/// `X_Y_ARCH` → ((X, Y), ARCH).
fn version_and_arch(rest: &str) -> Option<((u16, u16), String)> {
    let mut parts = rest.splitn(3, '_');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let arch = parts.next().filter(|a| !a.is_empty())?;
    Some(((major, minor), arch.to_string()))
}

impl PlatformTag {
    /// Parses one tag (no `.`-joined set); never fails: unknown shapes are [`PlatformTag::Other`].
    pub fn parse(tag: &str) -> PlatformTag {
        let known = || -> Option<PlatformTag> {
            if tag == "any" {
                return Some(PlatformTag::Any);
            }
            if tag == "win32" {
                return Some(PlatformTag::Windows { arch: None });
            }
            if let Some(arch) = tag.strip_prefix("win_").filter(|a| !a.is_empty()) {
                return Some(PlatformTag::Windows { arch: Some(arch.to_string()) });
            }
            if let Some(rest) = tag.strip_prefix("manylinux_") {
                let (glibc, arch) = version_and_arch(rest)?;
                return Some(PlatformTag::Manylinux { glibc, arch });
            }
            for (legacy, glibc) in LEGACY_MANYLINUX {
                if let Some(arch) = tag.strip_prefix(legacy).and_then(|r| r.strip_prefix('_')).filter(|a| !a.is_empty())
                {
                    return Some(PlatformTag::Manylinux { glibc, arch: arch.to_string() });
                }
            }
            if let Some(rest) = tag.strip_prefix("musllinux_") {
                let (musl, arch) = version_and_arch(rest)?;
                return Some(PlatformTag::Musllinux { musl, arch });
            }
            if let Some(rest) = tag.strip_prefix("macosx_") {
                let (version, arch) = version_and_arch(rest)?;
                return Some(PlatformTag::Macos { version, arch });
            }
            let arch = tag.strip_prefix("linux_").filter(|a| !a.is_empty())?;
            Some(PlatformTag::Linux { arch: arch.to_string() })
        };
        known().unwrap_or_else(|| PlatformTag::Other(tag.to_string()))
    }

    /// The legacy spelling of a manylinux tag that has one (`manylinux2014_x86_64`), which
    /// auditwheel writes beside the PEP 600 one.
    pub fn legacy_alias(&self) -> Option<String> {
        match self {
            PlatformTag::Manylinux { glibc, arch } => {
                LEGACY_MANYLINUX.iter().find(|(_, v)| v == glibc).map(|(name, _)| format!("{name}_{arch}"))
            }
            _ => None,
        }
    }
}

impl FromStr for PlatformTag {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(PlatformTag::parse(s))
    }
}

impl fmt::Display for PlatformTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlatformTag::Manylinux { glibc: (x, y), arch } => write!(f, "manylinux_{x}_{y}_{arch}"),
            PlatformTag::Musllinux { musl: (x, y), arch } => write!(f, "musllinux_{x}_{y}_{arch}"),
            PlatformTag::Macos { version: (x, y), arch } => write!(f, "macosx_{x}_{y}_{arch}"),
            PlatformTag::Windows { arch: None } => f.write_str("win32"),
            PlatformTag::Windows { arch: Some(arch) } => write!(f, "win_{arch}"),
            PlatformTag::Linux { arch } => write!(f, "linux_{arch}"),
            PlatformTag::Any => f.write_str("any"),
            PlatformTag::Other(tag) => f.write_str(tag),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_tags_print_as_they_parse() {
        for tag in [
            "manylinux_2_17_x86_64",
            "manylinux_2_31_riscv64",
            "musllinux_1_2_armv7l",
            "macosx_11_0_universal2",
            "macosx_10_13_x86_64",
            "win_amd64",
            "win_arm64",
            "win32",
            "linux_aarch64",
            "any",
            "ios_13_0_arm64_iphoneos",
        ] {
            assert_eq!(PlatformTag::parse(tag).to_string(), tag);
        }
    }

    #[test]
    fn legacy_manylinux_names_are_their_pep_600_tags() {
        let t = PlatformTag::parse("manylinux2014_aarch64");
        assert_eq!(t, PlatformTag::Manylinux { glibc: (2, 17), arch: "aarch64".into() });
        assert_eq!(t.to_string(), "manylinux_2_17_aarch64");
        assert_eq!(t.legacy_alias().as_deref(), Some("manylinux2014_aarch64"));
        assert_eq!(PlatformTag::parse("manylinux1_i686"), PlatformTag::parse("manylinux_2_5_i686"));
        assert_eq!(PlatformTag::parse("manylinux_2_28_x86_64").legacy_alias(), None);
    }

    #[test]
    fn malformed_tags_are_kept_as_written() {
        for tag in ["manylinux_2_x86_64", "manylinux_2_17_", "musllinux_one_2_x86_64", "win_", "linux_"] {
            assert_eq!(PlatformTag::parse(tag), PlatformTag::Other(tag.into()), "{tag}");
        }
        // An architecture may hold underscores.
        assert_eq!(
            PlatformTag::parse("manylinux_2_17_x86_64_v2"),
            PlatformTag::Manylinux { glibc: (2, 17), arch: "x86_64_v2".into() }
        );
    }
}
