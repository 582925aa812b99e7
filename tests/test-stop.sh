#!/bin/bash
# Stop sends the manifest's signal, waits its timeout, then SIGKILLs every
# process of the service: nothing keeps running after stop.  Also: the
# leftovers of a crashed main process are reclaimed before the restart.
source "$(dirname "$0")/lib.sh"

manifest stubborn <<EOF
command: [$TESTSVC, --ignore-term, --print, "$T/stubborn", --fork, "3"]
stop: {signal: TERM, timeout: 300ms}
EOF
manifest polite <<EOF
command: [$TESTSVC, --record, $T/record]
stop: {signal: INT, timeout: 5s}
EOF
manifest parent <<EOF
command: "$TESTSVC --print $T/parent --fork 2 & sleep 0.3; exit 1"
backoff: {initial: 3s}
breaker: off
EOF
orb_start
wait_state stubborn running
wait_for "children forked" 5 bash -c "$ORBCTL logs stubborn | grep -q 'forked 3 children'"
# the temp dir in the command line keeps other tests' processes out
pids=$( (pgrep -f "$TESTSVC --ignore-term --print $T/stubborn" || true) | tr '\n' ' ')
expect_match "4 processes" "$(echo $pids | wc -w)" "^4$"
ctl stop stubborn >/dev/null
wait_state stubborn stopped 5
for p in $pids; do
        kill -0 "$p" 2>/dev/null && fail "process $p survived stop"
done
ctl logs stubborn -n 5 | grep -q "killed by signal KILL" || fail "expected a SIGKILL after the timeout"

# polite: INT is the stop signal (testsvc dies by the default INT action)
wait_state polite running
ctl stop polite >/dev/null
wait_state polite stopped 5
expect_eq "stop signal" "$(field polite .last_exit.signal)" INT

# parent: main exits, its two children are killed before the restart
wait_for "parent to crash once" 5 bash -c "[ \$($ORBCTL --json status parent | jq .restarts) -ge 1 ]"
# SIGKILL is asynchronous: give a loaded machine a moment, well before
# the restart (3 s backoff) could bring new ones.
n_left() { (pgrep -f "$TESTSVC --print $T/parent" || true) | wc -l; }
none_left() { [ "$(n_left)" = 0 ]; }
for _ in $(seq 1 30); do none_left && break; sleep 0.05; done
expect_eq "children left after the crash" "$(n_left)" 0
expect_eq "still waiting for the restart" "$(state parent)" restarting
orb_stop
pass
