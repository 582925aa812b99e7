#!/bin/bash
# orbitald as PID 1 of a new PID namespace: it reaps orphans that
# services leave behind (double-forked daemons) and shuts down on SIGTERM.
source "$(dirname "$0")/lib.sh"

if ! unshare --pid --fork --mount-proc true 2>/dev/null; then
        echo "SKIP: $TEST_NAME: cannot create a PID namespace here"
        exit 0
fi
# a service that double-forks a short-lived daemon: the daemon is orphaned
# to PID 1 and must be reaped there
manifest orphaner <<EOF
command: "( sleep 0.2 & ) ; exec $TESTSVC"
EOF
unshare --pid --fork --mount-proc --kill-child "$ORBITALD" -m "$M" -r "$T/run" -s "$T/state" --cgroup none \
        >>"$T/orbitald.log" 2>&1 &
ORB_PID=$!
wait_for "orbitald as PID 1" 10 "$ORBCTL" list
grep -q "running as PID 1" "$T/orbitald.log" || fail "orbitald did not notice it is PID 1"
wait_state orphaner running
sleep 0.6
# the orphan was reaped: no zombie left under orbitald
pid1=$(pgrep -f -n "^$ORBITALD -m $M")
zombies=$( (ps -o stat= --ppid "$pid1" || true) | grep -c Z || true)
expect_eq "zombies under PID 1" "$zombies" 0
ps -o stat=,args= --ppid "$pid1" | grep -q "sleep 0.2" && fail "orphan still there"
# unshare ignores SIGTERM: signal PID 1 itself, from outside its namespace
kill -TERM "$pid1"
wait_for "orbitald (PID 1) to exit on SIGTERM" 10 bash -c "! kill -0 $ORB_PID"
grep -q "every service is down; exiting" "$T/orbitald.log" || fail "no clean shutdown"
ORB_PID=
pass
