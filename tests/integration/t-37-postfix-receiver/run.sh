#!/usr/bin/env bash
# Delivery to a real Postfix (Debian's package) as the receiving MTA, in a private network
# namespace with real DNS (dnsmasq). Each Postfix instance runs from its own config, queue and
# data directories under $T (never the system instance, never /etc/postfix) on 127.0.0.x:25 and
# stores what it accepts in a Maildir (virtual(8)). (1) A message DKIM-signed by an outside sender
# and forwarded by a catch-all reaches Postfix with the envelope sender SRS0=…@our domain (Postfix
# writes it into Return-Path) and a DKIM signature that dkimpy still verifies on the stored file.
# (2) Postfix offers STARTTLS with a certificate of a test CA: the delivery is logged
# tls=verified, the domain is remembered (domaininfo), Postfix logs the TLS connection. (3) A
# Postfix with anvil connection rate limits answers "421 4.7.0 … Error: too many connections":
# that destination backs off while another domain's mail is delivered at once; nothing bounces;
# every throttled message is stored exactly once in the end.
source "$(dirname "$0")/../lib.sh"
enter_netns "$@"
# dkimpy looks its keys up through /etc/resolv.conf (this namespace's own copy).
echo "nameserver 127.0.0.53" >"$T/resolv.conf"
source "$(dirname "$0")/../postfix.sh"

make_test_ca
signed_cert inbox mx.inbox.test mx.fast.test

# The outside sender's DKIM key (RSA 1024: its TXT record fits in one string for dnsmasq).
openssl genrsa -out "$T/sender.key" 1024 2>/dev/null
pub=$(openssl rsa -in "$T/sender.key" -pubout -outform DER 2>/dev/null | base64 -w0)
start_dns "--txt-record=sel._domainkey.sender.test,v=DKIM1; k=rsa; p=$pub" \
  --mx-host=inbox.test,mx.inbox.test,10 --host-record=mx.inbox.test,127.0.0.41 \
  --mx-host=fast.test,mx.fast.test,10 --host-record=mx.fast.test,127.0.0.41 \
  --mx-host=slow.test,mx.slow.test,10 --host-record=mx.slow.test,127.0.0.42

# "inbox": the big mailbox provider, with STARTTLS; it also hosts fast.test for case 3.
start_postfix inbox 127.0.0.41 "inbox.test, fast.test" \
  "smtpd_tls_security_level = may" "smtpd_tls_chain_files = $CA/inbox.key, $CA/inbox.pem" \
  "smtpd_tls_loglevel = 1"
# "slow": at most 2 connections per client in any 10 s (anvil), loopback not exempt (by default
# mynetworks are); a second's pause after DATA keeps both connections busy while more mail comes,
# so that we surely open a third (a free connection would be reused, and never throttled).
start_postfix slow 127.0.0.42 "slow.test" \
  "smtpd_client_connection_rate_limit = 2" "anvil_rate_time_unit = 10s" \
  "smtpd_data_restrictions = sleep 1" \
  "smtpd_client_event_limit_exceptions ="

TRUSTED='["127.0.0.0/8"]' DNS_SERVER=127.0.0.53:53 RETRY='"1s"' LIFETIME=1h write_config \
  '[delivery]' 'mta_sts = false' 'max_connections_per_domain = 4' 'max_connections_per_host = 4' \
  'backoff_min = "3s"' 'backoff_max = "12s"'
setup_domains
mkdir -p "$ETC/domains/forward.test"
echo '*: me@inbox.test' >"$ETC/domains/forward.test/aliases"
start_daemon

# eventually CMD... — CMD succeeds within 10 s: Postfix's daemons log through postlogd, a moment
# after the fact (the Maildir file is there before virtual's "status=sent").
eventually() {
  for _ in $(seq 1 100); do "$@" 2>/dev/null && return 0; sleep 0.1; done
  "$@"
}
BOX=$T/pf/inbox/mail/box/new
SLOWBOX=$T/pf/slow/mail/box/new
stored() { if [ -d "$1" ]; then find "$1" -type f | wc -l; else echo 0; fi; }
# stored_for DIR ADDRESS — messages in DIR that Postfix delivered to ADDRESS.
stored_for() { { grep -lx "Delivered-To: $2" "$1"/* 2>/dev/null || true; } | wc -l; }

# --- (1) SRS and DKIM through a real MTA ---
signed_by_sender "$T/sender.key" "$T/signed.eml" "forwarded to Postfix" postfix-srs-1@sender.test
check "dkimpy verifies the original through the test's DNS" dkimverify <"$T/signed.eml"
smtp_send() {  # smtp_send FROM TO FILE — smtplib sends the bytes as they are
  "$PY" - "$SMTP_PORT" "$@" <<'PY'
import smtplib, sys
port, sender, rcpt, path = sys.argv[1:]
with smtplib.SMTP("127.0.0.1", int(port)) as s:
    s.sendmail(sender, [rcpt], open(path, "rb").read())
PY
}
check "port 25: the signed message to the catch-all is accepted" \
  smtp_send bob@sender.test anyone@forward.test "$T/signed.eml"
check "Postfix stored the forwarded message" wait_for 1 stored_for "$BOX" me@inbox.test
SRS_FILE=$(grep -lx "Delivered-To: me@inbox.test" "$BOX"/* | head -n1)
check "Postfix logged the delivery to me@inbox.test" eventually \
  grep -q 'postfix/virtual.*to=<me@inbox.test>.*status=sent' "$T/pf/inbox/postfix.log"
check "Return-Path (the envelope sender Postfix got) is SRS0=…=sender.test=bob@forward.test" \
  grep -qE '^Return-Path: <SRS0=[A-Za-z0-9+/]{4}=[A-Z2-7]{2}=sender\.test=bob@forward\.test>$' "$SRS_FILE"
check "Postfix's log shows the same sender" eventually \
  grep -qE 'qmgr.*from=<SRS0=[^>]*=sender\.test=bob@forward\.test>' "$T/pf/inbox/postfix.log"
# Postfix stores with LF line ends and prepends Return-Path, Delivered-To and its Received; DKIM
# (relaxed) does not cover them, and the CRLF form is what went over the wire.
check "dkimpy: the DKIM signature verifies on the message Postfix stored" \
  bash -c "sed 's/\$/\r/' '$SRS_FILE' | dkimverify"
check "the signed part arrived unchanged" \
  bash -c "sed -n '/^DKIM-Signature:/,\$p' '$SRS_FILE' | cmp - <(tr -d '\r' <'$T/signed.eml')"
check "the SRS address decodes to the original sender" \
  bash -c "a=\$(sed -n 's/^Return-Path: <\(.*\)>\$/\1/p' '$SRS_FILE');
           test \"\$('$HK_BIN/hikyaku-util' -C '$ETC' srs decode \"\$a\")\" = bob@sender.test"

# --- (2) verified TLS to Postfix, and the TLS memory ---
check "a message to carol@inbox.test is accepted" send_to carol@inbox.test "over TLS"
check "Postfix stored it" wait_for 1 stored_for "$BOX" carol@inbox.test
delivery_id() { sed -n "s/.* id=\([0-9A-Z]*\) to=$1 result=delivered .*/\1/p" "$LOG" | head -n1; }
check "case 1's forward went over verified TLS too" \
  grep -q "id=$(delivery_id me@inbox.test) peer=127.0.0.41:25 name=mx.inbox.test tls=verified" "$LOG"
check "the daemon logged tls=verified for the delivery to Postfix" \
  grep -q "id=$(delivery_id carol@inbox.test) peer=127.0.0.41:25 name=mx.inbox.test tls=verified" "$LOG"
remembered() { if [ -e "$DATA/domaininfo/$1" ]; then echo 1; else echo 0; fi; }
check "the domain is remembered" wait_for 1 remembered inbox.test
check "domaininfo show lists inbox.test" \
  bash -c "'$HK_BIN/hikyaku-util' -C '$ETC' domaininfo show | grep -q '^inbox.test tls=verified mx=mx.inbox.test since=20'"
# We present no client certificate, so Postfix calls it anonymous (smtpd_tls_loglevel = 1).
check "Postfix's smtpd logged the TLS connection" eventually \
  grep -qE 'postfix/smtpd\[[0-9]+\]: Anonymous TLS connection established from unknown\[127\.0\.0\.41\]: TLSv1\.3' "$T/pf/inbox/postfix.log"
check "Postfix's Received field says ESMTPS" grep -q "^	by mx.inbox.test (Postfix) with ESMTPS id" "$(grep -lx "Delivered-To: carol@inbox.test" "$BOX"/*)"

# --- (3) a throttling Postfix: back-off, while another domain is delivered at once ---
send_all() {  # 10 messages to each of slow.test and fast.test, interleaved, over one session
  "$PY" - "$SMTP_PORT" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
for i in range(1, 11):
    for dom in ("slow", "fast"):
        msg = ("Subject: %s-%d\r\nFrom: alice@example.test\r\nMessage-ID: <%s-%d@example.test>\r\n"
               "\r\nbody %d\r\n") % (dom, i, dom, i, i)
        s.sendmail("alice@example.test", ["user%d@%s.test" % (i, dom)], msg)
s.quit()
PY
}
fast_count() { { grep -l '^Delivered-To: user[0-9]*@fast.test$' "$BOX"/* 2>/dev/null || true; } | wc -l; }
start=$(date +%s.%N)
check "20 messages accepted" send_all
WAIT_SECONDS=15 check "fast.test: all 10 stored by Postfix" wait_for 10 fast_count
fast_done=$(date +%s.%N)
slow_then=$(stored "$SLOWBOX")
echo "     fast.test done $(awk -v a="$start" -v b="$fast_done" 'BEGIN { printf "%.1f", b - a }') s after the first message was sent; slow.test had $slow_then"
check "fast.test was done within 10 s" awk -v a="$start" -v b="$fast_done" 'BEGIN { exit !(b - a < 10) }'
check "slow.test was not done then ($slow_then of 10)" test "$slow_then" -lt 10
check "Postfix answered 421 4.7.0 … Error: too many connections" \
  grep -q "to=user[0-9]*@slow.test result=deferred .*421 4.7.0 mx.slow.test Error: too many connections from 127.0.0.[0-9]*" "$LOG"
check "Postfix logged its connection rate limit" eventually \
  grep -q "warning: Connection rate limit exceeded: [0-9]* from unknown\[127.0.0.[0-9]*\] for service smtp" "$T/pf/slow/postfix.log"
check "the daemon backed off from slow.test" \
  grep -q 'destination=slow.test result=backoff delay=3s level=1 reply="421 4.7.0 mx.slow.test Error: too many connections' "$LOG"
check "no back-off for fast.test" bash -c "! grep -q 'destination=fast.test result=backoff' '$LOG'"
check "slow.test's mail was postponed, not attempted, while backing off" \
  grep -qE 'to=user[0-9]+@slow.test result=postponed .*reason="slow.test is backing off after' "$LOG"
WAIT_SECONDS=70 check "slow.test: all 10 stored by Postfix in the end" wait_for 10 stored "$SLOWBOX"
echo "     slow.test done $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s after the first message was sent"
check "a success ended the back-off" grep -q 'destination=slow.test result=backoff-ended' "$LOG"
once() {  # DIR DOMAIN: 10 messages, 10 different Message-IDs of DOMAIN's series
  local ids
  ids=$(cat "$1"/* | grep -E "^Message-ID: <$2-[0-9]+@example.test>$")
  if [ "$(echo "$ids" | wc -l)" != 10 ] || [ "$(echo "$ids" | sort -u | wc -l)" != 10 ]; then
    echo "$ids"
    return 1
  fi
}
check "slow.test: each message stored exactly once" once "$SLOWBOX" slow
check "fast.test: each message stored exactly once" once "$BOX" fast
WAIT_SECONDS=10 check "the queue is empty" wait_for 0 queue_count
check "nothing failed or bounced" bash -c "! grep -qE 'result=failed|dsn_needed' '$LOG'"
check "no DSN in the sender's mailbox" test "$(maildir_count example.test alice)" = 0
check "Postfix bounced nothing" bash -c "! grep -q 'status=bounced' $T/pf/*/postfix.log"
finish
