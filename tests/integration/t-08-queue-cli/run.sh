#!/usr/bin/env bash
# hikyaku-util queue list / show / flush / delete on the queue of a running daemon: messages to
# remote recipients stay queued, the CLI lists and shows them, deletes one, and asks the daemon
# to flush through DATA_DIR/control.sock.
source "$(dirname "$0")/../lib.sh"
U=$HK_BIN/hikyaku-util
# write_config points DNS at a closed loopback port: remote lookups fail transiently, so the
# messages stay queued with pending recipients.
TRUSTED='["127.0.0.0/8"]' write_config
setup_domains
start_daemon

expect_exit() {  # expect_exit CODE PATTERN CMD...
  local code=$1 pattern=$2
  shift 2
  local rc=0
  "$@" >"$T/out" 2>&1 || rc=$?
  [ "$rc" = "$code" ] || { echo "exit $rc, want $code"; cat "$T/out"; return 1; }
  grep -qE -- "$pattern" "$T/out" || { echo "output lacks /$pattern/:"; cat "$T/out"; return 1; }
}

for i in 1 2 3; do
  check "swaks: message $i to a remote recipient accepted" \
    swaks --server 127.0.0.1:"$SMTP_PORT" --from "app@app.test" --to "user$i@remote.test" \
      --header "Subject: queued number $i" --body "body of message $i" --silent 2
done
check "three messages queued" wait_for 3 queue_count

"$U" -C "$ETC" queue list >"$T/list" 2>"$T/list.err" || true
check "queue list: three lines" test "$(wc -l <"$T/list")" = 3
check "queue list: every recipient pending" test "$(grep -c '@remote.test=pending' "$T/list")" = 3
check "queue list: sender, size and first recipient" \
  grep -qE '^[0-9A-Z]+  [0-9]+[smhd]  [0-9]+  <app@app.test>  user1@remote.test=pending' "$T/list"
check "queue list --data-dir gives the same IDs" bash -c "
  diff <(cut -d' ' -f1 '$T/list') <('$U' queue list --data-dir '$DATA' | cut -d' ' -f1)"
check "queue list --json parses" bash -c "'$U' -C '$ETC' queue list --json | $PY -m json.tool >/dev/null"
check "queue list --json: 3 messages, all pending" bash -c "
  '$U' -C '$ETC' queue list --json | $PY -c '
import json, sys
d = json.load(sys.stdin)
assert len(d) == 3, d
assert all(r[\"state\"] == \"pending\" and not r[\"local\"] for m in d for r in m[\"recipients\"]), d
assert d[0][\"recipients\"][0][\"address\"] == \"user1@remote.test\", d
assert d[0][\"from\"] == \"app@app.test\" and d[0][\"size\"] > 0, d
'"

ID=$(head -n1 "$T/list" | cut -d' ' -f1)
ID2=$(sed -n 2p "$T/list" | cut -d' ' -f1)
"$U" -C "$ETC" queue show "$ID" >"$T/show" 2>&1 || true
check "queue show: the envelope" grep -q "^id: *$ID" "$T/show"
check "queue show: the recipient and its state" grep -qE '^  user1@remote.test  remote  pending' "$T/show"
check "queue show: the Subject header" grep -q '^Subject: queued number 1' "$T/show"
check "queue show: no body without --body" bash -c "! grep -q 'body of message 1' '$T/show'"
check "queue show --body: the body" bash -c "'$U' -C '$ETC' queue show '$ID' --body | grep -q 'body of message 1'"

if [ -S "$DATA/control.sock" ]; then
  check "queue flush: the daemon retries everything" \
    expect_exit 0 "flushing" "$U" -C "$ETC" queue flush
  check "queue flush ID" expect_exit 0 "flushing $ID2" "$U" -C "$ETC" queue flush "$ID2"
  check "queue flush of an unknown ID: exit 1" \
    expect_exit 1 "no message" "$U" -C "$ETC" queue flush 0000000000000000000
else
  echo "SKIP - queue flush against the daemon: no $DATA/control.sock (control socket not wired into the daemon yet)"
fi
mkdir -p "$T/idle"
check "queue flush without a daemon: exit 1, not running" \
  expect_exit 1 "hikyaku is not running \(no $T/idle/control.sock\)" "$U" queue flush --data-dir "$T/idle"

check "queue delete ID" expect_exit 0 "deleted $ID" "$U" -C "$ETC" queue delete "$ID"
check "two messages left on disk" test "$(queue_count)" = 2
check "queue list shows two" bash -c "[ \$('$U' -C '$ETC' queue list | wc -l) = 2 ]"
check "the deleted ID is gone from the list" bash -c "! '$U' -C '$ETC' queue list | grep -q '^$ID '"
check "queue delete of the same ID again: exit 1" expect_exit 1 "no message $ID" "$U" -C "$ETC" queue delete "$ID"
check "queue show of an unknown ID: exit 1" expect_exit 1 "no message" "$U" -C "$ETC" queue show 0000000000000000000
check "queue show of a malformed ID: exit 2" expect_exit 2 "not a queue ID" "$U" -C "$ETC" queue show ../../etc
check "queue without a subcommand: exit 2" expect_exit 2 "subcommand" "$U" -C "$ETC" queue
check "queue list with a broken config: exit 1 naming the file" \
  expect_exit 1 "$T/none/hikyaku.toml" "$U" -C "$T/none" queue list
check "the daemon is still serving" kill -0 "$DAEMON_PID"
finish
