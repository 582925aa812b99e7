#!/bin/bash
# Start in dependency order, waiting for readiness (notify fd and
# sd_notify); SIGTERM stops in reverse order; stop/start cascade.
source "$(dirname "$0")/lib.sh"
R=$T/record  # every service appends to it: they run unsandboxed (sandbox: off)

# db is slow to become ready (s6-style newline on its notify fd)
manifest db <<EOF
command: [$TESTSVC, --record, $R, --sleep, "400", --ready]
sandbox: off
readiness: {type: notify, fd: 5}
EOF
# cache uses sd_notify(3) through \$NOTIFY_SOCKET, with a STATUS line
manifest cache <<EOF
command: [$TESTSVC, --record, $R, --sleep, "200", --sd-notify, "STATUS=warming up", --sleep, "100", --sd-notify, "READY=1"]
sandbox: off
readiness: notify
requires: [db]
EOF
manifest web <<EOF
command: [$TESTSVC, --record, $R]
sandbox: off
requires: [cache]
after: [log]
EOF
manifest log <<EOF
command: [$TESTSVC, --record, $R, --sleep, "300", --ready-fd-text, "READY=1"]
sandbox: off
readiness: notify
EOF
# records: readiness none means running at exec, before the first line
records() { [ "$(grep -c "^$1" "$R" 2>/dev/null)" = "$2" ]; }
orb_start
wait_state web running 10
wait_for "4 start records" 5 records start 4

starts=$(grep '^start' "$R" | awk '{print $2}' | tr '\n' ' ')
# db and log start first (no deps); cache only after db is ready; web last
expect_match "start order" "$starts" "^(db log|log db) cache web $"
expect_eq "cache status text" "$(field cache .status_text)" "warming up"
expect_eq "db readiness" "$(field db .readiness)" notify

# the web service waited: it started after cache reported ready
grep -q "cache: starting -> running" <(ctl events) || fail "cache never became ready"

# operator stop of db stops cache and web first (they require it)
: > "$R"
ctl stop db >/dev/null
wait_state db stopped
wait_for "3 stop records" 5 records stop 3
expect_eq "web stopped with db" "$(state web)" stopped
expect_eq "cache stopped with db" "$(state cache)" stopped
expect_eq "log untouched" "$(state log)" running
stops=$(grep '^stop' "$R" | awk '{print $2}' | tr '\n' ' ')
expect_eq "stop order" "$stops" "web cache db "

# start web pulls its requirements back up, in order
: > "$R"
ctl start web >/dev/null
wait_state web running 10
wait_for "3 start records" 5 records start 3
starts=$(grep '^start' "$R" | awk '{print $2}' | tr '\n' ' ')
expect_eq "start cascade order" "$starts" "db cache web "

# SIGTERM: everything stops in reverse dependency order
: > "$R"
orb_stop
stops=$(grep '^stop' "$R" | awk '{print $2}' | tr '\n' ' ')
expect_match "shutdown order" "$stops" "^web (cache (db log|log db)|log cache db) $"
pass
