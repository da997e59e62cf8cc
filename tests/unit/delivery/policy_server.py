#!/usr/bin/env python3
"""An HTTPS server for MTA-STS policy fetch tests (RFC 8461 §3.3): http.server wrapped in TLS.

Serves --policy (a file), or --policy-dir/<Host> (the Host field without a port), at every path with --status and --content-type, or misbehaves as asked:
--redirect (a 301 to another host), --big N (a body of N bytes), --hang (never answers),
--no-length (no Content-Length; the body ends with the connection), --chunked (HTTP/1.1 with
Transfer-Encoding: chunked), --content-encoding X, --big-header N (a header field of N bytes),
--truncate (a Content-Length past the body sent). Prints the bound port on
stdout, one line, then serves until --lifetime seconds have passed. Requests are logged to
--log (one "GET path host" line each) when given.
"""
import argparse
import http.server
import os
import ssl
import sys
import threading
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--policy")
    p.add_argument("--policy-dir")
    p.add_argument("--status", type=int, default=200)
    p.add_argument("--content-type", default="text/plain")
    p.add_argument("--redirect", action="store_true")
    p.add_argument("--big", type=int, default=0)
    p.add_argument("--hang", action="store_true")
    p.add_argument("--no-length", action="store_true")
    p.add_argument("--chunked", action="store_true")
    p.add_argument("--content-encoding")
    p.add_argument("--big-header", type=int, default=0)
    p.add_argument("--truncate", action="store_true")
    p.add_argument("--log")
    p.add_argument("--lifetime", type=float, default=20.0)
    args = p.parse_args()

    class Handler(http.server.BaseHTTPRequestHandler):
        # Chunked transfer coding exists only in HTTP/1.1 (RFC 9112 §7.1).
        protocol_version = "HTTP/1.1" if args.chunked else "HTTP/1.0"

        def log_message(self, *a):
            pass

        def do_GET(self):
            if args.log:
                with open(args.log, "a") as f:
                    f.write("GET %s %s\n" % (self.path, self.headers.get("Host", "")))
            if args.hang:
                time.sleep(args.lifetime)
                return
            if args.redirect:
                self.send_response(301)
                self.send_header("Location", "https://elsewhere.test/.well-known/mta-sts.txt")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if args.big:
                body = b"version: STSv1\n" + b"x" * args.big
            elif args.policy_dir:
                host = self.headers.get("Host", "").split(":")[0].lower()
                try:
                    with open(os.path.join(args.policy_dir, os.path.basename(host)), "rb") as f:
                        body = f.read()
                except OSError:
                    self.send_error(404)
                    return
            elif args.policy:
                with open(args.policy, "rb") as f:
                    body = f.read()
            else:
                body = b""
            self.send_response(args.status)
            self.send_header("Content-Type", args.content_type)
            if args.content_encoding:
                self.send_header("Content-Encoding", args.content_encoding)
            if args.big_header:
                self.send_header("X-Filler", "a" * args.big_header)
            if args.chunked:
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("Connection", "close")
                self.close_connection = True
                self.end_headers()
                for i in range(0, len(body), 1000):
                    part = body[i:i + 1000]
                    self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(part), part))
                self.wfile.write(b"0\r\n\r\n")
                return
            if args.truncate:
                self.send_header("Content-Length", str(len(body) + 100))
            elif not args.no_length:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(args.cert, args.key)
    server = http.server.ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    threading.Timer(args.lifetime, server.shutdown).start()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
