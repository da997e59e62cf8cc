#!/usr/bin/env bash
# What the operator sees on /metrics after real deliveries, in a private network namespace with a
# DNS server (dnsmasq) and real receivers (aiosmtpd): a local Maildir delivery, an MX delivery
# over unverified STARTTLS, a smart host over verified STARTTLS, a 550 bounced with its DSN, a 451
# deferred, then — after a reload shortens the queue lifetime — the same 451 expiring. The scrape
# is checked series by series, exactly, and with promtool.
source "$(dirname "$0")/../lib.sh"
enter_netns "$@"

start_dns \
  --mx-host=remote.test,mx.remote.test,10 --host-record=mx.remote.test,127.0.0.11 \
  --host-record=relay.test,127.0.0.20
# The MX has a self-signed certificate (STARTTLS, unverified); the smart host's is trusted
# through SSL_CERT_FILE, as a private CA's would be (verified).
make_cert "$T/mx-cert" mx.remote.test mx.remote.test
make_cert "$T/relay-cert" relay.test relay.test
export SSL_CERT_FILE=$T/relay-cert/fullchain.pem
start_receiver mx 127.0.0.11 25 --starttls --cert "$T/mx-cert/fullchain.pem" \
  --key "$T/mx-cert/privkey.pem"
start_receiver relay 127.0.0.20 587 --starttls --require-starttls \
  --cert "$T/relay-cert/fullchain.pem" --key "$T/relay-cert/privkey.pem"

TRUSTED='["127.0.0.0/8"]' DNS_SERVER=127.0.0.53:53 RETRY='"10m"' LIFETIME=1h write_config \
  '[[relay]]' 'host = "relay.test"' 'port = 587' 'tls = "starttls"' 'domains = ["relayed.test"]'
setup_domains
start_daemon

dsn_count() { grep -l "multipart/report" -r "$DATA/mail/example.test/alice/new" 2>/dev/null | wc -l; }
# expect FILE SERIES VALUE — the series has exactly this value in the saved scrape.
expect() {
  local got
  got=$(awk -v s="$2" '$1 == s { print $2 }' "$1")
  if [ "$got" = "$3" ]; then pass "$2 = $3"; else fail "$2 = $3 (got '${got:-missing}')"; fi
}

check "accepted: a local recipient" send_to alice@example.test "local"
check "stored in the Maildir" wait_for 1 maildir_count example.test alice
check "accepted: an MX recipient" send_to bob@remote.test "mx"
check "delivered to the MX" wait_for 1 received_count mx
check "accepted: a recipient routed to the smart host" send_to carol@relayed.test "relay"
check "delivered through the smart host" wait_for 1 received_count relay
check "accepted: a recipient the MX refuses (550)" send_to reject@remote.test "bounce"
check "its DSN reaches the sender's mailbox" wait_for 1 dsn_count
check "accepted: a recipient the MX defers (451)" send_to later@remote.test "defer"
check "deferred" wait_deferred later@remote.test 451
check "the DSN was delivered (queue down to the deferred message)" wait_for 1 queue_count
sleep 1.2  # the oldest message is then at least a second old

scrape >"$T/scrape1"
check "promtool check metrics reports nothing" \
  bash -c "out=\$(promtool check metrics <'$T/scrape1' 2>&1) && [ -z \"\$out\" ] || { echo \"\$out\"; exit 1; }"
expect "$T/scrape1" 'hikyaku_delivered_total{via="maildir"}' 2  # alice's mail and her DSN
expect "$T/scrape1" 'hikyaku_delivered_total{via="mx"}' 1
expect "$T/scrape1" 'hikyaku_delivered_total{via="relay"}' 1
expect "$T/scrape1" 'hikyaku_bounced_total{via="mx"}' 1
expect "$T/scrape1" 'hikyaku_bounced_total{via="relay"}' 0
expect "$T/scrape1" 'hikyaku_deferred_total{via="mx"}' 1
expect "$T/scrape1" 'hikyaku_deferred_total{via="relay"}' 0
expect "$T/scrape1" 'hikyaku_expired_total' 0
expect "$T/scrape1" 'hikyaku_delivery_replies_total{via="mx",class="2xx"}' 1
expect "$T/scrape1" 'hikyaku_delivery_replies_total{via="mx",class="4xx"}' 1
expect "$T/scrape1" 'hikyaku_delivery_replies_total{via="mx",class="5xx"}' 1
expect "$T/scrape1" 'hikyaku_delivery_replies_total{via="mx",class="none"}' 0
expect "$T/scrape1" 'hikyaku_delivery_replies_total{via="relay",class="2xx"}' 1
expect "$T/scrape1" 'hikyaku_delivery_replies_total{via="relay",class="5xx"}' 0
expect "$T/scrape1" 'hikyaku_delivery_tls_total{via="mx",level="unverified"}' 3
expect "$T/scrape1" 'hikyaku_delivery_tls_total{via="mx",level="plain"}' 0
expect "$T/scrape1" 'hikyaku_delivery_tls_total{via="mx",level="verified"}' 0
expect "$T/scrape1" 'hikyaku_delivery_tls_total{via="relay",level="verified"}' 1
expect "$T/scrape1" 'hikyaku_delivery_tls_total{via="relay",level="unverified"}' 0
expect "$T/scrape1" 'hikyaku_delivery_duration_seconds_count{via="mx"}' 3
expect "$T/scrape1" 'hikyaku_delivery_duration_seconds_count{via="relay"}' 1
# From the queue: the MX and relay deliveries and the DSN (the local one skipped the queue).
expect "$T/scrape1" 'hikyaku_delivery_delay_seconds_count' 3
expect "$T/scrape1" 'hikyaku_dsn_sent_total{kind="failure"}' 1
expect "$T/scrape1" 'hikyaku_dsn_sent_total{kind="delay"}' 0
expect "$T/scrape1" 'hikyaku_queue_size' 1
expect "$T/scrape1" 'hikyaku_accepted_total' 5
expect "$T/scrape1" 'hikyaku_certificate_expiry_timestamp_seconds{name="mx.test"}' \
  "$(date -d "$(openssl x509 -enddate -noout -in "$ETC/certs/mx.test/fullchain.pem" | cut -d= -f2)" +%s)"
expect "$T/scrape1" 'hikyaku_build_info{version="'"$("$HK_BIN/hikyaku-util" --version | cut -d' ' -f2)"'"}' 1
age=$(awk '$1 == "hikyaku_queue_oldest_message_age_seconds" { print $2 }' "$T/scrape1")
check "the oldest message is at least a second old (got $age)" test "${age:-0}" -ge 1
check "... and younger than this test" test "${age:-999}" -lt 100
start=$(awk '$1 == "hikyaku_start_time_seconds" { print $2 }' "$T/scrape1")
check "start time within the last two minutes" test $(( $(date +%s) - ${start:-0} )) -lt 120

# A reload that shortens the queue lifetime, then a flush: the 451 is now final (expired).
sed -i 's/^lifetime = .*/lifetime = "1s"/' "$ETC/hikyaku.toml"
kill -HUP "$DAEMON_PID"
reloaded() { grep -c 'reload what=config key=queue.lifetime result=ok' "$LOG" || true; }
check "the reload took the new lifetime" wait_for 1 reloaded
check "queue flush asks the daemon to retry" "$HK_BIN/hikyaku-util" -C "$ETC" queue flush
check "the expired recipient's DSN reaches the sender" wait_for 2 dsn_count
check "the queue is empty" wait_for 0 queue_count
check "queue size gauge back to 0" wait_for 0 metric hikyaku_queue_size

scrape >"$T/scrape2"
check "promtool check metrics reports nothing after the reload" \
  bash -c "out=\$(promtool check metrics <'$T/scrape2' 2>&1) && [ -z \"\$out\" ] || { echo \"\$out\"; exit 1; }"
expect "$T/scrape2" 'hikyaku_expired_total' 1
expect "$T/scrape2" 'hikyaku_deferred_total{via="mx"}' 2  # the last attempt, then expired
expect "$T/scrape2" 'hikyaku_bounced_total{via="mx"}' 1
expect "$T/scrape2" 'hikyaku_delivered_total{via="maildir"}' 3
expect "$T/scrape2" 'hikyaku_delivery_replies_total{via="mx",class="4xx"}' 2
expect "$T/scrape2" 'hikyaku_delivery_tls_total{via="mx",level="unverified"}' 4
expect "$T/scrape2" 'hikyaku_dsn_sent_total{kind="failure"}' 2
expect "$T/scrape2" 'hikyaku_queue_oldest_message_age_seconds' 0
expect "$T/scrape2" 'hikyaku_reloads_total{what="config",result="ok"}' 1
expect "$T/scrape2" 'hikyaku_reloads_total{what="config",result="kept-old"}' 0
expect "$T/scrape2" 'hikyaku_reloads_total{what="certs",result="ok"}' 1  # SIGHUP re-reads them
expect "$T/scrape2" 'hikyaku_reloads_total{what="dkim",result="ok"}' 0  # unchanged: no reload
expect "$T/scrape2" 'hikyaku_reload_errors_total{what="config"}' 0
# A broken config on SIGHUP is kept-old, in both families.
echo 'this is = = not toml' >>"$ETC/hikyaku.toml"
kill -HUP "$DAEMON_PID"
check "a broken reload counted as kept-old" \
  wait_for 1 metric 'hikyaku_reloads_total{what="config",result="kept-old"}'
check "and as a reload error" test "$(metric 'hikyaku_reload_errors_total{what="config"}')" = 1

# A delay warning (RFC 3464 Action: delayed) is the other kind of DSN: a fixed config with
# delay_warning = 2s, and a message the MX keeps deferring.
sed -i -e '/not toml/d' -e 's/^lifetime = .*/lifetime = "1h"\ndelay_warning = "2s"/' "$ETC/hikyaku.toml"
kill -HUP "$DAEMON_PID"
warn_set() { grep -c 'reload what=config key=queue.delay_warning result=ok' "$LOG" || true; }
check "the reload took delay_warning" wait_for 1 warn_set
check "accepted: another recipient the MX defers" send_to later-again@remote.test "delay"
check "the delay warning reaches the sender" wait_for 3 dsn_count
check "it is a delay warning" bash -c "grep -rl 'Action: delayed' '$DATA/mail/example.test/alice/new' | grep -q ."
check "counted as kind=delay" wait_for 1 metric 'hikyaku_dsn_sent_total{kind="delay"}'
check "failures unchanged" test "$(metric 'hikyaku_dsn_sent_total{kind="failure"}')" = 2
check "reloads: config ok twice, kept-old once" test "$(metric 'hikyaku_reloads_total{what="config",result="ok"}') $(metric 'hikyaku_reloads_total{what="config",result="kept-old"}')" = "2 1"
finish
