#!/bin/bash
# Limits: memory and pids through the cgroups this host offers (v2, or v1
# on hybrid hosts like these machines); a violation kills and reclaims the
# service and records limit:<which>.  Without cgroups, rlimits.
source "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
        echo "SKIP: $TEST_NAME: cgroup limits need root (the rlimit path is tested in test-unprivileged)"
        exit 0
fi

manifest hog <<EOF
command: [$TESTSVC, --print, starting, --hog, "200"]
limits: {memory: 32M}
backoff: {initial: 5s}
breaker: off
EOF
manifest forker <<EOF
command: [$TESTSVC, --fork, "10"]
limits: {pids: 4}
backoff: {initial: 5s}
breaker: off
EOF
manifest quiet <<EOF
command: [$TESTSVC, --threads, "3"]
limits: {memory: 16M, pids: 8, cpu: 20%, files: 64}
EOF
# a stale directory of an orbitald that died (pid 99999 is above pid_max here)
own_memcg=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' /proc/self/cgroup)
stale=/sys/fs/cgroup/memory${own_memcg%/}/orbital-99999
mkdir -p "$stale/svc" 2>/dev/null || stale=
orb_start
if [ -n "$stale" ]; then
        [ ! -e "$stale" ] || fail "stale cgroup $stale was not removed"
        grep -q "removed stale cgroup .*orbital-99999" "$T/orbitald.log" || fail "no log line for the stale cgroup"
fi
mode=$("$ORBCTL" list | tail -1)
echo "limits mode: $mode"
case "$mode" in
*cgroup-v1*|*cgroup-v2*) ;;
*) echo "SKIP: $TEST_NAME: no usable cgroups here: $mode"; orb_stop; exit 0 ;;
esac

wait_for "hog to be killed" 10 bash -c "[ \$($ORBCTL --json status hog | jq .restarts) -ge 1 ]"
expect_match "hog crash reason" "$(field hog '.crashes[0].reason')" "^limit:memory"
ctl events | grep -q "hog: limit: limit:memory" || fail "no limit event for hog"
expect_match "hog crash record keeps its last output" "$(field hog '.crashes[0].last_lines | join("|")')" "allocated"

wait_for "forker to hit pids.max" 10 bash -c "[ \$($ORBCTL --json status forker | jq .restarts) -ge 1 ]"
expect_match "forker crash reason" "$(field forker '.crashes[0].reason')" "^limit:pids"

# usage is visible and within the limits
wait_state quiet running
expect_eq "memory max" "$(field quiet .limits.memory.max)" 16777216
expect_eq "pids max" "$(field quiet .limits.pids.max)" 8
expect_eq "pids current (main + 3 threads; orb-init is outside the cgroup)" "$(field quiet .limits.pids.current)" 4
expect_eq "cpu max" "$(field quiet .limits.cpu.max_percent)" 20
expect_eq "files max" "$(field quiet .limits.files.max)" 64
files=$(field quiet .limits.files.current)
[ "$files" -ge 3 ] && [ "$files" -le 64 ] || fail "files current out of range: $files"
pid=$(field quiet .pid)
expect_eq "RLIMIT_NOFILE of the process" "$(awk '/Max open files/ {print $4}' /proc/$pid/limits)" 64

# a reload with new limits: the restarted service runs under them
manifest quiet <<EOF
command: [$TESTSVC, --threads, "3"]
limits: {memory: 24M, pids: 6, cpu: 30%, files: 128}
EOF
ctl reload >/dev/null
wait_for "quiet restarted" 5 bash -c "[ \"\$($ORBCTL --json status quiet | jq .pid)\" != $pid ] && [ \"\$($ORBCTL --json status quiet | jq -r .state)\" = running ]"
expect_eq "memory max after reload" "$(field quiet .limits.memory.max)" 25165824
expect_eq "pids max after reload" "$(field quiet .limits.pids.max)" 6
pid=$(field quiet .pid)
memcg=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' /proc/$pid/cgroup)
[ -z "$memcg" ] || expect_eq "kernel memory limit" "$(cat /sys/fs/cgroup/memory$memcg/memory.limit_in_bytes)" 25165824
cpucg=$(awk -F: '$2 ~ /(^|,)cpu(,|$)/ {print $3}' /proc/$pid/cgroup)
[ -z "$cpucg" ] || expect_eq "kernel CPU quota" "$(cat /sys/fs/cgroup/cpu$cpucg/cpu.cfs_quota_us)" 30000
orb_stop
pass
