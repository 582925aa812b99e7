#!/bin/bash
# A service whose manifest declares nothing holds nothing: every message
# type it can send is refused (lookup looks exactly like a missing
# service), garbage gets a protocol error, and orbitald carries on.
source "$(dirname "$0")/lib.sh"

manifest echo <<EOF
command: $BUSTEST serve echo 1.0
capabilities: [provide:echo]
EOF
manifest probe <<EOF
command: $BUSTEST probe $T
restart: never
EOF
orb_start
wait_log echo "serving echo 1.0"
wait_log probe "probe done"

code() { log_line probe "probe $1:" | sed -E 's/.*code=([0-9]+).*/\1/'; }
# enum orb_status: PROTO 4096, NOT_FOUND 4097, DENIED 4098, INVALID 4102
expect_eq "lookup of a service it may not see" "$(code lookup)" 4097
expect_eq "lookup of a missing service" "$(code lookup-missing)" 4097
expect_eq "register without provide:" "$(code register)" 4098
expect_eq "publish without publish:" "$(code publish)" 4098
expect_eq "subscribe without subscribe:" "$(code subscribe)" 4098
expect_eq "grant of an empty slot" "$(code grant)" 4102
expect_eq "revoke of an empty slot" "$(code revoke)" 4102
expect_eq "unknown message type" "$(code unknown-type)" 4096
expect_eq "garbage" "$(code garbage)" 4096
expect_eq "a message shorter than a header" "$(code short)" 4096
expect_eq "a record over 64 KiB" "$(code oversized)" 4096
for t in 0002 3002 3009 3010 3020 3021 3022 30ff; do
        expect_eq "type 0x$t from a service" "$(code type-0x$t)" 4096
done
expect_eq "its own (empty) table" "$(code caps)" 0
expect_eq "unsubscribe of nothing" "$(code unsubscribe)" 4102

# Its table is empty; echo's holds exactly the declared provide:echo.
[ "$(ctl --json caps probe | jq '.caps | length')" = 0 ] || fail "probe holds capabilities: $(ctl caps probe)"
expect_eq "echo's table" "$(ctl --json caps echo | jq -c '[.caps[] | [.type, .object, .rights, .provider]]')" \
        '[["endpoint","echo","rwg",true]]'
# No channel was opened to echo.
expect_eq "channels to echo" "$(ctl --json services | jq '.services[] | select(.type == "echo") | .channels')" 0
kill -0 "$ORB_PID" || fail "orbitald died"
pass
