#!/bin/bash
# Builds and runs every test: a -Werror build, the same tests built again
# with AddressSanitizer + UndefinedBehaviorSanitizer, and with clang the
# libFuzzer targets for a short fixed time.  Ends with a summary line.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/scripts/deps.sh"
orb_install_deps clang libclang-rt-14-dev || { echo "unable to install dependencies"; exit 1; }

JOBS=$(nproc)
PASSED=0
FAILED=0

# run_suite NAME BUILD_DIR CTEST_ARGS -- CMAKE_ARGS...
run_suite() {
        local name=$1 dir=$2 ctest_args=$3; shift 4
        echo ">> [$name] configure and build ($dir)"
        if ! cmake -S "$ROOT" -B "$dir" -DORBITAL_WERROR=ON "$@" >"$dir.configure.log" 2>&1 ||
           ! cmake --build "$dir" -j"$JOBS" >"$dir.build.log" 2>&1; then
                cat "$dir.configure.log" "$dir.build.log" 2>/dev/null | tail -50
                echo ">> [$name] build FAILED"
                FAILED=$((FAILED + 1))
                return
        fi
        echo ">> [$name] ctest"
        local out
        out=$(cd "$dir" && ctest -j"$JOBS" --output-on-failure $ctest_args 2>&1)
        echo "$out"
        local line total failed
        line=$(echo "$out" | grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" | tail -1)
        if [ -z "$line" ]; then
                echo ">> [$name] no CTest summary"
                FAILED=$((FAILED + 1))
                return
        fi
        failed=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/')
        total=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/')
        PASSED=$((PASSED + total - failed))
        FAILED=$((FAILED + failed))
}

mkdir -p "$ROOT/build-ci"
run_suite "gcc -Werror" "$ROOT/build-ci/plain" "" -- -DCMAKE_BUILD_TYPE=RelWithDebInfo
run_suite "ASan+UBSan" "$ROOT/build-ci/sanitize" "" -- -DCMAKE_BUILD_TYPE=Debug -DORBITAL_SANITIZE=ON
if command -v clang >/dev/null; then
        run_suite "clang libFuzzer" "$ROOT/build-ci/fuzz" "-L fuzz" -- -DCMAKE_BUILD_TYPE=Debug \
                -DCMAKE_C_COMPILER=clang -DORBITAL_FUZZ=ON
fi
echo
echo "total: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
