#!/usr/bin/env bash
# The developer's story end to end: a web app's real mail libraries — nodemailer (Node.js) and
# PHPMailer (PHP), from Debian's packages — send to hikyaku in capture mode as to any local relay
# (no AUTH, STARTTLS when offered), and the test suite finds each message through the console's
# Mailpit-compatible API: the wait call, then the message's subject, addresses, text, HTML link
# and attachment. Nothing is delivered: the relay receiver gets nothing.
source "$(dirname "$0")/../lib.sh"
D=$(dirname "$0")

start_receiver relay 127.0.0.1 0
RELAY_PORT=$(cat "$T/rx/relay.port")
TRUSTED='["127.0.0.0/8"]' write_config \
  '[capture]' 'enabled = true' \
  '[[relay]]' 'host = "127.0.0.1"' "port = $RELAY_PORT" 'tls = "none"'
sed -i 's/^\[listen\]$/[listen]\nconsole = ["127.0.0.1:0"]/' "$ETC/hikyaku.toml"
start_daemon
wait_console_port || true
check "the console listens" test -n "$CONSOLE_PORT"
API=http://127.0.0.1:$CONSOLE_PORT

# The wait call is asked before the mail is sent, as a test suite would after clicking "reset".
curl -s --max-time 20 "$API/api/hikyaku/wait?timeout=15&query=$("$PY" -c \
  'import urllib.parse; print(urllib.parse.quote("subject:nodemailer to:zoe@customer.test"))')" \
  >"$T/wait-node.json" &
WAITER=$!
sleep 0.5
check "nodemailer sends (250 from the final dot)" \
  bash -c "NODE_PATH=/usr/share/nodejs timeout 30 node '$D/send.js' '$SMTP_PORT' | tee '$T/node.out' | grep -q '^250 '"
wait "$WAITER" || true
check "... the wait call returns it" \
  "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['Subject'].startswith('nodemailer'), d" "$T/wait-node.json"
check "PHPMailer sends" bash -c "timeout 30 php '$D/send.php' '$SMTP_PORT' | grep -q '^sent$'"

# Each message as the API gives it.
verify() {  # verify SUBJECT-PREFIX TO-ADDRESS TO-NAME LINK ATTACHMENT CONTENT
  "$PY" - "$API" "$@" <<'PY'
import json, sys, urllib.parse, urllib.request
api, prefix, to, name, link, att, content = sys.argv[1:]
q = urllib.parse.quote(f'subject:"{prefix}"')
found = json.load(urllib.request.urlopen(f"{api}/api/v1/search?query={q}", timeout=10))
assert found["messages_count"] == 1, found
mid = found["messages"][0]["ID"]
m = json.load(urllib.request.urlopen(f"{api}/api/v1/message/{mid}", timeout=10))
assert m["Subject"].startswith(prefix), m["Subject"]
assert m["To"] == [{"Name": name, "Address": to}], m["To"]
assert link in m["Text"], m["Text"]
assert f'href="{link}"' in m["HTML"], m["HTML"]
[a] = m["Attachments"]
assert a["FileName"] == att, a
part = urllib.request.urlopen(f"{api}/api/v1/message/{mid}/part/{a['PartID']}", timeout=10).read()
assert part == content.encode(), part
print("ok", mid, m["Subject"])
PY
}
check "nodemailer's message: subject, To with its UTF-8 name, text, HTML link, attachment bytes" \
  verify "nodemailer: réinitialiser" zoe@customer.test "Zoë Example" \
  "https://app.test/reset?token=node-123" facture.pdf "%PDF-1.4 node"
check "PHPMailer's message: the same" \
  verify "PHPMailer: willkommen" "joerg@customer.test" "Jörg" \
  "https://app.test/confirm?token=php-456" users.csv "name,email"
check "both were captured, not delivered: the relay got nothing" \
  bash -c "sleep 1; [ \$(ls '$T/rx/relay' 2>/dev/null | wc -l) -eq 0 ]"
check "the log says captured, twice" bash -c "[ \$(grep -c 'result=captured' '$LOG') -eq 2 ]"
finish
