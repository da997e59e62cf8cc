#!/usr/bin/env bash
# run_as: started as root, the daemon binds a privileged port (127.0.0.1:25 in the test's own
# network namespace), hands data_dir to the user and drops to it (groups, gid, uid) before it
# serves; mail is accepted and stored as that user. Private keys and user databases that other
# users can read are refused at start (naming the file and the fix) and at reload (old one kept).
# Needs root. The user and its groups exist only in this test's mount namespace (copies of
# /etc/passwd and /etc/group bound over the real ones).
source "$(dirname "$0")/../lib.sh"
if [ "$(id -u)" -ne 0 ]; then
  echo "skipped: needs root"
  exit 77
fi
enter_netns "$@"

U_ID=64711
X_GID=64712
cp /etc/passwd "$T/passwd"
cp /etc/group "$T/group"
echo "hk-priv:x:$U_ID:$U_ID:hikyaku test:/nonexistent:/usr/sbin/nologin" >>"$T/passwd"
printf 'hk-priv:x:%s:\nhk-extra:x:%s:hk-priv\n' "$U_ID" "$X_GID" >>"$T/group"
mount --bind "$T/passwd" /etc/passwd
mount --bind "$T/group" /etc/group
check "the test user exists in this namespace" test "$(id -u hk-priv)" = "$U_ID"
chmod 711 "$T"  # mktemp made it 0700; the user must reach data_dir below it

write_config 'run_as = "hk-priv"'
# run_as is a top-level key: move it above the first table.
sed -i '/^run_as = /d; 1i run_as = "hk-priv"' "$ETC/hikyaku.toml"
sed -i 's/^smtp = .*/smtp = ["127.0.0.1:25"]/' "$ETC/hikyaku.toml"
setup_domains
"$HK_BIN/hikyaku-util" -C "$ETC" dkim-keygen example.test --selector=s1 --algo=ed25519 >/dev/null
check "hikyaku-util writes the user database 0600" \
  test "$(stat -c %a "$ETC/domains/example.test/users")" = 600
check "hikyaku-util writes DKIM keys 0600" \
  test "$(stat -c %a "$ETC/domains/example.test/dkim/s1.pem")" = 600
# The operator gives the configuration to the user, so that reloads after the drop can read it.
chown -R hk-priv:hk-priv "$ETC"
start_daemon
check "bound the privileged port 25" test "$SMTP_PORT" = 25
check "logged the drop" grep -Eq 'privileges run_as="?hk-priv"? uid=64711 gid=64711 result=dropped' "$LOG"
status() { grep "^$1:" "/proc/$DAEMON_PID/status" | cut -f2-; }
echo "Uid: $(status Uid) / Gid: $(status Gid) / Groups: $(status Groups) / CapEff: $(status CapEff)"
check "real, effective, saved and fs uid are the user's" test "$(status Uid)" = "$U_ID	$U_ID	$U_ID	$U_ID"
check "real, effective, saved and fs gid are the user's" test "$(status Gid)" = "$U_ID	$U_ID	$U_ID	$U_ID"
check "supplementary groups are the user's, root's are gone" \
  test "$(status Groups | tr ' ' '\n' | grep . | sort -n | tr '\n' ' ')" = "$U_ID $X_GID "
check "no capabilities left (root cannot be regained)" test "$(status CapEff)" = 0000000000000000
check "no permitted capabilities either" test "$(status CapPrm)" = 0000000000000000

check "mail accepted on port 25" swaks --server 127.0.0.1:25 --from x@remote.test \
  --to alice@example.test --silent 2
check "stored in alice's Maildir" wait_for 1 maildir_count example.test alice
check "the message file belongs to the user" \
  test "$(stat -c %U "$(find "$DATA/mail/example.test/alice/new" -type f | head -1)")" = hk-priv
check "the queue belongs to the user" test "$(stat -c %U "$DATA/queue")" = hk-priv
check "the control socket belongs to the user" test "$(stat -c %U "$DATA/control.sock")" = hk-priv
# The hand-over changes srs.key's ctime; the reload check (every 2 s) must not take it for an edit.
check "srs.key belongs to the user, and its hand-over is no reload" bash -c \
  "sleep 3; [ \"\$(stat -c %U '$DATA/srs.key')\" = hk-priv ] && ! grep -q 'reload what=srs' '$LOG'"

# At reload, after the drop: a world-readable key is refused, the old one stays in service.
KEY=$ETC/certs/mx.test/privkey.pem
chmod 644 "$KEY"
kill -HUP "$DAEMON_PID"
logged() { grep -c -- "$1" "$LOG" || true; }
check "reload: world-readable key refused, old kept" wait_for 1 logged \
  "reload what=certs result=kept-old error=\"$KEY is readable by other users (mode 0644); run: chmod 600 $KEY\""
check "reload: TLS still served" swaks --server 127.0.0.1:"$TLS_PORT" --tls-on-connect \
  --quit-after EHLO --silent 2
chmod 600 "$KEY"
stop_daemon
check "mailbox data stays with the user after the stop" test "$(stat -c %U "$DATA/mail")" = hk-priv

# At start: each kind of secret file, world-readable, stops the daemon with the fix.
refused_at_start() {  # refused_at_start FILE MODE
  chmod "$2" "$1"
  local rc=0
  timeout 20 "$HK_BIN/hikyaku" -C "$ETC" >"$T/start.out" 2>&1 || rc=$?
  chmod 600 "$1"
  cat "$T/start.out" | tail -n 2
  [ "$rc" = 1 ] && grep -qF "$1 is readable by other users (mode $2); run: chmod 600 $1" "$T/start.out"
}
check "start refused: world-readable TLS key" refused_at_start "$KEY" 0644
check "start refused: world-readable user database" \
  refused_at_start "$ETC/domains/example.test/users" 0604
check "start refused: world-readable DKIM key" \
  refused_at_start "$ETC/domains/example.test/dkim/s1.pem" 0644
check "group-readable keys are fine (an ACME hook's group)" bash -c "
  chmod 640 '$KEY'; timeout 20 '$HK_BIN/hikyaku' -C '$ETC' --check-config >/dev/null"

# A user that does not exist: --check-config and the start both say so.
sed -i 's/^run_as = .*/run_as = "hk-nobody-here"/' "$ETC/hikyaku.toml"
check "--check-config: unknown run_as user is a configuration error" bash -c "
  rc=0; '$HK_BIN/hikyaku' -C '$ETC' --check-config >'$T/cc.out' 2>&1 || rc=\$?
  cat '$T/cc.out'; [ \$rc = 2 ] && grep -q 'run_as = \"hk-nobody-here\": no such user' '$T/cc.out'"
check "start: unknown run_as user refuses to start" bash -c "
  rc=0; timeout 20 '$HK_BIN/hikyaku' -C '$ETC' >'$T/st.out' 2>&1 || rc=\$?
  cat '$T/st.out'; [ \$rc = 1 ] && grep -q 'no such user' '$T/st.out'"

# Without run_as, running as root is allowed with a warning.
sed -i '/^run_as = /d' "$ETC/hikyaku.toml"
start_daemon
check "root without run_as: warned" grep -q "privileges user=root result=warning" "$LOG"
stop_daemon
finish
