#!/usr/bin/env bash
# From a fresh Debian 12 machine to a running hikyaku: installs the packages, builds, installs,
# writes a working loopback configuration (only if there is none yet) and starts the daemon.
# Afterwards `swaks --server 127.0.0.1:2525 --to postmaster@localhost` is delivered to the
# Maildir of the local user admin@localhost.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
etc=/etc/hikyaku
data=/var/lib/hikyaku

bash "$src/deploy/install-deps.sh"
cmake -S "$src" -B "$src/build-release" -DCMAKE_BUILD_TYPE=Release -DHK_TESTS=OFF >/dev/null
cmake --build "$src/build-release" -j"$(nproc)" --target hikyaku hikyaku-util
bash "$src/deploy/install.sh" "$src/build-release"

password=""
if [ ! -f "$etc/hikyaku.toml" ]; then
  cat >"$etc/hikyaku.toml" <<TOML
# Written by deploy/quickstart.sh: a local server for trying hikyaku and for development.
# Everything listens on loopback only; see hikyaku.toml.example for every setting.
hostname = "localhost"
data_dir = "$data"
# Started as root, the daemon binds its ports and then runs as this user (under systemd the unit's
# User=hikyaku does it already).
run_as = "hikyaku"
# Your local applications may send to any address without AUTH.
trusted_networks = ["127.0.0.0/8", "::1/128"]
[listen]
smtp = ["127.0.0.1:2525", "[::1]:2525"]
submission = ["127.0.0.1:5587"]
submission_tls = ["127.0.0.1:5465"]
metrics = ["127.0.0.1:9025"]
TOML
  mkdir -p "$etc/domains/localhost"
  password=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
  printf '%s' "$password" | hikyaku-util -C "$etc" user-add admin@localhost --password-stdin
  printf 'postmaster: admin\nroot: admin\n' >"$etc/domains/localhost/aliases"
  # A self-signed certificate so that STARTTLS (587) and implicit TLS (465) work at once.
  mkdir -p "$etc/certs/localhost"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost" \
    -keyout "$etc/certs/localhost/privkey.pem" -out "$etc/certs/localhost/fullchain.pem" 2>/dev/null
fi
chown -R hikyaku:hikyaku "$etc/domains" "$etc/certs"
chmod 0600 "$etc"/certs/*/privkey.pem 2>/dev/null || true

hikyaku -C "$etc" --check-config
if [ -d /run/systemd/system ]; then
  systemctl enable --now hikyaku >/dev/null 2>&1 || true
  systemctl restart hikyaku
  logs="journalctl -u hikyaku"
else
  # No systemd (a container): run it in the background; it drops to run_as (hikyaku) itself once
  # its ports are bound. A configuration without run_as gets the same through setpriv.
  pkill -x hikyaku 2>/dev/null && sleep 1 || true
  install -m 0640 -o hikyaku -g hikyaku /dev/null /var/log/hikyaku.log
  if grep -q '^run_as *= *"..*"' "$etc/hikyaku.toml"; then
    setsid hikyaku -C "$etc" >>/var/log/hikyaku.log 2>&1 </dev/null &
  else
    setsid setpriv --reuid=hikyaku --regid=hikyaku --init-groups \
      hikyaku -C "$etc" >>/var/log/hikyaku.log 2>&1 </dev/null &
  fi
  logs="/var/log/hikyaku.log"
fi
for _ in $(seq 1 50); do
  (exec 3<>/dev/tcp/127.0.0.1/2525) 2>/dev/null && break
  sleep 0.2
done
cat <<INFO

hikyaku is running.
  config:     $etc/hikyaku.toml   (domains in $etc/domains, certificates in $etc/certs)
  data:       $data   (queue in $data/queue, mailboxes in $data/mail)
  logs:       $logs
  smtp:       127.0.0.1:2525   submission: 127.0.0.1:5587 (STARTTLS)   smtps: 127.0.0.1:5465
  try:        swaks --server 127.0.0.1:2525 --to postmaster@localhost
INFO
if [ -n "$password" ]; then
  echo "  user:       admin@localhost, password $password (change: hikyaku-util user-add admin@localhost --force)"
fi
