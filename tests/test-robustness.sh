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
# the command is looked up in the service's own PATH, not orbitald's
mkdir -p "$T/bin" && ln -s "$TESTSVC" "$T/bin/my-tool"
manifest own-path <<EOF
command: [my-tool, --print, found]
environment: {PATH: $T/bin}
EOF
manifest missing <<EOF
command: [no-such-command-orbital]
restart: never
EOF
manifest bad-cwd <<EOF
command: [$TESTSVC]
working-directory: $T/nowhere
restart: never
EOF
manifest escapes <<EOF
command: |
  printf 'red \033[31m text\n'; exec $TESTSVC
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
wait_state own-path running
wait_state missing failed
expect_match "missing command" "$(field missing .reason)" "spawn: command 'no-such-command-orbital' not found in the service's PATH"
# a failure in the child before exec reaches the service's own log
wait_state bad-cwd failed
ctl logs bad-cwd | grep -q "orbitald: unable to change to the working directory: No such file or directory" ||
        fail "child error not in the service log: $(ctl logs bad-cwd)"
wait_for "escapes output" 5 bash -c "$ORBCTL logs escapes | grep -q text"
ctl logs escapes | grep -qF 'red \x1b[31m text' || fail "control bytes not escaped: $(ctl logs escapes | od -c | head -3)"
orb_stop
pass
