#!/usr/bin/env bash
# From a fresh Debian 12 machine to a running hikyaku: installs the packages, builds, installs,
# writes a working loopback configuration (only if there is none yet) and starts the daemon.
# Afterwards `swaks --server 127.0.0.1:2525 --to postmaster@localhost` is delivered to the
# Maildir of the local user admin@localhost. docs/guide.md goes on from here to a real server.
#
# The defaults are the real places and ports. The environment can move all of it, so that a test
# (tests/integration/t-40-quickstart) runs this script as a new user would without touching the
# machine's own installation:
#   HIKYAKU_PREFIX, HIKYAKU_ETC, HIKYAKU_DATA, HIKYAKU_USER, HIKYAKU_SYSTEMD   see deploy/install.sh
#   HIKYAKU_BUILD_DIR=build-release   the build folder; one that is already configured (has a
#                                     CMakeCache.txt) is only brought up to date, never reconfigured
#   HIKYAKU_SMTP_PORT=2525 HIKYAKU_SUBMISSION_PORT=5587 HIKYAKU_SUBMISSIONS_PORT=5465
#   HIKYAKU_METRICS_PORT=9025 HIKYAKU_CONSOLE_PORT=8025
#                                     the loopback ports of the configuration it writes
#   HIKYAKU_LOG=/var/log/hikyaku.log  the log when there is no systemd (the daemon then runs in the
#                                     background; its pid is in DATA/quickstart.pid)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
prefix=${HIKYAKU_PREFIX:-/usr/local}
etc=${HIKYAKU_ETC:-/etc/hikyaku}
data=${HIKYAKU_DATA:-/var/lib/hikyaku}
user=${HIKYAKU_USER:-hikyaku}
build=${HIKYAKU_BUILD_DIR:-$src/build-release}
smtp_port=${HIKYAKU_SMTP_PORT:-2525}
submission_port=${HIKYAKU_SUBMISSION_PORT:-5587}
submissions_port=${HIKYAKU_SUBMISSIONS_PORT:-5465}
metrics_port=${HIKYAKU_METRICS_PORT:-9025}
console_port=${HIKYAKU_CONSOLE_PORT:-8025}
logfile=${HIKYAKU_LOG:-/var/log/hikyaku.log}
export HIKYAKU_PREFIX=$prefix HIKYAKU_ETC=$etc HIKYAKU_DATA=$data HIKYAKU_USER=$user

bash "$src/deploy/install-deps.sh"
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DHK_TESTS=OFF >/dev/null
fi
cmake --build "$build" -j"$(nproc)" --target hikyaku hikyaku-util
bash "$src/deploy/install.sh" "$build"
# install.sh decides whether systemd is ours to use (only for the default places).
systemd=${HIKYAKU_SYSTEMD:-auto}
if [ "$prefix:$etc:$data:$user" != "/usr/local:/etc/hikyaku:/var/lib/hikyaku:hikyaku" ] ||
  [ ! -d /run/systemd/system ]; then
  systemd=no
fi

password=""
if [ ! -f "$etc/hikyaku.toml" ]; then
  cat >"$etc/hikyaku.toml" <<TOML
# Written by deploy/quickstart.sh: a local server for trying hikyaku and for development.
# Everything listens on loopback only; see hikyaku.toml.example for every setting.
hostname = "localhost"
data_dir = "$data"
# Started as root, the daemon binds its ports and then runs as this user (under systemd the unit's
# User=hikyaku does it already).
run_as = "$user"
# Your local applications may send to any address without AUTH.
trusted_networks = ["127.0.0.0/8", "::1/128"]
[listen]
smtp = ["127.0.0.1:$smtp_port", "[::1]:$smtp_port"]
submission = ["127.0.0.1:$submission_port"]
submission_tls = ["127.0.0.1:$submissions_port"]
metrics = ["127.0.0.1:$metrics_port"]
# The web console (docs/console.md): the queue, the delivery log and health; captured mail when
# [capture] enabled = true. Loopback only: from elsewhere, an SSH tunnel.
console = ["127.0.0.1:$console_port"]
TOML
  mkdir -p "$etc/domains/localhost"
  password=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
  printf '%s' "$password" |
    "$prefix/bin/hikyaku-util" -C "$etc" user-add admin@localhost --password-stdin
  printf 'postmaster: admin\nroot: admin\n' >"$etc/domains/localhost/aliases"
  # A self-signed certificate so that STARTTLS (587) and implicit TLS (465) work at once.
  mkdir -p "$etc/certs/localhost"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost" \
    -keyout "$etc/certs/localhost/privkey.pem" -out "$etc/certs/localhost/fullchain.pem" 2>/dev/null
fi
chown -R "$user:$user" "$etc/domains" "$etc/certs"
chmod 0600 "$etc"/certs/*/privkey.pem 2>/dev/null || true

"$prefix/sbin/hikyaku" -C "$etc" --check-config
# Where to wait for it: the first smtp listener of whatever configuration is in place (without a
# smtp line, the default 0.0.0.0:25); a wildcard address is reached on loopback.
listener=$(sed -n 's/^smtp *= *\["\([^"]*\)".*/\1/p' "$etc/hikyaku.toml" | head -n1)
listener=${listener:-0.0.0.0:25}
port=${listener##*:}
host=${listener%:*}
host=${host#[}
host=${host%]}
case $host in
  0.0.0.0) host=127.0.0.1 ;;
  ::) host=::1 ;;
esac
if [ "$systemd" = auto ]; then
  systemctl enable --now hikyaku >/dev/null 2>&1 || true
  systemctl restart hikyaku
  logs="journalctl -u hikyaku"
  stop="systemctl stop hikyaku"
else
  # No systemd (a container), or a private installation: run it in the background. It drops to
  # run_as itself once its ports are bound; a configuration without run_as gets the same through
  # setpriv. Only the daemon this script started last is stopped (by its pid), never another.
  pidfile=$data/quickstart.pid
  if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null &&
    [ "$(ps -o comm= -p "$(cat "$pidfile")")" = hikyaku ]; then
    old=$(cat "$pidfile")
    kill "$old"
    # It drains first (up to [limits] shutdown_grace); an idle one is gone at once.
    for _ in $(seq 1 350); do kill -0 "$old" 2>/dev/null || break; sleep 0.1; done
  fi
  install -D -m 0640 -o "$user" -g "$user" /dev/null "$logfile"
  if grep -q '^run_as *= *"..*"' "$etc/hikyaku.toml"; then
    setsid "$prefix/sbin/hikyaku" -C "$etc" >>"$logfile" 2>&1 </dev/null &
  else
    setsid setpriv --reuid="$user" --regid="$user" --init-groups \
      "$prefix/sbin/hikyaku" -C "$etc" >>"$logfile" 2>&1 </dev/null &
  fi
  echo $! >"$pidfile"
  logs=$logfile
  stop="kill \$(cat $pidfile)"
fi
# Say "running" only once it accepts connections (a busy machine may take a while).
listening=""
for _ in $(seq 1 150); do
  if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
    listening=yes
    break
  fi
  sleep 0.2
done
if [ -z "$listening" ]; then
  echo "quickstart: hikyaku does not accept connections on $host port $port after 30 s; see $logs" >&2
  exit 1
fi
server="$host:$port"
# The console's address, when the configuration in place has one.
console=$(sed -n 's/^console *= *\["\([^"]*\)".*/\1/p' "$etc/hikyaku.toml" | head -n1)
if [[ $host == *:* ]]; then server="$host --port $port"; fi
cat <<INFO

hikyaku is running.
  config:     $etc/hikyaku.toml   (domains in $etc/domains, certificates in $etc/certs)
  data:       $data   (queue in $data/queue, mailboxes in $data/mail)
  logs:       $logs
  stop:       $stop
  smtp:       127.0.0.1:$smtp_port   submission: 127.0.0.1:$submission_port (STARTTLS)   smtps: 127.0.0.1:$submissions_port
  try:        swaks --server $server --to postmaster@localhost
${console:+  console:    http://$console/   (the queue, the delivery log, health)
}  next:       docs/guide.md, from here to signed mail in the inbox
INFO
util=hikyaku-util
if [ "$prefix:$etc" != "/usr/local:/etc/hikyaku" ]; then
  util="$prefix/bin/hikyaku-util -C $etc"
fi
if [ -n "$password" ]; then
  echo "  user:       admin@localhost, password $password (change: $util user-add admin@localhost --force)"
fi
