#!/usr/bin/python3
"""A configurable SMTP server for the hk_delivery tests, built on aiosmtpd.

Binds 127.0.0.1 on a free port, prints the port on stdout, and exits on its own after
--lifetime seconds. Every accepted message is stored in --dir as msg-N.eml (the data as
received, dot-stuffing undone by aiosmtpd) and msg-N.env (one "key value" line each: helo,
from, mail-option, rcpt, tls, auth, chunk).

Recipients whose address contains "reject" get 550 5.1.1, "later" 451 4.2.0; a message
containing "X-Fail-Data: yes" gets 554 5.6.0 at the end of DATA. --data-delay holds every final
reply back, so that deliveries stay in flight.

Connections are numbered from 1: msg-N.env names the one that carried the message ("session
N"), and sessions.log gets "connect N" when one is accepted and "quit N" when the client sends
QUIT, so that tests can count connections and see them closed politely.

--requiretls offers REQUIRETLS (RFC 8689) under TLS and accepts its MAIL parameter there (aiosmtpd
knows neither); a message that came with it gets "mail-option REQUIRETLS" in its .env.
"""

import argparse
import asyncio
import logging
import os
import ssl
import sys
import warnings

from aiosmtpd.controller import UnthreadedController
from aiosmtpd.smtp import SMTP, AuthResult


class Handler:
    def __init__(self, args):
        self.args = args
        self.count = 0
        self.sessions = 0

    def log_session(self, event, number):
        with open(os.path.join(self.args.dir, "sessions.log"), "a", encoding="utf-8") as f:
            f.write("%s %d\n" % (event, number))

    async def handle_QUIT(self, server, session, envelope):
        self.log_session("quit", server.hk_session)
        return "221 Bye"

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.args.pipelining:
            responses.insert(1, "250-PIPELINING")
        tls = session.ssl or server.transport.get_extra_info("ssl_object") is not None
        if self.args.requiretls and tls:
            responses.insert(1, "250-REQUIRETLS")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.args.tempfail_first > 0:
            self.args.tempfail_first -= 1
            return "451 4.3.0 temporary trouble, try later"
        if "reject" in address:
            return "550 5.1.1 no such user"
        if "later" in address:
            return "451 4.2.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or b""
        if b"X-Fail-Data: yes" in data:
            return "554 5.6.0 content rejected"
        if self.args.data_delay > 0:
            # Keeps the client waiting for the final reply: deliveries stay in flight.
            await asyncio.sleep(self.args.data_delay)
        self.count += 1
        base = os.path.join(self.args.dir, "msg-%d" % self.count)
        lines = ["helo %s" % session.host_name, "from %s" % envelope.mail_from]
        lines += ["mail-option %s" % o for o in envelope.mail_options]
        if getattr(server, "hk_requiretls", False):
            lines.append("mail-option REQUIRETLS")
        lines += ["rcpt %s" % r for r in envelope.rcpt_tos]
        # session.ssl is set by STARTTLS only; implicit TLS shows on the transport.
        tls = session.ssl or server.transport.get_extra_info("ssl_object") is not None
        lines.append("tls %s" % ("yes" if tls else "no"))
        lines.append("session %d" % server.hk_session)
        if session.authenticated:
            lines.append("auth %s" % session.auth_data)
        for chunk in getattr(server, "hk_chunks", []):
            lines.append("chunk %r" % chunk)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(data)
        with open(base + ".env.tmp", "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        # The .eml lands first, so a test that sees the .env sees both.
        os.rename(base + ".eml.tmp", base + ".eml")
        os.rename(base + ".env.tmp", base + ".env")
        return "250 2.0.0 OK queued as %d" % self.count


class RecordingSMTP(SMTP):
    """Records what arrives in each read before TLS, to tell pipelined commands apart, and
    numbers connections."""

    def connection_made(self, transport):
        # Called again after STARTTLS, for the same connection.
        if not hasattr(self, "hk_session"):
            self.event_handler.sessions += 1
            self.hk_session = self.event_handler.sessions
            self.event_handler.log_session("connect", self.hk_session)
        super().connection_made(transport)

    async def smtp_MAIL(self, arg):
        # RFC 8689 §2: REQUIRETLS takes no value and is valid only under TLS.
        self.hk_requiretls = False
        if self.event_handler.args.requiretls and arg:
            words = arg.split(" ")
            rest = [w for w in words if w.upper() != "REQUIRETLS"]
            tls = self.session.ssl or self.transport.get_extra_info("ssl_object") is not None
            if len(rest) != len(words):
                if not tls:
                    await self.push("530 5.7.10 REQUIRETLS needs TLS")
                    return
                self.hk_requiretls = True
                arg = " ".join(rest)
        await super().smtp_MAIL(arg)

    def data_received(self, data):
        if not getattr(self, "_tls_protocol", None):
            if not hasattr(self, "hk_chunks"):
                self.hk_chunks = []
            self.hk_chunks.append(data.decode("latin-1"))
        super().data_received(data)


class Controller(UnthreadedController):
    def factory(self):
        return RecordingSMTP(self.handler, **self.SMTP_kwargs)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--starttls", action="store_true", help="offer STARTTLS (needs --cert/--key)")
    p.add_argument("--require-starttls", action="store_true")
    p.add_argument("--broken-tls", action="store_true",
                   help="with --starttls: answer STARTTLS with 220, then fail every handshake "
                        "(the server speaks only TLS 1.0 and 1.1, which clients refuse)")
    p.add_argument("--implicit-tls", action="store_true")
    p.add_argument("--auth", help="USER:PASSWORD[,USER:PASSWORD...]; AUTH becomes required")
    p.add_argument("--auth-plaintext", action="store_true", help="offer AUTH without TLS")
    p.add_argument("--no-smtputf8", action="store_true")
    p.add_argument("--pipelining", action="store_true")
    p.add_argument("--requiretls", action="store_true", help="offer REQUIRETLS under TLS")
    p.add_argument("--lifetime", type=float, default=20.0)
    p.add_argument("--idle-timeout", type=float, default=300.0,
                   help="close a connection silent for this many seconds")
    p.add_argument("--host", default="127.0.0.1", help="address to bind")
    p.add_argument("--port", type=int, default=0, help="port to bind (0: any free port)")
    p.add_argument("--data-delay", type=float, default=0.0,
                   help="wait this many seconds before the reply to the end of DATA")
    p.add_argument("--tempfail-first", type=int, default=0,
                   help="answer 451 to this many RCPT commands before accepting")
    args = p.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    # aiosmtpd warns about AUTH without TLS, which is what --auth-plaintext asks for.
    warnings.simplefilter("ignore")

    tls = None
    if args.cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.cert, args.key)
        if args.broken_tls:
            tls.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
            tls.maximum_version = ssl.TLSVersion.TLSv1_1

    kwargs = dict(
        server_hostname="mx.test",
        enable_SMTPUTF8=not args.no_smtputf8,
        require_starttls=args.require_starttls,
        auth_require_tls=not args.auth_plaintext,
        timeout=args.idle_timeout,
    )
    if args.starttls:
        kwargs["tls_context"] = tls
    if args.auth:
        users = dict(pair.split(":", 1) for pair in args.auth.split(","))

        def authenticator(server, session, envelope, mechanism, auth_data):
            user = (auth_data.login or b"").decode("utf-8", "replace")
            ok = user in users and auth_data.password == users[user].encode()
            return AuthResult(success=ok, handled=False, auth_data=user if ok else None)

        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    ctl = Controller(Handler(args), hostname=args.host, port=args.port, loop=loop,
                     ssl_context=tls if args.implicit_tls else None, **kwargs)
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
