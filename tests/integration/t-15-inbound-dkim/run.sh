#!/usr/bin/env bash
# Incoming mail on port 25: DKIM signatures are verified with keys fetched from a real DNS server
# on loopback, and the results go with SPF into Authentication-Results; a failed signature never
# refuses the mail.
source "$(dirname "$0")/../lib.sh"
enter_netns "$@"
U=$HK_BIN/hikyaku-util

# Another server's domain and key, made with our own tools in a separate config folder.
mkdir -p "$T/signer/domains/remote.test"
"$U" -C "$T/signer" dkim-keygen remote.test --selector=s1 --algo=ed25519 >/dev/null
txt=$("$U" -C "$T/signer" dkim-dns remote.test | sed 's/^[^(]*( *//; s/ *)$//' | tr -d '"' | tr -d ' \n' |
  sed 's/;/; /g')
start_dns "--txt-record=s1._domainkey.remote.test,$txt" \
  '--txt-record=remote.test,v=spf1 ip4:127.0.0.1 -all'
DNS_SERVER=127.0.0.53:53 write_config
setup_domains
start_daemon

printf 'From: Someone <someone@remote.test>\r\nTo: alice@example.test\r\nSubject: signed elsewhere\r\n\r\nHello alice\r\n' >"$T/msg.eml"
"$U" -C "$T/signer" dkim-sign remote.test <"$T/msg.eml" >"$T/signed.eml"
sed 's/Hello alice/Hello ALICE/' "$T/signed.eml" >"$T/tampered.eml"
sed 's/Hello alice/Hello unsigned/' "$T/msg.eml" >"$T/unsigned.eml"
deliver() {  # deliver FILE
  swaks --server 127.0.0.1:"$SMTP_PORT" --from someone@remote.test --to alice@example.test \
    --data "$1" --silent 2
}
check "a signed message is accepted" deliver "$T/signed.eml"
check "a tampered signed message is accepted too" deliver "$T/tampered.eml"
check "an unsigned message is accepted" deliver "$T/unsigned.eml"
# Large enough to be spooled to disk (past 128 KiB): verified while read back from the spool.
"$PY" - "$T/big.eml" <<'PY'
import sys
lines = [f"line {i} with  trailing space and\ttabs  \r\n" for i in range(16000)]
body = "".join(lines) + "\r\n\r\n"
head = "From: Someone <someone@remote.test>\r\nTo: alice@example.test\r\nSubject: big one\r\n\r\n"
open(sys.argv[1], "w", newline="").write(head + body)
PY
"$U" -C "$T/signer" dkim-sign remote.test <"$T/big.eml" >"$T/bigsigned.eml"
sed 's/^line 12345 with/line 12345 WITH/; s/Subject: big one/Subject: big tampered/' \
  "$T/bigsigned.eml" >"$T/bigtampered.eml"
check "three delivered" wait_for 3 maildir_count example.test alice
check "a signed 700 KB message is accepted" deliver "$T/bigsigned.eml"
check "the same, one line changed, is accepted" deliver "$T/bigtampered.eml"
check "five delivered" wait_for 5 maildir_count example.test alice
M=$DATA/mail/example.test/alice/new
ar() {  # ar SUBJECT-REGEX RESULT-REGEX: the message whose body matches carries that result
  local f
  for f in "$M"/*; do
    grep -q "$1" "$f" || continue
    tr -d '\r' <"$f" | sed -n '/^Authentication-Results:/,/^[^ \t]/p' | tr -d '\n\t' |
      grep -qE "$2" && return 0
  done
  return 1
}
check "signed: dkim=pass header.d=remote.test, spf=pass" \
  ar "Hello alice" "^Authentication-Results: mx.test;.*dkim=pass.*header.d=remote.test.*spf=pass"
check "tampered: dkim=fail" ar "Hello ALICE" "dkim=fail"
check "unsigned: dkim=none" ar "Hello unsigned" "dkim=none"
check "big signed (spooled): dkim=pass" ar "Subject: big one" "dkim=pass.*header.d=remote.test"
check "big tampered (spooled): dkim=fail" ar "Subject: big tampered" "dkim=fail"
check "hikyaku-util dkim-verify with the key from DNS: pass" \
  bash -c "'$U' -C '$ETC' dkim-verify <'$T/signed.eml' | grep -q '^pass d=remote.test s=s1'"
check "hikyaku-util dkim-verify with the key from DNS: tampered fails (exit 1)" \
  bash -c "! '$U' -C '$ETC' dkim-verify <'$T/tampered.eml'"
finish
