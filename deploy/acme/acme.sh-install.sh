#!/usr/bin/env bash
# Registers hikyaku with acme.sh for one certificate: acme.sh copies the certificate into
# hikyaku's certs folder now and after every renewal, then runs the reload command.
#
#   deploy/acme/acme.sh-install.sh mx.example.com [more acme.sh options, e.g. --ecc]
#
# Issue the certificate first (acme.sh --issue -d mx.example.com ...). Run this as the user that
# runs acme.sh (normally root). What it runs is, in short:
#
#   acme.sh --install-cert -d mx.example.com \
#     --fullchain-file /etc/hikyaku/certs/mx.example.com/fullchain.pem \
#     --key-file       /etc/hikyaku/certs/mx.example.com/privkey.pem \
#     --reloadcmd "chown hikyaku: ...; chmod 600 .../privkey.pem; systemctl reload hikyaku"
set -euo pipefail

certs_dir=${HIKYAKU_CERTS_DIR:-/etc/hikyaku/certs}
service=${HIKYAKU_SERVICE:-hikyaku}
# The user the daemon runs as (the unit's User=, or run_as in hikyaku.toml): after a renewal it
# rereads the key as that user, so the copies must be that user's (key mode 0600).
user=${HIKYAKU_USER:-hikyaku}

die() {
  echo "acme.sh-install: $*" >&2
  exit 1
}

[[ $# -ge 1 ]] || die "usage: $0 DOMAIN [acme.sh options...]"
domain=$1
shift
# The domain ends up inside --reloadcmd, a shell string acme.sh evaluates: allow host names only.
[[ $domain =~ ^(\*\.)?[A-Za-z0-9][A-Za-z0-9.-]*$ ]] || die "invalid domain '$domain'"
[[ $certs_dir =~ ^[A-Za-z0-9/._-]+$ ]] || die "unsupported characters in '$certs_dir'"
[[ $service =~ ^[A-Za-z0-9@._-]+$ ]] || die "invalid service name '$service'"
[[ $user =~ ^[a-z_][a-z0-9_-]*$ ]] || die "invalid user name '$user'"
folder=${domain//\*/_wildcard} # a wildcard certificate gets a plain folder name
dest=$certs_dir/$folder

acme=${ACME_SH:-}
if [[ -z $acme ]]; then
  if [[ -x $HOME/.acme.sh/acme.sh ]]; then
    acme=$HOME/.acme.sh/acme.sh
  else
    acme=$(command -v acme.sh) || die "acme.sh not found; set ACME_SH=/path/to/acme.sh"
  fi
fi

# acme.sh writes into existing files in place (keeping their owner and mode) and the daemon
# rereads a file whose size, mtime or ctime changed, so a half-written copy is retried.
group=root
chown_cmd=""
if id -u "$user" >/dev/null 2>&1; then
  group=$user
  chown_cmd="chown $user:$user $dest/privkey.pem $dest/fullchain.pem && "
fi
install -d -m 0755 "$certs_dir"
install -d -m 0750 -o root -g "$group" "$dest"

reload="${chown_cmd}chmod 600 $dest/privkey.pem && chmod 644 $dest/fullchain.pem"
reload+=" && if systemctl is-active --quiet $service 2>/dev/null; then systemctl reload $service; fi"

"$acme" --install-cert -d "$domain" \
  --fullchain-file "$dest/fullchain.pem" \
  --key-file "$dest/privkey.pem" \
  --reloadcmd "$reload" \
  "$@"
