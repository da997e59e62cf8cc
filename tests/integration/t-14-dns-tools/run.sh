#!/usr/bin/env bash
# The DNS tools of hikyaku-util against a real DNS server on loopback: `dns-records` prints a zone
# that, once served by dnsmasq, `check-dns` accepts and `spf-check` passes; a broken zone (no DKIM
# key, an SPF record that leaves the server out, an MTA-STS policy that names another host) makes
# `check-dns` fail and say what is wrong. The MTA-STS policy is served over HTTPS on 127.0.0.30
# with a certificate of a private CA (SSL_CERT_FILE).
source "$(dirname "$0")/../lib.sh"
enter_netns "$@"
U=$HK_BIN/hikyaku-util

DNS_SERVER=127.0.0.53:53 write_config
setup_domains
check "dkim-keygen rsa2048" "$U" -C "$ETC" dkim-keygen example.test --selector=rsa1 --algo=rsa2048
check "dns-records" bash -c "'$U' -C '$ETC' dns-records example.test --ip4 127.0.0.2 --mta-sts >'$T/zone.txt'"
check "dns-records --format=json is valid JSON" bash -c \
  "'$U' -C '$ETC' dns-records example.test --ip4=127.0.0.2 --format=json | $PY -m json.tool"
check "dns-records rejects a bad policy (exit 2)" bash -c \
  "'$U' -C '$ETC' dns-records example.test --dmarc-policy=maybe; [ \$? = 2 ]"
check "dns-records: MX line" grep -qx 'example.test. IN MX 10 mx.test.' "$T/zone.txt"
check "dns-records: SPF line" grep -qx 'example.test. IN TXT "v=spf1 ip4:127.0.0.2 mx -all"' "$T/zone.txt"
check "dns-records: PTR request comment" grep -q '^; 2.0.0.127.in-addr.arpa. IN PTR mx.test.$' "$T/zone.txt"

# Serve the zone: MX via --mx-host, A via --host-record (which also answers the PTR), each TXT
# value as strings of at most 250 octets.
dns_args=()
spf_value=""
while read -r name _ type rest; do
  case "$type" in
    MX) dns_args+=("--mx-host=${name%.},$(echo "$rest" | cut -d' ' -f2 | sed 's/\.$//'),10") ;;
    A) dns_args+=("--host-record=${name%.},$rest") ;;
    TXT)
      value=$(echo "$rest" | grep -o '"[^"]*"' | tr -d '"\n')
      [ "${name%.}" = example.test ] && spf_value=$value
      chunks=$(echo "$value" | fold -w 250 | paste -sd, -)
      dns_args+=("--txt-record=${name%.},$chunks")
      ;;
  esac
done < <(grep -v '^;' "$T/zone.txt" | grep -v '^$')
check "zone has MX, A and 5 TXT records (SPF, DKIM, DMARC, MTA-STS, TLS-RPT)" test "${#dns_args[@]}" = 7
check "dns-records: the MTA-STS policy to serve names mx.test" grep -q '^;.*mx: mx.test' "$T/zone.txt"

# The policy host: mta-sts.example.test on 127.0.0.30:443, serving what dns-records suggests.
make_test_ca
signed_cert policy mta-sts.example.test
P=$T/policies
mkdir -p "$P"
printf 'version: STSv1\r\nmode: testing\r\nmx: mx.test\r\nmax_age: 86400\r\n' >"$P/mta-sts.example.test"
"$PY" "$HK_SRC/tests/unit/delivery/policy_server.py" --host 127.0.0.30 --port 443 \
  --cert "$CA/policy.pem" --key "$CA/policy.key" --policy-dir "$P" --lifetime 60 \
  >"$T/policy.port" 2>"$T/policy.log" &
for _ in $(seq 1 50); do [ -s "$T/policy.port" ] && break; sleep 0.1; done
dns_args+=("--host-record=mta-sts.example.test,127.0.0.30")
check "the hostname mx.test is served" bash -c "printf '%s\n' \"\$@\" | grep -qx -- --host-record=mx.test,127.0.0.2" _ "${dns_args[@]}"
start_dns "${dns_args[@]}"

check "dig shows the DMARC record dns-records printed" bash -c \
  "[ \"\$(dig @127.0.0.53 -p 53 TXT _dmarc.example.test +short)\" = '\"v=DMARC1; p=quarantine; rua=mailto:postmaster@example.test\"' ]"
check "dig shows the SPF record" bash -c \
  "dig @127.0.0.53 -p 53 TXT example.test +short | grep -qF '\"$spf_value\"'"
check "check-dns: exit 0 on the correct zone" bash -c "'$U' -C '$ETC' check-dns example.test >'$T/good.out'"
cat "$T/good.out"
check "check-dns: MX ok" grep -qE '^MX +ok +10 mx.test.$' "$T/good.out"
check "check-dns: DKIM ok" grep -qE '^DKIM rsa1 +ok' "$T/good.out"
check "check-dns: PTR ok" grep -qE '^PTR 127.0.0.2 +ok' "$T/good.out"
check "check-dns: DMARC policy reported" grep -qE '^DMARC +ok +policy quarantine' "$T/good.out"
check "check-dns: MTA-STS policy fetched and names this host" \
  grep -qE '^MTA-STS +ok +mode testing, id [0-9A-Za-z]+, mx mx.test, max_age 86400' "$T/good.out"
check "spf-check: pass on the good zone" bash -c \
  "'$U' -C '$ETC' spf-check 127.0.0.2 someone@example.test | grep -q '^pass (mechanism: '"
check "spf-check: usage error (exit 2)" bash -c "'$U' -C '$ETC' spf-check nonsense a@b.test; [ \$? = 2 ]"

# A broken zone: no DKIM key, an SPF record that leaves the server out, a policy for another host.
# Only dnsmasq is restarted; the policy server keeps running.
pkill -f -- "--pid-file=$T/dnsmasq.pid" 2>/dev/null || true
for _ in $(seq 1 50); do pgrep -f -- "--pid-file=$T/dnsmasq.pid" >/dev/null || break; sleep 0.1; done
printf 'version: STSv1\r\nmode: enforce\r\nmx: *.elsewhere.test\r\nmax_age: 86400\r\n' \
  >"$P/mta-sts.example.test"
broken=()
for a in "${dns_args[@]}"; do
  case "$a" in
    --txt-record=rsa1._domainkey.*) ;;
    --txt-record=example.test,*) broken+=("--txt-record=example.test,v=spf1 -all") ;;
    *) broken+=("$a") ;;
  esac
done
start_dns "${broken[@]}"
check "check-dns: exit 1 on the broken zone" bash -c "'$U' -C '$ETC' check-dns example.test >'$T/bad.out'; [ \$? = 1 ]"
cat "$T/bad.out"
check "check-dns: DKIM MISSING" grep -qE '^DKIM rsa1 +MISSING' "$T/bad.out"
check "check-dns: SPF DIFFERS (fail)" grep -qE '^SPF 127.0.0.2 +DIFFERS +expected pass, got fail' "$T/bad.out"
check "check-dns: MX still ok" grep -qE '^MX +ok' "$T/bad.out"
check "check-dns: MTA-STS DIFFERS (policy names another host)" \
  grep -qE '^MTA-STS +DIFFERS +mode enforce, but mx \*.elsewhere.test does not match mx.test' "$T/bad.out"
check "spf-check: fail on the broken zone" bash -c \
  "'$U' -C '$ETC' spf-check 127.0.0.2 someone@example.test | grep -q '^fail (mechanism: all)'"
finish
