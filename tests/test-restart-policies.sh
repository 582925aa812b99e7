#!/bin/bash
# Each restart policy with real children: never, always, on-failure, limited(n).
source "$(dirname "$0")/lib.sh"

manifest never <<EOF
command: [$TESTSVC, --sleep, "200", --exit, "3"]
restart: never
EOF
manifest always <<EOF
command: [$TESTSVC, --sleep, "200", --exit, "0"]
restart: always
backoff: {initial: 100ms, max: 100ms, jitter: 0}
breaker: off
EOF
manifest onfail-clean <<EOF
command: [$TESTSVC, --sleep, "200", --exit, "0"]
restart: on-failure
EOF
manifest onfail-crash <<EOF
command: [$TESTSVC, --sleep, "200", --crash]
restart: on-failure
backoff: {initial: 50ms, max: 50ms, jitter: 0}
breaker: off
EOF
manifest limited <<EOF
command: [$TESTSVC, --sleep, "100", --exit, "7"]
restart: limited(2)
backoff: {initial: 50ms, max: 50ms, jitter: 0}
breaker: off
EOF
orb_start

# never: one run, then failed with the exit code
wait_state never failed
expect_eq "never: restarts" "$(field never .restarts)" 0
expect_eq "never: exit code" "$(field never .last_exit.code)" 3
expect_match "never: reason" "$(field never .reason)" "exit 3; restart policy never"

# always: restarts even after exit 0
wait_for "always to restart twice" 10 bash -c "[ \$($ORBCTL --json status always | jq .restarts) -ge 2 ]"

# on-failure: a clean exit stops it, a crash restarts it
wait_state onfail-clean stopped
expect_eq "on-failure clean: restarts" "$(field onfail-clean .restarts)" 0
wait_for "onfail-crash to restart" 10 bash -c "[ \$($ORBCTL --json status onfail-crash | jq .restarts) -ge 2 ]"
expect_eq "on-failure crash: signal" "$(field onfail-crash '.crashes[0].reason | split(";")[0]')" "signal SEGV"

# limited(2): two restarts, then failed for good
wait_state limited failed
expect_eq "limited: restarts" "$(field limited .restarts)" 2
expect_match "limited: reason" "$(field limited .reason)" "gave up after 2 restarts"
sleep 0.5
expect_eq "limited: stays failed" "$(state limited)" failed
# an operator start gives it a fresh budget
ctl start limited >/dev/null
wait_for "limited to run again" 5 bash -c "[ \$($ORBCTL --json status limited | jq .restarts) -ge 3 ]"

orb_stop
pass
