#!/bin/bash
# Circuit breaker: trips after N deaths within the window, retries once
# after the cooldown (half-open), closes again when the fault is fixed;
# `orbctl reset` closes it by hand.
source "$(dirname "$0")/lib.sh"

# (sandbox: off: the test's directory, where the switch file is, is root's)
manifest flaky <<EOF
command: [$TESTSVC, --fail-unless, $T/fixed]
sandbox: off
restart: always
backoff: {initial: 0, max: 0, jitter: 0, reset-after: 1s}
breaker: {crashes: 3, window: 10s, cooldown: 1s}
EOF
orb_start

wait_state flaky disabled
expect_eq "breaker state" "$(field flaky .breaker)" open
expect_match "reason" "$(field flaky .reason)" "breaker open: 3 deaths within 10s"
ctl events | grep -q "flaky: breaker: breaker open" || fail "no breaker event"

# cooldown passes, half-open trial fails again: open again
wait_for "half-open trial" 5 bash -c "$ORBCTL events | grep -q 'breaker half-open'"
wait_state flaky disabled

# fix the fault: the next trial stays up for reset-after and the breaker closes
touch "$T/fixed"
wait_state flaky running 5
wait_for "breaker to close" 5 bash -c "[ \"\$($ORBCTL --json status flaky | jq -r .breaker)\" = closed ]"
ctl events | grep -q "breaker closed" || fail "no breaker-closed event"

# trip it again, then reset by hand
rm "$T/fixed"
ctl restart flaky >/dev/null
wait_state flaky disabled
touch "$T/fixed"
ctl reset flaky >/dev/null
wait_state flaky running 3
expect_eq "breaker after reset" "$(field flaky .breaker)" closed
# start is refused while disabled, with a clear error and exit code 1
rm "$T/fixed"; ctl restart flaky >/dev/null; wait_state flaky disabled
set +e; out=$(ctl start flaky 2>&1); rc=$?; set -e
expect_eq "start while disabled: exit code" "$rc" 1
expect_match "start while disabled: message" "$out" "invalid-state: start: nothing to do: service 'flaky' is disabled"

# the operator can keep a breaker-opened service down: no more trials
ctl disable flaky >/dev/null
expect_eq "disabled by operator" "$(field flaky .reason)" "disabled by operator"
expect_eq "breaker closed by disable" "$(field flaky .breaker)" closed
sleep 1.5   # longer than the cooldown
expect_eq "no trial after disable" "$(state flaky)" disabled
touch "$T/fixed"
ctl enable flaky >/dev/null
wait_state flaky running 3
rm "$T/fixed"; ctl restart flaky >/dev/null; wait_state flaky disabled
ctl stop flaky >/dev/null
expect_eq "stop of a breaker-opened service" "$(state flaky)" stopped
orb_stop
pass
