#!/usr/bin/env bash
# Capture mode (docs/capture.md) against the real daemon, with real clients (python smtplib,
# swaks) and a real receiver (aiosmtpd on loopback, the smart host every delivery goes through):
# mail from a trusted client is captured in DATA/capture, DKIM-signed, and never reaches the
# receiver; a [capture] deliver recipient of the same message is delivered for real; failure
# injection at RCPT (fail-550, defer-451, slow-2s) and at the dot (+fail-550, +defer-451,
# +slow-2s) gives exactly those replies; max_messages = 3 (set by a reload) keeps the newest three
# of five and logs each drop; kill -9 right after a 250 loses nothing; release through the API
# reaches the receiver exactly once; and `hikyaku --dev DIR` as an unprivileged user writes its
# configuration, listens and captures.
source "$(dirname "$0")/../lib.sh"

start_receiver relay 127.0.0.1 0
RELAY_PORT=$(cat "$T/rx/relay.port")
TRUSTED='["127.0.0.0/8"]' RETRY='"1s"' write_config \
  '[capture]' 'enabled = true' 'deliver = ["*@real.test"]' \
  '[[relay]]' 'host = "127.0.0.1"' "port = $RELAY_PORT" 'tls = "none"'
# The console (API) on a free loopback port, when this build has one.
sed -i 's/^metrics = .*/&\nconsole = ["127.0.0.1:0"]/' "$ETC/hikyaku.toml"
setup_domains
"$HK_BIN/hikyaku-util" -C "$ETC" dkim-keygen example.test --selector=sel --algo=ed25519 >/dev/null
start_daemon
console_port() { sed -n 's/.*listening console=127.0.0.1:\([0-9]*\).*/\1/p' "$LOG" | tail -n1; }

capture_count() { find "$DATA/capture" -maxdepth 1 -name '*.msg' 2>/dev/null | wc -l; }
# captured_with TEXT — how many captured messages hold TEXT.
captured_with() { grep -lF -- "$1" "$DATA"/capture/*.msg 2>/dev/null | wc -l; }
received_with() { grep -lF -- "$1" "$T"/rx/relay/*.eml 2>/dev/null | wc -l; }

# smtp.py PORT FROM SUBJECT RCPT... — one message through smtplib; prints the RCPT replies and
# the final reply as "rcpt ADDR CODE TEXT" and "data CODE TEXT" lines (and the seconds each took).
cat >"$T/smtp.py" <<'PY'
import smtplib, sys, time
port, sender, subject, rcpts = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.ehlo("app.test")
s.mail(sender)
ok = False
for r in rcpts:
    t0 = time.monotonic()
    code, text = s.rcpt(r)
    print(f"rcpt {r} {code} {text.decode()} {time.monotonic() - t0:.2f}s", flush=True)
    ok = ok or code == 250
if ok:
    msg = (f"From: App <{sender}>\r\nTo: {', '.join(rcpts)}\r\nSubject: {subject}\r\n"
           f"Message-ID: <{subject}@app.test>\r\n\r\nHello from {subject}.\r\n")
    t0 = time.monotonic()
    code, text = s.data(msg.encode())
    print(f"data {code} {text.decode()} {time.monotonic() - t0:.2f}s", flush=True)
s.quit()
PY
send() { "$PY" "$T/smtp.py" "$SMTP_PORT" "$@"; }

# 1. Captured, not delivered: durable in DATA/capture before the 250, signed as it would leave.
send alice@example.test first-captured someone@remote.test >"$T/first.out"
check "a trusted client's message is answered 250 queued as" grep -q "^data 250 2.0.0 Ok: queued as " "$T/first.out"
check "it is in DATA/capture" wait_for 1 captured_with "Subject: first-captured"
check "it is DKIM-signed as it would be sent" \
  bash -c "grep -A3 'DKIM-Signature:' '$DATA'/capture/*.msg | grep -q 'd=example.test'"
check "it is logged as captured" grep -q "capture id=.* rcpts=someone@remote.test result=captured" "$LOG"
check "nothing is queued" test "$(queue_count)" = 0

# 2. deliver: one message to an allowed and a captured recipient is split.
send alice@example.test split-message ops@real.test other@remote.test >"$T/split.out"
check "the split message is answered 250" grep -q "^data 250 " "$T/split.out"
check "the deliver recipient is delivered for real" wait_for 1 received_with "Subject: split-message"
check "... to it alone" bash -c "grep -l 'split-message' '$T'/rx/relay/*.eml | sed 's/eml\$/env/' | \
  xargs cat | grep '^rcpt' | tr '\n' ' ' | grep -qx 'rcpt ops@real.test '"
check "the other recipient's copy is captured" wait_for 1 captured_with "Subject: split-message"
check "... for it alone" bash -c "grep -q 'rcpts=other@remote.test result=captured' '$LOG'"

# 3. Failure injection at RCPT, with swaks (its transcript) and smtplib (exact replies).
swaks --server 127.0.0.1:"$SMTP_PORT" --from alice@example.test --to fail-550@remote.test \
  >"$T/swaks-550.out" 2>&1 || true
check "swaks: fail-550 at RCPT gets 550 5.1.1" grep -q "<\*\* 550 5.1.1 Injected failure" "$T/swaks-550.out"
send alice@example.test injected fail-550@remote.test defer-451@remote.test FAIL-550@x.test >"$T/rcpt.out"
check "fail-550 at RCPT: 550 5.1.1" grep -q "^rcpt fail-550@remote.test 550 5.1.1 Injected failure" "$T/rcpt.out"
check "defer-451 at RCPT: 451 4.3.0" grep -q "^rcpt defer-451@remote.test 451 4.3.0 Injected deferral" "$T/rcpt.out"
check "any case: FAIL-550 too" grep -q "^rcpt FAIL-550@x.test 550 5.1.1" "$T/rcpt.out"
send alice@example.test slow-rcpt slow-2s@remote.test >"$T/slow.out"
check "slow-2s at RCPT: 250 after about 2 s" \
  awk '/^rcpt slow-2s@remote.test 250 / { t = $NF + 0; exit !(t >= 1.9 && t < 4) } END { if (NR == 0) exit 1 }' "$T/slow.out"
check "the slow message is captured all the same" wait_for 1 captured_with "Subject: slow-rcpt"
check "a deliver recipient is never injected" \
  bash -c "'$PY' '$T/smtp.py' '$SMTP_PORT' alice@example.test real-fail fail-550@real.test | grep -q '^rcpt fail-550@real.test 250'"

# 4. ... and as +tags at the final dot: nothing is stored.
before=$(capture_count)
send alice@example.test dot-fail bob+fail-550@remote.test carol@remote.test >"$T/dot.out"
check "bob+fail-550: 250 at RCPT" grep -q "^rcpt bob+fail-550@remote.test 250" "$T/dot.out"
check "bob+fail-550: 550 5.1.1 at the dot" grep -q "^data 550 5.1.1 Injected failure" "$T/dot.out"
send alice@example.test dot-defer bob+defer-451@remote.test >"$T/dot2.out"
check "bob+defer-451: 451 4.3.0 at the dot" grep -q "^data 451 4.3.0 Injected deferral" "$T/dot2.out"
send alice@example.test dot-slow bob+slow-2s@remote.test >"$T/dot3.out"
check "bob+slow-2s: 250 at the dot after about 2 s" \
  awk '/^data 250 / { t = $NF + 0; exit !(t >= 1.9 && t < 4) } END { if (NR == 0) exit 1 }' "$T/dot3.out"
check "refused messages were not stored, the slow one was" \
  wait_for $((before + 1)) capture_count
check "the injections are logged" bash -c "grep -q 'result=injected injection=fail-550 at=dot' '$LOG' && \
  grep -q 'result=injected injection=slow-2s at=rcpt' '$LOG'"

# 5. max_messages = 3 by a reload; five more keep the newest three, each drop logged.
sed -i 's/^enabled = true$/&\nmax_messages = 3/' "$ETC/hikyaku.toml"
kill -HUP "$DAEMON_PID"
check "the reload takes capture.max_messages" wait_for 1 bash -c "grep -c 'key=capture.max_messages result=ok' '$LOG'"
check "the reload trims to 3" wait_for 3 capture_count
for i in 1 2 3 4 5; do send alice@example.test "bulk-$i" "bulk$i@remote.test" >/dev/null; done
check "five more keep three" wait_for 3 capture_count
check "... the newest three" bash -c "[ \$(grep -l 'Subject: bulk-[345]' '$DATA'/capture/*.msg | wc -l) = 3 ]"
dropped=$(grep -c "capture id=.* result=dropped" "$LOG" || true)
# Four were there before the reload (first, split, slow-rcpt, dot-slow) and the one with the
# real.test recipient was not captured: 4 - 3 at the reload, then one per bulk message.
check "each drop is logged ($dropped)" test "$dropped" = 6
check "nothing reached the receiver but the deliver recipient" test "$(received_count relay)" = 2

# 6. Durability: kill -9 right after the 250; the message is there after a restart.
"$PY" - "$SMTP_PORT" "$DAEMON_PID" >"$T/kill.out" <<'PY'
import os, signal, smtplib, sys
port, pid = int(sys.argv[1]), int(sys.argv[2])
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.ehlo("app.test")
s.mail("alice@example.test")
s.rcpt("durable@remote.test")
code, text = s.data(b"From: alice@example.test\r\nSubject: durable-one\r\n\r\nkept\r\n")
os.kill(pid, signal.SIGKILL)  # the instant the 250 is read
print(code, text.decode())
PY
check "the message before the kill was answered 250" grep -q "^250 " "$T/kill.out"
wait "$DAEMON_PID" 2>/dev/null || true
DAEMON_PID=""
cp "$LOG" "$T/before-kill.log"
start_daemon
check "after kill -9 and a restart, it is still captured" test "$(captured_with 'Subject: durable-one')" = 1
# Three kept, plus at most the one dropped by the last put if its unlink (done in the background)
# had not run yet at the kill: a crash may bring back a dropped message, never lose a kept one.
check "the restart indexed what is on disk" grep -Eq "capture loaded=[34] skipped=0" "$LOG"

# 7. Release through the API: the receiver gets it exactly once.
for _ in $(seq 1 50); do
  CONSOLE=$(console_port)
  [ -n "$CONSOLE" ] && break
  sleep 0.1
done
if [ -z "$CONSOLE" ]; then
  fail "the daemon has a console listener for the API ([listen] console)"
else
  ID=$(curl -sf "http://127.0.0.1:$CONSOLE/api/v1/search?query=subject:durable-one" |
    "$PY" -c 'import json, sys; print(json.load(sys.stdin)["messages"][0]["ID"])')
  check "the API finds the captured message" test -n "$ID"
  check "POST /api/v1/message/ID/release answers 200" \
    curl -sf -X POST "http://127.0.0.1:$CONSOLE/api/v1/message/$ID/release"
  check "the released message reaches the receiver" wait_for 1 received_with "Subject: durable-one"
  check "... for its own recipient" bash -c "grep -l 'durable-one' '$T'/rx/relay/*.eml | \
    sed 's/eml\$/env/' | xargs grep -q '^rcpt durable@remote.test'"
  check "the capture no longer holds it" test "$(captured_with 'Subject: durable-one')" = 0
  sleep 2  # a second delivery would come within the retry of 1 s
  check "exactly once" test "$(received_with 'Subject: durable-one')" = 1
fi
stop_daemon

# 8. hikyaku --dev DIR as an unprivileged user: writes its configuration (loopback, capture on,
# no root), is told to use free ports by editing it, listens and captures.
chmod 711 "$T"
DEV=$T/devhome/dev
mkdir -p "$T/devhome"
chown nobody "$T/devhome"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- env HOME="$T/devhome" "$@"; }
check "--dev --check-config writes a configuration and checks it" \
  as_nobody "$HK_BIN/hikyaku" --dev "$DEV" --check-config
check "... with SMTP on 127.0.0.1:1025, the console on 8025, capture on" \
  bash -c "grep -qx 'smtp = \[\"127.0.0.1:1025\"\]' '$DEV/hikyaku.toml' && \
    grep -qx 'console = \[\"127.0.0.1:8025\"\]' '$DEV/hikyaku.toml' && \
    grep -qx 'enabled = true' '$DEV/hikyaku.toml' && ! grep -q run_as '$DEV/hikyaku.toml'"
check "... owned by the user who ran it" test "$(stat -c %U "$DEV/hikyaku.toml")" = nobody
check "without a folder, it names the default one" bash -c \
  "setpriv --reuid=nobody --regid=nogroup --clear-groups -- env -u XDG_DATA_HOME HOME='$T/devhome' \
    '$HK_BIN/hikyaku' --dev --check-config 2>&1 | grep -q 'wrote $T/devhome/.local/share/hikyaku-dev/hikyaku.toml'"
sed -i 's/127.0.0.1:1025/127.0.0.1:0/; s/127.0.0.1:8025/127.0.0.1:0/' "$DEV/hikyaku.toml"
: >"$T/dev.log"
# Not through the function: $! must be the daemon itself (setpriv, env and setsid exec it).
setpriv --reuid=nobody --regid=nogroup --clear-groups -- env HOME="$T/devhome" \
  setsid "$HK_BIN/hikyaku" --dev "$DEV" >"$T/dev.log" 2>&1 &
DAEMON_PID=$!
check "--dev with an existing configuration uses it" wait_for 1 bash -c "grep -c 'hikyaku --dev: using $DEV/hikyaku.toml' '$T/dev.log'"
check "--dev listens on its SMTP port" wait_for 1 bash -c "grep -c 'listening smtp=127.0.0.1:' '$T/dev.log'"
DEV_SMTP=$(sed -n 's/.*listening smtp=127.0.0.1:\([0-9]*\).*/\1/p' "$T/dev.log" | tail -n1)
check "--dev runs as the user who started it" \
  bash -c "[ \"\$(ps -o user= -p '$DAEMON_PID')\" = nobody ] && [ \"\$(ps -o comm= -p '$DAEMON_PID')\" = hikyaku ]"
check "--dev captures a message sent with swaks" \
  swaks --server 127.0.0.1:"$DEV_SMTP" --from app@app.test --to user@example.com \
  --header "Subject: dev-mode" --silent 2
check "... into DIR/data/capture" wait_for 1 bash -c "grep -lF 'Subject: dev-mode' '$DEV'/data/capture/*.msg 2>/dev/null | wc -l"
stop_daemon
LOG=$T/dev.log  # for the failure report
finish
