#!/bin/bash
# stdout/stderr captured per service: structured records in memory and on
# disk, rotated by size, followed live with logs -f.
source "$(dirname "$0")/lib.sh"

manifest talker <<EOF
command: "i=0; while [ \$i -lt 400 ]; do echo line-\$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=\$((i+1)); done; echo oops >&2; exec sleep 100"
EOF
manifest partial <<EOF
command: "printf 'no newline at end'"
EOF
manifest binary <<EOF
command: |
  printf 'bad \377\376 bytes\n'; exec $TESTSVC --sd-notify "\$(printf 'STATUS=x\377y')" --sd-notify READY=1
readiness: notify
EOF
manifest ticker <<EOF
command: "while true; do echo tick; sleep 0.1; done"
EOF
orb_start --log-max-size 8K --log-keep 2
wait_for "talker output" 5 bash -c "$ORBCTL logs talker -n 1000 | grep -q oops"

# stderr and stdout are separate streams, records carry the pid
ctl --json logs talker -n 1000 | jq -r 'select(.stream=="stderr") .text' | grep -qx oops || fail "stderr line missing"
expect_eq "last stdout line" "$(ctl --json logs talker -n 1000 | jq -r 'select(.stream=="stdout") .text' | tail -1)" \
        "line-399-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
expect_eq "records carry the pid" "$(ctl --json logs talker -n 1 | jq .pid)" "$(field talker .pid)"
# an unterminated last line is kept once the process is gone
wait_state partial stopped
expect_eq "unterminated line" "$(ctl --json logs partial -n 2 | jq -r 'select(.stream=="stdout") .text')" \
        "no newline at end"

# invalid UTF-8 from a service: replaced in replies, kept raw on disk
wait_state binary running
expect_eq "invalid bytes replaced" "$(ctl --json logs binary -n 10 | jq -r 'select(.stream=="stdout") .text' | head -1)" \
        "bad $(printf '\xef\xbf\xbd\xef\xbf\xbd') bytes"
expect_eq "status text repaired" "$(field binary .status_text)" "x$(printf '\xef\xbf\xbd')y"
grep -q "$(printf 'bad \377\376 bytes')" "$T/state/logs/binary.log" || fail "raw bytes not kept in the file"
expect_eq "events -n beyond the ring" "$(ctl --json events -n 5000 | jq -s length)" "$(ctl --json events | jq -s length)"

# rotation: talker.log stays under the limit, older files kept, at most 2
wait_for "rotation" 5 test -e "$T/state/logs/talker.log.1"
size=$(stat -c %s "$T/state/logs/talker.log")
[ "$size" -le 8192 ] || fail "talker.log is $size bytes, over the 8K limit"
[ ! -e "$T/state/logs/talker.log.3" ] || fail "more than 2 rotated files kept"
head -1 "$T/state/logs/talker.log" | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z stdout [0-9]+ line-' ||
        fail "unexpected file record format: $(head -1 "$T/state/logs/talker.log")"

# -n bounds the reply; -f follows live records
expect_eq "-n 5" "$(ctl logs talker -n 5 | wc -l)" 5
timeout 1 "$ORBCTL" logs ticker -n 0 -f > "$T/follow" || true
n=$(grep -c tick "$T/follow" || true)
[ "$n" -ge 3 ] || fail "logs -f delivered $n live records in 1 s"

# events -f sees live state changes
( timeout 2 "$ORBCTL" events -n 0 -f > "$T/events" || true ) &
follower=$!
sleep 0.3
ctl restart ticker >/dev/null
wait $follower
grep -q "ticker: running -> stopping: restart requested" "$T/events" || fail "events -f missed the restart"
orb_stop
pass
