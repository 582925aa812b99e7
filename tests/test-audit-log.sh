#!/bin/bash
# The audit log records grants, revocations, registrations, denied lookups
# and state changes, hash-chained; orbctl audit --verify finds a changed
# record and a cut tail.
source "$(dirname "$0")/lib.sh"

manifest echo <<EOF
command: $BUSTEST serve echo 1.0
capabilities: [provide:echo]
EOF
manifest probe <<EOF
command: $BUSTEST probe
restart: never
EOF
manifest alice <<EOF
command: $BUSTEST client echo ""
capabilities: ["call:echo:rwg"]
after: [echo]
EOF
orb_start
wait_log probe "probe done"
wait_log alice "call: "
ctl grant alice 1 probe --rights r >/dev/null
ctl revoke alice 1 >/dev/null

A=$T/state/audit.log
[ "$(stat -c %a "$A")" = 600 ] || fail "audit log mode $(stat -c %a "$A")"
has() { ctl --json audit -n 1000 | jq -se "map(select($1)) | length > 0" >/dev/null || fail "no audit record: $1"; }
has '.kind == "lookup.denied" and .actor == "probe" and .service_type == "echo"'
has '.kind == "register.denied" and .actor == "probe"'
has '.kind == "service.register" and .actor == "echo" and .version == "1.0"'
has '.kind == "cap.grant" and .policy == "manifest" and .cap.holder == "alice"'
has '.kind == "cap.grant" and .from == "alice" and .cap.holder == "probe" and .cap.rights == "r--"'
has '.kind == "channel.open" and .actor == "alice"'
has '.kind == "cap.revoke" and .cap.holder == "alice" and .reason == 1'
has '.kind == "service.state" and .actor == "echo" and .to == "running"'

out=$(ctl audit --verify) || fail "verify of an intact log: $out"
expect_match "verify" "$out" "^audit log OK: [0-9]+ records"
orb_stop || true
out=$(ctl audit --file "$A" --verify 2>&1) || fail "verify after a clean stop: $out"

# A changed byte in a middle record: a hash mismatch at that record.
cp "$A" "$T/audit.orig"
n=$(wc -l < "$A")
mid=$((n / 2))
sed -i "${mid}s/\"kind\":\"/\"kind\":\"X/" "$A"
set +e; out=$(ctl audit --file "$A" --verify 2>&1); rc=$?; set -e
expect_eq "exit code for a changed record" "$rc" 1
expect_match "names the record" "$out" "line $mid"

# The last record cut off: the head file says there was more.
cp "$T/audit.orig" "$A"
sed -i '$d' "$A"
set +e; out=$(ctl audit --file "$A" --verify 2>&1); rc=$?; set -e
expect_eq "exit code for a cut tail" "$rc" 1
expect_match "truncation" "$out" "truncated"
pass
