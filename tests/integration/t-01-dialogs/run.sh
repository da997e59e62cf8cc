#!/usr/bin/env bash
# Dialog scripts (tests/dialogs/*.smtp) against the real daemon on its three ports.
source "$(dirname "$0")/../lib.sh"
D=$HK_SRC/tests/dialogs
write_config
setup_domains
start_daemon

check "basic delivery dialog" dialog "$D/basic.smtp"
check "basic message reaches alice's Maildir" wait_for 1 maildir_count example.test alice
check "Received header names us and the client" \
  grep -q "by mx.test (hikyaku) with ESMTP" -r "$DATA/mail/example.test/alice/new"
check "open-relay battery refused" dialog "$D/open-relay.smtp"
check "case and catch-all do not relay" dialog "$D/open-relay-case.smtp"
check "protocol sequence and syntax" dialog "$D/protocol.smtp"
check "REQUIRETLS offered under TLS only, refused in plaintext" dialog "$D/requiretls.smtp"
check "line too long" dialog "$D/long-line.smtp"
check "bare CR/LF smuggling refused" dialog "$D/smuggling.smtp"
check "pipelining" dialog "$D/pipelining.smtp"
check "pipelined message (dot-stuffed) delivered" wait_for 2 maildir_count example.test alice
check "dot-unstuffing" grep -rq "^\.dot-stuffed" "$DATA/mail/example.test/alice/new"
check "smuggled commands never became a message" \
  bash -c "! grep -rq 'evil@remote.test' '$DATA/mail' '$DATA/queue'"
check "pipelining: content before the 354 refused" dialog "$D/pipelining-improper.smtp"
check "STARTTLS injection refused as improper pipelining" dialog "$D/starttls-injection.smtp" "$SUB_PORT"
check "AUTH only in TLS, session restarts after STARTTLS" dialog "$D/starttls-restart.smtp" "$SUB_PORT"
check "three AUTH failures close the connection" dialog "$D/auth-failures.smtp" "$TLS_PORT"
check "sender rules for authenticated users" dialog "$D/sender-rules.smtp" "$TLS_PORT"
check "authenticated relay queued for the remote recipient" wait_for 1 queue_count
check "metrics count relay rejections" \
  bash -c "curl -sf http://127.0.0.1:$METRICS_PORT/metrics | grep -q 'hikyaku_rejected_total{reason=\"relay\"}'"
check "metrics page passes promtool" \
  bash -c "curl -sf http://127.0.0.1:$METRICS_PORT/metrics | promtool check metrics"
check "metrics endpoint: 404 elsewhere, 405 for POST" \
  bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code} ' http://127.0.0.1:$METRICS_PORT/ \
                 --next -s -o /dev/null -w '%{http_code}' -X POST \
                 http://127.0.0.1:$METRICS_PORT/metrics)\" = '404 405' ]"
finish
