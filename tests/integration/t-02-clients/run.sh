#!/usr/bin/env bash
# Real clients: swaks, Python smtplib, curl and msmtp, plain on 25, STARTTLS+AUTH on 587 and
# implicit TLS on 465.
source "$(dirname "$0")/../lib.sh"
write_config
setup_domains
start_daemon
CA=$ETC/certs/mx.test/fullchain.pem

check "swaks to a local user on port 25" \
  swaks --server 127.0.0.1:"$SMTP_PORT" --from stranger@remote.test --to alice@example.test \
    --header "Subject: swaks25" --silent 2
check "swaks STARTTLS + AUTH on 587" \
  swaks --server 127.0.0.1:"$SUB_PORT" -tls --auth PLAIN --auth-user alice@example.test \
    --auth-password secret --from alice@example.test --to bob@example.test --silent 2
check "swaks implicit TLS + AUTH LOGIN on 465" \
  swaks --server 127.0.0.1:"$TLS_PORT" --tls-on-connect --auth LOGIN --auth-user bob@example.test \
    --auth-password hunter2 --from bob@example.test --to team@example.test --silent 2
check "swaks without AUTH on 587 is refused" \
  bash -c "! swaks --server 127.0.0.1:$SUB_PORT -tls --from a@remote.test --to bob@example.test --silent 2"

cat >"$T/smtplib_test.py" <<'PY'
import smtplib, ssl, sys
from email.message import EmailMessage
port, tls_port, ca = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
# smtplib names the peer by the address it dialled (127.0.0.1); the chain is still verified
# against the test CA, and curl and dialog.py check the name mx.test.
ctx.check_hostname = False
msg = EmailMessage()
msg["From"] = "alice@example.test"
msg["To"] = "bob@example.test, friend@remote.test"
msg["Subject"] = "smtplib ünïcode"
msg.set_content("Hello from smtplib\nwith ünïcode body\n")
with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
    s.starttls(context=ctx)
    s.login("alice@example.test", "secret")
    s.send_message(msg)
with smtplib.SMTP_SSL("127.0.0.1", tls_port, context=ctx, timeout=10) as s:
    s.login("alice@example.test", "secret")
    s.send_message(msg)
try:
    with smtplib.SMTP_SSL("127.0.0.1", tls_port, context=ctx, timeout=10) as s:
        s.login("alice@example.test", "wrong")
    sys.exit("bad password accepted")
except smtplib.SMTPAuthenticationError:
    pass
PY
check "python smtplib: starttls+login+send_message, SMTP_SSL, bad password" \
  "$PY" "$T/smtplib_test.py" "$SUB_PORT" "$TLS_PORT" "$CA"

printf 'From: alice@example.test\r\nTo: bob@example.test\r\nSubject: curl\r\n\r\nfrom curl\r\n' >"$T/curl.eml"
check "curl STARTTLS + AUTH on 587" \
  curl -sS --max-time 10 --url "smtp://mx.test:$SUB_PORT" --ssl-reqd --cacert "$CA" \
    --resolve mx.test:"$SUB_PORT":127.0.0.1 --user alice@example.test:secret \
    --mail-from alice@example.test --mail-rcpt bob@example.test --upload-file "$T/curl.eml"
check "curl implicit TLS on 465" \
  curl -sS --max-time 10 --url "smtps://mx.test:$TLS_PORT" --cacert "$CA" \
    --resolve mx.test:"$TLS_PORT":127.0.0.1 --user alice@example.test:secret \
    --mail-from alice@example.test --mail-rcpt bob@example.test --upload-file "$T/curl.eml"
check "curl to port 25 unauthenticated" \
  curl -sS --max-time 10 --url "smtp://127.0.0.1:$SMTP_PORT" \
    --mail-from x@remote.test --mail-rcpt sales@example.test --upload-file "$T/curl.eml"

cat >"$T/msmtprc" <<RC
account test
host 127.0.0.1
port $SUB_PORT
tls on
tls_starttls on
tls_trust_file $CA
tls_host_override mx.test
auth plain
user bob@example.test
password hunter2
from bob@example.test
RC
chmod 600 "$T/msmtprc"
check "msmtp STARTTLS + AUTH on 587" \
  bash -c "printf 'Subject: msmtp\r\n\r\nhi\r\n' | msmtp -C '$T/msmtprc' -a test alice@example.test"

# alice: swaks25, team (from 465), curl25 via the sales alias, msmtp = 4
check "every message to alice delivered" wait_for 4 maildir_count example.test alice
# bob: swaks587, team, smtplib x2, curl587, curl465 = 6
check "every message to bob delivered" wait_for 6 maildir_count example.test bob
check "remote recipients stay queued for delivery" wait_for 2 queue_count
check "UTF-8 body kept intact" grep -rq "Hello from smtplib" "$DATA/mail/example.test/bob/new"
check "TLS recorded in Received" grep -rqE "with ESMTPSA" "$DATA/mail/example.test/bob/new"
finish
