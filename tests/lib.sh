# Integration-test harness, sourced by every tests/test-*.sh.
# Starts a real orbitald in a fresh temporary directory with real children
# and signals; cleans everything up on exit, whatever happened.
# bench/supervise starts orbitald with the same options (-m, -r, -s).
set -euo pipefail

ORB_BIN=${ORB_BIN:?set ORB_BIN to the build directory}
ORB_SRC=${ORB_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
ORBITALD=$ORB_BIN/src/core/orbitald
ORBCTL=$ORB_BIN/src/cli/orbctl
TESTSVC=$ORB_BIN/tests/orb-testsvc
BUSTEST=$ORB_BIN/tests/orb-bustest
T=$(mktemp -d /tmp/orbtest.XXXXXX)
M=$T/services
mkdir -p "$M"
export ORBITAL_SOCKET=$T/run/control
ORB_PID=
TEST_NAME=$(basename "$0" .sh)

orb_log() { cat "$T/orbitald.log" 2>/dev/null || true; }

fail() {
        echo "FAIL: $TEST_NAME: $*" >&2
        echo "---- orbitald log (last 60 lines) ----" >&2
        orb_log | tail -n 60 >&2
        exit 1
}

cleanup() {
        local rc=$?
        [ ${#CLEANUP_PIDS[@]} = 0 ] || kill "${CLEANUP_PIDS[@]}" 2>/dev/null || true
        if [ -n "$ORB_PID" ] && kill -0 "$ORB_PID" 2>/dev/null; then
                # a failed test: let orbitald stop its services, then insist
                kill -TERM "$ORB_PID" 2>/dev/null || true
                for _ in $(seq 1 100); do kill -0 "$ORB_PID" 2>/dev/null || break; sleep 0.05; done
                kill -9 "$ORB_PID" 2>/dev/null || true
        fi
        # anything a test service left behind (matched by our temp dir)
        pkill -9 -f "$T" 2>/dev/null || true
        [ -n "${KEEP:-}" ] || rm -rf "$T" "${CLEANUP_FILES[@]}"
        exit $rc
}
# Files a test made outside $T, removed on exit with $T, and background
# processes it started, killed first.  (A test must not set its own EXIT
# trap: whatever ran first would hide the failed status.)
CLEANUP_FILES=()
CLEANUP_PIDS=()
trap cleanup EXIT

# manifest NAME: writes $M/NAME.yaml from stdin.  Services are sandboxed
# by default; one that says nothing about it may read the build directory
# (the test programs, liborbital), which may be anywhere (under /tmp too).
manifest() {
        local text
        text=$(cat)
        grep -q '^sandbox:' <<<"$text" || text+=$'\n'"sandbox: {read-only: [$ORB_BIN]}"
        printf '%s\n' "$text" > "$M/$1.yaml"
}

ctl() { "$ORBCTL" "$@"; }

# orb_start [orbitald options]: start and wait until it answers.
orb_start() {
        "$ORBITALD" -m "$M" -r "$T/run" -s "$T/state" "$@" >>"$T/orbitald.log" 2>&1 &
        ORB_PID=$!
        for _ in $(seq 1 200); do
                if "$ORBCTL" list >/dev/null 2>&1; then return 0; fi
                kill -0 "$ORB_PID" 2>/dev/null || fail "orbitald exited during start"
                sleep 0.05
        done
        fail "orbitald did not answer within 10 s"
}

# orb_stop: SIGTERM and wait; prints nothing, returns its exit code.
orb_stop() {
        local rc=0
        kill -TERM "$ORB_PID"
        for _ in $(seq 1 400); do
                kill -0 "$ORB_PID" 2>/dev/null || break
                sleep 0.05
        done
        kill -0 "$ORB_PID" 2>/dev/null && fail "orbitald still running 20 s after SIGTERM"
        wait "$ORB_PID" || rc=$?
        ORB_PID=
        return $rc
}

# field NAME JQ: one field of `orbctl status --json NAME`
field() { "$ORBCTL" --json status "$1" | jq -r "$2"; }
state() { field "$1" .state; }

# wait_for DESC TIMEOUT_S COMMAND...: poll until COMMAND succeeds.
wait_for() {
        local desc=$1 timeout=$2; shift 2
        local n=$((timeout * 20))
        for _ in $(seq 1 "$n"); do
                if "$@" >/dev/null 2>&1; then return 0; fi
                sleep 0.05
        done
        fail "timed out after ${timeout}s waiting for: $desc (state of services: $("$ORBCTL" list 2>&1 | tr '\n' ';'))"
}

is_state() { [ "$(state "$1")" = "$2" ]; }
wait_state() { wait_for "$1 to be $2" "${3:-10}" is_state "$1" "$2"; }

# expect_eq WHAT ACTUAL EXPECTED
expect_eq() { [ "$2" = "$3" ] || fail "$1: expected '$3', found '$2'"; }
expect_match() { [[ "$2" =~ $3 ]] || fail "$1: expected to match /$3/, found '$2'"; }

# logs_of NAME: everything the service printed so far
logs_of() { "$ORBCTL" logs -n 2000 "$1" 2>/dev/null || true; }
has_log() { logs_of "$1" | grep -qE -- "$2"; }
# wait_log NAME REGEX [TIMEOUT_S]: until the service printed a matching line
wait_log() {
        local n=$(( ${3:-10} * 20 ))
        for _ in $(seq 1 "$n"); do
                has_log "$1" "$2" && return 0
                sleep 0.05
        done
        fail "timed out waiting for $1 to print /$2/; it printed: $(logs_of "$1" | tail -n 20)"
}
# log_line NAME REGEX: the last matching line
log_line() { logs_of "$1" | grep -E -- "$2" | tail -n 1; }

pass() { echo "PASS: $TEST_NAME"; }

# kmsg_settle: the kernel logs seccomp records under printk's rate limit,
# one budget for the whole machine (printk_ratelimit_burst records per
# printk_ratelimit seconds).  A test that expects its own records waits
# until a fresh window has begun since the last record anyone logged.
kmsg_settle() {
        local window last now
        window=$(cat /proc/sys/kernel/printk_ratelimit 2>/dev/null || echo 5)
        last=$(dmesg 2>/dev/null | grep "audit: type=1326" | tail -n 1 | sed -nE 's/^\[ *([0-9]+)\..*/\1/p')
        [ -n "$last" ] || return 0
        now=$(cut -d. -f1 /proc/uptime)
        [ $((last + window + 1 - now)) -le 0 ] || sleep $((last + window + 1 - now))
}
