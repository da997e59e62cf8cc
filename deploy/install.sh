#!/usr/bin/env bash
# Installs a built hikyaku on this machine: binaries, the hikyaku user, its folders, the ACME hooks
# and fail2ban files, and the systemd unit. Idempotent; never overwrites an existing configuration.
#   deploy/install.sh [BUILD_DIR]     (default: build-release)
# The defaults are the real places; the environment can move everything (tests/integration/
# t-40-quickstart installs under a temporary folder this way, leaving the machine alone):
#   HIKYAKU_PREFIX=/usr/local      binaries in PREFIX/sbin and PREFIX/bin, hooks in
#                                  PREFIX/share/hikyaku/{acme,fail2ban}, README in PREFIX/share/doc
#   HIKYAKU_ETC=/etc/hikyaku       the configuration folder
#   HIKYAKU_DATA=/var/lib/hikyaku  queue and mailboxes
#   HIKYAKU_USER=hikyaku           the system user the daemon runs as (created when missing)
#   HIKYAKU_SYSTEMD=auto           auto: install the unit when systemd runs; no: never touch systemd
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build-release}
prefix=${HIKYAKU_PREFIX:-/usr/local}
etc=${HIKYAKU_ETC:-/etc/hikyaku}
data=${HIKYAKU_DATA:-/var/lib/hikyaku}
user=${HIKYAKU_USER:-hikyaku}
systemd=${HIKYAKU_SYSTEMD:-auto}
case $systemd in
  auto | no) ;;
  *) echo "install.sh: HIKYAKU_SYSTEMD is auto or no, not '$systemd'" >&2; exit 2 ;;
esac
# The unit names /usr/local/sbin/hikyaku, /etc/hikyaku and /var/lib/hikyaku: it fits only the
# default places.
if [ "$prefix:$etc:$data:$user" != "/usr/local:/etc/hikyaku:/var/lib/hikyaku:hikyaku" ]; then
  systemd=no
fi

install -D -m 0755 "$build/bin/hikyaku" "$prefix/sbin/hikyaku"
install -D -m 0755 "$build/bin/hikyaku-util" "$prefix/bin/hikyaku-util"

if ! getent passwd "$user" >/dev/null; then
  useradd --system --home-dir "$data" --no-create-home --shell /usr/sbin/nologin "$user"
fi
install -d -m 0755 "$etc"
# The daemon reads users, aliases and keys (mode 0600) as the hikyaku user; hikyaku-util, run as
# root, gives the files it writes to the owner of their folder.
install -d -m 0750 -o "$user" -g "$user" "$etc/certs" "$etc/domains"
install -d -m 0750 -o "$user" -g "$user" "$data"
install -D -m 0644 "$src/deploy/hikyaku.toml" "$etc/hikyaku.toml.example"
install -D -m 0644 "$src/README.md" "$prefix/share/doc/hikyaku/README.md"
install -D -m 0644 "$src/docs/guide.md" "$prefix/share/doc/hikyaku/guide.md"
# The ACME hooks at a path that outlives the source tree (certbot records it for renewals).
install -D -m 0755 -t "$prefix/share/hikyaku/acme" "$src/deploy/acme/certbot-deploy-hook.sh" \
  "$src/deploy/acme/acme.sh-install.sh"
install -D -m 0644 -t "$prefix/share/hikyaku/acme" "$src/deploy/acme/README.md"
install -D -m 0644 -t "$prefix/share/hikyaku/fail2ban/filter.d" \
  "$src/deploy/fail2ban/filter.d/hikyaku.conf"
install -D -m 0644 -t "$prefix/share/hikyaku/fail2ban/jail.d" \
  "$src/deploy/fail2ban/jail.d/hikyaku.conf"
if [ "$systemd" = auto ] && [ -d /run/systemd/system ]; then
  install -m 0644 "$src/deploy/hikyaku.service" /etc/systemd/system/hikyaku.service
  systemctl daemon-reload
fi
echo "installed: $prefix/sbin/hikyaku, $prefix/bin/hikyaku-util; config $etc; data $data"
