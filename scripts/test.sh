#!/usr/bin/env bash
# The test suite, from any state of the machine: prepares what the tests need
# (`scripts/setup.sh --tests`: idempotent, seconds when nothing is missing), then runs
# `cargo test --locked`. Run as root on a Debian/Ubuntu machine. README.md's test command;
# .ci/run calls it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh --tests
echo
echo "==> cargo test --locked"
started=$EPOCHREALTIME
# tests/e2e_engine_lost.rs stops and restarts this machine's dockerd (the one setup.sh started).
POOKIE_TEST_RESTARTS_DOCKERD=1 cargo test --locked "$@"
# Last, by name: it removes every image pookie built (the others keep their layers until then).
if [ $# -eq 0 ]; then
    cargo test --locked --test clean_images -- --ignored
fi
echo "<== cargo test --locked: $(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
