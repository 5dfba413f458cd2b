#!/usr/bin/env bash
# Makes the CPython mirror of the Windows and macOS tests (`[python] mirror`): python-build-
# standalone (GitHub) and every Windows or macOS CPython are out of reach here, so CI builds,
# from sources it can reach, archives laid out like python-build-standalone's install_only ones
# (one top-level `python/`) that hold what a cross build needs of the target CPython — and no
# interpreter, which the Windows tests then report ("skipped: no Windows CPython"):
#   x86_64-pc-windows-msvc,  python/include/ (CPython's Include/ and PC/pyconfig.h) and
#   aarch64-pc-windows-msvc  python/libs/python3XY.lib, python3.lib: import libraries made with
#                            `zig dlltool` from the .def files of the python3-dll-a crate (the
#                            exports of python3XY.dll, as PyO3/maturin use them).
#   x86_64-apple-darwin,     python/include/pythonX.Y/ and python/lib/pythonX.Y/_sysconfigdata_
#   aarch64-apple-darwin     _darwin_darwin.py from CPython's own configure run for an Apple host:
#                            `zig cc -target <arch>-macos.11.0` (zig's copy of the macOS SDK
#                            headers and libSystem stubs) answers its compile and link checks,
#                            `make inclinstall` installs the headers and `make pybuilddir.txt`
#                            writes the sysconfig data, as on a Mac (see configure_darwin).
#   x86_64-unknown-linux-gnu Debian's CPython of the image IMAGE, repacked: it runs pip and the
#                            build backend in cross layers, so the tests' linux-x86_64 image is
#                            IMAGE too (it needs that image's shared libraries).
# The sources: CPython's source package from Debian (deb.debian.org) and python3-dll-a from
# crates.io. Only 3.13 is built: Debian's archive serves its source package (3.14's is 404 here).
# Idempotent: a finished mirror whose recipe (this script, zig, the image) is unchanged is kept.
# usage: scripts/ci-python-mirror-win-mac.sh DIR   (root; docker with IMAGE; cargo)
#        (inside the container: ci-python-mirror-win-mac.sh --in-container WORK VERSION RELEASE)
set -euo pipefail
version=3.13
release=20260102
dll_a=0.2.15

# --- inside the container (IMAGE, with WORK mounted) ----------------------------------------
if [ "${1:-}" = --in-container ]; then
    work=$2 version=$3 release=$4
    nodot=${version/./}
    export DEBIAN_FRONTEND=noninteractive
    echo "deb-src http://deb.debian.org/debian trixie main" > /etc/apt/sources.list.d/pookie-src.list
    apt-get -o Acquire::Check-Valid-Until=false update -q >/dev/null
    apt-get install -y -q --no-install-recommends make xz-utils >/dev/null
    cd "$work"
    # The newest source version whose files the archive serves (a superseded one may be gone).
    # shellcheck source=scripts/apt-source.sh
    . /scripts/apt-source.sh
    apt_source "$work" "python$version"
    tar -xf "$(ls "$work"/python"$version"_*.orig.tar.[gx]z)"
    src=$(echo "$work"/Python-"$version".*)
    full=$(sed -n 's/^#define PY_VERSION[[:space:]]*"\(.*\)"/\1/p' "$src/Include/patchlevel.h")
    "python$version" -m venv "$work/zig" && "$work/zig/bin/pip" install -q "ziglang==$ZIG_VERSION"
    zig=$("$work/zig/bin/python" -c 'import os, ziglang; print(os.path.dirname(ziglang.__file__))')/zig
    mkdir -p "$work/mirror"
    pack() { # pack ROOT TRIPLE VERSION: the install_only archive of the tree at ROOT
        tar -C "$1" --transform 's,^\.,python,' --owner=0 --group=0 --sort=name -czf \
            "$work/mirror/cpython-$3+$release-$2-install_only.tar.gz" .
    }

    # Windows: the headers as the Windows installer lays them out (PC/layout/main.py puts
    # pyconfig.h beside them). From 3.13 the source holds PC/pyconfig.h.in, which the build
    # (PCbuild/pythoncore.vcxproj) copies unchanged except for free-threaded builds, where it
    # uncomments Py_GIL_DISABLED: this is the default build, so the copy is verbatim.
    win=$work/root-windows
    mkdir -p "$win/include" "$win/libs"
    cp -a "$src/Include/." "$win/include/"
    if [ -f "$src/PC/pyconfig.h.in" ]; then
        cp "$src/PC/pyconfig.h.in" "$win/include/pyconfig.h"
    else
        cp "$src/PC/pyconfig.h" "$win/include/pyconfig.h"
    fi
    for lib in "python$nodot" python3; do
        "$zig" dlltool -m i386:x86-64 -d "/defs/$lib.def" -l "$win/libs/$lib.lib"
    done
    pack "$win" x86_64-pc-windows-msvc "$full"
    # Windows on ARM: the same headers (pyconfig.h tells the architectures apart), import
    # libraries for arm64.
    winarm=$work/root-windows-arm64
    mkdir -p "$winarm/libs"
    cp -a "$win/include" "$winarm/"
    for lib in "python$nodot" python3; do
        "$zig" dlltool -m arm64 -d "/defs/$lib.def" -l "$winarm/libs/$lib.lib"
    done
    pack "$winarm" aarch64-pc-windows-msvc "$full"

    # macOS: CPython's configure refuses cross builds for *-apple-darwin hosts ("cross build not
    # supported"), in two places. MACHDEP (a documented configure variable) skips the first,
    # with the system name and release `uname` gives on macOS 11 (Darwin 20); the second only
    # names the build directory, and gets an arm for darwin like the one iOS has.
    awk '
        /^\t\*-apple-ios\*\)$/ { held = $0; next }
        held != "" {
            if ($0 ~ /_host_os=/) { print "\t*-apple-darwin*)"; print "\t\t_host_ident=$host_cpu"; print "\t\t;;" }
            print held; held = ""
        }
        { print }
    ' "$src/configure" > "$work/configure.darwin"
    chmod +x "$work/configure.darwin"
    grep -q 'apple-darwin\*)' "$work/configure.darwin" || { echo "configure's cross-build list changed" >&2; exit 1; }
    configure_darwin() { # configure_darwin ARCH: headers and sysconfig data into root-ARCH
        local arch=$1 dir=$work/darwin-$1
        mkdir -p "$dir/bin" "$dir/build"
        printf '#!/bin/sh\nexec %s cc -target %s-macos.11.0 "$@"\n' "$zig" "$arch" > "$dir/bin/cc"
        printf '#!/bin/sh\nexec %s c++ -target %s-macos.11.0 "$@"\n' "$zig" "$arch" > "$dir/bin/c++"
        printf '#!/bin/sh\nexec %s ar "$@"\n' "$zig" > "$dir/bin/ar"
        chmod +x "$dir"/bin/*
        # Run checks cannot run: their answers on macOS (it has /dev/ptmx and a working getaddrinfo).
        (cd "$dir/build" \
            && MACHDEP=darwin ac_sys_system=Darwin ac_sys_release=20.0.0 MACOSX_DEPLOYMENT_TARGET=11.0 \
                "$work/configure.darwin" --srcdir="$src" --host="$arch-apple-darwin" --build=x86_64-pc-linux-gnu \
                --with-build-python="/usr/bin/python$version" --prefix=/install --without-ensurepip \
                CC="$dir/bin/cc" CXX="$dir/bin/c++" AR="$dir/bin/ar" \
                ac_cv_file__dev_ptmx=yes ac_cv_file__dev_ptc=no ac_cv_buggy_getaddrinfo=no \
            && make pybuilddir.txt && make inclinstall DESTDIR="$work/root-$arch") >"$dir.log" 2>&1 \
            || { tail -n 30 "$dir.log" >&2; echo "configuring CPython for $arch-apple-darwin failed" >&2; return 1; }
        local root=$work/root-$arch/install
        mkdir -p "$root/lib/python$version"
        cp "$dir/build/$(cat "$dir/build/pybuilddir.txt")/_sysconfigdata__darwin_darwin.py" "$root/lib/python$version/"
        # What real macOS CPythons say (not Linux's answers).
        grep -q '^#define WITH_DYLD 1' "$root/include/python$version/pyconfig.h"
        if grep -q '^#define _XOPEN_SOURCE' "$root/include/python$version/pyconfig.h"; then return 1; fi
        grep -q "'SOABI': 'cpython-$nodot-darwin'" "$root/lib/python$version/_sysconfigdata__darwin_darwin.py"
    }
    configure_darwin x86_64 & x86=$!
    configure_darwin aarch64 & arm=$!
    wait "$x86" && wait "$arm"
    pack "$work/root-x86_64/install" x86_64-apple-darwin "$full"
    pack "$work/root-aarch64/install" aarch64-apple-darwin "$full"

    # The headers compile for their targets (Py_ssize_t is pointer-sized, ...): zig's own check.
    check=$work/check.c
    printf '#include <Python.h>\n_Static_assert(sizeof(Py_ssize_t) == sizeof(void *), "Py_ssize_t");\n' > "$check"
    "$zig" cc -target x86_64-windows-gnu -c -isystem "$win/include" "$check" -o "$work/check-win.o"
    "$zig" cc -target aarch64-windows-gnu -c -isystem "$winarm/include" "$check" -o "$work/check-winarm.o"
    for arch in x86_64 aarch64; do
        "$zig" cc -target "$arch-macos.11.0" -c -isystem "$work/root-$arch/install/include/python$version" \
            "$check" -o "$work/check-$arch.o"
    done

    # Debian's x86_64 CPython in the same layout (relocatable: it finds its library from its path).
    host=$work/root-linux
    mkdir -p "$host/bin" "$host/lib" "$host/include"
    cp "/usr/bin/python$version" "$host/bin/"
    ln -s "python$version" "$host/bin/python3"
    cp -a "/usr/lib/python$version" "$host/lib/"
    rm -rf "$host/lib/python$version/test"
    pack "$host" x86_64-unknown-linux-gnu "$("/usr/bin/python$version" -c 'import platform; print(platform.python_version())')"
    (cd "$work/mirror" && sha256sum cpython-*.tar.gz > SHA256SUMS)
    exit 0
fi

# --- on the host ------------------------------------------------------------------------------
out=${1:?usage: ci-python-mirror-win-mac.sh DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
image=${IMAGE:-debian-pythons:sid}
zig_version=$(sed -n 's/^pub const ZIG_VERSION: &str = "\(.*\)";/\1/p' "$here/../src/image/mod.rs")
image_id=$(docker image inspect --format '{{.Id}}' "$image") \
    || { echo "image $image is missing (scripts/setup.sh makes it)" >&2; exit 1; }
stamp="$(cat "${BASH_SOURCE[0]}" "$here/apt-source.sh" | sha256sum | cut -c1-16)-$zig_version-${image_id#sha256:}"
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
    echo "python mirror in $out is up to date"
    exit 0
fi
work=$(mktemp -d /var/tmp/pookie-python-mirror-win-mac.XXXXXX)
# Kept when something fails, for its logs.
trap 'rc=$?; [ $rc -eq 0 ] && rm -rf "$work" || echo "work directory kept: $work" >&2' EXIT

# python3-dll-a's .def files, through cargo (crates.io).
mkdir -p "$work/crate/src"
printf '[package]\nname = "defs"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\npython3-dll-a = "=%s"\n' "$dll_a" \
    > "$work/crate/Cargo.toml"
echo 'fn main() {}' > "$work/crate/src/main.rs"
manifest=$(cd "$work/crate" && cargo metadata -q --format-version 1 \
    | jq -r '.packages[] | select(.name == "python3-dll-a") | .manifest_path')
defs=$(dirname "$manifest")/src
[ -f "$defs/python${version/./}.def" ] || { echo "python3-dll-a $dll_a has no python${version/./}.def" >&2; exit 1; }

# pip inside the container needs the host's certificate authorities (TLS-inspecting proxies).
ca=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
docker run --rm -v "$work:$work" -v "$defs:/defs:ro" -v "$here:/scripts:ro" -v "$ca:/ca.crt:ro" \
    -e SSL_CERT_FILE=/ca.crt -e PIP_CERT=/ca.crt -e PIP_DISABLE_PIP_VERSION_CHECK=1 -e ZIG_VERSION="$zig_version" \
    "$image" bash /scripts/ci-python-mirror-win-mac.sh --in-container "$work" "$version" "$release"
echo "$stamp" > "$work/mirror/.stamp"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
cp -a "$work/mirror" "$out"
ls -la "$out"
