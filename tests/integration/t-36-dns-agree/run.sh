#!/usr/bin/env bash
# The DNS tools agree with each other: exactly what `hikyaku-util dns-records` prints, converted
# line by line into dnsmasq options (MX, A, TXT, TLSA) and served, makes `check-dns` exit 0 — by
# default (no MTA-STS record unless asked for, a TLS-RPT record that check-dns validates) and with
# `--dane` (the TLSA 3 1 1 record of the live certificate). A TLSA record for another key and a
# malformed TLS-RPT record make check-dns fail with a line that says so.
source "$(dirname "$0")/../lib.sh"
enter_netns "$@"
U=$HK_BIN/hikyaku-util

DNS_SERVER=127.0.0.53:53 write_config
setup_domains
check "dkim-keygen rsa2048" "$U" -C "$ETC" dkim-keygen example.test --selector=rsa1 --algo=rsa2048

source "$(dirname "$0")/../zone.sh"
restart_dns() {
  if [ -s "$T/dnsmasq.pid" ]; then
    kill "$(cat "$T/dnsmasq.pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$(cat "$T/dnsmasq.pid")" 2>/dev/null || break; sleep 0.1; done
  fi
  start_dns "$@"
}

# 1. The default records.
check "dns-records" bash -c "'$U' -C '$ETC' dns-records example.test --ip4 127.0.0.2 >'$T/zone.txt'"
check "no MTA-STS record unless asked for" bash -c "! grep -q '^_mta-sts' '$T/zone.txt'"
check "a TLS-RPT record" grep -qx '_smtp._tls.example.test. IN TXT "v=TLSRPTv1; rua=mailto:postmaster@example.test"' "$T/zone.txt"
convert() { zone_to_dnsmasq "$1" >"$2"; }
check "converted to dnsmasq options" convert "$T/zone.txt" "$T/dns.args"
mapfile -t args <"$T/dns.args"
check "MX, A and 4 TXT records (SPF, DKIM, DMARC, TLS-RPT)" test "${#args[@]}" = 6
restart_dns "${args[@]}"
check "check-dns: exit 0 on exactly what dns-records printed" \
  bash -c "'$U' -C '$ETC' check-dns example.test >'$T/default.out'"
cat "$T/default.out"
check "check-dns: TLS-RPT ok" grep -qE '^TLS-RPT +ok +v=TLSRPTv1; rua=mailto:postmaster@example.test$' "$T/default.out"
check "check-dns: MTA-STS none (not published)" grep -qE '^MTA-STS +none' "$T/default.out"

# 2. With --dane: the TLSA record of the live certificate.
check "dns-records --dane" bash -c "'$U' -C '$ETC' dns-records example.test --ip4 127.0.0.2 --dane >'$T/dane.txt'"
want=$(openssl x509 -in "$ETC/certs/mx.test/fullchain.pem" -noout -pubkey |
  openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
check "dns-records --dane: TLSA 3 1 1 of the certificate's key (as openssl computes it)" \
  grep -qx "_25._tcp.mx.test. IN TLSA 3 1 1 $want" "$T/dane.txt"
check "dns-records --dane: advice on the next key before a rollover" grep -q "^; .*next to this one" "$T/dane.txt"
check "converted" convert "$T/dane.txt" "$T/dane.args"
mapfile -t args <"$T/dane.args"
restart_dns "${args[@]}"
check "dig serves the TLSA record" bash -c "dig @127.0.0.53 TLSA _25._tcp.mx.test +short | tr -d ' ' | grep -qix '311$want'"
check "check-dns --dane: exit 0" bash -c "'$U' -C '$ETC' check-dns example.test --dane >'$T/dane.out'"
cat "$T/dane.out"
check "check-dns --dane: TLSA ok" grep -qE '^TLSA mx.test +ok' "$T/dane.out"

# 3. A TLSA record for another key: non-zero, and the line says what differs.
bad=()
for a in "${args[@]}"; do
  case "$a" in
    --dns-rr=_25._tcp.mx.test,52,*) bad+=("--dns-rr=_25._tcp.mx.test,52,030101$(printf '%064d' 0)") ;;
    *) bad+=("$a") ;;
  esac
done
restart_dns "${bad[@]}"
check "check-dns --dane: exit 1 on a TLSA record for another key" \
  bash -c "'$U' -C '$ETC' check-dns example.test --dane >'$T/badtlsa.out'; [ \$? = 1 ]"
cat "$T/badtlsa.out"
check "check-dns --dane: the TLSA line says no record matches the live certificate" \
  grep -qE "^TLSA mx.test +DIFFERS +no record at _25._tcp.mx.test. matches the live certificate \(3 1 1 $want\); found 3 1 1 0{64}" "$T/badtlsa.out"
mapfile -t args <"$T/dns.args"
restart_dns "${args[@]}"
check "check-dns --dane: exit 1 when no TLSA record is published" \
  bash -c "'$U' -C '$ETC' check-dns example.test --dane >'$T/notlsa.out'; [ \$? = 1 ]"
check "check-dns --dane: TLSA MISSING" grep -qE '^TLSA mx.test +MISSING +expected _25._tcp.mx.test. IN TLSA 3 1 1' "$T/notlsa.out"

# 4. A malformed TLS-RPT record is reported.
bad=()
for a in "${args[@]}"; do
  case "$a" in
    --txt-record=_smtp._tls.example.test,*) bad+=("--txt-record=_smtp._tls.example.test,v=TLSRPTv1; rua=http://reports.example.test/") ;;
    *) bad+=("$a") ;;
  esac
done
restart_dns "${bad[@]}"
check "check-dns: exit 1 on a bad TLS-RPT record" \
  bash -c "'$U' -C '$ETC' check-dns example.test >'$T/badrpt.out'; [ \$? = 1 ]"
cat "$T/badrpt.out"
check "check-dns: TLS-RPT DIFFERS names the bad URI" \
  grep -qE '^TLS-RPT +DIFFERS +rua URI "http://reports.example.test/" is neither mailto:ADDRESS nor https://' "$T/badrpt.out"

# 5. --mta-sts prints the record, the policy host (as advice) and the policy to serve.
check "dns-records --mta-sts" bash -c "'$U' -C '$ETC' dns-records example.test --mta-sts >'$T/sts.txt'"
check "--mta-sts: the _mta-sts record" grep -qE '^_mta-sts.example.test. IN TXT "v=STSv1; id=[0-9]+"$' "$T/sts.txt"
check "--mta-sts: the policy host, as advice" grep -q '^; mta-sts.example.test. IN A <its address>' "$T/sts.txt"
check "--mta-sts: the policy naming this host" grep -qx '; mx: mx.test' "$T/sts.txt"
finish
