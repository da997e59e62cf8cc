#!/usr/bin/env bash
# REQUIRETLS (RFC 8689) end to end, in a network namespace with dnsmasq and aiosmtpd receivers
# (fake_mx.py --requiretls) and a private CA trusted through SSL_CERT_FILE: a message submitted
# over STARTTLS with MAIL FROM … REQUIRETLS reaches a receiver with a verified certificate that
# offers REQUIRETLS (which sees the parameter), and is bounced with 5.7.30 from a receiver without
# REQUIRETLS or with an unverified certificate; the bounce (headers only, sent with REQUIRETLS
# itself) reaches the sender DKIM-signed, and dkimpy verifies it. REQUIRETLS on a plaintext session
# is refused at MAIL. "TLS-Required: No" (RFC 8689 §4.2.2) lets a message past an MTA-STS enforce
# policy whose MX has no STARTTLS. Also: TLS session tickets are off by default
# ([tls] session_tickets).
source "$(dirname "$0")/../lib.sh"
enter_netns "$@"
U=$HK_BIN/hikyaku-util

make_test_ca
signed_cert mx mx.good.test mx.noreq.test
signed_cert policy mta-sts.sts.test
# sts.test: an MTA-STS policy in enforce mode whose MX offers no STARTTLS.
mkdir -p "$T/policies"
printf 'version: STSv1\r\nmode: enforce\r\nmx: mx.sts.test\r\nmax_age: 86400\r\n' \
  >"$T/policies/mta-sts.sts.test"
"$PY" "$HK_SRC/tests/unit/delivery/policy_server.py" --host 127.0.0.30 --port 443 \
  --cert "$CA/policy.pem" --key "$CA/policy.key" --policy-dir "$T/policies" --lifetime 170 \
  >"$T/policy.port" 2>"$T/policy.log" &
for _ in $(seq 1 50); do [ -s "$T/policy.port" ] && break; sleep 0.1; done
make_cert "$T/selfsigned" mx.unverified.test mx.unverified.test

TRUSTED='["127.0.0.0/8"]' DNS_SERVER=127.0.0.53:53 RETRY='"1s"' LIFETIME=1h write_config
setup_domains
# The DSNs come from postmaster@mx.test (the hostname) and are signed with its key.
mkdir -p "$ETC/domains/mx.test"
check "dkim-keygen for the hostname's domain" \
  "$U" -C "$ETC" dkim-keygen mx.test --selector=dsn --algo=rsa2048
txt_args=()
while read -r name _ _ rest; do
  value=$(echo "$rest" | sed 's/^( *//; s/ *)$//' | tr -d '"' | tr -d ' \n')
  value=$(echo "$value" | sed 's/;/; /g; s/; $//')
  txt_args+=("--txt-record=${name%.},$(echo "$value" | fold -w 250 | paste -sd, -)")
done < <("$U" -C "$ETC" dkim-dns mx.test)

start_dns "${txt_args[@]}" \
  --mx-host=good.test,mx.good.test,10 --host-record=mx.good.test,127.0.0.21 \
  --mx-host=noreq.test,mx.noreq.test,10 --host-record=mx.noreq.test,127.0.0.22 \
  --mx-host=unverified.test,mx.unverified.test,10 --host-record=mx.unverified.test,127.0.0.23 \
  --mx-host=sender.test,mx.good.test,10 \
  --mx-host=sts.test,mx.sts.test,10 --host-record=mx.sts.test,127.0.0.24 \
  "--txt-record=_mta-sts.sts.test,v=STSv1; id=s1;" --host-record=mta-sts.sts.test,127.0.0.30
echo "nameserver 127.0.0.53" >"$T/resolv.conf"  # dkimpy asks the system resolver

start_receiver good 127.0.0.21 25 --starttls --cert "$CA/mx.pem" --key "$CA/mx.key" --requiretls
start_receiver noreq 127.0.0.22 25 --starttls --cert "$CA/mx.pem" --key "$CA/mx.key"
start_receiver unverified 127.0.0.23 25 --starttls --cert "$T/selfsigned/fullchain.pem" \
  --key "$T/selfsigned/privkey.pem" --requiretls
start_receiver plainmx 127.0.0.24 25
start_daemon

cat >"$T/submit.py" <<'PY'
# submit.py PORT CAFILE TO [plain]: MAIL FROM:<alice@sender.test> REQUIRETLS after STARTTLS.
import smtplib, ssl, sys
port, cafile, to = int(sys.argv[1]), sys.argv[2], sys.argv[3]
msg = ("From: alice@sender.test\r\nTo: %s\r\nSubject: requiretls to %s\r\n\r\n"
       "the secret body\r\n" % (to, to))
with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
    s.ehlo("client.test")
    if "requiretls" in s.esmtp_features:
        sys.exit("REQUIRETLS offered before STARTTLS")
    if len(sys.argv) > 4:  # plaintext: the parameter must be refused at MAIL
        code, text = s.mail("alice@sender.test", ["REQUIRETLS"])
        print(code, text.decode())
        sys.exit(0 if code == 530 and b"5.7.10" in text else 1)
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = False  # the daemon's certificate names mx.test; we dial 127.0.0.1
    s.starttls(context=ctx)
    s.ehlo("client.test")
    if "requiretls" not in s.esmtp_features:
        sys.exit("REQUIRETLS not offered after STARTTLS")
    s.sendmail("alice@sender.test", [to], msg, mail_options=["REQUIRETLS"])
PY
submit() { "$PY" "$T/submit.py" "$SUB_PORT" "$ETC/certs/mx.test/fullchain.pem" "$@"; }
bounced() {  # bounced ADDRESS — a permanent failure with 5.7.30 in the log
  for _ in $(seq 1 100); do
    grep -q "to=\"\?$1\"\? result=failed code=550 .*5.7.30 REQUIRETLS support required" "$LOG" && return 0
    sleep 0.2
  done
  grep -- "$1" "$LOG" | tail -n 3
  return 1
}
dsn_for() {  # dsn_for ADDRESS — the file of the DSN at the good receiver that reports ADDRESS
  grep -l "Final-Recipient: rfc822;$1" "$T"/rx/good/*.eml 2>/dev/null | head -n1
}

# Plaintext: not offered, and refused at MAIL with a reason.
check "plaintext: REQUIRETLS not offered, MAIL … REQUIRETLS refused 530 5.7.10" \
  submit a@good.test plain

# (a) verified certificate and REQUIRETLS offered: delivered, with the parameter.
check "(a) submitted over STARTTLS with REQUIRETLS" submit a@good.test
check "(a) delivered" wait_for 1 received_count good
check "(a) the receiver saw MAIL FROM … REQUIRETLS" grep -qx "mail-option REQUIRETLS" "$T/rx/good/msg-1.env"
check "(a) over TLS" grep -qx "tls yes" "$T/rx/good/msg-1.env"
check "(a) the log says verified TLS" grep -q "name=mx.good.test tls=verified" "$LOG"

# (b) verified certificate, no REQUIRETLS: bounced with 5.7.30, nothing sent there.
check "(b) submitted" submit b@noreq.test
check "(b) failed with 550 5.7.30" bounced b@noreq.test
check "(b) the reason names the missing extension" \
  grep -q "REQUIRETLS support required: REQUIRETLS is not offered by 127.0.0.22:25" "$LOG"
# (c) certificate not verified (self-signed): bounced with 5.7.30.
check "(c) submitted" submit c@unverified.test
check "(c) failed with 550 5.7.30" bounced c@unverified.test
check "(c) the reason names the unverified certificate" \
  grep -q "REQUIRETLS support required: the certificate is not verified for 127.0.0.23:25" "$LOG"
check "(b, c) nothing reached those receivers" \
  test "$(received_count noreq)$(received_count unverified)" = "00"

# The DSNs go back to alice@sender.test, whose MX (the good receiver) offers REQUIRETLS.
check "two DSNs reached the sender" wait_for 3 received_count good
for a in b@noreq.test c@unverified.test; do
  f=$(dsn_for "$a")
  check "DSN for $a: received" test -n "$f"
  [ -n "$f" ] || continue
  env=${f%.eml}.env
  check "DSN for $a: null sender, to alice@sender.test" grep -qx "rcpt alice@sender.test" "$env"
  check "DSN for $a: sent with REQUIRETLS itself (RFC 8689 §5)" grep -qx "mail-option REQUIRETLS" "$env"
  check "DSN for $a: Status 5.7.30" grep -q "^Status: 5.7.30" "$f"
  check "DSN for $a: headers only, the body is not returned" bash -c "! grep -q 'the secret body' '$f'"
  check "DSN for $a: From postmaster@mx.test" grep -q "^From: Mail Delivery System <postmaster@mx.test>" "$f"
  check "DSN for $a: DKIM-signed d=mx.test" grep -q "d=mx.test" "$f"
  check "DSN for $a: dkimpy verifies it" dkimverify <"$f"
done

# A message without REQUIRETLS still goes to the receiver that lacks it.
check "control: plain submission to noreq.test" swaks --server 127.0.0.1:"$SMTP_PORT" \
  --from alice@sender.test --to d@noreq.test --silent 2
check "control: delivered there" wait_for 1 received_count noreq

# TLS-Required: No (RFC 8689 §4.2.2): the enforce policy of sts.test is set aside for it alone.
check "TLS-Required: No: accepted" swaks --server 127.0.0.1:"$SMTP_PORT" --from alice@sender.test \
  --to e@sts.test --header "TLS-Required: No" --header "Subject: relaxed" --silent 2
check "TLS-Required: No: delivered without TLS despite MTA-STS enforce" wait_for 1 received_count plainmx
check "TLS-Required: No: over plaintext" grep -qx "tls no" "$T/rx/plainmx/msg-1.env"
check "TLS-Required: No: the log says the policy was ignored" \
  grep -q "domain=sts.test mta_sts=ignored sts_id=s1 reason=tls-required-no" "$LOG"
check "without the header: accepted" swaks --server 127.0.0.1:"$SMTP_PORT" --from alice@sender.test \
  --to f@sts.test --header "Subject: strict" --silent 2
deferred_sts() {
  for _ in $(seq 1 100); do
    grep -q "to=\"\?f@sts.test\"\? result=deferred.*4.7.5 MTA-STS" "$LOG" && return 0
    sleep 0.2
  done
  return 1
}
check "without the header: deferred by the policy (4.7.5)" deferred_sts
check "without the header: nothing more reached the plaintext MX" test "$(received_count plainmx)" = 1

# TLS session tickets (issue 10): none by default, on with [tls] session_tickets = true.
tickets() {  # tickets VERSION_FLAG: the handshake messages s_client saw on port 465
  printf 'QUIT\r\n' | timeout 10 openssl s_client -connect 127.0.0.1:"$TLS_PORT" "$1" -msg \
    -ign_eof -CAfile "$ETC/certs/mx.test/fullchain.pem" -servername mx.test 2>&1 |
    grep -c "NewSessionTicket" || true
}
check "session tickets: TLS 1.3 issues none by default" test "$(tickets -tls1_3)" = 0
check "session tickets: TLS 1.2 issues none by default" test "$(tickets -tls1_2)" = 0
stop_daemon
echo "[tls]" >>"$ETC/hikyaku.toml"
echo "session_tickets = true" >>"$ETC/hikyaku.toml"
start_daemon
check "session tickets: TLS 1.3 issues them when turned on" test "$(tickets -tls1_3)" -gt 0
check "session tickets: TLS 1.2 issues one when turned on" test "$(tickets -tls1_2)" -gt 0
finish
