#!/bin/sh
# Cross Python layer: an x86_64 CPython runs pip and the build backend; the target CPython
# supplies its headers and sysconfig data; zig (the layer below) compiles for the target.
#
# How wheels get the target's tag. pookie's cross jobs set two variables that CPython's own
# cross builds use: _PYTHON_HOST_PLATFORM=linux-<arch> makes sysconfig.get_platform() report the
# target, and _PYTHON_SYSCONFIGDATA_NAME=_sysconfigdata__pookie_target makes every config var
# (EXT_SUFFIX, SOABI, INCLUDEPY, CC, …) the target's. setuptools then names extensions
# `*.cpython-312-aarch64-linux-gnu.so` and tags the wheel `linux_aarch64`, and auditwheel proves
# the manylinux policy and writes its tag: no wheel is renamed after the fact. The module lives
# in the x86_64 interpreter's standard library, because pip's isolated build environments
# replace PYTHONPATH and drop site-packages.
# Chosen over crossenv (which patches more: platform.machine(), os.uname(), …): two variables
# and one module CPython itself defines, and no third-party layer between pip and the build
# backend. Both share one limit: pip sees the target platform too, so build requirements with
# compiled code (Cython, numpy) would be installed for the target and cannot run here; pure
# Python ones (setuptools, hatchling, flit, scikit-build-core) are unaffected. Projects with
# compiled build requirements need emulate mode (or --no-build-isolation with the tools
# installed natively, e.g. `env -u _PYTHON_HOST_PLATFORM -u _PYTHON_SYSCONFIGDATA_NAME pip install cython`).
#
# usage: cross-python.sh pbs   VERSION GNU_TYPE              (archives in /opt/pookie/archives)
#        cross-python.sh pick  ROOT VERSION GNU_TYPE          (the target's files under ROOT)
#        cross-python.sh image VERSION GNU_TYPE HOST_PYTHON   (after pick, in the final stage)
set -eu
target=/opt/pookie/target

die() {
    echo "pookie: $*" >&2
    exit 1
}

# Keeps the target's Python include folders and its sysconfig data module (the one its own
# sysconfig would import, _sysconfigdata_{abiflags}_linux_{multiarch}.py).
pick() {
    root=$1 version=$2
    [ -f "$root/include/python$version/Python.h" ] \
        || die "the target's Python $version has no headers (no include/python$version/Python.h): install them in its image (Debian: python$version-dev)"
    mkdir -p "$target/include"
    cp -a "$root/include/python$version" "$target/include/"
    # Debian keeps pyconfig.h per architecture, under include/MULTIARCH/pythonX.Y.
    for dir in "$root"/include/*/"python$version"; do
        [ -d "$dir" ] || continue
        multiarch=$(basename "$(dirname "$dir")")
        mkdir -p "$target/include/$multiarch"
        cp -a "$dir" "$target/include/$multiarch/"
    done
    set -- "$root/lib/python$version"/_sysconfigdata_*_linux_*.py
    [ $# -eq 1 ] && [ -f "$1" ] \
        || die "expected one _sysconfigdata_*_linux_*.py in the target's lib/python$version, found: $*"
    cp "$1" "$target/sysconfigdata.py"
}

# Checks that the host interpreter and the target's files are the requested version (and the
# target's for the right CPU and libc), points the target's include paths and compilers at
# this layer, installs the module into the host's standard library and makes the venv.
install() {
    interpreter=$1 version=$2 gnu_type=$3
    [ -x "$interpreter" ] || die "no x86_64 Python $version at $interpreter in the linux-x86_64 image"
    actual=$("$interpreter" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    [ "$actual" = "$version" ] || die "$interpreter is Python $actual, not $version"
    "$interpreter" - "$target" "$version" "$gnu_type" <<'PY'
import fnmatch, os, pprint, runpy, sys, sysconfig

target, version, gnu_type = sys.argv[1:]
data = runpy.run_path(f"{target}/sysconfigdata.py")["build_time_vars"]
if data.get("VERSION") != version:
    sys.exit(f"pookie: the target's sysconfig data is of Python {data.get('VERSION')}, not {version}")
if not fnmatch.fnmatch(data.get("HOST_GNU_TYPE", ""), gnu_type):
    sys.exit(f"pookie: the target's Python was built for {data.get('HOST_GNU_TYPE')}, not {gnu_type}: check the target family's image")
old = data["prefix"].rstrip("/") + "/include"
data = {k: v.replace(old, f"{target}/include") if isinstance(v, str) else v for k, v in data.items()}
# Its own compilers (aarch64-linux-gnu-gcc, python-build-standalone's clang) are not here.
data.update(CC="zig-cc", CXX="zig-c++", LDSHARED="zig-cc -shared", LDCXXSHARED="zig-c++ -shared", AR="zig-ar")
dest = os.path.join(sysconfig.get_path("stdlib"), "_sysconfigdata__pookie_target.py")
with open(dest, "w") as f:
    f.write("# The target's sysconfig data, for cross builds (written by pookie).\n")
    f.write("build_time_vars = " + pprint.pformat(data) + "\n")
print(f"target {data['HOST_GNU_TYPE']} Python {version}: EXT_SUFFIX {data['EXT_SUFFIX']}, module {dest}")
PY
    "$interpreter" -m venv /opt/pookie/venv
    # Jobs run as the calling user: let them install into the (throwaway) environment.
    chmod -R a+rwX /opt/pookie/venv
}

case ${1:-} in
    pbs)
        version=$2 gnu_type=$3
        mkdir -p /opt/pookie/python /tmp/target
        # install_only archives hold one top-level directory, `python/`.
        tar -xzf /opt/pookie/archives/host.tar.gz -C /opt/pookie/python --strip-components=1
        tar -xzf /opt/pookie/archives/target.tar.gz -C /tmp/target --strip-components=1 \
            python/include "python/lib/python$version"
        pick /tmp/target "$version"
        rm -rf /tmp/target /opt/pookie/archives
        install /opt/pookie/python/bin/python3 "$version" "$gnu_type"
        ;;
    pick) pick "$2" "$3" ;;
    image) install "$4" "$2" "$3" ;;
    *) die "usage: cross-python.sh pbs|pick|image ..." ;;
esac
