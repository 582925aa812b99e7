#!/bin/bash
# Revocation reaches the holder with the right reason and the channel stops
# working at once: explicit (and everything derived from it), expiry, and
# the source exiting.  Rights are attenuated by grants and enforced.
source "$(dirname "$0")/lib.sh"

manifest echo <<EOF
command: $BUSTEST serve echo 1.0
capabilities: [provide:echo]
EOF
manifest alice <<EOF
command: $BUSTEST client echo ""
capabilities: ["call:echo:rwg"]
after: [echo]
EOF
# bob and carol hold nothing until granted: their lookups fail (as if
# echo did not exist) and they keep trying, connected.
for n in bob carol; do
manifest $n <<EOF
command: $BUSTEST client echo ""
backoff: {initial: 100ms, max: 200ms}
breaker: {crashes: 1000, window: 1m}
after: [echo]
EOF
done
manifest reader <<EOF
command: $BUSTEST set echo should-not-happen
capabilities: ["call:echo:r"]
after: [echo]
restart: never
EOF
orb_start
wait_log alice "call: "
wait_log reader "set: "

# Rights: a read-only holder is refused the write method.
expect_match "read-only caller of a write method" "$(log_line reader 'set: ')" "code=4099"
has_log echo "should-not-happen" && fail "the write reached the service"

# 1. Grants attenuate: bob gets read only from alice's slot 1, with no
#    grant right, so bob cannot pass it on.
out=$(ctl grant alice 1 bob --rights r)
expect_match "grant" "$out" "granted: bob holds it in slot 1"
wait_log bob "call: ok|call: .*version" 10
expect_eq "bob's table" "$(ctl --json caps bob | jq -c '[.caps[] | [.slot, .rights, .parent.holder // ""]]')" \
        '[[1,"r--","alice"],[2,"r--","bob"]]'
set +e; ctl grant bob 1 carol --rights r >/dev/null 2>&1; rc=$?; set -e
expect_eq "regrant without the grant right" "$rc" 1
set +e; ctl grant alice 1 carol --rights rwg >/dev/null 2>&1; rc=$?; set -e
expect_eq "widening (alice has rwg: allowed)" "$rc" 0
ctl revoke carol 1 >/dev/null

# 2. Explicit revoke of alice's root cap: her channel and bob's copy and
#    his channel go, each holder told with reason 1, calls fail at once.
ctl revoke alice 1 >/dev/null
wait_log alice "revoked slot 2 type 1 reason 1" 5
wait_log alice "call failed: " 5
wait_log bob "revoked slot 1 type 1 reason 1" 5
wait_log bob "call failed: " 5
[ "$(ctl --json caps bob | jq '.caps | length')" = 0 ] || fail "bob still holds: $(ctl caps bob)"
wait_log alice "revoked slot 1 type 1 reason 1" 5   # her own, too

# 3. Expiry: an operator grant that lasts 1 s.  Alice exited after the
#    revocation and was restarted with her manifest's capability.
n_lookups() { logs_of alice | grep -c "lookup echo: slot 2" || true; }
looked_up_twice() { [ "$(n_lookups)" -ge 2 ]; }
wait_for "alice to look up again" 10 looked_up_twice
ctl grant alice 1 carol --rights r --expires 1s >/dev/null
wait_log carol "call: " 10
wait_log carol "revoked slot 1 type 1 reason 2" 5
wait_log carol "call failed: " 5

# 4. The source exits: stopping echo revokes every channel to it (reason 3).
ctl stop echo >/dev/null
wait_log alice "revoked slot 2 type 1 reason 3" 5
wait_log alice "call failed: " 5
# 5. The granter exits: what it granted goes too (reason 3).  Fresh
#    instances of both, each waiting for echo: alice holding her slot 1.
fresh() { # fresh NAME: restart it and wait until the new instance waits
        local n
        n=$(logs_of "$1" | grep -c "retrying" || true)
        ctl restart "$1" >/dev/null
        more() { [ "$(logs_of "$1" | grep -c "retrying" || true)" -gt "$2" ]; }
        wait_for "a fresh $1" 10 more "$1" "$n"
}
fresh alice
fresh carol
ctl grant alice 1 carol --rights r >/dev/null
test_n3() { [ "$(n3)" -ge 1 ]; }
n3() { logs_of carol | grep -c "revoked slot 1 type 1 reason 3" || true; }
ctl stop alice >/dev/null
wait_for "carol to hear that alice exited" 5 test_n3
kill -0 "$ORB_PID" || fail "orbitald died"
pass
