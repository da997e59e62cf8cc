#!/usr/bin/env bash
# Instructions the daemon executes per accepted message, counted by valgrind's callgrind: a figure
# that other work on the machine cannot disturb, unlike msg/s and CPU time. Each build's hikyaku
# runs under callgrind from its own config dir (trusted loopback client, every recipient a local
# Maildir user) and takes N1 and then, in a fresh run, N2 messages from hk-bench; the difference
# divided by N2 - N1 leaves start-up and shutdown out. With two builds, the functions whose cost
# per message changed most are listed too.
#   tests/bench/instructions.sh BUILD_DIR [BASE_BUILD_DIR] [--sessions S] [--size B] [--n1 N] [--n2 N]
# Needs valgrind; builds are CMake build dirs holding bin/hikyaku, bin/hikyaku-util, bin/hk-bench.
set -euo pipefail

builds=()
SESSIONS=50 SIZE=1024 N1=200 N2=1200
while (($#)); do
  case "$1" in
    --sessions) SESSIONS=$2; shift ;;
    --size) SIZE=$2; shift ;;
    --n1) N1=$2; shift ;;
    --n2) N2=$2; shift ;;
    -h | --help) sed -n 2,10p "$0"; exit 0 ;;
    *) builds+=("$(cd "$1" && pwd)") ;;
  esac
  shift
done
((${#builds[@]} >= 1 && ${#builds[@]} <= 2)) || { sed -n 8,9p "$0" >&2; exit 2; }
((N2 > N1)) || { echo "instructions.sh: --n2 must be larger than --n1" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "instructions.sh: needs valgrind" >&2; exit 1; }
BENCH=${builds[0]}/bin/hk-bench
WORK=$(mktemp -d /tmp/hk-instr.XXXXXX)
PID=""
cleanup() {
  [[ -n $PID ]] && kill "$PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# profile BUILD N OUT: one daemon under callgrind taking N messages; its profile goes to OUT.
profile() {
  local bin=$1/bin n=$2 out=$3 d port i
  d=$(mktemp -d "$WORK/srv.XXXXXX")
  port=$(free_port)
  mkdir -p "$d/domains/bench.test" "$d/data"
  echo '*: sink@bench.test' >"$d/domains/bench.test/aliases"
  cat >"$d/hikyaku.toml" <<EOT
hostname = "bench.test"
data_dir = "$d/data"
trusted_networks = ["127.0.0.0/8"]
[listen]
smtp = ["127.0.0.1:$port"]
submission = []
submission_tls = []
[limits]
max_connections_per_ip = 1000
EOT
  "$bin/hikyaku-util" -C "$d" user-add sink@bench.test --password=bench-sink-password >/dev/null
  valgrind --tool=callgrind --callgrind-out-file="$out" "$bin/hikyaku" -C "$d" >"$d/log" 2>&1 &
  PID=$!
  for ((i = 0; i < 300; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  timeout 600 "$BENCH" --server "127.0.0.1:$port" --sessions "$SESSIONS" --size "$SIZE" \
    --messages "$n" --rcpt x@bench.test --timeout 300 >/dev/null
  kill -TERM "$PID"
  wait "$PID" 2>/dev/null || true
  PID=""
}

labels=(new base)
for i in "${!builds[@]}"; do
  profile "${builds[$i]}" "$N1" "$WORK/${labels[$i]}.1"
  profile "${builds[$i]}" "$N2" "$WORK/${labels[$i]}.2"
done

python3 - "$WORK" "$N1" "$N2" "$SESSIONS" "$SIZE" "${builds[@]}" <<'PY'
import collections, re, subprocess, sys
work, n1, n2, sessions, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
builds = sys.argv[6:]

def costs(path):
    """Self cost of each function, keyed by a name without build-specific paths."""
    out = subprocess.run(["callgrind_annotate", "--threshold=100", "--auto=no", path],
                         capture_output=True, text=True, check=True).stdout
    d = collections.Counter()
    for line in out.splitlines():
        m = re.match(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$", line)
        if not m or "PROGRAM TOTALS" in line or "=>" in line:
            continue
        name = re.sub(r"^[^ ]*?\.(cpp|hpp|ipp|h|c|S|cc|tcc):", "", m.group(2))
        name = re.sub(r" \[/[^\]]*\]$", "", name)
        d[name] += int(m.group(1).replace(",", ""))
    return d

per = {}
for label in ["new", "base"][:len(builds)]:
    a, b = costs(f"{work}/{label}.1"), costs(f"{work}/{label}.2")
    per[label] = {k: (b[k] - a[k]) / (n2 - n1) for k in set(a) | set(b)}
print(f"instructions per message, {size} bytes, {sessions} sessions ({n2} - {n1} messages):")
for label, build in zip(["new", "base"], builds):
    print(f"  {label:5} {sum(per[label].values()):10.0f}  {build}")
if len(builds) == 2:
    total = sum(per["new"].values()) / sum(per["base"].values())
    print(f"  ratio {total:.3f}")
    keys = set(per["new"]) | set(per["base"])
    diff = sorted(((per["new"].get(k, 0) - per["base"].get(k, 0), k) for k in keys))
    print("largest changes per message (self cost, new - base):")
    for d, k in diff[::-1][:8] + diff[:8][::-1]:
        if abs(d) >= 50:
            print(f"  {d:+7.0f}  {k[:110]}")
PY
