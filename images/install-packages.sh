#!/bin/sh
# Installs a named set of packages with whatever package manager the base image has, so that
# pookie's layers work on Debian/Ubuntu, Alpine and RHEL-like bases alike.
# usage: install-packages.sh SET   (SET: base, gcc, clang, zig, wine, tools)
set -eu
set_name=$1

if command -v apt-get >/dev/null 2>&1; then
    case $set_name in
        base) pkgs="bash ca-certificates tar gzip xz-utils zstd" ;;
        # git: meson's wrap subprojects and build backends that ask it for versions.
        gcc) pkgs="gcc g++ make libc6-dev ccache git" ;;
        clang) pkgs="clang lld make libc6-dev ccache git" ;;
        zig) pkgs="make git" ;;
        # 64-bit Wine only: Windows CPythons for x86_64 need nothing else.
        wine) pkgs="wine64 wine" ;;
        tools) pkgs="python3 python3-venv" ;;
        *) echo "unknown package set $set_name" >&2; exit 2 ;;
    esac
    # Nothing to do when the base image has them all: apt-get update alone takes minutes under
    # QEMU, and a base image made for emulated builds may well bring its compilers.
    # shellcheck disable=SC2086
    installed=$(dpkg-query -W -f='${db:Status-Abbrev}\n' $pkgs 2>/dev/null | grep -c '^ii' || true)
    if [ "$installed" -eq "$(echo $pkgs | wc -w)" ]; then
        echo "already installed: $pkgs"
        exit 0
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $pkgs
    rm -rf /var/lib/apt/lists/*
elif command -v apk >/dev/null 2>&1; then
    case $set_name in
        base) pkgs="bash ca-certificates tar gzip xz zstd" ;;
        gcc) pkgs="gcc g++ make musl-dev ccache git" ;;
        clang) pkgs="clang lld make musl-dev gcc g++ ccache git" ;;
        zig) pkgs="make git" ;;
        wine) pkgs="wine" ;;
        tools) pkgs="python3" ;;
        *) echo "unknown package set $set_name" >&2; exit 2 ;;
    esac
    # shellcheck disable=SC2086
    apk add --no-cache $pkgs
elif command -v dnf >/dev/null 2>&1 || command -v yum >/dev/null 2>&1; then
    pm=$(command -v dnf || command -v yum)
    case $set_name in
        base) pkgs="bash ca-certificates tar gzip xz zstd" ;;
        gcc) pkgs="gcc gcc-c++ make git" ;;
        clang) pkgs="clang lld make git" ;;
        zig) pkgs="make git" ;;
        wine) pkgs="wine" ;;
        tools) pkgs="python3" ;;
        *) echo "unknown package set $set_name" >&2; exit 2 ;;
    esac
    # shellcheck disable=SC2086
    "$pm" install -y $pkgs
    "$pm" clean all
else
    echo "pookie: the base image has no known package manager (apt-get, apk, dnf, yum)" >&2
    exit 1
fi
