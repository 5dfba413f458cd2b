#!/bin/bash
# Runs one pookie job inside its container. pookie mounts the job's own directory at /pookie/job
# (src/plan/layout.rs owns these names):
#   src/              the job's private copy of the project (the working directory of builds)
#   command.sh        the user's build or test command
#   before.sh         before-build or before-test, when set (run in src/ first)
#   wheels/           build: where the command leaves wheels ($POOKIE_WHEEL_DIR)
#   out/              build: the repaired wheels pookie collects
#   slices/           build of a fat target (universal2): each slice's wheel, a pristine copy of src/
#   wheel/            test: the wheel to install ($POOKIE_WHEEL_DIR)
#   site/             test: the wheel and the test requirements installed for the target by the
#                     install stage, in the build's native image (tests under QEMU of cross builds)
#   test-requires.txt test: requirements to install first; build (cross, POOKIE_TARGET_TESTS):
#                     the same, to cross-compile those the index has no wheel of for the target
# Its environment (POOKIE_STAGE, POOKIE_WHEEL_DIR, POOKIE_REPAIR, …) is the table of
# src/env_vars.rs. Exit codes tell pookie which step failed (JobExit in executor/job.rs, whose
# test reads this table):
#   2  the job's directory is not as pookie laid it out
#   10 the build command failed          11 it left no wheel
#   12 the repair failed                 13 before-build failed
#   14 a fat target's slices could not be fused into one wheel
#   20 installing the wheel or the test requirements failed
#   21 the tests failed                  22 the tests were killed by SIGBUS (QEMU's core dumps kept)
#   23 before-test failed                30 no Windows CPython to test with
set -uo pipefail
job=/pookie/job
export HOME=/tmp/pookie-home
mkdir -p "$HOME"

# Steps carry a timestamp so that pookie's overhead around the user's command can be measured.
step() { printf '\n::pookie:: [%s] %s\n' "$EPOCHREALTIME" "$*"; }
fail() { printf '::pookie:: %s\n' "$2" >&2; exit "$1"; }

# before-build and the build command, in the project's copy; `built` holds the wheels they left.
built=()
build_once() {
    cd "$job/src" || fail 2 "no project copy at $job/src"
    mkdir -p "$POOKIE_WHEEL_DIR"
    if [ -f "$job/before.sh" ]; then
        step "before-build"
        bash -eo pipefail "$job/before.sh" || fail 13 "the before-build command failed (exit $?)"
    fi
    step "build: $(python --version 2>&1) at $(command -v python)"
    bash -eo pipefail "$job/command.sh" || fail 10 "the build command failed (exit $?)"
    step "build command done"
    shopt -s nullglob
    built=("$POOKIE_WHEEL_DIR"/*.whl)
    [ ${#built[@]} -gt 0 ] || built=("$PWD"/dist/*.whl)
    [ ${#built[@]} -gt 0 ] || fail 11 "the build command left no wheel in \$POOKIE_WHEEL_DIR or ./dist"
}

# A fat target (POOKIE_SLICES, macOS universal2): before-build and the build once per slice, each
# a cross build of that thin target (its zig target, sysconfig platform and tag) from a pristine
# copy of the project at the same path, then one wheel fused from theirs (pookie-fuse-wheels).
build_slices() {
    local pristine=$job/slices/pristine slice zig_target host_platform tag sliced=()
    local fat=$POOKIE_PLATFORM wheel_dir=$POOKIE_WHEEL_DIR zig=$POOKIE_ZIG_TARGET host=$_PYTHON_HOST_PLATFORM
    mkdir -p "$job/slices" && cp -a "$job/src" "$pristine" || fail 2 "cannot keep a copy of the project"
    for slice in $POOKIE_SLICES; do
        IFS=, read -r zig_target host_platform tag <<< "$slice"
        if [ ${#sliced[@]} -gt 0 ]; then
            cd "$job" && rm -rf "$job/src" && cp -a "$pristine" "$job/src" || fail 2 "cannot restore the project's copy"
        fi
        step "slice $tag: the build for $zig_target"
        export POOKIE_ZIG_TARGET=$zig_target _PYTHON_HOST_PLATFORM=$host_platform POOKIE_PLATFORM=$tag
        export POOKIE_WHEEL_DIR=$job/slices/$tag
        build_once
        [ ${#built[@]} -eq 1 ] || fail 14 "the build for $tag left ${#built[@]} wheels: ${built[*]##*/}"
        # Out of ./dist, which the next slice's fresh copy of the project replaces.
        [ "${built[0]%/*}" = "$POOKIE_WHEEL_DIR" ] || mv "${built[0]}" "$POOKIE_WHEEL_DIR/" || fail 2 "cannot keep the wheel"
        sliced+=("$POOKIE_WHEEL_DIR/${built[0]##*/}")
    done
    export POOKIE_ZIG_TARGET=$zig _PYTHON_HOST_PLATFORM=$host POOKIE_PLATFORM=$fat POOKIE_WHEEL_DIR=$wheel_dir
    step "fuse: ${sliced[*]##*/} into one $fat wheel"
    env -u _PYTHON_HOST_PLATFORM -u _PYTHON_SYSCONFIGDATA_NAME \
        pookie-fuse-wheels --tag "$fat" --outdir "$wheel_dir" "${sliced[@]}" \
        || fail 14 "the slices' wheels cannot be fused into one $fat wheel (the reason is above)"
    built=("$wheel_dir"/*.whl)
}

run_build() {
    mkdir -p "$job/out"
    if [ -n "${POOKIE_SLICES:-}" ]; then build_slices; else build_once; fi
    local wheels=("${built[@]}")
    cd "$job/src" || fail 2 "no project copy at $job/src"

    for wheel in "${wheels[@]}"; do
        case $POOKIE_REPAIR in
            auditwheel)
                step "repair: auditwheel repair --plat $POOKIE_PLATFORM $(basename "$wheel")"
                # Cross builds' sysconfig variables are for the build, not for auditwheel's Python.
                # Libraries before-all installed for the target are vendored from its prefix.
                env -u _PYTHON_HOST_PLATFORM -u _PYTHON_SYSCONFIGDATA_NAME \
                    ${POOKIE_TARGET_PREFIX:+LD_LIBRARY_PATH=$POOKIE_TARGET_PREFIX/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}} \
                    pookie-auditwheel "$POOKIE_PLATFORM" repair --plat "$POOKIE_PLATFORM" \
                    --wheel-dir "$job/out" "$wheel" \
                    || fail 12 "auditwheel cannot make $(basename "$wheel") meet $POOKIE_PLATFORM (its reason is above)"
                ;;
            delvewheel)
                # The import table first (in the log), then the repair: delvewheel vendors DLLs a
                # stock Windows lacks and refuses a wheel that needs one it cannot find.
                step "repair: delvewheel repair $(basename "$wheel")"
                env -u _PYTHON_HOST_PLATFORM -u _PYTHON_SYSCONFIGDATA_NAME delvewheel show \
                    ${POOKIE_TARGET_PREFIX:+"--add-path=$POOKIE_TARGET_PREFIX/bin:$POOKIE_TARGET_PREFIX/lib"} "$wheel" \
                    && env -u _PYTHON_HOST_PLATFORM -u _PYTHON_SYSCONFIGDATA_NAME \
                        delvewheel repair --wheel-dir "$job/out" \
                        ${POOKIE_TARGET_PREFIX:+"--add-path=$POOKIE_TARGET_PREFIX/bin:$POOKIE_TARGET_PREFIX/lib"} "$wheel" \
                    || fail 12 "delvewheel cannot repair $(basename "$wheel") (its reason is above)"
                ;;
            none) cp "$wheel" "$job/out/" ;;
            command)
                # The project's repair-wheel-command ({wheel} is $1, {dest_dir} $2); an empty
                # one delivers the wheel as built. pookie checks the tags of what it leaves.
                if [ -z "${POOKIE_REPAIR_COMMAND//[[:space:]]/}" ]; then
                    step "repair: none (repair-wheel-command is empty)"
                    cp "$wheel" "$job/out/"
                else
                    step "repair: repair-wheel-command $(basename "$wheel")"
                    env -u _PYTHON_HOST_PLATFORM -u _PYTHON_SYSCONFIGDATA_NAME \
                        bash -eo pipefail -c "$POOKIE_REPAIR_COMMAND" repair-wheel-command "$wheel" "$job/out" \
                        || fail 12 "the repair-wheel-command failed (exit $?)"
                fi
                ;;
            *) fail 12 "repair with $POOKIE_REPAIR is not available in this image" ;;
        esac
    done

    # Cross builds whose tests run under QEMU: requirements of the wheel and its tests that have
    # no wheel for the target are compiled here, at native speed, into the pip cache the test
    # job shares, instead of from source under QEMU. If that fails, the test job still can.
    if [ -n "${POOKIE_TARGET_TESTS:-}" ] && [ -n "${_PYTHON_HOST_PLATFORM:-}" ]; then
        local built=("$job/out"/*.whl)
        if [ ${#built[@]} -gt 0 ]; then
            step "the tests' requirements, for the target"
            pookie-build-wheel --target-requirements "$job/test-requires.txt" \
                ${POOKIE_TEST_EXTRAS:+--extras "$POOKIE_TEST_EXTRAS"} "${built[@]}" \
                || step "the tests' requirements could not all be prepared here (above); the test job installs them"
        fi
    fi
}

# A test job's first stage, in the build's native image when its tests run under QEMU: pip
# resolves and installs the wheel and the tests' requirements for the target (pookie-build-wheel
# --install-for-target) into site/, at native speed; the test stage links them into place. When
# it cannot (a requirement only an sdist satisfies), site/ is left out and the test stage
# installs with pip under QEMU.
run_install() {
    shopt -s nullglob
    local wheels=("$POOKIE_WHEEL_DIR"/*.whl) site=$job/site
    [ ${#wheels[@]} -gt 0 ] || fail 2 "no wheel to install in $POOKIE_WHEEL_DIR"
    rm -rf "$site"
    step "install natively, for the target: ${wheels[*]##*/} and the tests' requirements"
    if pookie-build-wheel --install-for-target "$site" --requirements "$job/test-requires.txt" \
        ${POOKIE_TEST_EXTRAS:+--extras "$POOKIE_TEST_EXTRAS"} "${wheels[@]}"; then
        touch "$site/.pookie-installed"
    else
        rm -rf "$site"
        step "not installed natively (the reason is above): the test stage installs with pip"
    fi
}

# The install stage's site/ goes into the test environment where pip would have installed it: a
# link in its site-packages for each package (what pip would replace is replaced, a distribution's
# older metadata included), links to console scripts in its scripts folder. pip wrote the scripts
# for the build image's /opt/pookie/venv/bin/python, where pookie's test images have theirs too.
# Links, and as few processes as possible: each costs a fraction of a second under QEMU.
purelib= scripts=
site_paths() { # the test environment's site-packages and scripts folders
    local paths
    paths=$(python -c 'import sysconfig; print(sysconfig.get_path("purelib")); print(sysconfig.get_path("scripts"))') \
        || fail 20 "cannot ask python for its site-packages"
    { read -r purelib; read -r scripts; } <<< "$paths"
}

link_installed_site() {
    local site=$job/site python entry name links=() old
    python=$(command -v python) || fail 20 "no python on PATH"
    for entry in "$site"/* "$site"/.[!.]*; do
        name=${entry##*/}
        case $name in
            bin | .pookie-installed) continue ;;
            *.dist-info) for old in "$purelib/${name%%-*}"-*.dist-info; do rm -rf "$old"; done ;;
            *) if [ -e "$purelib/$name" ] || [ -L "$purelib/$name" ]; then rm -rf "${purelib:?}/$name"; fi ;;
        esac
        links+=("$entry")
    done
    [ ${#links[@]} -eq 0 ] || ln -s -t "$purelib" "${links[@]}" || fail 20 "cannot link the packages into $purelib"
    if [ -d "$site/bin" ]; then
        [ "$python" = /opt/pookie/venv/bin/python ] \
            || sed -i "1s|^#!/opt/pookie/venv/bin/python\$|#!$python|" "$site"/bin/* \
            || fail 20 "cannot point the scripts at $python"
        ln -sf -t "$scripts" "$site"/bin/* || fail 20 "cannot link the scripts into $scripts"
    fi
}

run_test() {
    shopt -s nullglob
    local wheels=("$POOKIE_WHEEL_DIR"/*.whl)
    [ ${#wheels[@]} -gt 0 ] || fail 2 "no wheel to test in $POOKIE_WHEEL_DIR"
    # Wine layers made from an archive without python.exe (see wine-python.sh).
    [ -f /opt/pookie/no-windows-python ] && fail 30 "no Windows CPython: $(cat /opt/pookie/no-windows-python)"
    # Installed natively by the install stage, unless before-test changes the environment's
    # packages: pip then installs here, against what before-test installed, as it would without
    # the install stage (the packages' metadata before and after it are compared).
    local native= packages=
    if [ -f "$job/site/.pookie-installed" ]; then
        native=1
        site_paths
        packages=$(printf '%s\n' "$purelib"/*.dist-info)
    fi
    if [ -f "$job/before.sh" ]; then
        step "before-test"
        (cd "$job/src" && bash -eo pipefail "$job/before.sh") || fail 23 "the before-test command failed (exit $?)"
        if [ -n "$native" ] && [ "$(printf '%s\n' "$purelib"/*.dist-info)" != "$packages" ]; then
            native=
            step "before-test changed the test environment's packages: the wheel is installed here, with pip"
        fi
    fi
    # Wheels of requirements the build compiled for the target, which the index lacks (see
    # pookie-build-wheel): the tests install those rather than compile them again under QEMU.
    # --prefer-binary: the resolution the build checked, binary only — pip otherwise takes a
    # newer release that has no wheel for the target (rapidfuzz on armv7l) over an older one that
    # has, and compiles it under QEMU.
    local links=()
    [ -d "${PIP_CACHE_DIR:-/nonexistent}/pookie-target-wheels" ] \
        && links=(--find-links "$PIP_CACHE_DIR/pookie-target-wheels" --prefer-binary)
    if [ -n "$native" ]; then
        step "install: ${wheels[*]##*/} and the tests' requirements were installed natively, for the target"
        link_installed_site
    else
        step "install: ${wheels[*]##*/} into $(python --version 2>&1), with pip"
        # test-extras: `pip install 'x.whl[test]'` brings the extra's requirements along.
        [ -n "${POOKIE_TEST_EXTRAS:-}" ] && wheels=("${wheels[@]/%/[$POOKIE_TEST_EXTRAS]}")
        python -m pip install --no-input "${links[@]}" "${wheels[@]}" || fail 20 "installing the wheel failed"
        if [ -s "$job/test-requires.txt" ]; then
            step "install test requirements"
            python -m pip install --no-input "${links[@]}" -r "$job/test-requires.txt" || fail 20 "installing the test requirements failed"
        fi
    fi
    # An empty directory, so the project's sources cannot shadow the installed wheel. Where
    # pookie asks for QEMU's core dumps (32-bit ARM, see executor/fault.rs) it is the job's own,
    # so that pookie finds the dump of a test killed by SIGBUS.
    local cwd=/tmp/pookie-test
    if [ -n "${POOKIE_CORE_DUMPS:-}" ]; then
        cwd=$job/cwd
        ulimit -c unlimited 2>/dev/null || ulimit -c "$(ulimit -H -c)"
    fi
    mkdir -p "$cwd" && cd "$cwd" || fail 2 "cannot enter the test directory"
    # test-sources: the project's files the tests need, beside them (one path per line).
    while IFS= read -r source; do
        [ -n "$source" ] || continue
        mkdir -p "$(dirname "$source")" && cp -a "$job/src/$source" "$source" || fail 2 "cannot copy $source"
    done <<< "${POOKIE_TEST_SOURCES:-}"
    step "test"
    bash -eo pipefail "$job/command.sh"
    local rc=$?
    if [ "$rc" -eq 135 ] && [ -n "${POOKIE_CORE_DUMPS:-}" ]; then
        rm -f "$cwd/core" # QEMU's own dump; the target's is qemu_*.core
        fail 22 "the tests were killed by SIGBUS (exit 135)"
    fi
    [ "$rc" -eq 0 ] || fail 21 "the test command failed (exit $rc)"
    step "test command done"
}

case ${POOKIE_STAGE:-} in
    build) run_build ;;
    install) run_install ;;
    test) run_test ;;
    *) fail 2 "POOKIE_STAGE must be build, install or test" ;;
esac
step "done"
