#!/usr/bin/python3
"""A tiny UDP DNS responder for hk_dns tests: fixed answers that dnsmasq cannot give.

Binds 127.0.0.1 on a free port, prints "PORT <n>" on stdout, answers until killed or until
--lifetime seconds have passed. Standard library only. Names (case-insensitive):
  servfail.test      any type -> SERVFAIL
  refused.test       any type -> REFUSED
  nullmx.test        MX -> one null MX (RFC 7505: preference 0, exchange ".")
  ttl.test           MX -> two MX records, TTL 300 and 120; TXT -> TTL 77
  negttl.test        NXDOMAIN with SOA (TTL 900, MINIMUM 600): negative TTL 600 (RFC 2308 §5)
  nodata.test        NOERROR, no answer, SOA (TTL 60, MINIMUM 3600): negative TTL 60
  garbage.test       a header announcing one answer that is not there
  shorttlsa.test     TLSA -> one TLSA record of 2 octets, shorter than its fixed fields
  cnametlsa.test     TLSA -> only a CNAME to elsewhere.test, and an SOA (TTL 45, MINIMUM 90)
  silent.test        never answered
  anything else      NXDOMAIN without SOA
"""

import argparse
import socket
import struct
import sys
import time

T_MX, T_TXT, T_SOA, T_CNAME, T_TLSA = 15, 16, 6, 5, 52


def encode_name(name):
    out = b""
    for label in name.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def rr(rtype, ttl, rdata, owner=b"\xc0\x0c"):
    return owner + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def soa(ttl, minimum):
    rdata = encode_name("ns.test") + encode_name("hostmaster.test")
    rdata += struct.pack("!IIIII", 1, 3600, 600, 86400, minimum)
    return rr(T_SOA, ttl, rdata)


def parse_question(msg):
    pos = 12
    labels = []
    while True:
        n = msg[pos]
        pos += 1
        if n == 0:
            break
        labels.append(msg[pos:pos + n].decode("ascii", "replace"))
        pos += n
    qtype, _ = struct.unpack("!HH", msg[pos:pos + 4])
    return ".".join(labels).lower(), qtype, msg[12:pos + 4]


def answer(msg):
    qid, flags = struct.unpack("!HH", msg[:4])
    name, qtype, question = parse_question(msg)
    rcode, answers, authority = 0, [], []
    if name == "silent.test":
        return None
    if name == "servfail.test":
        rcode = 2
    elif name == "refused.test":
        rcode = 5
    elif name == "nullmx.test" and qtype == T_MX:
        answers = [rr(T_MX, 3600, struct.pack("!H", 0) + b"\0")]
    elif name == "ttl.test" and qtype == T_MX:
        answers = [rr(T_MX, 300, struct.pack("!H", 10) + encode_name("a.ttl.test")),
                   rr(T_MX, 120, struct.pack("!H", 20) + encode_name("b.ttl.test"))]
    elif name == "ttl.test" and qtype == T_TXT:
        answers = [rr(T_TXT, 77, b"\x05hello")]
    elif name == "negttl.test":
        rcode = 3
        authority = [soa(900, 600)]
    elif name == "nodata.test":
        authority = [soa(60, 3600)]
    elif name == "shorttlsa.test" and qtype == T_TLSA:
        answers = [rr(T_TLSA, 300, b"\x03\x01")]
    elif name == "cnametlsa.test" and qtype == T_TLSA:
        answers = [rr(T_CNAME, 300, encode_name("elsewhere.test"))]
        authority = [soa(45, 90)]
    elif name == "garbage.test":
        header = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0)
        return header + question
    else:
        rcode = 3
    rd = flags & 0x0100
    header = struct.pack("!HHHHHH", qid, 0x8400 | rd | 0x0080 | rcode, 1, len(answers),
                         len(authority), 0)
    return header + question + b"".join(answers) + b"".join(authority)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lifetime", type=float, default=60.0)
    args = p.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    print("PORT %d" % sock.getsockname()[1], flush=True)
    deadline = time.monotonic() + args.lifetime
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        sock.settimeout(left)
        try:
            msg, peer = sock.recvfrom(4096)
        except socket.timeout:
            return
        try:
            reply = answer(msg)
        except (IndexError, struct.error, UnicodeError):
            continue
        if reply is not None:
            sock.sendto(reply, peer)


if __name__ == "__main__":
    sys.exit(main())
