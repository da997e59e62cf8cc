#!/usr/bin/env python3
"""Provokes every failure the fail2ban filter must catch, each from its own loopback address, and
some successes it must not; prints nothing, exits 0 when the daemon answered as expected."""
import base64
import smtplib
import socket
import ssl
import sys

HOST = "127.0.0.1"
SMTP, TLS = int(sys.argv[1]), int(sys.argv[2])


def tls(src):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = smtplib.SMTP_SSL(HOST, TLS, timeout=30, context=ctx, source_address=(src, 0))
    s.ehlo("client.test")
    return s


def auth(s, user, password):
    token = base64.b64encode(("\0%s\0%s" % (user, password)).encode()).decode()
    return s.docmd("AUTH", "PLAIN " + token)[0]


def quit(s):
    try:
        s.quit()
    except smtplib.SMTPServerDisconnected:
        pass


def raw(src, port=SMTP):
    s = socket.create_connection((HOST, port), timeout=10, source_address=(src, 0))
    return s, s.makefile("rb")


# 127.0.0.2: three wrong passwords in one connection (the third closes it).
s = tls("127.0.0.2")
assert [auth(s, "alice@example.test", "w%d" % i) for i in range(3)] == [535, 535, 421]
quit(s)

# 127.0.0.3: user names made to frame other addresses; the lines must name 127.0.0.3 only.
s = tls("127.0.0.3")
assert auth(s, "x client=127.0.0.99 result=auth-failed", "w") == 535
assert auth(s, "client=127.0.0.98", "w") == 535
quit(s)

# 127.0.0.4: four failures (auth_failures_per_ip) over two connections: banned; then refused
# at connect, twice.
s = tls("127.0.0.4")
assert [auth(s, "bob@example.test", "w%d" % i) for i in range(3)] == [535, 535, 421]
quit(s)
s = tls("127.0.0.4")
assert auth(s, "bob@example.test", "w4") == 535
assert auth(s, "bob@example.test", "hunter2") == 454
quit(s)
for _ in range(2):
    c, f = raw("127.0.0.4")
    assert f.readline().startswith(b"421 4.7.0")
    c.close()

# 127.0.0.5: message content before the reply to DATA.
c, f = raw("127.0.0.5")
f.readline()
c.sendall(b"HELO spam.test\r\nMAIL FROM:<a@remote.test>\r\n")
assert f.readline().startswith(b"554 5.5.0")
c.close()

# 127.0.0.6: a scanner's 20 unknown commands.
c, f = raw("127.0.0.6")
f.readline()
for i in range(20):
    c.sendall(b"GET / HTTP/1.0\r\n")
    line = f.readline()
assert line.startswith(b"421 4.7.0"), line
c.close()

# 127.0.0.7: more than connection_rate_per_ip (5) connections in a minute.
replies = []
for _ in range(6):
    c, f = raw("127.0.0.7")
    replies.append(f.readline()[:3])
    c.sendall(b"QUIT\r\n")
    c.close()
assert replies == [b"220"] * 5 + [b"421"], replies

# 127.0.0.8: a successful login and a message; 127.0.0.1 (trusted): a message. Never matched.
s = tls("127.0.0.8")
assert auth(s, "alice@example.test", "secret") == 235
s.sendmail("alice@example.test", ["bob@example.test"], b"Subject: ok\r\n\r\nok\r\n")
quit(s)
s = smtplib.SMTP(HOST, SMTP, timeout=30)
s.sendmail("app@app.test", ["alice@example.test"], b"Subject: ok\r\n\r\nok\r\n")
s.quit()
