#!/usr/bin/env bash
# SIGTERM under load: 12 senders on port 25 and deliveries in flight to a real SMTP server (a
# smart host on loopback that holds each final reply back), then SIGTERM. The daemon stops
# accepting, answers an idle session 421 4.3.2, lets a DATA in progress finish and be answered,
# lets the deliveries in flight end, and exits 0 within its grace. Restarted, it drains its queue:
# every message answered 250 arrives at the smart host, none twice (counted by Message-ID).
source "$(dirname "$0")/../lib.sh"

# The smart host: every final reply after 1.5 s, so that deliveries are in flight at SIGTERM.
start_receiver relay 127.0.0.1 0 --data-delay 1.5
RELAY_PORT=$(cat "$T/rx/relay.port")
# Many deliveries in flight at once to the one smart host: above the default per-destination limit.
TRUSTED='["127.0.0.0/8"]' RETRY='"1s"' write_config '[delivery]' 'max_connections_per_domain = 50' \
  '[[relay]]' 'host = "127.0.0.1"' "port = $RELAY_PORT" 'tls = "none"'
sed -i 's/^\[limits\]$/[limits]\nshutdown_grace = "20s"/' "$ETC/hikyaku.toml"
setup_domains
start_daemon
HERE=$(dirname "$0")

: >"$T/results"
"$PY" "$HERE/load.py" "$SMTP_PORT" 12 "$T/stop" "$T/results" &
LOAD=$!
# An idle session and a DATA in progress, both in place before the SIGTERM.
"$PY" "$HERE/client.py" idle "$SMTP_PORT" "$T/idle" &
"$PY" "$HERE/client.py" idle-tls "$TLS_PORT" "$T/idle-tls" &
"$PY" "$HERE/client.py" data "$SMTP_PORT" "<slow@load.test>" "$T/go" "$T/slow" &
SLOW=$!
wait_for 3 bash -c "ls '$T/idle.ready' '$T/idle-tls.ready' '$T/slow.ready' 2>/dev/null | wc -l"
# Load until some messages are accepted and deliveries are in flight.
wait_for 1 bash -c "[ \$(grep -c ' 250$' '$T/results') -ge 40 ] && echo 1 || echo 0"
sleep 0.5

OLD_PID=$DAEMON_PID
t0=$(date +%s%N)
kill -TERM "$OLD_PID"
# The slow client finishes its message during the grace.
sleep 1
touch "$T/go"
rc=0
wait "$OLD_PID" || rc=$?
t1=$(date +%s%N)
DAEMON_PID=""
STOP_MS=$(((t1 - t0) / 1000000))
echo "stopped in ${STOP_MS} ms"
check "exit code 0 after SIGTERM" test "$rc" = 0
check "stopped within the grace (< 10 s)" test "$STOP_MS" -lt 10000
check "deliveries were in flight at SIGTERM" \
  grep -Eq "hikyaku stopping sessions=[0-9]+ deliveries=[1-9]" "$LOG"
check "drained cleanly, nothing cut" grep -q "hikyaku drained result=clean" "$LOG"
check "the idle session got 421 4.3.2" grep -q "^421 4.3.2 mx.test" "$T/idle"
check "the idle TLS session got 421 4.3.2" grep -q "^421 4.3.2 mx.test" "$T/idle-tls"
wait "$SLOW" || true
check "the DATA in progress was answered 250" grep -q "^250 " "$T/slow"
echo "<slow@load.test> $(cut -c1-3 "$T/slow")" >>"$T/results"
cp "$LOG" "$T/first.log"

# Restart; the senders go on (refused connections while the daemon was down are retried).
start_daemon
sleep 1
touch "$T/stop"
wait "$LOAD" || true

ACCEPTED=$(awk '$2 == 250 { print $1 }' "$T/results" | sort)
N_ACCEPTED=$(printf '%s\n' "$ACCEPTED" | grep -c . || true)
echo "answers: $(awk '{ print $2 }' "$T/results" | sort | uniq -c | tr '\n' ' ')"
check "senders between two messages got 421 during the stop" \
  bash -c "awk '\$2 == 421' '$T/results' | grep -q ."
check "at least 40 messages accepted" test "$N_ACCEPTED" -ge 40
WAIT_SECONDS=90 check "the queue drains after the restart" wait_for 0 queue_count
delivered_ids() { cat "$T"/rx/relay/*.eml 2>/dev/null | sed -n 's/^Message-ID: \(.*\)\r\{0,1\}$/\1/p' | tr -d '\r' | sort; }
MISSING=$(comm -23 <(printf '%s\n' "$ACCEPTED") <(delivered_ids | sort -u))
DUPS=$(delivered_ids | uniq -d)
check "every message answered 250 was delivered ($N_ACCEPTED)" test -z "$MISSING"
[ -z "$MISSING" ] || echo "missing: $(echo "$MISSING" | head -5)"
check "no message was delivered twice" test -z "$DUPS"
[ -z "$DUPS" ] || echo "twice: $(echo "$DUPS" | head -5)"

# A smart host that never answers in time: past the grace the delivery is abandoned before its
# final reply is read, recorded as deferred, and the message stays queued for the next start.
stop_daemon
start_receiver stuck 127.0.0.1 0 --data-delay 60
sed -i "s/^port = $RELAY_PORT\$/port = $(cat "$T/rx/stuck.port")/; s/^shutdown_grace = .*/shutdown_grace = \"2s\"/" \
  "$ETC/hikyaku.toml"
start_daemon
check "accepted for the stuck smart host" swaks --server 127.0.0.1:"$SMTP_PORT" \
  --from a@load.test --to stuck@far.test --header "Message-ID: <stuck@load.test>" --silent 2
wait_for 1 bash -c "grep -c '^connect' '$T/rx/stuck/sessions.log' 2>/dev/null || echo 0"
# And a client that never ends its DATA.
rm -f "$T/go"
"$PY" "$HERE/client.py" data "$SMTP_PORT" "<never@load.test>" "$T/go" "$T/never" &
NEVER=$!
wait_for 1 bash -c "ls '$T/never.ready' 2>/dev/null | wc -l"
sleep 1  # the message is sent, the final reply awaited
t0=$(date +%s%N)
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
DAEMON_PID=""
STOP_MS=$((($(date +%s%N) - t0) / 1000000))
echo "stopped in ${STOP_MS} ms with a delivery stuck"
check "exit code 0 with a stuck delivery" test "$rc" = 0
check "stopped soon after the 2 s grace (< 6 s)" test "$STOP_MS" -lt 6000
check "the grace ran out" grep -q "hikyaku stopping result=grace-over sessions=1 deliveries=1" "$LOG"
check "the session still in DATA was closed, all ended before the exit" \
  grep -q "hikyaku drained result=clean sessions=0" "$LOG"
touch "$T/go"
wait "$NEVER" || true
check "the unfinished DATA got no reply (its client keeps the message)" \
  test -z "$(cat "$T/never" 2>/dev/null)"
check "and nothing of it was queued" bash -c "! grep -rq 'never@load.test' '$DATA/queue'"
check "abandoned while waiting for the final reply, recorded as deferred" \
  grep -q "to=stuck@far.test result=deferred.*waiting for final DATA reply" "$LOG"
check "the message stays queued" test "$(queue_count)" = 1
finish
