#!/bin/bash
# The control socket under bad input: malformed JSON, wrong types, unknown
# methods, oversized messages, abrupt disconnects, a flood of junk.  Each
# gets a clear error; orbitald never crashes and keeps serving.
source "$(dirname "$0")/lib.sh"

manifest svc <<EOF
command: [$TESTSVC]
EOF
orb_start
wait_state svc running
RAW=$ORB_BIN/tests/orb-rawclient

ask() { "$RAW" "$ORBITAL_SOCKET" "$1"; }
expect_match "not JSON" "$(ask 'hello')" '"code":"bad-request".*not a JSON object'
expect_match "JSON array" "$(ask '[1,2]')" '"code":"bad-request"'
expect_match "no method" "$(ask '{"params":{}}')" '"code":"bad-request".*expected \{\\"method\\"'
expect_match "method not a string" "$(ask '{"method":7}')" '"code":"bad-request"'
expect_match "params not an object" "$(ask '{"method":"list","params":[]}')" '"code":"bad-request"'
expect_match "unknown method" "$(ask '{"method":"explode"}')" '"code":"unknown-method".*explode'
expect_match "name missing" "$(ask '{"method":"status"}')" '"code":"bad-request".*params.name'
expect_match "name wrong type" "$(ask '{"method":"stop","params":{"name":5}}')" '"code":"bad-request"'
expect_match "lines out of range" "$(ask '{"method":"logs","params":{"name":"svc","lines":-1}}')" '"code":"bad-request".*lines'
expect_match "follow wrong type" "$(ask '{"method":"events","params":{"follow":"yes"}}')" '"code":"bad-request".*follow'
expect_match "duplicate keys" "$(ask '{"method":"list","method":"stop"}')" '"code":"bad-request"'
expect_match "embedded NUL" "$(printf '{"method":"li\\u0000st"}' | xargs -0 "$RAW" "$ORBITAL_SOCKET")" '"code":"bad-request".*u0000 is not allowed'
expect_match "oversized" "$("$RAW" "$ORBITAL_SOCKET" --size 70000)" '"code":"bad-request".*exceeds the 65536-byte limit'
"$RAW" "$ORBITAL_SOCKET" --fuzz 3000 >/dev/null || fail "random-message flood client failed"
"$RAW" "$ORBITAL_SOCKET" --hangup 200 || fail "hangup client failed"

# a second orbitald on the same run directory refuses to take its sockets
set +e
"$ORBITALD" -m "$M" -r "$T/run" -s "$T/state2" > "$T/second.log" 2>&1; rc=$?
set -e
expect_eq "second orbitald: exit code" "$rc" 111
grep -q "another orbitald is serving it" "$T/second.log" || fail "second orbitald: $(cat "$T/second.log")"
# a run directory others may write in is refused (they could swap the sockets)
mkdir -p "$T/open" && chmod 777 "$T/open"
set +e
"$ORBITALD" -m "$M" -r "$T/open" -s "$T/state3" > "$T/open.log" 2>&1; rc=$?
set -e
expect_eq "open run dir: exit code" "$rc" 111
grep -q "refusing run directory" "$T/open.log" || fail "open run dir: $(cat "$T/open.log")"
# bad options: exit 100 and say what was expected
set +e
"$ORBITALD" --log-keep lots > "$T/opt.log" 2>&1; rc=$?
set -e
expect_eq "bad --log-keep: exit code" "$rc" 100
grep -q "expected a number 0..100, found 'lots'" "$T/opt.log" || fail "bad --log-keep message: $(cat "$T/opt.log")"

kill -0 "$ORB_PID" || fail "orbitald died"
expect_eq "still serving" "$(state svc)" running
expect_eq "same service" "$(ctl --json list | jq length)" 1
orb_stop
pass
