//! Wheel files: their names (PEP 427 / binary distribution format) and the tags recorded in
//! `*.dist-info/WHEEL`, checked against the target and Python version a job built for.

use crate::build_id::BuildId;
use crate::platform_tag::PlatformTag;
use crate::python::PythonVersion;
use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The parts of a wheel's file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelName {
    pub distribution: String,
    pub version: String,
    pub python: Vec<String>,
    pub abi: Vec<String>,
    pub platform: Vec<String>,
}

impl WheelName {
    pub fn parse(file_name: &str) -> Option<WheelName> {
        let stem = file_name.strip_suffix(".whl")?;
        let parts: Vec<&str> = stem.split('-').collect();
        let (dist, ver, rest) = match parts.as_slice() {
            [d, v, py, abi, plat] => (d, v, [py, abi, plat]),
            [d, v, _build, py, abi, plat] => (d, v, [py, abi, plat]),
            _ => return None,
        };
        let split = |s: &str| s.split('.').map(str::to_string).collect::<Vec<_>>();
        Some(WheelName {
            distribution: dist.to_string(),
            version: ver.to_string(),
            python: split(rest[0]),
            abi: split(rest[1]),
            platform: split(rest[2]),
        })
    }

    /// Every `python-abi-platform` tag the name expands to.
    pub fn tags(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for p in &self.python {
            for a in &self.abi {
                for pl in &self.platform {
                    out.insert(format!("{p}-{a}-{pl}"));
                }
            }
        }
        out
    }
}

/// Why a finished wheel does not fit its job.
#[derive(Debug, thiserror::Error)]
pub enum WheelError {
    #[error("wheel path has no file name")]
    NoFileName,
    #[error("`{0}` is not a wheel file name")]
    NotAWheelName(String),
    #[error("`{file}` is tagged {tagged}, not {target}")]
    WrongPlatform { file: String, tagged: String, target: &'static str },
    #[error("`{file}` is for {tags}, not CPython {python}")]
    WrongPython { file: String, tags: String, python: PythonVersion },
    #[error(
        "`{0}` is not a stable-ABI wheel, but `abi3 = true` tests it with newer Pythons: build it with the limited API (setuptools: `py_limited_api`)"
    )]
    NotStableAbi(String),
    #[error("the tags in `{file}`'s WHEEL file ({recorded}) differ from its name ({named})")]
    TagsDiffer { file: String, recorded: String, named: String },
    #[error("cannot open {}: {source}", path.display())]
    Open { path: PathBuf, source: std::io::Error },
    #[error("{} is not a zip archive: {source}", path.display())]
    NotZip { path: PathBuf, source: zip::result::ZipError },
    #[error("{} has no .dist-info/WHEEL", path.display())]
    NoWheelFile { path: PathBuf },
    #[error("cannot read {entry}: {source}")]
    Read { entry: String, source: std::io::Error },
}

fn joined<'a>(tags: impl IntoIterator<Item = &'a String>, sep: &str) -> String {
    tags.into_iter().map(String::as_str).collect::<Vec<_>>().join(sep)
}

/// Checks that `path` is a wheel for `id`: its name carries the target's platform tag (in any
/// spelling of it, `manylinux2014_*` included) and the CPython version (or a stable-ABI tag no
/// newer than it; required when `abi3`), and the tags inside WHEEL agree.
pub fn check(path: &Path, id: &BuildId, abi3: bool) -> Result<WheelName, WheelError> {
    let file_name = path.file_name().and_then(|n| n.to_str()).ok_or(WheelError::NoFileName)?;
    let file = file_name.to_string();
    let name = WheelName::parse(file_name).ok_or_else(|| WheelError::NotAWheelName(file.clone()))?;
    let target = id.target.platform_tag();
    if !name.platform.iter().any(|p| PlatformTag::parse(p) == target) {
        return Err(WheelError::WrongPlatform { file, tagged: name.platform.join("."), target: id.target.tag() });
    }
    let abi = id.python.cp_tag();
    // A free-threaded build has one ABI (`cp314-cp314t`); the default build's wheels may also be
    // for the stable ABI of an older minor, never for the free-threaded ABI.
    let python_ok = if id.python.free_threaded {
        name.python.contains(&id.python.python_tag()) && name.abi.contains(&abi)
    } else {
        let free_threaded_abi = format!("{abi}t");
        (name.python.contains(&abi) && !name.abi.contains(&free_threaded_abi))
            || (name.abi.iter().any(|a| a == "abi3")
                && name.python.iter().any(|p| {
                    p.strip_prefix("cp3").and_then(|m| m.parse::<u8>().ok()).is_some_and(|m| m <= id.python.minor)
                }))
    };
    if !python_ok {
        let tags = format!("{}-{}", name.python.join("."), name.abi.join("."));
        return Err(WheelError::WrongPython { file, tags, python: id.python });
    }
    if abi3 && !id.python.free_threaded && !name.abi.iter().any(|a| a == "abi3") {
        return Err(WheelError::NotStableAbi(file));
    }
    let recorded = wheel_tags(path)?;
    let named = name.tags();
    if recorded != named {
        return Err(WheelError::TagsDiffer { file, recorded: joined(&recorded, ", "), named: joined(&named, ", ") });
    }
    Ok(name)
}

/// The `Tag:` lines of the wheel's `*.dist-info/WHEEL`.
pub fn wheel_tags(path: &Path) -> Result<BTreeSet<String>, WheelError> {
    let file = std::fs::File::open(path).map_err(|source| WheelError::Open { path: path.into(), source })?;
    let mut zip = zip::ZipArchive::new(file).map_err(|source| WheelError::NotZip { path: path.into(), source })?;
    let wheel_file = zip
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.to_string()))
        .find(|n| n.ends_with(".dist-info/WHEEL") && n.matches('/').count() == 1)
        .ok_or_else(|| WheelError::NoWheelFile { path: path.into() })?;
    let mut text = String::new();
    let read = |source| WheelError::Read { entry: wheel_file.clone(), source };
    zip.by_name(&wheel_file).map_err(|e| read(e.into()))?.read_to_string(&mut text).map_err(read)?;
    Ok(text.lines().filter_map(|l| l.strip_prefix("Tag:")).map(|t| t.trim().to_string()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn make_wheel(dir: &Path, name: &str, tags: &[&str]) -> std::path::PathBuf {
        let path = dir.join(name);
        let mut z = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        z.start_file("pkg-1.0.dist-info/WHEEL", zip::write::SimpleFileOptions::default()).unwrap();
        let mut body = String::from("Wheel-Version: 1.0\nRoot-Is-Purelib: false\n");
        for t in tags {
            body.push_str(&format!("Tag: {t}\n"));
        }
        z.write_all(body.as_bytes()).unwrap();
        z.finish().unwrap();
        path
    }

    #[test]
    fn checks_names_and_recorded_tags() {
        let tmp = tempfile::tempdir().unwrap();
        let id = BuildId { target: crate::target::Platform::ManylinuxX86_64.target(), python: PythonVersion::new(12) };
        let good = make_wheel(
            tmp.path(),
            "pkg-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            &["cp312-cp312-manylinux_2_17_x86_64", "cp312-cp312-manylinux2014_x86_64"],
        );
        assert!(check(&good, &id, false).is_ok());
        let linux = make_wheel(tmp.path(), "pkg-1.0-cp312-cp312-linux_x86_64.whl", &["cp312-cp312-linux_x86_64"]);
        assert!(check(&linux, &id, false).unwrap_err().to_string().contains("not manylinux_2_17_x86_64"));
        let other_py = make_wheel(
            tmp.path(),
            "pkg-1.0-cp313-cp313-manylinux_2_17_x86_64.whl",
            &["cp313-cp313-manylinux_2_17_x86_64"],
        );
        assert!(check(&other_py, &id, false).unwrap_err().to_string().contains("not CPython 3.12"));
        let lying =
            make_wheel(tmp.path(), "pkg-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", &["cp312-cp312-linux_x86_64"]);
        assert!(check(&lying, &id, false).unwrap_err().to_string().contains("WHEEL file"));
        let abi3 = make_wheel(
            tmp.path(),
            "pkg-1.0-cp310-abi3-manylinux_2_17_x86_64.whl",
            &["cp310-abi3-manylinux_2_17_x86_64"],
        );
        assert!(check(&abi3, &id, true).is_ok());
        assert!(check(&good, &id, true).unwrap_err().to_string().contains("not a stable-ABI wheel"));
    }

    #[test]
    fn free_threaded_wheels_carry_their_abi() {
        let tmp = tempfile::tempdir().unwrap();
        let target = crate::target::Platform::ManylinuxX86_64.target();
        let ft = BuildId { target, python: PythonVersion::free_threaded(14) };
        let gil = BuildId { target, python: PythonVersion::new(14) };
        let ft_wheel = make_wheel(
            tmp.path(),
            "pkg-1.0-cp314-cp314t-manylinux_2_17_x86_64.whl",
            &["cp314-cp314t-manylinux_2_17_x86_64"],
        );
        let gil_wheel = make_wheel(
            tmp.path(),
            "pkg-1.0-cp314-cp314-manylinux_2_17_x86_64.whl",
            &["cp314-cp314-manylinux_2_17_x86_64"],
        );
        let abi3 = make_wheel(
            tmp.path(),
            "pkg-1.0-cp310-abi3-manylinux_2_17_x86_64.whl",
            &["cp310-abi3-manylinux_2_17_x86_64"],
        );
        assert!(check(&ft_wheel, &ft, false).is_ok());
        // abi3 does not bind a free-threaded build: its own ABI is required, with or without it.
        assert!(check(&ft_wheel, &ft, true).is_ok());
        assert!(check(&gil_wheel, &ft, false).unwrap_err().to_string().contains("not CPython 3.14t"));
        assert!(check(&abi3, &ft, false).unwrap_err().to_string().contains("not CPython 3.14t"));
        assert!(check(&ft_wheel, &gil, false).unwrap_err().to_string().contains("not CPython 3.14"));
        assert!(check(&gil_wheel, &gil, false).is_ok());
    }
}
