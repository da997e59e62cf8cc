#!/usr/bin/env bash
# How we look to a receiver: [delivery] source_ipv4 / source_ipv6, ip_version, prefer and
# helo_name, in a private network namespace with extra addresses on lo, real DNS (dnsmasq: an MX
# host with both an A and an AAAA record, one with AAAA only) and a receiver (aiosmtpd) on each
# family that records the peer address and the EHLO name of every message. Smart hosts use the
# same settings. A source address this host does not have stops the daemon at start.
source "$(dirname "$0")/../lib.sh"
enter_netns "$@"

ip -6 addr add fd00::31/128 dev lo
ip -6 addr add fd00::7/128 dev lo
# IPv6 addresses are usable once duplicate address detection is done (none on lo, but wait).
for _ in $(seq 1 50); do ip -6 addr show dev lo | grep -q tentative || break; sleep 0.1; done

start_dns \
  --mx-host=dual.test,mx.dual.test,10 --host-record=mx.dual.test,127.0.0.31,fd00::31 \
  --mx-host=v6only.test,mx.v6only.test,10 --host-record=mx.v6only.test,fd00::31

MX="$HK_SRC/tests/integration/t-31-traffic-shaping/shaping_mx.py"
start_rx() {  # NAME ADDR
  mkdir -p "$T/rx/$1"
  "$PY" "$MX" --dir "$T/rx/$1" --host "$2" --port 25 >"$T/rx/$1.port" 2>"$T/rx/$1.log" &
  for _ in $(seq 1 50); do [ -s "$T/rx/$1.port" ] && return 0; sleep 0.1; done
  echo "receiver $1 did not start"; cat "$T/rx/$1.log"; return 1
}
start_rx v4 127.0.0.31
start_rx v6 fd00::31

config() {  # [delivery] lines...
  stop_daemon
  TRUSTED='["127.0.0.0/8"]' DNS_SERVER=127.0.0.53:53 RETRY='"1s"' LIFETIME=1h write_config \
    '[delivery]' 'mta_sts = false' "$@"
}
send() {  # TO SUBJECT
  swaks --server 127.0.0.1:"$SMTP_PORT" --from alice@example.test --to "$1" \
    --header "Subject: $2" --silent 2
}
# field RX SUBJECT KEY — the KEY line ("peer", "helo") of the message with SUBJECT at RX.
field() {
  local f
  f=$(grep -lx "subject $2" "$T"/rx/"$1"/msg-*.env 2>/dev/null | head -n1)
  [ -n "$f" ] && sed -n "s/^$3 //p" "$f"
}
got() { grep -lx "subject $2" "$T"/rx/"$1"/msg-*.env 2>/dev/null | wc -l; }
setup_domains

config 'source_ipv4 = "127.0.0.7"' 'source_ipv6 = "fd00::7"' 'helo_name = "out.example.test"'
start_daemon
check "accepted: to a host with A and AAAA" send a@dual.test one
check "prefer defaults to IPv4: delivered over IPv4" wait_for 1 got v4 one
check "from source_ipv4" test "$(field v4 one peer)" = 127.0.0.7
check "EHLO with helo_name" test "$(field v4 one helo)" = out.example.test

config 'source_ipv4 = "127.0.0.7"' 'source_ipv6 = "fd00::7"' 'prefer = "ipv6"'
start_daemon
check "accepted: prefer = ipv6" send b@dual.test two
check "prefer = ipv6: delivered over IPv6" wait_for 1 got v6 two
check "from source_ipv6" test "$(field v6 two peer)" = fd00::7
check "EHLO name defaults to hostname" test "$(field v6 two helo)" = mx.test
check "nothing over IPv4 for it" test "$(got v4 two)" = 0

config 'ip_version = "ipv4"' 'prefer = "ipv6"'
start_daemon
check "accepted: ip_version = ipv4" send c@dual.test three
check "ip_version = ipv4: delivered over IPv4 although IPv6 is preferred" wait_for 1 got v4 three
check "no source configured: the kernel's address" test "$(field v4 three peer)" = 127.0.0.1
check "accepted: to a host with only AAAA" send d@v6only.test four
deferred_four() { grep -c 'to=d@v6only.test result=deferred' "$LOG" || true; }
check "ip_version = ipv4: the AAAA-only host is not used (deferred)" wait_for 1 deferred_four
check "the deferral says no address" grep -q 'to=d@v6only.test result=deferred.*no address for any MX' "$LOG"
check "nothing reached the IPv6 receiver" test "$(got v6 four)" = 0

config 'ip_version = "ipv6"' 'source_ipv6 = "fd00::7"'
start_daemon
check "ip_version = ipv6: the waiting message goes over IPv6 now" wait_for 1 got v6 four
check "accepted: ip_version = ipv6 to a dual host" send e@dual.test five
check "ip_version = ipv6: delivered over IPv6" wait_for 1 got v6 five
check "from source_ipv6" test "$(field v6 five peer)" = fd00::7

config 'source_ipv4 = "127.0.0.9"' 'helo_name = "relay-out.example.test"' \
  '[[relay]]' 'host = "127.0.0.31"' 'port = 25' 'tls = "none"' 'domains = ["relayed.test"]'
start_daemon
check "accepted: through a smart host" send f@relayed.test six
check "delivered through the smart host" wait_for 1 got v4 six
check "the smart host sees source_ipv4" test "$(field v4 six peer)" = 127.0.0.9
check "the smart host sees helo_name" test "$(field v4 six helo)" = relay-out.example.test

config 'source_ipv4 = "192.0.2.77"'
start_refused() {
  ! "$HK_BIN/hikyaku" -C "$ETC" >"$T/refused.log" 2>&1 &&
    grep -q 'cannot start: \[delivery\] source address: cannot send from 192.0.2.77: .*(not an address of this host)' "$T/refused.log"
}
check "a source address this host lacks stops the start, with a clear error" start_refused
finish
