#!/usr/bin/env bash
# deploy/quickstart.sh (the README's first command) run as a new user runs it — as root, from the
# source tree — but into a temporary prefix, configuration and data folder, on free loopback
# ports, as a system user of its own (removed at the end) and without systemd (HIKYAKU_* variables, see the script), so
# that it never touches this machine's /etc/hikyaku, /var/lib/hikyaku, /usr/local or systemd, which
# other tests and the machine's own hikyaku may be using. It must start the daemon; mail to
# postmaster@localhost lands in admin's Maildir; AUTH over STARTTLS works with the password it
# printed (and a wrong one is refused); a second run keeps the configuration and replaces only its
# own daemon; the printed stop command stops it; and the machine's own installation is unchanged.
#
# The quickstart builds a Release build. Here HIKYAKU_BUILD_DIR names the build this test belongs
# to (the parent of HK_BIN, already configured and built by ctest's caller): the script then runs
# only `cmake --build` for the two binaries, a no-op, instead of a second full compile.
source "$(dirname "$0")/../lib.sh"

BUILD=$(dirname "$HK_BIN")
QS_USER=hk-t40-$$
# A run killed outright (ctest's timeout) leaves its user behind: remove those whose test is gone.
for stale in $(getent passwd | sed -n 's/^\(hk-t40-\([0-9]*\)\):.*/\1:\2/p'); do
  kill -0 "${stale#*:}" 2>/dev/null || userdel "${stale%%:*}" 2>/dev/null || true
done
# The daemon drops to QS_USER and must reach its folders under $T.
chmod 711 "$T"

# The machine's own installation, as quickstart would change it (owner, mode, inode, size, mtime).
machine_state() {
  local p
  for p in /etc/hikyaku /etc/hikyaku/hikyaku.toml /etc/hikyaku/hikyaku.toml.example \
    /var/lib/hikyaku /usr/local/sbin/hikyaku /usr/local/bin/hikyaku-util \
    /usr/local/share/doc/hikyaku/README.md /usr/local/share/hikyaku \
    /etc/systemd/system/hikyaku.service; do
    if [ -d "$p" ]; then
      stat -c '%n %U %a %i' "$p"
    elif [ -e "$p" ]; then
      stat -c '%n %U %a %i %s %Y' "$p"
    else
      echo "$p absent"
    fi
  done
}
machine_state >"$T/machine.before"

# Five ports free on 127.0.0.1 and ::1 (the configuration listens on both for smtp).
read -r SMTP SUB SUBS METRICS CONSOLE < <("$PY" - <<'PY'
import socket
ports = []
while len(ports) < 5:
    s4 = socket.socket(); s4.bind(("127.0.0.1", 0)); port = s4.getsockname()[1]
    try:
        s6 = socket.socket(socket.AF_INET6); s6.bind(("::1", port)); s6.close()
    except OSError:
        continue
    finally:
        s4.close()
    if port not in ports:
        ports.append(port)
print(*ports)
PY
)

created_user=""
qs_cleanup() {
  local rc=$?
  set +e
  if [ -s "$DATA/quickstart.pid" ]; then DAEMON_PID=$(cat "$DATA/quickstart.pid"); fi
  stop_daemon
  if [ -n "$created_user" ]; then userdel "$QS_USER" 2>/dev/null; fi
  (exit "$rc")
  cleanup
}
trap qs_cleanup EXIT

getent passwd "$QS_USER" >/dev/null || created_user=yes
quickstart() {  # quickstart OUTPUT_FILE
  HIKYAKU_PREFIX=$T/prefix HIKYAKU_ETC=$ETC HIKYAKU_DATA=$DATA HIKYAKU_USER=$QS_USER \
    HIKYAKU_SYSTEMD=no HIKYAKU_BUILD_DIR=$BUILD HIKYAKU_LOG=$LOG \
    HIKYAKU_SMTP_PORT=$SMTP HIKYAKU_SUBMISSION_PORT=$SUB HIKYAKU_SUBMISSIONS_PORT=$SUBS \
    HIKYAKU_METRICS_PORT=$METRICS HIKYAKU_CONSOLE_PORT=$CONSOLE timeout 100 bash "$HK_SRC/deploy/quickstart.sh" >"$1" 2>&1
}
start=$(date +%s)
check "deploy/quickstart.sh runs (temporary prefix, ports $SMTP $SUB $SUBS $METRICS)" \
  quickstart "$T/qs1.out"
echo "     quickstart took $(($(date +%s) - start)) s"
sed 's/^/     /' "$T/qs1.out" | tail -n 12
check "it says the server runs and where its configuration is" \
  bash -c "grep -q '^hikyaku is running' '$T/qs1.out' && grep -qF 'config:     $ETC/hikyaku.toml' '$T/qs1.out'"
PASSWORD=$(sed -n 's/.*user: *admin@localhost, password \([^ ]*\) .*/\1/p' "$T/qs1.out")
check "it printed a password for admin@localhost" test -n "$PASSWORD"
check "binaries and hooks under the temporary prefix" test -x "$T/prefix/sbin/hikyaku" \
  -a -x "$T/prefix/bin/hikyaku-util" -a -x "$T/prefix/share/hikyaku/acme/certbot-deploy-hook.sh"
PID1=$(cat "$DATA/quickstart.pid" 2>/dev/null || true)
DAEMON_PID=$PID1
check "the daemon runs (pid $PID1), as $QS_USER" \
  bash -c "[ \"\$(ps -o user= -p '$PID1')\" = '$QS_USER' ] && [ \"\$(ps -o comm= -p '$PID1')\" = hikyaku ]"
check "the configuration listens on the ports given" \
  grep -qF "smtp = [\"127.0.0.1:$SMTP\", \"[::1]:$SMTP\"]" "$ETC/hikyaku.toml"

check "it names the console, which answers on loopback" bash -c "
  grep -qF 'console:    http://127.0.0.1:$CONSOLE/' '$T/qs1.out' &&
  curl -sf 'http://127.0.0.1:$CONSOLE/api/hikyaku/health' | grep -qi listeners"

# What the quickstart promises: this is delivered to admin's Maildir.
check "swaks --to postmaster@localhost is accepted" \
  swaks --server 127.0.0.1:"$SMTP" --to postmaster@localhost --silent 2
check "... and lands in admin@localhost's Maildir" wait_for 1 maildir_count localhost admin
check "AUTH over STARTTLS (submission) with the printed password" \
  swaks --server 127.0.0.1:"$SUB" --tls --auth-user admin@localhost --auth-password "$PASSWORD" \
  --from admin@localhost --to postmaster@localhost --silent 2
check "... and that message lands too" wait_for 2 maildir_count localhost admin
wrong() {
  swaks --server 127.0.0.1:"$SUB" --tls --auth-user admin@localhost --auth-password "not-$PASSWORD" \
    --from admin@localhost --to postmaster@localhost >"$T/wrong.out" 2>&1
  local rc=$?
  [ "$rc" -ne 0 ] && grep -q '535 5.7.8' "$T/wrong.out"
}
check "a wrong password gets 535 5.7.8" wrong

# A second run: the configuration stays (no new password), only our daemon is replaced.
cp "$ETC/hikyaku.toml" "$T/toml.before"
check "a second run of the quickstart" \
  quickstart "$T/qs2.out"
check "... keeps hikyaku.toml and prints no new password" \
  bash -c "cmp -s '$T/toml.before' '$ETC/hikyaku.toml' && ! grep -q 'password' '$T/qs2.out'"
PID2=$(cat "$DATA/quickstart.pid" 2>/dev/null || true)
DAEMON_PID=$PID2
check "... stopped the first daemon and started another" \
  bash -c "[ -n '$PID2' ] && [ '$PID2' != '$PID1' ] && ! kill -0 '$PID1' 2>/dev/null && kill -0 '$PID2'"
check "the old password still works" \
  swaks --server 127.0.0.1:"$SUB" --tls --auth-user admin@localhost --auth-password "$PASSWORD" \
  --from admin@localhost --to postmaster@localhost --silent 2
check "... and the message lands" wait_for 3 maildir_count localhost admin

# The stop command it printed.
STOP=$(sed -n 's/^  stop: *//p' "$T/qs2.out")
check "the printed stop command ($STOP) stops the daemon" \
  bash -c "$STOP && for _ in \$(seq 1 50); do kill -0 '$PID2' 2>/dev/null || exit 0; sleep 0.1; done; exit 1"
DAEMON_PID=""
check "the daemon drained and stopped cleanly" grep -q 'hikyaku stopped' "$LOG"
check "the machine's own /etc/hikyaku, /var/lib/hikyaku, /usr/local and unit are untouched" \
  bash -c "$(declare -f machine_state); machine_state | diff '$T/machine.before' -"
finish
