#!/usr/bin/env bash
# Builds and tests real projects from PyPI with pookie's defaults: each project's sdist (its
# sha256 checked against PyPI's), its own test suite, for the Linux targets in cross and emulate
# mode; prints a table: project × target × mode: build, tests, time.
#
# usage: scripts/corpus.sh [PROJECT...]   (after `scripts/setup.sh --tests`)
#   CORPUS_DIR      where sdists, projects and reports go (default /var/tmp/pookie-corpus)
#   CORPUS_TARGETS  default: manylinux_2_17_x86_64 manylinux_2_17_aarch64 manylinux_2_17_armv7l musllinux_1_2_x86_64;
#                   also: manylinux_2_17_i686, manylinux_2_31_riscv64 (cross mode only) and
#                   musllinux_1_2_aarch64, tested on the CPythons of scripts/setup.sh's images
#   CORPUS_MODES    modes of the non-native targets (default: cross emulate)
#   POOKIE_BIN      the pookie to run (default: target/debug/pookie)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pookie=${POOKIE_BIN:-$here/../target/debug/pookie}
work=${CORPUS_DIR:-/var/tmp/pookie-corpus}
targets=${CORPUS_TARGETS:-manylinux_2_17_x86_64 manylinux_2_17_aarch64 manylinux_2_17_armv7l musllinux_1_2_x86_64}
modes=${CORPUS_MODES:-cross emulate}
cache=${POOKIE_CI_CACHE:-/var/cache/pookie-ci}
mkdir -p "$work/sdists"

# name | version | kind | test command ({project} is the sdist's tree) | test requirements
PROJECTS='
bitarray|3.12.3|C|python -c "import bitarray, sys; sys.exit(not bitarray.test().wasSuccessful())"|
ujson|6.1.0|C + bundled C++ (double-conversion)|python -m pytest -q -p no:cacheprovider --import-mode=importlib {project}/tests/test_ujson.py|pytest
pysimdjson|7.0.2|C++ (simdjson) + Cython (its sdist lacks the data of its tests: parse and query)|python -c "import json, simdjson; doc = dict(a=[1, 2.5, dict(b=None)]); d = simdjson.Parser().parse(json.dumps(doc).encode()); assert d.at_pointer(chr(47) + chr(97) + chr(47) + chr(49)) == 2.5 and d.as_dict() == doc"|
bottleneck|1.6.1|numpy C API|python -m pytest -q -p no:cacheprovider --pyargs bottleneck|pytest numpy
msgpack|1.2.4|Cython|python -m pytest -q -p no:cacheprovider --import-mode=importlib {project}/test|pytest
frozenlist|1.8.0|Cython, in-tree backend|python -m pytest -q -p no:cacheprovider --import-mode=importlib -o addopts= {project}/tests|pytest
levenshtein|0.27.5|scikit-build-core, CMake, Cython, C++|python -m pytest -q -p no:cacheprovider --import-mode=importlib {project}/tests|pytest
pywavelets|1.8.0|meson-python, Cython, numpy C API|python -m pytest -q -p no:cacheprovider -m "not slow" --pyargs pywt|pytest
contourpy|1.3.2|meson-python, pybind11, C++|python -m pytest -q -p no:cacheprovider --import-mode=importlib -o addopts= -m "not image" {project}/tests/test_minimal.py {project}/tests/test_constructor.py {project}/tests/test_array.py {project}/tests/test_chunk.py {project}/tests/test_z_interp.py|pytest
regex|2026.11.19|C|python -m unittest -q regex.tests.test_regex|
markupsafe|3.0.4|C|python -m pytest -q -p no:cacheprovider --import-mode=importlib {project}/tests|pytest
'

# fetch NAME VERSION: the sdist, verified by the sha256 PyPI lists for it.
fetch() {
    python3 - "$1" "$2" "$work/sdists" <<'PY'
import hashlib, json, os, sys, urllib.parse, urllib.request
name, version, dest = sys.argv[1:]
url = f"https://pypi.org/pypi/{name}/json"
info = json.load(urllib.request.urlopen(url, timeout=60))
[sdist] = [u for u in info["releases"][version] if u["packagetype"] == "sdist"]
path = os.path.join(dest, sdist["filename"])
if not os.path.isfile(path) or hashlib.sha256(open(path, "rb").read()).hexdigest() != sdist["digests"]["sha256"]:
    data = urllib.request.urlopen(urllib.parse.urljoin(url, sdist["url"]), timeout=300).read()
    if hashlib.sha256(data).hexdigest() != sdist["digests"]["sha256"]:
        sys.exit(f"{sdist['filename']}: sha256 differs from PyPI's")
    open(path, "wb").write(data)
print(path)
PY
}

# The pookie.toml of a target: its Python and images (those scripts/setup.sh --tests makes).
# Emulate mode builds with the image's gcc, which links Debian 12's glibc 2.36 and libstdc++:
# its wheels meet manylinux_2_36 (manylinux_2_17 needs zig, as in cross mode, or a manylinux image).
config() { # config TARGET MODE TEST REQUIRES
    local target=$1 mode=$2 test=$3 requires=$4 reqs="" policy=2_17
    for r in $requires; do reqs="$reqs\"$r\", "; done
    [ "$mode" = emulate ] && policy=2_36 && target=${target/manylinux_2_17_/manylinux_2_36_}
    printf 'targets = ["%s"]\ntest = %s\ntest-requires = [%s]\ntimeout = "40m"\n[linux]\nnon-native-mode = "%s"\nmanylinux = "%s"\n' \
        "$target" "$(python3 -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$test")" "$reqs" "$mode" "$policy"
    case $target in
        manylinux_2_17_x86_64)
            printf '[python]\nsource = "image"\nversions = ["3.13"]\n[images]\nlinux-x86_64 = "debian-pythons:sid"\n' ;;
        musllinux_*)
            printf '[python]\nversions = ["3.11"]\n[images]\nmusllinux-x86_64 = "debian-musl:trixie"\n'
            printf 'linux-x86_64 = "debian:bookworm-slim"\nmusllinux-aarch64 = "debian-musl:trixie-arm64"\n' ;;
        manylinux_2_17_i686)
            printf '[python]\nsource = "image"\nversions = ["3.11"]\n[images]\nlinux-x86_64 = "debian:bookworm-slim"\n'
            printf 'linux-i686 = "debian-pythons:bookworm-i386"\n' ;;
        manylinux_2_31_riscv64)
            printf '[python]\nsource = "image"\nversions = ["3.13"]\n[images]\nlinux-x86_64 = "debian-pythons:sid"\n'
            printf 'linux-riscv64 = "debian-pythons:trixie-riscv64"\n' ;;
        *)
            printf '[python]\nsource = "image"\nversions = ["3.11"]\n[images]\nlinux-x86_64 = "debian:bookworm-slim"\n'
            printf 'linux-aarch64 = "debian-pythons:bookworm-arm64"\nlinux-armv7l = "debian-pythons:bookworm-armhf"\n' ;;
    esac
}

want=("$@")
rows=()
while IFS='|' read -r name version kind test requires; do
    [ -n "$name" ] || continue
    if [ ${#want[@]} -gt 0 ] && [[ ! " ${want[*]} " =~ " $name " ]]; then continue; fi
    sdist=$(fetch "$name" "$version")
    for target in $targets; do
        # i686 builds are cross builds in both modes; riscv64's and musl aarch64's images have no
        # compiler for emulate mode.
        case $target in
            manylinux_2_17_x86_64 | musllinux_1_2_x86_64) target_modes=native ;;
            manylinux_2_17_i686 | manylinux_2_31_riscv64 | musllinux_1_2_aarch64) target_modes=cross ;;
            *) target_modes=$modes ;;
        esac
        for mode in $target_modes; do
            dir=$work/$name-$target-$mode
            rm -rf "$dir" && mkdir -p "$dir"
            tar -xzf "$sdist" -C "$dir" --strip-components=1
            config "$target" "${mode/native/cross}" "$test" "$requires" > "$dir/pookie.toml"
            started=$EPOCHREALTIME
            # The musl CPython comes from the mirror setup.sh made: the user's to name, not the project's.
            POOKIE_PYTHON_MIRROR=$cache/python-mirror "$pookie" run --workspace "$dir" --report "$dir/report.json" > "$dir/pookie.out" 2>&1 || true
            took=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
            status() { jq -r --arg s "$1" '[.nodes[] | select(.kind == "job" and .stage == $s)][0] | if . == null then "-" else .status + (if .status == "failed" then ": " + (.reason // "" | .[0:70]) else "" end) end' "$dir/report.json" 2>/dev/null || echo "no report"; }
            rows+=("$(printf '%-12s %-8s %-24s %-8s %-10s %-8s %s' "$name" "$version" "$target" "$mode" "$(status test | cut -c1-10)" "${took}s" "$(status build)")")
            echo "${rows[-1]}"
        done
    done
done <<< "$PROJECTS"

echo
printf '%-12s %-8s %-24s %-8s %-10s %-8s %s\n' PROJECT VERSION TARGET MODE TESTS TIME BUILD
printf '%s\n' "${rows[@]}"
