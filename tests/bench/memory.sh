#!/usr/bin/env bash
# Memory under large messages: the real daemon, with the default limits (50 MiB messages, 1000
# connections; only the per-address limit is raised so that one loopback client may open them
# all), takes SESSIONS concurrent sessions each sending one message of MIB MiB to a local Maildir;
# prints the daemon's peak resident memory (VmHWM), throughput and how many messages were
# accepted. Exit status 1 when a session failed or VmHWM passed the bound.
#   tests/bench/memory.sh [BUILD_DIR] [--sessions 200] [--mib 20] [--max-rss-mib 512]
# Queue and Maildir live in a temp dir under $TMPDIR (default /tmp): SESSIONS x MIB of disk.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$ROOT/build SESSIONS=200 MIB=20 BOUND=512
while (($#)); do
  case "$1" in
    --sessions) SESSIONS=$2; shift ;;
    --mib) MIB=$2; shift ;;
    --max-rss-mib) BOUND=$2; shift ;;
    -h | --help) sed -n 2,8p "$0"; exit 0 ;;
    *) BUILD=$(cd "$1" && pwd) ;;
  esac
  shift
done
W=$(mktemp -d "${TMPDIR:-/tmp}/hk-mem.XXXXXX")
PID=""
cleanup() {
  [[ -n $PID ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/etc/domains/example.test" "$W/data"
printf 'secret' | "$BUILD/bin/hikyaku-util" -C "$W/etc" user-add alice@example.test \
  --password-stdin >/dev/null
cat >"$W/etc/hikyaku.toml" <<EOT
hostname = "mx.test"
data_dir = "$W/data"
log_level = "info"
[listen]
smtp = ["127.0.0.1:0"]
submission = []
submission_tls = []
metrics = []
[limits]
max_connections_per_ip = $((SESSIONS + 10))
data_timeout = "10m"
[dns]
servers = ["127.0.0.1:9"]
EOT
"$BUILD/bin/hikyaku" -C "$W/etc" >"$W/log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
  grep -q "listening smtp=" "$W/log" && break
  sleep 0.1
done
PORT=$(sed -n 's/.*listening smtp=127.0.0.1:\([0-9]*\).*/\1/p' "$W/log" | head -n1)
[[ -n $PORT ]] || { cat "$W/log"; exit 1; }
echo "build=$BUILD commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo ?)"
python3 "$ROOT/tests/bench/memory_load.py" --port "$PORT" --pid "$PID" --sessions "$SESSIONS" \
  --mib "$MIB" --max-rss-mib "$BOUND" --timeout 900
