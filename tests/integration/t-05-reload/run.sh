#!/usr/bin/env bash
# Users, aliases and certificates change under a running daemon, as hikyaku-util and ACME
# renewals change them, and take effect without a restart; a broken file keeps the old one.
source "$(dirname "$0")/../lib.sh"
write_config
setup_domains
start_daemon
CA=$ETC/certs/mx.test/fullchain.pem

auth_ok() {  # auth_ok user pass
  swaks --server 127.0.0.1:"$TLS_PORT" --tls-on-connect --auth PLAIN --auth-user "$1" \
    --auth-password "$2" --quit-after AUTH --silent 2 >/dev/null 2>&1
}
auth_refused() { ! auth_ok "$@"; }
check "carol cannot log in before she exists" auth_refused carol@example.test pw1
add_user carol@example.test pw1
retry_auth() { for _ in $(seq 1 50); do auth_ok "$@" && return 0; sleep 0.2; done; return 1; }
check "carol can log in after user-add, no restart" retry_auth carol@example.test pw1
"$HK_BIN/hikyaku-util" -C "$ETC" user-remove carol@example.test >/dev/null
retry_fail() { for _ in $(seq 1 50); do auth_ok "$@" || return 0; sleep 0.2; done; return 1; }
check "carol is refused after user-remove" retry_fail carol@example.test pw1

echo 'newalias: bob' >>"$ETC/domains/example.test/aliases"
rcpt_ok() {
  swaks --server 127.0.0.1:"$SMTP_PORT" --from x@remote.test --to "$1" --quit-after RCPT \
    --silent 2 >/dev/null 2>&1
}
retry_rcpt() { for _ in $(seq 1 50); do rcpt_ok "$@" && return 0; sleep 0.2; done; return 1; }
check "new alias accepted without restart" retry_rcpt newalias@example.test

serial() {
  openssl s_client -connect 127.0.0.1:"$TLS_PORT" -servername mx.test </dev/null 2>/dev/null |
    openssl x509 -noout -serial
}
old=$(serial)
check "certificate served on 465" test -n "$old"
# An ACME renewal: new files written in place.
make_cert "$T/renewed" mx.test mx.test
cp "$T/renewed/fullchain.pem" "$T/renewed/privkey.pem" "$ETC/certs/mx.test/"
new_serial=$(openssl x509 -noout -serial -in "$ETC/certs/mx.test/fullchain.pem")
retry_cert() { for _ in $(seq 1 50); do [ "$(serial)" = "$1" ] && return 0; sleep 0.2; done; return 1; }
check "renewed certificate served without restart" retry_cert "$new_serial"
# A broken renewal keeps the certificate in service.
echo "garbage" >"$ETC/certs/mx.test/privkey.pem"
sleep 3
check "broken key file keeps the old certificate" test "$(serial)" = "$new_serial"
check "broken key file is logged" grep -q "reload what=certs result=kept-old" "$LOG"
kill -HUP "$DAEMON_PID"
sleep 0.5
check "daemon alive after SIGHUP with broken files" kill -0 "$DAEMON_PID"
finish
