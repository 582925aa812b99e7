#!/bin/bash
# A service that hangs (stops its heartbeat) is caught by its health check
# and restarted; a check that outlives its timeout counts as a failure.
source "$(dirname "$0")/lib.sh"

manifest hangs <<EOF
command: [$TESTSVC, --heartbeat, $T/hb, --sleep, "600", --hang]
health:
  command: [$TESTSVC, check-heartbeat, $T/hb, "300"]
  interval: 200ms
  timeout: 1s
  failures: 2
backoff: {initial: 0, max: 0}
breaker: off
EOF
manifest slowcheck <<EOF
command: [$TESTSVC]
health:
  command: "sleep 5"
  interval: 100ms
  timeout: 200ms
  failures: 1
backoff: {initial: 1s}
breaker: off
EOF
orb_start
wait_state hangs running
pid1=$(field hangs .pid)
wait_for "hung service to be restarted" 10 bash -c "[ \$($ORBCTL --json status hangs | jq .restarts) -ge 1 ]"
expect_match "crash reason" "$(field hangs '.crashes[0].reason')" "^health"
wait_state hangs running 5
[ "$(field hangs .pid)" != "$pid1" ] || fail "same pid after a health restart"
ctl logs hangs -n 50 | grep -q "health check failed (2 of 2)" || fail "no health failure in the service log"
ctl events | grep -q "hangs: health: check failed" || fail "no health event"

wait_for "slow check to time out" 10 bash -c "$ORBCTL logs slowcheck -n 50 | grep -q 'health check failed (1 of 1): timed out'"
orb_stop
pass
