#!/usr/bin/env bash
# Makes the CPython mirror CI serves to pookie (`[python] mirror`), since python-build-standalone
# (GitHub) is out of reach: a directory laid out like a python-build-standalone release — archives
# in its install_only layout (one top-level `python/`) and their SHA256SUMS — holding
#   - CPython for x86_64 musl, built from Debian's CPython source package with musl-gcc (musl
#     1.2.3, the `musl` package's loader runs it on Debian);
#   - CPython for aarch64 musl, cross-compiled from the same source with zig;
#   - Debian's own x86_64 CPython, repacked (what runs pip in cross layers).
# and wheelhouse/, build requirements for jobs whose CPython has no ssl module (OpenSSL is not
# built for musl here; pip installs setuptools from it with --no-index --find-links).
# Versions follow the host (Debian 12: CPython 3.11). Idempotent: a finished mirror whose recipe
# (this script) is unchanged is kept.
# usage: scripts/ci-python-mirror.sh DIR   (run as root on Debian 12; needs network to the
#        Debian archive and PyPI)
set -euo pipefail
out=${1:?usage: ci-python-mirror.sh DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=3.11
release=20260101
zig_version=$(sed -n 's/^pub const ZIG_VERSION: &str = "\(.*\)";/\1/p' "$here/../src/image/mod.rs")
setuptools=setuptools==75.8.0
stamp="$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)-$zig_version"
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
    echo "python mirror in $out is up to date"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
work=$(mktemp -d /var/tmp/pookie-python-mirror.XXXXXX)
# Kept when something fails, for its logs.
trap 'rc=$?; [ $rc -eq 0 ] && rm -rf "$work" || echo "work directory kept: $work" >&2' EXIT
jobs=$(nproc)

# Debian's source packages of CPython and zlib (pip needs zlib), through a deb-src entry.
if ! apt-get indextargets --format '$(CREATED_BY)' 2>/dev/null | grep -q '^Sources$'; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
        > /etc/apt/sources.list.d/pookie-ci-src.sources 2>/dev/null \
        || printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
            > /etc/apt/sources.list.d/pookie-ci-src.sources
    apt-get -o DPkg::Lock::Timeout=300 update -q
fi
(cd "$work" && apt-get source -q --download-only "python$version" zlib)
tar -C "$work" -xzf "$work"/python"$version"_*.orig.tar.gz
tar -C "$work" -xjf "$work"/zlib_*.orig.tar.bz2
src=$(echo "$work"/Python-"$version".*)
zsrc=$(echo "$work"/zlib-*)

# zig from PyPI, the version pookie's images use.
python3 -m venv "$work/zig"
"$work/zig/bin/pip" install -q --disable-pip-version-check "ziglang==$zig_version"
zig=$("$work/zig/bin/python" -c 'import os, ziglang; print(os.path.dirname(ziglang.__file__))')/zig

# Compiler wrappers. gcc answers -print-multiarch with Debian's glibc triplet, which CPython's
# configure compares with musl's and setup.py uses to add glibc's include folders. zig links
# statically unless told -dynamic (extension modules need the loader), and refuses __DATE__.
mkdir -p "$work/bin"
cat > "$work/bin/x86_64-linux-musl-cc" <<'SH'
#!/bin/sh
case $1 in -print-multiarch | --print-multiarch) echo x86_64-linux-musl; exit 0 ;; esac
exec musl-gcc "$@"
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

build() { # build ARCH CONFIGURE-ARGS...: zlib and CPython for ARCH into $work/root-ARCH/install
    local arch=$1
    shift
    local cc=$work/bin/$arch-linux-musl-cc zlib=$work/zlib-$arch
    cp -r "$zsrc" "$work/zbuild-$arch"
    # Position-independent: it is linked into the zlib extension module.
    (cd "$work/zbuild-$arch" && CC=$cc CFLAGS="-O2 -fPIC" AR=${AR:-ar} RANLIB=${RANLIB:-ranlib} \
        ./configure --static --prefix="$zlib" >/dev/null \
        && make -j"$jobs" libz.a >/dev/null && make install >/dev/null)
    mkdir -p "$work/build-$arch"
    # Only the libraries built here: the host's pkg-config files describe glibc builds.
    (cd "$work/build-$arch" && export PKG_CONFIG_LIBDIR="$zlib/lib/pkgconfig" \
        && "$src/configure" -q --prefix=/install --with-ensurepip=no CC="$cc" \
            CPPFLAGS="-I$zlib/include" LDFLAGS="-L$zlib/lib" "$@" \
        && make -j"$jobs" -s \
        && make -s install DESTDIR="$work/root-$arch") > "$work/build-$arch.log" 2>&1 \
        || { tail -n 40 "$work/build-$arch.log" >&2; echo "building CPython for $arch failed" >&2; exit 1; }
}

pack() { # pack ROOT TRIPLE: the install_only archive of the tree at ROOT
    local root=$1 triple=$2 full
    full=$(sed -n 's/^#define PY_VERSION[[:space:]]*"\(.*\)"/\1/p' "$src/Include/patchlevel.h")
    [ -n "$full" ] || { echo "no PY_VERSION in $src/Include/patchlevel.h" >&2; exit 1; }
    rm -rf "$root/lib/python$version/test" # CPython's own test suite: a third of the size
    tar -C "$root" --transform 's,^\.,python,' --owner=0 --group=0 -czf \
        "$work/mirror/cpython-$full+$release-$triple-install_only.tar.gz" .
}

mkdir -p "$work/mirror"
build x86_64
"$work/root-x86_64/install/bin/python$version" -c 'import sysconfig, zlib; assert "musl" in sysconfig.get_config_var("HOST_GNU_TYPE")'
pack "$work/root-x86_64/install" x86_64-unknown-linux-musl

# --build names musl too: CPython 3.11's configure turns its triplet to *-linux-musl only when the
# build machine's OS says musl.
AR="$work/bin/aarch64-linux-musl-ar" RANLIB="$work/bin/aarch64-linux-musl-ranlib" build aarch64 \
    --host=aarch64-linux-musl --build=x86_64-linux-musl --with-build-python="/usr/bin/python$version" \
    AR="$work/bin/aarch64-linux-musl-ar" RANLIB="$work/bin/aarch64-linux-musl-ranlib" \
    READELF="$work/bin/aarch64-linux-musl-readelf" \
    ac_cv_file__dev_ptmx=yes ac_cv_file__dev_ptc=no ac_cv_buggy_getaddrinfo=no
file "$work/root-aarch64/install/bin/python$version" | grep -q 'ARM aarch64.*interpreter /lib/ld-musl-aarch64.so.1'
modules=$(find "$work/root-aarch64/install/lib/python$version/lib-dynload" -name '*-aarch64-linux-musl.so' | wc -l)
[ "$modules" -gt 50 ] || { echo "only $modules extension modules were built for aarch64" >&2; exit 1; }
pack "$work/root-aarch64/install" aarch64-unknown-linux-musl

# Debian's x86_64 CPython in the same layout (relocatable: it finds its library from its path).
mkdir -p "$work/debian/bin" "$work/debian/lib" "$work/debian/include"
cp "/usr/bin/python$version" "$work/debian/bin/"
ln -s "python$version" "$work/debian/bin/python3"
cp -a "/usr/lib/python$version" "$work/debian/lib/"
pack "$work/debian" x86_64-unknown-linux-gnu

mkdir -p "$work/mirror/wheelhouse"
python3 -m pip download -q --disable-pip-version-check --only-binary=:all: --no-deps -d "$work/mirror/wheelhouse" "$setuptools"
(cd "$work/mirror" && sha256sum cpython-*.tar.gz > SHA256SUMS)
echo "$stamp" > "$work/mirror/.stamp"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
cp -a "$work/mirror" "$out"
ls -la "$out"
