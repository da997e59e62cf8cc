#!/usr/bin/env bash
# Traffic shaping per destination, in a private network namespace with real DNS (dnsmasq) and two
# real receivers (aiosmtpd): slow.test answers "421 4.7.28 rate limited" to its first RCPTs (as
# Gmail does), fast.test takes everything. 20 messages to each, through a queue of only 4
# delivery slots: slow.test backs off (logged, in `queue list`, in the metrics) while fast.test's
# mail is all delivered at once; then slow.test's mail is delivered, each message exactly once;
# nothing bounces; neither receiver ever sees more than max_connections_per_domain connections.
source "$(dirname "$0")/../lib.sh"
enter_netns "$@"

start_dns \
  --mx-host=slow.test,mx.slow.test,10 --host-record=mx.slow.test,127.0.0.21 \
  --mx-host=fast.test,mx.fast.test,10 --host-record=mx.fast.test,127.0.0.22

MX="$HK_SRC/tests/integration/t-31-traffic-shaping/shaping_mx.py"
start_shaping_rx() {  # NAME ADDR [options]
  local name=$1 addr=$2
  shift 2
  mkdir -p "$T/rx/$name"
  "$PY" "$MX" --dir "$T/rx/$name" --host "$addr" --port 25 "$@" >"$T/rx/$name.port" \
    2>"$T/rx/$name.log" &
  for _ in $(seq 1 50); do [ -s "$T/rx/$name.port" ] && return 0; sleep 0.1; done
  echo "receiver $name did not start"; cat "$T/rx/$name.log"; return 1
}
# Three 421s: the first wave's connections (two at once) and the first probe after the back-off.
start_shaping_rx slow 127.0.0.21 --throttle 3 --data-delay 0.1
start_shaping_rx fast 127.0.0.22 --data-delay 0.3

TRUSTED='["127.0.0.0/8"]' DNS_SERVER=127.0.0.53:53 RETRY='"1s"' LIFETIME=1h write_config \
  '[delivery]' 'mta_sts = false' 'max_connections_per_domain = 2' 'max_connections_per_host = 2' \
  'backoff_min = "5s"' 'backoff_max = "10s"'
sed -i 's/^\[queue\]$/[queue]\nmax_concurrent_deliveries = 4/' "$ETC/hikyaku.toml"
setup_domains
start_daemon

send_all() {  # 20 messages to each domain, interleaved, over one SMTP session
  "$PY" - "$SMTP_PORT" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30)
for i in range(1, 21):
    for dom in ("slow", "fast"):
        msg = "Subject: %s-%d\r\nFrom: alice@example.test\r\n\r\nbody %d\r\n" % (dom, i, i)
        s.sendmail("alice@example.test", ["user%d@%s.test" % (i, dom)], msg)
s.quit()
PY
}
start=$(date +%s.%N)
check "40 messages accepted" send_all
WAIT_SECONDS=15 check "fast.test: all 20 delivered" wait_for 20 received_count fast
fast_done=$(date +%s.%N)
slow_then=$(received_count slow)
echo "     fast.test done $(awk -v a="$start" -v b="$fast_done" 'BEGIN { printf "%.1f", b - a }') s after the first message was sent"
check "fast.test was done within 10 s, while slow.test backed off" \
  awk -v a="$start" -v b="$fast_done" 'BEGIN { exit !(b - a < 10) }'
check "slow.test was not done then ($slow_then of 20)" test "$slow_then" -lt 20
check "slow.test's 421 started a back-off (logged)" \
  grep -q 'destination=slow.test result=backoff delay=5s level=1 reply="421 4.7.28' "$LOG"
check "no back-off for fast.test" bash -c "! grep -q 'destination=fast.test result=backoff' '$LOG'"
backoff_listed() { "$HK_BIN/hikyaku-util" queue list --data-dir "$DATA" 2>/dev/null | grep -c '^backoff slow.test until' || true; }
WAIT_SECONDS=10 check "queue list shows slow.test backing off" wait_for 1 backoff_listed
WAIT_SECONDS=10 check "metrics: one destination in back-off" wait_for 1 metric hikyaku_destinations_backoff
check "metrics: throttle replies counted" bash -c "[ \"\$(curl -sf http://127.0.0.1:$METRICS_PORT/metrics | awk '\$1 == \"hikyaku_throttle_replies_total\" { print \$2 }')\" -ge 1 ]"
check "slow.test's mail was postponed, not attempted, meanwhile" \
  grep -qE 'to=user[0-9]+@slow.test result=postponed attempts=' "$LOG"

WAIT_SECONDS=60 check "slow.test: all 20 delivered in the end" wait_for 20 received_count slow
check "the back-off doubled once (the probe was deferred too)" \
  grep -q 'destination=slow.test result=backoff delay=10s level=2' "$LOG"
check "a success ended the back-off" grep -q 'destination=slow.test result=backoff-ended' "$LOG"
once() {  # NAME: 20 messages stored, 20 different subjects
  local all
  all=$(cat "$T"/rx/"$1"/msg-*.env | sed -n 's/^subject //p')
  [ "$(echo "$all" | wc -l)" = 20 ] && [ "$(echo "$all" | sort -u | wc -l)" = 20 ]
}
check "slow.test: each message exactly once" once slow
check "fast.test: each message exactly once" once fast
check "slow.test saw the three 421s" bash -c "[ \$(grep -c '^throttled' $T/rx/slow/sessions.log) = 3 ]"
WAIT_SECONDS=10 check "the queue is empty" wait_for 0 queue_count
check "queue list no longer shows the back-off" wait_for 0 backoff_listed
check "metrics: no destination in back-off after the success" wait_for 0 metric hikyaku_destinations_backoff
check "nothing failed or bounced" bash -c "! grep -qE 'result=failed|dsn_needed' '$LOG'"
check "no DSN in the sender's mailbox" test "$(maildir_count example.test alice)" = 0
check "fast.test: at most 2 connections at once" test "$(cat "$T/rx/fast/peak")" -le 2
check "fast.test: the limit was reached (2 at once)" test "$(cat "$T/rx/fast/peak")" = 2
check "slow.test: at most 2 connections at once" test "$(cat "$T/rx/slow/peak")" -le 2
finish
