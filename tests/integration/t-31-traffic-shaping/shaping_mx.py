#!/usr/bin/python3
"""A receiving SMTP server (aiosmtpd) for the traffic-shaping tests t-31 and t-32.

Binds --host:--port (IPv4 or IPv6), prints the port, exits after --lifetime seconds. Records in
--dir: sessions.log ("connect PEER_ADDRESS" per connection), peak (the most connections open at
once), and per accepted message msg-N.env ("helo NAME", "peer ADDRESS", "subject TEXT",
"rcpt ADDRESS"). --throttle N answers the first N RCPT commands with
"421 4.7.28 rate limited" (as Gmail does) and closes the connection; --data-delay holds each
final reply back, so that connections stay busy.
"""

import argparse
import asyncio
import email
import logging
import os
import sys

from aiosmtpd.controller import UnthreadedController
from aiosmtpd.smtp import SMTP


class Handler:
    def __init__(self, args):
        self.args = args
        self.count = 0
        self.open = 0
        self.peak = 0

    def note(self, line):
        with open(os.path.join(self.args.dir, "sessions.log"), "a", encoding="utf-8") as f:
            f.write(line + "\n")

    def opened(self, peer):
        self.open += 1
        if self.open > self.peak:
            self.peak = self.open
            with open(os.path.join(self.args.dir, "peak"), "w", encoding="utf-8") as f:
                f.write("%d\n" % self.peak)
        self.note("connect %s" % peer)

    def closed(self):
        self.open -= 1

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.args.throttle > 0:
            self.args.throttle -= 1
            self.note("throttled %s" % address)
            # RFC 5321 §3.8: a 421 closes the channel.
            server.hk_close_after_reply = True
            return "421 4.7.28 rate limited, try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.args.data_delay > 0:
            await asyncio.sleep(self.args.data_delay)
        self.count += 1
        msg = email.message_from_bytes(envelope.original_content or b"")
        base = os.path.join(self.args.dir, "msg-%d" % self.count)
        lines = ["helo %s" % session.host_name, "peer %s" % session.peer[0],
                 "subject %s" % msg.get("Subject", "")]
        lines += ["rcpt %s" % r for r in envelope.rcpt_tos]
        with open(base + ".tmp", "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        os.rename(base + ".tmp", base + ".env")
        return "250 2.0.0 OK queued as %d" % self.count


class CountingSMTP(SMTP):
    def connection_made(self, transport):
        if not hasattr(self, "hk_counted"):
            self.hk_counted = True
            peer = transport.get_extra_info("peername")
            self.event_handler.opened(peer[0] if peer else "?")
        super().connection_made(transport)

    def connection_lost(self, exc):
        if getattr(self, "hk_counted", False):
            self.hk_counted = False
            self.event_handler.closed()
        super().connection_lost(exc)

    async def push(self, status):
        await super().push(status)
        if getattr(self, "hk_close_after_reply", False):
            self.hk_close_after_reply = False
            self.transport.close()


class Controller(UnthreadedController):
    def factory(self):
        return CountingSMTP(self.handler, **self.SMTP_kwargs)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=25)
    p.add_argument("--lifetime", type=float, default=120.0)
    p.add_argument("--throttle", type=int, default=0)
    p.add_argument("--data-delay", type=float, default=0.0)
    args = p.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    ctl = Controller(Handler(args), hostname=args.host, port=args.port, loop=loop,
                     server_hostname="rx.test")
    ctl.begin()
    print(ctl.server.sockets[0].getsockname()[1], flush=True)
    loop.call_later(args.lifetime, loop.stop)
    try:
        loop.run_forever()
    finally:
        ctl.server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
