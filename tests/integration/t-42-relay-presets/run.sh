#!/usr/bin/env bash
# Relays the way users know them: [[relay]] preset fills host, port and TLS (print-config shows
# the result, explicit keys override, a wrong name is refused with the list), and
# hikyaku-util test-relay resolves the relay through the configured [dns] servers only, then
# with --send-to sends a DKIM-signed test message through it and reports the relay's reply.
# No real provider is ever contacted: the preset hosts appear only in configuration output.
source "$(dirname "$0")/../lib.sh"
enter_netns "$@"

# smtp.relay.test and tls.relay.test exist only in the test's dnsmasq: the system resolver
# (resolv.conf points at 127.0.0.1, where nothing answers) cannot find them.
start_dns --host-record=smtp.relay.test,127.0.0.20 --host-record=tls.relay.test,127.0.0.21
make_test_ca
signed_cert relay smtp.relay.test
start_receiver relay 127.0.0.20 587 --starttls --require-starttls \
  --auth alice@example.test:s3cret --cert "$CA/relay.pem" --key "$CA/relay.key"
# A second relay whose certificate no CA of ours signed.
make_cert "$T/untrusted" tls.relay.test tls.relay.test
start_receiver untrusted 127.0.0.21 465 --implicit-tls --auth alice@example.test:s3cret \
  --cert "$T/untrusted/fullchain.pem" --key "$T/untrusted/privkey.pem"

# A plain one without AUTH (tls = "none"), which takes anything.
start_receiver plain 127.0.0.23 25
# A third that accepts connections and never says a word.
"$PY" -c '
import socket, time
s = socket.socket()
s.bind(("127.0.0.22", 587))
s.listen()
conns = [s.accept() for _ in range(3)]
time.sleep(60)' &

util() { "$HK_BIN/hikyaku-util" -C "$ETC" "$@"; }
# run_util OUT CMD... — hikyaku-util's output in $T/OUT, its exit code printed.
run_util() {
  local out=$1 rc=0
  shift
  util "$@" >"$T/$out" 2>&1 || rc=$?
  cat "$T/$out" >&2
  echo "$rc"
}

check "the system resolver does not know the relay" bash -c '! getent hosts smtp.relay.test'

# --- Presets in print-config, overrides, errors (never connected to). ---
DNS_SERVER=127.0.0.53:53 write_config \
  '[[relay]]' 'preset = "gmail"' \
  '[[relay]]' 'preset = "ses:eu-west-1"' 'username = "AKIAEXAMPLE"' 'password = "x"' \
  '[[relay]]' 'preset = "mailgun:eu"' 'port = 2525' \
  '[[relay]]' 'preset = "yahoo"' 'tls = "starttls"' \
  '[[relay]]' 'preset = "zoho-pro:eu"' \
  '[[relay]]' 'preset = "Fastmail"' 'domains = ["example.org"]'
util print-config >"$T/printed"
shown() { grep -A3 -F "preset = \"$1\"" "$T/printed" | tr '\n' ' '; }
check "print-config: gmail" bash -c "[[ '$(shown gmail)' == *'host = \"smtp.gmail.com\" port = 587 tls = \"starttls\"'* ]]"
check "print-config: ses:eu-west-1" bash -c "[[ '$(shown ses:eu-west-1)' == *'host = \"email-smtp.eu-west-1.amazonaws.com\" port = 587 tls = \"starttls\"'* ]]"
check "print-config: mailgun:eu with its port overridden" bash -c "[[ '$(shown mailgun:eu)' == *'host = \"smtp.eu.mailgun.org\" port = 2525 tls = \"starttls\"'* ]]"
check "print-config: yahoo with STARTTLS takes 587" bash -c "[[ '$(shown yahoo)' == *'host = \"smtp.mail.yahoo.com\" port = 587 tls = \"starttls\"'* ]]"
check "print-config: zoho-pro:eu" bash -c "[[ '$(shown zoho-pro:eu)' == *'host = \"smtppro.zoho.eu\" port = 465 tls = \"implicit\"'* ]]"
check "print-config: names are lower-cased" bash -c "[[ '$(shown fastmail)' == *'host = \"smtp.fastmail.com\" port = 465 tls = \"implicit\"'* ]]"
check "print-config: the password stays hidden" bash -c "grep -q 'password = \"\\*\\*\\*\"' '$T/printed' && ! grep -q 'password = \"x\"' '$T/printed'"
check "hikyaku --check-config takes the presets" "$HK_BIN/hikyaku" -C "$ETC" --check-config

DNS_SERVER=127.0.0.53:53 write_config '[[relay]]' 'preset = "gmial"'
check "an unknown preset: exit 1 and the valid names" bash -c "
  rc=\$(cd / && '$HK_BIN/hikyaku-util' -C '$ETC' print-config >'$T/bad' 2>&1; echo \$?); cat '$T/bad'
  [ \"\$rc\" = 1 ] && grep -q 'hikyaku.toml:[0-9]*: relay\[0\].preset: unknown preset \"gmial\"; valid: gmail, outlook' '$T/bad' &&
  grep -q 'ses:REGION, mailgun, mailgun:eu' '$T/bad'"
DNS_SERVER=127.0.0.53:53 write_config '[[relay]]' 'preset = "ses:frankfurt"'
check "a malformed SES region is refused" bash -c "
  rc=0; '$HK_BIN/hikyaku' -C '$ETC' --check-config >'$T/ses' 2>&1 || rc=\$?; cat '$T/ses'
  [ \$rc != 0 ] && grep -q 'relay\[0\].preset: \"ses\" needs the AWS region, as in \"ses:eu-west-1\", got \"ses:frankfurt\"' '$T/ses'"

# --- test-relay through [dns], with a preset whose host is overridden for the test. ---
export RELAY_PASSWORD=s3cret
DNS_SERVER=127.0.0.53:53 write_config \
  '[[relay]]' 'preset = "gmail"' 'host = "smtp.relay.test"' 'username = "alice@example.test"' \
  'password = "${RELAY_PASSWORD}"' \
  '[[relay]]' 'preset = "fastmail"' 'host = "tls.relay.test"' 'username = "alice@example.test"' \
  'password = "${RELAY_PASSWORD}"' \
  '[[relay]]' 'host = "127.0.0.22"' \
  '[[relay]]' 'host = "127.0.0.23"' 'tls = "none"'
setup_domains
util dkim-keygen example.test --selector=t42 >"$T/dkim-record" 2>/dev/null

rc=$(run_util probe test-relay --relay=1 --timeout=5)
check "test-relay: exit 0" test "$rc" = 0
check "test-relay: resolved through [dns]" grep -q "ok   resolve: smtp.relay.test -> 127.0.0.20" "$T/probe"
check "test-relay: preset shown, STARTTLS, verified TLS, AUTH" bash -c "
  grep -q 'relay 1: smtp.relay.test:587 tls=starttls preset=gmail user=alice@example.test' '$T/probe' &&
  grep -q 'ok   starttls' '$T/probe' && grep -q 'ok   tls' '$T/probe' && grep -q 'ok   auth' '$T/probe'"
check "test-relay: nothing was sent without --send-to" test "$(received_count relay)" = 0

rc=$(run_util sent test-relay --relay=smtp.relay.test --send-to=someone@far.example --timeout=5)
check "test-relay --send-to: exit 0" test "$rc" = 0
check "test-relay --send-to: the relay's reply with its queue id" \
  grep -q "ok   send: 250 2.0.0 OK queued as 1" "$T/sent"
check "test-relay --send-to: says what it sent" \
  grep -q "test message from=<alice@example.test> to=<someone@far.example> dkim=d=example.test s=t42" "$T/sent"
check "the relay got one message" test "$(received_count relay)" = 1
env_file=$T/rx/relay/msg-1.env
eml=$T/rx/relay/msg-1.eml
check "envelope: the username as sender" grep -qx "from alice@example.test" "$env_file"
check "envelope: the recipient" grep -qx "rcpt someone@far.example" "$env_file"
check "over TLS, after AUTH" bash -c "grep -qx 'tls yes' '$env_file' && grep -qx 'auth alice@example.test' '$env_file'"
check "EHLO with our hostname" grep -qx "helo mx.test" "$env_file"
check "headers: Date, From, To, Subject, Message-ID" bash -c "
  grep -q '^Date: [A-Z][a-z][a-z], [0-9][0-9] [A-Z][a-z][a-z] 20[0-9][0-9] ' '$eml' &&
  grep -q '^From: <alice@example.test>' '$eml' && grep -q '^To: <someone@far.example>' '$eml' &&
  grep -q '^Subject: hikyaku test-relay: smtp.relay.test (relay 1)' '$eml' &&
  grep -q '^Message-ID: <[0-9a-f]*.test-relay@mx.test>' '$eml'"
# dkimpy verifies the signature with the record dkim-keygen printed.
check "DKIM signature verified by dkimpy" "$PY" - "$eml" "$T/dkim-record" <<'PY'
import re, sys, dkim
msg = open(sys.argv[1], "rb").read()
record = "".join(re.findall(r'"([^"]*)"', open(sys.argv[2]).read())).encode()
def dns(name, timeout=5):
    return record if name == b"t42._domainkey.example.test." else None
assert b"DKIM-Signature:" in msg and b"d=example.test" in msg, msg[:400]
sys.exit(0 if dkim.verify(msg, dnsfunc=dns) else 1)
PY

rc=$(run_util from test-relay --relay=1 --send-to=other@far.example --from=bob@example.test --timeout=5)
check "--from names the sender" bash -c "[ '$rc' = 0 ] && grep -qx 'from bob@example.test' '$T/rx/relay/msg-2.env'"

rc=$(run_util badtls test-relay --relay=2 --send-to=someone@far.example --timeout=5)
check "an untrusted certificate: exit 1, FAIL tls, nothing sent" bash -c "
  [ '$rc' = 1 ] && grep -q 'FAIL tls: .*certificate not verified' '$T/badtls' && ! grep -q 'send:' '$T/badtls' &&
  [ \$(find '$T/rx/untrusted' -name '*.env' | wc -l) = 0 ]"
rc=$(run_util plain test-relay --relay=127.0.0.23 --send-to=someone@far.example --timeout=5)
check "no username: sent from postmaster@hostname, unsigned (no key for mx.test)" bash -c "
  [ '$rc' = 0 ] && grep -q 'from=<postmaster@mx.test> to=<someone@far.example> dkim=none' '$T/plain' &&
  grep -qx 'from postmaster@mx.test' '$T/rx/plain/msg-1.env' &&
  ! grep -q DKIM-Signature '$T/rx/plain/msg-1.eml'"
rc=$(run_util silent test-relay --relay=3 --timeout=1)
check "a relay that never answers: exit 1, the greeting timed out" bash -c "
  [ '$rc' = 1 ] && grep -q 'FAIL greeting: timeout waiting for greeting from 127.0.0.22:587' '$T/silent'"
rc=$(run_util all test-relay --timeout=2)
check "all relays: two fail, exit 1, named on stderr" bash -c "
  [ '$rc' = 1 ] && grep -q 'relay 1.*works.*relay 2' <(tr -d '\n' <'$T/all') &&
  grep -q 'test-relay: relay 2 (tls.relay.test), relay 3 (127.0.0.22) failed' '$T/all'"
rc=$(run_util nosuch test-relay --relay=5)
check "--relay names no relay: usage error (exit 2)" bash -c "[ '$rc' = 2 ] && grep -q 'no such \[\[relay\]\]' '$T/nosuch'"

# --- A wrong password: the server's reply, exit 1, nothing sent. ---
export RELAY_PASSWORD=wrong
rc=$(run_util wrong test-relay --relay=1 --send-to=someone@far.example --timeout=5)
check "wrong password: exit 1" test "$rc" = 1
check "wrong password: the server's 535 reply printed" grep -q "FAIL auth: .*535" "$T/wrong"
check "wrong password: nothing sent" test "$(received_count relay)" = 2
finish
