#!/usr/bin/env bash
# Makes a Debian/Ubuntu machine ready to run pookie and its tests, without any image registry
# (only the package registries): installs what is missing from apt (the Docker engine included),
# starts dockerd when no daemon answers, builds pookie, registers QEMU with binfmt_misc, makes
# the base images the example and the tests use with `pookie base-image` (debootstrap; archives
# cached in /var/cache/pookie-ci, so a second run takes seconds) and the CPython mirrors of
# the musl, Windows and macOS tests. Run as root. Idempotent.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
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
install_packages() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "scripts/setup.sh must run as root (it installs packages, starts dockerd and runs debootstrap)" >&2
        exit 1
    fi
    local missing=() pkg
    # qemu-user-static: foreign-architecture images and tests; musl-tools: the musl CPython of
    # the CPython mirror; binutils: the tests read ELF files with readelf.
    # python3-wheel: the Windows/macOS tests check RECORD with `python3 -m wheel unpack`.
    for pkg in debootstrap jq graphviz patchelf python3-venv python3-wheel ca-certificates \
        qemu-user-static binfmt-support musl musl-tools binutils; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    # Any Docker daemon will do; Debian's docker.io brings one (a newer client on PATH is fine).
    if ! command -v dockerd >/dev/null 2>&1; then
        missing+=(docker.io)
    fi
    if [ "${#missing[@]}" -eq 0 ]; then
        echo "all needed packages are installed"
    else
        echo "installing: ${missing[*]}"
        apt-get -o DPkg::Lock::Timeout=300 update -q
        apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}"
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        echo "cargo is not on PATH: install a Rust toolchain (rustup, Rust 1.85 or newer)" >&2
        exit 1
    fi
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
    target/debug/pookie setup qemu --arch aarch64 --arch armv7l
}

# Foreign-architecture images, made under QEMU (minutes each: bookworm's CPython 3.11, the
# smallest set that serves the tests). The package sets of pookie's base and toolchain layers
# are included, so those layers skip apt (apt-get update alone takes minutes under QEMU): arm64
# also builds under emulation (gcc, the tools' python3); armhf only runs tests.
BASE_SET=bash,ca-certificates,tar,gzip,xz-utils,zstd
ARM64_PYTHONS=(
    --suite bookworm --arch arm64
    --package "$BASE_SET,python3.11-dev,python3.11-venv,gcc,g++,make,libc6-dev,ccache,python3,python3-venv"
    --cache-dir "$CACHE_DIR"
)
ARMHF_PYTHONS=(
    --suite bookworm --arch armhf
    --package "$BASE_SET,python3.11-dev,python3.11-venv"
    --cache-dir "$CACHE_DIR"
)

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
base_image_musl() {
    target/debug/pookie base-image --suite bookworm --package musl --tag debian-musl:bookworm --cache-dir "$CACHE_DIR"
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

step "apt packages" install_packages
step "docker daemon" start_docker
step "cargo build --locked" build_pookie
step "QEMU binfmt registration" register_qemu
step "base image debian:bookworm-slim" base_image_bookworm
step "base image debian-pythons:sid" base_image_sid_pythons
step "base images debian-pythons:bookworm-arm64 and -armhf (under QEMU)" base_images_foreign
step "base image debian-musl:bookworm" base_image_musl
step "CPython mirror (musl x86_64 and aarch64)" python_mirror
step "CPython mirror (Windows and macOS headers)" python_mirror_win_mac
