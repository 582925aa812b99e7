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
"${RUNAS[@]}" env HOME="$T" "$ORBITALD" -m "$M" -r "$T/run" -s "$T/state" >>"$T/orbitald.log" 2>&1 &
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
"${RUNAS[@]}" "$ORBCTL" stop fine >/dev/null || fail "the owner cannot stop"
wait_state fine stopped
orb_stop
pass
