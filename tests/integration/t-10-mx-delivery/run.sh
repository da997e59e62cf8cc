#!/usr/bin/env bash
# MX delivery against a real DNS server (dnsmasq) and real receiving SMTP servers (aiosmtpd) in
# a private network namespace: MX preference and fallback, implicit MX, null MX, NXDOMAIN, a 4xx
# then success, mixed per-recipient results, bounces to the sender, restart with a pending message.
source "$(dirname "$0")/../lib.sh"
enter_netns "$@"

start_dns \
  --mx-host=example.net,mx1.example.net,10 --mx-host=example.net,mx2.example.net,20 \
  --host-record=mx1.example.net,127.0.0.11 --host-record=mx2.example.net,127.0.0.12 \
  --host-record=implicit.test,127.0.0.13 \
  --mx-host=nullmx.test,.,0 \
  --mx-host=tempfail.test,mx.tempfail.test,10 --host-record=mx.tempfail.test,127.0.0.14 \
  --mx-host=remote.test,mx2.example.net,10 \
  --mx-host=restart.test,mx.restart.test,10 --host-record=mx.restart.test,127.0.0.15
# mx1 (127.0.0.11) has no server: delivery must fall back to mx2.
start_receiver mx2 127.0.0.12 25
start_receiver implicit 127.0.0.13 25
start_receiver tempfail 127.0.0.14 25 --tempfail-first 1
start_receiver later 127.0.0.15 25 --tempfail-first 1

TRUSTED='["127.0.0.0/8"]' DNS_SERVER=127.0.0.53:53 RETRY='"1s"' LIFETIME=1h write_config
setup_domains
start_daemon

send() {  # send FROM TO[,TO...] SUBJECT
  swaks --server 127.0.0.1:"$SMTP_PORT" --from "$1" --to "$2" --header "Subject: $3" --silent 2
}
check "accepted: two MX, first one down" send alice@example.test bob@example.net "fallback"
check "delivered to the second MX" wait_for 1 received_count mx2
check "envelope recipient at the MX" grep -q "rcpt bob@example.net" "$T"/rx/mx2/msg-1.env
check "our EHLO name at the MX" grep -q "helo mx.test" "$T"/rx/mx2/msg-1.env

check "accepted: domain without MX" send alice@example.test carol@implicit.test "implicit"
check "delivered to the domain's own address (implicit MX)" wait_for 1 received_count implicit

check "accepted: a 4xx first" send alice@example.test frank@tempfail.test "tempfail"
check "delivered on the retry" wait_for 1 received_count tempfail
check "the 4xx was logged as deferred" grep -q "to=frank@tempfail.test result=deferred" "$LOG"
check "metrics: three recipients delivered by MX" wait_for 3 metric 'hikyaku_delivered_total{via="mx"}'
check "metrics: the 4xx counted as deferred" wait_for 1 metric 'hikyaku_deferred_total{via="mx"}'

check "accepted: mixed recipients in one transaction" \
  send alice@example.test ok@example.net,reject@example.net "mixed"
check "the accepted recipient is delivered" wait_for 2 received_count mx2
check "one transaction for both (only the accepted rcpt stored)" \
  bash -c "grep -c '^rcpt' '$T/rx/mx2/msg-2.env' | grep -qx 1"

check "accepted: a local alias that forwards to a remote address" \
  send stranger@elsewhere.test fwd@example.test "forwarded"
check "forwarded to the remote address's MX" wait_for 3 received_count mx2
check "forwarded with the final recipient" grep -q "rcpt someone@remote.test" "$T"/rx/mx2/msg-3.env

check "accepted: null MX" send alice@example.test dave@nullmx.test "nullmx"
check "accepted: NXDOMAIN" send alice@example.test erin@nosuch.test "nxdomain"

dsn_count() { grep -l "multipart/report" -r "$DATA/mail/example.test/alice/new" 2>/dev/null | wc -l; }
WAIT_SECONDS=40 check "three bounces reach the sender's mailbox" wait_for 3 dsn_count
check "bounce for the rejected recipient carries the remote reply" \
  grep -rqE "Diagnostic-Code: smtp; ?550 5.1.1" "$DATA/mail/example.test/alice/new"
check "bounce for the null MX says 5.1.10" grep -rq "Status: 5.1.10" "$DATA/mail/example.test/alice/new"
check "bounce for NXDOMAIN says 5.1.2" grep -rq "Status: 5.1.2" "$DATA/mail/example.test/alice/new"
check "bounces come from the null sender" \
  bash -c "grep -rh '^Return-Path:' '$DATA/mail/example.test/alice/new' | grep -c '<>' | grep -qx 3"
check "no bounce for a bounce: a null-sender failure is dropped" \
  bash -c "swaks --server 127.0.0.1:$SMTP_PORT --from '<>' --to ghost@nosuch.test --silent 2 &&
           sleep 2 && grep -q 'result=no-bounce reason=null-sender' '$LOG'"

# Restart with a pending message: the receiver defers once, the daemon dies (kill -9) before the
# retry, and the restarted daemon delivers it.
check "accepted: a message that will be pending at restart" send alice@example.test gina@restart.test "restart"
deferred_once() { grep -c "to=gina@restart.test result=deferred" "$LOG" || true; }
check "first attempt deferred" wait_for 1 deferred_once
stop_daemon KILL
check "still in the queue after kill -9" test "$(queue_count)" -ge 1
start_daemon
check "delivered after the restart" wait_for 1 received_count later
finish
