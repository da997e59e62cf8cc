#!/usr/bin/env bash
# The console's gate in the real daemon, with curl and python. In a network namespace of its own
# with 192.0.2.1 on a dummy interface (or on lo), the daemon listens on 0.0.0.0 so that a client can
# come from loopback or from 192.0.2.1 (not loopback) to the same port:
# - loopback: plain HTTP works without a password; a wrong Host (DNS rebinding) is 403; a state
#   change from a browser (Origin of another site) without the CSRF token is 403, with the token
#   (from GET /'s X-CSRF-Token) it reaches the handler, as does one from curl without Origin;
# - 192.0.2.1: plain HTTP is 403 saying to use https; HTTPS without a password or with a wrong
#   one is 401 with WWW-Authenticate; the right one (user admin) gets what loopback gets; another
#   user name is 401; a removed password file is 403 naming [console] password_file, a new one
#   written by hikyaku-util console-password works at once; a configured host name passes, a
#   foreign one is 403; failed tries ban the address like failed AUTH;
# - every response carries the security header fields; a header over 16 KiB is 431 and a body
#   over 1 MiB is 413, and the server answers normally afterwards; idle connections from one
#   address are bounded while another address still gets in; hikyaku-util status lists the
#   console; a renewed certificate is served to the next TLS connection; SIGTERM with connections
#   open (idle, and a stream of events) stops the daemon.
source "$(dirname "$0")/../lib.sh"
enter_netns "$@"

# A dummy interface when the kernel has the module; else the address on lo, as t-39 does (the
# client's source address is 192.0.2.1 either way, which is not loopback).
if ip link add hkdummy0 type dummy 2>/dev/null; then
  ip addr add 192.0.2.1/24 dev hkdummy0
  ip link set hkdummy0 up
else
  ip addr add 192.0.2.1/32 dev lo
fi

write_config "[console]" 'password_file = "console.password"' 'hostnames = ["console.test"]'
# [listen] and [limits] are written by write_config: add to them in place.
sed -i -e '/^metrics = /a console = ["0.0.0.0:0"]' \
  -e '/^\[limits\]/a max_auth_failures = 20\nauth_failures_per_ip = 6' "$ETC/hikyaku.toml"
"$HK_BIN/hikyaku-util" -C "$ETC" console-password --password='correct horse' >"$T/util.out"
check "console-password wrote the hash file (mode 0640)" \
  bash -c "[ \"\$(stat -c %a '$ETC/console.password')\" = 640 ] && grep -q '^scrypt\\$' '$ETC/console.password'"
start_daemon
PORT=$(sed -n 's/.*listening console=0.0.0.0:\([0-9]*\).*/\1/p' "$LOG" | tail -n1)
[ -n "$PORT" ] || { fail "the console listens"; finish; exit 1; }
pass "the console listens on 0.0.0.0:$PORT"

LOCAL=http://127.0.0.1:$PORT
REMOTE=192.0.2.1:$PORT
# code ARGS...: the status code of one curl request (000 when none came).
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" || true; }
# want CODE DESCRIPTION ARGS...: passes when the request gets CODE.
want() {
  local expect=$1 what=$2 got
  shift 2
  got=$(code "$@")
  if [ "$got" = "$expect" ]; then pass "$what ($got)"; else fail "$what: want $expect, got $got"; fi
}
# headers_ok ARGS...: the five default security header fields are in the response.
headers_ok() {
  local h
  h=$(curl -s -D - -o /dev/null --max-time 10 "$@" | tr -d '\r')
  for f in "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'" \
    "X-Content-Type-Options: nosniff" "Referrer-Policy: no-referrer" "X-Frame-Options: DENY" \
    "Cache-Control: no-store"; do
    grep -qxiF "$f" <<<"$h" || { echo "missing: $f"; echo "$h"; return 1; }
  done
}

# ---- Loopback ----
API=/api/v1/messages
# What a loopback client gets from the API: the reference the remote client must match.
REF_CODE=$(code "$LOCAL$API")
REF_BODY=$(curl -s --max-time 10 "$LOCAL$API")
case "$REF_CODE" in
  401 | 403 | 000) fail "loopback plain HTTP passes the gate (got $REF_CODE)" ;;
  *) pass "loopback plain HTTP passes the gate without password ($REF_CODE)" ;;
esac
want 200 "loopback: GET / answers" "$LOCAL/"
want 403 "loopback: a foreign Host (DNS rebinding) is refused" -H 'Host: evil.example' "$LOCAL$API"
want 403 "loopback: a foreign Host with our port is refused" -H "Host: evil.example:$PORT" "$LOCAL/"
check "loopback: localhost names the console" test "$(code -H "Host: localhost:$PORT" "$LOCAL$API")" = "$REF_CODE"
check "loopback: [console] hostnames are accepted" test "$(code -H 'Host: console.test' "$LOCAL$API")" = "$REF_CODE"

TOKEN=$(curl -s -D - -o /dev/null "$LOCAL/" | tr -d '\r' | sed -n 's/^X-CSRF-Token: //Ip')
check "GET / gives the CSRF token" test "${#TOKEN}" -eq 64
# A state change: mark every message read (Mailpit's PUT /api/v1/messages).
CHANGE=(-X PUT -H 'Content-Type: application/json' --data '{"Read":true}' "$LOCAL$API")
NOBROWSER=$(code "${CHANGE[@]}")
case "$NOBROWSER" in
  401 | 403 | 000) fail "a state change from curl (no Origin) passes (got $NOBROWSER)" ;;
  *) pass "a state change from curl (no Origin) reaches the handler ($NOBROWSER)" ;;
esac
want 403 "cross-site POST without the token is refused" -H 'Origin: http://evil.example' "${CHANGE[@]}"
want 403 "a browser's request with a wrong token is refused" -H 'Sec-Fetch-Site: same-origin' \
  -H 'X-CSRF-Token: 00' "${CHANGE[@]}"
check "with the token it reaches the handler" test "$(code -H 'Origin: http://evil.example' \
  -H "X-CSRF-Token: $TOKEN" "${CHANGE[@]}")" = "$NOBROWSER"

# ---- A client that is not on loopback (192.0.2.1) ----
want 403 "remote plain HTTP is refused" "http://$REMOTE$API"
check "... with a text that says to use https" \
  bash -c "curl -s 'http://$REMOTE$API' | grep -q 'https://'"
want 401 "remote HTTPS without a password" -k "https://$REMOTE$API"
check "... asks for Basic credentials" bash -c \
  "curl -sk -D - -o /dev/null 'https://$REMOTE$API' | grep -qi '^WWW-Authenticate: Basic realm='"
want 401 "remote HTTPS with a wrong password" -k -u admin:wrong "https://$REMOTE$API"
want 401 "remote HTTPS with the password but another user" -k -u root:'correct horse' \
  "https://$REMOTE$API"
check "remote HTTPS with the right password gets what loopback gets" \
  test "$(code -k -u admin:'correct horse' "https://$REMOTE$API")" = "$REF_CODE"
check "... the same content" \
  test "$(curl -sk -u admin:'correct horse' "https://$REMOTE$API")" = "$REF_BODY"
check "a second request is answered (cached check)" \
  test "$(code -k -u admin:'correct horse' "https://$REMOTE$API")" = "$REF_CODE"
check "failed logins are logged" grep -q "console client=192.0.2.1 result=auth-failed" "$LOG"
want 403 "remote HTTPS naming a foreign Host" -k -u admin:'correct horse' \
  --resolve "evil.example:$PORT:192.0.2.1" "https://evil.example:$PORT$API"
check "remote HTTPS naming a [console] hostname passes" test "$(code -k -u admin:'correct horse' \
  --resolve "console.test:$PORT:192.0.2.1" "https://console.test:$PORT$API")" = "$REF_CODE"
check "remote HTTPS naming the daemon's hostname passes" test "$(code -k -u admin:'correct horse' \
  --resolve "mx.test:$PORT:192.0.2.1" "https://mx.test:$PORT$API")" = "$REF_CODE"

mv "$ETC/console.password" "$T/saved.password"
want 403 "no password file: remote access refused" -k -u admin:'correct horse' "https://$REMOTE$API"
check "... naming [console] password_file" bash -c \
  "curl -sk -u admin:x 'https://$REMOTE$API' | grep -q 'password_file'"
"$HK_BIN/hikyaku-util" -C "$ETC" console-password --password='new secret' >/dev/null
want 401 "a new password file: the old password fails" -k -u admin:'correct horse' "https://$REMOTE$API"
check "... and the new one works" \
  test "$(code -k -u admin:'new secret' "https://$REMOTE$API")" = "$REF_CODE"

# ---- Security header fields on every kind of response ----
check "headers: loopback 200" headers_ok "$LOCAL/"
check "headers: 404" headers_ok "$LOCAL/no/such/page"
check "headers: 403 (Host)" headers_ok -H 'Host: evil.example' "$LOCAL/"
check "headers: 403 (plain HTTP from afar)" headers_ok "http://$REMOTE/"
check "headers: 401" headers_ok -k "https://$REMOTE/"
check "headers: remote 200 over TLS" headers_ok -k -u admin:'new secret' "https://$REMOTE/"

# ---- Bounds ----
want 431 "a header over 16 KiB" -H "X-Big: $(head -c 17000 /dev/zero | tr '\0' a)" "$LOCAL/"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' a >"$T/big"
want 413 "a body over 1 MiB" -X PUT --data-binary @"$T/big" "$LOCAL$API"
want 200 "the server answers normally afterwards" "$LOCAL/"
# 40 idle connections from 127.0.0.1 (32 allowed per address): the extra ones are closed at
# once; another address (127.0.0.2) still gets in while they are open.
"$PY" - "$PORT" >"$T/idle.out" 2>&1 <<'PY' &
import select, socket, sys, time
port = int(sys.argv[1])
socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(40)]
closed = set()
end = time.monotonic() + 2
while time.monotonic() < end:
    ready, _, _ = select.select([s for s in socks if s not in closed], [], [], 0.2)
    for s in ready:
        try:
            if s.recv(1) == b"":
                closed.add(s)
        except ConnectionResetError:
            closed.add(s)
print("closed", len(closed), flush=True)
time.sleep(4)
PY
IDLE_PID=$!
check "idle connections beyond 32 from one address are closed" \
  bash -c "for i in \$(seq 1 100); do grep -q '^closed' '$T/idle.out' && break; sleep 0.1; done; grep -qx 'closed 8' '$T/idle.out' || { cat '$T/idle.out'; exit 1; }"
want 200 "another address is served meanwhile" --interface 127.0.0.2 "http://127.0.0.2:$PORT/"
wait "$IDLE_PID" || true

check "hikyaku-util status lists the console" bash -c \
  "'$HK_BIN/hikyaku-util' -C '$ETC' status --json | grep -q '\"console\"'"

# ---- A reload of the certificates applies to the next TLS connection ----
served_cn() {
  openssl s_client -connect "192.0.2.1:$PORT" </dev/null 2>/dev/null | openssl x509 -noout -subject
}
check "the console serves the daemon's certificate" bash -c "$(declare -f served_cn); PORT=$PORT; served_cn | grep -q 'CN *= *mx.test'"
make_cert "$T/renewed" renewed.test
cp "$T/renewed/fullchain.pem" "$T/renewed/privkey.pem" "$ETC/certs/mx.test/"
check "the daemon reloads the renewed certificate" \
  bash -c "for i in \$(seq 1 100); do grep -q 'reload what=certs result=ok' '$LOG' && exit 0; sleep 0.1; done; exit 1"
check "the next TLS connection gets the renewed certificate" bash -c "$(declare -f served_cn); PORT=$PORT; served_cn | grep -q 'CN *= *renewed.test'"
check "... and is served" test "$(code -k -u admin:'new secret' "https://$REMOTE$API")" = "$REF_CODE"

# ---- Failed tries ban the address (auth_failures_per_ip = 6) ----
for i in 1 2 3 4; do code -k -u admin:bad "https://$REMOTE$API" >/dev/null; done
want 403 "after 6 failed tries the address is banned, right password or not" \
  -k -u admin:'new secret' "https://$REMOTE$API"
want 200 "loopback is not affected" "$LOCAL/"

# ---- Stop with connections open ----
"$PY" - "$PORT" >"$T/open.out" 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
idle = socket.create_connection(("127.0.0.1", port))
events = socket.create_connection(("127.0.0.1", port))
events.sendall(b"GET /api/hikyaku/events HTTP/1.1\r\nHost: localhost\r\n\r\n")
time.sleep(30)
PY
OPEN_PID=$!
sleep 0.5
START=$(date +%s%N)
kill -TERM "$DAEMON_PID"
for i in $(seq 1 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
MS=$((($(date +%s%N) - START) / 1000000))
if kill -0 "$DAEMON_PID" 2>/dev/null; then fail "SIGTERM with console connections open: still running"; else pass "SIGTERM with console connections open: stopped in ${MS} ms"; fi
check "... drained clean" grep -q "hikyaku drained result=clean" "$LOG"
kill "$OPEN_PID" 2>/dev/null || true
DAEMON_PID=""
finish
