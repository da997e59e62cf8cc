#!/usr/bin/python3
"""Senders for t-20-shutdown: THREADS threads send messages with unique Message-IDs through
the daemon's port 25 (trusted loopback, remote recipients) until the file STOP exists, each
connection carrying up to 3 messages. Every answer is written to OUT as "ID CODE" (CODE 0 for a
connection that failed before an answer); a refused connection (the daemon is down) is retried.
"""

import smtplib
import socket
import sys
import threading
import time
import os

port, threads, stop, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
lock = threading.Lock()
results = open(out, "a", buffering=1)


def record(mid, code):
    with lock:
        results.write("%s %d\n" % (mid, code))


def sender(n):
    seq = 0
    while not os.path.exists(stop):
        try:
            s = smtplib.SMTP("127.0.0.1", port, timeout=30)
        except (OSError, smtplib.SMTPException):
            time.sleep(0.05)
            continue
        try:
            s.ehlo("load.test")
            for _ in range(3):
                if os.path.exists(stop):
                    break
                seq += 1
                mid = "<t%d.%d.%f@load.test>" % (n, seq, time.time())
                msg = ("From: a@load.test\r\nTo: b@far.test\r\nMessage-ID: %s\r\n"
                       "Subject: load %d %d\r\n\r\nbody\r\n" % (mid, n, seq))
                try:
                    s.sendmail("a@load.test", ["b%d@far.test" % n], msg)
                    record(mid, 250)
                except smtplib.SMTPResponseException as e:
                    record(mid, e.smtp_code)
                    break
                except smtplib.SMTPRecipientsRefused as e:
                    record(mid, list(e.recipients.values())[0][0])
                    break
                except (OSError, smtplib.SMTPException):
                    record(mid, 0)
                    break
        except (OSError, smtplib.SMTPException):
            pass
        finally:
            try:
                s.close()
            except OSError:
                pass


ts = [threading.Thread(target=sender, args=(i,)) for i in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
