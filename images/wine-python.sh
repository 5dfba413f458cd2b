#!/bin/sh
# Installs the Windows CPython of /opt/pookie/archives/target.tar.gz (python-build-standalone's
# x86_64-pc-windows-msvc install_only layout: python.exe, python3XY.dll, Lib/ with pip) into
# /opt/pookie/python and makes /opt/pookie/bin/python run it under Wine. Unix paths work as
# arguments: Wine's drive Z: is the container's root, and the current drive of a process started
# in a Unix directory.
# An archive without python.exe (headers and import library only, e.g. a mirror made where no
# Windows CPython is reachable) still makes a layer: it records why in
# /opt/pookie/no-windows-python, and test jobs report "skipped: no Windows CPython" (job.sh).
# usage: wine-python.sh VERSION
set -eu
version=$1
root=/opt/pookie/python
mkdir -p "$root"
# install_only archives hold one top-level directory, `python/`.
tar -xzf /opt/pookie/archives/target.tar.gz -C "$root" --strip-components=1
rm -rf /opt/pookie/archives
if [ ! -f "$root/python.exe" ]; then
    echo "the Windows CPython $version archive holds no python.exe (it has: $(ls "$root" | tr '\n' ' '))" \
        | tee /opt/pookie/no-windows-python
    exit 0
fi
cat > /opt/pookie/bin/python <<'SH'
#!/bin/sh
# The Windows CPython under Wine. Wine keeps its prefix in $HOME/.wine: each job makes its own
# (a few seconds), as Wine refuses a prefix that another user owns.
exec wine /opt/pookie/python/python.exe "$@"
SH
chmod 755 /opt/pookie/bin/python
# Check it under Wine, in a throwaway prefix (Windows prints CRLF).
home=$(mktemp -d)
actual=$(HOME=$home /opt/pookie/bin/python -c 'import sys; print("%d.%d%s" % (*sys.version_info[:2], getattr(sys, "abiflags", "")))' | tr -d '\r')
[ "$actual" = "$version" ] || { echo "pookie: the Windows CPython is $actual, not $version" >&2; exit 1; }
HOME=$home /opt/pookie/bin/python -m pip --version || HOME=$home /opt/pookie/bin/python -m ensurepip
HOME=$home wineserver -k || true
rm -rf "$home"
# Jobs run as the calling user and pip-install into it (each container is thrown away).
chmod -R a+rwX "$root"
