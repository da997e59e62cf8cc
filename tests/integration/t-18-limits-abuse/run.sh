#!/usr/bin/env bash
# Limits that fit real traffic and the defences against abusive clients, with the real daemon and
# real clients (python smtplib/asyncio, swaks) from several loopback addresses: 127.0.0.1 is the
# trusted application, 127.0.0.2... are strangers.
source "$(dirname "$0")/../lib.sh"
C="$PY $(dirname "$0")/clients.py"
metric() {  # metric NAME_WITH_LABELS — its value on the metrics page
  curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" | awk -v k="$1" '$1 == k { print $2 }'
}
limits() {  # limits "key = value"... — added to [limits] of the config written last
  local line
  for line in "$@"; do sed -i "s/^\[limits\]/&\n$line/" "$ETC/hikyaku.toml"; done
}

# --- 1. The default [limits] (only the test's short timeouts from lib.sh) ---
TRUSTED='["127.0.0.1/32", "::1/128"]' write_config
setup_domains
start_daemon
check "default config: 60 concurrent sessions from the trusted app all greeted and accepted" \
  $C concurrent_trusted "$SMTP_PORT" 60
check "all 60 messages delivered" wait_for 60 maildir_count example.test alice
check "20 silent connections from a stranger, then a new client from it is greeted at once" \
  $C silent_then_greeted "$SMTP_PORT" 127.0.0.2 20
check "burst of 300 concurrent connections from one address: each 220 or a clean 4xx" \
  $C burst "$SMTP_PORT" 127.0.0.3 300
check "the burst's refusals are logged and counted" \
  bash -c "grep -q 'session client=127.0.0.3 result=refused reason=connections-per-ip' '$LOG' &&
           [ \$(curl -sf http://127.0.0.1:$METRICS_PORT/metrics |
                awk '/reason=\"connections-per-ip\"/ { print \$2 }') -gt 0 ]"
check "python smtplib from a stranger still works" $C smtplib_client "$SMTP_PORT" 127.0.0.4
check "swaks --pipeline from a stranger still works (correct pipelining)" \
  swaks --server 127.0.0.1:"$SMTP_PORT" --local-interface 127.0.0.4 --pipeline \
    --from a@remote.test --to alice@example.test --silent 2
check "content before the reply to DATA: 554 5.5.0, closed" $C improper "$SMTP_PORT" 127.0.0.5
check "improper pipelining logged for fail2ban" \
  grep -q 'session client=127.0.0.5 command=DATA result=refused reason=pipelining' "$LOG"
check "the early message was not taken" bash -c "! grep -rq 'early bird' '$DATA/mail' '$DATA/queue'"
stop_daemon

# --- 2. Small limits, to see each one act within seconds ---
TRUSTED='["127.0.0.1/32", "::1/128"]' CMD_TIMEOUT=30s write_config
limits 'command_line_timeout = "2s"' 'max_connections = 20' 'stress_threshold = 50' \
  'stress_timeout = "2s"' 'auth_failures_per_ip = 5' 'messages_per_hour_user = 2' \
  'messages_per_hour_trusted = 3' 'connection_rate_per_ip = 10' 'max_connections_per_ip = 3' \
  'auth_failures_per_user = 4'
start_daemon
check "a client dribbling one byte at a time is cut at command_line_timeout with 421 4.4.2" \
  $C dribble "$SMTP_PORT" 127.0.0.6 0.5 1.5 4.5
check "the cut is logged as a command-line timeout" \
  grep -q 'session client=127.0.0.6 result=timeout wait=command-line' "$LOG"
check "below the stress threshold, silent clients keep command_timeout (4 s > stress_timeout)" \
  $C silent_for "$SMTP_PORT" 127.0.0.1 5 4
check "at the stress threshold (10 of 20), idle clients are cut after stress_timeout; DATA goes on" \
  $C stressed "$SMTP_PORT" 127.0.0.1 10 4 6
check "stress cuts logged" grep -q 'result=timeout wait=command stress=yes' "$LOG"
check "AUTH brute force from one address: slowed, then 454 4.7.0, then 421 4.7.0 at connect" \
  $C brute_force "$TLS_PORT" 127.0.0.7 3 5
check "the ban is logged and counted" \
  bash -c "grep -q 'session client=127.0.0.7 result=refused reason=auth-ban' '$LOG' &&
           [ \$(curl -sf http://127.0.0.1:$METRICS_PORT/metrics |
                awk '/reason=\"auth-ban\"/ { print \$2 }') -ge 2 ]"
check "the banned address is refused on port 25 too" \
  $C refused_at_connect "$SMTP_PORT" 127.0.0.7 "421 4.7.0"
check "one user guessed from 4 addresses: the 5th wrong guess waits, the right password does not" \
  $C distributed_guessing "$TLS_PORT" bob@example.test hunter2 30 4
check "authenticated sessions give back their place in max_connections_per_ip (3)" \
  $C auth_frees_slot "$TLS_PORT" "$SMTP_PORT" 127.0.0.12 3
check "the right password from another address still works; 3rd message per hour: 451 4.7.1" \
  $C login_and_send "$TLS_PORT" 127.0.0.8 2 451
check "message rate logged" \
  grep -q 'session client=127.0.0.8 auth=alice@example.test result=refused reason=message-rate' "$LOG"
check "trusted app: messages_per_hour_trusted = 3, the 4th gets 451 4.7.1" \
  $C trusted_rate "$SMTP_PORT" 127.0.0.1 3 451
check "connection rate: the 11th connection in a minute from a stranger gets 421 4.7.0" \
  $C connection_rate "$SMTP_PORT" 127.0.0.9 10
check "metrics count connection-rate and message-rate refusals" \
  bash -c "[ \$(curl -sf http://127.0.0.1:$METRICS_PORT/metrics | awk '/reason=\"connection-rate\"/ { print \$2 }') -ge 1 ] &&
           [ \$(curl -sf http://127.0.0.1:$METRICS_PORT/metrics | awk '/reason=\"message-rate\"/ { print \$2 }') -ge 2 ]"
check "server still healthy (a stranger sends to a local user)" \
  swaks --server 127.0.0.1:"$SMTP_PORT" --local-interface 127.0.0.11 \
    --from a@remote.test --to bob@example.test --silent 2
finish
