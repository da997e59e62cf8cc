#!/usr/bin/env bash
# DANE (RFC 7672) for outgoing mail: a DNSSEC-signed zone (ldns-signzone) served by nsd, unbound
# validating it with the zone's DS as trust anchor and serving as hikyaku's [dns] server, and
# aiosmtpd receivers with self-signed certificates. A TLSA record matching the receiver's key
# delivers with tls=dane; a mismatching one, and a TLSA record altered after signing (bogus),
# defer without delivering or bouncing; an unsigned zone gets opportunistic TLS (tls=unverified);
# DANE-TA(2) delivers when the chain leads to the named CA and the certificate names the MX host.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/dnssec.sh"
enter_netns "$@"

Z=$T/zones
mkdir -p "$Z"
# One self-signed certificate for every receiver, and another key that matches nothing.
make_cert "$T/rxcert" mx.dane.test
make_cert "$T/other" other.test
spki_sha256() {
  openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1
}
GOOD=$(spki_sha256 "$T/rxcert/fullchain.pem")
WRONG=$(spki_sha256 "$T/other/fullchain.pem")
# DANE-TA: a private CA that nothing else trusts, and a certificate it signs for mx-ta.dane.test
# only, served with the CA in the chain (RFC 7671 §5.2.2).
TA=$T/ta
mkdir -p "$TA"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj "/CN=hk DANE-TA test CA" -keyout "$TA/ca.key" -out "$TA/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=mx-ta.dane.test" \
  -keyout "$TA/mx.key" -out "$TA/mx.csr" 2>/dev/null
printf 'subjectAltName=DNS:mx-ta.dane.test\n' >"$TA/mx.ext"
openssl x509 -req -in "$TA/mx.csr" -CA "$TA/ca.pem" -CAkey "$TA/ca.key" -CAcreateserial -days 30 \
  -extfile "$TA/mx.ext" -out "$TA/mx.pem" 2>/dev/null
cat "$TA/mx.pem" "$TA/ca.pem" >"$TA/chain.pem"
CA_SHA256=$(openssl x509 -in "$TA/ca.pem" -outform DER | sha256sum | cut -d' ' -f1)
# The bogus record's value before signing; replaced by $GOOD in the signed file afterwards.
SIGNED_BOGUS=$(printf '%064d' 0)

cat >"$Z/dane.test" <<ZONE
\$ORIGIN dane.test.
\$TTL 60
@ IN SOA ns.dane.test. hostmaster.dane.test. 1 3600 600 86400 60
@ IN NS ns.dane.test.
ns IN A 127.0.0.60
ok IN MX 10 mx-ok.dane.test.
mx-ok IN A 127.0.0.41
_25._tcp.mx-ok IN TLSA 3 1 1 $GOOD
bad IN MX 10 mx-bad.dane.test.
mx-bad IN A 127.0.0.42
_25._tcp.mx-bad IN TLSA 3 1 1 $WRONG
bogus IN MX 10 mx-bogus.dane.test.
mx-bogus IN A 127.0.0.43
_25._tcp.mx-bogus IN TLSA 3 1 1 $SIGNED_BOGUS
ta IN MX 10 mx-ta.dane.test.
mx-ta IN A 127.0.0.45
_25._tcp.mx-ta IN TLSA 2 0 1 $CA_SHA256
tawrong IN MX 10 mx-tawrong.dane.test.
mx-tawrong IN A 127.0.0.46
_25._tcp.mx-tawrong IN TLSA 2 0 1 $CA_SHA256
ZONE
cat >"$Z/plain.test" <<ZONE
\$ORIGIN plain.test.
\$TTL 60
@ IN SOA ns.plain.test. hostmaster.plain.test. 1 3600 600 86400 60
@ IN NS ns.plain.test.
ns IN A 127.0.0.60
@ IN MX 10 mx.plain.test.
mx IN A 127.0.0.44
ZONE
check "the test zone is signed" sign_zone dane.test "$Z/dane.test"
# Bogus: the signed TLSA data of mx-bogus changed after signing; its RRSIG no longer fits.
sed -i "s/$SIGNED_BOGUS/$GOOD/I" "$Z/dane.test.signed"
check "the bogus record was altered" grep -qi "mx-bogus.*$GOOD" "$Z/dane.test.signed"
start_nsd dane.test:dane.test.signed plain.test:plain.test
start_unbound dane.test plain.test

# The rig itself: validated answers carry AD, the altered record is bogus (SERVFAIL).
check "unbound validates the signed zone (AD)" \
  sh -c "dig +time=2 +tries=1 @127.0.0.61 _25._tcp.mx-ok.dane.test TLSA | grep -q 'flags:.* ad'"
check "unbound refuses the altered record (SERVFAIL)" \
  sh -c "dig +time=2 +tries=1 @127.0.0.61 _25._tcp.mx-bogus.dane.test TLSA | grep -q SERVFAIL"
check "the unsigned zone answers without AD" \
  sh -c "dig +time=2 +tries=1 @127.0.0.61 mx.plain.test A | grep -q 'flags: qr rd ra;'"

TLS=(--starttls --cert "$T/rxcert/fullchain.pem" --key "$T/rxcert/privkey.pem")
start_receiver ok 127.0.0.41 25 "${TLS[@]}"
start_receiver bad 127.0.0.42 25 "${TLS[@]}"
start_receiver bogus 127.0.0.43 25 "${TLS[@]}"
start_receiver plain 127.0.0.44 25 "${TLS[@]}"
TA_TLS=(--starttls --cert "$TA/chain.pem" --key "$TA/mx.key")
start_receiver ta 127.0.0.45 25 "${TA_TLS[@]}"
start_receiver tawrong 127.0.0.46 25 "${TA_TLS[@]}"

TRUSTED='["127.0.0.0/8"]' DNS_SERVER=127.0.0.61:53 RETRY='"1s"' LIFETIME=1h write_config \
  "[delivery]" "mta_sts = false" "dane = true"
setup_domains
start_daemon


# (1) A TLSA record matching the receiver's key (DANE-EE, SPKI, SHA-256): delivered, tls=dane,
# although the certificate is self-signed and names another host.
check "match: accepted" send_to a@ok.dane.test "dane ok"
check "match: delivered" wait_for 1 received_count ok
check "match: over TLS" grep -q "tls yes" "$T"/rx/ok/msg-1.env
check "match: logged tls=dane" grep -q "name=mx-ok.dane.test tls=dane" "$LOG"
check "match: the TLS memory records the domain" grep -q "tls=dane" "$DATA/domaininfo/ok.dane.test"

# (2) A TLSA record that matches nothing: deferred with 4.7.5, never delivered in any way.
check "mismatch: accepted" send_to b@bad.dane.test "dane mismatch"
check "mismatch: deferred 4.7.5 DANE" wait_deferred b@bad.dane.test "4.7.5 TLS required for bad.dane.test by DANE"
check "mismatch: the reason names the TLSA mismatch" wait_deferred b@bad.dane.test "does not match the TLSA records"

# (3) A bogus TLSA answer (SERVFAIL from the validator): deferred, the host not even tried.
check "bogus: accepted" send_to c@bogus.dane.test "dane bogus"
check "bogus: deferred 4.7.5 with the failed TLSA lookup" wait_deferred c@bogus.dane.test "4.7.5 .*TLSA lookup of _25._tcp.mx-bogus.dane.test failed"

# (4) The unsigned zone: no DANE, opportunistic STARTTLS with the unverified certificate.
check "insecure: accepted" send_to d@plain.test "insecure"
check "insecure: delivered" wait_for 1 received_count plain
check "insecure: logged tls=unverified" grep -q "name=mx.plain.test tls=unverified" "$LOG"

# (5) DANE-TA(2): the chain leads to the CA of the TLSA record and the certificate names the MX
# host: delivered. The same chain at an MX host it does not name: deferred.
check "DANE-TA: accepted" send_to e@ta.dane.test "dane-ta"
check "DANE-TA: delivered" wait_for 1 received_count ta
check "DANE-TA: logged tls=dane" grep -q "name=mx-ta.dane.test tls=dane" "$LOG"
check "DANE-TA, wrong name: accepted" send_to f@tawrong.dane.test "dane-ta wrong name"
check "DANE-TA, wrong name: deferred 4.7.5" wait_deferred f@tawrong.dane.test "4.7.5 TLS required for tawrong.dane.test by DANE"

# Nothing reached the mismatching or bogus receivers, and nothing bounced (4xx only).
sleep 2
check "mismatch: nothing delivered" test "$(received_count bad)" = 0
check "bogus: nothing delivered" test "$(received_count bogus)" = 0
check "DANE-TA, wrong name: nothing delivered" test "$(received_count tawrong)" = 0
check "bogus: its receiver was never even connected to" test ! -s "$T/rx/bogus/sessions.log"
check "no bounce" test "$(maildir_count example.test alice)" = 0
check "no permanent failure logged" sh -c "! grep -q 'result=failed\|result=bounced' '$LOG'"
check "the three refused still queued" test "$(queue_count)" = 3
# The operator's view: the two DANE deliveries (DANE-EE and DANE-TA) at TLS level dane, the
# unsigned zone's at unverified; the refused ones made no transaction at all.
check "metrics: 2 transactions at level dane" \
  test "$(metric 'hikyaku_delivery_tls_total{via="mx",level="dane"}')" = 2
check "metrics: 1 transaction at level unverified" \
  test "$(metric 'hikyaku_delivery_tls_total{via="mx",level="unverified"}')" = 1

finish
