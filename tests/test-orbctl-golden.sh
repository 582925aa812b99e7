#!/bin/bash
# orbctl's human output, diffed against a golden transcript after
# normalising what varies from run to run (pids, times, durations, memory).
# Regenerate with UPDATE_GOLDEN=1 after an intended change, and review the diff.
source "$(dirname "$0")/lib.sh"
GOLDEN=$ORB_SRC/tests/golden/orbctl.txt

manifest db <<EOF
description: a database
command: [$TESTSVC, --print, "db up", --ready]
readiness: notify
limits: {memory: 64M, pids: 16, cpu: 50%, files: 256}
EOF
manifest app <<EOF
command: [$TESTSVC, --print, "app up"]
requires: [db]
EOF
manifest broken <<EOF
command: [$TESTSVC, --stderr, "cannot open config", --exit, "3"]
restart: never
EOF
manifest idle <<EOF
command: [$TESTSVC]
enabled: false
EOF
orb_start
wait_state app running
wait_state broken failed
wait_for "app output" 5 bash -c "$ORBCTL logs app | grep -q 'app up'"

normalise() {
        sed -E \
                -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/g' \
                -e "s|$T|TMP|g" \
                -e 's/(main process) [0-9]+/\1 PID/' \
                -e 's/\[[0-9]+\]/[PID]/' \
                -e 's/^(  pid: +)[0-9]+/\1PID/' \
                -e 's/^(  uptime: +)[0-9.]+(ms|s|m)/\1DUR/' \
                -e 's/^(    memory +)([0-9.]+ (B|KiB|MiB)|-)/\1MEM/' \
                -e 's/^(    cpu +)([0-9.]+ s|-) used/\1CPU used/' \
                -e 's/^(    pids +)([0-9]+|-) of/\1N of/' \
                -e 's/(cgroup-v1|cgroup-v2|rlimit)/LIMITS/' \
                -e 's/^(\S+ +\S+) +[0-9]+ +[0-9.]+(ms|s|m) +/\1  PID  DUR  /'
}

run() {
        echo "\$ orbctl $*"
        set +e
        "$ORBCTL" "$@" 2>&1 | normalise
        echo "[exit ${PIPESTATUS[0]}]"
        set -e
}

{
        run list
        run status db
        run status broken
        run logs broken
        run start idle
        run status nosuch
        run frobnicate
        run stop app
} > "$T/actual" 2>&1
sleep 0.2
run list >> "$T/actual"

if [ -n "${UPDATE_GOLDEN:-}" ]; then
        cp "$T/actual" "$GOLDEN"
        echo "updated $GOLDEN"
fi
diff -u "$GOLDEN" "$T/actual" || fail "orbctl output differs from $GOLDEN (see the diff above)"
orb_stop
pass
