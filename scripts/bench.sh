#!/usr/bin/env bash
# Benchmark of `pookie run` on the fixture matrix (tests/fixtures/project: a C and a C++ module):
# manylinux_2_17_x86_64 × CPython 3.13, 3.14, 3.15 = 3 builds + 3 tests, on a warm image cache.
# Prints, from one run of this script:
# - the wall time with -j1 and -j2 (every job forced to run) and their ratio;
# - pookie's overhead per job: from the job's start to the user's command starting, plus the
#   time after it (repair, collection, container teardown);
# - a warm re-run with nothing changed (every job cached, no container) and a re-run after
#   touching one C file;
# - `pookie plan` on 10 targets × 6 Pythons (the recorded python-build-standalone release);
# - the standard matrix (bitarray: x86_64 + aarch64 cross × CPython 3.13, 3.14) beside its floor;
# - zig's runtime for aarch64 on first use (an empty zig cache): a C project's build and a C++
#   project's, cold and warm;
# - the aarch64 build of the fixture (CPython 3.11) in cross mode (zig on this CPU) and in
#   emulate mode (gcc under QEMU), each forced on warm images, and the ratio emulate/cross;
# - its test job with pytest as a test requirement: installed natively (cross and emulate mode)
#   vs by pip under QEMU (forced by a before-test), time until the tests start;
#   the same for a scikit-build-core + pybind11 (CMake) and a numpy C API fixture;
# - a cold run of the fixture (x86_64 × 2 Pythons) on a fresh engine (a second dockerd with an
#   empty image store) with an empty pookie cache: without the cache registry, and with one that
#   another machine's run filled;
# - a 12-job matrix (manylinux_2_17 and _2_28 x86_64 × 3 Pythons) on one engine vs a pool of two
#   (a second dockerd on this machine as the pool's engine).
#
# Needs the engine, QEMU and the images that scripts/setup.sh makes (override with BENCH_IMAGE,
# BENCH_X86_64_IMAGE and BENCH_ARM64_IMAGE).
# Usage: scripts/bench.sh   (BENCH_ONLY_BACKENDS=1: only the build-backend comparison;
#                            BENCH_ONLY_STANDARD=1: only the standard matrix;
#                            BENCH_ONLY_FRESH=1: only the fresh engine's cold runs;
#                            BENCH_ONLY_POOL=1: only one engine vs a pool of two)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
image=${BENCH_IMAGE:-debian-pythons:sid}
versions=${BENCH_VERSIONS:-'"3.13", "3.14", "3.15"'}

cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
pookie=$repo/target/release/pookie
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A job cache of its own: results of earlier benchmark runs must not count.
export POOKIE_CACHE_DIR=$work/cache

# fetch_bitarray DIR: bitarray 3.12.3's sdist from PyPI, its sha256 checked; prints its path.
fetch_bitarray() {
    python3 - "$1" <<'PY'
import hashlib, json, os, sys, urllib.parse, urllib.request
url = "https://pypi.org/pypi/bitarray/json"
[sdist] = [u for u in json.load(urllib.request.urlopen(url, timeout=60))["releases"]["3.12.3"] if u["packagetype"] == "sdist"]
data = urllib.request.urlopen(urllib.parse.urljoin(url, sdist["url"]), timeout=300).read()
if hashlib.sha256(data).hexdigest() != sdist["digests"]["sha256"]:
    sys.exit(f"{sdist['filename']}: sha256 differs from PyPI's")
path = os.path.join(sys.argv[1], sdist["filename"])
open(path, "wb").write(data)
print(path)
PY
}

# A fresh machine: a second dockerd (its own socket, data root and bridge, no NAT: it leaves the
# first daemon's bridge and iptables rules alone), the base image loaded as a runner pulls it,
# and an empty pookie cache. The fixture's cold run there without the cache registry, then, on
# another such engine, with a registry (Debian's docker-registry on loopback) that a run on the
# first engine filled with its layers and job results.
if [ -n "${BENCH_ONLY_FRESH:-}${BENCH_ONLY_POOL:-}" ] || [ -z "${BENCH_ONLY_BACKENDS:-}${BENCH_ONLY_STANDARD:-}" ]; then
fresh_dir=$work/fresh
mkdir -p "$fresh_dir"
cp -r "$repo/tests/fixtures/project" "$fresh_dir/project"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$fresh_dir/registry.yml" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $fresh_dir/registry
http:
  addr: 127.0.0.1:$port
YML
/usr/bin/docker-registry serve "$fresh_dir/registry.yml" > "$fresh_dir/registry.log" 2>&1 &
registry_pid=$!
bridge=pookie-bench$$
bridge=${bridge:0:15}
engine_pid=
stop_engine() {
    if [ -n "$engine_pid" ]; then
        kill "$engine_pid" 2>/dev/null && wait "$engine_pid" 2>/dev/null || true
        engine_pid=
    fi
}
subnet=10.198.$(($$ % 250)).0/24
# The fresh engine's containers reach the network (pip, in its cold run) through rules of our
# own: its dockerd is told to leave iptables alone, which the first daemon's rules live in.
unnat() {
    iptables -t nat -D POSTROUTING -s "$subnet" ! -o "$bridge" -j MASQUERADE 2>/dev/null || true
    iptables -D FORWARD -i "$bridge" -j ACCEPT 2>/dev/null || true
    iptables -D FORWARD -o "$bridge" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT 2>/dev/null || true
}
trap 'stop_engine; kill "$registry_pid" 2>/dev/null; unnat; ip link del "$bridge" 2>/dev/null; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"' EXIT
ip link add "$bridge" type bridge && ip addr add "${subnet%.0/24}.1/24" dev "$bridge" && ip link set "$bridge" up
iptables -t nat -I POSTROUTING -s "$subnet" ! -o "$bridge" -j MASQUERADE
iptables -I FORWARD -i "$bridge" -j ACCEPT
iptables -I FORWARD -o "$bridge" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
start_engine() { # start_engine DIR: a fresh dockerd in DIR, with the base image loaded
    rm -rf "$1" && mkdir -p "$1"
    dockerd --host "unix://$1/docker.sock" --data-root "$1/data" --exec-root "$1/exec" --pidfile "$1/docker.pid" \
        --bridge "$bridge" --iptables=false --ip-masq=false > "$1/dockerd.log" 2>&1 &
    engine_pid=$!
    local i
    for i in $(seq 100); do DOCKER_HOST="unix://$1/docker.sock" docker info > /dev/null 2>&1 && break; sleep 0.1; done
    docker save "$image" | DOCKER_HOST="unix://$1/docker.sock" docker load -q > /dev/null
}
fresh_toml() { # fresh_toml [REGISTRY]
    printf 'targets = ["manylinux_2_17_x86_64"]\ntest = "python -m unittest discover -s {project}/tests"\n'
    [ -z "${1:-}" ] || printf '[caches]\nregistry = "%s"\n' "$1"
    printf '[python]\nsource = "image"\nversions = ["3.13", "3.14"]\n[images]\nlinux-x86_64 = "%s"\n' "$image"
}
fresh_run() { # fresh_run NAME [REGISTRY] → the wall seconds of a cold run on a fresh engine
    # (its output goes beside the project: a file in it would change the jobs' keys)
    local dir=$fresh_dir/$1 start end
    cp -r "$fresh_dir/project" "$dir"
    fresh_toml "${2:-}" > "$dir/pookie.toml"
    start_engine "$fresh_dir/engine-$1"
    start=$(date +%s.%N)
    DOCKER_HOST="unix://$fresh_dir/engine-$1/docker.sock" POOKIE_CACHE_DIR="$fresh_dir/cache-$1" \
        "$pookie" run --workspace "$dir" --report "$fresh_dir/$1.json" > "$fresh_dir/$1.out" 2>&1 \
        || { cat "$fresh_dir/$1.out" >&2; echo "the fresh engine's run ($1) failed" >&2; exit 1; }
    end=$(date +%s.%N)
    stop_engine
    python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$end"
}
# One engine vs a pool of two: the 12-job matrix forced to run (every job; layers warm), on this
# engine alone (-j 2), then with a second engine (2 slots) in the pool, three times: a first run
# that sends it the layers, and two more (each engine has its own caches, zig's runtime for a
# glibc included: a job placed on an engine that has not built its target yet pays that once).
if [ -z "${BENCH_ONLY_FRESH:-}" ]; then
pool_dir=$fresh_dir/pool
cp -r "$fresh_dir/project" "$pool_dir"
printf 'targets = ["manylinux_2_17_x86_64", "manylinux_2_28_x86_64"]\ntest = "python -m unittest discover -s {project}/tests"\n[python]\nsource = "image"\nversions = ["3.13", "3.14", "3.15"]\n[images]\nlinux-x86_64 = "%s"\n' "$image" > "$pool_dir/pookie.toml"
pool_run() { # pool_run NAME → wall seconds of the forced matrix (MACHINE: the machine file)
    local start end
    start=$(date +%s.%N)
    POOKIE_CONFIG=$fresh_dir/$1.toml POOKIE_CACHE_DIR="$fresh_dir/cache-pool" \
        "$pookie" run -j 2 --force '*' --workspace "$pool_dir" --report "$fresh_dir/$1.json" > "$fresh_dir/$1.out" 2>&1 \
        || { cat "$fresh_dir/$1.out" >&2; echo "the pool's run ($1) failed" >&2; exit 1; }
    end=$(date +%s.%N)
    python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$end"
}
: > "$fresh_dir/one.toml"
POOKIE_CONFIG=$fresh_dir/one.toml POOKIE_CACHE_DIR="$fresh_dir/cache-pool" "$pookie" run --workspace "$pool_dir" \
    > "$fresh_dir/pool-warm.out" 2>&1 || { cat "$fresh_dir/pool-warm.out" >&2; exit 1; }
one=$(pool_run one)
start_engine "$fresh_dir/engine-pool"
printf '[[engines]]\nname = "second"\nhost = "unix://%s/docker.sock"\nslots = 2\n' "$fresh_dir/engine-pool" > "$fresh_dir/two.toml"
cp "$fresh_dir/two.toml" "$fresh_dir/two-first.toml"
cp "$fresh_dir/two.toml" "$fresh_dir/two-second.toml"
two_first=$(pool_run two-first)
two_second=$(pool_run two-second)
two=$(pool_run two)
stop_engine
python3 - "$one" "$two_first" "$two_second" "$two" "$fresh_dir/two.json" <<'PY'
import json, sys
one, first, second, two = map(float, sys.argv[1:5])
report = json.load(open(sys.argv[5]))
jobs = [n for n in report["nodes"] if n["kind"] == "job"]
on = {e: sum(1 for n in jobs if n.get("engine") == e) for e in ("default", "second")}
mean = lambda e: sum(n["seconds"] for n in jobs if n.get("engine") == e and n["stage"] == "build") / max(1, sum(1 for n in jobs if n.get("engine") == e and n["stage"] == "build"))
print(f"12-job matrix, every job run: one engine {one:5.1f} s; a pool of two {two:5.1f} s "
      f"({on['default']} jobs on the default engine, {on['second']} on the second; builds {mean('default'):.1f} s / "
      f"{mean('second'):.1f} s on average; earlier pool runs: {first:5.1f} s sending the layers, then {second:5.1f} s); "
      f"two/one {two / one:.2f}x (both engines share this machine's 2 cores: the figure is the pool's overhead, not a speedup)")
PY
[ -z "${BENCH_ONLY_POOL:-}" ] || exit 0
fi

# The first machine: this engine, its own cache, filling the registry.
cp -r "$fresh_dir/project" "$fresh_dir/first"
fresh_toml "127.0.0.1:$port/pookie-cache" > "$fresh_dir/first/pookie.toml"
POOKIE_CACHE_DIR="$fresh_dir/cache-first" "$pookie" run --workspace "$fresh_dir/first" > "$fresh_dir/first.out" 2>&1 \
    || { cat "$fresh_dir/first.out" >&2; echo "the first machine's run failed" >&2; exit 1; }
without=$(fresh_run without)
with=$(fresh_run with "127.0.0.1:$port/pookie-cache")
python3 - "$without" "$with" "$fresh_dir/with.json" <<'PY'
import json, sys
without, with_, report = float(sys.argv[1]), float(sys.argv[2]), json.load(open(sys.argv[3]))
def said(kind):
    nodes = [n["status"] for n in report["nodes"] if n["kind"] == kind]
    return ", ".join(f"{nodes.count(s)} {s}" for s in sorted(set(nodes)))
print(f"fresh engine, cold run (x86_64 x 2 Pythons): without the cache registry {without:5.1f} s, "
      f"with a warm one {with_:5.1f} s (layers: {said('image')}; jobs: {said('job')})")
PY
fi
[ -z "${BENCH_ONLY_FRESH:-}" ] || exit 0

# BENCH_ONLY_BACKENDS=1: the build-backend comparison below alone; BENCH_ONLY_STANDARD=1: the
# standard matrix alone.
if [ -z "${BENCH_ONLY_BACKENDS:-}${BENCH_ONLY_STANDARD:-}" ]; then
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

run() { # run JOBS REPORT [FLAGS...] → prints seconds
    local start end
    start=$(date +%s.%N)
    local jobs=$1 report=$2
    shift 2
    "$pookie" run --workspace "$work/project" -j "$jobs" --report "$report" "$@" > "$work/run.out" 2>&1 \
        || { cat "$work/run.out" >&2; echo "pookie run -j$jobs $* failed" >&2; exit 1; }
    end=$(date +%s.%N)
    python3 -c "print($end - $start)"
}

# zig builds its runtime for a target on first use, into the cache (the cold cost is measured
# below): a first run, untimed, as a user's machine has it after its first build.
run 2 "$work/first.json" --force > /dev/null
t1=$(run 1 "$work/j1.json" --force)
t2=$(run 2 "$work/j2.json" --force)
# The overhead is read from this run's logs; later runs rewrite them.
cp -r "$work/project/.pookie/logs" "$work/j2-logs"
warm=$(run 2 "$work/warm.json")
echo "/* touched $(date +%s.%N) */" >> "$work/project/src/fixturepkg/_cmod.c"
touched=$(run 2 "$work/touched.json")

mkdir -p "$work/plan"
cat > "$work/plan/pookie.toml" <<TOML
test = "python -m pytest"
[python]
versions = ["3.10", "3.11", "3.12", "3.13", "3.14", "3.15"]
prereleases = true
TOML
export POOKIE_PYTHON_MIRROR=$repo/tests/fixtures/pbs-20260814
plan_ms=$(python3 - "$pookie" "$work/plan" <<'PY'
import subprocess, sys, time
best = None
for _ in range(20):
    t = time.perf_counter()
    subprocess.run([sys.argv[1], "plan", "--workspace", sys.argv[2]], check=True, stdout=subprocess.DEVNULL)
    best = min(best or 1e9, time.perf_counter() - t)
print(f"{best * 1000:.1f}")
PY
)

python3 - "$work" "$t1" "$t2" "$warm" "$touched" "$plan_ms" <<'PY'
import json, re, sys
from pathlib import Path

work, t1, t2, warm, touched, plan_ms = Path(sys.argv[1]), *map(float, sys.argv[2:])
report = json.loads((work / "j2.json").read_text())
jobs = [n for n in report["nodes"] if n["kind"] == "job"]
print(f"matrix: {len(jobs)} jobs ({sum(j['stage'] == 'build' for j in jobs)} builds, "
      f"{sum(j['stage'] == 'test' for j in jobs)} tests), warm image cache")
print(f"wall time  -j1: {t1:6.1f} s   -j2: {t2:6.1f} s   ratio -j1/-j2: {t1 / t2:.2f}")
marker = re.compile(r"::pookie:: \[([0-9.]+)\] (.*)")
print("per-job overhead (job start → user's command, and after it):")
total = []
for j in jobs:
    steps = [(float(t), what) for t, what in marker.findall((work / "j2-logs" / Path(j["log"]).name).read_text())]
    start, end = j["started_at"], j["started_at"] + j["seconds"]
    first = next(t for t, what in steps if what.startswith(("build:", "test")) and "done" not in what)
    done = next(t for t, what in steps if what.endswith("command done"))
    before, after = first - start, end - done
    total.append(before + after)
    print(f"  {j['build_id']:<30} {j['stage']:<5}  before {before:5.2f} s  after {after:5.2f} s  "
          f"command {done - first:5.2f} s")
print(f"mean overhead per job: {sum(total) / len(total):.2f} s")

def statuses(name):
    nodes = json.loads((work / name).read_text())["nodes"]
    return sorted({n["status"] for n in nodes if n["kind"] == "job"})
print(f"warm re-run, nothing changed: {warm:5.1f} s  (jobs: {', '.join(statuses('warm.json'))})")
print(f"re-run after touching one C file: {touched:5.1f} s  (jobs: {', '.join(statuses('touched.json'))})")
print(f"pookie plan, 10 targets × 6 Pythons: {plan_ms:.1f} ms (best of 20)")
PY

# Non-native: one aarch64 build (no test job: the comparison is of building), cross vs emulate.
mkdir -p "$work/aarch64"
cp -r "$repo/tests/fixtures/project/." "$work/aarch64/"
cat > "$work/aarch64/pookie.toml" <<TOML
targets = ["manylinux_2_17_aarch64"]
[python]
source = "image"
versions = ["3.11"]
[images]
linux-x86_64 = "${BENCH_X86_64_IMAGE:-debian:bookworm-slim}"
linux-aarch64 = "${BENCH_ARM64_IMAGE:-debian-pythons:bookworm-arm64}"
TOML
echo "warming the aarch64 images (cross and emulate)…"
for mode in cross emulate; do
    "$pookie" images --workspace "$work/aarch64" --linux-non-native-mode "$mode" > /dev/null
done
aarch64() { # aarch64 MODE → prints the build job's seconds, then the run's wall seconds
    local start end
    start=$(date +%s.%N)
    "$pookie" run --workspace "$work/aarch64" --force --linux-non-native-mode "$1" --report "$work/aarch64-$1.json" \
        > "$work/run.out" 2>&1 || { cat "$work/run.out" >&2; echo "aarch64 $1 build failed" >&2; exit 1; }
    end=$(date +%s.%N)
    python3 -c "import json, sys; r = json.load(open(sys.argv[1])); \
print(next(n['seconds'] for n in r['nodes'] if n['kind'] == 'job'), $end - $start)" "$work/aarch64-$1.json"
}
# zig's runtime for aarch64-linux-gnu.2.17, built on first use into the zig cache bucket: the
# fixture's build (a C and a C++ module: glibc stubs, start files, compiler-rt, libc++) with
# the bucket empty, then warm; and bitarray (C only: no libc++) the same way, its pip cache
# warmed first so that only zig's runtime differs.
zig_first_use() { # zig_first_use WORKSPACE → the build job's seconds, cold then warm
    local attempt
    rm -rf "$POOKIE_CACHE_DIR/zig"
    for attempt in cold warm; do
        "$pookie" run --workspace "$1" --force --test "" --report "$work/zig-$attempt.json" > "$work/run.out" 2>&1 \
            || { cat "$work/run.out" >&2; echo "zig first use in $1 failed" >&2; exit 1; }
        python3 -c "import json, sys; r = json.load(open(sys.argv[1])); \
print(next(n['seconds'] for n in r['nodes'] if n['kind'] == 'job' and n['stage'] == 'build'))" "$work/zig-$attempt.json"
    done
}
mkdir -p "$work/c-only"
tar -xzf "$(fetch_bitarray "$work")" -C "$work/c-only" --strip-components 1
cp "$work/aarch64/pookie.toml" "$work/c-only/pookie.toml"
"$pookie" run --workspace "$work/c-only" --test "" > /dev/null 2>&1 || true # pip's cache
# C first: the C++ project's runs leave the zig cache with libc++, as the measurements below need.
mapfile -t c_only < <(zig_first_use "$work/c-only")
mapfile -t cxx < <(zig_first_use "$work/aarch64")
python3 - "${c_only[@]}" "${cxx[@]}" <<'PY'
import sys
c_cold, c_warm, cxx_cold, cxx_warm = map(float, sys.argv[1:])
print(f"zig's runtime for aarch64 on first use: C project (bitarray) build {c_cold:5.1f} s cold, {c_warm:5.1f} s warm: "
      f"{c_cold - c_warm:5.1f} s (goal: at most 20); C++ project (fixture) {cxx_cold:5.1f} s cold, {cxx_warm:5.1f} s warm: "
      f"{cxx_cold - cxx_warm:5.1f} s, once per machine and zig version")
PY
read -r cross_build cross_wall < <(aarch64 cross)
read -r emulate_build emulate_wall < <(aarch64 emulate)
python3 - "$cross_build" "$cross_wall" "$emulate_build" "$emulate_wall" <<'PY'
import sys
cb, cw, eb, ew = map(float, sys.argv[1:])
print(f"aarch64 fixture build, CPython 3.11: cross (zig) {cb:5.1f} s (run {cw:5.1f} s), "
      f"emulate (QEMU) {eb:5.1f} s (run {ew:5.1f} s)")
print(f"ratio emulate/cross: build {eb / cb:.1f}x, run {ew / cw:.1f}x (goal: at least 5)")
PY


# The aarch64 test job with a test requirement (pytest): the wheel and the requirement installed
# natively (cross mode: in the build's image; emulate mode: in the layer a cross build would use)
# vs by pip under QEMU (cross mode with a before-test that installs pytest, which makes the test
# stage install with pip), each forced on warm images; time from the job's start to the user's
# test command, and the whole job.
mkdir -p "$work/aarch64-test"
cp -r "$repo/tests/fixtures/project/." "$work/aarch64-test/"
sed -e 's/^targets = .*/&\ntest = "python -m pytest -q {project}\/tests"\ntest-requires = ["pytest"]/' \
    "$work/aarch64/pookie.toml" > "$work/aarch64-test/pookie.toml"
for way in cross emulate qemu-pip; do
    mode=${way/qemu-pip/cross}
    if [ "$way" = qemu-pip ]; then
        sed -i 's/^test = /before-test = "python -m pip install -q pytest"\n&/' "$work/aarch64-test/pookie.toml"
    fi
    "$pookie" images --workspace "$work/aarch64-test" --linux-non-native-mode "$mode" > /dev/null
    "$pookie" run --workspace "$work/aarch64-test" --linux-non-native-mode "$mode" > /dev/null 2>&1 || true # pip cache
    "$pookie" run --workspace "$work/aarch64-test" --force --linux-non-native-mode "$mode" \
        --report "$work/aarch64-test-$way.json" > "$work/run.out" 2>&1 \
        || { cat "$work/run.out" >&2; echo "aarch64 $way test failed" >&2; exit 1; }
    cp "$work/aarch64-test/.pookie/logs/cp311-manylinux_2_17_aarch64-test.log" "$work/aarch64-test-$way.log"
done
python3 - "$work" <<'PY'
import json, re, sys
from pathlib import Path

work = Path(sys.argv[1])
marker = re.compile(r"::pookie:: \[([0-9.]+)\] (.*)")
for way, how in (("cross", "installed natively"), ("emulate", "installed natively"), ("qemu-pip", "pip under QEMU")):
    test = next(n for n in json.loads((work / f"aarch64-test-{way}.json").read_text())["nodes"]
                if n["kind"] == "job" and n["stage"] == "test")
    steps = [(float(t), what) for t, what in marker.findall((work / f"aarch64-test-{way}.log").read_text())]
    command = next(t for t, what in steps if what == "test")
    print(f"aarch64 test job (+ pytest), {way:<8} ({how}): start → tests {command - test['started_at']:5.1f} s, "
          f"job {test['seconds']:5.1f} s")
PY

fi

# The standard matrix: bitarray 3.12.3 (C; its self-test, ~500 tests) for manylinux_2_17 x86_64
# and aarch64 (cross, tests under QEMU) × CPython 3.13 and 3.14, warm images, every job forced
# (-j2) — beside its floor, measured in the same run: the same work by bare `docker run`s of the
# same images, two cells at a time as -j2 runs them: the build command (zig for aarch64), the
# wheel unpacked natively, the self-test (under QEMU for aarch64); no repair, no checks, nothing
# of pookie around them. Needs an arm64 image with CPython 3.13 and 3.14 (BENCH_SID_ARM64_IMAGE):
#   pookie base-image --suite sid --arch arm64 --tag debian-pythons:sid-arm64 \
#     --package bash,ca-certificates,tar,gzip,xz-utils,zstd,python3.13-dev,python3.13-venv,python3.14-dev,python3.14-venv
sid_arm64=${BENCH_SID_ARM64_IMAGE:-debian-pythons:sid-arm64}
if [ -n "${BENCH_ONLY_BACKENDS:-}" ]; then
    :
elif docker image inspect "$sid_arm64" > /dev/null 2>&1; then
    matrix=$work/standard
    mkdir -p "$matrix/sdist"
    sdist=$(fetch_bitarray "$matrix/sdist")
    tar -xzf "$sdist" -C "$matrix" && mv "$matrix"/bitarray-3.12.3 "$matrix/project"
    cat > "$matrix/project/pookie.toml" <<TOML
targets = ["manylinux_2_17_x86_64", "manylinux_2_17_aarch64"]
test = "python -c 'import bitarray, sys; sys.exit(not bitarray.test().wasSuccessful())'"
[python]
source = "image"
versions = ["3.13", "3.14"]
[images]
linux-x86_64 = "$image"
linux-aarch64 = "$sid_arm64"
TOML
    "$pookie" images --workspace "$matrix/project" > /dev/null
    "$pookie" run --workspace "$matrix/project" -j2 > /dev/null 2>&1 || true # pip's cache, as a user's second run
    "$pookie" plan --workspace "$matrix/project" --format json > "$matrix/plan.json"
    start=$(date +%s.%N)
    "$pookie" run --workspace "$matrix/project" -j2 --force --report "$matrix/report.json" > "$work/run.out" 2>&1 \
        || { cat "$work/run.out" >&2; echo "the standard matrix failed" >&2; exit 1; }
    end=$(date +%s.%N)
    python3 - "$matrix" "$(python3 -c "print($end - $start)")" "${POOKIE_CACHE_DIR}" <<'PY' || exit 1
import concurrent.futures, json, os, shutil, subprocess, sys, time
from pathlib import Path

matrix, wall, cache = Path(sys.argv[1]), float(sys.argv[2]), Path(sys.argv[3])
plan = json.loads((matrix / "plan.json").read_text())
tags = {i["name"]: i["tag"] for i in plan["images"]}
jobs = {(j["build_id"], j["stage"]): j for j in plan["jobs"]}
TEST = "import bitarray, sys; sys.exit(not bitarray.test().wasSuccessful())"

def docker(image, job, env, *command, workdir="/pookie/job/src"):
    """A bare container of `image` with the job's mounts (its directory, pip's cache)."""
    args = ["docker", "run", "--rm", "-w", workdir]
    for m in job["mounts"]:
        host = job_dir(job) if "workspace" in m["host"] else cache / m["host"]["cache"]
        host.mkdir(parents=True, exist_ok=True)
        args += ["-v", f"{host}:{m['container']}"]
    for k, v in env.items():
        args += ["-e", f"{k}={v}"]
    done = subprocess.run([*args, "--", image, *command], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"floor: {' '.join(command)} in {image} failed:\n{done.stdout}{done.stderr}")

def job_dir(job):
    return matrix / "floor" / job["build_id"]

def cell(build_id):
    build, test = jobs[(build_id, "build")], jobs[(build_id, "test")]
    d = job_dir(build)
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(matrix / "project", d / "src", ignore=shutil.ignore_patterns(".pookie", "dist"))
    docker(tags[build["image"]], build, build["env"], "pookie-build-wheel", "--outdir", "/pookie/job/wheel")
    # Installed natively (bitarray has no requirements: the wheel unpacked), then only the test.
    docker(tags[build["image"]], test, {}, "sh", "-c", "python -m zipfile -e /pookie/job/wheel/*.whl /pookie/job/site")
    # In an empty directory, as pookie's tests: the project's sources would shadow the wheel.
    docker(tags[test["image"]], test, {"PYTHONPATH": "/pookie/job/site"}, "python", "-c", TEST, workdir="/tmp")

start = time.time()
with concurrent.futures.ThreadPoolExecutor(2) as pool:
    # The longest (emulated) cells first, as pookie orders them.
    list(pool.map(cell, sorted({b for b, _ in jobs}, key=lambda b: ("x86_64" in b, b))))
floor = time.time() - start
print(f"standard matrix (bitarray 3.12.3, x86_64 + aarch64 cross × CPython 3.13, 3.14, -j2, forced): "
      f"pookie {wall:5.1f} s, floor {floor:5.1f} s, ratio {wall / floor:.2f} (goal: at most 1.5)")
report = json.loads((matrix / "report.json").read_text())
for n in sorted((n for n in report["nodes"] if n["kind"] == "job"), key=lambda n: (n["build_id"], n["stage"])):
    print(f"  {n['build_id']:<32} {n['stage']:<5} {n['seconds']:5.1f} s")
PY
else
    echo "standard matrix: skipped (no $sid_arm64 image; see bench.sh for the command that makes it)"
fi
[ -z "${BENCH_ONLY_STANDARD:-}" ] || exit 0

# The same for build backends that run tools at build time, where a cross build must keep the
# tools native (cmake, ninja, Cython, the compiler) and take only headers from the target:
# scikit-build-core + pybind11 (CMake) and the numpy C API. Both modes at the policy of
# Debian 12's glibc, which emulate mode's gcc links against.
for name in ${BENCH_BACKENDS:-skbuild-pybind11 numpy-capi}; do
    dir=$work/backend-$name
    mkdir -p "$dir"
    cp -r "$repo/tests/fixtures/backends/$name/." "$dir/"
    cat > "$dir/pookie.toml" <<TOML
targets = ["manylinux_2_36_aarch64"]
[linux]
manylinux = "2_36"
[python]
source = "image"
versions = ["3.11"]
[images]
linux-x86_64 = "${BENCH_X86_64_IMAGE:-debian:bookworm-slim}"
linux-aarch64 = "${BENCH_ARM64_IMAGE:-debian-pythons:bookworm-arm64}"
TOML
    for mode in cross emulate; do
        "$pookie" images --workspace "$dir" --linux-non-native-mode "$mode" > /dev/null
    done
    backend() { # backend MODE → the build job's seconds
        "$pookie" run --workspace "$dir" --force --linux-non-native-mode "$1" --report "$dir/$1.json" \
            > "$work/run.out" 2>&1 || { cat "$work/run.out" >&2; echo "$name aarch64 $1 build failed" >&2; exit 1; }
        python3 -c "import json, sys; r = json.load(open(sys.argv[1])); \
print(next(n['seconds'] for n in r['nodes'] if n['kind'] == 'job'))" "$dir/$1.json"
    }
    # A first run of each, untimed, as a user's machine has it: zig's runtime for the target
    # built, pip's caches filled.
    backend cross > /dev/null
    backend emulate > /dev/null
    cb=$(backend cross)
    eb=$(backend emulate)
    python3 -c "import sys; cb, eb = map(float, sys.argv[2:]); \
print(f'aarch64 {sys.argv[1]} build, CPython 3.11: cross {cb:5.1f} s, emulate {eb:6.1f} s, ratio {eb / cb:.1f}x (goal: at least 5)')" \
        "$name" "$cb" "$eb"
done
