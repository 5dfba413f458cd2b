#!/bin/sh
# Cross Python layer: an x86_64 CPython runs pip and the build backend; the target CPython
# supplies its headers (and import library, or sysconfig data); zig (the layer below) compiles
# for the target.
#
# How wheels get the target's tag. pookie's cross jobs set two variables that CPython's own
# cross builds use: _PYTHON_HOST_PLATFORM (`linux-aarch64`, `win-amd64`, `macosx-11.0-arm64`)
# makes sysconfig.get_platform() report the target, and
# _PYTHON_SYSCONFIGDATA_NAME=_sysconfigdata__pookie_target makes every config var (EXT_SUFFIX,
# SOABI, INCLUDEPY, CC, …) the target's (target-sysconfig.py writes that module). setuptools then
# names extensions `*.cpython-312-aarch64-linux-gnu.so` or `*.cp313-win_amd64.pyd` and tags the
# wheel `linux_aarch64` (auditwheel proves the manylinux policy and writes its tag), `win_amd64`,
# or `macosx_11_0_arm64` (setuptools checks that against the minimum macOS version in each Mach-O
# file, which MACOSX_DEPLOYMENT_TARGET and zig's target set): no wheel is renamed after the fact.
# The module lives in the x86_64 interpreter's standard library, because pip's isolated build
# environments replace PYTHONPATH and drop site-packages.
# Chosen over crossenv (which patches more: platform.machine(), os.uname(), …) and over
# bdist_wheel's --plat-name (which tags the wheel but leaves EXT_SUFFIX and the ABI tag the
# host's): two variables and one module CPython itself defines, and no third-party layer between
# the frontend and the build backend. The frontend, pookie-build-wheel (build-wheel.py), keeps
# the two variables from the installs of build requirements, which are for this machine.
#
# usage: cross-python.sh pbs   OS VERSION GNU_TYPE            (archives in /opt/pookie/archives)
#        cross-python.sh pick  ROOT VERSION                   (a Linux target's files under ROOT)
#        cross-python.sh image VERSION GNU_TYPE HOST_PYTHON   (after pick, in the final stage)
# OS: linux, macos or windows; GNU_TYPE: a pattern for the target's HOST_GNU_TYPE (not Windows).
set -eu
target=/opt/pookie/target

die() {
    echo "pookie: $*" >&2
    exit 1
}

# Keeps the target's Python include folders and its sysconfig data module (the one its own
# sysconfig would import, _sysconfigdata_{abiflags}_{linux,darwin}_{multiarch}.py).
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
    found=
    for f in "$root/lib/python$version"/_sysconfigdata_*_linux_*.py "$root/lib/python$version"/_sysconfigdata_*_darwin_*.py; do
        if [ -f "$f" ]; then found="$found $f"; fi
    done
    # shellcheck disable=SC2086
    set -- $found
    [ $# -eq 1 ] \
        || die "expected one _sysconfigdata_*_{linux,darwin}_*.py in the target's lib/python$version, found: $*"
    cp "$1" "$target/sysconfigdata.py"
}

# A Windows CPython's headers (include/, flat) and the import library of its DLL (libs/).
pick_windows() {
    root=$1 version=$2
    lib=python$(echo "$version" | tr -d .).lib
    [ -f "$root/include/Python.h" ] && [ -f "$root/libs/$lib" ] \
        || die "the Windows Python $version archive has no include/Python.h or libs/$lib"
    mkdir -p "$target/libs"
    cp -a "$root/include" "$target/"
    cp "$root/libs/$lib" "$target/libs/"
}

# Checks that the host interpreter and the target's files are the requested version (and the
# target's for the right CPU and libc), installs the target's sysconfig module into the host's
# standard library (target-sysconfig.py) and makes the venv.
install() {
    interpreter=$1 os=$2 version=$3 gnu_type=$4
    [ -x "$interpreter" ] || die "no x86_64 Python $version at $interpreter in the linux-x86_64 image"
    actual=$("$interpreter" -c 'import sys; print("%d.%d%s" % (*sys.version_info[:2], getattr(sys, "abiflags", "")))')
    [ "$actual" = "$version" ] || die "$interpreter is Python $actual, not $version"
    "$interpreter" /opt/pookie/bin/target-sysconfig.py "$os" "$target" "$version" "$gnu_type"
    "$interpreter" -m venv /opt/pookie/venv
    # Jobs run as the calling user: let them install into the (throwaway) environment.
    chmod -R a+rwX /opt/pookie/venv
}

case ${1:-} in
    pbs)
        os=$2 version=$3 gnu_type=$4
        mkdir -p /opt/pookie/python /tmp/target
        # install_only archives hold one top-level directory, `python/`.
        tar -xzf /opt/pookie/archives/host.tar.gz -C /opt/pookie/python --strip-components=1
        if [ "$os" = windows ]; then
            tar -xzf /opt/pookie/archives/target.tar.gz -C /tmp/target --strip-components=1 python/include python/libs
            pick_windows /tmp/target "$version"
        else
            tar -xzf /opt/pookie/archives/target.tar.gz -C /tmp/target --strip-components=1 \
                python/include "python/lib/python$version"
            pick /tmp/target "$version"
        fi
        rm -rf /tmp/target /opt/pookie/archives
        install /opt/pookie/python/bin/python3 "$os" "$version" "$gnu_type"
        ;;
    pick) pick "$2" "$3" ;;
    image) install "$4" linux "$2" "$3" ;;
    *) die "usage: cross-python.sh pbs|pick|image ..." ;;
esac
