#!/usr/bin/python3
"""One hand-driven session for t-20-shutdown, on a raw socket so that every byte is ours.

  client.py idle PORT OUT        EHLO, then waits; writes the next line the server sends to OUT.
  client.py idle-tls PORT OUT    the same over implicit TLS (port 465).
  client.py data PORT MID GO OUT EHLO, MAIL, RCPT, DATA and the headers, then waits for the file
                                 GO and sends the body and the final dot; writes the reply to OUT.
Both write "ready" to OUT.ready once they are in place.
"""

import os
import socket
import ssl
import sys
import time


def lines(f):
    line = f.readline()
    while line[3:4] == "-":
        line = f.readline()
    return line.strip()


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    out = sys.argv[-1]
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    if mode == "idle-tls":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s, server_hostname="mx.test")
    f = s.makefile("r", encoding="latin-1", newline="\r\n")
    lines(f)
    s.sendall(b"EHLO client.test\r\n")
    lines(f)
    if mode in ("idle", "idle-tls"):
        open(out + ".ready", "w").write("ready\n")
        got = f.readline().strip()
        open(out, "w").write(got + "\n")
        return
    mid, go = sys.argv[3], sys.argv[4]
    for cmd in (b"MAIL FROM:<a@load.test>\r\n", b"RCPT TO:<slow@far.test>\r\n", b"DATA\r\n"):
        s.sendall(cmd)
        lines(f)
    s.sendall(("From: a@load.test\r\nTo: slow@far.test\r\nMessage-ID: %s\r\n" % mid).encode())
    open(out + ".ready", "w").write("ready\n")
    while not os.path.exists(go):
        time.sleep(0.02)
    s.sendall(b"Subject: slow\r\n\r\nthe rest of the body\r\n.\r\n")
    open(out, "w").write(lines(f) + "\n")
    s.sendall(b"QUIT\r\n")


main()
