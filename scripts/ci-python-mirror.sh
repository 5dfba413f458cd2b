#!/usr/bin/env bash
# Makes the CPython mirror CI serves to pookie (`[python] mirror`), since python-build-standalone
# (GitHub) is out of reach: a directory laid out like a python-build-standalone release — archives
# in its install_only layout (one top-level `python/`) and their SHA256SUMS — holding
#   - CPython for x86_64 musl, built from Debian's CPython source package with musl-gcc (musl
#     1.2.3, the `musl` package's loader runs it on Debian);
#   - CPython for aarch64 musl, cross-compiled from the same source with zig;
#   - Debian's own x86_64 CPython, repacked (what runs pip in cross layers).
# The musl builds link zlib, OpenSSL and libffi built for musl from Debian's source packages, so
# that, like python-build-standalone's, they have ssl (pip reaches the package index), hashlib
# and ctypes. Versions follow the host (Debian 12: CPython 3.11, OpenSSL 3.0). Idempotent: a
# finished mirror whose recipe (this script and apt-source.sh) is unchanged is kept.
# usage: scripts/ci-python-mirror.sh DIR   (run as root on Debian 12; needs network to the
#        Debian archive and PyPI)
set -euo pipefail
out=${1:?usage: ci-python-mirror.sh DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=3.11
release=20260101
zig_version=$(sed -n 's/^pub const ZIG_VERSION: &str = "\(.*\)";/\1/p' "$here/../src/image/mod.rs")
stamp="$(cat "${BASH_SOURCE[0]}" "$here/apt-source.sh" | sha256sum | cut -c1-16)-$zig_version"
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
    echo "python mirror in $out is up to date"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
work=$(mktemp -d /var/tmp/pookie-python-mirror.XXXXXX)
# Kept when something fails, for its logs.
trap 'rc=$?; [ $rc -eq 0 ] && rm -rf "$work" || echo "work directory kept: $work" >&2' EXIT
jobs=$(nproc)

# Debian's source packages of CPython and of what its extension modules link (zlib; OpenSSL
# for ssl and hashlib, as python-build-standalone's builds have them; libffi for ctypes).
# shellcheck source=scripts/apt-source.sh
. "$here/apt-source.sh"
apt_source_enable
for pkg in "python$version" zlib openssl libffi; do
    apt_source "$work" "$pkg"
done
for archive in "$work"/*.orig.tar.gz "$work"/*.orig.tar.xz "$work"/*.orig.tar.bz2; do
    [ ! -f "$archive" ] || tar -C "$work" -xf "$archive"
done
src=$(echo "$work"/Python-"$version".*)
zsrc=$(echo "$work"/zlib-*/)
ssrc=$(echo "$work"/openssl-*/)
fsrc=$(echo "$work"/libffi-*/)

# zig from PyPI, the version pookie's images use.
python3 -m venv "$work/zig"
"$work/zig/bin/pip" install -q --disable-pip-version-check "ziglang==$zig_version"
zig=$("$work/zig/bin/python" -c 'import os, ziglang; print(os.path.dirname(ziglang.__file__))')/zig

# Compiler wrappers. gcc answers -print-multiarch with Debian's glibc triplet, which CPython's
# configure compares with musl's and setup.py uses to add glibc's include folders. zig links
# statically unless told -dynamic (extension modules need the loader), and refuses __DATE__.
mkdir -p "$work/bin"
# musl-gcc sees only musl's headers; the kernel's (OpenSSL and CPython include <linux/...>) are
# libc-independent, as Alpine's linux-headers package is: lend it Debian's.
mkdir -p "$work/kernel-headers"
for dir in /usr/include/linux /usr/include/asm-generic /usr/include/x86_64-linux-gnu/asm; do
    ln -s "$dir" "$work/kernel-headers/"
done
cat > "$work/bin/x86_64-linux-musl-cc" <<SH
#!/bin/sh
case \$1 in -print-multiarch | --print-multiarch) echo x86_64-linux-musl; exit 0 ;; esac
exec musl-gcc -isystem "$work/kernel-headers" "\$@"
SH
# binutils' readelf reads every architecture; configure wants it under the host's prefix.
# setup.py asks a cross compiler for its search path (`cc -E -v -`) and adds it to every
# compile; zig answers that probe with the host's /usr/include, which would shadow musl's headers.
cat > "$work/bin/aarch64-linux-musl-cc" <<SH
#!/bin/sh
case \$1 in -print-multiarch | --print-multiarch) echo aarch64-linux-musl; exit 0 ;; esac
if [ "\$*" = "-E -v -" ]; then
    printf 'clang version (zig)\\n#include <...> search starts here:\\nEnd of search list.\\n' >&2
    exit 0
fi
exec "$zig" cc -target aarch64-linux-musl -dynamic -fno-sanitize=undefined -Wno-error=date-time "\$@"
SH
printf '#!/bin/sh\nexec "%s" ar "$@"\n' "$zig" > "$work/bin/aarch64-linux-musl-ar"
printf '#!/bin/sh\nexec "%s" ranlib "$@"\n' "$zig" > "$work/bin/aarch64-linux-musl-ranlib"
printf '#!/bin/sh\nexec readelf "$@"\n' > "$work/bin/aarch64-linux-musl-readelf"
chmod +x "$work"/bin/*

# deps ARCH OPENSSL-TARGET: zlib, OpenSSL and libffi for ARCH, static and position-independent
# (they are linked into extension modules), into $work/deps-ARCH. OpenSSL finds certificates
# where Debian and Alpine keep them (/etc/ssl), as python-build-standalone's builds do.
deps() {
    local arch=$1 openssl_target=$2
    local prefix=$work/deps-$arch
    local cc=$work/bin/$arch-linux-musl-cc ar=${AR:-ar} ranlib=${RANLIB:-ranlib}
    cp -r "$zsrc" "$work/zlib-$arch"
    cp -r "$ssrc" "$work/openssl-$arch"
    cp -r "$fsrc" "$work/libffi-$arch"
    (
        set -e
        cd "$work/zlib-$arch"
        CC=$cc CFLAGS="-O2 -fPIC" AR=$ar RANLIB=$ranlib ./configure --static --prefix="$prefix"
        make -j"$jobs" libz.a && make install
        cd "$work/openssl-$arch"
        ./Configure "$openssl_target" no-shared no-tests no-afalgeng -fPIC --prefix="$prefix" --libdir=lib \
            --openssldir=/etc/ssl CC="$cc" AR="$ar" RANLIB="$ranlib"
        make -j"$jobs" build_libs && make install_dev
        cd "$work/libffi-$arch"
        ./configure --host="$arch-linux-musl" --build=x86_64-linux-gnu --disable-shared --enable-static \
            --with-pic --disable-docs --disable-exec-static-tramp --prefix="$prefix" CC="$cc" AR="$ar" \
            RANLIB="$ranlib"
        make -j"$jobs" && make install
    ) > "$work/deps-$arch.log" 2>&1 \
        || { tail -n 40 "$work/deps-$arch.log" >&2; echo "building CPython's libraries for $arch failed" >&2; exit 1; }
}

build() { # build ARCH CONFIGURE-ARGS...: CPython for ARCH into $work/root-ARCH/install
    local arch=$1
    shift
    local cc=$work/bin/$arch-linux-musl-cc prefix=$work/deps-$arch
    mkdir -p "$work/build-$arch"
    # Only the libraries built here: the host's pkg-config files describe glibc builds.
    (cd "$work/build-$arch" && export PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig" \
        && "$src/configure" -q --prefix=/install --with-ensurepip=no --disable-test-modules CC="$cc" \
            --with-openssl="$prefix" CPPFLAGS="-I$prefix/include" LDFLAGS="-L$prefix/lib" "$@" \
        && make -j"$jobs" -s \
        && make -s install DESTDIR="$work/root-$arch") > "$work/build-$arch.log" 2>&1 \
        || { tail -n 40 "$work/build-$arch.log" >&2; echo "building CPython for $arch failed" >&2; exit 1; }
    # What python-build-standalone's interpreters have, and real projects' builds and tests use.
    local missing
    missing=$(cd "$work/root-$arch/install/lib/python$version/lib-dynload" \
        && for m in _ssl _hashlib zlib _ctypes; do ls "$m".*.so >/dev/null 2>&1 || echo "$m"; done)
    [ -z "$missing" ] || { grep -A5 'Failed to build these modules' "$work/build-$arch.log" >&2; \
        echo "CPython for $arch lacks: $missing" >&2; exit 1; }
}

pack() { # pack ROOT TRIPLE: the install_only archive of the tree at ROOT
    local root=$1 triple=$2 full
    full=$(sed -n 's/^#define PY_VERSION[[:space:]]*"\(.*\)"/\1/p' "$src/Include/patchlevel.h")
    [ -n "$full" ] || { echo "no PY_VERSION in $src/Include/patchlevel.h" >&2; exit 1; }
    # The static libpython (46 MB with its debug information): extensions link against nothing.
    rm -f "$root"/lib/python"$version"/config-*/libpython*.a
    tar -C "$root" --transform 's,^\.,python,' --owner=0 --group=0 -czf \
        "$work/mirror/cpython-$full+$release-$triple-install_only.tar.gz" .
}

mkdir -p "$work/mirror"
deps x86_64 linux-x86_64
build x86_64
"$work/root-x86_64/install/bin/python$version" -c '
import ctypes, hashlib, ssl, sysconfig, zlib
assert "musl" in sysconfig.get_config_var("HOST_GNU_TYPE")
assert ssl.get_default_verify_paths().openssl_cafile == "/etc/ssl/cert.pem"
print(ssl.OPENSSL_VERSION, hashlib.sha3_256(b"").hexdigest()[:8])
'
pack "$work/root-x86_64/install" x86_64-unknown-linux-musl

# --build names musl too: CPython 3.11's configure turns its triplet to *-linux-musl only when the
# build machine's OS says musl.
AR="$work/bin/aarch64-linux-musl-ar" RANLIB="$work/bin/aarch64-linux-musl-ranlib" deps aarch64 linux-aarch64
build aarch64 \
    --host=aarch64-linux-musl --build=x86_64-linux-musl --with-build-python="/usr/bin/python$version" \
    AR="$work/bin/aarch64-linux-musl-ar" RANLIB="$work/bin/aarch64-linux-musl-ranlib" \
    READELF="$work/bin/aarch64-linux-musl-readelf" \
    ac_cv_file__dev_ptmx=yes ac_cv_file__dev_ptc=no ac_cv_buggy_getaddrinfo=no
file "$work/root-aarch64/install/bin/python$version" | grep -q 'ARM aarch64.*interpreter /lib/ld-musl-aarch64.so.1'
modules=$(find "$work/root-aarch64/install/lib/python$version/lib-dynload" -name '*-aarch64-linux-musl.so' | wc -l)
[ "$modules" -gt 50 ] || { echo "only $modules extension modules were built for aarch64" >&2; exit 1; }
pack "$work/root-aarch64/install" aarch64-unknown-linux-musl

# Debian's x86_64 CPython in the same layout (relocatable: it finds its library from its path),
# with its headers (python3.11-dev), so that it is a target interpreter as well as the one that
# runs pip in cross layers. python-build-standalone has one pyconfig.h; Debian's multiarch one is
# a wrapper around the real one.
mkdir -p "$work/debian/bin" "$work/debian/lib" "$work/debian/include"
cp "/usr/bin/python$version" "$work/debian/bin/"
ln -s "python$version" "$work/debian/bin/python3"
cp -a "/usr/lib/python$version" "$work/debian/lib/"
[ -f "/usr/include/python$version/Python.h" ] || { echo "python$version-dev is needed (its headers)" >&2; exit 1; }
cp -a "/usr/include/python$version" "$work/debian/include/"
cp "/usr/include/x86_64-linux-gnu/python$version/pyconfig.h" "$work/debian/include/python$version/pyconfig.h"
pack "$work/debian" x86_64-unknown-linux-gnu

(cd "$work/mirror" && sha256sum cpython-*.tar.gz > SHA256SUMS)
echo "$stamp" > "$work/mirror/.stamp"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
cp -a "$work/mirror" "$out"
ls -la "$out"
