#!/usr/bin/env bash
# SRS (docs/srs.md) with real DNS (dnsmasq), real receivers (aiosmtpd) and an independent DKIM
# implementation (dkimpy): a message DKIM-signed by an outside sender and forwarded by a catch-all
# to a remote mailbox leaves with MAIL FROM SRS0=…@our domain and a signature that still verifies;
# a bounce to that address reaches the original sender's MX; forged and expired SRS addresses get
# 550; another forwarder's SRS0 sender becomes SRS1 and its bounce goes back to that forwarder;
# mail from our own domains is forwarded with its sender; local delivery is unchanged.
source "$(dirname "$0")/../lib.sh"
enter_netns "$@"
U=$HK_BIN/hikyaku-util
# dkimpy looks its keys up through /etc/resolv.conf (this namespace's own copy).
echo "nameserver 127.0.0.53" >"$T/resolv.conf"

# The outside sender's DKIM key (RSA 1024: its TXT record fits in one string for dnsmasq).
openssl genrsa -out "$T/sender.key" 1024 2>/dev/null
pub=$(openssl rsa -in "$T/sender.key" -pubout -outform DER 2>/dev/null | base64 -w0)
start_dns "--txt-record=sel._domainkey.sender.test,v=DKIM1; k=rsa; p=$pub" \
  --mx-host=sender.test,mx.sender.test,10 --host-record=mx.sender.test,127.0.0.21 \
  --mx-host=inbox.test,mx.inbox.test,10 --host-record=mx.inbox.test,127.0.0.22 \
  --mx-host=first.test,mx.first.test,10 --host-record=mx.first.test,127.0.0.23
start_receiver origin 127.0.0.21 25  # the original sender's MX (bounces come back here)
start_receiver inbox 127.0.0.22 25   # the big mailbox the catch-all forwards to
start_receiver first 127.0.0.23 25   # another forwarder, whose SRS0 senders we re-forward

DNS_SERVER=127.0.0.53:53 RETRY='"1s"' write_config
setup_domains
mkdir -p "$ETC/domains/forward.test"
echo '*: me@inbox.test' >"$ETC/domains/forward.test/aliases"
echo 'out: me@inbox.test' >>"$ETC/domains/example.test/aliases"
start_daemon

check "the SRS secret was made at first start, mode 0600" \
  bash -c "test \"\$(stat -c %a '$DATA/srs.key')\" = 600"
check "the start is logged without the secret" \
  bash -c "grep -q 'srs enabled=auto .*result=key-created' '$LOG' &&
           ! grep -qF \"\$(grep -v '^#' '$DATA/srs.key')\" '$LOG'"

# A message signed by sender.test with dkimpy (relaxed/relaxed, From To Subject Date Message-ID).
signed_by_sender "$T/sender.key" "$T/signed.eml" "forwarded and signed" srs-test-1@sender.test
check "dkimpy verifies the original through the test's DNS" dkimverify <"$T/signed.eml"

send() {  # send FROM TO FILE-or-empty [swaks options]
  local from=$1 to=$2 data=$3
  shift 3
  swaks --server 127.0.0.1:"$SMTP_PORT" --from "$from" --to "$to" ${data:+--data "$data"} \
    --silent 2 "$@"
}
env_of() { echo "$T/rx/$1/msg-$2.env"; }

# smtplib sends the bytes as they are (swaks would add a line break at the end).
smtp_send() {  # smtp_send FROM TO FILE
  "$PY" - "$SMTP_PORT" "$@" <<'PY'
import smtplib, sys
port, sender, rcpt, path = sys.argv[1:]
with smtplib.SMTP("127.0.0.1", int(port)) as s:
    s.sendmail(sender, [rcpt], open(path, "rb").read())
PY
}
check "port 25: the signed message to the catch-all is accepted" \
  smtp_send bob@sender.test anyone@forward.test "$T/signed.eml"
check "forwarded to the remote mailbox's MX" wait_for 1 received_count inbox
check "MAIL FROM is SRS0=…=sender.test=bob@forward.test" \
  grep -qE '^from SRS0=[A-Za-z0-9+/]{4}=[A-Z2-7]{2}=sender\.test=bob@forward\.test$' "$(env_of inbox 1)"
check "RCPT TO is the forward's target" grep -qx "rcpt me@inbox.test" "$(env_of inbox 1)"
check "dkimpy: the DKIM signature of the forwarded message still verifies" \
  dkimverify <"$T/rx/inbox/msg-1.eml"
check "the message arrives byte for byte, after our trace fields" \
  bash -c "tr -d '\r' <'$T/rx/inbox/msg-1.eml' | sed -n '/^DKIM-Signature:/,\$p' |
           cmp - <(tr -d '\r' <'$T/signed.eml')"
SRS=$(sed -n 's/^from //p' "$(env_of inbox 1)")
check "hikyaku-util srs decode names the original sender" \
  bash -c "test \"\$('$U' -C '$ETC' srs decode '$SRS')\" = bob@sender.test"

# The bounce: from the null sender, on port 25, to the SRS address; it goes to sender.test's MX.
check "port 25: a bounce to the SRS address is accepted" send '<>' "$SRS" ""
check "the bounce reaches the original sender's MX" wait_for 1 received_count origin
check "…addressed to the original sender" grep -qx "rcpt bob@sender.test" "$(env_of origin 1)"
check "…from the null sender" grep -qx "from <>" "$(env_of origin 1)"
check "the hash is compared without case" \
  bash -c "swaks --server 127.0.0.1:$SMTP_PORT --from '<>' \
             --to \"\$(echo '$SRS' | tr a-z A-Z)\" --quit-after RCPT 2>&1 | grep -q '<-  250 2.1.5'"

refused() {  # refused ADDRESS TEXT: RCPT TO ADDRESS gets 550 5.1.1 with TEXT
  swaks --server 127.0.0.1:"$SMTP_PORT" --from '<>' --to "$1" --quit-after RCPT >"$T/r.out" 2>&1 || true
  grep -q "<\*\* 550 5.1.1 Invalid SRS address ($2)" "$T/r.out" || { cat "$T/r.out"; return 1; }
}
h=${SRS:5:1}
if [ "$h" = Q ]; then f=R; else f=Q; fi
FORGED="SRS0=$f${SRS:6}"
check "a forged hash is refused with 550 5.1.1" refused "$FORGED" "bad hash"
check "hikyaku-util srs decode says why (exit 1)" \
  bash -c "! '$U' -C '$ETC' srs decode '$FORGED' 2>'$T/d.err' && grep -q 'bad hash' '$T/d.err'"
OLD=$("$U" -C "$ETC" srs encode bob@sender.test --domain forward.test \
  --at "$(date -u -d '-30 days' +%F)")
check "an SRS address made 30 days ago is refused with 550 5.1.1" refused "$OLD" "expired"
RECENT=$("$U" -C "$ETC" srs encode bob@sender.test --domain forward.test \
  --at "$(date -u -d '-20 days' +%F)")
check "…one made 20 days ago is still good" \
  bash -c "test \"\$('$U' -C '$ETC' srs decode '$RECENT')\" = bob@sender.test"
check "a malformed one is refused" refused "SRS0=abcd@forward.test" "malformed"
check "…also at another local domain (the catch-all of example.test is not used)" \
  refused "SRS0=${SRS:5:4}=AA=sender.test=bob@example.test" "bad hash"
check "nothing more reached the sender's MX" test "$(received_count origin)" = 1

# Another forwarder's SRS0 sender (first.test, its own secret) is re-forwarded as SRS1, and the
# bounce to that goes back to the first forwarder's SRS0 address.
mkdir -p "$T/first"
echo "first-forwarders-own-secret-0123456789" >"$T/first/srs.key"
chmod 600 "$T/first/srs.key"
FIRST=$("$U" -C "$ETC" srs encode carol@sender.test --domain first.test --data-dir "$T/first")
check "a message from another forwarder's SRS0 address" send "$FIRST" anyone@forward.test ""
check "forwarded" wait_for 2 received_count inbox
SRS1=$(sed -n 's/^from //p' "$(env_of inbox 2)")
is_srs1() {  # the first forwarder's name, then its SRS0 part after "SRS0", at our domain
  local tail=${FIRST#SRS0}
  tail=${tail%@first.test}@forward.test
  [[ $SRS1 == SRS1=????=first.test="$tail" ]] || { echo "$SRS1 / $FIRST"; return 1; }
}
check "…with MAIL FROM SRS1=HHHH=first.test==<its SRS0 part>@forward.test" is_srs1
check "a bounce to the SRS1 address is accepted" send '<>' "$SRS1" ""
check "…and goes to the first forwarder's SRS0 address" wait_for 1 received_count first
check "…addressed to it" grep -qxF "rcpt $FIRST" "$(env_of first 1)"

# Our own sender is not rewritten; the null sender neither.
check "mail from one of our domains to an alias that forwards out" \
  send alice@example.test out@example.test ""
check "forwarded" wait_for 3 received_count inbox
check "…with the sender as it came" grep -qx "from alice@example.test" "$(env_of inbox 3)"
check "a null-sender message to the catch-all" send '<>' someone@forward.test ""
check "forwarded" wait_for 4 received_count inbox
check "…with the null sender" grep -qx "from <>" "$(env_of inbox 4)"
# Local delivery is as before.
check "an outside sender to a local mailbox" send bob@sender.test alice@example.test "$T/signed.eml"
check "delivered to the Maildir" wait_for 1 maildir_count example.test alice
check "…with its own Return-Path" \
  grep -rq "^Return-Path: <bob@sender.test>" "$DATA/mail/example.test/alice/new"

check "metrics: two recipients rewritten (SRS0, SRS1)" \
  wait_for 2 metric 'hikyaku_srs_total{result="rewritten"}'
check "metrics: three bounces accepted" wait_for 3 metric 'hikyaku_srs_total{result="bounce-accepted"}'
check "metrics: bad hashes refused" wait_for 2 metric 'hikyaku_srs_total{result="bounce-bad-hash"}'
check "metrics: one expired" wait_for 1 metric 'hikyaku_srs_total{result="bounce-expired"}'
check "the log names each refusal" grep -q "result=rejected reason=srs srs=expired" "$LOG"

# [srs] enabled = false: forwards keep their sender, and SRS0= is an ordinary local part (here
# the catch-all's).
stop_daemon
printf '[srs]\nenabled = false\n' >>"$ETC/hikyaku.toml"
start_daemon
check "SRS off: a stranger's mail to the catch-all" send bob@sender.test anyone@forward.test ""
check "forwarded" wait_for 5 received_count inbox
check "…with the sender as it came" grep -qx "from bob@sender.test" "$(env_of inbox 5)"
check "SRS off: a forged SRS address is just another address of the catch-all" \
  bash -c "swaks --server 127.0.0.1:$SMTP_PORT --from '<>' --to '$FORGED' --quit-after RCPT 2>&1 |
           grep -q '<-  250 2.1.5'"
finish
