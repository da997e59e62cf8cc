#!/usr/bin/env bash
# The delay warning ([queue] delay_warning): a message whose recipient keeps answering 4xx is
# retried, and after delay_warning its sender gets exactly one "Action: delayed" DSN listing only
# the recipients still pending; none for a null sender, none again after a kill -9 and restart.
source "$(dirname "$0")/../lib.sh"
enter_netns "$@"

start_dns --mx-host=slow.test,mx.slow.test,10 --host-record=mx.slow.test,127.0.0.16
# The receiver answers "451 4.2.0" to every recipient whose address contains "later", and
# accepts the others.
start_receiver slow 127.0.0.16 25

TRUSTED='["127.0.0.0/8"]' DNS_SERVER=127.0.0.53:53 RETRY='"1s"' LIFETIME=1h DELAY_WARNING=2s \
  write_config
setup_domains
start_daemon

U=$HK_BIN/hikyaku-util
MAILBOX=$DATA/mail/example.test/alice/new
send() {  # send FROM TO[,TO...] SUBJECT
  swaks --server 127.0.0.1:"$SMTP_PORT" --from "$1" --to "$2" --header "Subject: $3" --silent 2
}
warning_count() { grep -l "^Action: delayed" -r "$MAILBOX" 2>/dev/null | wc -l; }
logged_warnings() { grep -c "delay_warning_for=" "$LOG" || true; }
# at_least N CMD... — prints "yes" once CMD prints a number >= N (for wait_for).
at_least() {
  local n=$1
  shift
  if [ "$("$@")" -ge "$n" ]; then echo yes; else echo no; fi
}
deferred() { grep -c "to=later@slow.test result=deferred" "$LOG" || true; }

check "accepted: one recipient that defers, one that accepts" \
  send alice@example.test later@slow.test,ok@slow.test "slow"
check "accepted: a null-sender message that defers" send '<>' nullsender-later@slow.test "null"
check "the accepting recipient is delivered" wait_for 1 received_count slow
WAIT_SECONDS=30 check "one delay warning reaches the sender's mailbox" wait_for 1 warning_count

DSN=$(grep -l "^Action: delayed" -r "$MAILBOX" | head -n1)
check "the warning comes from the null sender" grep -q "^Return-Path: <>" "$DSN"
check "the warning is a delivery-status report" grep -q "report-type=delivery-status" "$DSN"
check "the warning reports the pending recipient" grep -q "^Final-Recipient: rfc822;later@slow.test" "$DSN"
check "the warning does not report the delivered recipient" \
  bash -c "! grep -q '^Final-Recipient: rfc822;ok@slow.test' '$DSN'"
check "the warning carries the remote 4xx status" grep -q "^Status: 4.2.0" "$DSN"
check "the warning says until when delivery is retried" grep -q "^Will-Retry-Until: " "$DSN"
check "the warning says no action is needed" grep -q "only a warning" "$DSN"
check "one log line for the warning" test "$(logged_warnings)" = 1

# The retries go on without a second warning, and nothing is sent for the null sender.
now=$(deferred)
check "two more attempts after the warning" wait_for yes at_least $((now + 2)) deferred
check "still one warning after more attempts" test "$(warning_count)" = 1
check "no warning for the null sender" test "$(logged_warnings)" = 1
check "the warning is recorded in the message's state" \
  bash -c "grep -l '^delay-warned: [1-9]' '$DATA'/queue/*.state | wc -l | grep -qx 1"
"$U" -C "$ETC" queue list >"$T/list" 2>&1 || true
check "queue list: the delayed message is still queued" grep -q "later@slow.test=pending" "$T/list"
check "queue list --json: delay_warned set on exactly one message" bash -c "
  '$U' -C '$ETC' queue list --json | $PY -c '
import json, sys
msgs = json.load(sys.stdin)
sys.exit(0 if sorted(m[\"delay_warned\"] is not None for m in msgs) == [False, True] else 1)'"

# kill -9 and restart: the warned fact comes back from the queue file, so no second warning.
stop_daemon KILL
check "both messages still queued after kill -9" test "$(queue_count)" -eq 2
start_daemon
check "the restarted daemon retries the message twice" wait_for yes at_least 2 deferred
check "no warning after the restart" test "$(logged_warnings)" = 0
check "still exactly one warning in the mailbox" test "$(warning_count)" = 1
"$U" -C "$ETC" queue list >"$T/list" 2>&1 || true
check "queue list after the restart: still queued" grep -q "later@slow.test=pending" "$T/list"
finish
