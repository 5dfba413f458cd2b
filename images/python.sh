#!/bin/sh
# Makes /opt/pookie/venv from the wanted CPython and checks that it is the requested version.
# usage: python.sh SOURCE VERSION PATH   (SOURCE: pbs, with archives/target.tar.gz; or image)
set -eu
source=$1 version=$2 path=$3
relocate=

case $source in
    pbs)
        mkdir -p /opt/pookie/python
        # install_only archives hold one top-level directory, `python/`.
        tar -xzf /opt/pookie/archives/target.tar.gz -C /opt/pookie/python --strip-components=1
        interpreter=/opt/pookie/python/bin/python3
        relocate=1
        ;;
    image) interpreter=$path ;;
    *) echo "unknown Python source $source" >&2; exit 2 ;;
esac
rm -rf /opt/pookie/archives

if [ ! -x "$interpreter" ]; then
    echo "pookie: no Python $version at $interpreter in this image" >&2
    exit 1
fi
actual=$("$interpreter" -c 'import sys; print("%d.%d%s" % (*sys.version_info[:2], getattr(sys, "abiflags", "")))')
if [ "$actual" != "$version" ]; then
    echo "pookie: $interpreter is Python $actual, not $version" >&2
    exit 1
fi
if [ -n "$relocate" ]; then
    # python-build-standalone's sysconfig data names the prefix it was built in (/install), and
    # setuptools would look for Python.h there: point it here, as uv does when it installs them.
    "$interpreter" - /opt/pookie/python <<'PY'
import glob, os, pprint, runpy, sys

root = sys.argv[1]
for path in glob.glob(os.path.join(root, "lib", "python3*", "_sysconfigdata_*.py")):
    data = runpy.run_path(path)["build_time_vars"]
    old = data.get("prefix", "").rstrip("/")
    # Only a build prefix that is not here (an archive repacked from this system keeps its own).
    if not old or old == root or os.path.exists(old):
        continue
    fix = lambda v: root if v == old else v.replace(old + "/", root + "/")
    data = {k: fix(v) if isinstance(v, str) else v for k, v in data.items()}
    with open(path, "w") as f:
        f.write("build_time_vars = " + pprint.pformat(data) + "\n")
    print(f"{os.path.basename(path)}: {old} -> {root}")
PY
fi
# Debian's pyconfig.h includes <MULTIARCH/pythonX.Y/pyconfig.h>, from the include root that a
# zig build must not search (its glibc headers would shadow zig's): a root of its own holding
# just that folder (zig-cc searches $POOKIE_TARGET_INCLUDE).
mkdir -p /opt/pookie/python-include
"$interpreter" - /opt/pookie/python-include <<'PY'
import os, sys, sysconfig

include, multiarch = sysconfig.get_config_var("INCLUDEPY"), sysconfig.get_config_var("MULTIARCH")
per_arch = os.path.join(os.path.dirname(include or ""), multiarch or "", os.path.basename(include or ""))
if include and multiarch and os.path.isdir(per_arch):
    os.makedirs(os.path.join(sys.argv[1], multiarch))
    os.symlink(per_arch, os.path.join(sys.argv[1], multiarch, os.path.basename(include)))
PY
"$interpreter" -m venv /opt/pookie/venv
# Jobs run as the calling user: let them install into the (throwaway) environment.
chmod -R a+rwX /opt/pookie/venv
