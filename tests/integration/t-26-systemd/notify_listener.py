#!/usr/bin/python3
"""A stand-in for systemd's notification socket: binds a unix datagram socket at PATH and
appends every datagram to OUT as one line (newlines within a message become ';'), until it has
been idle for LIFETIME seconds in all."""

import socket
import sys

path, out, lifetime = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(lifetime)
with open(out, "a", buffering=1) as f:
    f.write("bound\n")
    while True:
        try:
            data = s.recv(4096)
        except socket.timeout:
            break
        f.write(data.decode("utf-8", "replace").strip().replace("\n", ";") + "\n")
