#!/bin/bash
# Runs the project's before-all hook ($BEFORE_ALL) in a copy of the files it reads, with the
# build's toolchain in its environment ($BEFORE_ALL_ENV: `export NAME='value'` lines). Cross
# builds (zig) also get a CMake toolchain file and a meson cross file for the target.
set -euo pipefail
eval "$BEFORE_ALL_ENV"
prefix=$POOKIE_TARGET_PREFIX
mkdir -p "$prefix/include" "$prefix/lib" "$prefix/bin"
if [ -n "${POOKIE_CROSS:-}" ]; then
    /opt/pookie/bin/pookie-build-wheel --cross-files /opt/pookie/cross >/dev/null
    export POOKIE_CMAKE_TOOLCHAIN=/opt/pookie/cross/toolchain.cmake POOKIE_MESON_CROSS=/opt/pookie/cross/cross.ini
fi
export PATH=/opt/pookie/bin:$PATH
cd /pookie/before-all/src
printf '::pookie:: before-all (CC=%s, POOKIE_HOST=%s)\n' "${CC:-cc}" "$POOKIE_HOST"
bash -eo pipefail -c "$BEFORE_ALL"
# MinGW toolchains (libtool, CMake, meson) name import libraries libfoo.dll.a; zig's linker
# looks for foo.lib or libfoo.a: each gets the name zig finds too.
for implib in "$prefix"/lib/lib*.dll.a; do
    [ -e "$implib" ] || continue
    name=${implib##*/lib}
    name=${name%.dll.a}
    [ -e "$prefix/lib/$name.lib" ] || ln -s "${implib##*/}" "$prefix/lib/$name.lib"
done
# Libraries installed into the system (native and emulated builds) are found at once.
if command -v ldconfig >/dev/null 2>&1; then ldconfig 2>/dev/null || true; fi
cd / && rm -rf /pookie/before-all
# Jobs run as the calling user.
chmod -R a+rX "$prefix"
