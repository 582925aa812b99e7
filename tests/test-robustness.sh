#!/bin/bash
# Manifests that once broke orbitald itself: a spawn failing inside
# orbitald (no process group yet), the same with a zero backoff (must not
# recurse), and a leftover process flooding the output pipe after the
# main process exited (must not freeze the loop).
source "$(dirname "$0")/lib.sh"

manifest nouser <<EOF
command: [$TESTSVC]
user: no-such-user-orbital
restart: never
EOF
manifest nouser-loop <<EOF
command: [$TESTSVC]
user: no-such-user-orbital
restart: always
backoff: {initial: 0, max: 0, jitter: 0}
breaker: off
EOF
manifest flood <<EOF
command: "yes $T/flood & sleep 0.3; exit 0"
restart: never
EOF
orb_start --cgroup none
wait_state nouser failed
expect_match "spawn failure reason" "$(field nouser .reason)" "spawn: unknown user 'no-such-user-orbital'; not retried"
ctl logs nouser | grep -q "spawn: unknown user" || fail "no spawn failure in the service log"
# an unknown user cannot heal by retrying: failed at once, even with
# restart: always and a zero backoff (this used to recurse and overflow)
wait_state nouser-loop failed
expect_eq "no restarts for a permanent fault" "$(field nouser-loop .restarts)" 0
wait_state flood stopped 5
sleep 0.3
kill -0 "$ORB_PID" || fail "orbitald died"
timeout 2 "$ORBCTL" list >/dev/null || fail "orbitald does not answer"
left=$( (pgrep -f "yes $T/flood" || true) | wc -l)
expect_eq "flooding leftover killed" "$left" 0
orb_stop
pass
