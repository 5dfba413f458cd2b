#!/usr/bin/env bash
# Makes the CPython mirror of the free-threaded tests (`[python] mirror`): python-build-standalone
# (GitHub) is out of reach and no Debian release packages a free-threaded CPython, so CI builds
# one, laid out like python-build-standalone's `…-x86_64-unknown-linux-gnu-freethreaded-
# install_only` archive (one top-level `python/`, `bin/python3.13t`, `lib/python3.13t/`):
#   CPython 3.13 configured with --disable-gil (PEP 703), from the upstream tarball of Debian's
#   source package (the mirror here serves 3.13's and not 3.14's), its sha256 checked against
#   the Sources index that apt verified with Debian's archive key.
# Like python-build-standalone's builds it has ssl and hashlib (OpenSSL linked statically, from
# Debian 12's libssl-dev), zlib and ctypes (Debian's shared libz and libffi, which every Debian
# image has: apt needs them). It runs in Debian 12 images, whose glibc it was built against.
# Idempotent: a finished mirror whose recipe (this script) is unchanged is kept.
# usage: scripts/ci-python-mirror-freethreaded.sh DIR   (root, Debian 12; network to Debian's archive)
set -euo pipefail
out=${1:?usage: ci-python-mirror-freethreaded.sh DIR}
version=3.13
release=20260103
stamp=$(sha256sum < "${BASH_SOURCE[0]}" | cut -c1-16)
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
    echo "python mirror in $out is up to date"
    exit 0
fi
work=$(mktemp -d /var/tmp/pookie-python-mirror-ft.XXXXXX)
# Kept when something fails, for its logs.
trap 'rc=$?; [ $rc -eq 0 ] && rm -rf "$work" || echo "work directory kept: $work" >&2' EXIT

# Debian's source index of sid and trixie, in an apt state of its own (the machine's sources stay
# as they are); apt checks the Release files' signatures.
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial"
for suite in sid trixie; do
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main"
done > "$work/apt/sources.list"
apt_opts=(-o Dir::Etc::SourceList="$work/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::State::Lists="$work/apt/lists" -o Dir::Cache="$work/apt/cache" -o Acquire::Check-Valid-Until=false)
apt-get "${apt_opts[@]}" update -q > "$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; exit 1; }

# The newest upstream tarball the archive serves, of every version the index lists.
apt-cache "${apt_opts[@]}" showsrc "python$version" | python3 -c '
import re, sys
for stanza in sys.stdin.read().split("\n\n"):
    directory = re.search(r"^Directory: (\S+)", stanza, re.M)
    for sha, name in re.findall(r"^ ([0-9a-f]{64}) \d+ (\S+\.orig\.tar\.xz)$", stanza, re.M):
        print(sha, directory.group(1) + "/" + name)
' | sort -u -k2,2rV > "$work/tarballs"
fetched=
while read -r sha path; do
    if curl -fsS --retry 2 -o "$work/src.tar.xz" "http://deb.debian.org/debian/$path" 2>/dev/null; then
        echo "$sha  $work/src.tar.xz" | sha256sum -c --quiet || { echo "$path: sha256 differs from the index's" >&2; exit 1; }
        fetched=$path
        break
    fi
done < "$work/tarballs"
[ -n "$fetched" ] || { echo "no upstream tarball of python$version could be downloaded; tried:" >&2; cat "$work/tarballs" >&2; exit 1; }
echo "CPython source: $fetched"
tar -C "$work" -xf "$work/src.tar.xz"
src=$(echo "$work"/Python-"$version".*)

# OpenSSL's static libraries (position-independent) through pkg-config files of their own, so
# that _ssl and _hashlib carry OpenSSL as python-build-standalone's do.
mkdir -p "$work/pkgconfig"
for pc in openssl libssl libcrypto; do
    printf 'Name: %s\nDescription: OpenSSL, static\nVersion: %s\nCflags:\nLibs: -l:libssl.a -l:libcrypto.a\n' \
        "$pc" "$(pkg-config --modversion openssl)" > "$work/pkgconfig/$pc.pc"
done
cp /usr/lib/x86_64-linux-gnu/pkgconfig/{zlib,libffi}.pc "$work/pkgconfig/"

mkdir -p "$work/build"
(cd "$work/build" && export PKG_CONFIG_PATH="$work/pkgconfig" PKG_CONFIG_LIBDIR="$work/pkgconfig" \
    && "$src/configure" -q --prefix=/install --disable-gil --with-ensurepip=no --disable-test-modules \
    && make -j"$(nproc)" -s \
    && make -s install DESTDIR="$work/root") > "$work/build.log" 2>&1 \
    || { tail -n 40 "$work/build.log" >&2; echo "building free-threaded CPython failed" >&2; exit 1; }
root=$work/root/install
"$root/bin/python${version}t" -c '
import ctypes, hashlib, ssl, sys, sysconfig, zlib
assert sysconfig.get_config_var("Py_GIL_DISABLED") == 1 and not sys._is_gil_enabled()
assert sysconfig.get_config_var("EXT_SUFFIX") == ".cpython-%d%dt-x86_64-linux-gnu.so" % sys.version_info[:2]
print(sys.version, ssl.OPENSSL_VERSION)
'
ldd "$root/lib/python${version}t/lib-dynload"/_ssl.*.so | grep -q libssl && { echo "_ssl links a shared OpenSSL" >&2; exit 1; }
[ -e "$root/bin/python3" ] || ln -s "python${version}t" "$root/bin/python3"

full=$(sed -n 's/^#define PY_VERSION[[:space:]]*"\(.*\)"/\1/p' "$src/Include/patchlevel.h")
rm -f "$root"/lib/python"$version"t/config-*/libpython*.a
mkdir -p "$work/mirror"
tar -C "$root" --transform 's,^\.,python,' --owner=0 --group=0 -czf \
    "$work/mirror/cpython-$full+$release-x86_64-unknown-linux-gnu-freethreaded-install_only.tar.gz" .
(cd "$work/mirror" && sha256sum cpython-*.tar.gz > SHA256SUMS)
echo "$stamp" > "$work/mirror/.stamp"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
cp -a "$work/mirror" "$out"
ls -la "$out"
