#!/usr/bin/env bash
# systemd integration: the unit passes `systemd-analyze verify` (a copy pointing at the built
# binary), and the daemon speaks sd_notify to a real NOTIFY_SOCKET: READY=1 once its ports
# answer, RELOADING=1 then READY=1 around a SIGHUP, STOPPING=1 at SIGTERM, in that order.
source "$(dirname "$0")/../lib.sh"
HERE=$(dirname "$0")

UNIT=$T/hikyaku.service
sed "s|/usr/local/sbin/hikyaku|$HK_BIN/hikyaku|" "$HK_SRC/deploy/hikyaku.service" >"$UNIT"
check "systemd-analyze verify passes" systemd-analyze verify --man=no "$UNIT"
check "the unit is Type=notify" grep -qx "Type=notify" "$UNIT"
check "TimeoutStopSec is above the default shutdown_grace (30s)" \
  bash -c "[ \$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' '$UNIT') -gt 30 ]"
# The check can fail: the installed unit's ExecStart, where no binary was installed, does not
# verify (which is why the copy above points at the built one).
sed "s|$HK_BIN/hikyaku|/nonexistent/hikyaku|" "$UNIT" >"$T/broken.service"
check "a copy with a missing binary fails verification" bash -c "! systemd-analyze verify --man=no '$T/broken.service' 2>/dev/null"

"$PY" "$HERE/notify_listener.py" "$T/notify.sock" "$T/notify.log" 30 &
wait_for 1 bash -c "grep -c bound '$T/notify.log' 2>/dev/null || echo 0"
write_config
setup_domains
export NOTIFY_SOCKET=$T/notify.sock
start_daemon
unset NOTIFY_SOCKET
got() { grep -c -- "$1" "$T/notify.log" || true; }
check "READY=1 sent" wait_for 1 got "^READY=1"
check "the ports answer when READY=1 is sent" swaks --server 127.0.0.1:"$SMTP_PORT" --quit-after EHLO --silent 2
kill -HUP "$DAEMON_PID"
check "RELOADING=1 sent on SIGHUP" wait_for 1 got "^RELOADING=1;MONOTONIC_USEC=[0-9]"
check "READY=1 again after the reload" wait_for 2 got "^READY=1"
kill -TERM "$DAEMON_PID"
check "STOPPING=1 sent on SIGTERM" wait_for 1 got "^STOPPING=1"
check "in order: READY, RELOADING, READY, STOPPING" test \
  "$(grep -v bound "$T/notify.log" | cut -d= -f1 | tr '\n' ' ')" = "READY RELOADING READY STOPPING "
cat "$T/notify.log"
finish
