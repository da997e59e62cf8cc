#!/usr/bin/env bash
# Benchmarks hikyaku against chasquid and Postfix on this machine, in one run, on loopback only:
# throughput and latency (1 KiB and 100 KiB messages x 1, 10 and 50 sessions), server CPU per
# message, and memory per idle connection; then end-to-end delivery through each server to an SMTP
# sink on 127.0.0.30 (and, for hikyaku, draining a queue filled while the sink was down). Each
# server runs from its own config dir under a temp dir; the system instances are never touched.
# See docs/benchmarks.md for what the figures mean.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: tests/bench/run.sh [--quick] [--runs N] [--servers "hikyaku chasquid postfix"]
                          [--build-dir DIR] [--no-build] [--idle N] [--out FILE] [--keep]
                          [--no-netns] [--max-time S] [--delivery | --no-delivery] [--drain N]
                          [--signing] [--baseline DIR] [--load] [--load-conns N]
                          [--submission] [--capture] [--capture-fill N]
  --quick       a tenth of the messages and idle connections, 1 run unless --runs is given
  --runs N      run every throughput case N times and report the median (default 3)
  --servers     which servers to run (default: all three; a server that fails to start is skipped)
  --build-dir   CMake build dir holding daemon/hikyaku (default: build); configured if missing
  --no-build    use the binaries already in the build dir
  --idle N      idle connections for the memory test (default 1000; 0 skips the test)
  --out FILE    also write every run's raw CSV rows to FILE
  --keep        keep the temp dir (configs, logs, queues) and print where it is
  --no-netns    do not enter a private network namespace (see docs/benchmarks.md)
  --max-time S  stop everything after S seconds (default 3600)
  --delivery    run only the delivery benchmark (no acceptance matrix, no idle test)
  --no-delivery skip the delivery benchmark (and the drain)
  --drain N     hikyaku's queue drain with N queued messages (default 20000, --quick 2000;
                0 skips it)
  --signing     run only the DKIM signing benchmark: hikyaku unsigned, with an RSA-2048 and with
                an Ed25519 key, Postfix without and with the OpenDKIM milter (RSA-2048); 10
                sessions, 1 KiB and 100 KiB; with `openssl speed` and hk-dkim-bench beside them
  --load        run only the load benchmark: every server with its own default connection
                limits takes 50 concurrent sessions from 127.0.0.1 (a trusted app; none may be
                refused), then, configured for many connections, holds N/2 silent connections
                while N/2 sessions send 2 messages each (CPU, peak memory, refusals)
  --load-conns N  connections of the load benchmark's second part (default 5000, --quick 1000)
  --submission  run only the submission benchmark (issue 11): one 1 KiB message per connection
                with STARTTLS + AUTH PLAIN on 587 and implicit TLS + AUTH on 465, 10 and 50
                sessions, against hikyaku (AUTH cache on and off), chasquid (scrypt) and Postfix
                asking Dovecot's auth server (passwd-file; scheme from $HK_BENCH_DOVECOT_SCHEME,
                default doveadm's CRYPT); hikyaku's STARTTLS on 587 without AUTH; then STARTTLS on
                port 25 with many messages per connection, against every server
  --baseline DIR  also run hikyaku from another build dir (e.g. a build of an older commit) as
                the server "hikyaku-base", interleaved with this tree's hikyaku in every phase,
                so that a change is measured old against new in one run
  --capture     run only the capture benchmark (issue 12): hikyaku in capture mode against
                hikyaku's and the peers' normal local delivery, 10 sessions, 1 KiB and 100 KiB;
                then the console's list, search and message latency (and the restart's index
                rebuild) with --capture-fill captured messages (default 100000, --quick 10000)
Queues and configs live in a temp dir under $TMPDIR (default /tmp), which must be disk-backed.
EOF
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SELF="$ROOT/tests/bench/run.sh"
ORIG_ARGS=("$@")
QUICK=0
RUNS=""
SERVERS="hikyaku chasquid postfix"
BUILD_DIR="$ROOT/build"
DO_BUILD=1
IDLE=""
OUT=""
KEEP=0
NETNS=1
MAX_TIME=3600
ACCEPTANCE=1
DELIVERY=1
SIGNING=0
LOAD=0
SUBMISSION=0
CAPTURE=0
CAPTURE_FILL=""
LOAD_CONNS=""
DRAIN=""
BASELINE=""
BENCH="" # set below, or to a directly compiled hk-bench when the tree does not configure
while (($#)); do
  case "$1" in
    --quick) QUICK=1 ;;
    --runs) RUNS=$2; shift ;;
    --servers) SERVERS=$2; shift ;;
    --build-dir) BUILD_DIR=$(cd "$2" 2>/dev/null && pwd || echo "$2"); shift ;;
    --no-build) DO_BUILD=0 ;;
    --idle) IDLE=$2; shift ;;
    --out) OUT=$(realpath -m "$2"); shift ;;
    --keep) KEEP=1 ;;
    --no-netns) NETNS=0 ;;
    --max-time) MAX_TIME=$2; shift ;;
    --delivery) ACCEPTANCE=0 DELIVERY=1 ;;
    --no-delivery) DELIVERY=0 ;;
    --signing) ACCEPTANCE=0 DELIVERY=0 SIGNING=1 ;;
    --load) ACCEPTANCE=0 DELIVERY=0 LOAD=1 ;;
    --submission) ACCEPTANCE=0 DELIVERY=0 SUBMISSION=1 ;;
    --capture) ACCEPTANCE=0 DELIVERY=0 CAPTURE=1 ;;
    --capture-fill) CAPTURE_FILL=$2; shift ;;
    --load-conns) LOAD_CONNS=$2; shift ;;
    --drain) DRAIN=$2; shift ;;
    --baseline) BASELINE=$(cd "$2" 2>/dev/null && pwd || echo "$2"); shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
[[ $BUILD_DIR = /* ]] || BUILD_DIR="$ROOT/$BUILD_DIR"

# A private network namespace holds only a loopback interface: no packet of the benchmark (nor a
# DNS query that a server makes on its own, such as chasquid's SPF check) can leave the machine.
# A private mount namespace lets it see its own resolv.conf, pointing at a closed loopback port,
# so those lookups fail at once instead of waiting for a resolver.
if ((NETNS)) && [[ -z ${HK_BENCH_IN_NETNS:-} ]]; then
  if [[ $(id -u) -eq 0 ]] && unshare --net --mount true 2>/dev/null; then
    export HK_BENCH_IN_NETNS=1
    exec unshare --net --mount -- bash "$SELF" "${ORIG_ARGS[@]}"
  fi
  echo "run.sh: cannot create a network namespace (needs root); running in this one" >&2
  NETNS=0
fi
if [[ -n ${HK_BENCH_IN_NETNS:-} ]]; then
  ip link set lo up
  RESOLV=$(mktemp /tmp/hk-bench-resolv.XXXXXX)
  echo "nameserver 127.0.0.1" >"$RESOLV"
  mount --bind "$RESOLV" /etc/resolv.conf
fi

if ((QUICK)); then
  : "${RUNS:=1}" "${IDLE:=100}"
  : "${DRAIN:=2000}" "${LOAD_CONNS:=1000}" "${CAPTURE_FILL:=10000}"
  MSGS_SMALL=500 MSGS_LARGE=100 MSGS_DELIVERY=1000 MSGS_SUBMISSION=100
else
  : "${RUNS:=3}" "${IDLE:=1000}" "${DRAIN:=20000}" "${LOAD_CONNS:=5000}" "${CAPTURE_FILL:=100000}"
  MSGS_SMALL=5000 MSGS_LARGE=1000 MSGS_DELIVERY=10000 MSGS_SUBMISSION=300
fi
((DELIVERY)) || DRAIN=0
# The delivery benchmark's receiving server: hk-bench's own counting sink (tests/bench/sink.cpp).
# Any 127/8 address is loopback; a distinct one keeps it apart from the servers' listeners.
SINK_HOST=127.0.0.30
SINK_PORT=2600
DELIVERY_SESSIONS=10
PHASE=accept # which configuration start_<server> writes: accept, delivery, drain, signing,
             # defaults (each server's own connection limits) or load (many connections)
SIZES=(1024 102400)
SESSIONS=(1 10 50)
STEP_TIMEOUT=900 # no single hk-bench run may take longer than this

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hk-bench.XXXXXX")
chmod 755 "$WORK" # Postfix's unprivileged processes must traverse it
RAW="$WORK/results.csv"
declare -A PIDS=()        # server -> root pid of its process tree
declare -A PORTS=()       # server -> SMTP port
declare -A SUB_PORTS=()   # server -> submission port (STARTTLS), in the submission phase
declare -A SUBTLS_PORTS=() # server -> submission port with implicit TLS (RFC 8314)
declare -A CONSOLE_PORTS=() # server -> console port (capture phase)
declare -A STOPS=()       # server -> command that stops it
declare -A RCPTS=()       # server -> recipient of the delivery benchmark
declare -A MILTER_PIDS=() # Postfix variant -> its OpenDKIM milter
declare -A MILTER_SOCKETS=()
DNSMASQ=""                # the DNS server chasquid's delivery needs
SUB_PASSWORD=bench-sink-password # sink@bench.test's password on every server
WATCHDOG=""
CHILD=""                  # the hk-bench run in progress

log() { printf '%s run.sh: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Stops a process this script started, and what it runs (the children of a timeout(1) wrapper).
stop_pid() {
  local pid=$1 kids i
  kids=$(pgrep -P "$pid" || true)
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  # shellcheck disable=SC2086 # one word per pid
  kill -KILL $kids "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -n $CHILD ]] && stop_pid "$CHILD"
  [[ -n $DNSMASQ ]] && stop_pid "$DNSMASQ"
  for s in "${!STOPS[@]}"; do
    eval "${STOPS[$s]}" >/dev/null 2>&1 || true
  done
  if [[ -n $WATCHDOG ]]; then
    kill "$WATCHDOG" 2>/dev/null || true
  fi
  if [[ -n ${RESOLV:-} ]]; then
    umount /etc/resolv.conf 2>/dev/null || true
    rm -f "$RESOLV"
  fi
  if ((KEEP)); then
    log "kept $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# The whole run is bounded: past --max-time the script is told to stop, and its trap cleans up.
(
  trap 'kill $sleeper 2>/dev/null; exit 0' TERM
  sleep "$MAX_TIME" &
  sleeper=$!
  wait $sleeper && log "--max-time $MAX_TIME s reached" && kill -TERM $$
) &
WATCHDOG=$!

if [[ $(stat -f -c %T "$WORK") == tmpfs ]]; then
  log "WARNING: $WORK is on tmpfs, where fsync costs nothing; set TMPDIR to a disk-backed dir"
fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# ---- Build ------------------------------------------------------------------------------------

# Programs land in $BUILD_DIR/bin (CMAKE_RUNTIME_OUTPUT_DIRECTORY); older trees kept them beside
# their sources.
find_program_in_build() { # name, subdir
  if [[ -x $BUILD_DIR/bin/$1 || ! -x $BUILD_DIR/$2/$1 ]]; then
    echo "$BUILD_DIR/bin/$1"
  else
    echo "$BUILD_DIR/$2/$1"
  fi
}
if ((DO_BUILD)); then
  if [[ ! -f $BUILD_DIR/CMakeCache.txt ]]; then
    log "configuring $BUILD_DIR"
    timeout 600 cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$WORK/cmake.log" 2>&1 ||
      log "cmake failed (see $WORK/cmake.log)"
  fi
  log "building hk-bench (-j1: the machine is shared)"
  if ! timeout 1200 cmake --build "$BUILD_DIR" --target hk-bench -j1 >"$WORK/build.log" 2>&1; then
    # The tree may be mid-edit; hk-bench needs nothing of it but Asio, so build it alone.
    log "cmake build of hk-bench failed; compiling it directly"
    BENCH="$WORK/hk-bench"
    timeout 600 c++ -std=c++20 -O2 -o "$BENCH" "$ROOT/tests/bench/hk_bench.cpp" \
      "$ROOT/tests/bench/proc_tree.cpp" "$ROOT/tests/bench/sink.cpp" -pthread -lssl -lcrypto
  fi
  if [[ " $SERVERS " == *" hikyaku "* ]]; then
    log "building hikyaku and hikyaku-util"
    timeout 1800 cmake --build "$BUILD_DIR" --target hikyaku hikyaku-util -j1 >>"$WORK/build.log" 2>&1 ||
      log "hikyaku failed to build (see build log); it will be skipped"
  fi
fi
UTIL=$(find_program_in_build hikyaku-util util)
BENCH=${BENCH:-$(find_program_in_build hk-bench tests/bench)}
HIKYAKU=$(find_program_in_build hikyaku daemon)
if [[ -n $BASELINE ]]; then
  BASE_HIKYAKU=$BASELINE/bin/hikyaku
  BASE_UTIL=$BASELINE/bin/hikyaku-util
  [[ -x $BASE_HIKYAKU && -x $BASE_UTIL ]] || { log "no hikyaku in $BASELINE/bin"; exit 1; }
  [[ " $SERVERS " == *" hikyaku-base "* ]] || SERVERS="$SERVERS hikyaku-base"
fi
[[ -x $BENCH ]] || { log "no hk-bench at $BENCH"; exit 1; }
if grep -Eq '^(CMAKE_BUILD_TYPE:STRING=Debug|HK_SANITIZE:STRING=.+)$' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null; then
  log "WARNING: $BUILD_DIR is a Debug or sanitizer build: hikyaku's figures will be low"
fi

# ---- Helpers ----------------------------------------------------------------------------------

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (at most 15 s) until something accepts connections on 127.0.0.1:$1.
wait_port() {
  local i
  for ((i = 0; i < 150; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

self_signed() { # dir host
  mkdir -p "$1"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 \
    -subj "/CN=$2" -addext "subjectAltName=DNS:$2" \
    -keyout "$1/privkey.pem" -out "$1/fullchain.pem" >/dev/null 2>&1
}

# ---- Servers ----------------------------------------------------------------------------------

start_chasquid() {
  local d="$WORK/$PHASE/chasquid" port flags=()
  command -v chasquid >/dev/null || { log "chasquid is not installed"; return 1; }
  port=$(free_port)
  mkdir -p "$d/domains/bench.test" "$d/data"
  if [[ $PHASE == delivery || $PHASE == drain ]]; then
    # chasquid has no smart host: it delivers to the MX of the recipient's domain. So sink.test
    # gets an MX (itself) and an A record (the sink) from a dnsmasq of our own on 127.0.0.1:53,
    # where the namespace's resolv.conf points, and chasquid's testing flag sets the port it
    # connects to. It relays only for authenticated users (which needs TLS), so the bench
    # addresses a local alias that forwards to sink@sink.test.
    start_dnsmasq || return 1
    echo "sink: sink@sink.test" >"$d/domains/bench.test/aliases"
    flags=(-testing__outgoing_smtp_port="$SINK_PORT")
    RCPTS[chasquid]=sink@bench.test
  fi
  self_signed "$d/certs/chasquid.bench.test" chasquid.bench.test
  # Delivery: the MDA is /bin/true, run once per message as chasquid runs maildrop or procmail.
  # No hooks/ dir, so no post-data hook runs. Queue writes are chasquid's own, unchanged.
  SUB_PORTS[chasquid]=$(free_port)
  SUBTLS_PORTS[chasquid]=$(free_port)
  cat >"$d/chasquid.conf" <<EOF
hostname: "chasquid.bench.test"
smtp_address: "127.0.0.1:$port"
submission_address: "127.0.0.1:${SUB_PORTS[chasquid]}"
submission_over_tls_address: "127.0.0.1:${SUBTLS_PORTS[chasquid]}"
data_dir: "$d/data"
mail_delivery_agent_bin: "/bin/true"
mail_log_path: "$d/mail.log"
EOF
  if [[ $PHASE != delivery && $PHASE != drain ]]; then
    timeout 30 chasquid-util -C="$d" user-add sink@bench.test --password=bench-sink-password \
      >"$d/util.log" 2>&1 || { log "chasquid-util user-add failed"; return 1; }
  fi
  timeout "$MAX_TIME" chasquid -config_dir "$d" -logfile "$d/chasquid.log" "${flags[@]}" \
    >"$d/stderr.log" 2>&1 &
  PIDS[chasquid]=$!
  PORTS[chasquid]=$port
  STOPS[chasquid]="stop_pid ${PIDS[chasquid]}"
  wait_port "$port"
}

# Only inside the network namespace: it answers for sink.test and refuses everything else (no
# upstream servers), as the closed port 53 did before.
start_dnsmasq() {
  [[ -n $DNSMASQ ]] && return 0
  if [[ -z ${HK_BENCH_IN_NETNS:-} ]] || ! command -v dnsmasq >/dev/null; then
    log "chasquid needs a DNS server for sink.test: only inside the network namespace, with dnsmasq"
    return 1
  fi
  timeout "$MAX_TIME" dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-poll \
    --listen-address=127.0.0.1 --bind-interfaces --port=53 --pid-file="$WORK/dnsmasq.pid" \
    --host-record=sink.test,$SINK_HOST --mx-host=sink.test,sink.test,10 \
    --log-facility="$WORK/dnsmasq.log" >"$WORK/dnsmasq.out" 2>&1 &
  DNSMASQ=$!
  sleep 0.5
  kill -0 "$DNSMASQ" 2>/dev/null || { log "dnsmasq failed: $(cat "$WORK/dnsmasq.out")"; return 1; }
}

start_postfix() { # [name [none|rsa2048]]: rsa2048 signs with the OpenDKIM milter
  local name=${1:-postfix} dkim=${2:-none}
  local d="$WORK/$PHASE/$name" port
  command -v postfix >/dev/null || { log "postfix is not installed"; return 1; }
  port=$(free_port)
  mkdir -p "$d/conf" "$d/queue" "$d/data"
  chown postfix "$d/data"
  # Delivery: everything for bench.test goes to discard(8), which records it as delivered without
  # reading it. Postfix still writes and fsyncs each queue file (cleanup) and runs qmgr, as usual.
  # Every limit not named here keeps its default.
  cat >"$d/conf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $d/queue
data_directory = $d/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = postfix.bench.test
mydomain = bench.test
myorigin = \$mydomain
mydestination = bench.test
mynetworks = 127.0.0.0/8
local_recipient_maps =
local_transport = discard:bench sink
alias_maps =
alias_database =
biff = no
maillog_file = $d/maillog
maillog_file_prefixes = $d
EOF
  if [[ $PHASE == load ]]; then
    # One smtpd process per connection: N connections need N processes.
    echo "default_process_limit = $((LOAD_CONNS + 200))" >>"$d/conf/main.cf"
  elif [[ $PHASE != defaults ]]; then
    # 1000 idle connections need 1000 smtpd processes (the default limit is 100), and the
    # per-client connection limits (anvil) would refuse the 51st connection from 127.0.0.1.
    cat >>"$d/conf/main.cf" <<EOF
default_process_limit = 1100
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
EOF
  fi
  if [[ $PHASE == delivery || $PHASE == drain ]]; then
    # Everything not local goes to the sink, as to a smart host, in plain text; the delivery
    # concurrency keeps its default (default_destination_concurrency_limit = 20).
    cat >>"$d/conf/main.cf" <<EOF
relayhost = [$SINK_HOST]:$SINK_PORT
smtp_tls_security_level = none
EOF
  fi
  local submission=""
  if [[ $PHASE == submission ]]; then
    # TLS on port 25 (offered, as every MX does) and the two submission ports, where AUTH is
    # required and checked by Dovecot's auth server over its socket (smtpd_sasl_type = dovecot).
    start_dovecot "$name" "$d" || return 1
    self_signed "$d/tls" postfix.bench.test
    SUB_PORTS[$name]=$(free_port)
    SUBTLS_PORTS[$name]=$(free_port)
    cat >>"$d/conf/main.cf" <<EOF
smtpd_tls_cert_file = $d/tls/fullchain.pem
smtpd_tls_key_file = $d/tls/privkey.pem
smtpd_tls_security_level = may
smtpd_sasl_type = dovecot
smtpd_sasl_path = ${DOVECOT_SOCKETS[$name]}
EOF
    local sasl="-o smtpd_sasl_auth_enable=yes -o smtpd_client_restrictions=permit_sasl_authenticated,reject"
    submission="127.0.0.1:${SUB_PORTS[$name]} inet n - n - - smtpd -o smtpd_tls_security_level=encrypt $sasl
127.0.0.1:${SUBTLS_PORTS[$name]} inet n - n - - smtpd -o smtpd_tls_wrappermode=yes $sasl
tlsmgr unix - - n 1000? 1 tlsmgr"
  fi
  if [[ $dkim != none ]]; then
    start_opendkim "$name" "$d" || return 1
    # Headers that a milter adds pass milter_header_checks: the WARN leaves a line in the
    # maillog, which shows that the milter really signed.
    echo '/^DKIM-Signature:/ WARN dkim-signed' >"$d/conf/milter_header_checks"
    cat >>"$d/conf/main.cf" <<EOF
smtpd_milters = unix:${MILTER_SOCKETS[$name]}
milter_default_action = tempfail
milter_header_checks = regexp:$d/conf/milter_header_checks
EOF
  fi
  cat >"$d/conf/master.cf" <<EOF
127.0.0.1:$port inet n - n - - smtpd
$submission
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
local     unix  - n n - - local
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
  # postfix(1) prints its errors only to a terminal; script(1) gives it one.
  timeout 60 script -qec "postfix -c $d/conf check" /dev/null >"$d/check.log" 2>&1 ||
    { log "postfix check failed: $(tr -d '\r' <"$d/check.log")"; return 1; }
  STOPS[$name]="stop_postfix $d"
  timeout 60 script -qec "postfix -c $d/conf start" /dev/null >"$d/start.log" 2>&1 ||
    { log "postfix start failed: $(tr -d '\r' <"$d/start.log")"; return 1; }
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -s $d/queue/pid/master.pid ]] && break
    sleep 0.1
  done
  PIDS[$name]=$(tr -d ' \n' <"$d/queue/pid/master.pid")
  # The milter's CPU is part of what signing costs Postfix.
  [[ -n ${MILTER_PIDS[$name]:-} ]] && PIDS[$name]+=",${MILTER_PIDS[$name]}"
  # So is the password check's, in Dovecot's auth process.
  [[ -n ${DOVECOT_PIDS[$name]:-} ]] && PIDS[$name]+=",${DOVECOT_PIDS[$name]}"
  PORTS[$name]=$port
  wait_port "$port"
}

# OpenDKIM as Postfix's signing milter, from a config of its own: signs mail From: bench.test
# with an RSA-2048 key, relaxed/relaxed, for clients on 127.0.0.1 (its default internal hosts).
# A unix socket, as Debian's opendkim package sets up for Postfix.
start_opendkim() { # name dir
  local name=$1 d=$2/opendkim
  command -v opendkim >/dev/null || { log "opendkim is not installed"; return 1; }
  mkdir -p "$d"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$d/bench.private" 2>/dev/null
  chmod 600 "$d/bench.private"
  cat >"$d/opendkim.conf" <<EOF
Syslog no
Mode s
Domain bench.test
Selector bench
KeyFile $d/bench.private
Canonicalization relaxed/relaxed
Socket local:$d/milter.sock
UMask 000
PidFile $d/opendkim.pid
# The key lies under \$TMPDIR, which other users may write: OpenDKIM's path check would refuse it.
RequireSafeKeys false
EOF
  timeout "$MAX_TIME" opendkim -f -x "$d/opendkim.conf" >"$d/opendkim.log" 2>&1 &
  MILTER_PIDS[$name]=$!
  STOPS[$name-milter]="stop_pid ${MILTER_PIDS[$name]}"
  MILTER_SOCKETS[$name]=$d/milter.sock
  local i
  for ((i = 0; i < 150; i++)); do
    [[ -S $d/milter.sock ]] && return 0
    sleep 0.1
  done
  log "opendkim did not start: $(cat "$d/opendkim.log")"
  return 1
}

# Dovecot's auth server for Postfix's SASL, from a config dir and base_dir of its own (the system
# instance is never used): passwd-file users with a hash made by doveadm pw, in the scheme
# $HK_BENCH_DOVECOT_SCHEME (default CRYPT, doveadm's own default: bcrypt, $2y$05$).
declare -A DOVECOT_PIDS=() DOVECOT_SOCKETS=()
start_dovecot() { # name dir
  local name=$1 d=$2/dovecot scheme=${HK_BENCH_DOVECOT_SCHEME:-CRYPT} hash
  command -v dovecot >/dev/null || { log "dovecot is not installed (dovecot-core)"; return 1; }
  mkdir -p "$d"
  hash=$(doveadm pw -s "$scheme" -p "$SUB_PASSWORD") || { log "doveadm pw failed"; return 1; }
  echo "sink@bench.test:$hash" >"$d/passwd"
  chmod 640 "$d/passwd"
  chgrp dovecot "$d/passwd"
  cat >"$d/dovecot.conf" <<EOF
instance_name = hk-bench-$name
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
protocols =
ssl = no
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = $d/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
service auth {
  unix_listener $d/auth {
    mode = 0666
  }
}
EOF
  echo "$scheme ${hash:0:20}..." >"$d/scheme"
  timeout "$MAX_TIME" dovecot -F -c "$d/dovecot.conf" >"$d/stderr.log" 2>&1 &
  DOVECOT_PIDS[$name]=$!
  STOPS[$name-dovecot]="stop_pid ${DOVECOT_PIDS[$name]}"
  DOVECOT_SOCKETS[$name]=$d/auth
  local i
  for ((i = 0; i < 150; i++)); do
    [[ -S $d/auth ]] && return 0
    sleep 0.1
  done
  log "dovecot did not start: $(cat "$d/stderr.log" "$d/dovecot.log" 2>/dev/null | tail -3)"
  return 1
}

stop_postfix() { # dir
  local master
  master=$(tr -d ' \n' <"$1/queue/pid/master.pid" 2>/dev/null || true)
  timeout 30 script -qec "postfix -c $1/conf stop" /dev/null >/dev/null 2>&1 || true
  [[ -n $master ]] && stop_pid "$master"
}

start_hikyaku() { # [name [none|rsa2048|ed25519]]: with a DKIM key of that kind for bench.test
  local name=${1:-hikyaku} dkim=${2:-none}
  local d="$WORK/$PHASE/$name" port
  [[ -x $HIKYAKU ]] || { log "no $HIKYAKU"; return 1; }
  port=$(free_port)
  mkdir -p "$d/domains/bench.test" "$d/data"
  self_signed "$d/certs/bench.test" bench.test
  # Every recipient of bench.test goes to one local mailbox, user sink (hikyaku's own local
  # delivery); the catch-all needs that user to exist, or it would point at itself.
  echo '*: sink@bench.test' >"$d/domains/bench.test/aliases"
  local sub="" subtls=""
  if [[ $PHASE == submission ]]; then
    SUB_PORTS[$name]=$(free_port)
    SUBTLS_PORTS[$name]=$(free_port)
    sub="\"127.0.0.1:${SUB_PORTS[$name]}\""
    subtls="\"127.0.0.1:${SUBTLS_PORTS[$name]}\""
  fi
  local console=""
  if [[ $name == *-capture ]]; then
    CONSOLE_PORTS[$name]=$(free_port)
    console="console = [\"127.0.0.1:${CONSOLE_PORTS[$name]}\"]"
  fi
  cat >"$d/hikyaku.toml" <<EOF
hostname = "bench.test"
data_dir = "$d/data"
trusted_networks = ["127.0.0.0/8", "::1/128"]
[listen]
smtp = ["127.0.0.1:$port"]
submission = [$sub]
submission_tls = [$subtls]
$console
EOF
  if [[ $name == *-capture ]]; then
    # Everything from 127/8 (hk-bench) is captured; the store keeps every message of the fill.
    printf '[capture]\nenabled = true\nmax_messages = %d\n' "$((CAPTURE_FILL + 10000))" \
      >>"$d/hikyaku.toml"
  fi
  if [[ $PHASE == load ]]; then
    printf '[limits]\nmax_connections = %d\nmax_connections_per_ip = %d\n' \
      "$((LOAD_CONNS * 2))" "$((LOAD_CONNS * 2))" >>"$d/hikyaku.toml"
  elif [[ $PHASE != defaults ]]; then
    cat >>"$d/hikyaku.toml" <<EOF
[limits]
max_message_size = "50MiB"
max_recipients = 100
max_connections = 5000
max_connections_per_ip = 5000
# The submission benchmark's one user sends thousands of messages an hour; chasquid and Postfix
# have no such limit.
messages_per_hour_user = 0
EOF
  fi
  if [[ $name == *-nocache ]]; then
    printf '[auth]\ncache_ttl = 0\n' >>"$d/hikyaku.toml"  # every login runs scrypt
  fi
  if [[ $PHASE == delivery || $PHASE == drain ]]; then
    # All remote mail goes to the sink as a smart host; DNS points at a closed port (never the
    # system resolver). The drain keeps undeliverable mail queued until `queue flush`.
    local retry='"1s"'
    [[ $PHASE == drain ]] && retry='"1h"'
    cat >>"$d/hikyaku.toml" <<EOF
[queue]
retry = [$retry]
[dns]
servers = ["127.0.0.1:9"]
[[relay]]
host = "$SINK_HOST"
port = $SINK_PORT
tls = "none"
EOF
  fi
  if ! timeout 60 "$UTIL" -C "$d" user-add sink@bench.test --password=bench-sink-password \
    >"$d/util.log" 2>&1; then
    log "hikyaku-util user-add failed: $(tail -1 "$d/util.log" 2>/dev/null)"
    return 1
  fi
  if [[ $dkim != none ]] &&
    ! timeout 60 "$UTIL" -C "$d" dkim-keygen bench.test --selector=bench --algo="$dkim" \
      >>"$d/util.log" 2>&1; then
    log "hikyaku-util dkim-keygen failed: $(tail -1 "$d/util.log" 2>/dev/null)"
    return 1
  fi
  timeout "$MAX_TIME" "$HIKYAKU" -C "$d" >"$d/hikyaku.log" 2>&1 &
  PIDS[$name]=$!
  PORTS[$name]=$port
  STOPS[$name]="stop_pid ${PIDS[$name]}"
  if ! wait_port "$port"; then
    log "hikyaku did not listen; its log ends with:"
    tail -5 "$d/hikyaku.log" | sed 's/^/    /' >&2
    return 1
  fi
}

# hikyaku without the AUTH cache ([auth] cache_ttl = 0): every login runs scrypt.
start_hikyaku-nocache() {
  start_hikyaku hikyaku-nocache none
}

# hikyaku in capture mode (issue 12), with its console on a port of its own.
start_hikyaku-capture() {
  start_hikyaku hikyaku-capture none
}

# The baseline build, started exactly like this tree's hikyaku.
start_hikyaku-base() { # [name [none|rsa2048|ed25519]]
  HIKYAKU=$BASE_HIKYAKU UTIL=$BASE_UTIL start_hikyaku "${1:-hikyaku-base}" "${2:-none}"
}

bench() { # server, then hk-bench arguments
  local s=$1
  shift
  # In the background, so that a signal to this script is handled at once (see cleanup).
  timeout "$STEP_TIMEOUT" "$BENCH" --server "127.0.0.1:${PORTS[$s]}" --pid "${PIDS[$s]}" \
    --label "$s" --csv "$@" &
  CHILD=$!
  local rc=0
  wait "$CHILD" || rc=$?
  CHILD=""
  return "$rc"
}

ACTIVE=()
DELIVERED=()
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
"$BENCH" --csv-header >"$RAW"
if ((ACCEPTANCE)); then
for s in $SERVERS; do
  log "starting $s"
  if "start_$s" && bench "$s" --sessions 1 --messages 1 --size 1024 --settle 5 >/dev/null; then
    ACTIVE+=("$s")
    log "$s is up (pid ${PIDS[$s]}, port ${PORTS[$s]})"
  else
    log "$s failed to start or to accept a message: skipped"
    if [[ -n ${STOPS[$s]:-} ]]; then
      eval "${STOPS[$s]}" >/dev/null 2>&1 || true
      unset "STOPS[$s]"
    fi
  fi
done
((${#ACTIVE[@]})) || { log "no server could be started"; exit 1; }

# ---- Runs -------------------------------------------------------------------------------------

# Memory per idle connection is measured first, on servers that have not carried mail yet: a
# garbage-collected server (chasquid) keeps the heap that earlier runs grew, and would then seem
# to need nothing for new connections.
if ((IDLE > 0)); then
  for s in "${ACTIVE[@]}"; do
    log "idle: $s, $IDLE connections"
    bench "$s" --idle "$IDLE" >>"$RAW" || log "$s: not every idle connection opened"
  done
fi
# Runs are interleaved (run 1 of every case on every server, then run 2...) so that noise from
# other work on the machine falls on every server alike.
for ((r = 1; r <= RUNS; r++)); do
  for size in "${SIZES[@]}"; do
    msgs=$MSGS_SMALL
    ((size > 1024)) && msgs=$MSGS_LARGE
    for n in "${SESSIONS[@]}"; do
      for s in "${ACTIVE[@]}"; do
        log "run $r/$RUNS: $s, $n sessions, $size bytes, $msgs messages"
        bench "$s" --sessions "$n" --size "$size" --messages "$msgs" >>"$RAW" ||
          log "$s: run ended with errors (kept in the table)"
      done
    done
  done
done
fi # ACCEPTANCE
[[ -n $OUT ]] && cp "$RAW" "$OUT"

# ---- Delivery ---------------------------------------------------------------------------------

DELIVERY_OUT="$WORK/delivery.txt"
: >"$DELIVERY_OUT"
stop_servers() {
  local s
  for s in "${!STOPS[@]}"; do
    eval "${STOPS[$s]}" >/dev/null 2>&1 || true
    unset "STOPS[$s]"
  done
}

delivery_bench() { # server, then hk-bench arguments
  bench "$1" --sink "$SINK_HOST:$SINK_PORT" --rcpt "${RCPTS[$1]:-sink@sink.test}" \
    --deliver-timeout 600 "${@:2}"
}

# Fills hikyaku's queue with $DRAIN messages while no sink listens, then starts the sink and asks
# the daemon to retry everything; memory before, after filling and at its peak while draining.
run_drain() {
  local d="$WORK/drain/hikyaku" ready="$WORK/drain.ready" before after filled rc=0 i t0
  PHASE=drain
  log "drain: starting hikyaku (retry 1h, sink down)"
  start_hikyaku || { log "drain: hikyaku did not start; skipped"; return 1; }
  before=$("$BENCH" --memory --pid "${PIDS[hikyaku]}")
  log "drain: queueing $DRAIN messages"
  t0=$SECONDS
  bench hikyaku --sessions "$DELIVERY_SESSIONS" --size 1024 --messages "$DRAIN" \
    --rcpt sink@sink.test --settle 60 >"$WORK/drain-fill.csv" || log "drain: filling had errors"
  after=$("$BENCH" --memory --pid "${PIDS[hikyaku]}")
  filled=$(find "$d/data" -type f | wc -l)
  log "drain: filled in $((SECONDS - t0)) s ($filled files under data/); starting the sink"
  rm -f "$ready"
  timeout "$STEP_TIMEOUT" "$BENCH" --sink "$SINK_HOST:$SINK_PORT" --messages "$DRAIN" \
    --ready-file "$ready" --pid "${PIDS[hikyaku]}" --deliver-timeout 600 --label hikyaku \
    >"$WORK/drain.txt" &
  CHILD=$!
  for ((i = 0; i < 100; i++)); do
    [[ -e $ready ]] && break
    sleep 0.05
  done
  timeout 60 "$UTIL" -C "$d" queue flush >"$WORK/flush.log" 2>&1 ||
    log "drain: queue flush failed: $(tail -1 "$WORK/flush.log")"
  wait "$CHILD" || rc=$?
  CHILD=""
  echo "$(cat "$WORK/drain.txt") $(sed 's/\([a-z_]*=\)/before_\1/g' <<<"$before")" \
    "$(sed 's/\([a-z_]*=\)/filled_\1/g' <<<"$after") filled_files=$filled" >>"$DELIVERY_OUT"
  ((rc == 0)) || log "drain: not every message reached the sink"
  stop_servers
}

if ((DELIVERY)); then
  stop_servers
  PHASE=delivery
  for s in $SERVERS; do
    log "delivery: starting $s"
    if "start_$s" && delivery_bench "$s" --sessions 1 --messages 1 --size 1024 \
      --deliver-timeout 30 >"$WORK/delivery-check-$s.txt"; then
      DELIVERED+=("$s")
      log "$s is up and delivers to the sink (pid ${PIDS[$s]}, port ${PORTS[$s]})"
    else
      log "$s failed to start or to deliver one message to the sink: skipped for delivery"
      if [[ -n ${STOPS[$s]:-} ]]; then
        eval "${STOPS[$s]}" >/dev/null 2>&1 || true
        unset "STOPS[$s]"
      fi
    fi
  done
  for size in "${SIZES[@]}"; do
    for s in "${DELIVERED[@]}"; do
      log "delivery: $s, $DELIVERY_SESSIONS sessions, $size bytes, $MSGS_DELIVERY messages"
      delivery_bench "$s" --sessions "$DELIVERY_SESSIONS" --size "$size" \
        --messages "$MSGS_DELIVERY" >>"$DELIVERY_OUT" || log "$s: delivery run incomplete"
    done
  done
  stop_servers
  if ((DRAIN > 0)) && [[ " $SERVERS " == *" hikyaku "* ]]; then
    run_drain || true
  fi
fi

# ---- Signing ----------------------------------------------------------------------------------

SIGN_RAW="$WORK/signing.csv"
SIGNERS=()
# hk-bench's From: is the envelope sender, sink@bench.test: a local user, and the trusted network
# lets the bench submit without AUTH, so hikyaku signs with bench.test's key (issue: mail from
# trusted networks is signed) and OpenDKIM signs for 127.0.0.1 (its default internal hosts).
sign_bench() { # variant, then hk-bench arguments
  bench "$1" --from sink@bench.test --rcpt x@bench.test "${@:2}"
}
# Was the last message of this variant signed, and only when it should be?
signed_as_expected() { # variant kind
  local v=$1 kind=$2 d="$WORK/signing/$1" f
  case $v in
    hk-*)
      f=$(ls -t "$d/data/mail/bench.test/sink/new/" 2>/dev/null | head -n1)
      [[ -n $f ]] || return 1
      if [[ $kind == none ]]; then
        ! grep -q '^DKIM-Signature:' "$d/data/mail/bench.test/sink/new/$f"
      else
        grep -q '^DKIM-Signature:' "$d/data/mail/bench.test/sink/new/$f"
      fi
      ;;
    postfix-*)
      local i
      [[ $kind == none ]] && return 0
      for ((i = 0; i < 50; i++)); do
        grep -q dkim-signed "$d/maillog" 2>/dev/null && return 0
        sleep 0.1
      done
      return 1
      ;;
  esac
}
if ((SIGNING)); then
  PHASE=signing
  variants=("hk-none hikyaku none" "hk-rsa2048 hikyaku rsa2048" "hk-ed25519 hikyaku ed25519")
  if [[ -n $BASELINE ]]; then
    variants+=("hk-base-none hikyaku-base none" "hk-base-rsa2048 hikyaku-base rsa2048")
  fi
  if [[ " $SERVERS " == *" postfix "* ]]; then
    variants+=("postfix-none postfix none" "postfix-rsa2048 postfix rsa2048")
  fi
  for entry in "${variants[@]}"; do
    read -r v server kind <<<"$entry"
    log "signing: starting $v"
    if "start_$server" "$v" "$kind" &&
      sign_bench "$v" --sessions 1 --messages 1 --size 1024 --settle 5 >/dev/null &&
      signed_as_expected "$v" "$kind"; then
      SIGNERS+=("$v")
    else
      log "$v failed to start, to accept or to sign (as expected) a message: skipped"
    fi
  done
  ((${#SIGNERS[@]})) || { log "no signing variant could be started"; exit 1; }
  "$BENCH" --csv-header >"$SIGN_RAW"
  for ((r = 1; r <= RUNS; r++)); do
    for size in "${SIZES[@]}"; do
      msgs=$MSGS_SMALL
      ((size > 1024)) && msgs=$MSGS_LARGE
      for v in "${SIGNERS[@]}"; do
        log "signing run $r/$RUNS: $v, 10 sessions, $size bytes, $msgs messages"
        sign_bench "$v" --sessions 10 --size "$size" --messages "$msgs" >>"$SIGN_RAW" ||
          log "$v: run ended with errors (kept in the table)"
      done
    done
  done
  stop_servers
  [[ -n $OUT ]] && cp "$SIGN_RAW" "$OUT"
  # The private-key operation alone on this machine, one core (openssl speed) and in process
  # with our signer and libopendkim's (hk-dkim-bench).
  SPEED=$(openssl speed -seconds 2 rsa2048 ed25519 2>/dev/null |
    awk '/^rsa 2048/ {print "RSA-2048 " $6 " sign/s"} /Ed25519/ {print "Ed25519 " $7 " sign/s"}' |
    paste -sd, -)
  DKIM_BENCH=$(find_program_in_build hk-dkim-bench tests/bench)
  if [[ -x $DKIM_BENCH ]]; then
    "$DKIM_BENCH" --seconds 1 >"$WORK/dkim-bench.txt" 2>&1 || true
  fi
fi

# ---- Load ---------------------------------------------------------------------------------------

LOAD_RAW="$WORK/load.csv"
LOAD_OUT="$WORK/load.txt"
LOADED=()
if ((LOAD)); then
  stop_servers
  # 1. A trusted app on loopback opens 50 sessions at once; each server keeps its own default
  # connection limits (Postfix exempts mynetworks from anvil's, hikyaku trusted_networks).
  PHASE=defaults
  "$BENCH" --csv-header >"$LOAD_RAW"
  for s in $SERVERS; do
    log "load: starting $s with its default connection limits"
    if ! "start_$s" || ! bench "$s" --sessions 1 --messages 1 --size 1024 --settle 5 >/dev/null; then
      log "$s failed to start or to accept a message: skipped"
      stop_servers
      continue
    fi
    LOADED+=("$s")
    for ((r = 1; r <= RUNS; r++)); do
      log "load run $r/$RUNS: $s, 50 sessions from 127.0.0.1, default limits"
      bench "$s" --sessions 50 --size 1024 --messages "$MSGS_SMALL" >>"$LOAD_RAW" ||
        log "$s: run ended with errors (kept in the table)"
    done
    stop_servers
  done
  # 2. Many connections: half of them silent (greeted, EHLO, then nothing), held while the other
  # half send two 1 KiB messages each. Servers one at a time, each configured to admit them all.
  PHASE=load
  : >"$LOAD_OUT"
  for s in "${LOADED[@]}"; do
    log "load: $s, $((LOAD_CONNS / 2)) silent + $((LOAD_CONNS / 2)) sending connections"
    if "start_$s"; then
      bench "$s" --hold $((LOAD_CONNS / 2)) --sessions $((LOAD_CONNS / 2)) \
        --messages $((LOAD_CONNS)) --size 1024 --timeout 120 --settle 10 >>"$LOAD_OUT" ||
        log "$s: load run ended with errors (kept in the table)"
    fi
    stop_servers
  done
fi

# ---- Submission (issue 11) ----------------------------------------------------------------------

SUB_RAW="$WORK/submission.csv"
SUBMITTERS=()
# One case: server, case name, then hk-bench arguments. Every case sends 1 KiB messages from and to
# sink@bench.test, the one user of every server (the sender an authenticated user may use).
sub_bench() {
  local s=$1 c=$2
  bench "$s" --label "$s/$c" --from sink@bench.test --rcpt sink@bench.test --size 1024 \
    --timeout 60 "${@:3}"
}
sub_case() { # server case sessions messages
  local s=$1 c=$2 n=$3 m=$4 auth=(--auth "sink@bench.test:$SUB_PASSWORD" --per-connection 1)
  case $c in
    587) sub_bench "$s" "$c" --server "127.0.0.1:${SUB_PORTS[$s]}" --tls starttls "${auth[@]}" \
      --sessions "$n" --messages "$m" ;;
    465) sub_bench "$s" "$c" --server "127.0.0.1:${SUBTLS_PORTS[$s]}" --tls implicit "${auth[@]}" \
      --sessions "$n" --messages "$m" ;;
    587-noauth) sub_bench "$s" "$c" --server "127.0.0.1:${SUB_PORTS[$s]}" --tls starttls \
      --per-connection 1 --sessions "$n" --messages "$m" ;;
    25-starttls) sub_bench "$s" "$c" --tls starttls --sessions "$n" --messages "$m" ;;
  esac
}
if ((SUBMISSION)); then
  stop_servers
  PHASE=submission
  [[ " $SERVERS " == *" hikyaku "* ]] && SERVERS="$SERVERS hikyaku-nocache"
  for s in $SERVERS; do
    log "submission: starting $s"
    if "start_$s" && sub_case "$s" 587 1 2 >/dev/null && sub_case "$s" 465 1 2 >/dev/null; then
      SUBMITTERS+=("$s")
      log "$s is up and takes AUTH on 587 and 465 (pids ${PIDS[$s]})"
    else
      log "$s failed to start or to take an authenticated message: skipped"
    fi
  done
  ((${#SUBMITTERS[@]})) || { log "no server took an authenticated message"; exit 1; }
  "$BENCH" --csv-header >"$SUB_RAW"
  # Interleaved as above: run r of every case on every server, then run r+1.
  for ((r = 1; r <= RUNS; r++)); do
    for n in 10 50; do
      for c in 587 465 587-noauth 25-starttls; do
        for s in "${SUBMITTERS[@]}"; do
          [[ $c == 587-noauth && $s != hikyaku ]] && continue
          [[ $c == 25-starttls && $s == hikyaku-nocache ]] && continue
          m=$MSGS_SUBMISSION
          [[ $c == 25-starttls ]] && m=$MSGS_SMALL
          log "submission run $r/$RUNS: $s, $c, $n sessions, $m messages"
          sub_case "$s" "$c" "$n" "$m" >>"$SUB_RAW" || log "$s/$c: run ended with errors (kept)"
        done
      done
    done
  done
  stop_servers
  [[ -n $OUT ]] && cp "$SUB_RAW" "$OUT"
  DOVECOT_SCHEME=$(cat "$WORK"/submission/postfix/dovecot/scheme 2>/dev/null || echo "-")
fi

# ---- Capture (issue 12) -------------------------------------------------------------------------

CAPTURE_RAW="$WORK/capture.csv"
CAPTURE_OUT="$WORK/capture-latency.txt"
CAPTURERS=()
# The total the console reports, or nothing when it does not answer.
console_total() { # port
  curl -s --max-time 5 "http://127.0.0.1:$1/api/v1/messages?limit=1" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["total"])' 2>/dev/null || true
}
# The resident memory (KiB) of the daemon under a timeout(1) wrapper.
daemon_rss() { # wrapper pid
  local pid
  pid=$(pgrep -P "$1" | head -1 || true)
  awk '/^VmRSS/ {print $2}' "/proc/${pid:-$1}/status" 2>/dev/null || echo "?"
}
if ((CAPTURE)); then
  stop_servers
  PHASE=capture
  for s in hikyaku-capture $SERVERS; do
    log "capture: starting $s"
    if "start_$s" && bench "$s" --sessions 1 --messages 1 --size 1024 --settle 5 >/dev/null; then
      CAPTURERS+=("$s")
    else
      log "$s failed to start or to take a message: skipped"
    fi
  done
  ((${#CAPTURERS[@]})) || { log "no server took a message"; exit 1; }
  "$BENCH" --csv-header >"$CAPTURE_RAW"
  # Interleaved as above. hikyaku-capture stores into DATA_DIR/capture; the others deliver into
  # their local mailbox as in the acceptance matrix (each fsyncs before its 250).
  for ((r = 1; r <= RUNS; r++)); do
    for size in "${SIZES[@]}"; do
      msgs=$MSGS_SMALL
      ((size > 1024)) && msgs=$MSGS_LARGE
      for s in "${CAPTURERS[@]}"; do
        log "capture run $r/$RUNS: $s, 10 sessions, $size bytes, $msgs messages"
        bench "$s" --sessions 10 --size "$size" --messages "$msgs" >>"$CAPTURE_RAW" ||
          log "$s: run ended with errors (kept)"
      done
    done
  done
  if [[ " ${CAPTURERS[*]} " == *" hikyaku-capture "* ]]; then
    for s in "${CAPTURERS[@]}"; do
      [[ $s == hikyaku-capture ]] && continue
      eval "${STOPS[$s]}" >/dev/null 2>&1 || true
      unset "STOPS[$s]"
    done
    s=hikyaku-capture
    cport=${CONSOLE_PORTS[$s]}
    have=$(console_total "$cport")
    if [[ -z $have ]]; then
      log "the console of $s does not answer on $cport: no latency figures"
    else
      if ((have < CAPTURE_FILL)); then
        log "capture: filling the store from $have to $CAPTURE_FILL messages (1 KiB, 10 sessions)"
        bench "$s" --sessions 10 --size 1024 --messages "$((CAPTURE_FILL - have))" >/dev/null ||
          log "the fill ended with errors"
      fi
      have=$(console_total "$cport")
      rss=$(daemon_rss "${PIDS[$s]}")
      {
        echo "captured: $have messages; daemon RSS ${rss} KiB"
        timeout 600 python3 "$ROOT/tests/bench/console_latency.py" \
          --url "http://127.0.0.1:$cport" --expect "$CAPTURE_FILL" --reps 30 ||
          echo "console_latency.py failed"
      } >>"$CAPTURE_OUT" 2>&1
      # A restart reads the index back from the files: the time until the console reports them.
      d="$WORK/$PHASE/$s"
      stop_pid "${PIDS[$s]}"
      t0=$(date +%s.%N)
      timeout "$MAX_TIME" "$HIKYAKU" -C "$d" >>"$d/hikyaku.log" 2>&1 &
      PIDS[$s]=$!
      STOPS[$s]="stop_pid ${PIDS[$s]}"
      back=""
      for ((i = 0; i < 3000; i++)); do
        back=$(console_total "$cport")
        [[ -n $back ]] && ((back >= have)) && break
        sleep 0.1
      done
      t1=$(date +%s.%N)
      rss=$(daemon_rss "${PIDS[$s]}")
      printf 'restart: the console reported %s messages %.2f s after the start; RSS %s KiB\n' \
        "${back:-?}" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')" "$rss" >>"$CAPTURE_OUT"
    fi
  fi
  stop_servers
  [[ -n $OUT ]] && cp "$CAPTURE_RAW" "$OUT"
fi

# ---- Report -----------------------------------------------------------------------------------

echo
echo "hk-bench $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs," \
  "$( ((ACCEPTANCE || SIGNING || LOAD || SUBMISSION || CAPTURE)) && echo "$RUNS run(s) per case (median)," || echo "delivery only,")" \
  "netns=$NETNS, servers: ${ACTIVE[*]:-} ${DELIVERED[*]:+(delivery: ${DELIVERED[*]})}" \
  "${SIGNERS[*]:+(signing: ${SIGNERS[*]})}" "${SUBMITTERS[*]:+(submission: ${SUBMITTERS[*]})}" "${CAPTURERS[*]:+(capture: ${CAPTURERS[*]})}"
echo "command: tests/bench/run.sh ${ORIG_ARGS[*]}"
echo "load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg)" \
  "(other work on the machine makes the figures noisy)"
((ACCEPTANCE)) && python3 - "$RAW" "${ACTIVE[@]}" <<'EOF'
import csv, statistics, sys

rows = list(csv.DictReader(open(sys.argv[1])))
servers = sys.argv[2:]

def med(values):
    values = [float(v) for v in values if v not in ("", None)]
    return statistics.median(values) if values else None

def fmt(v, d=1):
    return "-" if v is None else f"{v:.{d}f}"

cases, table = [], {}
for r in rows:
    if r["mode"] != "throughput":
        continue
    case = (int(r["size"]), int(r["sessions"]))
    if case not in cases:
        cases.append(case)
    table.setdefault((case, r["label"]), []).append(r)

def name(case):
    size, n = case
    return f"{size // 1024} KiB x {n}"

print(f"\n{'case':<14}{'server':<10}{'msg/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/msg':>12}"
      f"{'errors':>8}{'4yz':>7}")
stats = {}
for case in cases:
    for s in servers:
        rs = table.get((case, s), [])
        st = {k: med(r[k] for r in rs) for k in ("msgs_per_s", "p50_ms", "p99_ms", "cpu_ms_per_msg")}
        st["errors"] = sum(int(r["errors"] or 0) for r in rs)
        st["deferred"] = sum(int(r["deferred"] or 0) for r in rs)
        stats[(case, s)] = st
        print(f"{name(case):<14}{s:<10}{fmt(st['msgs_per_s']):>9}{fmt(st['p50_ms'], 2):>9}"
              f"{fmt(st['p99_ms'], 2):>9}{fmt(st['cpu_ms_per_msg'], 3):>12}{st['errors']:>8}"
              f"{st['deferred']:>7}")

idle = [r for r in rows if r["mode"] == "idle"]
if idle:
    print(f"\n{'idle':<14}{'server':<10}{'open':>9}{'PSS KiB/conn':>14}{'RSS KiB/conn':>14}")
    for r in idle:
        pss = float(r["pss_kib_per_conn"] or "nan")
        rss = float(r["rss_kib_per_conn"] or "nan")
        print(f"{'':<14}{r['label']:<10}{r['idle_open']:>9}{pss:>14.1f}{rss:>14.1f}")

others = [s for s in servers if s != "hikyaku"]
if "hikyaku" not in servers:
    print("\nratios: hikyaku did not run")
else:
    print("\nratios hikyaku/other (msg/s: higher is better; CPU and memory: lower is better)")
    for o in others:
        print(f"  vs {o}:")
        for case in cases:
            a, b = stats[(case, "hikyaku")], stats[(case, o)]
            def ratio(k):
                return "-" if not a[k] or not b[k] else f"{a[k] / b[k]:.2f}"
            print(f"    {name(case):<12} msg/s {ratio('msgs_per_s'):>6}   CPU/msg {ratio('cpu_ms_per_msg'):>6}"
                  f"   p99 {ratio('p99_ms'):>6}")
        mem = {r["label"]: r["pss_kib_per_conn"] for r in idle}
        if mem.get("hikyaku") and mem.get(o):
            print(f"    idle PSS/conn {float(mem['hikyaku']) / float(mem[o]):.3f}")
EOF
if ((DELIVERY)); then python3 - "$DELIVERY_OUT" "$DELIVERY_SESSIONS" <<'EOF'
import sys

runs = [dict(kv.split("=", 1) for kv in line.split()) for line in open(sys.argv[1]) if "=" in line]

def mib(kib):
    return "-" if not kib else f"{int(kib) / 1024:.1f}"

def f(v, d=1):
    return "-" if v in (None, "", "nan") else f"{float(v):.{d}f}"

delivery = [r for r in runs if r["mode"] == "delivery"]
if delivery:
    print(f"\ndelivery, {sys.argv[2]} sessions, end to end (first connect -> last message at the sink)")
    print(f"{'size':<9}{'server':<10}{'messages':>9}{'recvd':>7}{'seconds':>9}{'msg/s':>8}"
          f"{'accept s':>10}{'4yz':>6}{'CPU ms/msg':>12}{'peak PSS MiB':>14}{'peak RSS MiB':>14}"
          f"{'procs':>7}")
    for r in delivery:
        print(f"{int(r['size']) // 1024:>3} KiB   {r['label']:<10}{r['messages']:>9}{r['received']:>7}"
              f"{f(r['elapsed_s'], 2):>9}{f(r['msgs_per_s']):>8}{f(r['accept_s'], 2):>10}"
              f"{r['deferred']:>6}{f(r.get('cpu_ms_per_msg'), 3):>12}"
              f"{mib(r['peak_pss_kib']):>14}{mib(r['peak_rss_kib']):>14}"
              f"{r['peak_processes']:>7}")
    by = {(r["size"], r["label"]): r for r in delivery}
    for other in ("postfix", "chasquid"):
        lines = []
        for size in sorted({r["size"] for r in delivery}, key=int):
            a, b = by.get((size, "hikyaku")), by.get((size, other))
            if not a or not b:
                continue
            def ratio(k):
                try:
                    return f"{float(a[k]) / float(b[k]):.2f}"
                except (ValueError, ZeroDivisionError):
                    return "-"
            lines.append(f"    {int(size) // 1024:>3} KiB  msg/s {ratio('msgs_per_s'):>6}"
                         f"   CPU/msg {ratio('cpu_ms_per_msg'):>6}"
                         f"   peak PSS {ratio('peak_pss_kib'):>6}   peak RSS {ratio('peak_rss_kib'):>6}")
        if lines:
            print(f"  ratios hikyaku/{other}:")
            print("\n".join(lines))

for r in runs:
    if r["mode"] != "drain":
        continue
    n = int(r["messages"])
    print(f"\ndrain (hikyaku): {n} messages of 1 KiB queued while the sink was down, then flushed"
          f" ({r['filled_files']} files under data/ after filling)")
    print(f"  received {r['received']} in {f(r['elapsed_s'], 2)} s ({f(r['msgs_per_s'])} msg/s),"
          f" first connection after {f(r['first_s'], 2)} s")
    for k in ("rss", "pss"):
        before, filled, peak = (int(r[p + k + "_kib"]) for p in ("before_", "filled_", "peak_"))
        print(f"  {k.upper()} MiB: before filling {mib(before)}, after filling {mib(filled)},"
              f" peak while draining {mib(peak)}; KiB per queued message:"
              f" {(filled - before) / n:.3f} queued, {(peak - before) / n:.3f} at peak")
EOF
fi
if ((LOAD)); then python3 - "$LOAD_RAW" "$LOAD_OUT" "$LOAD_CONNS" "${LOADED[@]}" <<'EOF'
import csv, statistics, sys

rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["mode"] == "throughput"]
runs = [dict(kv.split("=", 1) for kv in line.split()) for line in open(sys.argv[2]) if "=" in line]
conns, servers = int(sys.argv[3]), sys.argv[4:]

def med(values):
    values = [float(v) for v in values if v not in ("", None)]
    return statistics.median(values) if values else None

def fmt(v, d=1):
    return "-" if v in (None, "", "nan") else f"{float(v):.{d}f}"

print("\nload 1: 50 concurrent sessions from 127.0.0.1 (trusted), 1 KiB, each server's default limits")
print(f"{'server':<10}{'msg/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/msg':>12}{'errors':>8}{'4yz':>7}")
for s in servers:
    rs = [r for r in rows if r["label"] == s]
    if not rs:
        continue
    st = {k: med(r[k] for r in rs) for k in ("msgs_per_s", "p50_ms", "p99_ms", "cpu_ms_per_msg")}
    print(f"{s:<10}{fmt(st['msgs_per_s']):>9}{fmt(st['p50_ms'], 2):>9}{fmt(st['p99_ms'], 2):>9}"
          f"{fmt(st['cpu_ms_per_msg'], 3):>12}{sum(int(r['errors'] or 0) for r in rs):>8}"
          f"{sum(int(r['deferred'] or 0) for r in rs):>7}")

def mib(kib):
    return "-" if not kib else f"{int(kib) / 1024:.0f}"

print(f"\nload 2: {conns // 2} silent connections held while {conns // 2} sessions send 2 x 1 KiB each")
print(f"{'server':<10}{'held':>6}{'at end':>8}{'hold s':>8}{'accepted':>10}{'unopened':>10}{'4yz':>6}"
      f"{'seconds':>9}{'msg/s':>8}{'CPU s':>8}{'peak RSS MiB':>14}{'peak PSS MiB':>14}{'procs':>7}")
for r in runs:
    print(f"{r['label']:<10}{r['held_open']:>6}{r['held_at_end']:>8}{fmt(r['hold_s'], 1):>8}"
          f"{r['accepted']:>10}{r['unopened']:>10}{r['deferred']:>6}{fmt(r['elapsed_s'], 2):>9}"
          f"{fmt(r['msgs_per_s']):>8}{fmt(float(r['cpu_ms_total']) / 1000, 1):>8}"
          f"{mib(r['peak_rss_kib']):>14}{mib(r['peak_pss_kib']):>14}{r['peak_processes']:>7}")
EOF
fi
if ((SUBMISSION)); then
  echo
  echo "submission: 1 KiB, one message per connection (587: STARTTLS + AUTH PLAIN; 465: implicit"
  echo "TLS + AUTH PLAIN; 587-noauth: STARTTLS without AUTH), and 25-starttls: STARTTLS on port 25,"
  echo "many messages per connection. Dovecot's password scheme: $DOVECOT_SCHEME"
  python3 - "$SUB_RAW" "${SUBMITTERS[@]}" <<'EOF'
import csv, statistics, sys

rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["mode"] == "throughput"]
servers = sys.argv[2:]
cases = ["587", "465", "587-noauth", "25-starttls"]

def values(s, c, n, k):
    return [float(r[k]) for r in rows if r["label"] == f"{s}/{c}" and int(r["sessions"]) == n
            and r[k] not in ("", None)]

def med(v):
    return statistics.median(v) if v else None

print(f"\n{'case':<14}{'sessions':>9} {'server':<17}{'msg/s':>8}{'(min-max)':>16}{'p50 ms':>9}"
      f"{'p99 ms':>9}{'CPU ms/msg':>12}{'errors':>8}")
for n in (10, 50):
    for c in cases:
        for s in servers:
            rate = values(s, c, n, "msgs_per_s")
            if not rate:
                continue
            errors = sum(int(r["errors"] or 0) for r in rows
                         if r["label"] == f"{s}/{c}" and int(r["sessions"]) == n)
            spread = f"({min(rate):.0f}-{max(rate):.0f})"
            print(f"{c:<14}{n:>9} {s:<17}{med(rate):>8.1f}{spread:>16}"
                  f"{med(values(s, c, n, 'p50_ms')):>9.1f}{med(values(s, c, n, 'p99_ms')):>9.1f}"
                  f"{med(values(s, c, n, 'cpu_ms_per_msg')) or float('nan'):>12.3f}{errors:>8}")

# Ratios within each run (the same minutes of the same machine), then their median.
def per_run(s, c, n):
    return [float(r["msgs_per_s"]) for r in rows
            if r["label"] == f"{s}/{c}" and int(r["sessions"]) == n and r["msgs_per_s"]]

print("\nratios per run (run 1, run 2, ...; median)")
peers = [s for s in servers if not s.startswith("hikyaku")]
for n in (10, 50):
    for c in ("587", "465"):
        hk = per_run("hikyaku", c, n)
        lines = []
        for other, oc in [(p, c) for p in peers] + [("hikyaku-nocache", c),
                                                    ("hikyaku", "587-noauth")]:
            ov = per_run(other, oc, n)
            if not hk or not ov:
                continue
            rs = [a / b for a, b in zip(hk, ov) if b]
            if rs:
                lines.append(f"hikyaku/{other}{'' if oc == c else ' ' + oc}: "
                             + ", ".join(f"{x:.2f}" for x in rs)
                             + f"; median {statistics.median(rs):.2f}")
        for line in lines:
            print(f"  {c:<4} x{n:<3} {line}")
    hk = per_run("hikyaku", "25-starttls", n)
    for p in peers:
        ov = per_run(p, "25-starttls", n)
        rs = [a / b for a, b in zip(hk, ov) if b]
        if rs:
            print(f"  25-starttls x{n:<3} hikyaku/{p}: " + ", ".join(f"{x:.2f}" for x in rs)
                  + f"; median {statistics.median(rs):.2f}")
EOF
fi
if ((SIGNING)); then
  echo
  echo "openssl speed, one core: $SPEED"
  python3 - "$SIGN_RAW" "${SIGNERS[@]}" <<'EOF'
import csv, statistics, sys

rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["mode"] == "throughput"]
variants = sys.argv[2:]

def med(values):
    values = [float(v) for v in values if v not in ("", None)]
    return statistics.median(values) if values else None

def fmt(v, d=1):
    return "-" if v is None else f"{v:.{d}f}"

print(f"\nsigning, 10 sessions\n{'size':<9}{'variant':<17}{'msg/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
      f"{'CPU ms/msg':>12}{'+CPU ms':>9}{'errors':>8}")
for size in sorted({int(r["size"]) for r in rows}):
    stats = {}
    for v in variants:
        rs = [r for r in rows if r["label"] == v and int(r["size"]) == size]
        st = {k: med(r[k] for r in rs) for k in ("msgs_per_s", "p50_ms", "p99_ms", "cpu_ms_per_msg")}
        st["errors"] = sum(int(r["errors"] or 0) for r in rs)
        stats[v] = st
    for v in variants:
        st = stats[v]
        base = stats.get(v.split("-")[0] + "-none", {}).get("cpu_ms_per_msg")
        extra = None if base is None or st["cpu_ms_per_msg"] is None else st["cpu_ms_per_msg"] - base
        print(f"{size // 1024:>3} KiB   {v:<17}{fmt(st['msgs_per_s']):>9}{fmt(st['p50_ms'], 2):>9}"
              f"{fmt(st['p99_ms'], 2):>9}{fmt(st['cpu_ms_per_msg'], 3):>12}{fmt(extra, 3):>9}"
              f"{st['errors']:>8}")
    a, b = stats.get("hk-rsa2048"), stats.get("postfix-rsa2048")
    if a and b and a["msgs_per_s"] and b["msgs_per_s"]:
        print(f"          RSA-2048 msg/s hikyaku/Postfix+OpenDKIM: {a['msgs_per_s'] / b['msgs_per_s']:.2f}")
print("\n+CPU ms: server CPU per message above the same server unsigned (Postfix's includes the milter)")
EOF
  if [[ -s $WORK/dkim-bench.txt ]]; then
    echo
    echo "hk-dkim-bench (in process, no SMTP):"
    cat "$WORK/dkim-bench.txt"
  fi
fi
if ((CAPTURE)) && [[ -s $CAPTURE_RAW ]]; then
  python3 - "$CAPTURE_RAW" "${CAPTURERS[@]}" <<'EOF'
import csv, statistics, sys

rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["mode"] == "throughput"]
servers = sys.argv[2:]

def med(values):
    values = [float(v) for v in values if v not in ("", None)]
    return statistics.median(values) if values else None

def fmt(v, d=1):
    return "-" if v is None else f"{v:.{d}f}"

print(f"\ncapture, 10 sessions (hikyaku-capture: into the capture store; the others: their normal"
      f" local delivery)\n{'size':<9}{'server':<17}{'msg/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
      f"{'CPU ms/msg':>12}{'errors':>8}")
for size in sorted({int(r["size"]) for r in rows}):
    stats = {}
    for s in servers:
        rs = [r for r in rows if r["label"] == s and int(r["size"]) == size]
        st = {k: med(r[k] for r in rs) for k in ("msgs_per_s", "p50_ms", "p99_ms", "cpu_ms_per_msg")}
        st["errors"] = sum(int(r["errors"] or 0) for r in rs)
        stats[s] = st
        print(f"{size // 1024:>3} KiB   {s:<17}{fmt(st['msgs_per_s']):>9}{fmt(st['p50_ms'], 2):>9}"
              f"{fmt(st['p99_ms'], 2):>9}{fmt(st['cpu_ms_per_msg'], 3):>12}{st['errors']:>8}")
    a = stats.get("hikyaku-capture")
    for o in servers:
        b = stats.get(o)
        if o != "hikyaku-capture" and a and b and a["msgs_per_s"] and b["msgs_per_s"]:
            print(f"          msg/s hikyaku-capture/{o}: {a['msgs_per_s'] / b['msgs_per_s']:.2f}")
EOF
  if [[ -s $CAPTURE_OUT ]]; then
    echo
    cat "$CAPTURE_OUT"
  fi
fi
