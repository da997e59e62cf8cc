#!/usr/bin/env bash
# The per-domain TLS memory and the plaintext retry of opportunistic TLS, against dnsmasq and
# aiosmtpd receivers, with a private CA trusted through SSL_CERT_FILE. A domain whose MX once gave
# verified TLS is remembered in DATA_DIR/domaininfo (across a restart); when its MX then offers
# no STARTTLS the mail is deferred, not sent in plaintext, until `hikyaku-util domaininfo remove`.
# A receiver that accepts STARTTLS but fails the handshake gets the mail in plaintext on a second
# connection, logged.
source "$(dirname "$0")/../lib.sh"
enter_netns "$@"

make_test_ca
signed_cert mx mx.memory.test mx.broken.test
start_dns --mx-host=memory.test,mx.memory.test,10 --host-record=mx.memory.test,127.0.0.51 \
  --mx-host=broken.test,mx.broken.test,10 --host-record=mx.broken.test,127.0.0.52

start_receiver memory 127.0.0.51 25 --starttls --cert "$CA/mx.pem" --key "$CA/mx.key"
MEMORY_RX=$!
start_receiver broken 127.0.0.52 25 --starttls --broken-tls --cert "$CA/mx.pem" --key "$CA/mx.key"

TRUSTED='["127.0.0.0/8"]' DNS_SERVER=127.0.0.53:53 RETRY='"1s"' LIFETIME=1h write_config \
  "[delivery]" "mta_sts = false"
setup_domains
start_daemon

util() { "$HK_BIN/hikyaku-util" -C "$ETC" "$@"; }
exits_1() { "$@" && return 1; [ $? = 1 ]; }  # exits_1 CMD... — CMD exits with status 1
remembered() { if [ -e "$DATA/domaininfo/$1" ]; then echo 1; else echo 0; fi; }
shows() { util domaininfo show | grep -q "$1"; }

# (1) Verified TLS to memory.test: delivered, and the domain is remembered.
check "verified: accepted" send_to a@memory.test "first"
check "verified: delivered" wait_for 1 received_count memory
check "verified: logged tls=verified" grep -q "name=mx.memory.test tls=verified" "$LOG"
check "verified: the memory is recorded" wait_for 1 remembered memory.test
check "domaininfo show lists it" shows "^memory.test tls=verified mx=mx.memory.test since=20"
check "domaininfo show DOMAIN" util domaininfo show memory.test
check "domaininfo show of an unknown domain exits 1" exits_1 util domaininfo show other.test

# (2) A restart, and the MX now without STARTTLS: the memory survives and the mail waits.
stop_daemon
kill "$MEMORY_RX" 2>/dev/null || true
for _ in $(seq 1 50); do kill -0 "$MEMORY_RX" 2>/dev/null || break; sleep 0.1; done
rm -rf "$T/rx/memory"
start_receiver memory 127.0.0.51 25
start_daemon
check "downgrade: accepted" send_to b@memory.test "second"
check "downgrade: deferred 4.7.5 by the TLS memory" wait_deferred b@memory.test "4.7.5 TLS required for memory.test by the TLS memory"
check "downgrade: the reason names the missing STARTTLS" wait_deferred b@memory.test "does not offer STARTTLS"
check "downgrade: not delivered in plaintext" test "$(received_count memory)" = 0
check "downgrade: not bounced" test "$(maildir_count example.test alice)" = 0

# (3) The operator forgets the domain; the next flush delivers in plaintext.
check "domaininfo remove" util domaininfo remove memory.test
check "domaininfo remove again exits 1" exits_1 util domaininfo remove memory.test
check "domaininfo show no longer lists it" exits_1 shows "^memory.test"
check "queue flush" util queue flush
check "after remove: delivered" wait_for 1 received_count memory
check "after remove: in plaintext" grep -q "tls no" "$T"/rx/memory/msg-1.env
check "after remove: logged tls=plain" grep -q "name=mx.memory.test tls=plain" "$LOG"
check "after remove: not remembered again" test ! -e "$DATA/domaininfo/memory.test"

# (4) STARTTLS accepted but the handshake fails, nothing requires TLS: plaintext on a retry.
check "broken TLS: accepted" send_to c@broken.test "broken"
check "broken TLS: delivered" wait_for 1 received_count broken
check "broken TLS: in plaintext" grep -q "tls no" "$T"/rx/broken/msg-1.env
check "broken TLS: on a second connection" grep -q "session 2" "$T"/rx/broken/msg-1.env
check "broken TLS: the fallback is logged" grep -q "name=mx.broken.test tls=plain tls_fallback=plaintext reason=\".*TLS handshake" "$LOG"
check "broken TLS: not remembered" test ! -e "$DATA/domaininfo/broken.test"

finish
