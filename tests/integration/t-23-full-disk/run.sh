#!/usr/bin/env bash
# A full disk: data_dir is a 64 MiB tmpfs in the test's own mount namespace. With
# [queue] min_free_space, MAIL FROM gets 452 4.3.1 while free space is below it (and the log says
# why), and mail is accepted again, without a restart, once space returns. With min_free_space = 0
# a message that does not fit gets 451 4.3.0 whether the spool or the final copy runs out of
# space, no partial file is left anywhere, and the mail accepted before is intact.
source "$(dirname "$0")/../lib.sh"
enter_netns "$@"  # a private mount namespace (and loopback) for the tmpfs

TRUSTED='["127.0.0.0/8"]' MAX_SIZE=50MiB write_config 'min_free_space = "32MiB"'
mount -t tmpfs -o size=64m,mode=0700 hk-full-disk "$DATA"
setup_domains
start_daemon

cat >"$T/send.py" <<'PY'
# send.py PORT RCPT MIB EXPECT [STAGE]: one message of MIB MiB; EXPECT is the code wanted at
# STAGE ("mail" or "data", the default).
import socket, sys
port, rcpt, mib, expect = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4]
stage = sys.argv[5] if len(sys.argv) > 5 else "data"
s = socket.create_connection(("127.0.0.1", port), timeout=60)
f = s.makefile("rb")
def reply():
    lines = []
    while True:
        l = f.readline().decode()
        lines.append(l.strip())
        if l[3:4] != "-":
            return l[:3], " | ".join(lines)
def step(line, want):
    if line:
        s.sendall(line.encode() + b"\r\n")
    code, text = reply()
    print(line, "->", text)
    assert code == want, (line, text)
    return code
reply()
step("EHLO full.test", "250")
if stage == "mail":
    step("MAIL FROM:<app@example.test>", expect)
    sys.exit(0)
step("MAIL FROM:<app@example.test>", "250")
step("RCPT TO:<%s>" % rcpt, "250")
step("DATA", "354")
line = b"x" * 78 + b"\r\n"
s.sendall(b"Subject: %.1f MiB\r\n\r\n" % mib + line * int(mib * 1048576 / 80) + b".\r\n")
code, text = reply()
print("DATA ->", text)
assert code == expect, text
if expect.startswith("4"):
    assert "4.3." in text, text
step("QUIT", "221")
PY
send() { "$PY" "$T/send.py" "$SMTP_PORT" "$@"; }

check "room: a 1 MiB message for alice is accepted" send alice@example.test 1 250
check "room: a 1 MiB message for a remote address is queued" send someone@remote.test 1 250
check "the queued message is in the queue" wait_for 1 queue_count
dd if=/dev/zero of="$DATA/filler" bs=1M count=40 status=none || true
sleep 1.2  # free space is measured at most once a second
check "below min_free_space: MAIL FROM gets 452 4.3.1" send alice@example.test 0 452 mail
check "the log says why" grep -q "result=rejected reason=disk-space available=" "$LOG"
check "metrics count it" bash -c \
  "curl -sf http://127.0.0.1:$METRICS_PORT/metrics | grep -q 'hikyaku_rejected_total{reason=\"disk-space\"} [1-9]'"
rm -f "$DATA/filler"
accept_again() { send alice@example.test 0.1 250 >/dev/null 2>&1 && echo yes || echo no; }
check "space back: accepted again without a restart" wait_for yes accept_again

# min_free_space = 0: nothing is refused at MAIL FROM, so the writes themselves meet the full disk.
stop_daemon
sed -i 's/^min_free_space = .*/min_free_space = "0"/' "$ETC/hikyaku.toml"
start_daemon
before=$(cat "$DATA"/mail/example.test/alice/new/* "$DATA"/queue/*.msg | md5sum)
delivered=$(maildir_count example.test alice)
free_mib() { df -m --output=avail "$DATA" | tail -n1 | tr -d ' '; }
# ~30 MiB free: the 24 MiB body fits in the spool, its copy into the queue file does not.
dd if=/dev/zero of="$DATA/filler" bs=1M count=$(($(free_mib) - 30)) status=none || true
check "the final copy runs out of space: 451 4.3.0" send someone@remote.test 24 451
check "no partial queue file, queue/tmp empty" bash -c \
  "[ \$(find '$DATA/queue' -name '*.msg' | wc -l) = 1 ] && [ -z \"\$(ls -A '$DATA/queue/tmp')\" ]"
check "the same to alice (Maildir, then the queue): 451 4.3.0" send alice@example.test 24 451
check "no partial file in alice's Maildir tmp/ or new/" bash -c \
  "[ -z \"\$(ls -A '$DATA/mail/example.test/alice/tmp')\" ] && [ \$(ls '$DATA/mail/example.test/alice/new' | wc -l) = $delivered ]"
# ~10 MiB free: the spool itself runs out of space while the message comes in.
rm -f "$DATA/filler"
dd if=/dev/zero of="$DATA/filler" bs=1M count=$(($(free_mib) - 10)) status=none || true
check "the spool runs out of space: 451 4.3.0 after the final dot" send alice@example.test 20 451
check "the log names the spool error" grep -q "result=spool-error.*No space left on device" "$LOG"
check "nothing left behind: queue/tmp empty, no new file" bash -c \
  "[ -z \"\$(ls -A '$DATA/queue/tmp')\" ] && [ \$(find '$DATA/queue' -name '*.msg' | wc -l) = 1 ]"
check "the space of the refused message came back" bash -c "[ $(free_mib) -ge 9 ]"
check "mail accepted before is intact" bash -c \
  "[ \"\$(cat '$DATA'/mail/example.test/alice/new/* '$DATA'/queue/*.msg | md5sum)\" = '$before' ]"
check "a small message still fits and is accepted" send alice@example.test 0.5 250
check "the daemon is still running" kill -0 "$DAEMON_PID"
stop_daemon
umount "$DATA"
finish
