#!/bin/bash
# orbitald as an ordinary user: it runs services, says what it cannot
# enforce, falls back to rlimits, and refuses changes from other users.
source "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
        echo "SKIP: $TEST_NAME: needs root to switch to an unprivileged user"
        exit 0
fi
chmod 755 "$T"
RUNAS=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
chown -R nobody:nogroup "$T"

cat > "$M/hog.yaml" <<EOF
command: [$TESTSVC, --hog, "200"]
limits: {memory: 32M}
restart: never
EOF
cat > "$M/fine.yaml" <<EOF
command: [$TESTSVC, --print, hello]
EOF
chown nobody:nogroup "$M"/*.yaml
"${RUNAS[@]}" env HOME="$T" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0" "$ORBITALD" -m "$M" -r "$T/run" -s "$T/state" >>"$T/orbitald.log" 2>&1 &
ORB_PID=$!
wait_for "orbitald to answer" 10 "$ORBCTL" list

grep -q "not root" "$T/orbitald.log" || fail "no message about running unprivileged"
grep -q "rlimits only" "$T/orbitald.log" || fail "no message about the limits fallback"
wait_state fine running
expect_eq "limits enforcement" "$(field fine .limits.enforcement)" rlimit
# RLIMIT_AS stops the hog: malloc fails and it exits
wait_state hog failed
ctl logs hog -n 5 | grep -q "out of memory" || fail "hog was not stopped by RLIMIT_AS"

# root may still change things (root always may); another user may read, not change
"${RUNAS[@]}" "$ORBCTL" list >/dev/null || fail "the owner cannot list"
set +e
out=$(setpriv --reuid=daemon --regid=daemon --clear-groups "$ORBCTL" stop fine 2>&1); rc=$?
set -e
expect_eq "stop by another user: exit code" "$rc" 1
expect_match "stop by another user: message" "$out" "permission-denied"
setpriv --reuid=daemon --regid=daemon --clear-groups "$ORBCTL" status fine >/dev/null || fail "another user cannot read"
# services' output may hold secrets: only root and the owner read it
set +e
out=$(setpriv --reuid=daemon --regid=daemon --clear-groups "$ORBCTL" logs fine 2>&1); rc=$?
set -e
expect_eq "logs by another user: exit code" "$rc" 1
expect_match "logs by another user: message" "$out" "permission-denied: logs: only root or uid [0-9]+ may read services' output"
"${RUNAS[@]}" "$ORBCTL" logs fine | grep -q hello || fail "the owner cannot read logs"
expect_eq "crash lines hidden from another user" \
        "$(setpriv --reuid=daemon --regid=daemon --clear-groups "$ORBCTL" --json status hog | jq '[.crashes[].last_lines[]] | length')" 0
[ "$("$ORBCTL" --json status hog | jq '[.crashes[].last_lines[]] | length')" -gt 0 ] || fail "root sees no crash lines"

# another user cannot lock others out: a few connections each, never the reserved slots
RAW=$ORB_BIN/tests/orb-rawclient
kept=$(setpriv --reuid=daemon --regid=daemon --clear-groups "$RAW" "$ORBITAL_SOCKET" --hold 20 1500)
expect_eq "connections kept for one other user" "$kept" 8
holders=()
for u in daemon bin sys sync games man lp mail news uucp proxy www-data backup list irc; do
        id "$u" >/dev/null 2>&1 || continue
        setpriv --reuid="$u" --regid=nogroup --clear-groups "$RAW" "$ORBITAL_SOCKET" --hold 20 3000 >/dev/null &
        holders+=($!)
done
sleep 1
"$ORBCTL" list >/dev/null || fail "root was locked out by other users' connections"
"${RUNAS[@]}" "$ORBCTL" list >/dev/null || fail "the owner was locked out by other users' connections"
wait "${holders[@]}"

# a client that never reads its replies costs one reply, not one per request
# (20,000 queued list replies would be megabytes; ASan's quarantine is
# off for this orbitald so that its RSS shows live memory)
orb_rss() { awk '/VmRSS/ {print $2}' "/proc/$(pgrep -f -n "^$ORBITALD -m $M")/status"; }
rss0=$(orb_rss)
setpriv --reuid=daemon --regid=daemon --clear-groups "$RAW" "$ORBITAL_SOCKET" --unread 20000 500 &
unreader=$!
sleep 0.5
rss=$(orb_rss)
# ASan adds about 2 MB of its own (shadow pages, allocator caches)
limit=1024
grep -q asan "/proc/$(pgrep -f -n "^$ORBITALD -m $M")/maps" && limit=3072
[ $((rss - rss0)) -lt $limit ] || fail "orbitald grew from $rss0 to $rss KiB for a client that does not read"
wait $unreader
"${RUNAS[@]}" "$ORBCTL" stop fine >/dev/null || fail "the owner cannot stop"
wait_state fine stopped
orb_stop
pass
