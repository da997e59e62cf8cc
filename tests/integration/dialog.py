#!/usr/bin/python3
"""Runs an SMTP dialog script against a server and checks every reply.

Script lines:
  # comment                      ignored, as are blank lines
  -> TEXT                        send TEXT followed by CRLF
  => TEXT                        send TEXT raw, with Python escapes (\\r, \\n, \\x00), no CRLF added
  <- CODE [REGEX]                read one whole (multi-line) reply; its code must be CODE and, when
                                 given, REGEX must match somewhere in its text
  <- closed                      the server must close the connection
  == tls                         start TLS now (after a 220 to STARTTLS, or at connect for port 465)
  == sleep SECONDS
Exit status 0 when every step matched; the failing step is printed otherwise.
"""
import argparse
import re
import socket
import ssl
import sys
import time


class Conn:
    def __init__(self, port, cafile, timeout):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.cafile = cafile

    def start_tls(self):
        ctx = ssl.create_default_context(cafile=self.cafile)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        self.sock = ctx.wrap_socket(self.sock, server_hostname="mx.test")
        self.buf = b""

    def read_line(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("connection closed")
            self.buf += data
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def read_reply(self):
        lines = []
        while True:
            line = self.read_line()
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return lines

    def closed(self):
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
                self.buf += data
        except (ConnectionResetError, ssl.SSLError):
            return True
        except socket.timeout:
            return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cafile")
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("script")
    args = ap.parse_args()
    conn = Conn(args.port, args.cafile, args.timeout)
    for n, raw in enumerate(open(args.script, encoding="utf-8"), 1):
        line = raw.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        op, _, rest = line.partition(" ")
        where = f"{args.script}:{n}: {line}"
        try:
            if op == "->":
                conn.sock.sendall(rest.encode("utf-8") + b"\r\n")
            elif op == "=>":
                conn.sock.sendall(rest.encode("utf-8").decode("unicode_escape").encode("latin-1"))
            elif op == "<-" and rest == "closed":
                if not conn.closed():
                    print(f"{where}: connection still open")
                    return 1
            elif op == "<-":
                code, _, pattern = rest.partition(" ")
                reply = conn.read_reply()
                text = "\n".join(reply)
                if not reply[-1].startswith(code) or (pattern and not re.search(pattern, text)):
                    print(f"{where}: got:\n{text}")
                    return 1
            elif op == "==" and rest == "tls":
                conn.start_tls()
            elif op == "==" and rest.startswith("sleep "):
                time.sleep(float(rest.split()[1]))
            else:
                print(f"{where}: unknown step")
                return 2
        except (EOFError, OSError) as e:
            print(f"{where}: {e}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
