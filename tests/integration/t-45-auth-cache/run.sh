#!/usr/bin/env bash
# The cache of successful AUTH checks in the real daemon: the same user logging in again is
# answered from it (hikyaku_auth_cache_hits_total and cache=hit in the log); a wrong password after
# a cached success is refused (535) and never counted as a hit; a changed password (hikyaku-util
# user-add --force) makes the old one fail on the first try after the reload and the new one work;
# a removed user is refused at once; with [auth] cache_ttl = 0 the answers are the same and
# nothing is cached.
source "$(dirname "$0")/../lib.sh"

CA=$ETC/certs/mx.test/fullchain.pem
# login USER PASSWORD: AUTH PLAIN over implicit TLS (RFC 8314) on a new connection, as a web app
# does for every message; prints the reply code (235, 535, ...) or "error: ...".
login() {
  "$PY" - "$TLS_PORT" "$CA" "$1" "$2" <<'PY'
import smtplib, ssl, sys
port, ca, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False  # the certificate is for mx.test; we connect to 127.0.0.1
try:
    with smtplib.SMTP_SSL("127.0.0.1", port, context=ctx, timeout=30) as s:
        s.ehlo("client.test")
        try:
            # One mechanism only: smtplib's login() would try LOGIN after a failed PLAIN.
            s.user, s.password = user, password
            s.auth("PLAIN", s.auth_plain)
            print(235)
        except smtplib.SMTPAuthenticationError as e:
            print(e.smtp_code)
except Exception as e:
    print("error:", e)
PY
}
is_code() {  # is_code WANT USER PASSWORD
  local got
  got=$(login "$2" "$3")
  [ "$got" = "$1" ] || { echo "AUTH $2: want $1, got $got"; return 1; }
}
metric() {  # metric NAME: its value on the daemon's metrics page (0 when absent)
  curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | awk -v n="$1" '$1 == n { print $2; f = 1 }
    END { if (!f) print 0 }'
}
hits() { metric hikyaku_auth_cache_hits_total; }
auth_failed() { metric 'hikyaku_auth_total{result="failed"}'; }
reloads() { grep -c 'reload what=domains result=ok' "$LOG" || true; }
# Waits for the daemon to take the users file in (it polls every 2 s).
wait_reload() {  # wait_reload COUNT_BEFORE
  local i
  for i in $(seq 1 100); do
    [ "$(reloads)" -gt "$1" ] && return 0
    sleep 0.1
  done
  echo "no reload of domains/ after 10 s"
  return 1
}
count_log() { grep -c "$1" "$LOG" || true; }

# ---- With the cache (the default, spelled out) ----
write_config "[auth]" 'cache_ttl = "5m"' "cache_size = 100"
setup_domains
start_daemon

check "first login runs scrypt" is_code 235 alice@example.test secret
check "first login is a miss" test "$(count_log 'auth=alice@example.test result=authenticated cache=miss')" = 1
for i in 1 2 3 4; do
  check "login $i again: 235" is_code 235 alice@example.test secret
done
check "four logins answered from the cache (metric)" test "$(hits)" = 4
check "four logins answered from the cache (log)" test "$(count_log 'auth=alice@example.test result=authenticated cache=hit')" = 4
check "hits count as successful AUTH too" test "$(metric 'hikyaku_auth_total{result="ok"}')" = 5
check "another spelling of the same login hits: Alice@EXAMPLE.test" is_code 235 Alice@EXAMPLE.test secret
check "... and counts" test "$(hits)" = 5

check "wrong password after a cached success: 535" is_code 535 alice@example.test secrets
check "... counted as a failed login" test "$(auth_failed)" = 1
check "... not as a hit" test "$(hits)" = 5
check "bob's first login is a miss" is_code 235 bob@example.test hunter2
check "... and his password does not open alice's entry" is_code 535 alice@example.test hunter2
check "two failures so far" test "$(auth_failed)" = 2

# A new password for alice while her old one is cached.
before=$(reloads)
printf 'n3w-secret' | "$HK_BIN/hikyaku-util" -C "$ETC" user-add alice@example.test \
  --password-stdin --force >/dev/null
check "the daemon reloads the users file" wait_reload "$before"
check "the old password fails on the first try after the reload" is_code 535 alice@example.test secret
check "... not answered from the cache" test "$(hits)" = 5
check "the new password works" is_code 235 alice@example.test n3w-secret
check "... and is cached in turn" is_code 235 alice@example.test n3w-secret
check "... (one more hit)" test "$(hits)" = 6
check "bob's entry went with the reload: a miss again" is_code 235 bob@example.test hunter2
check "... (no hit)" test "$(hits)" = 6

# alice is removed while her new password is cached.
before=$(reloads)
"$HK_BIN/hikyaku-util" -C "$ETC" user-remove alice@example.test >/dev/null
check "the daemon reloads the users file" wait_reload "$before"
check "a removed user is refused at once, though her login was cached" is_code 535 alice@example.test n3w-secret
check "... not answered from the cache" test "$(hits)" = 6
check "no failed login ever hit the cache" test "$(count_log 'result=auth-failed.*cache')" = 0
stop_daemon
cp "$LOG" "$T/with-cache.log"

# ---- Without the cache: the same answers, nothing cached ----
write_config "[auth]" "cache_ttl = 0"
add_user alice@example.test secret
start_daemon
check "cache off: login" is_code 235 alice@example.test secret
check "cache off: login again" is_code 235 alice@example.test secret
check "cache off: wrong password: 535" is_code 535 alice@example.test secrets
check "cache off: no hit" test "$(hits)" = 0
check "cache off: no cache= field in the log" test "$(count_log 'result=authenticated cache=')" = 0
before=$(reloads)
printf 'n3w-secret' | "$HK_BIN/hikyaku-util" -C "$ETC" user-add alice@example.test \
  --password-stdin --force >/dev/null
check "cache off: the daemon reloads the users file" wait_reload "$before"
check "cache off: the old password fails" is_code 535 alice@example.test secret
check "cache off: the new password works" is_code 235 alice@example.test n3w-secret
finish
