#!/bin/sh
# zig-cc and zig-c++: zig's clang for $POOKIE_ZIG_TARGET (pookie sets it in every zig job), e.g.
# aarch64-linux-gnu.2.17 (glibc 2.17 symbols only) or x86_64-linux-musl.
# - C++ sources compiled through CC (distutils compiles every source with CC, C++ ones too)
#   get zig's C++ driver, which provides libc++'s headers, as gcc's driver does by extension.
# - zig enables UBSan in its default (debug) mode, which aborted correct-looking extensions
#   under QEMU ("load of misaligned address"): -fno-sanitize=undefined, and -O2 unless the
#   build says otherwise (a later -O wins). The fixed mode also keeps zig's own libraries
#   (libc++, compiler-rt) the ones the zig-target layer built.
# - zig makes __DATE__/__TIME__ an error (-Werror=date-time, for reproducible builds); gcc and
#   clang only warn, and projects use them in version strings: a warning here too.
# - POOKIE_TARGET_INCLUDE (cross layers) holds only the target CPython's include folders; its
#   root must be searched because Debian's pyconfig.h includes <MULTIARCH/python3.X/pyconfig.h>.
case ${0##*/} in
    *c++) driver=c++ ;;
    *) driver=cc ;;
esac
for arg; do
    case $arg in
        *.cc | *.cpp | *.cxx | *.c++ | *.C) driver=c++ ;;
    esac
done
if [ -z "${POOKIE_ZIG_TARGET:-}" ]; then
    echo "zig-cc: POOKIE_ZIG_TARGET is not set (pookie sets it in the jobs of zig toolchains)" >&2
    exit 2
fi
exec /opt/pookie/bin/zig "$driver" -target "$POOKIE_ZIG_TARGET" -O2 -fno-sanitize=undefined -Wno-error=date-time \
    ${POOKIE_TARGET_INCLUDE:+-isystem "$POOKIE_TARGET_INCLUDE"} "$@"
