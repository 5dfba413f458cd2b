//! The request for a base image, judged at the edge, and the cache key it hashes to.

use super::BaseImageError;
use super::suite::{Distro, Variant};
use crate::target::Arch;
use sha2::{Digest, Sha256};

/// Bumped whenever the way images are made changes, so old cache entries are not reused.
const FORMAT: &str = "pookie-base-image-v1";

/// What goes into a base image; equal specs give the same cache key.
#[derive(Clone, Debug)]
pub struct Spec {
    pub suite: String,
    pub distro: Option<Distro>,
    pub arch: Arch,
    pub variant: Variant,
    pub mirror: String,
    /// Installed with apt-get after debootstrap (sorted, without duplicates).
    pub packages: Vec<String>,
    /// Installed when the suite has them, silently left out otherwise.
    pub optional_packages: Vec<String>,
}

fn valid_package(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.len() >= 2
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c))
}

impl Spec {
    /// Judges the request: the suite must be known or come with a mirror, package names must be
    /// Debian package names.
    pub fn new(
        suite: &str,
        arch: Arch,
        variant: Variant,
        mirror: Option<&str>,
        packages: &[String],
        optional_packages: &[String],
    ) -> Result<Spec, BaseImageError> {
        if suite.is_empty() || !suite.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            return Err(BaseImageError::BadInput {
                what: "suite",
                value: suite.to_string(),
                help: "name a release by its codename, e.g. `bookworm`, `sid` or `noble`",
            });
        }
        let distro = Distro::of_suite(suite);
        let mirror = match (mirror, distro) {
            (Some(m), _) => {
                if !(m.starts_with("http://") || m.starts_with("https://") || m.starts_with("file:/")) {
                    return Err(BaseImageError::BadInput {
                        what: "mirror",
                        value: m.to_string(),
                        help: "give the mirror's URL, e.g. http://deb.debian.org/debian",
                    });
                }
                m.trim_end_matches('/').to_string()
            }
            (None, Some(d)) => d.default_mirror(arch).to_string(),
            (None, None) => {
                return Err(BaseImageError::UnknownSuite { suite: suite.to_string(), known: Distro::known_suites() });
            }
        };
        let clean = |list: &[String]| -> Result<Vec<String>, BaseImageError> {
            let mut v = Vec::new();
            for p in list.iter().flat_map(|p| p.split([',', ' '])).filter(|p| !p.is_empty()) {
                if !valid_package(p) {
                    return Err(BaseImageError::BadInput {
                        what: "package name",
                        value: p.to_string(),
                        help: "Debian package names are lower case letters, digits and + - . (e.g. python3.13-dev)",
                    });
                }
                v.push(p.to_string());
            }
            v.sort();
            v.dedup();
            Ok(v)
        };
        let packages = clean(packages)?;
        let optional_packages: Vec<String> =
            clean(optional_packages)?.into_iter().filter(|p| !packages.contains(p)).collect();
        Ok(Spec { suite: suite.to_string(), distro, arch, variant, mirror, packages, optional_packages })
    }

    /// sha256 over everything that goes into the image.
    pub fn key(&self) -> String {
        let mut h = Sha256::new();
        for (k, v) in [
            ("format", FORMAT.to_string()),
            ("suite", self.suite.clone()),
            ("arch", self.arch.debian().to_string()),
            ("variant", self.variant.name().to_string()),
            ("mirror", self.mirror.clone()),
            ("packages", self.packages.join(" ")),
            ("optional", self.optional_packages.join(" ")),
        ] {
            h.update(k.as_bytes());
            h.update([0]);
            h.update(v.as_bytes());
            h.update([0]);
        }
        hex::encode(h.finalize())
    }

    /// File name stem of the cached archive.
    pub fn cache_name(&self) -> String {
        format!("{}-{}-{}-{}", self.suite, self.arch.debian(), self.variant.name(), &self.key()[..16])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(suite: &str, mirror: Option<&str>, packages: &[&str]) -> Result<Spec, BaseImageError> {
        let p: Vec<String> = packages.iter().map(|s| s.to_string()).collect();
        Spec::new(suite, Arch::X86_64, Variant::Minbase, mirror, &p, &[])
    }

    #[test]
    fn suites_mirrors_and_keys() {
        assert_eq!(spec("bookworm", None, &[]).unwrap().mirror, "http://deb.debian.org/debian");
        let noble = Spec::new("noble", Arch::Aarch64, Variant::Minbase, None, &[], &[]).unwrap();
        assert_eq!(noble.mirror, "http://ports.ubuntu.com/ubuntu-ports");
        assert_eq!(spec("noble", None, &[]).unwrap().mirror, "http://archive.ubuntu.com/ubuntu");
        assert!(matches!(spec("warty", None, &[]), Err(BaseImageError::UnknownSuite { .. })));
        let custom = spec("kali-rolling", Some("http://http.kali.org/kali/"), &[]).unwrap();
        assert_eq!(custom.mirror, "http://http.kali.org/kali");
        assert_eq!(custom.distro, None);
        assert!(matches!(spec("bookworm", Some("deb.debian.org"), &[]), Err(BaseImageError::BadInput { .. })));
        assert!(matches!(spec("bookworm", None, &["Bad_Name"]), Err(BaseImageError::BadInput { .. })));
        assert!(matches!(spec("../x", None, &[]), Err(BaseImageError::BadInput { .. })));

        // Order and duplicates of packages do not matter; everything else does.
        let a = spec("sid", None, &["python3.14-dev", "python3.13-dev"]).unwrap();
        let b = spec("sid", None, &["python3.13-dev,python3.14-dev", "python3.13-dev"]).unwrap();
        assert_eq!(a.packages, ["python3.13-dev", "python3.14-dev"]);
        assert_eq!(a.key(), b.key());
        assert_ne!(a.key(), spec("sid", None, &["python3.13-dev"]).unwrap().key());
        assert_ne!(a.key(), spec("bookworm", None, &["python3.13-dev", "python3.14-dev"]).unwrap().key());
        let arm = Spec::new("sid", Arch::Aarch64, Variant::Minbase, None, &a.packages, &[]).unwrap();
        assert_ne!(a.key(), arm.key());
        assert!(a.cache_name().starts_with("sid-amd64-minbase-"));
    }
}
