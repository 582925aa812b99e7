#!/bin/bash
# Reload (orbctl reload and SIGHUP) restarts only services whose manifest
# changed; a bad manifest set is refused whole and nothing changes.
source "$(dirname "$0")/lib.sh"

manifest same <<EOF
command: [$TESTSVC, --print, same]
EOF
manifest changes <<EOF
command: [$TESTSVC, --print, v1]
EOF
manifest goes <<EOF
command: [$TESTSVC]
EOF
orb_start
wait_state same running; wait_state changes running; wait_state goes running
same_pid=$(field same .pid); changes_pid=$(field changes .pid); goes_pid=$(field goes .pid)

# a comment and reformatting do not count as a change
cat > "$M/same.yaml" <<EOF
# reformatted, same content
command:
  - $TESTSVC
  - --print
  - same
sandbox:
  read-only:
    - $ORB_BIN
EOF
manifest changes <<EOF
command: [$TESTSVC, --print, v2]
EOF
rm "$M/goes.yaml"
manifest new <<EOF
command: [$TESTSVC, --print, new]
EOF
out=$(ctl reload)
expect_eq "reload summary" "$out" "reloaded: 1 added, 1 removed, 1 changed (restarted), 1 unchanged"
wait_state changes running
wait_state new running
expect_eq "unchanged service keeps its process" "$(field same .pid)" "$same_pid"
[ "$(field changes .pid)" != "$changes_pid" ] || fail "changed service was not restarted"
wait_for "new manifest in effect" 5 bash -c "$ORBCTL logs changes | grep -q v2"
wait_for "removed service gone" 5 bash -c "! $ORBCTL status goes"
kill -0 "$goes_pid" 2>/dev/null && fail "removed service's process still runs"

# a bad manifest: refused with file and line, nothing changes
changes_pid=$(field changes .pid)
manifest changes <<EOF
command: [$TESTSVC, --print, v3]
restart: sometimes
EOF
set +e; out=$(ctl reload 2>&1); rc=$?; set -e
expect_eq "bad reload exit code" "$rc" 1
expect_match "bad reload names file and line" "$out" "invalid-manifest: reload refused, nothing changed: .*changes.yaml:2"
expect_match "bad reload names the field" "$out" "restart"
expect_eq "nothing restarted" "$(field changes .pid)" "$changes_pid"

# SIGHUP does the same as orbctl reload
manifest changes <<EOF
command: [$TESTSVC, --print, v4]
EOF
kill -HUP "$ORB_PID"
wait_for "SIGHUP reload" 5 bash -c "$ORBCTL logs changes | grep -q v4"
ctl events | grep -q "reload: 0 added, 0 removed, 1 changed" || fail "no reload event"

# a changed service an operator stopped stays stopped
ctl stop same >/dev/null
wait_state same stopped
manifest same <<EOF
command: [$TESTSVC, --print, same-v2]
EOF
ctl reload >/dev/null
sleep 0.3
expect_eq "stopped service stays stopped after reload" "$(state same)" stopped

# a stop under way survives a reload that changes the manifest
manifest slow <<EOF
command: [$TESTSVC, --ignore-term]
stop: {timeout: 1s}
EOF
ctl reload >/dev/null
wait_state slow running
ctl disable slow >/dev/null
manifest slow <<EOF
command: [$TESTSVC, --ignore-term, --print, v2]
stop: {timeout: 1s}
EOF
ctl reload >/dev/null
wait_state slow disabled 5
sleep 0.5
expect_eq "disable kept across reload" "$(state slow)" disabled
ctl enable slow >/dev/null
wait_state slow running

# removed, then added back while still stopping: one instance, running again
mv "$M/slow.yaml" "$T/slow.yaml"
ctl reload >/dev/null
ctl status slow >/dev/null 2>&1 && fail "a removed service is still visible"
mv "$T/slow.yaml" "$M/slow.yaml"
ctl reload >/dev/null
wait_for "slow to run again" 5 bash -c "[ \"\$($ORBCTL --json status slow | jq -r .state)\" = running ]"
sleep 1.5   # past the old instance's stop timeout, when a second instance broke
expect_eq "one instance of slow" "$(ctl --json list | jq '[.[] | select(.name=="slow")] | length')" 1
expect_eq "revived service keeps running" "$(state slow)" running

# no reload while shutting down: a slow stopper keeps orbitald in shutdown
kill -TERM "$ORB_PID"
wait_for "shutdown to begin" 5 bash -c "$ORBCTL list | grep -q stopping"
manifest late <<EOF
command: [$TESTSVC]
EOF
set +e; out=$(ctl reload 2>&1); rc=$?; set -e
expect_eq "reload during shutdown: exit code" "$rc" 1
expect_match "reload during shutdown: message" "$out" "shutting down"
orb_stop
pass
