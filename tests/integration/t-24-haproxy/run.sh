#!/usr/bin/env bash
# Two nodes behind a real HAProxy (Debian's haproxy, in the foreground with its own config) in a
# private network namespace: TCP mode, round robin, node 1 sent the PROXY protocol v1 header
# (send-proxy) and node 2 v2 (send-proxy-v2, with smtpchk health checks sent as v2 LOCAL). A client
# on 127.0.0.5 sends through HAProxy (which connects from 127.0.0.1, the nodes' only
# proxy_networks address): both nodes accept mail, on port 25 and on port 465 (header before the
# TLS handshake), and the Received headers and logs name 127.0.0.5. Then the refusals: a PROXY
# header from outside proxy_networks, and no header (or silence) from inside.
source "$(dirname "$0")/../lib.sh"
enter_netns "$@"
command -v haproxy >/dev/null || { echo "haproxy missing (deploy/install-deps.sh --test)"; exit 1; }

CLIENT=127.0.0.5
SMTP=() TLS=() NODE_LOG=() NODE_DATA=() NODE_PID=()  # per node, indexed 1 and 2
for node in 1 2; do  # (lib.sh's make_cert sets a global n)
  ETC=$T/node$node/etc DATA=$T/node$node/data LOG=$T/node$node/hikyaku.log
  write_config
  sed -i 's|^trusted_networks = .*|&\nproxy_networks = ["127.0.0.1/32"]|' "$ETC/hikyaku.toml"
  setup_domains
  start_daemon
  SMTP[node]=$SMTP_PORT
  TLS[node]=$TLS_PORT
  NODE_LOG[node]=$LOG
  NODE_DATA[node]=$DATA
  NODE_PID[node]=$DAEMON_PID
  DAEMON_PID=""  # both nodes are stopped with the other background jobs, at exit
done

# HAProxy's frontends on 127.0.0.1:2525 (SMTP) and :2465 (implicit TLS, passed through).
cat >"$T/haproxy.cfg" <<CFG
global
  maxconn 100
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend smtp
  bind 127.0.0.1:2525
  default_backend nodes_smtp
frontend smtps
  bind 127.0.0.1:2465
  default_backend nodes_smtps
backend nodes_smtp
  balance roundrobin
  option smtpchk EHLO lb.test
  server n1 127.0.0.1:${SMTP[1]} send-proxy
  server n2 127.0.0.1:${SMTP[2]} send-proxy-v2 check check-send-proxy inter 1s
backend nodes_smtps
  balance roundrobin
  server n1 127.0.0.1:${TLS[1]} send-proxy
  server n2 127.0.0.1:${TLS[2]} send-proxy-v2
CFG
haproxy -c -f "$T/haproxy.cfg" >"$T/haproxy-check.log" 2>&1 || { cat "$T/haproxy-check.log"; exit 1; }
haproxy -db -f "$T/haproxy.cfg" >"$T/haproxy.log" 2>&1 &
for _ in $(seq 1 50); do
  (exec 3<>/dev/tcp/127.0.0.1/2465) 2>/dev/null && break
  sleep 0.1
done

send() {  # send PORT SUBJECT [FROM [swaks options]] — from 127.0.0.5 through HAProxy
  local port=$1 subject=$2 from=${3:-sender@elsewhere.test}
  shift 2
  [ $# -eq 0 ] || shift
  timeout 20 swaks --server 127.0.0.1:"$port" --local-interface "$CLIENT" --from "$from" \
    --to alice@example.test --header "Subject: $subject" --silent 2 "$@"
}
count() { maildir_count_in "$1"; }
maildir_count_in() {
  local d="${NODE_DATA[$1]}/mail/example.test/alice/new"
  if [ -d "$d" ]; then find "$d" -type f | wc -l; else echo 0; fi
}

for i in 1 2 3 4; do
  check "message $i through HAProxy (port 25) accepted" send 2525 "via lb $i"
done
check "node 1 (PROXY v1) stored two" wait_for 2 count 1
check "node 2 (PROXY v2) stored two" wait_for 2 count 2
for n in 1 2; do
  mail=${NODE_DATA[$n]}/mail/example.test/alice/new
  check "node $n: Received names the client 127.0.0.5" \
    bash -c "grep -h '^Received: from' $mail/* | grep -c '(\[127.0.0.5\])' | grep -qx 2"
  check "node $n: no Received names HAProxy's 127.0.0.1" \
    bash -c "! grep -h -A1 '^Received: from' $mail/* | grep -q '127.0.0.1'"
  check "node $n: the accepting log lines name 127.0.0.5" \
    bash -c "grep -c 'id=.* from=<sender@elsewhere.test> client=127.0.0.5 port=smtp .*result=delivered' \
             '${NODE_LOG[$n]}' | grep -qx 2"
  check "node $n: the SPF check was made for 127.0.0.5" \
    bash -c "grep -c 'session client=127.0.0.5 from=<sender@elsewhere.test> spf=' '${NODE_LOG[$n]}' | grep -qx 2"
  check "node $n: no log line names 127.0.0.1 for mail" \
    bash -c "! grep 'from=<sender@elsewhere.test>' '${NODE_LOG[$n]}' | grep -q 'client=127.0.0.1'"
done
check "node 1 read v1 headers" grep -q "proxy client=127.0.0.5 peer=127.0.0.1 version=1" "${NODE_LOG[1]}"
check "node 2 read v2 headers" grep -q "proxy client=127.0.0.5 peer=127.0.0.1 version=2" "${NODE_LOG[2]}"
check "node 2: HAProxy's health checks came as v2 LOCAL" \
  grep -q "proxy client=127.0.0.1 peer=127.0.0.1 version=2 command=local" "${NODE_LOG[2]}"

# Port 465: the header comes before the TLS handshake; AUTH as alice (submission).
auth=(--tls-on-connect --auth PLAIN --auth-user alice@example.test --auth-password secret)
check "implicit TLS through HAProxy, v1 node" send 2465 "tls 1" alice@example.test "${auth[@]}"
check "implicit TLS through HAProxy, v2 node" send 2465 "tls 2" alice@example.test "${auth[@]}"
check "node 1 stored the TLS one" wait_for 3 count 1
check "node 2 stored the TLS one" wait_for 3 count 2
for n in 1 2; do
  check "node $n: AUTH logged for client 127.0.0.5" \
    bash -c "grep -q 'client=127.0.0.5 port=submission_tls .* auth=alice@example.test tls=yes' '${NODE_LOG[$n]}'"
done

# Refusals, straight to node 1 without HAProxy. probe SRC PAYLOAD-PY WAIT: connects from SRC,
# sends the bytes, prints everything the node says until it closes (bounded by WAIT seconds).
probe() {
  "$PY" - "$1" "${SMTP[1]}" "$2" "$3" <<'PY'
import socket, sys, time
src, port, payload, wait = sys.argv[1], int(sys.argv[2]), eval(sys.argv[3]), float(sys.argv[4])
s = socket.socket()
s.bind((src, 0))
s.connect(("127.0.0.1", port))
s.settimeout(wait)
if payload:
    s.sendall(payload)
out, start = b"", time.monotonic()
try:
    while time.monotonic() - start < wait:
        b = s.recv(4096)
        if not b:
            print(out.decode(errors="replace") + "<closed>")
            sys.exit(0)
        out += b
except socket.timeout:
    pass
print(out.decode(errors="replace") + "<open>")
PY
}
out=$(probe $CLIENT 'b"PROXY TCP4 192.0.2.9 127.0.0.1 40000 25\r\n"' 5)
check "v1 header from outside proxy_networks: 421 and closed" \
  bash -c "grep -q '^421 4.7.0 PROXY protocol header not accepted' <<<'$out' && grep -q '<closed>' <<<'$out'"
out=$(probe $CLIENT 'b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c\xc0\x00\x02\x09\x7f\x00\x00\x01\x9c\x40\x00\x19"' 5)
check "v2 header from outside proxy_networks: 421 and closed" \
  bash -c "grep -q '^421 4.7.0 PROXY protocol header not accepted' <<<'$out' && grep -q '<closed>' <<<'$out'"
check "the refusals were logged with the sender's address" \
  bash -c "grep 'proxy client=127.0.0.5 result=refused' '${NODE_LOG[1]}' | wc -l | grep -qx 2"
out=$(probe 127.0.0.1 'b"EHLO direct.test\r\n"' 5)
check "no header from inside proxy_networks: 421 and closed, no greeting" \
  bash -c "grep -q '^421 4.7.0 mx.test PROXY protocol header required' <<<'$out' &&
           ! grep -q '^220' <<<'$out' && grep -q '<closed>' <<<'$out'"
start=$(date +%s)
out=$(probe 127.0.0.1 'b""' 20)
took=$(($(date +%s) - start))
check "silence from inside proxy_networks: closed after the 10 s header timeout" \
  bash -c "grep -q '^421 4.7.0 mx.test PROXY protocol header required' <<<'$out' &&
           grep -q '<closed>' <<<'$out' && [ $took -ge 9 ] && [ $took -le 15 ]"
check "the missing headers were logged" \
  bash -c "grep -c 'proxy peer=127.0.0.1 port=smtp result=refused' '${NODE_LOG[1]}' | grep -qx 2"
metric_port=$(sed -n 's/.*listening metrics=127.0.0.1:\([0-9]*\).*/\1/p' "${NODE_LOG[1]}" | tail -n1)
# The four refusals above; HAProxy may add one more now and then: a connection it opened to
# node 1 for a client that had already gone, closed before any header (a refusal too).
proxy_refusals() {
  local n
  n=$(curl -sf "http://127.0.0.1:$metric_port/metrics" |
    sed -n 's/^hikyaku_rejected_total{reason="proxy-header"} //p')
  [ "${n:-0}" -ge 4 ] && [ "${n:-0}" -le 5 ] && echo "4 or 5" || echo "$n"
}
check "node 1 counted the four refusals" wait_for "4 or 5" proxy_refusals
check "a plain client outside proxy_networks is served as before" \
  timeout 20 swaks --server 127.0.0.1:"${SMTP[1]}" --local-interface "$CLIENT" \
  --from sender@elsewhere.test --to alice@example.test --silent 2
# A balancer inside trusted_networks is allowed, but named in the log (start and reload).
overlap_warnings() { grep -c 'config key=proxy_networks network=127.0.0.1/32 trusted_network=127.0.0.0/8 result=warning' "${NODE_LOG[2]}" || true; }
check "no overlap warning while trusted_networks is empty" wait_for 0 overlap_warnings
sed -i 's|^trusted_networks = .*|trusted_networks = ["127.0.0.0/8"]|' "$T/node2/etc/hikyaku.toml"
kill -HUP "${NODE_PID[2]}"
check "proxy_networks inside trusted_networks is warned about at reload" wait_for 1 overlap_warnings
finish
