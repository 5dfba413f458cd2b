"""pookie-build-wheel: the default build command, a PEP 517 frontend (pypa/build's API) that
builds the project in the current directory into a wheel in $POOKIE_WHEEL_DIR, for any build
backend (setuptools with or without pyproject.toml, scikit-build-core, meson-python, ...).

Natively (and under QEMU) it is `python -m build --wheel`: an isolated environment of the job's
Python with the build requirements, then the backend. In cross jobs (pookie set
_PYTHON_HOST_PLATFORM and _PYTHON_SYSCONFIGDATA_NAME, see cross-python.sh) it splits the build
the way crossenv and cibuildwheel's Android platform do:

- build requirements (setuptools, Cython, cmake, ninja, meson, pybind11, numpy, ...) are
  installed for the build machine, so that they run here; `get_requires_for_build_wheel` is
  asked in the target's environment (it may depend on the target) and installed the same way;
- what the build needs *of the target* is installed for the target beside them: for each
  requirement with compiled code that ships C headers or libraries (numpy's
  `_numpyconfig.h` and `libnpymath.a`), the target's wheel of the same version is downloaded
  and its headers, static libraries and pkg-config files replace the build machine's, so that
  `numpy.get_include()`, run here, answers with the target's headers;
- the backend runs with the target's sysconfig (EXT_SUFFIX, SOABI, platform tag), zig's
  compilers, a CMake toolchain file (CMAKE_TOOLCHAIN_FILE, read by CMake and scikit-build-core)
  and, for meson-python, a meson cross file.

$POOKIE_BUILD_FRONTEND (pookie.toml's `build-frontend`) picks the frontend: `build` (the default,
as above), `build[uv]` (uv installs the isolated environment), `pip` (`pip wheel`) or `uv` (`uv
build`). Cross builds keep the split above whatever the frontend: there `pip` and `uv` only name
the installer, since neither can install build requirements for one machine and target files
for another.

usage: pookie-build-wheel [SRCDIR] [--outdir DIR] [-C KEY=VALUE]...   (run by the tools Python)
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

import build
import build.env
from packaging.requirements import Requirement

CROSS_VARS = ("_PYTHON_HOST_PLATFORM", "_PYTHON_SYSCONFIGDATA_NAME")
# Where cross layers keep the target CPython's headers (and Windows import libraries).
TARGET_ROOT = "/opt/pookie/target"
# Files of a target wheel a build reads: headers, static and import libraries, pkg-config.
TARGET_FILES = (".h", ".hpp", ".hh", ".a", ".lib", ".pc")
# Extension modules of the build machine's CPython (what installed build requirements hold).
EXTENSION_SUFFIXES = (".abi3.so", ".so") if os.name == "posix" else (".pyd",)


def log(message):
    print(f"::pookie:: pookie-build-wheel: {message}", flush=True)


def run(cmd, env):
    print("+ " + " ".join(cmd), flush=True)
    subprocess.run(cmd, env=env, check=True)


class Env(build.env.IsolatedEnv):
    """A virtual environment of the job's Python whose requirements are installed for the build
    machine, while the backend runs with the environment `backend_env` adds."""

    def __init__(self, path, python, native_env, backend_env, installer="pip"):
        self.path, self.native_env, self.backend_env = path, native_env, backend_env
        self.installer = installer
        run([python, "-m", "venv", "--without-pip", path], native_env)
        self.python = os.path.join(path, "bin", "python")
        self.job_python = python
        # Asked of the job's Python: this script's own interpreter (the tools environment's) may be
        # another version, and must not read sysconfig while the cross variables are set.
        self.version_nodot, self.abiflags = subprocess.run(
            [python, "-c", "import sys; print('%d%d' % sys.version_info[:2], getattr(sys, 'abiflags', ''))"],
            env=native_env, check=True, capture_output=True, text=True).stdout.split(" ")
        self.abiflags = self.abiflags.strip()

    @property
    def python_executable(self):
        return self.python

    def make_extra_environ(self):
        scripts = os.path.join(self.path, "bin")
        return {**self.backend_env, "PATH": scripts + os.pathsep + os.environ.get("PATH", ""), "PYTHONPATH": ""}

    def install(self, requirements):
        if not requirements:
            return
        # The job's pip (or uv) installs into this environment, for the machine it runs on.
        if self.installer == "uv":
            run(["uv", "pip", "install", "--python", self.python, *sorted(requirements)], uv_env(self.native_env))
        else:
            run([self.job_python, "-m", "pip", "--python", self.python, "install", "--no-input",
                 *sorted(requirements)], self.native_env)

    def distributions(self):
        """(name, version, files) of what is installed, read by the environment's Python."""
        script = (
            "import importlib.metadata as m, json\n"
            "print(json.dumps([[d.metadata['Name'], d.version, d.read_text('WHEEL') or '',"
            " str(d.locate_file('')), [str(f) for f in (d.files or [])]] for d in m.distributions()]))"
        )
        out = subprocess.run([self.python, "-c", script], env=self.native_env, check=True, capture_output=True, text=True)
        return json.loads(out.stdout)


# The glibc of the test images pookie uses by default (Debian 12), whose pip takes wheels up to it.
TEST_MACHINE_GLIBC = (2, 36)


def uv_env(env):
    """`env` for uv: pip's index, CA bundle and cache are uv's too, and uv never fetches a Python."""
    env = dict(env)
    if env.get("PIP_INDEX_URL") and not env.get("UV_DEFAULT_INDEX"):
        env["UV_DEFAULT_INDEX"] = env["PIP_INDEX_URL"]
    if env.get("PIP_CERT") and not env.get("SSL_CERT_FILE"):
        env["SSL_CERT_FILE"] = env["PIP_CERT"]
    if env.get("PIP_CACHE_DIR") and not env.get("UV_CACHE_DIR"):
        env["UV_CACHE_DIR"] = os.path.join(env["PIP_CACHE_DIR"], "uv")
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    return env


def frontend_build(frontend, python, srcdir, outdir, config):
    """A native (or emulated) build by `pip wheel` or `uv build`."""
    settings = []
    for key, values in config.items():
        for value in values if isinstance(values, list) else [values]:
            settings.append(f"{key}={value}")
    os.makedirs(outdir, exist_ok=True)
    if frontend == "pip":
        run([python, "-m", "pip", "wheel", "--no-deps", "--no-input", "--wheel-dir", outdir,
             *[f"--config-settings={s}" for s in settings], srcdir], dict(os.environ))
    else:
        run(["uv", "build", "--wheel", "--python", python, "--out-dir", outdir,
             *[f"--config-setting={s}" for s in settings], srcdir], uv_env(os.environ))
    log(f"built {', '.join(f for f in os.listdir(outdir) if f.endswith('.whl'))} with {frontend}")


def target_platforms(test_machine=False):
    """Platform tags whose wheels the target takes, best first (pip download --platform): wheels
    that meet its policy, or with `test_machine` those a test machine's pip installs."""
    tag = os.environ.get("POOKIE_PLATFORM", "")
    if tag.startswith("manylinux_"):
        _, major, minor, arch = tag.split("_", 3)
        newest = max(int(minor), TEST_MACHINE_GLIBC[1]) if test_machine else int(minor)
        tags = [f"manylinux_{major}_{m}_{arch}" for m in range(newest, 4, -1)]
        legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
        return tags + [f"{name}_{arch}" for m, name in legacy.items() if m <= newest]
    if tag.startswith("musllinux_"):
        _, major, minor, arch = tag.split("_", 3)
        return [f"musllinux_{major}_{m}_{arch}" for m in range(int(minor), 0, -1)]
    if tag.startswith("macosx_"):
        _, major, minor, arch = tag.split("_", 3)
        versions = [(int(major), 0)] if int(major) >= 11 else []
        versions += [(10, m) for m in range(16, 8, -1)] if arch == "x86_64" else []
        out = []
        for ma, mi in versions:
            out += [f"macosx_{ma}_{mi}_{arch}", f"macosx_{ma}_{mi}_universal2"]
        return out
    return [tag]


# `python -c PIP_FOR_TARGET MACHINE ARGS...` is `python -m pip ARGS...` that evaluates
# environment markers for the target. pip evaluates them for the machine it runs on; the target
# (a Linux CPython of the same version as this one) differs only in platform_machine, which
# packaging's marker environment reads from platform.machine() at each evaluation.
PIP_FOR_TARGET = ("import platform, runpy, sys; machine = sys.argv.pop(1); platform.machine = lambda: machine; "
                  "sys.argv[0] = 'pip'; runpy.run_module('pip', run_name='__main__', alter_sys=True)")


def target_pip(python):
    """The command line of pip resolving for the target: its markers (see PIP_FOR_TARGET), its
    Python version and ABI and the platform tags a test machine takes, binary only."""
    full, abiflags = subprocess.run(
        [python, "-c", "import platform, sys; print(platform.python_version(), sys.abiflags)"], check=True,
        capture_output=True, text=True).stdout.split(" ")
    version = "".join(full.split(".")[:2])
    tag = os.environ.get("POOKIE_PLATFORM", "")
    machine = tag.split("_", 3)[3] if tag.startswith(("manylinux_", "musllinux_")) else platform.machine()
    cmd = [python, "-c", PIP_FOR_TARGET, machine]
    options = ["--no-input", "--disable-pip-version-check", "--only-binary=:all:", "--python-version", version,
               "--implementation", "cp", "--abi", f"cp{version}{abiflags.strip()}"]
    for p in target_platforms(test_machine=True):
        options += ["--platform", p]
    return cmd, options, full


def install_for_target(dest, wheels, requirements_file, extras):
    """Installs `wheels` (with `extras`) and the requirements in `requirements_file` for the
    target into `dest`, a site directory the target's CPython adds (job.sh's install stage): pip
    resolves and unpacks at native speed, so that under QEMU only the tests run. The target's
    wheels the build compiled (build_target_wheel) are found in the shared pip cache."""
    python = shutil.which("python") or sys.exit("pookie-build-wheel: no `python` on PATH")
    cmd, options, _ = target_pip(python)
    cache = os.environ.get("PIP_CACHE_DIR")
    store = os.path.join(cache, "pookie-target-wheels") if cache else None
    if store and os.path.isdir(store):
        options += ["--find-links", store]
    wanted = [f"{w}[{extras}]" if extras else w for w in wheels]
    if requirements_file and os.path.isfile(requirements_file) and os.path.getsize(requirements_file) > 0:
        wanted += ["-r", requirements_file]
    run([*cmd, "install", "--target", dest, *options, *wanted], dict(os.environ))
    log(f"installed for the target into {dest}")


def download_target_wheel(env, requirement, dest, platforms):
    """The target's wheel satisfying `requirement`, or None when the index has none."""
    version = env.version_nodot
    cmd = [env.job_python, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--dest", dest,
           "--python-version", version, "--implementation", "cp", "--abi", f"cp{version}{env.abiflags}"]
    for p in platforms:
        cmd += ["--platform", p]
    try:
        run([*cmd, requirement], env.native_env)
    except subprocess.CalledProcessError:
        return None
    wheels = [os.path.join(dest, f) for f in os.listdir(dest) if f.endswith(".whl")]
    return wheels[0] if wheels else None


def build_target_wheel(backend_env, requirement, dest):
    """The target's wheel of `requirement` built from its sdist by this frontend, cross, when the
    index has none (numpy for armv7l), or None when that fails. It is kept in the job's pip cache
    (one per target and Python), where later builds, and the test job's pip (job.sh gives it to
    pip as --find-links), find it: the tests then install the same build instead of compiling it
    under QEMU."""
    cache = os.environ.get("PIP_CACHE_DIR")
    store = os.path.join(cache, "pookie-target-wheels") if cache else os.path.join(dest, "built")
    name, _, version = requirement.partition("==")
    prefix = f"{canonical(name).replace('-', '_')}-{version}-"
    if os.path.isdir(store):
        for f in sorted(os.listdir(store)):
            if f.startswith(prefix) and f.endswith(".whl"):
                log(f"{requirement}: the target's wheel built earlier, {f}")
                return os.path.join(store, f)
    log(f"{requirement}: the index has no wheel for the target; building it from its sdist, for the target")
    try:
        archive = fetch_sdist(name, version, os.path.join(dest, "sdist"))
        src = os.path.join(dest, "src")
        shutil.unpack_archive(archive, src)
        [srcdir] = [os.path.join(src, d) for d in os.listdir(src)]
        out = os.path.join(dest, "built")
        # The cross environment this build got, whole: the requirement builds as the project does.
        child = {**os.environ, **backend_env}
        run([sys.executable, os.path.abspath(sys.argv[0]), srcdir, "--outdir", out], child)
    except (subprocess.CalledProcessError, ValueError, OSError) as e:
        log(f"{requirement}: building it for the target failed ({e})")
        return None
    [wheel] = [f for f in os.listdir(out) if f.endswith(".whl")]
    os.makedirs(store, exist_ok=True)
    kept = os.path.join(store, wheel)
    shutil.copy(os.path.join(out, wheel), kept + ".part")
    os.replace(kept + ".part", kept)
    log(f"{requirement}: built {wheel} for the target, kept for later builds and the tests")
    return kept


def index_sdists(name):
    """{version: file entry} of the sdists of `name` on the package index (pip's, PIP_INDEX_URL,
    as its JSON simple API serves it), without yanked ones."""
    import urllib.request

    request = urllib.request.Request(f"{index_url()}/{canonical(name)}/",
                                     headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(request, timeout=60) as r:
        files = json.load(r)["files"]
    sdists = {}
    for f in files:
        stem, dot, _ = f["filename"].partition(".tar.gz")
        n, _, v = stem.rpartition("-")
        if dot and canonical(n) == canonical(name) and not f.get("yanked"):
            sdists[v] = f
    return sdists


def index_url():
    return os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")


def fetch_sdist(name, version, dest):
    """The sdist of `name` `version` from the package index, checked against the index's sha256.
    Not `pip download`: for that pip would build the package once to learn its metadata."""
    import hashlib
    import urllib.parse
    import urllib.request

    entry = index_sdists(name).get(version)
    if entry is None:
        raise ValueError(f"the index has no sdist of {name} {version}")
    os.makedirs(dest, exist_ok=True)
    path = os.path.join(dest, entry["filename"])
    url = urllib.parse.urljoin(f"{index_url()}/{canonical(name)}/", entry["url"])
    print(f"+ fetch {url}", flush=True)
    with urllib.request.urlopen(url, timeout=300) as r, open(path, "wb") as out:
        shutil.copyfileobj(r, out)
    want = entry.get("hashes", {}).get("sha256")
    with open(path, "rb") as f:
        got = hashlib.sha256(f.read()).hexdigest()
    if not want or got != want:
        raise ValueError(f"{entry['filename']}: sha256 {got}, the index says {want}")
    return path


def target_requirements(wheels, requirements_file, extras, backend_env):
    """Cross-compiles, into the pip cache the test job shares (build_target_wheel), what the test
    job would otherwise compile from source under QEMU: the requirements of `wheels` and of the
    tests that the index has no wheel of for the target. pip resolves them for the target
    (`--platform`, binary only, the wheels built so far as --find-links); each requirement it
    finds no wheel of is built from the newest sdist that satisfies it, and it resolves again.
    Environment markers are the target's (PIP_FOR_TARGET)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    python = shutil.which("python") or sys.exit("pookie-build-wheel: no `python` on PATH")
    pip, options, full = target_pip(python)

    def supports(entry):
        # The sdist's Requires-Python, as the index serves it (numpy 2.5 needs 3.12).
        try:
            return SpecifierSet(entry.get("requires-python") or "").contains(full, prereleases=True)
        except InvalidSpecifier:
            return True
    cache = os.environ.get("PIP_CACHE_DIR")
    if not cache:
        log("no pip cache shared with the test job: nothing to prepare")
        return
    store = os.path.join(cache, "pookie-target-wheels")
    os.makedirs(store, exist_ok=True)
    wanted = [f"{w}[{extras}]" if extras else w for w in wheels]
    if requirements_file and os.path.getsize(requirements_file) > 0:
        wanted += ["-r", requirements_file]
    built = set()
    with tempfile.TemporaryDirectory(prefix="pookie-target-requirements-") as work:
        while True:
            cmd = [*pip, "install", "--dry-run", "--ignore-installed", "--target", os.path.join(work, "target"),
                   *options, "--find-links", store]
            print("+ " + " ".join(cmd + wanted), flush=True)
            done = subprocess.run(cmd + wanted, capture_output=True, text=True)
            if done.returncode == 0:
                log("every requirement of the tests has a wheel for the target")
                return
            missing = re.search(r"No matching distribution found for (\S+)", done.stderr)
            if not missing:
                sys.stderr.write(done.stderr)
                raise SystemExit("pookie-build-wheel: pip cannot resolve the tests' requirements for the target")
            requirement = Requirement(missing.group(1))
            name = canonical(requirement.name)
            versions = []
            for v, entry in index_sdists(name).items():
                try:
                    if supports(entry):
                        versions.append(Version(v))
                except InvalidVersion:
                    pass
            candidates = [v for v in versions if requirement.specifier.contains(v)]
            if name in built or not candidates:
                sys.stderr.write(done.stderr)
                raise SystemExit(f"pookie-build-wheel: no wheel and no usable sdist of {requirement} for the target")
            built.add(name)
            pinned = f"{name}=={max(candidates)}"
            if build_target_wheel(backend_env, pinned, os.path.join(work, name)) is None:
                raise SystemExit(f"pookie-build-wheel: {pinned} did not build for the target")


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def overlay_target_files(env, work, requirements):
    """Replaces the headers and libraries of compiled build requirements with the target's. When
    the target has no wheel of the version installed here (numpy's newest aarch64 wheels need a
    newer glibc than the policy), the newest version the target has is installed here instead."""
    platforms = target_platforms()
    specs = {canonical(Requirement(r).name): r for r in requirements}
    for name, installed, wheel, location, files in env.distributions():
        # A library of Python extension modules that ships headers or libraries to build against
        # (numpy); tools with headers of their own (cmake) and header-only packages (pybind11)
        # serve the build as they are.
        extensions = any(f.endswith(EXTENSION_SUFFIXES) for f in files)
        if "Root-Is-Purelib: true" in wheel or not extensions or not any(f.endswith(TARGET_FILES) for f in files):
            continue
        dest = os.path.join(work, "target-wheels", name)
        target_wheel = download_target_wheel(env, f"{name}=={installed}", dest, platforms)
        if target_wheel is None and canonical(name) in specs:
            target_wheel = download_target_wheel(env, specs[canonical(name)], dest, platforms)
            if target_wheel is not None:
                version = os.path.basename(target_wheel).split("-")[1]
                log(f"{name}: {platforms[0]} has no wheel of {installed}; building against {version}")
                env.install([f"{name}=={version}"])
                [(_, _, _, location, _)] = [d for d in env.distributions() if canonical(d[0]) == canonical(name)]
        if target_wheel is None:
            target_wheel = build_target_wheel(env.backend_env, f"{name}=={installed}", dest)
        if target_wheel is None:
            raise SystemExit(
                f"pookie-build-wheel: the build requires {name}, which has compiled code, and the index has no wheel "
                f"of it for {platforms[0]} (cp{env.version_nodot}): its headers for the "
                "target cannot be had without building it for the target. Build this project in emulate mode "
                "([linux] non-native-mode = \"emulate\")."
            )
        replaced = 0
        with zipfile.ZipFile(target_wheel) as z:
            for member in z.namelist():
                if member.endswith(TARGET_FILES) and ".dist-info/" not in member:
                    path = os.path.join(location, member)
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    with z.open(member) as src, open(path, "wb") as out:
                        shutil.copyfileobj(src, out)
                    replaced += 1
        log(f"{name}: {replaced} headers and libraries of {os.path.basename(target_wheel)}")


# Installed into cross build environments: in the backend's processes (where pookie's cross
# variables are set) sysconfig's include paths name the target CPython's headers, as its config
# vars (INCLUDEPY) already do. scikit-build-core and CMake's FindPython read the paths.
CROSS_SITE = """import os, sysconfig
if os.environ.get("_PYTHON_HOST_PLATFORM") and sysconfig.get_config_var("INCLUDEPY"):
    _get_paths, _get_path = sysconfig.get_paths, sysconfig.get_path
    def _target(paths):
        paths = dict(paths)
        paths["include"] = paths["platinclude"] = sysconfig.get_config_var("INCLUDEPY")
        return paths
    sysconfig.get_paths = lambda *a, **k: _target(_get_paths(*a, **k))
    sysconfig.get_path = lambda name, *a, **k: _target(_get_paths(*a, **k))[name] if name in ("include", "platinclude") else _get_path(name, *a, **k)
"""


# The layout of C's long double on each target, which numpy's meson build cannot find out by
# running a program when it cross-compiles (numpy's meson.build names these formats).
LONGDOUBLE_FORMAT = {
    ("linux", "x86_64"): "INTEL_EXTENDED_16_BYTES_LE",
    ("linux", "i686"): "INTEL_EXTENDED_12_BYTES_LE",
    ("linux", "aarch64"): "IEEE_QUAD_LE",
    ("linux", "armv7l"): "IEEE_DOUBLE_LE",
    ("linux", "ppc64le"): "IBM_DOUBLE_DOUBLE_LE",
    ("linux", "s390x"): "IEEE_QUAD_BE",
    ("linux", "riscv64"): "IEEE_QUAD_LE",
    ("windows", "x86_64"): "INTEL_EXTENDED_16_BYTES_LE",
    ("darwin", "x86_64"): "INTEL_EXTENDED_16_BYTES_LE",
    ("darwin", "aarch64"): "IEEE_DOUBLE_LE",
}


# zig target -> (CMake system, CMake processor, meson system, meson cpu family, meson cpu, endian)
def target_machine(zig_target):
    arch, _, rest = zig_target.partition("-")
    system = rest.split("-")[0].split(".")[0]
    cmake_system = {"linux": "Linux", "windows": "Windows", "macos": "Darwin"}[system]
    meson_system = {"linux": "linux", "windows": "windows", "macos": "darwin"}[system]
    cpu = {"arm": ("armv7l", "arm"), "powerpc64le": ("ppc64le", "ppc64"), "aarch64": ("aarch64", "aarch64"),
           "x86_64": ("x86_64", "x86_64"), "s390x": ("s390x", "s390x"), "riscv64": ("riscv64", "riscv64"),
           "x86": ("i686", "x86")}[arch]
    processor = "arm64" if (system == "macos" and arch == "aarch64") else cpu[0]
    endian = "big" if arch == "s390x" else "little"
    return cmake_system, processor, meson_system, cpu[1], cpu[0], endian


def target_python(env):
    """What the target CPython is, as its sysconfig (the backend's) says."""
    script = (
        "import json, sys, sysconfig\n"
        "keys = ('VERSION', 'EXT_SUFFIX', 'INCLUDEPY', 'ABIFLAGS', 'py_version_nodot')\n"
        "print(json.dumps({'platform': sysconfig.get_platform(), 'version': list(sys.version_info[:3]),\n"
        "                  'vars': {k: sysconfig.get_config_var(k) for k in keys}}))"
    )
    out = subprocess.run([env.python, "-c", script], env={**env.native_env, **env.backend_env}, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def build_details(work, target):
    """PEP 739 build-details.json of the target CPython, which meson reads (python.build_config)
    where it cannot ask a Windows interpreter."""
    v, version = target["vars"], target["version"]
    nodot = v["py_version_nodot"]
    # The free-threaded build's DLL and import library end in its ABI flag (python313t.lib).
    library = f"python{nodot}{v.get('ABIFLAGS') or ''}"
    details = {
        "schema_version": "1.0",
        "base_prefix": TARGET_ROOT,
        "platform": target["platform"],
        "language": {"version": f"{version[0]}.{version[1]}", "version_info": {
            "major": version[0], "minor": version[1], "micro": version[2], "releaselevel": "final", "serial": 0}},
        "implementation": {"name": "cpython", "cache_tag": f"cpython-{nodot}"},
        "abi": {"flags": list(v.get("ABIFLAGS") or ""), "extension_suffix": v["EXT_SUFFIX"],
                "stable_abi_suffix": ".pyd" if target["platform"].startswith("win") else ".abi3.so"},
        "libpython": {"dynamic": f"{TARGET_ROOT}/libs/{library}.lib",
                      "dynamic_stableabi": f"{TARGET_ROOT}/libs/python3.lib",
                      "dynamic-stableabi": f"{TARGET_ROOT}/libs/python3.lib",
                      "link_extensions": target["platform"].startswith("win")},
        "c_api": {"headers": v["INCLUDEPY"]},
    }
    path = os.path.join(work, "build-details.json")
    with open(path, "w") as f:
        json.dump(details, f, indent=2)
    return path


def python_config(env, target):
    """The target's python-config, first on the backend's PATH: CMake's FindPython and
    configure scripts otherwise find the build machine's (Debian's python3.X-config, which
    says -ldl -lm)."""
    v = target["vars"]
    nodot, windows = v["py_version_nodot"], target["platform"].startswith("win")
    libs = f"-L{TARGET_ROOT}/libs -lpython{nodot}{v.get('ABIFLAGS') or ''}" if windows else ""
    script = f"""#!/bin/sh
# pookie: python-config of the target CPython ({target['platform']}), for cross builds.
out=
for arg; do
    case $arg in
        --includes | --cflags) out="$out -I{v['INCLUDEPY']}" ;;
        --libs | --ldflags) out="$out {libs}" ;;
        --extension-suffix) out="$out {v['EXT_SUFFIX']}" ;;
        --abiflags) out="$out {v.get('ABIFLAGS') or ''}" ;;
        --prefix | --exec-prefix) out="$out {TARGET_ROOT}" ;;
        --embed) ;;
        *) echo "usage: $0 --includes|--cflags|--libs|--ldflags|--extension-suffix|--abiflags|--prefix" >&2; exit 1 ;;
    esac
done
echo $out
"""
    major_minor = v["VERSION"] if "." in str(v["VERSION"]) else f"{nodot[0]}.{nodot[1:]}"
    for name in (f"python{major_minor}-config", "python3-config", "python-config"):
        path = os.path.join(env.path, "bin", name)
        with open(path, "w") as f:
            f.write(script)
        os.chmod(path, 0o755)


def cross_files(work, env_python=None, target=None):
    """A CMake toolchain file and a meson cross file for the target zig compiles for; with
    `env_python` and `target`, also the target CPython's (without them: for before-all, which
    runs before any CPython is installed). Libraries before-all installed into
    $POOKIE_TARGET_PREFIX are found through both."""
    zig_target = os.environ["POOKIE_ZIG_TARGET"]
    cmake_system, processor, meson_system, family, cpu, endian = target_machine(zig_target)
    prefix = os.environ.get("POOKIE_TARGET_PREFIX", "")
    target_root = " ".join(p for p in (TARGET_ROOT if target else "", prefix) if p)
    python = ""
    if target:
        python = f"""# The build machine's Python answers with the target's sysconfig (_PYTHON_SYSCONFIGDATA_NAME):
# FindPython may run it although the build is a cross build.
set(CMAKE_CROSSCOMPILING_EMULATOR /bin/sh -c [["$0" "$@"]])
set(Python_EXECUTABLE {env_python} CACHE FILEPATH "")
set(Python3_EXECUTABLE {env_python} CACHE FILEPATH "")
"""
        # Windows extensions link the import library of python3XY.dll, which FindPython
        # cannot find from a Linux interpreter.
        library = f"python{target['vars']['py_version_nodot']}{target['vars'].get('ABIFLAGS') or ''}"
        python += "".join(
            f'set({p}_LIBRARY {TARGET_ROOT}/libs/{library}.lib CACHE FILEPATH "" FORCE)\n'
            for p in ("Python", "Python3")
        ) if cmake_system == "Windows" else ""
    cmake = os.path.join(work, "toolchain.cmake")
    with open(cmake, "w") as f:
        f.write(f"""# pookie: cross-compiling for {zig_target} with zig
set(CMAKE_SYSTEM_NAME {cmake_system})
set(CMAKE_SYSTEM_PROCESSOR {processor})
set(CMAKE_C_COMPILER /opt/pookie/bin/zig-cc)
set(CMAKE_CXX_COMPILER /opt/pookie/bin/zig-c++)
set(CMAKE_AR /opt/pookie/bin/zig-ar CACHE FILEPATH "")
set(CMAKE_RANLIB /opt/pookie/bin/zig-ranlib CACHE FILEPATH "")
# Libraries and headers of the target only; programs and packages (pybind11's CMake config in
# the build environment) of the build machine too.
set(CMAKE_FIND_ROOT_PATH {target_root})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
{python}""")
    meson = os.path.join(work, "cross.ini")
    with open(meson, "w") as f:
        f.write(f"""# pookie: cross-compiling for {zig_target} with zig
[binaries]
c = '/opt/pookie/bin/zig-cc'
cpp = '/opt/pookie/bin/zig-c++'
ar = '/opt/pookie/bin/zig-ar'
ranlib = '/opt/pookie/bin/zig-ranlib'
{f"python = '{env_python}'" if env_python else ""}
{"pkg-config = 'pkg-config'" if prefix else ""}

[host_machine]
system = '{meson_system}'
cpu_family = '{family}'
cpu = '{cpu}'
endian = '{endian}'

[properties]
needs_exe_wrapper = true
longdouble_format = '{LONGDOUBLE_FORMAT.get((meson_system, cpu), "IEEE_DOUBLE_LE")}'
{f"pkg_config_libdir = '{prefix}/lib/pkgconfig'" if prefix else ""}
""")
    return cmake, meson


def main():
    parser = argparse.ArgumentParser(prog="pookie-build-wheel")
    parser.add_argument("srcdir", nargs="?", default=".")
    parser.add_argument("--outdir", default=os.environ.get("POOKIE_WHEEL_DIR", "dist"))
    parser.add_argument("-C", "--config-setting", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--cross-files", metavar="DIR",
                        help="only write the CMake toolchain file and meson cross file of $POOKIE_ZIG_TARGET into DIR")
    parser.add_argument("--target-requirements", metavar="FILE",
                        help="only cross-compile the requirements of SRCDIR (wheels) and FILE that lack a target wheel")
    parser.add_argument("--install-for-target", metavar="DIR",
                        help="only install the wheels SRCDIR... and the --requirements for the target into DIR")
    parser.add_argument("--requirements", metavar="FILE", help="with --install-for-target: requirements to add")
    parser.add_argument("--extras", default="", help="with --target-requirements or --install-for-target: "
                        "the wheels' extras to include")
    args, wheels = parser.parse_known_args()
    if args.cross_files:
        os.makedirs(args.cross_files, exist_ok=True)
        for path in cross_files(args.cross_files):
            print(path)
        return
    if args.install_for_target is not None:
        install_for_target(args.install_for_target, [args.srcdir, *wheels], args.requirements, args.extras)
        return
    if args.target_requirements is not None:
        backend_env = {v: os.environ.pop(v) for v in CROSS_VARS if v in os.environ}
        target_requirements([args.srcdir, *wheels], args.target_requirements, args.extras, backend_env)
        return
    if wheels:
        parser.error(f"unrecognized arguments: {' '.join(wheels)}")
    config = {}
    for item in args.config_setting:
        key, _, value = item.partition("=")
        config.setdefault(key, []).append(value)
    config = {k: v[0] if len(v) == 1 else v for k, v in config.items()}

    python = shutil.which("python") or sys.exit("pookie-build-wheel: no `python` on PATH")
    cross = all(v in os.environ for v in CROSS_VARS)
    frontend = os.environ.get("POOKIE_BUILD_FRONTEND") or "build"
    if frontend not in ("build", "build[uv]", "pip", "uv"):
        sys.exit(f"pookie-build-wheel: unknown POOKIE_BUILD_FRONTEND {frontend!r}")
    if frontend in ("pip", "uv") and not cross:
        return frontend_build(frontend, python, args.srcdir, args.outdir, config)
    installer = "uv" if frontend in ("uv", "build[uv]") else "pip"
    # The cross variables leave this process (another Python, which has no such sysconfig
    # module) and go only to the backend's processes, with the rest of its environment.
    backend_env = {v: os.environ.pop(v) for v in CROSS_VARS if v in os.environ}
    native_env = dict(os.environ)
    if cross:
        # Requirements built from source here are for this machine, by zig too.
        native_env["POOKIE_ZIG_TARGET"] = "native"
        for v in ("LDSHARED", "LDCXXSHARED", "CFLAGS", "CXXFLAGS", "LDFLAGS"):
            native_env.pop(v, None)
    with tempfile.TemporaryDirectory(prefix="pookie-build-") as work:
        env = Env(os.path.join(work, "env"), python, native_env, backend_env, installer)
        builder = build.ProjectBuilder.from_isolated_env(env, args.srcdir)
        # pinned `build`: its parsed [build-system] table, with setuptools' legacy backend filled in
        backend = builder._build_system.get("build-backend", "")
        log(f"backend {backend}; requirements {sorted(builder.build_system_requires)}"
            + (f"; cross-compiling for {backend_env['_PYTHON_HOST_PLATFORM']}" if cross else "")
            + f"; frontend {frontend}, installer {installer}")
        requirements = set(builder.build_system_requires)
        env.install(requirements)
        dynamic = builder.get_requires_for_build("wheel", config or None)
        env.install(dynamic)
        if cross:
            overlay_target_files(env, work, requirements | set(dynamic))
            site = subprocess.run([env.python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                  env=native_env, check=True, capture_output=True, text=True).stdout.strip()
            with open(os.path.join(site, "_pookie_cross.py"), "w") as f:
                f.write(CROSS_SITE)
            with open(os.path.join(site, "_pookie_cross.pth"), "w") as f:
                f.write("import _pookie_cross\n")
            target = target_python(env)
            python_config(env, target)
            cmake, meson = cross_files(work, env.python, target)
            if "CMAKE_TOOLCHAIN_FILE" not in os.environ:
                backend_env["CMAKE_TOOLCHAIN_FILE"] = cmake
            if backend == "mesonpy":
                setup_args = config.get("setup-args", [])
                setup_args = [setup_args] if isinstance(setup_args, str) else list(setup_args)
                extra = [f"--cross-file={meson}"]
                if target["platform"].startswith("win"):
                    extra.append(f"-Dpython.build_config={build_details(work, target)}")
                config["setup-args"] = [*extra, *setup_args]
        os.makedirs(args.outdir, exist_ok=True)
        wheel = builder.build("wheel", args.outdir, config or None)
        log(f"built {os.path.basename(wheel)}")


if __name__ == "__main__":
    main()
