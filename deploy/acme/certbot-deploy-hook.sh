#!/usr/bin/env bash
# certbot --deploy-hook for hikyaku: installs a renewed certificate into hikyaku's certs folder
# and asks the daemon to reload it (it would also notice the changed files by itself).
#
#   certbot certonly ... -d mx.example.com \
#     --deploy-hook /path/to/deploy/acme/certbot-deploy-hook.sh
#
# certbot sets RENEWED_LINEAGE (/etc/letsencrypt/live/<name>). The files go to
# $HIKYAKU_CERTS_DIR/<name>/ (default /etc/hikyaku/certs). HIKYAKU_CERT_MODE=copy (default)
# copies them, readable by the hikyaku user only for the key; HIKYAKU_CERT_MODE=link makes the
# folder a symlink to the lineage instead (only if the hikyaku user can read /etc/letsencrypt).
#
# SECURITY: runs as root and handles a private key: the copy is created with mode 0600 before any
# byte is written, and each file is renamed into place so the daemon never reads half a file.
set -euo pipefail

certs_dir=${HIKYAKU_CERTS_DIR:-/etc/hikyaku/certs}
mode=${HIKYAKU_CERT_MODE:-copy}
service=${HIKYAKU_SERVICE:-hikyaku}
# The user the daemon runs as (the unit's User=, or run_as in hikyaku.toml): after a renewal it
# rereads the key as that user, so the copies must be that user's (key mode 0600).
user=${HIKYAKU_USER:-hikyaku}

die() {
  echo "hikyaku deploy hook: $*" >&2
  exit 1
}

lineage=${RENEWED_LINEAGE:-}
[[ -n $lineage ]] || die "RENEWED_LINEAGE is not set (run me as certbot's --deploy-hook)"
[[ -r $lineage/fullchain.pem && -r $lineage/privkey.pem ]] ||
  die "$lineage has no readable fullchain.pem and privkey.pem"
name=$(basename -- "$lineage")
[[ $name =~ ^[A-Za-z0-9_][A-Za-z0-9._-]*$ ]] || die "unexpected certificate name '$name'"
dest=$certs_dir/$name

owner=()
group=root
if id -u "$user" >/dev/null 2>&1; then
  owner=(-o "$user" -g "$user")
  group=$user
fi

install -d -m 0755 "$certs_dir"
case $mode in
  copy)
    if [[ -L $dest ]]; then
      rm -f -- "$dest" # a former link-mode install
    fi
    install -d -m 0750 -o root -g "$group" "$dest"
    # Key first: between the two renames the daemon may see the new key with the old
    # certificate, reject the pair once and keep serving the old one until the second rename.
    for file in privkey.pem fullchain.pem; do
      perm=0644
      [[ $file == privkey.pem ]] && perm=0600
      tmp=$(mktemp "$dest/.$file.XXXXXX")
      install -m "$perm" "${owner[@]}" -- "$lineage/$file" "$tmp"
      mv -f -- "$tmp" "$dest/$file"
    done
    ;;
  link)
    if [[ -e $dest && ! -L $dest ]]; then
      die "$dest exists and is not a symlink; move it away to use link mode"
    fi
    tmp="$certs_dir/.$name.link.$$"
    ln -sfn -- "$lineage" "$tmp"
    mv -fT -- "$tmp" "$dest"
    ;;
  *)
    die "HIKYAKU_CERT_MODE must be copy or link, not '$mode'"
    ;;
esac

# SIGHUP through systemd; if the daemon is not running there is nothing to tell.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
  systemctl reload "$service"
fi
echo "hikyaku deploy hook: installed $name into $dest ($mode)"
