"""auditwheel for the target's architecture and libc, on whatever machine repairs the wheel.

auditwheel analyses a wheel by the architecture and libc it was built for (read from the wheel's
name and ELF files), but its command line offers only the policies of the machine it runs on:
on x86_64 with glibc, auditwheel 6.8.2 refuses `--plat manylinux_2_17_aarch64` and
`--plat musllinux_1_2_x86_64` ("invalid choice"). `--plat auto` would pick a tag by itself (a
musl wheel built on glibc came out as manylinux_2_17_aarch64), so pookie repairs cross-built
wheels with the exact policy by telling that command line the target's architecture and libc.
The analysis itself is auditwheel's, unchanged; pookie then checks the resulting tags.

usage: pookie-auditwheel PLATFORM_TAG AUDITWHEEL_ARGUMENTS...
"""

import sys

from auditwheel.architecture import Architecture
from auditwheel.libc import Libc

if len(sys.argv) < 3:
    sys.exit(__doc__)
platform = sys.argv.pop(1)
libc = Libc.MUSL if platform.startswith("musllinux_") else Libc.GLIBC
arch = next((a for a in Architecture if platform.endswith("_" + a.value)), None)
if arch is None:
    sys.exit(f"pookie-auditwheel: no architecture in the platform tag {platform!r}")
Libc.detect = staticmethod(lambda: libc)
Architecture.detect = staticmethod(lambda *args, **kwargs: arch)

from auditwheel.main import main  # noqa: E402  (after the patch: the parser is built from it)

sys.exit(main())
