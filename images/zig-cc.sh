#!/bin/sh
# zig-cc and zig-c++: zig's clang for $POOKIE_ZIG_TARGET (pookie sets it in every zig job), e.g.
# aarch64-linux-gnu.2.17 (glibc 2.17 symbols only) or x86_64-linux-musl.
# - C++ sources compiled through CC (distutils compiles every source with CC, C++ ones too)
#   get zig's C++ driver, which provides libc++'s headers, as gcc's driver does by extension.
# - zig enables UBSan in its default (debug) mode, which aborted correct-looking extensions
#   under QEMU ("load of misaligned address"): -fno-sanitize=undefined, and -O2 unless the
#   build says otherwise (a later -O wins). The fixed mode also keeps zig's own libraries
#   (libc++, compiler-rt) the ones earlier jobs built into the shared zig cache.
# - zig makes __DATE__/__TIME__ an error (-Werror=date-time, for reproducible builds); gcc and
#   clang only warn, and projects use them in version strings: a warning here too.
# - macOS extensions link as bundles (CPython's LDSHARED: `-bundle -undefined dynamic_lookup`),
#   but zig 0.17 crashes on -bundle: it links them as dynamic libraries (-shared), which dlopen
#   and CPython's import load the same way; `-undefined dynamic_lookup` still leaves the Python
#   API to the interpreter that loads them (no libpython load command).
# - zig writes an import library beside every Windows DLL it links (named after its first
#   input). Extension modules need none, and setuptools would put it in the wheel: it goes to a
#   temporary file instead, unless the build asks for one (meson does, and packs none of it). (Their PDB files are avoided by linking without debug information,
#   `-s` in the Windows sysconfig data, as MSVC builds link without /DEBUG.)
# - GNU flags that distributions' CPythons put in sysconfig (Debian's LDSHARED links with
#   -Wl,-Bsymbolic-functions) or that build systems add, which zig's driver refuses, are
#   translated or dropped: -Bsymbolic-functions and --exclude-libs (symbol binding and export
#   niceties, without effect on what a module imports), -flto[=MODE] (LTO is left off: zig
#   builds its libc++ again for LTO links, 40 s in every job, and pybind11 asks for it in
#   Release builds),
#   -march=x86-64-vN (zig's spelling is -mcpu=x86_64_vN), -march=native (the build machine is
#   not the target).
# - Libraries a project's before-all installed into $POOKIE_TARGET_PREFIX (for the target) are
#   found through -I/-L (zig's linker reads no LIBRARY_PATH); not by builds for the build
#   machine itself (POOKIE_ZIG_TARGET=native).
# - POOKIE_TARGET_INCLUDE (Python and cross layers) holds only the target CPython's include folders; its
#   root must be searched because Debian's pyconfig.h includes <MULTIARCH/python3.X/pyconfig.h>.
case ${0##*/} in
    *c++) driver=c++ ;;
    *) driver=cc ;;
esac
for arg; do
    shift
    case $arg in
        *.cc | *.cpp | *.cxx | *.c++ | *.C) driver=c++ ;;
        -bundle) arg=-shared ;;
        -Wl,-Bsymbolic-functions | -Wl,--exclude-libs,* | -flto | -flto=* | -ffat-lto-objects | -fno-fat-lto-objects) continue ;;
        -march=native | -mtune=native) continue ;;
        -march=x86-64-v[234]) arg=-mcpu=x86_64_v${arg#-march=x86-64-v} ;;
    esac
    [ "$arg" = -shared ] && shared=1
    case $arg in
        -Wl,--out-implib,* | -Wl,--out-implib=*) implib=1 ;;
        -c | -E | -S | -M | -MM) compile_only=1 ;;
    esac
    set -- "$@" "$arg"
done
case ${POOKIE_ZIG_TARGET:-}/${shared:-}/${implib:-}/${compile_only:-} in
    *-windows-*/1//) set -- "$@" "-Wl,--out-implib=$(mktemp "${TMPDIR:-/tmp}/pookie-implib.XXXXXX")" ;;
esac
# Every Windows link strips (-s): zig keys its cached libc++ by it, so that every link finds
# the one libc++ the first built (an unstripped executable link, as CMake's compiler check
# makes, rebuilt libc++ for two minutes).
case ${POOKIE_ZIG_TARGET:-}/${compile_only:-} in
    *-windows-*/) set -- "$@" -s ;;
esac
if [ -z "${POOKIE_ZIG_TARGET:-}" ]; then
    echo "zig-cc: POOKIE_ZIG_TARGET is not set (pookie sets it in the jobs of zig toolchains)" >&2
    exit 2
fi
prefix=${POOKIE_TARGET_PREFIX:-}
if [ -n "$prefix" ] && [ "$POOKIE_ZIG_TARGET" != native ] && [ -d "$prefix/include" ]; then
    set -- -isystem "$prefix/include" "$@"
    [ -z "${compile_only:-}" ] && set -- "$@" -L "$prefix/lib"
fi
exec /opt/pookie/bin/zig "$driver" -target "$POOKIE_ZIG_TARGET" -O2 -fno-sanitize=undefined -Wno-error=date-time \
    ${POOKIE_TARGET_INCLUDE:+-isystem "$POOKIE_TARGET_INCLUDE"} "$@"
