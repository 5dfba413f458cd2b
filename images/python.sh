#!/bin/sh
# Makes /opt/pookie/venv from the wanted CPython and checks that it is the requested version.
# usage: python.sh SOURCE VERSION PATH   (SOURCE: pbs, with archives/target.tar.gz; or image)
set -eu
source=$1 version=$2 path=$3

case $source in
    pbs)
        mkdir -p /opt/pookie/python
        # install_only archives hold one top-level directory, `python/`.
        tar -xzf /opt/pookie/archives/target.tar.gz -C /opt/pookie/python --strip-components=1
        interpreter=/opt/pookie/python/bin/python3
        ;;
    image) interpreter=$path ;;
    *) echo "unknown Python source $source" >&2; exit 2 ;;
esac
rm -rf /opt/pookie/archives

if [ ! -x "$interpreter" ]; then
    echo "pookie: no Python $version at $interpreter in this image" >&2
    exit 1
fi
actual=$("$interpreter" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$actual" != "$version" ]; then
    echo "pookie: $interpreter is Python $actual, not $version" >&2
    exit 1
fi
"$interpreter" -m venv /opt/pookie/venv
# Jobs run as the calling user: let them install into the (throwaway) environment.
chmod -R a+rwX /opt/pookie/venv
