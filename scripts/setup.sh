#!/usr/bin/env bash
# Makes a Debian/Ubuntu machine ready to run pookie, without any image registry (only the
# package registries). Run as root. Idempotent: a second run takes seconds. Prints how long each
# step took.
#
#   scripts/setup.sh          what the quick start needs: the Docker engine (installed and started
#                             when no daemon answers), pookie itself, and the base image of the
#                             example (`pookie base-image`: Debian sid with CPython 3.13 and 3.14).
#   scripts/setup.sh --tests  also what the test suite needs (scripts/test.sh runs this): QEMU
#                             registered with binfmt_misc, the bookworm base images (x86_64; arm64
#                             and armhf made under QEMU; i386; x86_64 with musl), trixie riscv64
#                             (under QEMU), the CPython mirrors of
#                             the musl, Windows, macOS and free-threaded tests, and podman,
#                             rootful and rootless.
#
# Base image archives and mirrors are cached in $POOKIE_CI_CACHE (default /var/cache/pookie-ci).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
for_tests=
case ${1:-} in
    "") ;;
    --tests) for_tests=1 ;;
    *) echo "usage: scripts/setup.sh [--tests]" >&2; exit 2 ;;
esac
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
export DEBIAN_FRONTEND=noninteractive
CACHE_DIR=${POOKIE_CI_CACHE:-/var/cache/pookie-ci}
DOCKERD_LOG=${POOKIE_CI_DOCKERD_LOG:-/var/log/pookie-ci-dockerd.log}

# --- timing -----------------------------------------------------------------------------------
timings=()
current_step=
step_started=
run_started=$EPOCHREALTIME

elapsed() { # seconds since $1 (an $EPOCHREALTIME), with one decimal
    awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}

step() { # step NAME COMMAND...: runs COMMAND, prints and records how long it took
    current_step=$1
    shift
    echo
    echo "==> $current_step"
    step_started=$EPOCHREALTIME
    "$@"
    local took
    took=$(elapsed "$step_started")
    timings+=("$(printf '%8s s  %s' "$took" "$current_step")")
    echo "<== $current_step: $took s"
    current_step=
}

print_timings() {
    echo
    echo "==> timings"
    printf '%s\n' "${timings[@]}"
    printf '%8s s  %s\n' "$(elapsed "$run_started")" "total"
}

begin_step() { # begin_step NAME: times the commands that follow, up to the end of the script
    current_step=$1
    echo
    echo "==> $current_step"
    step_started=$EPOCHREALTIME
}

on_exit() {
    local rc=$?
    if [ -n "$current_step" ]; then
        local status=""
        [ "$rc" -eq 0 ] || status=" (FAILED, exit $rc)"
        timings+=("$(printf '%8s s  %s%s' "$(elapsed "$step_started")" "$current_step" "$status")")
    fi
    print_timings
    if [ "$rc" -ne 0 ]; then
        echo "scripts/setup.sh: FAILED (exit $rc)${current_step:+ in step: $current_step}" >&2
    fi
}
trap on_exit EXIT

# --- steps --------------------------------------------------------------------------------------
# apt_install PACKAGE...: installs those of the packages that are missing.
apt_install() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        echo "all needed packages are installed"
        return
    fi
    echo "installing: ${missing[*]}"
    apt-get -o DPkg::Lock::Timeout=300 update -q
    apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}"
}

install_packages() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "scripts/setup.sh must run as root (it installs packages, starts dockerd and runs debootstrap)" >&2
        exit 1
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        echo "cargo is not on PATH: install a Rust toolchain (rustup, Rust 1.85 or newer)" >&2
        exit 1
    fi
    local packages=(debootstrap ca-certificates)
    # Any Docker daemon will do; Debian's docker.io brings one (a newer client on PATH is fine).
    command -v dockerd >/dev/null 2>&1 || packages+=(docker.io)
    apt_install "${packages[@]}"
}

install_test_packages() {
    # qemu-user-static: foreign-architecture images and tests; musl-tools: the musl CPython of
    # the CPython mirror; binutils: the tests read ELF files with readelf; python3-wheel: the
    # Windows/macOS tests check RECORD with `python3 -m wheel unpack`; podman with what rootless
    # podman needs (uidmap for subordinate ids, slirp4netns for its network, runc);
    # qemu-system-arm, cpio, gpgv: scripts/armv7-alignment.sh boots an ARMv7 kernel;
    # python3.11-dev: the headers of the CPython mirror's x86_64 interpreter; libssl-dev,
    # zlib1g-dev, libffi-dev, pkg-config, curl: the free-threaded CPython of its own mirror;
    # docker-registry: the cache registry the tests start on loopback (its service stays off);
    # iproute2: the bridge of the second dockerd a test starts as a fresh engine.
    apt_install jq graphviz patchelf python3-venv python3-wheel python3.11-dev qemu-user-static binfmt-support musl \
        musl-tools binutils podman runc uidmap slirp4netns qemu-system-arm cpio gpgv debian-archive-keyring \
        libssl-dev zlib1g-dev libffi-dev pkg-config curl docker-registry iproute2
}

docker_answers() {
    docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

start_docker() {
    if docker_answers; then
        echo "the Docker daemon answers: $(docker version --format 'client {{.Client.Version}}, server {{.Server.Version}}')"
        return
    fi
    if [ -n "${DOCKER_HOST:-}" ]; then
        echo "DOCKER_HOST=$DOCKER_HOST does not answer; starting dockerd on the default socket instead" >&2
        unset DOCKER_HOST
        if docker_answers; then
            return
        fi
    fi
    echo "starting dockerd in the background (log: $DOCKERD_LOG)"
    setsid -f dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null
    local waited=0
    until docker_answers; do
        if [ "$waited" -ge 30 ]; then
            echo "dockerd did not answer within 30 s; the end of $DOCKERD_LOG:" >&2
            tail -n 30 "$DOCKERD_LOG" >&2 || true
            exit 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
    echo "dockerd answers after ${waited} s: $(docker version --format 'server {{.Server.Version}}')"
}

build_pookie() {
    cargo build --locked
}

# The base images the tests and the example use, made from Debian packages. `pookie base-image`
# does nothing when the tag already names an image of the same recipe, and loads the cached
# archive when there is one.
base_image_bookworm() {
    target/debug/pookie base-image --suite bookworm --tag debian:bookworm-slim --cache-dir "$CACHE_DIR"
    # With CPython 3.11's headers: gcc builds on glibc 2.36 (the manylinux_2_36 policy).
    target/debug/pookie base-image --suite bookworm --package python3.11-dev,python3.11-venv \
        --tag debian-pythons:bookworm --cache-dir "$CACHE_DIR"
}

SID_PYTHONS=(
    --suite sid
    --package python3.13-dev,python3.13-venv,python3.14-dev,python3.14-venv
    --optional-package python3.15-dev,python3.15-venv
    --cache-dir "$CACHE_DIR"
)

base_image_sid_pythons() {
    target/debug/pookie base-image "${SID_PYTHONS[@]}" --tag debian-pythons:sid
}

# QEMU for the foreign images below and for the non-native tests (mounts binfmt_misc if needed).
register_qemu() {
    target/debug/pookie setup qemu --arch aarch64 --arch armv7l --arch riscv64
}

# Foreign-architecture images, made under QEMU (minutes each: bookworm's CPython 3.11, the
# smallest set that serves the tests). The package sets of pookie's base and toolchain layers
# are included, so those layers skip apt (apt-get update alone takes minutes under QEMU): both
# also build under emulation (gcc, the tools' python3).
BASE_SET=bash,ca-certificates,tar,gzip,xz-utils,zstd
GCC_SET=gcc,g++,make,libc6-dev,ccache,git,python3,python3-venv
ARM64_PYTHONS=(
    --suite bookworm --arch arm64
    --package "$BASE_SET,python3.11-dev,python3.11-venv,$GCC_SET"
    --cache-dir "$CACHE_DIR"
)
ARMHF_PYTHONS=(
    --suite bookworm --arch armhf
    --package "$BASE_SET,python3.11-dev,python3.11-venv,$GCC_SET"
    --cache-dir "$CACHE_DIR"
)

# i686 (run natively by the host) and riscv64 (Debian's port is official from trixie on), with
# only what their tests need: CPython's headers (a cross layer copies them) and venv.
I386_PYTHONS=(
    --suite bookworm --arch i386
    --package "$BASE_SET,python3.11-dev,python3.11-venv"
    --cache-dir "$CACHE_DIR"
)
RISCV64_PYTHONS=(
    --suite trixie --arch riscv64
    --package "$BASE_SET,python3.13-dev,python3.13-venv"
    --cache-dir "$CACHE_DIR"
)

# musllinux_1_2_aarch64's family for its tests under QEMU: trixie arm64 with musl's loader, which
# runs the mirror's aarch64 musl CPython (as debian-musl:trixie does the x86_64 one).
MUSL_ARM64=(
    --suite trixie --arch arm64
    --package "$BASE_SET,musl"
    --cache-dir "$CACHE_DIR"
)

# musl arm64 (the longest, ~280 s cold) beside the other two, as base_images_foreign does.
base_images_i386_riscv64() {
    local log_pair=$CACHE_DIR/setup-i386-riscv64.out log_musl=$CACHE_DIR/setup-musl-arm64.out
    {
        target/debug/pookie base-image "${I386_PYTHONS[@]}" --tag debian-pythons:bookworm-i386 \
            && target/debug/pookie base-image "${RISCV64_PYTHONS[@]}" --tag debian-pythons:trixie-riscv64
    } >"$log_pair" 2>&1 &
    local pair=$!
    target/debug/pookie base-image "${MUSL_ARM64[@]}" --tag debian-musl:trixie-arm64 >"$log_musl" 2>&1 &
    local musl=$!
    local rc=0
    wait "$pair" || rc=1
    wait "$musl" || rc=1
    cat "$log_pair" "$log_musl"
    return "$rc"
}

# The two run side by side: each is mostly one emulated process at a time.
base_images_foreign() {
    local log_arm64=$CACHE_DIR/setup-arm64.out log_armhf=$CACHE_DIR/setup-armhf.out
    target/debug/pookie base-image "${ARM64_PYTHONS[@]}" --tag debian-pythons:bookworm-arm64 >"$log_arm64" 2>&1 &
    local arm64=$!
    target/debug/pookie base-image "${ARMHF_PYTHONS[@]}" --tag debian-pythons:bookworm-armhf >"$log_armhf" 2>&1 &
    local armhf=$!
    local rc=0
    wait "$arm64" || rc=1
    wait "$armhf" || rc=1
    cat "$log_arm64" "$log_armhf"
    return "$rc"
}

# musllinux_1_2_x86_64's family: Debian with musl's loader, which runs the mirror's musl CPython.
# trixie's musl 1.2.5 is Alpine 3.22's: musllinux wheels built on Alpine (numpy's, cmake's)
# crash or fail on bookworm's 1.2.3.
base_image_musl() {
    target/debug/pookie base-image --suite trixie --package musl --tag debian-musl:trixie --cache-dir "$CACHE_DIR"
}

# CPython builds python-build-standalone would provide (unreachable here): musl x86_64 and
# aarch64 from Debian's source package, served to pookie as `[python] mirror`.
python_mirror() {
    scripts/ci-python-mirror.sh "$CACHE_DIR/python-mirror"
}

# CPython archives of the Windows and macOS tests (headers, import library, sysconfig data; no
# interpreters), from Debian's CPython source package and the python3-dll-a crate, in
# python-build-standalone's layout: served to pookie as `[python] mirror`.
python_mirror_win_mac() {
    scripts/ci-python-mirror-win-mac.sh "$CACHE_DIR/python-mirror-win-mac"
}

# A free-threaded CPython (3.13, --disable-gil; no Debian release packages one), in
# python-build-standalone's layout of its freethreaded archives: served to pookie as `[python] mirror`.
python_mirror_free_threaded() {
    scripts/ci-python-mirror-freethreaded.sh "$CACHE_DIR/python-mirror-freethreaded"
}

# Podman for its end-to-end tests (tests/e2e_podman.rs), as users run it: rootful (root runs
# pookie) and rootless (the user below, with subordinate ids). Each store gets the example's base
# image from the cache. /dev/net/tun is made usable by every user, as on a stock Debian (this
# machine kind ships it 0600), since rootless podman's network (slirp4netns) opens it.
ROOTLESS_USER=${POOKIE_TEST_ROOTLESS_USER:-pookie-rootless}

setup_podman() {
    POOKIE_ENGINE=podman target/debug/pookie base-image "${SID_PYTHONS[@]}" --tag debian-pythons:sid
    if ! id "$ROOTLESS_USER" >/dev/null 2>&1; then
        useradd --create-home --shell /bin/bash "$ROOTLESS_USER"
    fi
    for f in /etc/subuid /etc/subgid; do
        grep -q "^$ROOTLESS_USER:" "$f" 2>/dev/null || usermod --add-subuids 200000-265535 --add-subgids 200000-265535 "$ROOTLESS_USER"
    done
    chmod 0666 /dev/net/tun
    local home
    home=$(getent passwd "$ROOTLESS_USER" | cut -d: -f6)
    # podman 4.3 picks vfs for a new rootless store when nothing is configured: overlay is what
    # rootless users configure (the kernel mounts it unprivileged), and `pookie doctor` says so.
    if [ ! -f "$home/.config/containers/storage.conf" ]; then
        runuser -u "$ROOTLESS_USER" -- mkdir -p "$home/.config/containers"
        printf '[storage]\ndriver = "overlay"\n' | runuser -u "$ROOTLESS_USER" -- tee "$home/.config/containers/storage.conf" >/dev/null
        (cd / && runuser -u "$ROOTLESS_USER" -- env HOME="$home" podman system reset --force >/dev/null 2>&1) || true
    fi
    # The user's store gets root's image (through stdin: the user may not reach the cache).
    local as_user=(runuser -u "$ROOTLESS_USER" -- env HOME="$home")
    local id
    id=$(podman image inspect --format '{{.Id}}' debian-pythons:sid)
    if [ "$(cd / && "${as_user[@]}" podman image inspect --format '{{.Id}}' debian-pythons:sid 2>/dev/null)" != "$id" ]; then
        podman save debian-pythons:sid | (cd / && "${as_user[@]}" podman load)
    fi
    echo "podman: rootful and rootless ($ROOTLESS_USER) stores hold debian-pythons:sid ($id)"
}

step "apt packages" install_packages
step "docker daemon" start_docker
step "cargo build --locked" build_pookie
step "base image debian-pythons:sid" base_image_sid_pythons
[ -n "$for_tests" ] || exit 0

step "apt packages of the tests" install_test_packages
step "QEMU binfmt registration" register_qemu
step "base images debian:bookworm-slim and debian-pythons:bookworm" base_image_bookworm
step "base images debian-pythons:bookworm-arm64 and -armhf (under QEMU)" base_images_foreign
step "base image debian-musl:trixie" base_image_musl
step "base images debian-pythons:bookworm-i386, trixie-riscv64 and debian-musl:trixie-arm64 (under QEMU)" base_images_i386_riscv64
step "CPython mirror (musl x86_64 and aarch64)" python_mirror
step "CPython mirror (Windows and macOS headers)" python_mirror_win_mac
step "CPython mirror (free-threaded x86_64)" python_mirror_free_threaded
step "podman, rootful and rootless" setup_podman
