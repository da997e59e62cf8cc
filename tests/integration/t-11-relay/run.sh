#!/usr/bin/env bash
# Smart-host relay: STARTTLS + AUTH with a verified certificate, failover from a dead relay to
# the next, a refused login kept in the queue (never sent elsewhere, never bounced at once), and
# hikyaku-util test-relay reporting what works.
source "$(dirname "$0")/../lib.sh"
enter_netns "$@"

start_dns --host-record=relay.test,127.0.0.20
# The relay's certificate, trusted through SSL_CERT_FILE as a private CA would be.
make_cert "$T/relay-cert" relay.test relay.test
export SSL_CERT_FILE=$T/relay-cert/fullchain.pem
start_receiver relay 127.0.0.20 587 --starttls --require-starttls --auth hk:s3cret \
  --cert "$T/relay-cert/fullchain.pem" --key "$T/relay-cert/privkey.pem"

export RELAY_PASSWORD=s3cret
TRUSTED='["127.0.0.0/8"]' DNS_SERVER=127.0.0.53:53 RETRY='"1s"' write_config \
  '[[relay]]' 'host = "127.0.0.21"' 'port = 587' 'tls = "starttls"' 'username = "hk"' \
  'password = "${RELAY_PASSWORD}"' \
  '[[relay]]' 'host = "relay.test"' 'port = 587' 'tls = "starttls"' 'username = "hk"' \
  'password = "${RELAY_PASSWORD}"'
setup_domains
start_daemon

check "accepted for a remote recipient" \
  swaks --server 127.0.0.1:"$SMTP_PORT" --from alice@example.test --to someone@far.example \
    --header "Subject: via relay" --silent 2
check "delivered through the second relay" wait_for 1 received_count relay
check "metrics: counted as delivered by relay" wait_for 1 metric 'hikyaku_delivered_total{via="relay"}'
check "metrics: no MX delivery" test "$(metric 'hikyaku_delivered_total{via="mx"}')" = 0
check "over TLS" grep -q "tls yes" "$T"/rx/relay/msg-1.env
check "after AUTH" grep -q "auth hk" "$T"/rx/relay/msg-1.env
check "envelope kept" grep -q "rcpt someone@far.example" "$T"/rx/relay/msg-1.env
check "the dead first relay was tried first" grep -q "peer=127.0.0.21.*connect-failed" "$LOG"

check "test-relay: the dead relay fails, the good one works (exit 1: not all work)" bash -c "
  rc=0; '$HK_BIN/hikyaku-util' -C '$ETC' test-relay --timeout=5 >'$T/probe' 2>&1 || rc=\$?
  cat '$T/probe'; [ \$rc = 1 ] && grep -q 'works' '$T/probe' && grep -q 'does not work' '$T/probe'"

# A wrong password: the relay refuses the login; the message waits in the queue.
stop_daemon
export RELAY_PASSWORD=wrong
start_daemon
check "accepted while the relay refuses our login" \
  swaks --server 127.0.0.1:"$SMTP_PORT" --from alice@example.test --to other@far.example --silent 2
refused() { grep -c "result=deferred.*535" "$LOG" || true; }
check "the 535 is logged and the message deferred" bash -c "
  for _ in \$(seq 1 50); do grep -q 'result=deferred.*535' '$LOG' && exit 0; sleep 0.2; done; exit 1"
check "nothing more reached the relay" test "$(received_count relay)" = 1
check "still queued" test "$(queue_count)" = 1
check "test-relay says AUTH failed" bash -c "
  '$HK_BIN/hikyaku-util' -C '$ETC' test-relay --timeout=5 2>&1 | grep -q 'FAIL auth'"
finish
