#!/usr/bin/env bash
# What an unaligned 64-bit load or store (LDRD/STRD, what C compiles `*(uint64_t *)p` to) does
# on 32-bit ARM: the same static program, run by QEMU's user mode (as pookie's armv7l tests
# are) and as /init of a real ARMv7 Linux kernel (Debian 12's armmp kernel, booted by
# qemu-system-arm, whose CPU traps the access as hardware does). User mode dies of SIGBUS; the
# kernel's alignment handler performs the access, the program goes on, and /proc/cpu/alignment
# counts the fixups. This is why pookie reports such a SIGBUS as "not verified" instead of
# "failed" (see src/executor/fault.rs).
#
# usage: scripts/armv7-alignment.sh [CACHE_DIR]   (root; after `scripts/setup.sh --tests`: the
#        armhf image with gcc, QEMU registered; installs qemu-system-arm and cpio when missing)
# Prints both outcomes and exits 0 when they are as described.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${1:-${POOKIE_CI_CACHE:-/var/cache/pookie-ci}}/armv7-kernel
image=${POOKIE_TEST_ARMHF_IMAGE:-debian-pythons:bookworm-armhf}
mirror=http://deb.debian.org/debian
mkdir -p "$cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for pkg in qemu-system-arm cpio gpgv debian-archive-keyring xz-utils; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
        || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$pkg" >/dev/null
done

# Debian 12's armmp kernel, every file checked: InRelease by the archive's key, Packages.xz by
# InRelease's sha256, the package by Packages' sha256.
kernel=$(ls "$cache"/vmlinuz-* 2>/dev/null | head -1 || true)
if [ -z "$kernel" ]; then
    curl -fsS -o "$work/InRelease" "$mirror/dists/bookworm/InRelease"
    gpgv --keyring /usr/share/keyrings/debian-archive-keyring.gpg "$work/InRelease" 2>/dev/null \
        || { echo "InRelease of bookworm does not verify" >&2; exit 1; }
    sum=$(awk '/^SHA256:/ { s = 1; next } /^[A-Z]/ { s = 0 } s && $3 == "main/binary-armhf/Packages.xz" { print $1 }' "$work/InRelease")
    curl -fsS -o "$work/Packages.xz" "$mirror/dists/bookworm/main/binary-armhf/Packages.xz"
    echo "$sum  $work/Packages.xz" | sha256sum -c --quiet
    read -r file sha < <(xz -dc "$work/Packages.xz" | awk '
        /^Package: linux-image-[0-9.]+-[0-9]+-armmp$/ { p = 1 }
        p && /^Filename:/ { f = $2 } p && /^SHA256:/ { s = $2 }
        p && /^$/ { print f, s; exit }')
    curl -fsS -o "$work/kernel.deb" "$mirror/$file"
    echo "$sha  $work/kernel.deb" | sha256sum -c --quiet
    dpkg-deb -x "$work/kernel.deb" "$work/kernel"
    cp "$work"/kernel/boot/vmlinuz-* "$cache/"
    kernel=$(ls "$cache"/vmlinuz-* | head -1)
fi

# The program, built statically by the armhf image's gcc (under QEMU).
cat > "$work/init.c" <<'C'
#include <stdint.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((noinline)) uint64_t load64(const unsigned char *p) { return *(const uint64_t *)p; }
__attribute__((noinline)) void store64(unsigned char *p, uint64_t v) { *(uint64_t *)p = v; }

int main(void) {
    unsigned char buf[64];
    for (int i = 0; i < 64; i++) buf[i] = (unsigned char)i;
    uint64_t sum = 0;
    for (int off = 0; off < 8; off++) sum += load64(buf + off);
    store64(buf + 3, 0x1122334455667788ull);
    printf("unaligned LDRD/STRD done: sum=%llu stored=%llx\n", (unsigned long long)sum, (unsigned long long)load64(buf + 3));
    if (getpid() == 1) {
        mkdir("/proc", 0755);
        mount("proc", "/proc", "proc", 0, NULL);
        FILE *f = fopen("/proc/cpu/alignment", "r");
        for (int c; f && (c = fgetc(f)) != EOF;) putchar(c);
        fflush(stdout);
        reboot(RB_POWER_OFF);
    }
    return 0;
}
C
docker run --rm -v "$work:/w" "$image" sh -c 'gcc -O2 -static -o /w/init /w/init.c && objdump -d /w/init | grep -A1 "<load64>:" | tail -1' 2>/dev/null

echo "== QEMU user mode (as pookie's armv7l tests run)"
user=$(docker run --rm -v "$work:/w" "$image" sh -c 'ulimit -c 0; /w/init; echo "exit $?"' 2>&1 | grep -v WARNING || true)
echo "$user"

echo "== Debian 12's ARMv7 kernel ($(basename "$kernel")) on qemu-system-arm"
(cd "$work" && mkdir root && cp init root/ && cd root && echo init | cpio -o -H newc --quiet > ../init.cpio)
system=$(timeout 300 qemu-system-arm -M virt -cpu cortex-a15 -m 256 -nographic -no-reboot -nic none \
    -kernel "$kernel" -initrd "$work/init.cpio" -append "console=ttyAMA0 panic=-1 rdinit=/init quiet" 2>&1 \
    | tr -d '\r' | grep -E "unaligned|User|DWord|Multi" || true)
echo "$system"

echo "$user" | grep -q "exit 135" || { echo "QEMU's user mode did not stop the program with SIGBUS" >&2; exit 1; }
echo "$system" | grep -q "unaligned LDRD/STRD done" || { echo "the kernel did not run the program to its end" >&2; exit 1; }
echo "$system" | grep -q "(fixup)" || { echo "the kernel did not fix up the accesses" >&2; exit 1; }
echo "verdict: the accesses SIGBUS under QEMU's user mode and work on an ARMv7 kernel, which fixes them up"
