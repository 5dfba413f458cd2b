"""pookie-fuse-wheels: one fat wheel (macOS universal2) from the wheels of its thin slices.

usage: pookie-fuse-wheels --tag macosx_11_0_universal2 --outdir DIR WHEEL...   (x86_64 first)

Each wheel is one build of the same project for one CPU, tagged with that CPU's platform. The
fused wheel holds every file of them: a Mach-O file that differs between the slices becomes a
fat (universal) Mach-O with one slice per wheel; any other file must be the same in all of them
(dist-info's WHEEL and RECORD are written anew). Its name and WHEEL tags say `--tag`.

Written here rather than run through delocate-merge, which needs Apple's `lipo` and `codesign`:
lipo copies each thin file whole into the fat one, so each slice keeps the ad-hoc signature zig's
linker gave it, and a fat header is five numbers per slice (<mach-o/fat.h>). maturin's
universal2 builds write theirs the same way (the fat-macho crate).
"""

import argparse
import base64
import hashlib
import os
import struct
import sys
import zipfile

FAT_MAGIC = 0xCAFEBABE
MH_MAGIC_64 = 0xFEEDFACF
# cputype -> (name, alignment as a power of two: the page size of that CPU's macOS, as lipo uses)
CPU_TYPES = {0x01000007: ("x86_64", 12), 0x0100000C: ("arm64", 14)}


def log(message):
    print(f"::pookie:: pookie-fuse-wheels: {message}", flush=True)


def fail(message):
    print(f"pookie-fuse-wheels: {message}", file=sys.stderr)
    sys.exit(1)


def thin_macho(data):
    """(cputype, cpusubtype) of a thin 64-bit Mach-O file, or None for any other file."""
    if len(data) < 12 or struct.unpack_from("<I", data)[0] != MH_MAGIC_64:
        return None
    return struct.unpack_from("<Ii", data, 4)


def fat_macho(slices):
    """A fat Mach-O file of thin ones, each at an offset aligned for its CPU."""
    header = struct.pack(">II", FAT_MAGIC, len(slices))
    entries, body = [], b""
    offset = len(header) + 20 * len(slices)
    for data in slices:
        cputype, cpusubtype = thin_macho(data)
        align = CPU_TYPES[cputype][1]
        start = -(-offset // (1 << align)) * (1 << align)
        body += b"\0" * (start - offset) + data
        entries.append(struct.pack(">iiIII", cputype, cpusubtype, start, len(data), align))
        offset = start + len(data)
    return header + b"".join(entries) + body


def record_hash(data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def fuse(wheels, tag, outdir):
    names = [os.path.basename(w) for w in wheels]
    stems = [n[: -len(".whl")].split("-") for n in names]
    if any(len(s) != 5 for s in stems) or len({tuple(s[:4]) for s in stems}) != 1:
        fail(f"the slices' wheels are not of one project, version and Python: {', '.join(names)}")
    contents, infos = [], {}
    for w in wheels:
        with zipfile.ZipFile(w) as z:
            contents.append({i.filename: z.read(i) for i in z.infolist() if not i.is_dir()})
            for i in z.infolist():
                infos.setdefault(i.filename, i)
    dist_info = next(n.split("/")[0] for n in contents[0] if n.endswith(".dist-info/WHEEL") and n.count("/") == 1)
    record, wheel_file = f"{dist_info}/RECORD", f"{dist_info}/WHEEL"
    paths = sorted(set().union(*contents) - {record, wheel_file})
    fused, fat = {}, []
    for path in paths:
        present = [c[path] for c in contents if path in c]
        if len(present) != len(contents):
            fail(f"{path} is in the wheels of some slices only ({', '.join(n for n, c in zip(names, contents) if path in c)})")
        if all(p == present[0] for p in present):
            fused[path] = present[0]
            continue
        machos = [thin_macho(p) for p in present]
        if None in machos:
            fail(f"{path} differs between the slices and is not a Mach-O file of each")
        cpus = [CPU_TYPES.get(m[0], (hex(m[0]),))[0] for m in machos]
        if len(set(cpus)) != len(cpus) or any(m[0] not in CPU_TYPES for m in machos):
            fail(f"{path}: the slices' files are for {', '.join(cpus)}, not one each of x86_64 and arm64")
        fused[path] = fat_macho(present)
        fat.append(f"{path} ({' + '.join(cpus)})")
    if not fat:
        fail("no Mach-O file differs between the slices: nothing to fuse (is the wheel pure Python?)")
    # WHEEL: the first slice's, with its tags for the fat platform.
    lines = contents[0][wheel_file].decode().splitlines()
    tags = []
    for line in lines:
        if line.startswith("Tag:"):
            python, abi, _ = line[4:].strip().split("-")
            if f"{python}-{abi}-{tag}" not in tags:
                tags.append(f"{python}-{abi}-{tag}")
    body = [line for line in lines if not line.startswith("Tag:")] + [f"Tag: {t}" for t in tags]
    fused[wheel_file] = ("\n".join(body) + "\n").encode()
    rows = [f"{p},{record_hash(d)},{len(d)}" for p, d in fused.items()] + [f"{record},,"]
    fused[record] = ("\n".join(rows) + "\n").encode()
    name = "-".join(stems[0][:4] + [tag]) + ".whl"
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, name)
    with zipfile.ZipFile(path + ".part", "w", zipfile.ZIP_DEFLATED) as z:
        # dist-info last, as wheel files keep it.
        for p in sorted(fused, key=lambda p: (p.startswith(dist_info + "/"), p == record, p)):
            # The first slice's date and mode (a reproducible build stays reproducible).
            first = infos.get(p)
            info = zipfile.ZipInfo(p, date_time=first.date_time if first else infos[wheel_file].date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = first.external_attr if first else 0o644 << 16
            z.writestr(info, fused[p])
    os.replace(path + ".part", path)
    log(f"fused {' + '.join(names)} into {name}: {'; '.join(fat)}")
    return path


def main():
    parser = argparse.ArgumentParser(prog="pookie-fuse-wheels")
    parser.add_argument("--tag", required=True, help="platform tag of the fused wheel")
    parser.add_argument("--outdir", required=True)
    parser.add_argument("wheels", nargs="+")
    args = parser.parse_args()
    if len(args.wheels) < 2:
        fail("fusing needs a wheel of each slice")
    fuse(args.wheels, args.tag, args.outdir)


if __name__ == "__main__":
    main()
