#!/usr/bin/python3
"""Large messages at once: N concurrent SMTP sessions each send one message of SIZE MiB to a
running hikyaku, while the daemon's memory is sampled; prints the figures and checks the bounds.

  memory_load.py --port P --pid PID [--sessions 200] [--mib 20] [--rcpt alice@example.test]
                 [--max-rss-mib 512] [--timeout 600]

Every session must end with a 250 (accepted) or a clean 4xx/5xx reply (refused); a session that
hangs, is reset, or gets no reply fails the run. The peak resident memory is VmHWM of
/proc/PID/status (the kernel's high-water mark, so no sample can miss a peak). Exit status 0
when every session ended cleanly and the peak stayed under --max-rss-mib.
"""
import argparse
import socket
import sys
import threading
import time

LINE = b"0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 .,;:!?\r\n"


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def read_reply(f):
    """One whole (multi-line) reply: (code, text)."""
    lines = []
    while True:
        line = f.readline()
        if not line:
            return 0, "connection closed: " + " | ".join(lines)
        lines.append(line.decode("utf-8", "replace").rstrip("\r\n"))
        if len(line) < 4 or line[3:4] != b"-":
            return int(line[:3]), " | ".join(lines)


def session(i, args, body, results):
    t0 = time.monotonic()
    try:
        s = socket.create_connection(("127.0.0.1", args.port), timeout=args.timeout)
        f = s.makefile("rb")

        def cmd(line, want):
            if line is not None:
                s.sendall(line + b"\r\n")
            code, text = read_reply(f)
            if code // 100 != want:
                raise RuntimeError(f"{line!r}: {text}")
            return code, text

        cmd(None, 2)
        cmd(b"EHLO load" + str(i).encode() + b".test", 2)
        cmd(b"MAIL FROM:<load" + str(i).encode() + b"@remote.test>", 2)
        cmd(b"RCPT TO:<" + args.rcpt.encode() + b">", 2)
        cmd(b"DATA", 3)
        header = (f"From: load{i}@remote.test\r\nTo: {args.rcpt}\r\n"
                  f"Subject: memory load {i}\r\nMessage-ID: <load{i}@remote.test>\r\n\r\n")
        s.sendall(header.encode())
        s.sendall(body)
        s.sendall(b".\r\n")
        code, text = read_reply(f)
        s.sendall(b"QUIT\r\n")
        s.close()
        results[i] = (code, text, time.monotonic() - t0)
    except Exception as e:  # a reset, a timeout, an unexpected reply: all are failures
        results[i] = (None, f"{type(e).__name__}: {e}", time.monotonic() - t0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--sessions", type=int, default=200)
    p.add_argument("--mib", type=float, default=20)
    p.add_argument("--rcpt", default="alice@example.test")
    p.add_argument("--max-rss-mib", type=float, default=512)
    p.add_argument("--timeout", type=float, default=600)
    args = p.parse_args()

    body = LINE * int(args.mib * 1024 * 1024 / len(LINE))
    rss_before = status_kib(args.pid, "VmRSS")
    results = [None] * args.sessions
    threads = [threading.Thread(target=session, args=(i, args, body, results))
               for i in range(args.sessions)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    peak_sampled = 0
    while any(t.is_alive() for t in threads):
        peak_sampled = max(peak_sampled, status_kib(args.pid, "VmRSS"))
        time.sleep(0.05)
        if time.monotonic() - t0 > args.timeout + 30:
            break
    elapsed = time.monotonic() - t0
    hwm = status_kib(args.pid, "VmHWM")
    rss_after = status_kib(args.pid, "VmRSS")

    accepted = sum(1 for r in results if r and r[0] == 250)
    refused = [r for r in results if r and r[0] is not None and r[0] >= 400]
    broken = [r for r in results if not r or r[0] is None]
    total_mib = args.sessions * len(body) / 1048576
    print(f"sessions={args.sessions} message_mib={len(body) / 1048576:.1f} "
          f"accepted={accepted} refused={len(refused)} failed={len(broken)}")
    print(f"elapsed_s={elapsed:.1f} throughput_mib_s={total_mib / elapsed:.0f}")
    print(f"rss_before_mib={rss_before / 1024:.1f} rss_peak_sampled_mib={peak_sampled / 1024:.1f} "
          f"vmhwm_mib={hwm / 1024:.1f} rss_after_mib={rss_after / 1024:.1f} "
          f"bound_mib={args.max_rss_mib:.0f}")
    for r in (refused + broken)[:5]:
        print("  not accepted:", r[1] if r else "no result")
    ok = not broken and hwm / 1024 < args.max_rss_mib
    print("result=" + ("ok" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
