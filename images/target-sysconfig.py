"""Writes the target CPython's sysconfig data into the build interpreter's standard library, as
the module `_sysconfigdata__pookie_target` that cross jobs select with _PYTHON_SYSCONFIGDATA_NAME
(see cross-python.sh). Every config var a build backend reads is then the target's: EXT_SUFFIX
names the extension files, SOABI the wheel's ABI tag, INCLUDEPY the headers, CC and LDSHARED the
compiler and how extensions link.

- linux, macos: the target's own sysconfig data (its `_sysconfigdata_*.py`), checked to be of
  the requested version and GNU type, with its include paths pointed here and its compilers
  replaced by zig's. macOS keeps its link flags (`-bundle -undefined dynamic_lookup`: no
  libpython load command; zig-cc links the bundle); `-arch`, `-isysroot` and
  `-mmacosx-version-min` go, as zig's target (`-target aarch64-macos.11.0`) says all of that.
- windows: a Windows CPython has no sysconfig data; its sysconfig computes a few variables at
  run time (sysconfig._init_non_posix: EXT_SUFFIX, SOABI, INCLUDEPY, LIBDIR, VERSION without a
  dot, ...). Those are written with the values they have on Windows, plus the compiler variables
  a POSIX build backend reads (CC, LDSHARED, ...): extensions link against the target's import
  library of python3XY.dll.

usage: target-sysconfig.py OS TARGET_DIR VERSION GNU_TYPE_PATTERN
"""

import fnmatch
import os
import pprint
import re
import runpy
import sys
import sysconfig

os_name, target, version, gnu_type = sys.argv[1:]
include = f"{target}/include"
# `3.13t` names the free-threaded build: its ABI tag, DLL and import library end in `t`.
minor, free_threaded = version.removesuffix("t"), version.endswith("t")
nodot = version.replace(".", "")


def die(message):
    sys.exit(f"pookie: {message}")


def posix_vars():
    data = runpy.run_path(f"{target}/sysconfigdata.py")["build_time_vars"]
    if data.get("VERSION") != minor or bool(data.get("Py_GIL_DISABLED")) != free_threaded:
        die(f"the target's sysconfig data is of Python {data.get('VERSION')}{data.get('ABIFLAGS', '')}, not {version}")
    if not fnmatch.fnmatch(data.get("HOST_GNU_TYPE", ""), gnu_type):
        die(f"the target's Python was built for {data.get('HOST_GNU_TYPE')}, not {gnu_type}: check its image or archive")
    old = data["prefix"].rstrip("/") + "/include"
    return {k: v.replace(old, include) if isinstance(v, str) else v for k, v in data.items()}


def linux():
    data = posix_vars()
    # Its own compilers (aarch64-linux-gnu-gcc, python-build-standalone's clang) are not here.
    data.update(CC="zig-cc", CXX="zig-c++", LDSHARED="zig-cc -shared", LDCXXSHARED="zig-c++ -shared", AR="zig-ar")
    return data


APPLE_ONLY = re.compile(r"\s*(-arch\s+\S+|-isysroot\s+\S+|-mmacosx-version-min=\S+)")


def macos():
    data = posix_vars()

    def zig(value, compiler):
        # `clang -bundle ...` -> `zig-cc -bundle ...`: the flags stay, the compiler is zig's.
        rest = value.split(None, 1)[1] if " " in value.strip() else ""
        return f"{compiler} {rest}".strip()

    for key in ("CC", "LDSHARED", "BLDSHARED", "LINKCC"):
        if key in data:
            data[key] = zig(data[key], "zig-cc")
    for key in ("CXX", "LDCXXSHARED"):
        if key in data:
            data[key] = zig(data[key], "zig-c++")
    data["AR"] = "zig-ar"
    for key, value in data.items():
        if isinstance(value, str) and ("FLAGS" in key or key.endswith("SHARED") or key in ("CC", "CXX", "LINKCC")):
            data[key] = APPLE_ONLY.sub("", value).strip()
    if "-undefined dynamic_lookup" not in data["LDSHARED"]:
        die(f"the target's LDSHARED ({data['LDSHARED']}) does not link with -undefined dynamic_lookup")
    return data


def windows():
    # The layer's TARGET_PLATFORM (win-amd64, win-arm64), as the tags write it.
    platform = os.environ.get("TARGET_PLATFORM", "win-amd64").replace("-", "_")
    if not os.path.isfile(f"{include}/Python.h") or not os.path.isfile(f"{include}/pyconfig.h"):
        die("the Windows archive has no include/Python.h and include/pyconfig.h")
    patchlevel = open(f"{include}/patchlevel.h").read()
    found = re.search(r'#define PY_VERSION\s+"(\d+)\.(\d+)', patchlevel)
    if not found or f"{found[1]}.{found[2]}" != minor:
        die(f"the Windows archive's headers are not of Python {version}")
    libs = f"{target}/libs"
    if not os.path.isfile(f"{libs}/python{nodot}.lib"):
        die(f"the Windows archive has no libs/python{nodot}.lib (the import library of python{nodot}.dll)")
    return {
        # What sysconfig says on Windows (no Py_ENABLE_SHARED: with it, setuptools would take
        # the cross build for Android or Cygwin and add -lpython3.13).
        "EXT_SUFFIX": f".cp{nodot}-{platform}.pyd",
        "SOABI": f"cp{nodot}-{platform}",
        "Py_GIL_DISABLED": int(free_threaded),
        "ABIFLAGS": "t" if free_threaded else "",
        "INCLUDEPY": include,
        "CONFINCLUDEPY": include,
        "LIBDIR": libs,
        "LIBRARY": f"python{nodot}.dll",
        "LDLIBRARY": f"python{nodot}.dll",
        "EXE": ".exe",
        "VERSION": nodot,
        "MACHDEP": "win32",
        "TZPATH": "",
        # How a POSIX build backend compiles and links for it: against python3XY.lib, as MinGW
        # builds link -lpython3.X; -s, without debug information (no PDB file in the wheel).
        "CC": "zig-cc",
        "CXX": "zig-c++",
        "CFLAGS": "-DNDEBUG",
        "CCSHARED": "",
        "LDSHARED": f"zig-cc -shared -s -L{libs} -lpython{nodot}",
        "LDCXXSHARED": f"zig-c++ -shared -s -L{libs} -lpython{nodot}",
        "SHLIB_SUFFIX": ".dll",
        "AR": "zig-ar",
        "ARFLAGS": "rcs",
    }


data = {"linux": linux, "macos": macos, "windows": windows}[os_name]()
dest = os.path.join(sysconfig.get_path("stdlib"), "_sysconfigdata__pookie_target.py")
with open(dest, "w") as f:
    f.write("# The target's sysconfig data, for cross builds (written by pookie).\n")
    f.write("build_time_vars = " + pprint.pformat(data) + "\n")
print(f"target {os_name} Python {version}: EXT_SUFFIX {data['EXT_SUFFIX']}, module {dest}")
