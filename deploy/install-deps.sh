#!/usr/bin/env bash
# Installs the Debian 12 packages hikyaku needs to build, run and test. Idempotent.
#   deploy/install-deps.sh          build + run dependencies
#   deploy/install-deps.sh --test   also the real clients and servers the tests drive
#   deploy/install-deps.sh --bench  also chasquid and OpenDKIM for the benchmark comparison
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

build=(build-essential cmake pkg-config git libboost1.81-dev libssl-dev libc-ares-dev
       libtomlplusplus-dev libopendkim-dev libidn2-dev libgtest-dev libgmock-dev openssl
       ca-certificates libsystemd-dev
       libpsl-dev publicsuffix)
test=(clang-format-14 dnsutils swaks libnet-ssleay-perl libio-socket-ssl-perl libauthen-sasl-perl curl python3 python3-aiosmtpd python3-dkim dnsmasq-base opendkim-tools
      msmtp iproute2 procps prometheus fail2ban haproxy systemd clang-14 libclang-rt-14-dev)
# t-38-debian-package: dpkg-buildpackage with debhelper's cmake support, then lintian.
test+=(debhelper dpkg-dev lintian)
# t-33-dane: a DNSSEC-signed zone (ldns-signzone) served by nsd, validated by unbound.
test+=(unbound nsd ldnsutils)
# t-37-postfix-receiver (and the benchmark): instances of its own, never the system one.
test+=(postfix)
# t-39-guide: the receiving Postfix checks SPF and DKIM the way Debian's mail servers do.
test+=(postfix-policyd-spf-python opendkim)
# t-41-import-chasquid: the real chasquid-util makes the users files import-chasquid reads.
test+=(chasquid)
# t-48-console-browser: the console in a real browser, headless Chromium driven by Selenium.
test+=(chromium)
test+=(chromium-driver)
test+=(python3-selenium)
# t-51-app-clients: a web app's own mail libraries (Node.js and PHP) sending to capture mode.
test+=(node-nodemailer libphp-phpmailer php-cli)
bench=(chasquid opendkim)
# The submission benchmark (AUTH): Postfix asks Dovecot's auth server, run from its own config
# dir; the system dovecot service stays off.
bench+=(dovecot-core)

want=("${build[@]}")
for arg in "$@"; do
  case "$arg" in
    --test) want+=("${test[@]}") ;;
    --bench) want+=("${test[@]}" "${bench[@]}") ;;
    *) echo "install-deps.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: need root to install: ${missing[*]}" >&2
  exit 1
fi
# Postfix must never configure or start a system instance here; the benchmark and
# t-37-postfix-receiver run their own.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
# Another apt run (a test installing its packages, unattended-upgrades) may hold the lock: wait.
apt-get -o DPkg::Lock::Timeout=300 update -qq
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts packaged daemons on install; the benchmark and the tests start their own instead.
# haproxy too: t-24-haproxy runs its own in the foreground, never the system service.
for svc in chasquid postfix haproxy; do
  if command -v systemctl >/dev/null && systemctl is-active -q "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
  fi
done
# t-39-guide runs its own OpenDKIM milter; the system service stays off.
if command -v systemctl >/dev/null && systemctl is-enabled -q opendkim 2>/dev/null; then
  systemctl disable --now opendkim || true
fi
# The benchmark runs its own Dovecot auth server; the system service stays off.
if command -v systemctl >/dev/null && systemctl is-enabled -q dovecot 2>/dev/null; then
  systemctl disable --now dovecot || true
fi
# t-33-dane runs its own nsd and unbound on loopback; the system services stay off.
for svc in unbound nsd; do
  if command -v systemctl >/dev/null && systemctl is-enabled -q "$svc" 2>/dev/null; then
    systemctl disable --now "$svc" || true
  fi
done
# The tests need only promtool from Debian's prometheus; its server (port 9090) stays off.
if command -v systemctl >/dev/null && systemctl is-enabled -q prometheus 2>/dev/null; then
  systemctl disable --now prometheus || true
fi
# The tests run only fail2ban-regex and fail2ban-client -t; the fail2ban server stays off.
if command -v systemctl >/dev/null && systemctl is-enabled -q fail2ban 2>/dev/null; then
  systemctl disable --now fail2ban || true
fi
