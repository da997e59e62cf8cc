#!/usr/bin/env bash
# Mailpit's /api/v1 on the console's port, against the real daemon in capture mode: mail sent
# with smtplib (text, HTML with an inline image, attachments, UTF-8 encoded-word subjects), then
# the list shape and field names, newest first, paging, search, one message, headers, raw bytes,
# part downloads, the message views and their CSP, the read flag, the wait call (a hit and a
# timeout), the live events stream, release into the queue and on to a real SMTP receiver
# (aiosmtpd) configured as the relay (exactly once), and DELETE by IDs, by search and of all.
# The checks themselves are in api_test.py (python's urllib only).
source "$(dirname "$0")/../lib.sh"

start_receiver relay 127.0.0.1 0
RELAY_PORT=$(cat "$T/rx/relay.port")
TRUSTED='["127.0.0.0/8"]' RETRY='"1s"' write_config \
  '[capture]' 'enabled = true' \
  '[[relay]]' 'host = "127.0.0.1"' "port = $RELAY_PORT" 'tls = "none"'
# The console listens on a port the kernel picks, like the others.
sed -i 's/^\[listen\]$/[listen]\nconsole = ["127.0.0.1:0"]/' "$ETC/hikyaku.toml"
start_daemon
wait_console_port || true
check "the console listens" test -n "$CONSOLE_PORT"

if timeout 150 "$PY" "$(dirname "$0")/api_test.py" "$SMTP_PORT" "$CONSOLE_PORT" "$T/rx/relay"; then
  pass "every /api/v1 check (above)"
else
  fail "some /api/v1 checks (above)"
fi
check "released messages logged with their queue IDs" grep -q "console api=release id=.* queue_id=" "$LOG"
finish
