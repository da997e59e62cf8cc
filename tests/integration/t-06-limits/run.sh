#!/usr/bin/env bash
# Size limit, connection limits and timeouts leave the server healthy.
source "$(dirname "$0")/../lib.sh"
CMD_TIMEOUT=2s write_config '' 
sed -i 's/^\[limits\]/[limits]\nmax_connections_per_ip = 3/' "$ETC/hikyaku.toml"
setup_domains
start_daemon

cat >"$T/size.py" <<'PY'
import smtplib, sys
port = int(sys.argv[1])
s = smtplib.SMTP("127.0.0.1", port, timeout=20)
s.ehlo("c.test")
big = b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 1100   # ~1.1 MB > 1 MiB
s.mail("a@remote.test"); s.rcpt("alice@example.test")
code, text = s.data(big)
assert code == 552, (code, text)
small = b"Subject: small\r\n\r\n" + (b"y" * 998 + b"\r\n") * 900  # ~0.9 MB
s.mail("a@remote.test"); s.rcpt("alice@example.test")
code, text = s.data(small)
assert code == 250, (code, text)
s.quit()
PY
check "over max_message_size: 552 5.3.4, then a message under it is accepted" "$PY" "$T/size.py" "$SMTP_PORT"
check "only the small message was delivered" wait_for 1 maildir_count example.test alice

cat >"$T/conns.py" <<'PY'
import socket, sys
port = int(sys.argv[1])
socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(3)]
for s in socks:
    assert s.recv(100).startswith(b"220")
extra = socket.create_connection(("127.0.0.1", port), timeout=5)
got = extra.recv(200)
assert got.startswith(b"421"), got
PY
check "fourth connection from one address gets 421" "$PY" "$T/conns.py" "$SMTP_PORT"

cat >"$T/timeout.py" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
assert s.recv(100).startswith(b"220")
t0 = time.time()
got = s.recv(200)
assert got.startswith(b"421 4.4.2"), got
assert 1.5 < time.time() - t0 < 6, time.time() - t0
assert s.recv(100) == b""
PY
check "idle client gets 421 4.4.2 after command_timeout" "$PY" "$T/timeout.py" "$SMTP_PORT"
check "server still healthy" \
  swaks --server 127.0.0.1:"$SMTP_PORT" --from a@remote.test --to bob@example.test --silent 2
finish
