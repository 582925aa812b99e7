#!/bin/bash
# Limits of the bus: the per-service message rate (on channels and at
# orbitald), backpressure that bounds orbitald's memory and lets the
# publisher choose to wait or fail, and a 64 MiB payload as a sealed memfd.
source "$(dirname "$0")/lib.sh"

manifest blob <<EOF
command: $BUSTEST serve blob 1.0
capabilities: [provide:blob]
limits: {memory: 512M}
EOF
manifest flooder <<EOF
command: $BUSTEST flood blob 3000
capabilities: ["call:blob:r"]
limits: {ipc-rate: 1000}
after: [blob]
EOF
manifest big <<EOF
command: $BUSTEST blob blob 64
capabilities: ["call:blob:r"]
limits: {memory: 512M}
after: [blob]
EOF
manifest talker <<EOF
command: $BUSTEST publish chat 300 nowait
capabilities: ["publish:chat"]
limits: {ipc-rate: 100}
EOF
manifest staller <<EOF
command: $BUSTEST stall news
capabilities: ["subscribe:news"]
EOF
orb_start
wait_log blob "serving blob"

# Rate on a channel: a burst of one second's worth (1000), then refusals.
wait_log flooder "flood: " 20
line=$(log_line flooder "flood: ")
ok=$(echo "$line" | sed -E 's/.*ok=([0-9]+).*/\1/')
limited=$(echo "$line" | sed -E 's/.*limited=([0-9]+).*/\1/')
[ "$ok" -ge 1000 ] && [ "$ok" -lt 2500 ] || fail "calls let through at 1000/s: $line"
[ "$limited" -ge 500 ] || fail "calls refused by the rate limit: $line"
expect_match "no other errors" "$line" "other=0"

# Rate at orbitald: 100 msgs/s; the publisher's excess is refused (4100 = ORB_E_RATE).
wait_log talker "publish: ok=" 20
expect_match "orbitald's rate limit" "$(log_line talker 'first error')" "code=4100"
grep -q "talker exceeds its rate of 100 messages/s" "$T/orbitald.log" || fail "the rate refusal is not logged"

# 64 MiB through a sealed memfd, checksum compared on the other side.
wait_log big "payload: " 30
expect_match "64 MiB payload" "$(log_line big 'payload: ')" "size 67108864 sum matches"

# Backpressure: a subscriber that never reads.  A nowait publisher gets
# ORB_E_AGAIN (4101) once the subscriber's socket and orbitald's 256 KiB
# queue are full, and orbitald's memory stays bounded.
wait_log staller "subscribe news: "
rss() { awk '/VmRSS/ {print $2}' /proc/$ORB_PID/status; }
before=$(rss)
manifest flood-news <<EOF
command: $BUSTEST publish news 3000 nowait
capabilities: ["publish:news"]
limits: {ipc-rate: unlimited}
restart: never
EOF
ctl reload >/dev/null
wait_log flood-news "publish: ok=" 30
line=$(log_line flood-news "publish: ok=")
again=$(echo "$line" | sed -E 's/.*again=([0-9]+).*/\1/')
[ "$again" -gt 1000 ] || fail "a full subscriber should refuse most of 3000 x 2 KiB: $line"
after=$(rss)
[ $((after - before)) -lt 8192 ] || fail "orbitald grew by $((after - before)) KiB under backpressure"

# A waiting publisher blocks (and is not read) until there is room: here
# until the stalled subscriber goes away.
manifest wait-news <<EOF
command: $BUSTEST publish news 50 wait
capabilities: ["publish:news"]
limits: {ipc-rate: unlimited}
restart: never
EOF
ctl reload >/dev/null
sleep 1
has_log wait-news "publish: ok=" && fail "a waiting publisher finished although the subscriber is full"
ctl stop staller >/dev/null
wait_log wait-news "publish: ok=50 again=0 other=0" 10
kill -0 "$ORB_PID" || fail "orbitald died"
pass
