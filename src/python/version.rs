//! CPython versions as users name them (`"3.12"`, or `"12"` as the original's
//! `--python-version 12`; `"3.14t"` for the free-threaded build) and as the index resolves them
//! (`3.12.11`, `3.15.0rc1`).

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// A CPython minor version: what users select. Free-threaded CPython (PEP 703, `--disable-gil`)
/// is a build of its own ABI (`cp314t`), written with a `t` as uv and cibuildwheel write it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PythonVersion {
    pub major: u8,
    pub minor: u8,
    pub free_threaded: bool,
}

/// Oldest minor pookie builds for: older ones are out of upstream support and absent from
/// python-build-standalone.
pub const OLDEST_MINOR: u8 = 8;
/// The first minor with a free-threaded build.
pub const FREE_THREADED_MINOR: u8 = 13;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("`{0}` is not a Python version")]
    Malformed(String),
    #[error("`{0}` names a patch release; give the minor version (`{1}`) and pookie picks the newest patch")]
    HasPatch(String, String),
    #[error("CPython {0} is not supported: pookie builds for CPython 3.{OLDEST_MINOR} and newer")]
    TooOld(String),
    #[error(
        "`{0}` reads as CPython 3.{0} (a lone number is the minor version), which is not supported: pookie builds for CPython 3.{OLDEST_MINOR} and newer"
    )]
    LoneMinorTooOld(String),
    #[error("`{0}`: CPython has a free-threaded build from 3.{FREE_THREADED_MINOR} on")]
    FreeThreadedTooOld(String),
}

impl FromStr for PythonVersion {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let written = s.trim();
        let (t, free_threaded) = match written.strip_suffix('t') {
            Some(rest) => (rest, true),
            None => (written, false),
        };
        let parts: Vec<&str> = t.split('.').collect();
        let num = |p: &str| -> Result<u8, VersionError> {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(VersionError::Malformed(s.to_string()));
            }
            p.parse().map_err(|_| VersionError::Malformed(s.to_string()))
        };
        let v = match parts.as_slice() {
            [minor] => PythonVersion { major: 3, minor: num(minor)?, free_threaded },
            [major, minor] => PythonVersion { major: num(major)?, minor: num(minor)?, free_threaded },
            [major, minor, _patch] => {
                let v = PythonVersion { major: num(major)?, minor: num(minor)?, free_threaded };
                return Err(VersionError::HasPatch(s.to_string(), v.to_string()));
            }
            _ => return Err(VersionError::Malformed(s.to_string())),
        };
        if parts.len() == 1 && v.minor < OLDEST_MINOR {
            return Err(VersionError::LoneMinorTooOld(t.to_string()));
        }
        if v.major != 3 || v.minor < OLDEST_MINOR {
            return Err(VersionError::TooOld(s.to_string()));
        }
        if free_threaded && v.minor < FREE_THREADED_MINOR {
            return Err(VersionError::FreeThreadedTooOld(written.to_string()));
        }
        Ok(v)
    }
}

impl PythonVersion {
    pub const fn new(minor: u8) -> Self {
        PythonVersion { major: 3, minor, free_threaded: false }
    }

    /// The free-threaded build of CPython 3.`minor`.
    pub const fn free_threaded(minor: u8) -> Self {
        PythonVersion { major: 3, minor, free_threaded: true }
    }

    /// The same minor with the GIL (the build the default flavor of an index holds).
    pub const fn with_gil(self) -> Self {
        PythonVersion { free_threaded: false, ..self }
    }

    /// The ABI tag, which is also the version's part of a build identifier: `cp312`, `cp314t`.
    pub fn cp_tag(self) -> String {
        format!("{}{}", self.python_tag(), self.abiflags())
    }

    /// The wheel's Python tag, the same for both builds of a minor: `cp314`.
    pub fn python_tag(self) -> String {
        format!("cp{}{}", self.major, self.minor)
    }

    /// `sys.abiflags`: `t` of the free-threaded build, else empty (the `{t}` of interpreter paths).
    pub fn abiflags(self) -> &'static str {
        if self.free_threaded { "t" } else { "" }
    }
}

impl fmt::Display for PythonVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}{}", self.major, self.minor, self.abiflags())
    }
}

impl Serialize for PythonVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A full CPython release as python-build-standalone ships it. Serialized as its text
/// (`"3.15.0rc1"`), and read back from it (the cached index holds them).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FullVersion {
    pub major: u8,
    pub minor: u8,
    pub patch: u16,
    /// Empty for final releases, else `a1`, `b2`, `rc1`… (sorts before the final release).
    pub pre: String,
}

impl FullVersion {
    /// The minor version, of the default build (with the GIL).
    pub fn minor_version(&self) -> PythonVersion {
        PythonVersion { major: self.major, minor: self.minor, free_threaded: false }
    }

    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }

    /// Orders releases: a pre-release sorts before the final release of the same patch.
    pub fn sort_key(&self) -> (u8, u8, u16, bool, &str) {
        (self.major, self.minor, self.patch, self.pre.is_empty(), &self.pre)
    }
}

impl fmt::Display for FullVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}{}", self.major, self.minor, self.patch, self.pre)
    }
}

impl Serialize for FullVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl FromStr for FullVersion {
    type Err = VersionError;

    /// `3.12.14`, `3.15.0rc1`, `3.14.0a7`, `3.14.0b2`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || VersionError::Malformed(s.to_string());
        let mut parts = s.splitn(3, '.');
        let (Some(major), Some(minor), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let (patch, pre) = rest.split_at(digits);
        let pre_ok = pre.is_empty()
            || ["a", "b", "rc"]
                .iter()
                .any(|p| pre.strip_prefix(p).is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())));
        if !pre_ok {
            return Err(bad());
        }
        Ok(FullVersion {
            major: major.parse().map_err(|_| bad())?,
            minor: minor.parse().map_err(|_| bad())?,
            patch: patch.parse().map_err(|_| bad())?,
            pre: pre.to_string(),
        })
    }
}

impl<'de> serde::Deserialize<'de> for FullVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_spellings() {
        assert_eq!("3.12".parse(), Ok(PythonVersion::new(12)));
        assert_eq!("12".parse(), Ok(PythonVersion::new(12)));
        assert_eq!(" 3.9 ".parse(), Ok(PythonVersion::new(9)));
    }

    #[test]
    fn rejects_what_is_not_a_minor() {
        assert!(matches!("3.12.1".parse::<PythonVersion>(), Err(VersionError::HasPatch(_, m)) if m == "3.12"));
        assert!(matches!("3.x".parse::<PythonVersion>(), Err(VersionError::Malformed(_))));
        assert!(matches!("".parse::<PythonVersion>(), Err(VersionError::Malformed(_))));
        assert!(matches!("2.7".parse::<PythonVersion>(), Err(VersionError::TooOld(_))));
        assert!(matches!("3.6".parse::<PythonVersion>(), Err(VersionError::TooOld(_))));
        assert!(matches!("-1".parse::<PythonVersion>(), Err(VersionError::Malformed(_))));
        assert!(matches!("3.12t".parse::<PythonVersion>(), Err(VersionError::FreeThreadedTooOld(_))));
        assert!(matches!("3.14tt".parse::<PythonVersion>(), Err(VersionError::Malformed(_))));
        assert!(matches!("t".parse::<PythonVersion>(), Err(VersionError::Malformed(_))));
    }

    #[test]
    fn free_threaded_builds_have_their_own_abi_tag() {
        let v: PythonVersion = "3.14t".parse().unwrap();
        assert_eq!(v, PythonVersion::free_threaded(14));
        assert_eq!("14t".parse(), Ok(v));
        assert_eq!((v.to_string(), v.cp_tag(), v.python_tag()), ("3.14t".into(), "cp314t".into(), "cp314".into()));
        assert_eq!(v.with_gil(), PythonVersion::new(14));
        assert_eq!(PythonVersion::new(14).cp_tag(), "cp314");
        // The free-threaded build sorts after its minor's default build.
        assert!(PythonVersion::new(14) < v && v < PythonVersion::new(15));
    }

    #[test]
    fn full_versions_round_trip_through_json() {
        for text in ["3.12.14", "3.15.0rc1", "3.14.0a7", "3.13.0b2"] {
            let v: FullVersion = text.parse().unwrap();
            assert_eq!(v.to_string(), text);
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<FullVersion>(&json).unwrap(), v);
        }
        for bad in ["3.12", "3.12.x", "3.12.1rc", "3.12.1dev1", "x.1.2"] {
            assert!(bad.parse::<FullVersion>().is_err(), "{bad}");
        }
    }

    #[test]
    fn prerelease_sorts_before_final() {
        let rc = FullVersion { major: 3, minor: 15, patch: 0, pre: "rc1".into() };
        let fin = FullVersion { major: 3, minor: 15, patch: 0, pre: String::new() };
        assert!(rc.sort_key() < fin.sort_key());
        assert_eq!(rc.to_string(), "3.15.0rc1");
    }
}
