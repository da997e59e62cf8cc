#!/usr/bin/python3
# Independent DKIM check with dkimpy: verifies the message on stdin using the TXT record value
# given as the only argument instead of DNS. Exit 0 when the signature verifies, 1 otherwise.
import sys

import dkim


def main():
    if len(sys.argv) != 2:
        print("usage: dkimpy_verify.py TXT_VALUE < message", file=sys.stderr)
        return 2
    record = sys.argv[1].encode()
    message = sys.stdin.buffer.read()

    def dnsfunc(name, timeout=5):
        return record

    ok = dkim.verify(message, dnsfunc=dnsfunc)
    print("pass" if ok else "fail")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
