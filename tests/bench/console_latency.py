#!/usr/bin/env python3
"""The console's latency with many captured messages (issue 12's benchmark).

Asks a running hikyaku's console (capture mode) the calls a developer's page and a CI test suite
make — the list's first and a deep page, searches that hit one message, many, and none (the
whole index scanned), one message's details and its raw source — each `--reps` times over one
kept-alive connection, and prints median, p90, p99 and max in milliseconds, with how many
messages the answer said it matched. Standard library only.

usage: console_latency.py --url http://127.0.0.1:PORT [--reps 30] [--expect N]
"""
import argparse
import http.client
import json
import statistics
import sys
import time
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--expect", type=int, default=0, help="messages the store should hold")
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)

    def get(path):
        t0 = time.perf_counter()
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        ms = (time.perf_counter() - t0) * 1000
        if r.status != 200:
            raise SystemExit(f"GET {path}: HTTP {r.status}: {body[:200]!r}")
        return ms, body

    _, first = get("/api/v1/messages?limit=50")
    listing = json.loads(first)
    total = listing["total"]
    if a.expect and total < a.expect:
        raise SystemExit(f"the store holds {total} messages, expected {a.expect}")
    newest = listing["messages"][0]
    subject = newest["Subject"]  # "hk-bench message N of session S"
    q = urllib.parse.quote
    cases = [
        ("list, first page (50)", "/api/v1/messages?limit=50"),
        ("list, middle page (50)", f"/api/v1/messages?start={total // 2}&limit=50"),
        ("search, one match (phrase)", "/api/v1/search?limit=50&query=" + q(f'"{subject}"')),
        ("search, every message (to:)", "/api/v1/search?limit=50&query=" + q("to:sink@bench.test")),
        ("search, no match (subject:)", "/api/v1/search?limit=50&query=" + q("subject:zzqqxx-none")),
        ("search, two terms, one negated", "/api/v1/search?limit=50&query="
         + q("from:bench -subject:zzqqxx-none")),
        ("message details", f"/api/v1/message/{newest['ID']}"),
        ("message raw", f"/api/v1/message/{newest['ID']}/raw"),
    ]
    print(f"console latency, {total} captured messages, {a.reps} requests each, one kept-alive"
          f" connection (ms)")
    print(f"{'call':<34}{'matched':>9}{'median':>9}{'p90':>9}{'p99':>9}{'max':>9}")
    for name, path in cases:
        times = []
        matched = "-"
        for _ in range(a.reps):
            ms, body = get(path)
            times.append(ms)
        if path.startswith("/api/v1/search") or path.startswith("/api/v1/messages"):
            doc = json.loads(body)
            matched = str(doc.get("messages_count", doc.get("total", "?")))
        times.sort()

        def pct(p):
            return times[min(len(times) - 1, int(round(p / 100 * (len(times) - 1))))]

        print(f"{name:<34}{matched:>9}{statistics.median(times):>9.2f}{pct(90):>9.2f}"
              f"{pct(99):>9.2f}{times[-1]:>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
