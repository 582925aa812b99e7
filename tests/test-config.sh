#!/bin/bash
# orb-config through orbctl: sessions, commit, schema errors, conflicts,
# history and rollback, confirmed commits (also across a restart).
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: $TEST_NAME needs root (the service runs as daemon)"; exit 0; }
CFG=$T/cfg
SCHEMAS=$ORB_SRC/examples/demo/config
mkdir -p "$CFG" && chown daemon "$CFG"
manifest config <<EOF
command: [$ORB_BIN/src/services/config/orb-config, --schemas, $SCHEMAS, --store, $CFG/config.db, --history, "50",
          --veto-timeout, 2s]
user: daemon
capabilities: [provide:config, publish:config]
readiness: notify
sandbox: {read-only: [$ORB_BIN, $SCHEMAS], read-write: [$CFG]}
EOF
# Services bound to configuration paths: restarted, reloaded, left alone.
manifest bound <<EOF
command: [$TESTSVC, --print, up]
config: {watch: [system.hostname]}
EOF
manifest hup <<EOF
command: "trap 'echo reloaded' HUP; echo up; while true; do sleep 0.1; done"
config: {watch: ["net.iface"], on-change: reload}
EOF
manifest unbound <<EOF
command: [$TESTSVC, --print, up]
EOF
# Subscribers, started later: NAME SUBTREE MODE
sub() {
        manifest "$1" <<EOF
command: [$ORB_BIN/tests/orb-config-sub, $1, $2, $3]
capabilities: [call:config:r]
requires: [config]
readiness: notify
restart: never
enabled: false
EOF
}
sub ok-sub system.greeting accept
sub no-sub net.iface refuse
sub silent-sub net.bridge silent
sub crash-sub system.log-level crash
orb_start
wait_state config running 10
cfg() { ctl config "$@"; }
# refused CMD...: the command must fail (exit 1) and print its reason
refused() { set +e; out=$("$ORBCTL" config "$@" 2>&1); rc=$?; set -e; [ $rc = 1 ] || fail "config $* exited $rc: $out"; }

# A candidate: set, get, diff, commit.
expect_eq "empty" "$(cfg show)" ""
cfg set system.hostname gw-1
expect_eq "get from the candidate" "$(cfg get system.hostname)" "gw-1 (candidate)"
expect_eq "a default" "$(cfg get system.greeting)" "hello (default)"
expect_eq "running is untouched" "$(cfg show --running)" ""
expect_eq "diff" "$(cfg diff)" "+ system.hostname = \"gw-1\""
expect_match "dry run" "$(cfg commit --dry-run)" "dry run: valid; nothing committed"
expect_eq "a dry run commits nothing" "$(ctl --json config status | jq .revision)" 0
expect_match "commit" "$(cfg commit -m first)" "committed 1$"
expect_eq "running" "$(cfg show --running)" "system.hostname = \"gw-1\""
expect_eq "get from running" "$(cfg get system.hostname)" "gw-1 (running)"
expect_eq "nothing left to commit" "$(cfg diff)" "no changes"

# Schema violations name the path and the rule; nothing is stored.
refused set net.iface[eth0].mtu 20000
expect_match "range" "$out" "net.iface\[eth0\].mtu.*68.*9000"
refused set system.hostname "Bad Name"
expect_match "pattern" "$out" "system.hostname"
refused set net.nosuch 1
expect_match "unknown node" "$out" "net.nosuch"
cfg set net.iface[eth0].mtu 1400             # mode is required
cfg set net.iface[eth0].bridge br9           # and br9 does not exist
refused commit -m broken
expect_match "required leaf" "$out" "net.iface\[eth0\].mode"
expect_match "dangling ref" "$out" "br9"
expect_eq "a refused commit changes nothing" "$(ctl --json config status | jq .revision)" 1
cfg set net.iface[eth0].mode static
cfg set net.bridge[br9].name br9
expect_match "fixed" "$(cfg commit -m 'eth0 on br9')" "committed 2$"
cfg delete net.bridge[br9]                    # still referenced by eth0
refused commit -m 'drop br9'
expect_match "a referenced entry" "$out" "net.iface\[eth0\].bridge"
cfg discard
expect_eq "discarded" "$(cfg diff)" "no changes"

# Two sessions: the second commit conflicts, and goes through rebased.
cfg --session a set system.greeting hi
cfg --session b set system.log-level debug
expect_match "session a" "$(cfg --session a commit -m a)" "committed 3$"
refused --session b commit -m b
expect_match "conflict" "$out" "conflict: the running configuration is at revision 3"
expect_match "rebased" "$(cfg --session b commit --rebase -m b)" "committed 4$"
expect_eq "both changes" "$(cfg show system --running | grep -c 'greeting\|log-level')" 2

# The shell: commands from stdin (a terminal gets line editing and Tab).
out=$(printf 'set system.greeting "hi there"\nshow system.greeting\ndiscard\nexit\n' | "$ORBCTL" config edit)
expect_eq "edit: quoted value" "$out" 'system.greeting = "hi there"'
set +e; out=$(printf 'set net.iface[x].mtu 5\nget system.greeting\n' | "$ORBCTL" config edit 2>/dev/null); rc=$?; set -e
expect_eq "edit: a failed command fails the run" "$rc" 1
expect_eq "edit: and ends it (no command runs on a half-made candidate)" "$out" ""
# What Tab offers: subtrees, children, list keys.
expect_eq "complete subtrees" "$(cfg complete '' | sort | tr '\n' ' ')" "net system "
expect_eq "complete a child" "$(cfg complete net.if)" "net.iface"
expect_eq "complete a key" "$(cfg complete 'net.iface[')" "net.iface[eth0]"
expect_eq "complete leaves" "$(cfg complete 'net.iface[eth0].m' | sort | tr '\n' ' ')" \
        "net.iface[eth0].mode net.iface[eth0].mtu "

# History and rollback (itself a commit).
expect_eq "history" "$(ctl --json config history | jq -c '[.[] | .id]')" "[4,3,2,1]"
expect_match "rollback" "$(cfg rollback 2 -m undo)" "committed 5$"
expect_eq "back to commit 2" "$(cfg get system.greeting)" "hello (default)"
expect_eq "rollback kind" "$(ctl --json config history -n 1 | jq -r '.[0].kind')" rollback
refused rollback 99
expect_match "no such commit" "$out" "no such commit"

# Confirmed commits: confirmed, timed out, and timed out across a restart.
cfg set system.greeting kept
cfg commit --confirm 30s -m keep >/dev/null
expect_eq "pending" "$(ctl --json config status | jq .pending_id)" 6
cfg confirm
expect_eq "confirmed" "$(ctl --json config status | jq .pending_id)" 0
cfg set system.greeting lost
cfg commit --confirm 1s -m lose >/dev/null
wait_for "the automatic rollback" 10 bash -c "[ \"\$($ORBCTL config get system.greeting)\" = 'kept (running)' ]"
expect_eq "rolled back by a commit" "$(ctl --json config history -n 1 | jq -r '.[0].kind')" confirm-timeout
cfg set system.greeting gone
cfg commit --confirm 2s -m 'lost in a restart' >/dev/null
ctl stop config >/dev/null
sleep 3
ctl start config >/dev/null
wait_state config running 10
expect_eq "rolled back after the restart" "$(cfg get system.greeting)" "kept (running)"

# Reactions: orbitald restarts (or sends SIGHUP to) the services bound to
# what a commit changed, and a dry run says which it would be.
bound_pid=$(field bound .pid); hup_pid=$(field hup .pid); unbound_pid=$(field unbound .pid)
cfg set system.hostname gw-2
cfg set net.iface[eth0].mtu 1300
out=$(cfg commit --dry-run)
expect_match "dry run: restart" "$out" "would restart bound"
expect_match "dry run: reload" "$out" "would reload hup"
[[ "$out" != *unbound* ]] || fail "a dry run names a service that watches nothing: $out"
out=$(cfg commit -m react)
id=$(sed -n 's/^committed //p' <<<"$out")
wait_for "bound restarted" 10 bash -c "p=\$($ORBCTL --json status bound | jq .pid); [ \"\$p\" != null ] && [ \"\$p\" != $bound_pid ]"
wait_state bound running 10
wait_log bound "config: commit $id changed system.hostname: restart" 5
wait_log hup "config: commit $id changed net.iface\[eth0\].mtu: reload" 5
wait_log hup "^.*reloaded$" 5
expect_eq "reload keeps the process" "$(field hup .pid)" "$hup_pid"
expect_eq "an unbound service is left alone" "$(field unbound .pid)" "$unbound_pid"

# Subscribers check commits that touch their subtree: accept, refuse,
# say nothing (timeout), crash; a refused commit changes nothing.
for s in ok-sub no-sub silent-sub crash-sub; do ctl enable $s >/dev/null; ctl start $s >/dev/null 2>&1 || true; wait_log $s "subscribed" 10; done
cfg set system.greeting checked
expect_match "dry run names who is asked" "$(cfg commit --dry-run)" "subscribers asked: ok-sub"
out=$(cfg commit -m checked)
expect_match "accepted" "$out" "committed [0-9]+$"
expect_match "who checked it" "$out" "subscribers asked: ok-sub"
id=$(sed -n 's/^committed //p' <<<"$out")
wait_log ok-sub "sub ok-sub: outcome committed $id" 5
rev=$(ctl --json config status | jq .revision)
cfg set net.iface[eth0].mtu 1280
refused commit -m vetoed
expect_match "refused, naming who and why" "$out" "refused by no-sub: policy says no"
expect_eq "a vetoed commit changes nothing" "$(ctl --json config status | jq .revision)" "$rev"
wait_log no-sub "sub no-sub: outcome refused: refused by no-sub" 5
cfg discard
cfg set net.bridge[br2].name br2
refused commit -m timeout
expect_match "timeout" "$out" "no answer in time from silent-sub"
cfg discard
cfg set system.log-level warn
refused commit -m crash
expect_match "a subscriber that crashed" "$out" "no answer in time from crash-sub"
wait_state crash-sub failed 5
expect_eq "still nothing changed" "$(ctl --json config status | jq .revision)" "$rev"
# The silent and crashed ones lost their subscriptions: commits go through.
expect_match "no stale veto" "$(cfg commit -m 'after them')" "committed [0-9]+$"

# Two subscriptions of one owner (root's outside clients share an
# identity): each verdict counts for its own subscription only.
for who in "yes-a accept" "no-b refuse"; do
        set -- $who
        ORB_BUS_SOCKET=$T/run/bus.sock "$ORB_BIN/tests/orb-config-sub" "$1" system.hostname "$2" > "$T/$1.out" 2>&1 &
        CLEANUP_PIDS+=($!)
done
wait_for "both subscribed" 10 bash -c "grep -q subscribed $T/yes-a.out && grep -q subscribed $T/no-b.out"
cfg set system.hostname gw-9
refused commit -m 'one owner, two subscriptions'
expect_match "the refusing one counts" "$out" "refused by no-b: policy says no"
cfg discard
kill "${CLEANUP_PIDS[@]}" 2>/dev/null || true

# A commit far larger than a bus message (its diff travels in a memfd).
for i in $(seq 1 1600); do echo "set net.bridge[b$i].name b$i"; done | "$ORBCTL" config --session big edit
out=$(cfg --session big commit -m big | tail -1)
expect_match "a 1,600-leaf commit" "$out" "committed [0-9]+$"
big_id=$(sed -n 's/committed //p' <<<"$out")
expect_eq "history of it" "$(ctl --json config history -n 1 | jq '.[0].diff.added | length')" 1600
expect_eq "show all of it" "$(cfg show net.bridge --running | grep -c 'net.bridge\[b[0-9]*\]')" 1600
expect_match "roll it back" "$(cfg rollback $((big_id - 1)) -m 'not big')" "committed"
expect_eq "gone" "$(cfg show net.bridge --running | grep -c 'net.bridge\[b[0-9]*\]' || true)" 0

# Malformed requests get clear errors.
set +e
out=$("$ORBCTL" call config set '{"session": "", "path": 5, "value": "x"}' 2>&1); rc=$?
set -e
[ $rc != 0 ] || fail "a number for a string field was taken"
expect_match "type error" "$out" "path"
refused set 'net..iface' 1
expect_match "bad path" "$out" "net..iface"
set +e; "$ORBCTL" config rollback abc >/dev/null 2>&1; rc=$?; set -e
expect_eq "usage" "$rc" 100
pass
