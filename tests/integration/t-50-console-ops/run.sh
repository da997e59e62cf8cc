#!/usr/bin/env bash
# The console's own endpoints against the real daemon, with curl: the queue (a message held by a
# smart host that refuses connections shows its recipient's state, attempts, last reply and next
# try; retry makes another attempt; DELETE removes it from the queue folder), the delivery log
# (deferred, then delivered once the smart host answers; filtered by queue ID), health (listeners,
# certificate expiry, DKIM keys, relays), the relay test (Ok, and a test message the receiver
# gets) and check-dns for a local domain served by dnsmasq (the rows of hikyaku-util check-dns).
source "$(dirname "$0")/../lib.sh"
enter_netns "$@"
U=$HK_BIN/hikyaku-util

# The smart host: 127.0.0.20:2525, without TLS; nothing listens there until the receiver starts.
RELAY_ADDR=127.0.0.20
RELAY_PORT=2525
TRUSTED='["127.0.0.0/8"]' DNS_SERVER=127.0.0.53:53 RETRY='"1h"' write_config \
  '[console]' 'log_events = 50' \
  '[[relay]]' "host = \"$RELAY_ADDR\"" "port = $RELAY_PORT" 'tls = "none"'
# [listen] console: added to the [listen] table write_config wrote.
sed -i 's/^\[listen\]$/[listen]\nconsole = ["127.0.0.1:0"]/' "$ETC/hikyaku.toml"
setup_domains
check "dkim-keygen" "$U" -C "$ETC" dkim-keygen example.test --selector=s1 --algo=ed25519

# What dns-records prints for example.test, served by dnsmasq on 127.0.0.53.
source "$(dirname "$0")/../zone.sh"
"$U" -C "$ETC" dns-records example.test --ip4 127.0.0.2 >"$T/zone.txt"
zone_to_dnsmasq "$T/zone.txt" >"$T/dns.args"
mapfile -t dns_args <"$T/dns.args"
start_dns "${dns_args[@]}"

start_daemon
wait_console_port || true
check "the console listens" test -n "$CONSOLE_PORT"
C=http://127.0.0.1:$CONSOLE_PORT

# api METHOD PATH [BODY] — one request with curl: the status in $T/api.status, the body in
# $T/api.out.
api() {
  local method=$1 path=$2 body=${3:-}
  if [ -n "$body" ]; then
    curl -s -o "$T/api.out" -w '%{http_code}' -X "$method" --max-time 60 \
      -H 'Content-Type: application/json' -d "$body" "$C$path" >"$T/api.status"
  else
    curl -s -o "$T/api.out" -w '%{http_code}' -X "$method" --max-time 60 "$C$path" >"$T/api.status"
  fi
}
status_is() { [ "$(cat "$T/api.status")" = "$1" ] || { echo "status $(cat "$T/api.status"): $(cat "$T/api.out")"; return 1; }; }
# json EXPR — evaluates a Python expression over the last body (as `j`); exit 1 when it is false.
json() {
  "$PY" - "$1" "$T/api.out" <<'PY'
import json, sys
j = json.load(open(sys.argv[2]))
r = eval(sys.argv[1])
if r is True:
    sys.exit(0)
if r is False or r is None:
    print(json.dumps(j)[:2000]); sys.exit(1)
print(r)
PY
}

# --- The queue ---
send() {
  swaks --server 127.0.0.1:"$SMTP_PORT" --from alice@example.test --to "$1" \
    --header "Subject: $2" --silent 2
}
check "accepted for a remote recipient" send bob@far.example "console ops one"
check "deferred: the smart host refuses connections" wait_deferred bob@far.example "refused"
ID1=$(sed -n 's/.*id=\([0-9A-Z]*\) to=bob@far.example result=deferred.*/\1/p' "$LOG" | head -n1)
check "its queue ID is in the log" test -n "$ID1"

api GET "/api/hikyaku/queue"
check "queue: 200" status_is 200
check "queue: one message, ours" json "j['total'] == 1 and j['messages'][0]['ID'] == '$ID1'"
check "queue: sender and size" json "j['messages'][0]['From'] == 'alice@example.test' and j['messages'][0]['Size'] > 100"
check "queue: the recipient is pending after 1 attempt" \
  json "[(r['Address'], r['State'], r['Attempts']) for r in j['messages'][0]['Recipients']] == [('bob@far.example', 'pending', 1)]"
check "queue: the last reply says why" json "'refused' in j['messages'][0]['Recipients'][0]['LastReply']"
next_try_in_minutes() {
  json "(__import__('datetime').datetime.strptime(j['messages'][0]['Recipients'][0]['NextAttempt'], '%Y-%m-%dT%H:%M:%SZ') - __import__('datetime').datetime.utcnow()).total_seconds() // 60"
}
mins=$(next_try_in_minutes || true)
check "queue: the next try is about an hour away (retry 1h, jitter 10 %): ${mins} min" \
  test "${mins%.*}" -ge 50 -a "${mins%.*}" -le 67
api GET "/api/hikyaku/queue?start=1&limit=10"
check "queue: a page past the end is empty, with the total" json "j['total'] == 1 and j['messages'] == []"
api GET "/api/hikyaku/queue?limit=x"
check "queue: a bad limit is 400" status_is 400
check "queue: ... with an Error" json "'Error' in j"

attempts() {
  curl -s "$C/api/hikyaku/queue" | "$PY" -c "import json,sys; j=json.load(sys.stdin); print(j['messages'][0]['Recipients'][0]['Attempts'] if j['messages'] else 'none')"
}
api POST "/api/hikyaku/queue/$ID1/retry"
check "retry: 200" status_is 200
check "retry: another attempt is recorded (attempts 2)" wait_for 2 attempts
api POST "/api/hikyaku/queue/0000000000000000000000/retry"
check "retry of an unknown message: 404" status_is 404

# A second message, removed from the queue: no DSN, gone from the folder.
check "a second message accepted" send carol@far.example "console ops two"
check "deferred" wait_deferred carol@far.example "refused"
ID2=$(sed -n 's/.*id=\([0-9A-Z]*\) to=carol@far.example result=deferred.*/\1/p' "$LOG" | head -n1)
check "two messages in the queue folder" test "$(queue_count)" = 2
api DELETE "/api/hikyaku/queue/$ID2"
check "delete: 200" status_is 200
check "delete: gone from the queue folder" test ! -e "$DATA/queue/$ID2.msg"
check "delete: the other message stays" test "$(queue_count)" = 1
check "delete: logged" grep -q "id=$ID2 result=removed" "$LOG"
api DELETE "/api/hikyaku/queue/$ID2"
check "delete again: 404" status_is 404
api DELETE "/api/hikyaku/queue/..%2F..%2Fetc"
check "delete of a path: 404 (never a file outside the queue)" status_is 404
api GET "/api/hikyaku/queue"
check "queue: only the first message now" json "j['total'] == 1 and j['messages'][0]['ID'] == '$ID1'"

# --- The smart host comes up: the next retry delivers, and the log shows the story. ---
start_receiver relay "$RELAY_ADDR" "$RELAY_PORT"
RX_PID=$!
api POST "/api/hikyaku/queue/all/retry"
check "retry all: 200" status_is 200
check "delivered through the smart host" wait_for 1 received_count relay
check "the queue is empty" wait_for 0 queue_count
check "no DSN went to the sender" test "$(maildir_count example.test alice)" = 0

api GET "/api/hikyaku/log?id=$ID1"
check "log: 200" status_is 200
check "log by ID: delivered, then two deferrals, newest first" \
  json "[e['Result'] for e in j['events']] == ['delivered', 'deferred', 'deferred']"
check "log by ID: only that message, by relay, to bob" \
  json "all(e['ID'] == '$ID1' and e['Via'] == 'relay' and e['Recipient'] == 'bob@far.example' for e in j['events'])"
check "log: the delivered event has the smart host's reply" json "j['events'][0]['Reply'].startswith('250')"
check "log: the deferrals say why" json "'refused' in j['events'][1]['Reply']"
api GET "/api/hikyaku/log?id=$ID2"
check "log of the removed message: its deferral" json "[e['Result'] for e in j['events']] == ['deferred']"
api GET "/api/hikyaku/log?limit=2"
check "log: limit" json "len(j['events']) == 2 and j['events'][0]['ID'] == '$ID1'"
api GET "/api/hikyaku/log"
check "log: all four events" json "len(j['events']) == 4"

# --- Health ---
api GET "/api/hikyaku/health"
check "health: 200" status_is 200
check "health: the listeners, the console's too" \
  json "{'smtp', 'submission', 'console', 'control'} <= {l['kind'] for l in j['Status']['listeners']}"
check "health: the certificate and its days left" \
  json "[(c['name'], c['days_left'] in (29, 30)) for c in j['Status']['certificates']] == [('mx.test', True)]"
check "health: the console's address" json "j['Console'] == ['127.0.0.1:$CONSOLE_PORT']"
check "health: the DKIM key" json "j['DkimKeys'] == [{'Domain': 'example.test', 'Selector': 's1', 'Algorithm': 'ed25519'}]"
check "health: the local domains (each gets a check-dns button)" json "'example.test' in j['Domains'] and j['Domains'] == sorted(j['Domains'])"
check "health: the relay" json "[(r['Host'], r['Port'], r['Tls']) for r in j['Relays']] == [('$RELAY_ADDR', $RELAY_PORT, 'none')]"

# --- The relay test ---
api POST "/api/hikyaku/relay/0/test"
check "relay test: 200" status_is 200
check "relay test: Ok" json "j['Ok'] is True and j['Relay'] == 0"
check "relay test: connect and greeting steps" json "{'connect', 'greeting', 'ehlo'} <= {s['Step'] for s in j['Steps']}"
check "relay test: no message sent without SendTo" test "$(received_count relay)" = 1
check "relay test: logged" grep -q "relay_test relay=0 host=$RELAY_ADDR send_to=- result=ok" "$LOG"
api POST "/api/hikyaku/relay/0/test" '{"SendTo":"tester@far.example"}'
check "relay test with SendTo: Ok, the send step" json "j['Ok'] is True and any(s['Step'] == 'send' and s['Ok'] for s in j['Steps'])"
check "the receiver got the test message" wait_for 2 received_count relay
check "it is the test message, to tester" bash -c "grep -l 'rcpt tester@far.example' '$T'/rx/relay/*.env | grep -q . && grep -q 'Subject: hikyaku test-relay' '$T'/rx/relay/msg-2.eml"
check "from postmaster@hostname (the relay has no username)" grep -q "^from postmaster@mx.test" "$T"/rx/relay/msg-2.env
api POST "/api/hikyaku/relay/1/test"
check "relay test of relay 1 (none): 404" status_is 404
api POST "/api/hikyaku/relay/0/test" '{"SendTo":"not an address"}'
check "relay test with a bad SendTo: 400" status_is 400
api POST "/api/hikyaku/relay/0/test" '{"SendTo":'
check "relay test with a broken body: 400" status_is 400
# The smart host goes away again: the test says so.
kill "$RX_PID"
wait "$RX_PID" 2>/dev/null || true
api POST "/api/hikyaku/relay/0/test"
check "relay test against a dead relay: not Ok, the connect step failed" \
  json "j['Ok'] is False and j['Error'].startswith('connect')"

# --- check-dns ---
"$U" -C "$ETC" check-dns example.test >"$T/check-dns.out" || true
api GET "/api/hikyaku/dns/example.test"
check "dns: 200" status_is 200
check "dns: the domain and rows" json "j['Domain'] == 'example.test' and len(j['Rows']) >= 8"
check "dns: MX ok" json "[r['Status'] for r in j['Rows'] if r['What'] == 'MX'] == ['ok']"
check "dns: the DKIM key's record ok" json "[r['Status'] for r in j['Rows'] if r['What'] == 'DKIM s1'] == ['ok']"
# The console's rows are hikyaku-util's: the same records, each with the same status.
util_rows() {
  "$PY" - "$T/check-dns.out" <<'PY'
import re, sys
for line in open(sys.argv[1]):
    m = re.match(r"^(.*?)\s{2,}(ok|none|MISSING|DIFFERS)\s", line)
    if m:
        print(m.group(1).strip(), m.group(2))
PY
}
api_rows() { json "'\\n'.join(r['What'] + ' ' + r['Status'] for r in j['Rows'])"; }
check "dns: the same rows as hikyaku-util check-dns" diff <(util_rows) <(api_rows)
api GET "/api/hikyaku/dns/not_a..domain"
check "dns: a bad name is 400" status_is 400
finish
