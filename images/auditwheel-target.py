"""auditwheel for the target's architecture and libc, on whatever machine repairs the wheel.

auditwheel analyses a wheel by the architecture and libc it was built for (read from the wheel's
name and ELF files), but its command line offers only the policies of the machine it runs on:
on x86_64 with glibc, auditwheel 6.8.2 refuses `--plat manylinux_2_17_aarch64` and
`--plat musllinux_1_2_x86_64` ("invalid choice"). `--plat auto` would pick a tag by itself (a
musl wheel built on glibc came out as manylinux_2_17_aarch64), so pookie repairs cross-built
wheels with the exact policy by telling that command line the target's architecture and libc.
The analysis itself is auditwheel's, unchanged; pookie then checks the resulting tags.

musl: zig and Debian's musl-gcc link musl as `libc.so`; Alpine's toolchain, and so the musllinux
policy, names it `libc.musl-<arch>.so.1`. musl's loader resolves every `libc.*` name to itself,
so both load anywhere, but auditwheel knows only the policy's name: before a repair, the
extension modules of a musllinux wheel get that name (in a copy; auditwheel rewrites RECORD).

usage: pookie-auditwheel PLATFORM_TAG AUDITWHEEL_ARGUMENTS...
"""

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

from auditwheel.architecture import Architecture
from auditwheel.libc import Libc

# auditwheel's own names for musl's libc (policy/__init__.py, _fixup_musl_libc_soname).
MUSL_SONAME = {"x86_64": "libc.musl-x86_64.so.1", "aarch64": "libc.musl-aarch64.so.1",
               "armv7l": "libc.musl-armv7.so.1", "i686": "libc.musl-x86.so.1", "ppc64le": "libc.musl-ppc64le.so.1",
               "s390x": "libc.musl-s390x.so.1", "riscv64": "libc.musl-riscv64.so.1"}


def with_policy_libc_name(wheel, soname, workdir):
    """A copy of `wheel` whose ELF files need `soname` where they needed `libc.so`."""
    out = os.path.join(workdir, os.path.basename(wheel))
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if data[:4] == b"\x7fELF":
                path = os.path.join(workdir, "member")
                with open(path, "wb") as f:
                    f.write(data)
                needed = subprocess.run(["patchelf", "--print-needed", path], check=True, capture_output=True, text=True)
                if "libc.so" in needed.stdout.split():
                    subprocess.run(["patchelf", "--replace-needed", "libc.so", soname, path], check=True)
                    with open(path, "rb") as f:
                        data = f.read()
            dst.writestr(info, data)
    return out


if len(sys.argv) < 3:
    sys.exit(__doc__)
platform = sys.argv.pop(1)
libc = Libc.MUSL if platform.startswith("musllinux_") else Libc.GLIBC
arch = next((a for a in Architecture if platform.endswith("_" + a.value)), None)
if arch is None:
    sys.exit(f"pookie-auditwheel: no architecture in the platform tag {platform!r}")
Libc.detect = staticmethod(lambda: libc)
Architecture.detect = staticmethod(lambda *args, **kwargs: arch)

workdir = tempfile.mkdtemp(prefix="pookie-auditwheel-")
if libc == Libc.MUSL and sys.argv[1] == "repair" and arch.value in MUSL_SONAME:
    sys.argv = [a if not a.endswith(".whl") else with_policy_libc_name(a, MUSL_SONAME[arch.value], workdir) for a in sys.argv]

from auditwheel.main import main  # noqa: E402  (after the patch: the parser is built from it)

try:
    code = main()
finally:
    shutil.rmtree(workdir, ignore_errors=True)
sys.exit(code)
