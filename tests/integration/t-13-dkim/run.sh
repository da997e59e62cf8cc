#!/usr/bin/env bash
# DKIM signing by the running daemon, checked by independent verifiers against a real DNS server
# on loopback that serves the records `hikyaku-util dkim-dns` prints: dkimpy's dkimverify and
# OpenDKIM's opendkim-testmsg, each for the RSA and the Ed25519 signature, on messages with long
# lines, a non-ASCII body, folded headers and an empty body; a tampered copy must fail.
source "$(dirname "$0")/../lib.sh"
enter_netns "$@"
U=$HK_BIN/hikyaku-util

TRUSTED='["127.0.0.0/8"]' DNS_SERVER=127.0.0.53:53 write_config
setup_domains
check "dkim-keygen rsa2048" "$U" -C "$ETC" dkim-keygen example.test --selector=rsa1 --algo=rsa2048
check "dkim-keygen ed25519" "$U" -C "$ETC" dkim-keygen example.test --selector=ed1 --algo=ed25519
check "the key is private (0600)" test "$(stat -c %a "$ETC/domains/example.test/dkim/rsa1.pem")" = 600
check "refuses to overwrite a key" bash -c "! '$U' -C '$ETC' dkim-keygen example.test --selector=rsa1"

# Serve what dkim-dns prints: each TXT value split into strings of at most 255 octets.
txt_args=()
while read -r name _ _ rest; do
  value=$(echo "$rest" | sed 's/^( *//; s/ *)$//' | tr -d '"' | tr -d ' \n')
  value=$(echo "$value" | sed 's/;/; /g; s/; $//')
  chunks=$(echo "$value" | fold -w 250 | paste -sd, -)
  txt_args+=("--txt-record=${name%.},$chunks")
done < <("$U" -C "$ETC" dkim-dns example.test)
check "dkim-dns printed both records" test "${#txt_args[@]}" = 2
start_dns "${txt_args[@]}"
echo "nameserver 127.0.0.53" >"$T/resolv.conf"  # dkimpy asks the system resolver

start_daemon

cat >"$T/send.py" <<'PY'
import smtplib, sys
port = int(sys.argv[1])
long_line = "x" * 990
messages = {
    "long": f"From: alice@example.test\r\nTo: bob@example.test\r\nSubject: long lines\r\n\r\n{long_line}\r\n{long_line}\r\n",
    "utf8": "From: alice@example.test\r\nTo: bob@example.test\r\nSubject: =?utf-8?q?h=C3=A9?=\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nVoilà, 飛脚 — ünïcödé body\r\n",
    "folded": "From: alice@example.test\r\nTo: bob@example.test,\r\n  carol@example.test\r\nSubject: a subject\r\n  folded over\r\n\tthree lines\r\n\r\nbody\r\n",
    "empty": "From: alice@example.test\r\nTo: bob@example.test\r\nSubject: empty body\r\n\r\n",
    # Past 128 KiB: spooled to disk, its body hash computed while read back from the spool.
    "large": "From: alice@example.test\r\nTo: bob@example.test\r\nSubject: large\r\n\r\n"
             + "".join(f"line {i}  with \t spaces  \r\n" for i in range(25000)) + "\r\n\r\n",
}
with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
    for name, text in messages.items():
        s.sendmail("alice@example.test", ["bob@example.test"], text.encode("utf-8"))
PY
check "five messages sent by a trusted app as alice@example.test" "$PY" "$T/send.py" "$SMTP_PORT"
check "delivered" wait_for 5 maildir_count example.test bob
verify_all() {  # verify_all INDEX: every delivered message passes dkimverify for that signature
  local f
  for f in "$DATA"/mail/example.test/bob/new/*; do
    dkimverify --index "$1" <"$f" >/dev/null || { echo "fails: $f"; head -20 "$f"; return 1; }
  done
}
check "two signatures on each message" bash -c \
  "for f in '$DATA'/mail/example.test/bob/new/*; do [ \$(grep -c '^DKIM-Signature:' \$f) = 2 ] || exit 1; done"
check "dkimverify: the Ed25519 signature passes on all five" verify_all 0
check "dkimverify: the RSA signature passes on all five" verify_all 1
oversigned() {  # every message: the unfolded h= tag names From twice
  local f
  for f in "$DATA"/mail/example.test/bob/new/*; do
    tr -d '\r\n\t ' <"$f" | grep -qiE 'h=([^;]*:)?from:([^;]*:)?from(:|;)' || return 1
  done
}
check "From is over-signed" oversigned

# opendkim-testmsg (libopendkim, asking DNS through resolv.conf) verifies a message's first
# passing signature; each message is checked twice, keeping only the Ed25519 or only the RSA one.
cat >"$T/keep_sig.py" <<'PY'
import re, sys
keep = int(sys.argv[1])
data = sys.stdin.buffer.read()
head, sep, body = data.partition(b"\n\r\n") if b"\n\r\n" in data else data.partition(b"\n\n")
fields = re.split(rb"\r?\n(?![ \t])", head)
out, n = [], 0
for f in fields:
    if f.lower().startswith(b"dkim-signature:"):
        n += 1
        if n - 1 != keep:
            continue
    out.append(f)
eol = b"\r\n" if b"\r\n" in head else b"\n"
sys.stdout.buffer.write(eol.join(out) + sep + body)
PY
testmsg_all() {  # testmsg_all INDEX: opendkim-testmsg passes every message with only that signature
  local f out
  for f in "$DATA"/mail/example.test/bob/new/*; do
    out=$("$PY" "$T/keep_sig.py" "$1" <"$f" | opendkim-testmsg 2>&1) || { echo "fails: $f: $out"; return 1; }
    [ -z "$out" ] || { echo "$f: $out"; return 1; }
  done
}
check "opendkim-testmsg: the Ed25519 signature passes on all five" testmsg_all 0
check "opendkim-testmsg: the RSA signature passes on all five" testmsg_all 1
one=$(ls "$DATA"/mail/example.test/bob/new/* | head -n1)
sed 's/^Subject: .*/Subject: tampered/' "$one" >"$T/tampered.eml"
check "a tampered Subject fails dkimverify" bash -c "! dkimverify --index 1 <'$T/tampered.eml'"
printf 'extra line\r\n' >>"$T/tampered-body.eml"; cat "$one" "$T/tampered-body.eml" >"$T/tb.eml"
check "a tampered body fails dkimverify" bash -c "! dkimverify --index 0 <'$T/tb.eml'"
check "a tampered Subject fails opendkim-testmsg (RSA)" bash -c \
  "! '$PY' '$T/keep_sig.py' 1 <'$T/tampered.eml' | opendkim-testmsg"
check "a tampered body fails opendkim-testmsg (Ed25519)" bash -c \
  "! '$PY' '$T/keep_sig.py' 0 <'$T/tb.eml' | opendkim-testmsg"
check "hikyaku-util dkim-verify agrees offline" bash -c "
  '$U' -C '$ETC' dkim-dns example.test --selector=rsa1 >'$T/rsa1.txt' &&
  awk '/^DKIM-Signature:.*s=rsa1|^DKIM-Signature:/' '$one' >/dev/null &&
  grep -v '^Return-Path:\|^Delivered-To:' '$one' | sed '/^DKIM-Signature:.*ed25519/,/^[^ \t]/{/^DKIM-Signature:.*ed25519/d;/^[ \t]/d}' |
  '$U' -C '$ETC' dkim-verify --key-file='$T/rsa1.txt'"
finish
