#!/usr/bin/env bash
# MTA-STS (RFC 8461) for outgoing mail, against dnsmasq (MX, A, the _mta-sts TXT records), an
# HTTPS policy server (policy_server.py: http.server in TLS on 127.0.0.30:443) and aiosmtpd
# receivers, with a private CA trusted through SSL_CERT_FILE: enforce delivers only over
# verified TLS to MX hosts the policy names; testing delivers and logs; a policy survives a
# restart with its server and TXT record gone.
source "$(dirname "$0")/../lib.sh"
enter_netns "$@"

# A test CA and certificates it signs (the policy host's, and one per MX).
make_test_ca
signed_cert policy mta-sts.enforce.test mta-sts.nomatch.test mta-sts.notls.test \
  mta-sts.testing.test mta-sts.persist.test mta-sts.onlybad.test
signed_cert mx mx.enforce.test mx1.other.test mx2.nomatch.test mx.persist.test

# The policies, served by Host name.
P=$T/policies
mkdir -p "$P"
policy() {  # policy DOMAIN MODE MX...
  local f="$P/mta-sts.$1" mode=$2
  shift 2
  printf 'version: STSv1\r\nmode: %s\r\n' "$mode" >"$f"
  for m in "$@"; do printf 'mx: %s\r\n' "$m" >>"$f"; done
  printf 'max_age: 86400\r\n' >>"$f"
}
policy enforce.test enforce "*.enforce.test"
policy nomatch.test enforce mx2.nomatch.test
policy notls.test enforce mx.notls.test
policy testing.test testing mx.testing.test
policy persist.test enforce mx.persist.test
policy onlybad.test enforce mx.onlybad.test
"$PY" "$HK_SRC/tests/unit/delivery/policy_server.py" --host 127.0.0.30 --port 443 \
  --cert "$CA/policy.pem" --key "$CA/policy.key" --policy-dir "$P" --log "$T/policy-requests" \
  --lifetime 170 >"$T/policy.port" 2>"$T/policy.log" &
POLICY_PID=$!
for _ in $(seq 1 50); do [ -s "$T/policy.port" ] && break; sleep 0.1; done

STS_DNS=()
for d in enforce:e1 nomatch:n1 onlybad:o1 notls:t1 testing:s1 persist:p1; do
  STS_DNS+=("--txt-record=_mta-sts.${d%%:*}.test,v=STSv1; id=${d##*:};"
    "--host-record=mta-sts.${d%%:*}.test,127.0.0.30")
done
MX_DNS=(
  --mx-host=enforce.test,mx.enforce.test,10 --host-record=mx.enforce.test,127.0.0.31
  # nomatch.test: the preferred MX is not in the policy; the second one is.
  --mx-host=nomatch.test,mx1.other.test,10 --host-record=mx1.other.test,127.0.0.32
  --mx-host=nomatch.test,mx2.nomatch.test,20 --host-record=mx2.nomatch.test,127.0.0.33
  # onlybad.test: its only MX is not in its policy.
  --mx-host=onlybad.test,mx1.other.test,10
  --mx-host=notls.test,mx.notls.test,10 --host-record=mx.notls.test,127.0.0.34
  --mx-host=testing.test,mx.testing.test,10 --host-record=mx.testing.test,127.0.0.35
  --mx-host=persist.test,mx.persist.test,10
)
start_dns "${MX_DNS[@]}" "${STS_DNS[@]}" --host-record=mx.persist.test,127.0.0.36

TLS=(--starttls --cert "$CA/mx.pem" --key "$CA/mx.key")
start_receiver enforce 127.0.0.31 25 "${TLS[@]}"
start_receiver other 127.0.0.32 25 "${TLS[@]}"
start_receiver nomatch2 127.0.0.33 25 "${TLS[@]}"
start_receiver notls 127.0.0.34 25
start_receiver testing 127.0.0.35 25
start_receiver persist 127.0.0.36 25 "${TLS[@]}"

TRUSTED='["127.0.0.0/8"]' DNS_SERVER=127.0.0.53:53 RETRY='"1s"' LIFETIME=1h write_config
setup_domains
start_daemon

logged() { grep -c -- "$1" "$LOG" || true; }

# (1) enforce, an MX in the policy with a certificate for its name: delivered over verified TLS.
check "enforce: accepted" send_to a@enforce.test "enforce"
check "enforce: delivered" wait_for 1 received_count enforce
check "enforce: over TLS" grep -q "tls yes" "$T"/rx/enforce/msg-1.env
check "enforce: the policy was fetched over HTTPS" grep -q "GET /.well-known/mta-sts.txt mta-sts.enforce.test" "$T/policy-requests"
check "enforce: the log names the policy" grep -q "domain=enforce.test mta_sts=enforce sts_id=e1" "$LOG"
check "enforce: the log says verified TLS" grep -q "name=mx.enforce.test tls=verified" "$LOG"
check "enforce: the policy is stored under data_dir" grep -q "id e1" "$DATA/mta-sts/enforce.test"

# (2) enforce, the preferred MX not in the policy: skipped, the matching second MX gets it.
check "mx mismatch: accepted" send_to b@nomatch.test "nomatch"
check "mx mismatch: delivered to the MX the policy names" wait_for 1 received_count nomatch2
check "mx mismatch: nothing went to the MX outside the policy" test "$(received_count other)" = 0
check "mx mismatch: the skip is logged" grep -q "mx=mx1.other.test result=skipped reason=mx-not-in-policy" "$LOG"
# ... and with no matching MX at all, the mail stays queued with the MTA-STS reason.
check "only a non-matching MX: accepted" send_to c@onlybad.test "onlybad"
check "only a non-matching MX: deferred with 4.7.5 MTA-STS" wait_deferred c@onlybad.test "4.7.5 MTA-STS"
check "only a non-matching MX: never delivered there" test "$(received_count other)" = 0

# (3) enforce, an MX without STARTTLS: not delivered, queued.
check "no STARTTLS: accepted" send_to d@notls.test "notls"
check "no STARTTLS: deferred with 4.7.5 MTA-STS" wait_deferred d@notls.test "4.7.5 MTA-STS"
check "no STARTTLS: the reason names the missing STARTTLS" wait_deferred d@notls.test "does not offer STARTTLS"
check "no STARTTLS: nothing delivered" test "$(received_count notls)" = 0

# (4) testing, the same failure: delivered, and what enforce would have refused is logged.
check "testing: accepted" send_to e@testing.test "testing"
check "testing: delivered" wait_for 1 received_count testing
check "testing: the would-be failure is logged" \
  grep -q "mta_sts=testing sts_id=s1 mx=mx.testing.test result=would-fail reason=no-tls" "$LOG"

# (5) persistence: a first delivery stores persist.test's policy; then the daemon restarts with
# the policy server stopped, no _mta-sts TXT records and the MX moved to a host without
# STARTTLS. The stored policy still applies: the mail stays queued.
check "persist: accepted" send_to f@persist.test "persist 1"
check "persist: delivered while the policy is published" wait_for 1 received_count persist
check "persist: policy stored" test -s "$DATA/mta-sts/persist.test"
# The operator's view of the same: the three deliveries under an enforced policy (enforce,
# nomatch, persist) count as TLS level mta-sts, not merely verified; the testing-mode one, sent
# in plaintext, as plain.
check "metrics: 3 transactions at level mta-sts" \
  test "$(metric 'hikyaku_delivery_tls_total{via="mx",level="mta-sts"}')" = 3
check "metrics: the testing-mode delivery at level plain" \
  test "$(metric 'hikyaku_delivery_tls_total{via="mx",level="plain"}')" = 1
stop_daemon
kill "$POLICY_PID" 2>/dev/null || true
wait "$POLICY_PID" 2>/dev/null || true
kill "$(cat "$T/dnsmasq.pid")" 2>/dev/null || true
for _ in $(seq 1 50); do kill -0 "$(cat "$T/dnsmasq.pid")" 2>/dev/null || break; sleep 0.1; done
start_dns "${MX_DNS[@]}" --host-record=mx.persist.test,127.0.0.37
start_receiver persist-plain 127.0.0.37 25
requests_before=$(wc -l <"$T/policy-requests")
start_daemon
check "persist: accepted after the restart" send_to g@persist.test "persist 2"
check "persist: deferred by the stored policy" wait_deferred g@persist.test "4.7.5 MTA-STS"
check "persist: the log names the stored policy" grep -q "domain=persist.test mta_sts=enforce sts_id=p1" "$LOG"
check "persist: nothing reached the plaintext MX" test "$(received_count persist-plain)" = 0
check "persist: no policy request after the restart" test "$(wc -l <"$T/policy-requests")" = "$requests_before"
finish
