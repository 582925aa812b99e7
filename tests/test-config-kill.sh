#!/bin/bash
# kill -9 of the real orb-config at random moments while a client commits
# in a loop, until at least 200 commits were made: after each restart the
# running configuration is one whole commit (greeting gN and hostname hN
# always from the same N), and at the end the history is consecutive.
# (The unit test test-config-crash does the same to the store code alone,
# with 200 kills.)
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: $TEST_NAME needs root (the service runs as daemon)"; exit 0; }
CFG=$T/cfg
SCHEMAS=$ORB_SRC/examples/demo/config
mkdir -p "$CFG" && chown daemon "$CFG"
manifest config <<EOF
command: [$ORB_BIN/src/services/config/orb-config, --schemas, $SCHEMAS, --store, $CFG/config.db, --history, "100"]
user: daemon
capabilities: [provide:config, publish:config]
readiness: notify
restart: always
backoff: {initial: 0, max: 0, jitter: 0}
breaker: off
sandbox: {read-only: [$ORB_BIN, $SCHEMAS], read-write: [$CFG]}
EOF
orb_start
wait_state config running 10

# The committer: commit N sets both leaves to N, in one commit.
(
        i=0
        while :; do
                i=$((i + 1))
                printf 'set system.greeting g%d\nset system.hostname h%d\ncommit -m %d\n' $i $i $i |
                        "$ORBCTL" config --session crash edit >/dev/null 2>&1 || true
        done
) &
COMMITTER=$!
CLEANUP_PIDS+=("$COMMITTER")

# After a restart (waiting for it): both leaves from the same commit N,
# or neither set yet.
check_whole() {
        local leaves pair
        for _ in $(seq 1 500); do
                leaves=$("$ORBCTL" --json config show system --running 2>/dev/null) && break
                sleep 0.01
        done
        [ -n "$leaves" ] || fail "orb-config did not come back"
        pair=$(jq -r '(."system.greeting" // "g0")[1:] + " " + (."system.hostname" // "h0")[1:]' <<<"$leaves")
        [ "${pair% *}" = "${pair#* }" ] || fail "a mixed commit after a kill: greeting/hostname numbers $pair"
}

# Kill until at least 200 commits were made under the kills (and 50
# kills landed); at most 400 kills.
kills=0
rev=0
for round in $(seq 1 400); do
        sleep "0.0$((RANDOM % 4))$((RANDOM % 10))"   # 0 to 39 ms into whatever it is doing
        # this test's orb-config only (its store is in $T): tests run side by side
        pid=$(pgrep -f "^$ORB_BIN/src/services/config/orb-config .*--store $CFG/config.db" | head -1)
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
        check_whole
        if [ $((round % 10)) = 0 ]; then
                rev=$("$ORBCTL" --json config status 2>/dev/null | jq .revision) || rev=0
                [ "$rev" -lt 200 ] || [ "$kills" -lt 50 ] || break
        fi
done
kill $COMMITTER 2>/dev/null || true
[ "$kills" -ge 50 ] || fail "only $kills kills landed"
wait_for "orb-config back" 10 bash -c "$ORBCTL config status >/dev/null 2>&1"
rev=$(ctl --json config status | jq .revision)
[ "$rev" -ge 200 ] || fail "only $rev commits in 400 kills"
ids=$(ctl --json config history -n 100 | jq -c '[.[] | .id]')
expect_eq "history is consecutive" "$ids" "$(jq -nc --argjson r "$rev" '[range($r; ([$r - 100, 0] | max); -1)]')"
echo "$kills kills, $rev commits made"
pass
