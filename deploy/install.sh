#!/usr/bin/env bash
# Installs a built hikyaku on this machine: binaries, the hikyaku user, its folders, a config (only
# when none exists) and the systemd unit. Idempotent; never overwrites an existing configuration.
#   deploy/install.sh [BUILD_DIR]     (default: build)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build-release}
etc=/etc/hikyaku
data=/var/lib/hikyaku

install -m 0755 "$build/bin/hikyaku" /usr/local/sbin/hikyaku
install -m 0755 "$build/bin/hikyaku-util" /usr/local/bin/hikyaku-util

if ! getent passwd hikyaku >/dev/null; then
  useradd --system --home-dir "$data" --no-create-home --shell /usr/sbin/nologin hikyaku
fi
install -d -m 0755 "$etc"
# The daemon reads users, aliases and keys (mode 0600) as the hikyaku user; hikyaku-util, run as
# root, gives the files it writes to the owner of their folder.
install -d -m 0750 -o hikyaku -g hikyaku "$etc/certs" "$etc/domains"
install -d -m 0750 -o hikyaku -g hikyaku "$data"
install -D -m 0644 "$src/deploy/hikyaku.toml" "$etc/hikyaku.toml.example"
install -D -m 0644 "$src/README.md" /usr/local/share/doc/hikyaku/README.md
if [ -d /run/systemd/system ]; then
  install -m 0644 "$src/deploy/hikyaku.service" /etc/systemd/system/hikyaku.service
  systemctl daemon-reload
fi
echo "installed: /usr/local/sbin/hikyaku, /usr/local/bin/hikyaku-util; config $etc; data $data"
