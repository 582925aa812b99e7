#!/bin/bash
# Builds Orbital and boots the demo system (examples/demo/services) under
# a real orbitald, then follows its events until Ctrl-C.
# DEMO_SECONDS=N runs for N seconds and stops (non-interactive use).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/scripts/deps.sh"
orb_install_deps

BUILD=$ROOT/build
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target orbitald orbctl orb-testsvc echo-service echo-client orb-config motd >/dev/null

DEMO=${DEMO_DIR:-/tmp/orbital-demo}
rm -rf "$DEMO"
mkdir -p "$DEMO/services" "$DEMO/hanger" "$DEMO/config"
chmod 755 "$DEMO"
chown nobody "$DEMO/hanger" 2>/dev/null || chmod 777 "$DEMO/hanger"
chown nobody "$DEMO/config" 2>/dev/null || chmod 777 "$DEMO/config"
for f in "$ROOT"/examples/demo/services/*.yaml; do
        sed -e "s|ORB_BIN|$BUILD/tests|g" -e "s|ORB_EXAMPLES|$BUILD/examples|g" -e "s|ORB_BUILD|$BUILD|g" \
                -e "s|DEMO_DIR|$DEMO|g" -e "s|ORB_CONFIG_SCHEMAS|$ROOT/examples/demo/config|g" \
                "$f" > "$DEMO/services/$(basename "$f")"
done

export ORBITAL_SOCKET=$DEMO/run/control
ORBCTL=$BUILD/src/cli/orbctl
"$BUILD/src/core/orbitald" -m "$DEMO/services" -r "$DEMO/run" -s "$DEMO/state" >"$DEMO/orbitald.log" 2>&1 &
ORB_PID=$!
stop_demo() {
        trap - INT TERM EXIT
        if kill -0 "$ORB_PID" 2>/dev/null; then
                echo; echo ">> stopping orbitald (services stop in reverse dependency order)"
                kill -TERM "$ORB_PID"
                wait "$ORB_PID" || true
        fi
        echo ">> orbitald's own log: $DEMO/orbitald.log; service logs: $DEMO/state/logs/"
}
trap stop_demo INT TERM EXIT
for _ in $(seq 1 100); do "$ORBCTL" list >/dev/null 2>&1 && break; sleep 0.1; done
"$ORBCTL" list

cat <<EOF

Orbital is running the demo system (pid $ORB_PID). In another terminal:

  export ORBITAL_SOCKET=$ORBITAL_SOCKET
  alias orbctl=$ORBCTL

  orbctl list                  # every service and its state
  orbctl status crasher        # backoff, breaker, crash records with last log lines
  orbctl status memhog         # limit:memory kills; gives up after limited(3)
  orbctl status hanger         # restarted by its health check
  orbctl logs ticker -f        # live output
  orbctl stop database         # web stops first (it requires the database)
  orbctl start web             # starts the database again, then web
  orbctl reset crasher         # closes the breaker by hand
  orbctl services              # the bus registry: echo 1.1, served by echo
  orbctl caps greeter          # its capability table: call:echo:r and its channel
  orbctl call echo echo '{"text": "hi"}'   # a typed call, JSON in and out
  orbctl revoke greeter 1      # greeter loses echo at once (see orbctl logs greeter)
  orbctl audit --verify        # the hash-chained audit log is intact
  orbctl sandbox web           # namespaces, read-only system, seccomp, Landlock, uid
  orbctl config set system.greeting hi && orbctl config commit -m 'say hi'
  orbctl logs motd             # motd re-read its configuration after the commit
  orbctl config set system.greeting bye && orbctl config commit   # refused by motd
  orbctl config history        # numbered commits; orbctl config rollback N
  edit $DEMO/services/*.yaml, then: orbctl reload

Following events here (Ctrl-C stops the demo):
EOF
if [ -n "${DEMO_SECONDS:-}" ]; then
        timeout "$DEMO_SECONDS" "$ORBCTL" events -f || true
        "$ORBCTL" list
else
        "$ORBCTL" events -f || true
fi
