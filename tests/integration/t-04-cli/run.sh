#!/usr/bin/env bash
# Command lines and configuration errors: the daemon refuses to run with a config it does not
# understand, and says where the problem is.
source "$(dirname "$0")/../lib.sh"
H=$HK_BIN/hikyaku
U=$HK_BIN/hikyaku-util

check "hikyaku --version" bash -c "'$H' --version | grep -q '^hikyaku [0-9]'"
check "hikyaku --help" bash -c "'$H' --help | grep -q 'usage: hikyaku'"
check "hikyaku-util --version" bash -c "'$U' --version | grep -q '^hikyaku-util [0-9]'"
check "hikyaku-util --help" bash -c "'$U' --help | grep -q 'user-add'"
expect_exit() {  # expect_exit CODE PATTERN CMD...
  local code=$1 pattern=$2
  shift 2
  local rc=0
  "$@" >"$T/out" 2>&1 || rc=$?
  [ "$rc" = "$code" ] || { echo "exit $rc, want $code"; cat "$T/out"; return 1; }
  grep -qE -- "$pattern" "$T/out" || { echo "output lacks /$pattern/:"; cat "$T/out"; return 1; }
}
check "unknown argument: exit 2, one line" expect_exit 2 "unknown argument" "$H" --frobnicate
check "missing config: exit 2 naming the file" expect_exit 2 "$T/none/hikyaku.toml" "$H" -C "$T/none"
check "hikyaku-util bad usage exits 2" expect_exit 2 "." "$U" -C "$T" no-such-command

write_config
echo 'max_recipents = 10' >>"$ETC/hikyaku.toml"
line=$(grep -n max_recipents "$ETC/hikyaku.toml" | cut -d: -f1)
check "unknown key: file:line:key" expect_exit 2 "hikyaku.toml:$line:.*max_recipents" "$H" -C "$ETC"

write_config
sed -i 's/^max_recipients = .*/max_recipients = "many"/' "$ETC/hikyaku.toml"
check "wrong type named" expect_exit 2 "hikyaku.toml:[0-9]+:.*max_recipients" "$H" -C "$ETC"

write_config
sed -i 's/^trusted_networks = .*/trusted_networks = ["10.0.0.0\/33"]/' "$ETC/hikyaku.toml"
check "bad CIDR named" expect_exit 2 "hikyaku.toml:[0-9]+:.*trusted_networks" "$H" -C "$ETC"

write_config
printf '[[relay]]\nhost = "smtp.example.net"\npassword = "${HK_TEST_UNSET_VAR}"\n' >>"$ETC/hikyaku.toml"
check "unset \${ENV} named" expect_exit 2 "HK_TEST_UNSET_VAR" "$H" -C "$ETC"

write_config
check "--check-config accepts a good config" "$H" -C "$ETC" --check-config

write_config
start_daemon
check "a second daemon on a busy port fails to start with exit 1" bash -c "
  sed -i 's/^smtp = .*/smtp = [\"127.0.0.1:$SMTP_PORT\"]/; s|^data_dir = .*|data_dir = \"$T/data2\"|' '$ETC/hikyaku.toml'
  rc=0; timeout 10 '$H' -C '$ETC' >'$T/busy' 2>&1 || rc=\$?
  [ \$rc = 1 ] && grep -q 'cannot listen' '$T/busy'"
check "a second daemon on the same data dir refuses to start (control socket in use)" bash -c "
  sed -i 's/^smtp = .*/smtp = [\"127.0.0.1:0\"]/; s|^data_dir = .*|data_dir = \"$DATA\"|' '$ETC/hikyaku.toml'
  rc=0; timeout 10 '$H' -C '$ETC' >'$T/busy2' 2>&1 || rc=\$?
  [ \$rc = 1 ] && grep -q 'control' '$T/busy2'"
finish
