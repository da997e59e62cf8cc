#!/usr/bin/env bash
# The Debian package: `dpkg-buildpackage -us -uc -b` builds it from a copy of the source tree,
# lintian finds nothing to report, and apt-get installs, reinstalls, removes and purges it the way
# Debian software installs: binaries in /usr/sbin and /usr/bin, the unit enabled, the conffile
# kept when edited, the hikyaku user and its folders made by postinst (also when the user already
# exists), and after a purge nothing left of it but the user and mailboxes that hold mail.
#
# The installs happen in a throwaway root, never on this machine, which has its own
# /etc/hikyaku, /var/lib/hikyaku, hikyaku user and /usr/local programs (the quickstart's, and
# other tests' running in parallel): a private mount namespace (and host name) holding an overlay
# whose lower layer is / and whose upper layer is a tmpfs, entered with chroot. Everything the
# package needs is installed here already, so apt-get needs no network.
#
# Slow by nature (up to 15 minutes on a busy machine; tests/integration/CMakeLists.txt starts it
# first): the package build compiles the daemon and hikyaku-util with Debian's flags in a build
# tree of its own, measured at 470 CPU seconds (so some 4 minutes on two idle cores; it took 15
# and 20 minutes on two cores shared with five other builds), and lintian reads the whole
# package. With ccache installed, later runs reuse the objects: the whole test then takes about
# 70 seconds.
source "$(dirname "$0")/../lib.sh"

for tool in dpkg-buildpackage dh lintian unshare nsenter chroot; do
  command -v "$tool" >/dev/null || { fail "$tool is missing (deploy/install-deps.sh --test)"; finish; }
done

version=$(sed -n 's/^project(hikyaku VERSION \([0-9.]*\) .*/\1/p' "$HK_SRC/CMakeLists.txt")
check "debian/changelog's version is CMakeLists.txt's $version with revision -1" \
  test "$(dpkg-parsechangelog -l "$HK_SRC/debian/changelog" -S Version)" = "$version-1"
arch=$(dpkg --print-architecture)
deb=hikyaku_${version}-1_${arch}.deb

# --- build, from a copy of the source tree: what git tracks or would track, no build folders.
# A fixed folder beside the build tree, so that ccache sees the same paths every run.
W=$(dirname "$HK_BIN")/t-38-debian-package
rm -rf "$W"
mkdir -p "$W/hikyaku-$version"
if git -C "$HK_SRC" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$HK_SRC" ls-files -z --cached --others --exclude-standard |
    tar -C "$HK_SRC" --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -C "$W/hikyaku-$version" -xf -
else
  tar -C "$HK_SRC" --exclude='./build*' --exclude=./.git --exclude='./obj-*' -cf - . |
    tar -C "$W/hikyaku-$version" -xf -
fi
if command -v ccache >/dev/null; then
  # debhelper gives the build a HOME of its own, where ccache would find neither its
  # configuration nor its cache.
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache
  export CCACHE_DIR=${CCACHE_DIR:-$(ccache -k cache_dir)}
  conf=${XDG_CONFIG_HOME:-$HOME/.config}/ccache/ccache.conf
  [ -f "$conf" ] && export CCACHE_CONFIGPATH=${CCACHE_CONFIGPATH:-$conf}
fi
started=$(date +%s)
if (cd "$W/hikyaku-$version" &&
  timeout 780 nice dpkg-buildpackage -us -uc -b -j2 >"$W/build.log" 2>&1); then
  pass "dpkg-buildpackage -us -uc -b built the package in $(($(date +%s) - started)) s"
else
  fail "dpkg-buildpackage failed after $(($(date +%s) - started)) s (a first build without ccache on a busy machine may need more than the 780 s given)"
  tail -n 40 "$W/build.log" | sed 's/^/     /'
  finish
fi
check "it made $deb" test -f "$W/$deb"
changes=$W/hikyaku_${version}-1_${arch}.changes
check "the build configured the tests out (HK_TESTS=OFF)" \
  grep -q '^HK_TESTS:BOOL=OFF$' "$W/hikyaku-$version/obj-"*/CMakeCache.txt

# --- lintian: no errors and no warnings (accepted tags are overridden in debian/, each with why).
lintian --tag-display-limit 0 "$changes" >"$T/lintian.log" 2>&1 || true
check "lintian reports no errors or warnings" bash -c "! grep -E '^[EW]: ' '$T/lintian.log'"
sed 's/^/     lintian: /' "$T/lintian.log"

check "the package holds the programs, the unit, the conffile and the man pages" bash -c "
  dpkg-deb -c '$W/$deb' >'$T/contents' &&
  for f in ./usr/sbin/hikyaku ./usr/bin/hikyaku-util ./lib/systemd/system/hikyaku.service \
      ./etc/hikyaku/hikyaku.toml ./usr/share/man/man8/hikyaku.8.gz \
      ./usr/share/man/man8/hikyaku-util.8.gz ./usr/share/man/man5/hikyaku.toml.5.gz \
      ./usr/share/hikyaku/fail2ban/filter.d/hikyaku.conf \
      ./usr/share/hikyaku/fail2ban/jail.d/hikyaku.conf \
      ./usr/share/hikyaku/acme/certbot-deploy-hook.sh ./usr/share/doc/hikyaku/copyright; do
    grep -q \" \$f\$\" '$T/contents' || { echo missing \$f; exit 1; }
  done"
# Its settings are deploy/hikyaku.toml's, but for hostname, which is commented out.
dpkg-deb --fsys-tarfile "$W/$deb" | tar -xOf - ./etc/hikyaku/hikyaku.toml >"$T/conffile"
check "the conffile is the documented example with hostname left to the machine" test \
  "$(diff <(grep -v '^#' "$HK_SRC/deploy/hikyaku.toml") <(grep -v '^#' "$T/conffile") | grep '^[<>]')" \
  = '< hostname = "mx.example.com"'
check "the conffile says hostname as a comment" grep -qx '# hostname = "mx.example.com"' "$T/conffile"

# --- the throwaway root.
R=$T/root
mkdir -p "$R" "$T/ovl"
unshare --mount --propagation private --uts -- sleep 600 &
NS=$!
# Entered before unshare(2) has run, nsenter would join this machine's mount namespace.
in_own_ns() { [ "$(readlink "/proc/$NS/ns/mnt")" != "$(readlink /proc/$$/ns/mnt)" ] &&
  [ "$(cat "/proc/$NS/comm" 2>/dev/null)" = sleep ]; }
for _ in $(seq 1 50); do in_own_ns && break; sleep 0.1; done
in_own_ns || { fail "unshare made no mount namespace"; finish; }
ns() { nsenter --target "$NS" --mount --uts -- "$@"; }
inroot() { ns chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }
export NS R
export -f ns inroot
# This machine's hikyaku, to show at the end that the test left it alone.
host_state() {
  getent passwd hikyaku || true
  stat -c '%n %a %U' /etc/hikyaku /var/lib/hikyaku /usr/local/sbin/hikyaku /usr/sbin/hikyaku \
    /usr/bin/hikyaku-util /lib/systemd/system/hikyaku.service 2>&1 || true
  dpkg-query -W -f='${db:Status-Abbrev}\n' hikyaku 2>&1 || true
}
host_state >"$T/host-before"
ns mount -t tmpfs -o size=2G,mode=0755 hk-t38 "$T/ovl"
ns mkdir "$T/ovl/upper" "$T/ovl/work"
ns mount -t overlay overlay -o "lowerdir=/,upperdir=$T/ovl/upper,workdir=$T/ovl/work" "$R"
# Nothing below may run unless the root is the overlay, seen only from the namespace.
if [ "$(ns findmnt -n -o FSTYPE "$R")" = overlay ] && ! findmnt "$R" >/dev/null &&
  ns test -x "$R/usr/bin/apt-get"; then
  pass "the throwaway root is an overlay in a namespace of its own"
else
  fail "the throwaway root is not an overlay in a namespace of its own"
  finish
fi
ns mount -t proc proc "$R/proc"
ns mount --rbind /dev "$R/dev"
ns mount -t tmpfs tmpfs "$R/run"
ns mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
# A host name that is a valid domain name, which the conffile's unset hostname falls back to.
ns hostname mail.example.test
ns cp "$W/$deb" "$R/tmp/$deb"
# Nothing is started in the throwaway root (no systemd runs in it either).
printf '#!/bin/sh\nexit 101\n' | ns tee "$R/usr/sbin/policy-rc.d" >/dev/null
ns chmod 0755 "$R/usr/sbin/policy-rc.d"

# This machine's own hikyaku, gone from the throwaway root only: the package must make it all.
inroot sh -c 'if getent passwd hikyaku >/dev/null; then userdel hikyaku; fi
  if getent group hikyaku >/dev/null; then groupdel hikyaku; fi
  rm -rf /etc/hikyaku /var/lib/hikyaku /usr/local/sbin/hikyaku /usr/local/bin/hikyaku-util'
# What the throwaway root holds before the package, to compare with after the purge. dpkg's and
# apt's own records and logs change by design and are left out.
snapshot() {
  inroot find /etc /usr /var /opt /srv -xdev \
    -path /var/log -prune -o -path /var/cache -prune -o -path /var/lib/apt -prune -o \
    -path /var/lib/dpkg -prune -o -path /var/backups -prune -o -regex '/etc/[a-z]*-' -prune -o \
    -print | sort
}
snapshot >"$T/before"

aptget() { inroot timeout 120 apt-get -q -y -o Dpkg::Options::=--force-confdef \
  -o Dpkg::Options::=--force-confold "$@" </dev/null >>"$T/apt.log" 2>&1; }
check "apt-get install ./$deb" aptget install "/tmp/$deb"
check "/usr/sbin/hikyaku --version" \
  bash -c "[ \"\$(inroot /usr/sbin/hikyaku --version)\" = 'hikyaku $version' ]"
check "/usr/bin/hikyaku-util --version" \
  bash -c "[ \"\$(inroot /usr/bin/hikyaku-util --version)\" = 'hikyaku-util $version' ]"
check "hikyaku --check-config passes on the fresh install" \
  bash -c "inroot /usr/sbin/hikyaku --check-config | grep -qx '/etc/hikyaku/hikyaku.toml: ok'"
check "the configuration's hostname is the machine's" \
  bash -c "inroot /usr/bin/hikyaku-util print-config | grep -qx 'hostname = \"mail.example.test\"'"
check "postinst made the hikyaku system user (nologin, home /var/lib/hikyaku)" \
  bash -c "inroot getent passwd hikyaku | awk -F: '\$3 < 1000 && \$6 == \"/var/lib/hikyaku\" &&
    \$7 == \"/usr/sbin/nologin\" { ok = 1 } END { exit !ok }'"
check "postinst made /var/lib/hikyaku, /etc/hikyaku/domains and certs: hikyaku's, mode 0750" \
  bash -c "[ \"\$(inroot stat -c '%a %U %G' /var/lib/hikyaku /etc/hikyaku/domains \
    /etc/hikyaku/certs | sort -u)\" = '750 hikyaku hikyaku' ]"
check "/etc/hikyaku/hikyaku.toml is a conffile" \
  bash -c "inroot dpkg-query -W -f='\${Conffiles}' hikyaku | grep -q '^ /etc/hikyaku/hikyaku.toml '"
check "the unit runs /usr/sbin/hikyaku and is enabled" inroot sh -c '
  grep -qx "ExecStart=/usr/sbin/hikyaku -C /etc/hikyaku" /lib/systemd/system/hikyaku.service &&
  [ -L /etc/systemd/system/multi-user.target.wants/hikyaku.service ]'
check "systemd-analyze verify passes on the installed unit" \
  inroot systemd-analyze verify --man=no /lib/systemd/system/hikyaku.service
check "the man pages render without warnings" inroot sh -c '
  for page in hikyaku.8 hikyaku-util.8 hikyaku.toml.5; do
    [ -z "$(MANWIDTH=80 man --warnings -l "/usr/share/man/man${page##*.}/$page.gz" 2>&1 >/dev/null)" ] || exit 1
  done'
check "hikyaku-util user-add works on the installed folders, files given to hikyaku" inroot sh -c '
  printf secret | hikyaku-util user-add ann@example.test --password-stdin >/dev/null &&
  [ "$(stat -c "%U %a" /etc/hikyaku/domains/example.test/users)" = "hikyaku 600" ] &&
  printf secret | hikyaku-util authenticate ann@example.test --password-stdin >/dev/null'

# An edited conffile is never overwritten; postinst runs again with the user and folders there.
inroot sed -i 's/^log_level = "info"$/log_level = "warn"/' /etc/hikyaku/hikyaku.toml
check "apt-get install --reinstall" aptget install --reinstall "/tmp/$deb"
check "the edited conffile was kept" inroot grep -qx 'log_level = "warn"' /etc/hikyaku/hikyaku.toml
check "the user's files were kept" inroot test -s /etc/hikyaku/domains/example.test/users

check "apt-get remove hikyaku" aptget remove hikyaku
check "remove: the programs are gone" inroot sh -c '! [ -e /usr/sbin/hikyaku ] && ! [ -e /usr/bin/hikyaku-util ]'
check "remove: the configuration and the data stay" inroot sh -c '
  [ -f /etc/hikyaku/hikyaku.toml ] && [ -d /var/lib/hikyaku ] && getent passwd hikyaku >/dev/null'
check "remove: dpkg keeps only the config files" \
  bash -c "[ \"\$(inroot dpkg-query -W -f='\${db:Status-Abbrev}' hikyaku)\" = 'rc ' ]"

check "apt-get purge hikyaku" aptget purge hikyaku
check "purge: dpkg knows nothing of hikyaku" inroot sh -c '
  ! dpkg-query -W hikyaku 2>/dev/null && ! ls /var/lib/dpkg/info/hikyaku.* 2>/dev/null'
check "purge: the user stays (files may still be its)" inroot getent passwd hikyaku
snapshot >"$T/after"
check "purge: nothing else is left: files, folders, conffiles, unit links" \
  diff "$T/before" "$T/after"

# Installed again: the hikyaku user exists now. Purged with mail in a mailbox: the mailboxes stay.
check "apt-get install again, the user already there" aptget install "/tmp/$deb"
check "postinst made the folders again" inroot test -d /var/lib/hikyaku/.
inroot sh -c 'install -d -o hikyaku /var/lib/hikyaku/mail/example.test/ann/new /var/lib/hikyaku/queue &&
  echo "Subject: kept" >/var/lib/hikyaku/mail/example.test/ann/new/1.eml &&
  echo queued >/var/lib/hikyaku/queue/x.msg'
check "apt-get purge, with mail in a mailbox" aptget purge hikyaku
check "purge: the mailboxes holding mail stay" \
  inroot test -f /var/lib/hikyaku/mail/example.test/ann/new/1.eml
check "purge: the queue, the configuration and the programs go" inroot sh -c '
  ! [ -e /var/lib/hikyaku/queue ] && ! [ -e /etc/hikyaku ] && ! [ -e /usr/sbin/hikyaku ]'
check "purge said that it kept the mailboxes" grep -q "kept the mailboxes in /var/lib/hikyaku/mail" "$T/apt.log"

host_state >"$T/host-after"
check "this machine's hikyaku user, folders, programs and packages are as they were" \
  diff "$T/host-before" "$T/host-after"

kill "$NS" 2>/dev/null || true
wait "$NS" 2>/dev/null || true
[ "$FAILS" -eq 0 ] && rm -rf "$W"
finish
