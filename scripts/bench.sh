#!/usr/bin/env bash
# Benchmark of `pookie run` on the fixture matrix (tests/fixtures/project: a C and a C++ module):
# manylinux_2_17_x86_64 × CPython 3.13, 3.14, 3.15 = 3 builds + 3 tests, on a warm image cache.
# Prints the wall time with -j1 and -j2 and their ratio, and pookie's overhead per job: the time
# from the job's start to the user's command starting, plus the time after it (repair,
# collection, container teardown).
#
# Needs the engine and the image that scripts/setup.sh makes (override with BENCH_IMAGE).
# Usage: scripts/bench.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
image=${BENCH_IMAGE:-debian-pythons:sid}
versions=${BENCH_VERSIONS:-'"3.13", "3.14", "3.15"'}

cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
pookie=$repo/target/release/pookie
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$repo/tests/fixtures/project" "$work/project"
cat > "$work/project/pookie.toml" <<TOML
targets = ["manylinux_2_17_x86_64"]
test = "python -m unittest discover -s {project}/tests"
[python]
source = "image"
versions = [$versions]
[images]
linux-x86_64 = "$image"
TOML

echo "warming the image cache…"
"$pookie" images --workspace "$work/project" > /dev/null

run() { # run JOBS REPORT → prints seconds
    local start end
    start=$(date +%s.%N)
    "$pookie" run --workspace "$work/project" -j "$1" --report "$2" > "$work/run-$1.out" 2>&1 \
        || { cat "$work/run-$1.out" >&2; echo "pookie run -j$1 failed" >&2; exit 1; }
    end=$(date +%s.%N)
    python3 -c "print($end - $start)"
}

t1=$(run 1 "$work/j1.json")
t2=$(run 2 "$work/j2.json")

python3 - "$work" "$t1" "$t2" <<'PY'
import json, re, sys
from pathlib import Path

work, t1, t2 = Path(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
report = json.loads((work / "j2.json").read_text())
jobs = [n for n in report["nodes"] if n["kind"] == "job"]
print(f"matrix: {len(jobs)} jobs ({sum(j['stage'] == 'build' for j in jobs)} builds, "
      f"{sum(j['stage'] == 'test' for j in jobs)} tests), warm image cache")
print(f"wall time  -j1: {t1:6.1f} s   -j2: {t2:6.1f} s   ratio -j1/-j2: {t1 / t2:.2f}")
marker = re.compile(r"::pookie:: \[([0-9.]+)\] (.*)")
print("per-job overhead (job start → user's command, and after it):")
total = []
for j in jobs:
    steps = [(float(t), what) for t, what in marker.findall((work / "project" / j["log"]).read_text())]
    start, end = j["started_at"], j["started_at"] + j["seconds"]
    first = next(t for t, what in steps if what.startswith(("build:", "test")) and "done" not in what)
    done = next(t for t, what in steps if what.endswith("command done"))
    before, after = first - start, end - done
    total.append(before + after)
    print(f"  {j['build_id']:<30} {j['stage']:<5}  before {before:5.2f} s  after {after:5.2f} s  "
          f"command {done - first:5.2f} s")
print(f"mean overhead per job: {sum(total) / len(total):.2f} s")
PY
