#!/usr/bin/env bash
# import-chasquid against a configuration made by the real chasquid (Debian's chasquid-util
# user-add; the real chasquid daemon checks one of its users first): `--dry-run` changes no byte
# and no mtime, the import keeps hikyaku's own users, aliases and certificate, then the daemon
# accepts chasquid's passwords (AUTH PLAIN and LOGIN over STARTTLS) and refuses a wrong one,
# resolves the aliases and the '*' catch-all as chasquid did, and signs with the imported
# dkim:SEL.pem key (verified by dkimpy). A malformed users file stops the import with file:line
# before any write.
source "$(dirname "$0")/../lib.sh"
U=$HK_BIN/hikyaku-util
command -v chasquid-util >/dev/null || { echo "chasquid-util missing: deploy/install-deps.sh --test"; exit 1; }

CQ=$T/chasquid
mkdir -p "$CQ/domains/example.test" "$CQ/domains/other.test" "$CQ/certs"
cq_user() { chasquid-util -C="$CQ" user-add "$1" --password="$2" >/dev/null; }
check "chasquid-util user-add alice" cq_user alice@example.test 'Al1ce p4ss\"w'
check "chasquid-util user-add bob" cq_user bob@example.test 'chasquid-bob'
check "chasquid-util user-add dave.smith" cq_user dave.smith@example.test 'd4ve"\x'
check "chasquid-util user-add carol" cq_user carol@other.test 'c4rol'
check "chasquid-util user-add eve (a UTF-8 password)" cq_user eve@other.test 'ünïcödé pässwörd'
cat >"$CQ/domains/example.test/aliases" <<'ALIASES'
# chasquid aliases
sales: alice, bob
info.desk: dave.smith
null: | cat
*: carol@other.test
ALIASES
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$CQ/domains/example.test/dkim:sel1.pem" 2>/dev/null
make_cert "$CQ/certs/mx.test" mx.test mx.test
make_cert "$CQ/certs/mail.example.test" mail.example.test mail.example.test
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
CQ_SUB=$(free_port)
cat >"$CQ/chasquid.conf" <<CONF
hostname: "mx.test"
max_data_size_mb: 20
smtp_address: "127.0.0.1:$(free_port)"
submission_address: "127.0.0.1:$CQ_SUB"
data_dir: "$T/chasquid-data"
mail_log_path: "<stderr>"
mail_delivery_agent_bin: "maildrop"
CONF

cat >"$T/auth.py" <<'PY'
# auth.py PORT USER PASSWORD [PLAIN|LOGIN]: exit 0 when AUTH succeeds after STARTTLS, 1 when
# refused (535), 2 on anything else.
import smtplib, ssl, sys
port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
mech = sys.argv[4] if len(sys.argv) > 4 else "PLAIN"
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
try:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        s.starttls(context=ctx)
        s.ehlo("client.test")
        s.user, s.password = user, password
        try:
            code, text = s.auth(mech, getattr(s, "auth_" + mech.lower()))
        except smtplib.SMTPAuthenticationError as e:
            print("refused:", e.smtp_code, e.smtp_error)
            sys.exit(1)
        print(code, text)
        sys.exit(0 if code == 235 else 2)
except (OSError, smtplib.SMTPException) as e:
    print("error:", e)
    sys.exit(2)
PY
auth_ok() { "$PY" "$T/auth.py" "$@"; }
auth_refused() { "$PY" "$T/auth.py" "$@"; [ $? -eq 1 ]; }

# The real chasquid accepts its own user, so the users file is the genuine article.
mkdir -p "$T/chasquid-data"
setsid chasquid -config_dir="$CQ" -alsologtostderr >"$T/chasquid.log" 2>&1 &
CQ_PID=$!
for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$CQ_SUB) 2>/dev/null && break; sleep 0.1; done
kill -0 "$CQ_PID" 2>/dev/null || { echo "chasquid did not start:"; cat "$T/chasquid.log"; }
check "chasquid itself authenticates alice" auth_ok "$CQ_SUB" alice@example.test 'Al1ce p4ss\"w'
check "chasquid refuses a wrong password" auth_refused "$CQ_SUB" alice@example.test 'wrong'
kill "$CQ_PID" 2>/dev/null || true
wait "$CQ_PID" 2>/dev/null || true
# Settings of newer chasquid versions (1.11 refuses them), as an upgraded chasquid.conf has them.
printf 'submission_over_tls_address: "systemd"\ngive_up_send_after: "30h"\n' >>"$CQ/chasquid.conf"

# hikyaku's folder before the import: its own bob (another password), zed, an alias, a cert.
write_config
add_user bob@example.test 'hikyaku-bob'
add_user zed@example.test 'zed pw'
echo "team: zed" >"$ETC/domains/example.test/aliases"

snapshot() {  # every path with type, mode, size, mtime and link target, and every file's hash
  (cd "$1" && find . -printf '%p %y %m %s %T@ %l\n' | sort && find . -type f -exec sha256sum {} + | sort)
}
snapshot "$ETC" >"$T/etc.before"
cp "$ETC/hikyaku.toml" "$T/hikyaku.toml.before"
cp "$ETC/certs/mx.test/fullchain.pem" "$T/fullchain.before"
snapshot "$CQ" >"$T/cq.before"

"$U" -C "$ETC" import-chasquid "$CQ" --dry-run >"$T/dry.out" 2>&1
echo "dry run exit $?" >>"$T/dry.out"
check "dry run exits 0" grep -q "^dry run exit 0" "$T/dry.out"
check "dry run: no byte and no mtime changed" cmp "$T/etc.before" <(snapshot "$ETC")
dry_has() { grep -qE "$1" "$T/dry.out" || { cat "$T/dry.out"; return 1; }; }
check "dry run reports alice converted" dry_has '^converted  user alice@example.test: scrypt N=2\^14 r=8 p=1'
check "dry run reports bob as a conflict" dry_has '^conflict   user bob@example.test: .*kept hikyaku'
check "dry run reports the pipe alias skipped" dry_has '^skipped    alias null@example.test: .*pipe alias "\| cat" has no equivalent'
check "dry run reports the catch-all" dry_has '^converted  alias \*@example.test: -> carol@other.test'
check "dry run reports the MDA skipped" dry_has '^skipped    chasquid.conf mail_delivery_agent_bin'
check "dry run lists hikyaku.toml keys to set" dry_has '^to do      hikyaku.toml queue.lifetime: .*lifetime = "1d6h"'
check "dry run reports the cert conflict" dry_has '^conflict   certificate mx.test: .*kept hikyaku.s pair'

"$U" -C "$ETC" import-chasquid "$CQ" >"$T/import.out" 2>&1
echo "import exit $?" >>"$T/import.out"
check "import exits 0" grep -q "^import exit 0" "$T/import.out"
check "the report is the dry run's" cmp <(grep -vE '^(wrote|done|dry run|import-chasquid:|import exit)' "$T/import.out") \
  <(grep -vE '^(wrote|done|dry run|import-chasquid:)' "$T/dry.out")
check "chasquid's folder is untouched" cmp "$T/cq.before" <(snapshot "$CQ")
check "users file is 0600" test "$(stat -c %a "$ETC/domains/example.test/users")" = 600
check "DKIM key is 0600" test "$(stat -c %a "$ETC/domains/example.test/dkim/sel1.pem")" = 600
check "hikyaku's alias kept" grep -qx "team: zed" "$ETC/domains/example.test/aliases"
check "hikyaku's certificate kept (a conflict)" cmp "$ETC/certs/mx.test/fullchain.pem" "$T/fullchain.before"
check "the other certificate copied" cmp "$ETC/certs/mail.example.test/fullchain.pem" "$CQ/certs/mail.example.test/fullchain.pem"
check "check-userdb example.test" "$U" -C "$ETC" check-userdb example.test
check "hikyaku.toml unchanged" cmp "$ETC/hikyaku.toml" "$T/hikyaku.toml.before"
check "a second import writes nothing" bash -c "'$U' -C '$ETC' import-chasquid '$CQ' | grep -q '^done; nothing needed writing'"

# Into an empty folder: a hikyaku.toml of chasquid's settings, which the daemon accepts.
check "import into an empty folder" "$U" -C "$T/fresh" import-chasquid "$CQ"
check "its hikyaku.toml passes --check-config" "$HK_BIN/hikyaku" -C "$T/fresh" --check-config
check "with chasquid's size and lifetime" grep -q 'max_message_size = "20MiB"' "$T/fresh/hikyaku.toml"

start_daemon
check "AUTH PLAIN alice with her chasquid password" auth_ok "$SUB_PORT" alice@example.test 'Al1ce p4ss\"w' PLAIN
check "AUTH LOGIN alice with her chasquid password" auth_ok "$SUB_PORT" alice@example.test 'Al1ce p4ss\"w' LOGIN
check "a wrong password is refused" auth_refused "$SUB_PORT" alice@example.test 'Al1ce password'
check "dave.smith with his chasquid password" auth_ok "$SUB_PORT" dave.smith@example.test 'd4ve"\x' LOGIN
check "carol@other.test with her chasquid password" auth_ok "$SUB_PORT" carol@other.test 'c4rol'
# swaks_reply PORT USER PASSWORD: swaks's AUTH PLAIN after STARTTLS, the password's bytes as given
# (swaks exits non-zero when AUTH fails, so its output is kept before it is read).
swaks_reply() {
  local out
  out=$(swaks --server 127.0.0.1:"$1" -tls --auth PLAIN --auth-user "$2" --auth-password "$3" \
    --quit-after AUTH 2>&1) || true
  echo "$out" | sed -n '/~> AUTH /{n;s/^<~[ *] *\([0-9][0-9][0-9]\) .*/\1/p;}'
}
swaks_auth() { [ "$(swaks_reply "$@")" = 235 ]; }
check "eve's UTF-8 password (swaks, AUTH PLAIN)" swaks_auth "$SUB_PORT" eve@other.test 'ünïcödé pässwörd'
swaks_refused() { [ "$(swaks_reply "$@")" = 535 ]; }
check "eve with another UTF-8 password is refused" swaks_refused "$SUB_PORT" eve@other.test 'ünïcödé passwörd'
check "bob keeps hikyaku's password" auth_ok "$SUB_PORT" bob@example.test 'hikyaku-bob'
check "bob's chasquid password is refused (conflict kept)" auth_refused "$SUB_PORT" bob@example.test 'chasquid-bob'
check "zed still logs in" auth_ok "$SUB_PORT" zed@example.test 'zed pw'

mx_send() { swaks --server 127.0.0.1:"$SMTP_PORT" --from someone@outside.test --to "$1" --header "Subject: $2" --silent 2; }
check "mail to sales@ accepted" mx_send sales@example.test sales
check "sales@ reached alice" wait_for 1 maildir_count example.test alice
check "sales@ reached bob" wait_for 1 maildir_count example.test bob
check "mail to info.desk@ accepted" mx_send info.desk@example.test info
check "info.desk@ reached dave.smith" wait_for 1 maildir_count example.test davesmith
check "mail to an unknown user accepted (catch-all)" mx_send nobody@example.test catchall
check "the catch-all reached carol@other.test" wait_for 1 maildir_count other.test carol

# Submission as alice: signed with the imported key, verified by dkimpy against its public half.
openssl pkey -in "$CQ/domains/example.test/dkim:sel1.pem" -pubout -outform DER 2>/dev/null | base64 -w0 >"$T/sel1.p"
cat >"$T/submit.py" <<'PY'
import smtplib, ssl, sys
port = int(sys.argv[1])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
msg = ("From: Alice <alice@example.test>\r\nTo: carol@other.test\r\nSubject: signed\r\n\r\n"
       "Hello from a migrated server.\r\n")
with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
    s.starttls(context=ctx)
    s.login("alice@example.test", sys.argv[2])
    s.sendmail("alice@example.test", ["carol@other.test"], msg.encode())
PY
check "alice submits a message" "$PY" "$T/submit.py" "$SUB_PORT" 'Al1ce p4ss\"w'
check "it reached carol" wait_for 2 maildir_count other.test carol
cat >"$T/verify.py" <<'PY'
import dkim, glob, sys
record = b"v=DKIM1; k=rsa; p=" + open(sys.argv[2], "rb").read().strip()
def dns(name, timeout=5):
    return record if name == b"sel1._domainkey.example.test." else None
for f in glob.glob(sys.argv[1] + "/*"):
    data = open(f, "rb").read()
    if b"Subject: signed" in data:
        ok = dkim.verify(data, dnsfunc=dns)
        print("verified" if ok else "failed", f)
        sys.exit(0 if ok and b"d=example.test" in data and b"s=sel1" in data else 1)
sys.exit(2)
PY
check "signed d=example.test s=sel1, dkimpy verifies" "$PY" "$T/verify.py" "$DATA/mail/other.test/carol/new" "$T/sel1.p"

# A malformed users file: a clear error with file:line, and nothing written.
cp -a "$CQ" "$T/broken"
printf 'users: {\n  key: "eve"\n  value: { scrypt: { logN: 14 r: "8" } }\n}\n' >"$T/broken/domains/other.test/users"
snapshot "$T/fresh" >"$T/fresh.before"
"$U" -C "$T/fresh" import-chasquid "$T/broken" --overwrite >"$T/broken.out" 2>&1 && echo "exit 0" >>"$T/broken.out"
check "a malformed users file fails with file:line" grep -q "broken/domains/other.test/users:3: \"r\" should be a non-negative integer; nothing was written" "$T/broken.out"
check "and changes nothing" cmp "$T/fresh.before" <(snapshot "$T/fresh")
missing_folder() {
  local out
  out=$("$U" -C "$T/fresh" import-chasquid "$T/nowhere" 2>&1) && return 1
  echo "$out" | grep -q "nowhere: no such folder; nothing was written"
}
check "a missing folder is a clear error (exit 1)" missing_folder
finish
