#!/bin/bash
# Bad manifests: every kind gets an error naming file, line, field, what
# was expected and what was found; orbitald keeps running what it had.
source "$(dirname "$0")/lib.sh"

manifest good <<EOF
command: [$TESTSVC]
EOF
orb_start
wait_state good running
good_pid=$(field good .pid)

# try_bad NAME PATTERN: write $M/NAME.yaml from stdin, reload, expect PATTERN
try_bad() {
        local name=$1 pattern=$2 out rc
        cat > "$M/$name.yaml"
        set +e; out=$(ctl reload 2>&1); rc=$?; set -e
        expect_eq "$name: exit code" "$rc" 1
        expect_match "$name: message" "$out" "$pattern"
        rm -f "$M/$name.yaml"
}

try_bad unknown-key "unknown-key.yaml:2:1: .*unknown key 'comand'.*did you mean 'command'" <<EOF
name: unknown-key
comand: [/bin/true]
EOF
try_bad wrong-type "wrong-type.yaml:2:.*limits.memory: expected.*found 'lots'" <<EOF
command: [/bin/true]
limits: {memory: lots}
EOF
try_bad bad-policy "bad-policy.yaml:2:10: restart: expected .*never.*found 'sometimes'" <<EOF
command: [/bin/true]
restart: sometimes
EOF
try_bad missing-dep "missing-dep.yaml:2:.*requires.*missing dependency 'nowhere'" <<EOF
command: [/bin/true]
requires: [nowhere]
EOF
cat > "$M/cyc-a.yaml" <<EOF
command: [/bin/true]
requires: [cyc-b]
EOF
try_bad cyc-b "cycle.*cyc-(a|b) -> cyc-(a|b) -> cyc-(a|b)" <<EOF
command: [/bin/true]
requires: [cyc-a]
EOF
rm -f "$M/cyc-a.yaml"
try_bad syntax "syntax.yaml:2:.*" <<EOF
command: [/bin/true
restart: never
EOF
try_bad no-command "no-command.yaml.*command" <<EOF
restart: never
EOF

expect_eq "good keeps running" "$(field good .pid)" "$good_pid"

# boot with a bad set: orbitald stays up with no services and says why;
# a reload after the fix loads them
orb_stop
manifest broken <<EOF
command: [/bin/true]
limits: {pids: -1}
EOF
orb_start
grep -q "unable to load manifests.*broken.yaml:2" "$T/orbitald.log" || fail "boot error does not name the file"
expect_eq "no services loaded" "$(ctl --json list | jq length)" 0
rm "$M/broken.yaml"
ctl reload >/dev/null
wait_state good running
orb_stop
pass
