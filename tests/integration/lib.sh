#!/usr/bin/env bash
# Shared helpers for integration tests: a private config dir, the real daemon on loopback ports
# chosen by the kernel (port 0, read back from the log), and cleanup that kills what we started.
# Sourced by tests/integration/t-*/run.sh. Needs HK_BIN (folder with hikyaku and hikyaku-util).
set -euo pipefail

HK_BIN=${HK_BIN:?HK_BIN must point at the build folder with hikyaku and hikyaku-util}
HK_SRC=${HK_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PY=/usr/bin/python3  # Debian's python, where python3-aiosmtpd and python3-dkim live
T=$(mktemp -d /tmp/hk-it.XXXXXX)
ETC=$T/etc
DATA=$T/data
LOG=$T/hikyaku.log
DAEMON_PID=""
FAILS=0
PASSES=0

cleanup() {
  local rc=$?
  stop_daemon
  jobs -p | xargs -r kill 2>/dev/null || true
  if [ "$rc" -ne 0 ] || [ "$FAILS" -ne 0 ]; then
    echo "--- daemon log ($LOG) ---"
    tail -n 60 "$LOG" 2>/dev/null || true
  fi
  [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

pass() { PASSES=$((PASSES + 1)); echo "ok   - $*"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL - $*"; }
# check "description" command...: passes when the command exits 0.
check() {
  local what=$1
  shift
  if "$@" >"$T/check.out" 2>&1; then pass "$what"; else fail "$what"; sed 's/^/     /' "$T/check.out" | tail -n 20; fi
}
finish() {
  echo "$PASSES passed, $FAILS failed"
  [ "$FAILS" -eq 0 ]
}

# write_config [extra toml lines...] — a config listening on 127.0.0.1 port 0 for all three ports.
write_config() {
  mkdir -p "$ETC/certs/mx.test" "$ETC/domains" "$DATA"
  if [ ! -f "$ETC/certs/mx.test/fullchain.pem" ]; then
    make_cert "$ETC/certs/mx.test" mx.test
  fi
  local retry=${RETRY:-'"5m"'}
  cat >"$ETC/hikyaku.toml" <<TOML
hostname = "mx.test"
data_dir = "$DATA"
trusted_networks = ${TRUSTED:-[]}
log_level = "debug"
[listen]
smtp = ["127.0.0.1:0"]
submission = ["127.0.0.1:0"]
submission_tls = ["127.0.0.1:0"]
metrics = ["127.0.0.1:0"]
[limits]
max_message_size = "${MAX_SIZE:-1MiB}"
max_recipients = ${MAX_RCPTS:-5}
command_timeout = "${CMD_TIMEOUT:-30s}"
data_timeout = "${DATA_TIMEOUT:-30s}"
[dns]
# Never the system resolver: a loopback server of the test's own, or a port where nothing
# answers, so that lookups fail at once and remote mail stays queued.
servers = ["${DNS_SERVER:-127.0.0.1:9}"]
timeout = "2s"
attempts = 2
[queue]
retry = [$retry]
lifetime = "${LIFETIME:-5d}"
${DELAY_WARNING:+delay_warning = \"$DELAY_WARNING\"}
TOML
  for line in "$@"; do echo "$line" >>"$ETC/hikyaku.toml"; done
}

# make_cert DIR NAME [NAME...] — self-signed EC certificate made with the openssl CLI.
make_cert() {
  local dir=$1 cn=$2
  shift
  local san=""
  for n in "$@"; do san="${san:+$san,}DNS:$n"; done
  mkdir -p "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=$cn" -addext "subjectAltName=$san" \
    -keyout "$dir/privkey.pem" -out "$dir/fullchain.pem" 2>/dev/null
  chmod 600 "$dir/privkey.pem"
}

# make_test_ca — a private CA in $CA (ca.pem, ca.key), trusted by hikyaku and hikyaku-util
# through SSL_CERT_FILE (OpenSSL's default verify paths honour it), as a site's own CA would be.
make_test_ca() {
  CA=$T/ca
  mkdir -p "$CA"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=hk test CA" -keyout "$CA/ca.key" -out "$CA/ca.pem" 2>/dev/null
  export SSL_CERT_FILE=$CA/ca.pem
}

# signed_cert NAME SAN... — $CA/NAME.pem and $CA/NAME.key, signed by make_test_ca's CA.
signed_cert() {
  local name=$1 san=""
  shift
  for n in "$@"; do san="${san:+$san,}DNS:$n"; done
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
    -keyout "$CA/$name.key" -out "$CA/$name.csr" 2>/dev/null
  printf 'subjectAltName=%s\n' "$san" >"$CA/$name.ext"
  openssl x509 -req -in "$CA/$name.csr" -CA "$CA/ca.pem" -CAkey "$CA/ca.key" -CAcreateserial \
    -days 30 -extfile "$CA/$name.ext" -out "$CA/$name.pem" 2>/dev/null
}

add_user() {  # add_user user@domain password
  printf '%s' "$2" | "$HK_BIN/hikyaku-util" -C "$ETC" user-add "$1" --password-stdin >/dev/null
}

start_daemon() {
  : >"$LOG"
  setsid "$HK_BIN/hikyaku" -C "$ETC" >>"$LOG" 2>&1 &
  DAEMON_PID=$!
  local i
  for i in $(seq 1 100); do
    if grep -q "listening submission_tls=" "$LOG" 2>/dev/null; then
      SMTP_PORT=$(sed -n 's/.*listening smtp=127.0.0.1:\([0-9]*\).*/\1/p' "$LOG" | tail -n1)
      SUB_PORT=$(sed -n 's/.*listening submission=127.0.0.1:\([0-9]*\).*/\1/p' "$LOG" | tail -n1)
      TLS_PORT=$(sed -n 's/.*listening submission_tls=127.0.0.1:\([0-9]*\).*/\1/p' "$LOG" | tail -n1)
      METRICS_PORT=$(sed -n 's/.*listening metrics=127.0.0.1:\([0-9]*\).*/\1/p' "$LOG" | tail -n1)
      return 0
    fi
    if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
      echo "daemon exited during start:"; cat "$LOG"; return 1
    fi
    sleep 0.1
  done
  echo "daemon did not start in 10 s:"; cat "$LOG"; return 1
}

stop_daemon() {  # stop_daemon [SIGNAL]
  if [ -n "$DAEMON_PID" ]; then
    kill "-${1:-TERM}" "$DAEMON_PID" 2>/dev/null || true
    local i
    for i in $(seq 1 50); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$DAEMON_PID" 2>/dev/null || true
    wait "$DAEMON_PID" 2>/dev/null || true
    DAEMON_PID=""
  fi
}

# dialog FILE [PORT] — runs an SMTP dialog script against the daemon (see dialog.py).
dialog() {
  "$PY" "$HK_SRC/tests/integration/dialog.py" --port "${2:-$SMTP_PORT}" --cafile "$ETC/certs/mx.test/fullchain.pem" "$1"
}

# maildir_count DOMAIN USER — messages delivered to a local mailbox.
maildir_count() {
  local d="$DATA/mail/$1/$2/new"
  if [ -d "$d" ]; then find "$d" -type f | wc -l; else echo 0; fi
}

# wait_for COUNT CMD... — retries CMD (which prints a number) until it prints COUNT, WAIT_SECONDS
# (default 20) at most: generous, since CI runs tests side by side on a busy machine.
wait_for() {
  local want=$1 i got=""
  shift
  for i in $(seq 1 $((${WAIT_SECONDS:-20} * 10))); do
    got=$("$@")
    [ "$got" = "$want" ] && return 0
    sleep 0.1
  done
  echo "waited for $want, got $got"
  return 1
}

queue_count() { find "$DATA/queue" -maxdepth 1 -name '*.msg' | wc -l; }
# scrape — the daemon's metrics page; metric SERIES — the value of one series with its labels
# exactly as the page writes them (e.g. 'hikyaku_delivered_total{via="mx"}'), empty when absent.
scrape() { curl -sf "http://127.0.0.1:$METRICS_PORT/metrics"; }
metric() { scrape | awk -v s="$1" '$1 == s { print $2 }'; }

# The test domains: example.test with users alice (secret) and bob (hunter2) and a few aliases;
# catchall.test with only a catch-all to alice.
setup_domains() {
  mkdir -p "$ETC/domains/example.test" "$ETC/domains/catchall.test"
  add_user alice@example.test secret
  add_user bob@example.test hunter2
  cat >"$ETC/domains/example.test/aliases" <<'ALIASES'
# test aliases
sales: alice
team: alice, bob
fwd: someone@remote.test
postmaster: alice
ALIASES
  echo '*: alice@example.test' >"$ETC/domains/catchall.test/aliases"
}

# --- Remote delivery tests: a private network namespace with a DNS server and receivers. ---

# enter_netns — re-runs the calling test inside its own network and mount namespace (root only):
# a fresh loopback where receivers can bind port 25 on 127.0.0.x and nothing can leave, and a
# resolv.conf pointing nowhere so that nothing reaches the system resolver by mistake.
enter_netns() {
  if [ -z "${HK_IN_NETNS:-}" ]; then
    rm -rf "$T"
    trap - EXIT
    exec unshare --net --mount env HK_IN_NETNS=1 bash "$0" "$@"
  fi
  ip link set lo up
  echo "nameserver 127.0.0.1" >"$T/resolv.conf"
  mount --bind "$T/resolv.conf" /etc/resolv.conf
}

# start_dns ARGS... — dnsmasq answering for *.test from its command line, on 127.0.0.53:53.
start_dns() {
  dnsmasq --keep-in-foreground --conf-file=/dev/null --pid-file="$T/dnsmasq.pid" --no-resolv \
    --no-hosts --port=53 \
    --listen-address=127.0.0.53 --bind-interfaces --local=/test/ --log-facility=- "$@" \
    >"$T/dnsmasq.log" 2>&1 &
  for _ in $(seq 1 50); do
    (exec 3<>/dev/udp/127.0.0.53/53) 2>/dev/null && grep -q "started" "$T/dnsmasq.log" && return 0
    sleep 0.1
  done
  echo "dnsmasq did not start:"; cat "$T/dnsmasq.log"; return 1
}

# start_receiver NAME ADDR PORT [fake_mx.py options] — a real SMTP server (aiosmtpd) storing
# what it accepts in $T/rx/NAME/ as msg-N.eml + msg-N.env.
# Sets CONSOLE_PORT to the port the daemon's console reports on 127.0.0.1 (configured as
# "127.0.0.1:0": the kernel picks it), waiting up to 5 s for the line; empty if it never comes.
wait_console_port() {
  CONSOLE_PORT=""
  for _ in $(seq 1 50); do
    CONSOLE_PORT=$(sed -n 's/.*listening console=127.0.0.1:\([0-9]*\).*/\1/p' "$LOG" | tail -n1)
    [ -n "$CONSOLE_PORT" ] && return 0
    sleep 0.1
  done
  return 1
}

start_receiver() {
  local name=$1 addr=$2 port=$3
  shift 3
  mkdir -p "$T/rx/$name"
  "$PY" "$HK_SRC/tests/unit/delivery/fake_mx.py" --dir "$T/rx/$name" --host "$addr" \
    --port "$port" --lifetime "${RX_LIFETIME:-120}" "$@" >"$T/rx/$name.port" 2>"$T/rx/$name.log" &
  for _ in $(seq 1 50); do
    [ -s "$T/rx/$name.port" ] && return 0
    sleep 0.1
  done
  echo "receiver $name did not start:"; cat "$T/rx/$name.log"; return 1
}

# send_to TO SUBJECT — one message from alice@example.test through the daemon's port 25.
send_to() {
  swaks --server 127.0.0.1:"$SMTP_PORT" --from alice@example.test --to "$1" --header "Subject: $2" \
    --silent 2
}
# wait_deferred ADDRESS PATTERN — waits (20 s at most) until the log shows ADDRESS deferred with
# PATTERN in the reply.
wait_deferred() {
  for _ in $(seq 1 100); do
    grep -q -- "to=$1 result=deferred.*$2" "$LOG" && return 0
    sleep 0.2
  done
  grep -- "to=$1" "$LOG" | tail -n 3
  return 1
}

# signed_by_sender KEY OUT SUBJECT MESSAGE-ID — writes to OUT a message from bob@sender.test to
# anyone@forward.test, DKIM-signed by dkimpy (d=sender.test, s=sel, relaxed/relaxed) with KEY;
# its body has the spaces, tab and leading dot that a careless relay would change.
signed_by_sender() {
  "$PY" - "$@" <<'PY'
import sys, dkim
key_file, out, subject, msgid = sys.argv[1:]
msg = (b"From: Bob <bob@sender.test>\r\nTo: Someone <anyone@forward.test>\r\n"
       b"Subject: " + subject.encode() + b"\r\nDate: Mon, 07 Dec 2026 00:30:00 +0000\r\n"
       b"Message-ID: <" + msgid.encode() + b">\r\n\r\n"
       b"Hello,\r\n\r\nthis line has  two spaces and a tab\there.\r\n.leading dot\r\n")
sig = dkim.sign(msg, b"sel", b"sender.test", open(key_file, "rb").read(),
                include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
open(out, "wb").write(sig + msg)
PY
}

received_count() { find "$T/rx/$1" -name '*.env' 2>/dev/null | wc -l; }

# The stop of everything started in the background (dnsmasq, receivers) comes with the
# namespace: its processes are killed by the cleanup below.
kill_background() { jobs -p | xargs -r kill 2>/dev/null || true; }
