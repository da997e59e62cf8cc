#!/usr/bin/env python3
"""Real SMTP clients for t-18-limits-abuse: each subcommand drives the daemon from a chosen
loopback source address and asserts what a mail admin expects; exit 0 = as expected."""
import asyncio
import base64
import smtplib
import socket
import ssl
import sys
import threading
import time

HOST = "127.0.0.1"


def connect(port, src, timeout=10):
    return socket.create_connection((HOST, port), timeout=timeout, source_address=(src, 0))


def msg(subject, sender="a@app.test"):
    return ("From: %s\r\nTo: alice@example.test\r\nSubject: %s\r\n\r\nhello\r\n" %
            (sender, subject)).encode()


def concurrent_trusted(port, n):
    """n sessions from 127.0.0.1 open at once; every one greeted with 220, then each sends."""
    barrier = threading.Barrier(n, timeout=30)
    results = []

    def one(i):
        try:
            s = smtplib.SMTP(HOST, port, timeout=30)  # connects and reads the 220
            barrier.wait()  # all n are open together before any sends
            s.ehlo("app.test")
            s.sendmail("noreply@app.test", ["alice@example.test"], msg("concurrent %d" % i))
            s.quit()
            results.append("ok")
        except Exception as e:  # noqa: BLE001 - every failure is reported
            results.append(repr(e))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    bad = [r for r in results if r != "ok"]
    assert len(results) == n and not bad, (len(results), bad[:5])


def silent_then_greeted(port, src, n):
    """n silent connections from src, then one more from src: greeted at once and can send."""
    silent = [connect(port, src) for _ in range(n)]
    for s in silent:
        assert s.recv(200).startswith(b"220"), "silent connection not greeted"
    t0 = time.time()
    c = smtplib.SMTP(HOST, port, timeout=10, source_address=(src, 0))
    waited = time.time() - t0
    assert waited < 1.0, waited
    c.ehlo("stranger.test")
    c.sendmail("a@remote.test", ["alice@example.test"], msg("after silent"))
    c.quit()
    for s in silent:
        s.close()


async def burst_one(port, src):
    try:
        r, w = await asyncio.wait_for(
            asyncio.open_connection(HOST, port, local_addr=(src, 0)), 20)
    except Exception as e:  # noqa: BLE001
        return "connect:" + type(e).__name__
    try:
        line = await asyncio.wait_for(r.readline(), 20)
        if line.startswith(b"220"):
            w.write(b"QUIT\r\n")
            await w.drain()
            rest = await asyncio.wait_for(r.read(), 20)
            return "220" if rest.startswith(b"221") else "220-then:" + repr(rest[:30])
        if line[:1] == b"4":
            # A clean refusal: the line, then an orderly close (EOF, not a reset).
            rest = await asyncio.wait_for(r.read(), 20)
            return "4xx" if rest == b"" else "4xx-then:" + repr(rest[:30])
        return "other:" + repr(line[:40])
    except asyncio.TimeoutError:
        return "hung"
    except ConnectionResetError:
        return "reset"
    except Exception as e:  # noqa: BLE001
        return "error:" + type(e).__name__
    finally:
        w.close()


async def burst_all(port, src, n):
    return await asyncio.gather(*(burst_one(port, src) for _ in range(n)))


def burst(port, src, n):
    """n connections at once from src: each is greeted (220) or refused cleanly (4xx + close)."""
    res = asyncio.run(burst_all(port, src, n))
    counts = {}
    for r in res:
        counts[r] = counts.get(r, 0) + 1
    print("burst of %d:" % n, counts)
    assert set(counts) <= {"220", "4xx"}, counts
    assert counts.get("220", 0) >= 1, counts


def dribble(port, src, period, lo, hi):
    """One byte every `period` seconds into an unfinished line: 421 4.4.2 between lo and hi s."""
    s = connect(port, src, timeout=hi + 10)
    assert s.recv(200).startswith(b"220")
    s.settimeout(period)
    t0 = time.time()
    got = b""
    for ch in b"EHLO dribbling.client.test and more and more":
        try:
            s.send(bytes([ch]))
        except OSError:
            break
        try:
            got = s.recv(200)
            if got:
                break
        except socket.timeout:
            continue
    elapsed = time.time() - t0
    assert got.startswith(b"421 4.4.2"), got
    assert lo <= elapsed <= hi, elapsed


def silent_for(port, src, n, seconds):
    """n silent connections stay open for `seconds` (no stress)."""
    socks = [connect(port, src) for _ in range(n)]
    for s in socks:
        assert s.recv(200).startswith(b"220")
    time.sleep(seconds)
    for s in socks:
        s.setblocking(False)
        try:
            data = s.recv(200)
            raise AssertionError("closed or spoke while idle: %r" % data)
        except BlockingIOError:
            pass
        s.close()


def stressed(port, src, busy, n, hi):
    """`busy` senders in the middle of DATA (stress never shortens DATA) hold the daemon at its
    stress threshold; n silent clients then get 421 4.4.2 within hi s, and the busy senders'
    messages are still accepted."""
    senders = []
    for i in range(busy):
        # One stranger address each (127.0.0.20...): no per-address limit or rate is involved.
        c = smtplib.SMTP(HOST, port, timeout=30, source_address=("127.0.0.%d" % (20 + i), 0))
        c.ehlo("busy.test")
        c.mail("a@remote.test")
        c.rcpt("bob@example.test")
        code, _ = c.docmd("DATA")
        assert code == 354, code
        senders.append(c)
    socks = [connect(port, src, timeout=hi + 5) for _ in range(n)]
    t0 = time.time()
    for s in socks:
        assert s.recv(200).startswith(b"220")
    for s in socks:
        got = s.recv(200)
        assert got.startswith(b"421 4.4.2"), got
    elapsed = time.time() - t0
    assert elapsed <= hi, elapsed
    for i, c in enumerate(senders):
        c.send(msg("busy %d" % i) + b".\r\n")
        code, text = c.getreply()
        assert code == 250, (code, text)
        c.quit()


def tls_client(port, src):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return smtplib.SMTP_SSL(HOST, port, timeout=30, context=ctx, source_address=(src, 0))


def auth_plain(s, user, password):
    token = base64.b64encode(("\0%s\0%s" % (user, password)).encode()).decode()
    return s.docmd("AUTH", "PLAIN " + token)


def brute_force(port, src, max_auth_failures, per_ip):
    """Wrong passwords over several connections until the address is banned: 454 to AUTH, then
    421 4.7.0 at connect."""
    failures = 0
    while failures < per_ip:
        s = tls_client(port, src)
        s.ehlo("guesser.test")
        for _ in range(max_auth_failures):
            code, text = auth_plain(s, "alice@example.test", "guess%d" % failures)
            failures += 1
            if failures == per_ip:
                assert code == 535, (code, text)
                code, text = auth_plain(s, "alice@example.test", "secret")
                assert code == 454 and text.startswith(b"4.7.0"), (code, text)
                break
            if code == 421:
                break
            assert code == 535, (code, text)
        try:
            s.quit()
        except smtplib.SMTPServerDisconnected:
            pass
    # Now refused at connect, whatever it would send.
    try:
        s = tls_client(port, src)
        raise AssertionError("banned address was greeted")
    except smtplib.SMTPConnectError as e:
        assert e.smtp_code == 421 and b"4.7.0" in e.smtp_error, e
    except (ssl.SSLError, ConnectionResetError, smtplib.SMTPServerDisconnected) as e:
        # Port 465: the 421 comes in clear text before any TLS; the handshake fails on it.
        print("refused before TLS:", repr(e))


def auth_frees_slot(tls_port, smtp_port, src, limit):
    """`limit` sessions from src that authenticate no longer count towards max_connections_per_ip
    (= limit): `limit` more unauthenticated ones are greeted, and only the one after is refused."""
    users = []
    for _ in range(limit):
        s = tls_client(tls_port, src)
        s.ehlo("nat.test")
        code, text = auth_plain(s, "alice@example.test", "secret")
        assert code == 235, (code, text)
        users.append(s)
    strangers = []
    for i in range(limit):
        c = connect(smtp_port, src)
        got = c.recv(200)
        assert got.startswith(b"220"), (i, got)
        strangers.append(c)
    c = connect(smtp_port, src)
    got = c.recv(200)
    assert got.startswith(b"421 4.7.0"), got
    for s in users:
        s.quit()
    for c in strangers:
        c.close()


def timed_auth(port, src, user, password):
    s = tls_client(port, src)
    s.ehlo("guesser.test")
    t0 = time.time()
    code, _ = auth_plain(s, user, password)
    took = time.time() - t0
    s.quit()
    return code, took


def distributed_guessing(port, user, password, first, n):
    """One wrong guess for `user` from each of n addresses (127.0.0.first...): none is slowed;
    past auth_failures_per_user (= n) the next wrong guess waits, from a fresh address too; the
    right password from yet another address does not."""
    for i in range(n):
        code, took = timed_auth(port, "127.0.0.%d" % (first + i), user, "guess%d" % i)
        assert code == 535 and took < 0.9, (i, code, took)
    code, took = timed_auth(port, "127.0.0.%d" % (first + n), user, "guess")
    assert code == 535 and took >= 1.0, (code, took)
    code, took = timed_auth(port, "127.0.0.%d" % (first + n + 1), user, password)
    assert code == 235 and took < 0.9, (code, took)


def login_and_send(port, src, count, limit_code):
    """AUTH with the right password, then `count` messages; the one after them gets limit_code
    at MAIL FROM (0 = no further attempt)."""
    s = tls_client(port, src)
    s.ehlo("user.test")
    code, text = auth_plain(s, "alice@example.test", "secret")
    assert code == 235, (code, text)
    for i in range(count):
        s.sendmail("alice@example.test", ["bob@example.test"],
                   msg("rate %d" % i, "alice@example.test"))
    if limit_code:
        code, text = s.docmd("MAIL", "FROM:<alice@example.test>")
        assert code == limit_code and text.startswith(b"4.7.1"), (code, text)
    s.quit()


def trusted_rate(port, src, count, limit_code):
    s = smtplib.SMTP(HOST, port, timeout=30, source_address=(src, 0))
    s.ehlo("app.test")
    for i in range(count):
        s.sendmail("noreply@app.test", ["bob@example.test"], msg("trusted %d" % i))
    code, text = s.docmd("MAIL", "FROM:<noreply@app.test>")
    assert code == limit_code and text.startswith(b"4.7.1"), (code, text)
    s.quit()


def improper(port, src):
    """A stranger sending the message before the 354: 554 5.5.0 and the connection closed."""
    s = connect(port, src)
    f = s.makefile("rb")
    assert f.readline().startswith(b"220")
    s.sendall(b"EHLO spammer.test\r\n")
    while not f.readline().startswith(b"250 "):
        pass
    s.sendall(b"MAIL FROM:<a@remote.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n"
              b"Subject: early\r\n\r\nearly bird\r\n.\r\nQUIT\r\n")
    lines = []
    while True:
        ln = f.readline()
        if not ln:
            break
        lines.append(ln)
    assert [ln[:3] for ln in lines] == [b"250", b"250", b"554"], lines
    assert lines[-1].startswith(b"554 5.5.0"), lines


def refused_at_connect(port, src, code):
    s = connect(port, src)
    got = s.recv(200)
    assert got.startswith(code.encode()), got
    assert s.recv(200) == b"", "not closed after the refusal"


def connection_rate(port, src, limit):
    """limit connections a minute are greeted; the next one gets 421 4.7.0."""
    got = []
    for _ in range(limit + 1):
        s = connect(port, src)
        got.append(s.recv(200)[:9])
        s.sendall(b"QUIT\r\n")
        s.close()
    assert got[:limit] == [b"220 mx.te"] * limit and got[limit] == b"421 4.7.0", got


def smtplib_client(port, src):
    s = smtplib.SMTP(HOST, port, timeout=30, source_address=(src, 0))
    s.ehlo("polite.test")
    s.sendmail("a@remote.test", ["alice@example.test"], msg("smtplib"))
    s.quit()


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    conv = [int(a) if a.isdigit() else (float(a) if a.replace(".", "", 1).isdigit() else a)
            for a in args]
    globals()[cmd](*conv)


if __name__ == "__main__":
    main()
