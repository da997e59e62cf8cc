#!/usr/bin/env bash
# hikyaku-util status (and --json) against the running daemon: listeners, the queue after
# deferred mail, the last hour's deliveries, certificates with days left, DKIM keys; then the
# certificate expiry warning (a certificate made by openssl with -days 5, and an expired one):
# the log lines and the metric; and what status says when the daemon is not running.
source "$(dirname "$0")/../lib.sh"

U="$HK_BIN/hikyaku-util"
# Remote mail stays deferred: the DNS server is a port where nothing answers (write_config).
TRUSTED='["127.0.0.0/8"]' RETRY='"10m"' write_config
setup_domains
check "dkim key rsa for example.test" "$U" -C "$ETC" dkim-keygen example.test --selector=rsa1 --algo=rsa2048
check "dkim key ed25519 for example.test" "$U" -C "$ETC" dkim-keygen example.test --selector=ed1 --algo=ed25519
check "dkim key for catchall.test" "$U" -C "$ETC" dkim-keygen catchall.test --selector=s1 --algo=ed25519
start_daemon

# field JSON_FILE PYTHON_EXPRESSION — prints the expression over the parsed object `s`.
field() { "$PY" -c 'import json,sys; s=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

check "accepted: local mail" send_to bob@example.test "local"
check "delivered" wait_for 1 maildir_count example.test bob
check "accepted: remote mail 1" send_to someone@remote.test "remote 1"
check "accepted: remote mail 2" send_to other@remote.test "remote 2"
deferred() { grep -c 'result=deferred' "$LOG" || true; }
check "both deferred (no DNS)" wait_for 2 deferred
sleep 1.2  # the oldest message is then at least a second old

check "status --json exits 0" bash -c "'$U' -C '$ETC' status --json >'$T/s.json'"
J=$T/s.json
check "running" test "$(field "$J" 's["running"]')" = True
check "version" test "$(field "$J" 's["version"]')" = "$("$U" --version | cut -d' ' -f2)"
check "pid is the daemon's" test "$(field "$J" 's["pid"]')" = "$DAEMON_PID"
check "uptime > 0 and < 120 s" test "$(field "$J" '0 < s["uptime_seconds"] < 120')" = True
check "listeners: smtp on its port" \
  test "$(field "$J" '[l["address"] for l in s["listeners"] if l["kind"]=="smtp"][0]')" = "127.0.0.1:$SMTP_PORT"
check "listeners: submission, submission_tls, metrics, control" \
  test "$(field "$J" 'sorted(l["kind"] for l in s["listeners"])')" = \
  "['control', 'metrics', 'smtp', 'submission', 'submission_tls']"
check "queue: the two deferred messages" test "$(field "$J" 's["queue"]["messages"]')" = 2
check "queue: oldest age > 0" test "$(field "$J" '0 < s["queue"]["oldest_age_seconds"] < 120')" = True
check "last hour: 1 delivered" test "$(field "$J" 's["last_hour"]["delivered"]')" = 1
check "last hour: 2 deferred" test "$(field "$J" 's["last_hour"]["deferred"]')" = 2
check "last hour: 0 bounced" test "$(field "$J" 's["last_hour"]["bounced"]')" = 0
check "certificate mx.test with 29 days left (made with -days 30)" \
  test "$(field "$J" '[(c["name"], c["days_left"], c["default"]) for c in s["certificates"]]')" = \
  "[('mx.test', 29, True)]"
check "dkim keys per domain" \
  test "$(field "$J" '[(d["domain"], [k["selector"]+":"+k["algorithm"] for k in d["selectors"]]) for d in s["dkim"]]')" = \
  "[('catchall.test', ['s1:ed25519']), ('example.test', ['ed1:ed25519', 'rsa1:rsa2048'])]"
check "no reload errors" test "$(field "$J" 's["reload_errors"]')" = "[]"

check "status (text) exits 0" bash -c "'$U' -C '$ETC' status >'$T/s.txt'"
check "text: running with version" grep -q "^hikyaku .* running, pid $DAEMON_PID" "$T/s.txt"
check "text: smtp listener" grep -qE "^  smtp +127.0.0.1:$SMTP_PORT\$" "$T/s.txt"
check "text: queue" grep -qE "^queue: 2 messages \(0 being delivered\), oldest [0-9]+s\$" "$T/s.txt"
check "text: last hour" grep -q "^last hour: 1 delivered, 2 deferred, 0 bounced, 0 expired" "$T/s.txt"
check "text: certificate days" grep -qE "^  mx.test  expires .* \(29 days left\)\$" "$T/s.txt"
check "text: dkim" grep -q "^  example.test: ed1 (ed25519), rsa1 (rsa2048)" "$T/s.txt"

# Expiry: a certificate made with -days 5 and an expired one (openssl ca with dates in the
# past), picked up by the reload; the warning and the error line, and their metric.
# Made in a staging folder and moved in whole (rename), so that a reload never sees half a pair.
STAGE=$T/stage
mkdir -p "$STAGE/soon.test"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 5 \
  -subj "/CN=soon.test" -addext "subjectAltName=DNS:soon.test" \
  -keyout "$STAGE/soon.test/privkey.pem" -out "$STAGE/soon.test/fullchain.pem" 2>/dev/null
chmod 600 "$STAGE/soon.test/privkey.pem"
OLD=$T/old-ca
mkdir -p "$OLD" "$STAGE/old.test"
touch "$OLD/index.txt"
echo 01 >"$OLD/serial"
printf '[ca]\ndefault_ca = d\n[d]\ndatabase = %s/index.txt\nnew_certs_dir = %s\nserial = %s/serial\ndefault_md = sha256\npolicy = p\ncopy_extensions = copy\n[p]\ncommonName = supplied\n' \
  "$OLD" "$OLD" "$OLD" >"$OLD/ca.cnf"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=old.test" \
  -addext "subjectAltName=DNS:old.test" -keyout "$OLD/privkey.pem" -out "$OLD/req.csr" 2>/dev/null
openssl ca -batch -notext -config "$OLD/ca.cnf" -selfsign -keyfile "$OLD/privkey.pem" \
  -in "$OLD/req.csr" -startdate 20240101000000Z -enddate 20240201000000Z \
  -out "$OLD/fullchain.pem" 2>/dev/null
cp "$OLD/privkey.pem" "$OLD/fullchain.pem" "$STAGE/old.test/"
chmod 600 "$STAGE/old.test/privkey.pem"
check "the expired certificate really is (openssl)" \
  bash -c "! openssl x509 -checkend 0 -noout -in '$STAGE/old.test/fullchain.pem'"
check "the -days 5 one expires within 5 days (openssl)" \
  bash -c "! openssl x509 -checkend 432000 -noout -in '$STAGE/soon.test/fullchain.pem'"
mv "$STAGE/old.test" "$STAGE/soon.test" "$ETC/certs/"

soon_line() { grep -c 'certs name=soon.test not_after=.* days_left=4 result=expires-soon' "$LOG" || true; }
old_line() { grep -c 'certs name=old.test not_after=2024-02-01T00:00:00Z result=expired' "$LOG" || true; }
# at_least N CMD... — waits (20 s at most) until CMD prints a number >= N.
at_least() {
  local n=$1
  shift
  for _ in $(seq 1 100); do [ "$("$@")" -ge "$n" ] && return 0; sleep 0.2; done
  return 1
}
check "the reload (files changed) logs the expired certificate" at_least 1 old_line
check "... and warns about the one with 4 full days left" at_least 1 soon_line
check "the warning is a warn line" grep -q 'warn certs name=soon.test ' "$LOG"
check "the expired one an error line" grep -q 'error certs name=old.test ' "$LOG"
check "mx.test (29 days) is not warned about" bash -c "! grep -q 'certs name=mx.test' '$LOG'"
check "no certificate reload error" bash -c "! grep -q 'reload what=certs result=kept-old' '$LOG'"
before=$(soon_line)
kill -HUP "$DAEMON_PID"
check "SIGHUP warns again" wait_for $((before + 1)) soon_line
soon_end=$(date -d "$(openssl x509 -enddate -noout -in "$ETC/certs/soon.test/fullchain.pem" | cut -d= -f2)" +%s)
check "expiry metric of soon.test" test "$(metric 'hikyaku_certificate_expiry_timestamp_seconds{name="soon.test"}')" = "$soon_end"
check "expiry metric of old.test" test "$(metric 'hikyaku_certificate_expiry_timestamp_seconds{name="old.test"}')" = 1706745600
check "the page still passes promtool" \
  bash -c "curl -sf http://127.0.0.1:$METRICS_PORT/metrics | promtool check metrics"
check "status --json lists the three certificates" bash -c "'$U' -C '$ETC' status --json >'$T/s2.json'"
check "days left: 4 and negative for the expired one" \
  test "$(field "$T/s2.json" 'sorted((c["name"], c["days_left"] if c["days_left"] >= 0 else "expired") for c in s["certificates"])')" = \
  "[('mx.test', 29), ('old.test', 'expired'), ('soon.test', 4)]"
check "status text flags both" bash -c "'$U' -C '$ETC' status >'$T/s2.txt' &&
  grep -qE '^  soon.test +expires .*\(4 days left\)  WARNING' '$T/s2.txt' &&
  grep -qE '^  old.test +expires 2024-02-01T00:00:00Z  EXPIRED' '$T/s2.txt'"

# A broken DKIM key: the reload keeps the old keys; status shows the error.
(umask 077 && echo "not a key" >"$STAGE/broken.pem")
mv "$STAGE/broken.pem" "$ETC/domains/example.test/dkim/broken.pem"
broken() { grep -c 'reload what=dkim result=kept-old' "$LOG" || true; }
check "the broken key is refused by the reload" at_least 1 broken
"$U" -C "$ETC" status --json >"$T/s3.json" 2>/dev/null || true
check "status --json: the reload error" \
  test "$(field "$T/s3.json" '[(e["what"], e["resolved"]) for e in s["reload_errors"]]')" = "[('dkim', False)]"
rm "$ETC/domains/example.test/dkim/broken.pem"
fixed() { grep -c 'reload what=dkim result=ok' "$LOG" || true; }
check "removing it reloads the keys" at_least 1 fixed
"$U" -C "$ETC" status >"$T/s3.txt" 2>&1 || true
check "status text: the error, resolved" grep -q '^  dkim at .*(resolved by a later reload)' "$T/s3.txt"

# Not running: says so, exit 1, and still shows what the configuration holds.
stop_daemon
rc=0
"$U" -C "$ETC" status >"$T/down.txt" 2>&1 || rc=$?
check "not running: exit 1" test "$rc" = 1
check "not running: says so" grep -q "^hikyaku is not running" "$T/down.txt"
check "not running: certificates from the config" grep -qE "^  soon.test +expires" "$T/down.txt"
check "not running: dkim keys from the config" grep -q "^  example.test: ed1 (ed25519), rsa1 (rsa2048)" "$T/down.txt"
rc=0
"$U" -C "$ETC" status --json >"$T/down.json" 2>&1 || rc=$?
check "not running --json: exit 1" test "$rc" = 1
check "not running --json: running false" test "$(field "$T/down.json" 's["running"]')" = False
check "not running --json: certificates and keys" \
  test "$(field "$T/down.json" '(len(s["certificates"]), len(s["dkim"]))')" = "(3, 2)"

# At start (the log begins anew): the warning and the error come before the listeners.
start_daemon
check "start: the warning" test "$(soon_line)" = 1
check "start: the error" test "$(old_line)" = 1
check "start: before serving" bash -c "grep -n 'certs name=soon.test\|listening smtp=' '$LOG' | head -1 | grep -q soon.test"
finish
