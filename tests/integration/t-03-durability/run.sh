#!/usr/bin/env bash
# Nothing accepted is lost, nothing unaccepted is kept: a connection dropped in DATA leaves no
# trace; messages answered 250 survive kill -9 and are processed after the restart.
source "$(dirname "$0")/../lib.sh"
TRUSTED='["127.0.0.0/8"]' write_config
setup_domains
start_daemon

cat >"$T/drop.py" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline()
        if l[3:4] != b"-":
            return l
reply()
for cmd in [b"EHLO c.test", b"MAIL FROM:<a@remote.test>", b"RCPT TO:<alice@example.test>", b"DATA"]:
    s.sendall(cmd + b"\r\n"); r = reply()
assert r.startswith(b"354"), r
s.sendall(b"Subject: cut\r\n\r\n" + b"x" * 50000 + b"\r\n")
s.close()
PY
check "client drops in the middle of DATA" "$PY" "$T/drop.py" "$SMTP_PORT"
sleep 0.5
check "dropped message left nothing in the queue" test "$(queue_count)" = 0
check "dropped message left no temporary file" test -z "$(ls -A "$DATA/queue/tmp" 2>/dev/null)"
check "dropped message was not delivered" test "$(maildir_count example.test alice)" = 0

cat >"$T/flood.py" <<'PY'
# Sends messages from several threads and prints the queue id of every 250; stops quietly when the
# server dies under it (we kill -9 it on purpose).
import smtplib, sys, threading
port, per_thread, threads = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ids, lock = [], threading.Lock()
def worker(n):
    try:
        s = smtplib.SMTP("127.0.0.1", port, timeout=10)
        s.ehlo("flood.test")
        for i in range(per_thread):
            rcpt = "friend@remote.test" if i % 2 else "alice@example.test"
            s.mail("app@remote.test")
            s.rcpt(rcpt)
            code, text = s.data(f"Subject: flood {n}-{i}\r\n\r\nbody {n}-{i}\r\n".encode())
            if code == 250:
                with lock:
                    ids.append(text.decode().split()[-1])
    except Exception:
        pass
ts = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
for t in ts: t.start()
for t in ts: t.join()
print("\n".join(ids))
PY
# Round 1: all 40 answered, then kill -9 at once.
"$PY" "$T/flood.py" "$SMTP_PORT" 10 4 >"$T/ids1"
stop_daemon KILL
check "40 messages answered 250 before kill -9" test "$(wc -l <"$T/ids1")" = 40
# Round 2: kill -9 while 8 clients are sending.
start_daemon
"$PY" "$T/flood.py" "$SMTP_PORT" 200 8 >"$T/ids2" &
FLOOD=$!
sleep 1
stop_daemon KILL
wait "$FLOOD" || true
echo "round 2: $(wc -l <"$T/ids2") messages answered 250 before kill -9"
start_daemon
cat "$T/ids1" "$T/ids2" >"$T/ids"
missing() {
  local n=0 id
  while read -r id; do
    [ -f "$DATA/queue/$id.msg" ] && continue
    grep -rqs "id $id" "$DATA/mail/example.test/alice/new" && continue
    n=$((n + 1))
  done <"$T/ids"
  echo $n
}
check "every message answered 250 is queued or delivered after restart" wait_for 0 missing
local_ids=$(grep -c . "$T/ids")
check "local messages delivered after restart" test "$(maildir_count example.test alice)" -ge "$((local_ids / 2))"
check "no leftovers in queue/tmp after restart" test -z "$(ls -A "$DATA/queue/tmp" 2>/dev/null)"
finish
