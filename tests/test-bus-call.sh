#!/bin/bash
# Registry, lookup and calls: a service with call:TYPE gets a channel and
# talks straight to the server; version ranges pick the right registration;
# rights are enforced per method; orbctl call speaks JSON from the contract.
source "$(dirname "$0")/lib.sh"

# readiness: notify, so the clients start once both have registered
# (orb_conn_ready is sent after the registration's reply).
manifest store1 <<EOF
command: $BUSTEST serve store 1.2
capabilities: [provide:store]
readiness: notify
EOF
manifest store2 <<EOF
command: $BUSTEST serve store 2.0
capabilities: [provide:store]
readiness: notify
EOF
manifest v1client <<EOF
command: $BUSTEST client store ">=1.1,<2"
capabilities: ["call:store:r"]
after: [store1, store2]
EOF
manifest anyclient <<EOF
command: $BUSTEST client store ""
capabilities: ["call:store"]
after: [store1, store2]
EOF
orb_start
wait_log v1client "call: "
wait_log anyclient "call: "
expect_match "v1client got major 1" "$(log_line v1client 'call: ')" "call: .* version 1\.2$"
expect_match "any version picks the highest" "$(log_line anyclient 'call: ')" "call: .* version 2\.0$"

# The registry lists both, with one channel each.
reg=$(ctl --json services | jq -c '[.services[] | select(.type=="store") | [.version, .server, .channels]] | sort')
expect_eq "registry" "$reg" '[["1.2","store1",1],["2.0","store2",1]]'
ctl services | grep -qE '^store +1\.2 +store1 +test +1$' || fail "orbctl services text: $(ctl services)"

# The client's table: the declared cap and the channel derived from it.
caps=$(ctl --json caps v1client | jq -c '[.caps[] | [.slot, .object, .rights, .channel]]')
expect_eq "v1client caps" "$caps" '[[1,"store","r--",false],[2,"store","r--",true]]'

# orbctl call: generic, from the contract (root is an operator).
out=$(ctl --json call store echo '{"text": "héllo"}')
expect_eq "orbctl call" "$(echo "$out" | jq -c .)" '{"text":"héllo","version":"2.0"}'
# Bad JSON arguments are refused with the field named, before any call.
set +e
err=$(ctl call store echo '{"text": 5}' 2>&1); rc=$?
set -e
expect_eq "exit code of bad arguments" "$rc" 100
expect_match "names the field" "$err" "text"
set +e
err=$(ctl call store nosuch '{}' 2>&1); rc=$?
set -e
expect_eq "exit code of an unknown method" "$rc" 100
set +e
err=$(ctl call nosuchservice echo '{}' 2>&1); rc=$?
set -e
expect_eq "exit code of an unknown service" "$rc" 1

# Rights: a read-only holder cannot call a write method.  Grant the
# v1client's channel (read only) to nobody: the operator calls `set` as
# itself (rw), which works; the read-only path is tested in test-bus-revoke.
ctl call store set '{"text": "from-operator"}' >/dev/null
wait_log store2 "set by orbctl\[[0-9]+\]: from-operator"
# Topics: a service with subscribe:demo hears what the operator and a
# service with publish:demo.tick publish below demo; others cannot listen.
manifest listener <<EOF
command: $BUSTEST subscribe demo
capabilities: ["subscribe:demo"]
readiness: notify
EOF
manifest teller <<EOF
command: $BUSTEST publish demo.tick 3 wait
capabilities: ["publish:demo.tick"]
after: [listener]
restart: never
EOF
ctl reload >/dev/null
wait_log listener "subscribe demo: "
wait_log teller "publish: ok=3 again=0 other=0"
wait_log listener "event demo.tick from teller: p+" 5
"$ORBCTL" subscribe demo >"$T/sub.out" 2>"$T/sub.err" &
SUB=$!
wait_for "orbctl subscribe" 5 grep -q "subscribed to demo" "$T/sub.err"
ctl publish demo.news "hello there"
wait_log listener "event demo.news from orbctl\[[0-9]+\]: hello there" 5
wait_for "orbctl subscribe output" 5 grep -qE '^demo.news orbctl\[[0-9]+\]: "hello there"$' "$T/sub.out"
kill "$SUB"; wait "$SUB" 2>/dev/null || true
# An unprivileged user's client holds nothing: it cannot subscribe or call.
if id nobody >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        chmod 755 "$T"
        set +e
        out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups env ORB_BUS_SOCKET="$T/run/bus.sock" \
              "$ORBCTL" publish demo.x y 2>&1); rc=$?
        set -e
        expect_eq "unprivileged publish" "$rc" 1
        set +e
        out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups env ORB_BUS_SOCKET="$T/run/bus.sock" \
              "$ORBCTL" call store echo '{"text":"x"}' 2>&1); rc=$?
        set -e
        expect_eq "unprivileged call" "$rc" 1
else
        echo "SKIP: unprivileged client checks need root and a 'nobody' user"
fi
pass
