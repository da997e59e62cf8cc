#!/usr/bin/env bash
# SPF for strangers on port 25, with a real DNS server on loopback: the result goes into a
# Received-SPF header, and [spf] reject_fail refuses "fail" at MAIL FROM with 550 5.7.23.
source "$(dirname "$0")/../lib.sh"
enter_netns "$@"

start_dns '--txt-record=pass.test,v=spf1 ip4:127.0.0.0/8 -all' \
  '--txt-record=fail.test,v=spf1 ip4:192.0.2.1 -all' \
  '--txt-record=soft.test,v=spf1 ~all'
DNS_SERVER=127.0.0.53:53 write_config '[spf]' 'reject_fail = true'
setup_domains
start_daemon

send_from() {  # send_from SENDER — to alice on port 25, as a stranger (no trusted networks)
  swaks --server 127.0.0.1:"$SMTP_PORT" --from "$1" --to alice@example.test \
    --header "Subject: spf $1" --silent 2
}
check "pass: accepted" send_from someone@pass.test
check "softfail: accepted" send_from someone@soft.test
check "no SPF record (NXDOMAIN): accepted" send_from someone@nospf.test
check "fail: refused with 550 5.7.23" bash -c "
  swaks --server 127.0.0.1:$SMTP_PORT --from someone@fail.test --to alice@example.test \
    --quit-after MAIL 2>&1 | grep -q '550 5.7.23'"
check "three messages delivered" wait_for 3 maildir_count example.test alice
M=$DATA/mail/example.test/alice/new
check "Received-SPF: pass with the client and sender" \
  bash -c "grep -rh '^Received-SPF: pass' '$M' | grep -q 'client-ip=127.0.0.1'"
check "Received-SPF: softfail" grep -rq "^Received-SPF: softfail" "$M"
check "Received-SPF: none" grep -rq "^Received-SPF: none" "$M"
check "the refusal is counted" \
  bash -c "curl -sf http://127.0.0.1:$METRICS_PORT/metrics | grep -q 'hikyaku_rejected_total{reason=\"spf\"} 1'"
finish
