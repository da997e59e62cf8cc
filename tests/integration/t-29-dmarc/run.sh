#!/usr/bin/env bash
# DMARC (RFC 7489) on port 25, against a real DNS server (dnsmasq) with a zone per policy and
# alignment case, and mail signed by an independent signer (dkimpy). The verdict is read from the
# Authentication-Results field of each message in the Maildir; with [dmarc] enforce = true,
# p=reject is refused with 550 5.7.1 and p=quarantine gets the X-Hikyaku-Quarantine field.
# Test domains sit under .test, which the Public Suffix List does not know: its default rule "*"
# makes "org.test" the Organizational Domain of "sub.org.test".
source "$(dirname "$0")/../lib.sh"
enter_netns "$@"

# The DKIM key of dkim.test, made with openssl; its public half in DNS as several strings.
openssl genrsa -out "$T/dkim.key" 2048 2>/dev/null
pub=$(openssl rsa -in "$T/dkim.key" -pubout -outform DER 2>/dev/null | base64 -w0)
key_txt="v=DKIM1; k=rsa; p=$(echo "$pub" | fold -w 200 | paste -sd, -)"

spf_local='v=spf1 ip4:127.0.0.1 -all'
start_dns \
  "--txt-record=s1._domainkey.dkim.test,$key_txt" \
  "--txt-record=spf.test,$spf_local" \
  "--txt-record=mail.spf.test,$spf_local" \
  "--txt-record=other.test,$spf_local" \
  "--txt-record=mail.org.test,$spf_local" \
  "--txt-record=mail.strict.test,$spf_local" \
  "--txt-record=mail.relaxed.test,$spf_local" \
  '--txt-record=_dmarc.spf.test,v=DMARC1; p=reject' \
  '--txt-record=_dmarc.dkim.test,v=DMARC1; p=reject; rua=mailto:dmarc@dkim.test' \
  '--txt-record=_dmarc.sub.dkim.test,v=DMARC1; p=reject; adkim=s' \
  '--txt-record=_dmarc.none.test,v=DMARC1; p=none' \
  '--txt-record=_dmarc.quar.test,v=DMARC1; p=quarantine' \
  '--txt-record=_dmarc.reject.test,v=DMARC1; p=reject' \
  '--txt-record=_dmarc.pct.test,v=DMARC1; p=reject; pct=0' \
  '--txt-record=_dmarc.org.test,v=DMARC1; p=reject; sp=quarantine' \
  '--txt-record=_dmarc.strict.test,v=DMARC1; p=reject; aspf=s' \
  '--txt-record=_dmarc.relaxed.test,v=DMARC1; p=reject' \
  '--txt-record=_dmarc.twice.test,v=DMARC1; p=reject' \
  '--txt-record=_dmarc.twice.test,v=DMARC1; p=none' \
  '--txt-record=_dmarc.broken.test,v=DMARC1; p=sometimes' \
  '--txt-record=norecord.test,v=spf1 -all'
DNS_SERVER=127.0.0.53:53 write_config
setup_domains
start_daemon

# mail NAME FROM-HEADER [DKIM-DOMAIN]: $T/NAME.eml with "Subject: NAME", signed by dkimpy as
# DKIM-DOMAIN (selector s1) when one is given.
mail() {
  printf 'From: %s\r\nTo: alice@example.test\r\nSubject: %s\r\nMessage-ID: <%s@t29>\r\n\r\nbody of %s\r\n' \
    "$2" "$1" "$1" "$1" >"$T/$1.eml"
  if [ -n "${3:-}" ]; then
    "$PY" - "$T/$1.eml" "$3" "$T/dkim.key" <<'PY'
import sys, dkim
path, domain, key = sys.argv[1:4]
msg = open(path, "rb").read()
sig = dkim.sign(msg, b"s1", domain.encode(), open(key, "rb").read(),
                include_headers=[b"from", b"to", b"subject", b"message-id"])
open(path, "wb").write(sig + msg)
PY
  fi
}
# send NAME MAIL-FROM [swaks options]: sends $T/NAME.eml over port 25 from 127.0.0.1, a stranger.
send() {
  local name=$1 from=$2
  shift 2
  swaks --server 127.0.0.1:"$SMTP_PORT" --from "$from" --to alice@example.test \
    --data "$T/$name.eml" "$@" >"$T/$name.swaks" 2>&1
}
M=$DATA/mail/example.test/alice/new
# message NAME: the delivered file of the message with "Subject: NAME".
message() { grep -l "^Subject: $1"$'\r'"\?$" "$M"/* 2>/dev/null | head -n1; }
# ar NAME REGEX: its Authentication-Results field (unfolded) matches REGEX.
ar() {
  local f
  f=$(message "$1")
  [ -n "$f" ] || { echo "no message $1"; return 1; }
  tr -d '\r' <"$f" | sed -n '/^Authentication-Results:/,/^[^ \t]/p' | sed '$d' | tr -d '\n' |
    tr '\t' ' ' | tee "$T/ar.last" | grep -qE "$2" || { cat "$T/ar.last"; return 1; }
}
no_marker() { ! grep -q '^X-Hikyaku-Quarantine' "$(message "$1")"; }

# --- enforce = false (the default): every result is recorded, nothing is refused ---
mail pass-spf 'A <a@spf.test>'
mail pass-helo 'A <a@spf.test>'
mail pass-dkim 'D <d@dkim.test>' dkim.test
mail fail-dkim-strict 'D <d@sub.dkim.test>' dkim.test
mail pass-dkim-relaxed 'D <d@news.dkim.test>' dkim.test
mail fail-none 'N <n@none.test>'
mail fail-quarantine 'Q <q@quar.test>'
mail fail-reject 'R <r@reject.test>'
mail no-record 'X <x@norecord.test>'
mail org-fail 'S <s@sub.org.test>'
mail org-pass 'S <s@sub.org.test>'
mail spf-strict 'S <s@strict.test>'
mail spf-relaxed 'S <s@relaxed.test>'
mail two-records 'T <t@twice.test>'
mail broken-record 'B <b@broken.test>'
check "SPF-aligned mail is accepted" send pass-spf a@spf.test
check "null sender with an aligned HELO is accepted" send pass-helo '<>' --helo mail.spf.test
check "DKIM-aligned mail (SPF of another domain) is accepted" send pass-dkim b@other.test
check "strict DKIM alignment: accepted" send fail-dkim-strict b@other.test
check "relaxed DKIM alignment through the organizational domain: accepted" \
  send pass-dkim-relaxed b@other.test
check "p=none failure is accepted" send fail-none b@other.test
check "p=quarantine failure is accepted (not enforced)" send fail-quarantine b@other.test
check "p=reject failure is accepted (not enforced)" send fail-reject b@other.test
check "a domain without a record: accepted" send no-record b@other.test
check "subdomain without a record, failing its organizational domain's sp: accepted" \
  send org-fail b@other.test
check "subdomain, SPF of a sibling under the same organizational domain: accepted" \
  send org-pass b@mail.org.test
check "aspf=s with a subdomain MAIL FROM: accepted" send spf-strict b@mail.strict.test
check "aspf=r with a subdomain MAIL FROM: accepted" send spf-relaxed b@mail.relaxed.test
check "two DMARC records: accepted" send two-records b@other.test
check "a record without a valid p=: accepted" send broken-record b@other.test
check "fifteen delivered" wait_for 15 maildir_count example.test alice

check "SPF aligned: dmarc=pass (p=reject) header.from=spf.test" \
  ar pass-spf 'spf=pass .*dmarc=pass \(p=reject dis=none\) header\.from=spf\.test'
check "null sender, HELO mail.spf.test aligned: dmarc=pass" \
  ar pass-helo 'spf=pass.*dmarc=pass .*header\.from=spf\.test'
check "DKIM aligned only: dkim=pass header.d=dkim.test, dmarc=pass" \
  ar pass-dkim 'dkim=pass header\.d=dkim\.test.*spf=pass smtp\.mailfrom=b@other\.test.*dmarc=pass \(p=reject dis=none\) header\.from=dkim\.test'
check "adkim=s, d=dkim.test signing sub.dkim.test: dmarc=fail" \
  ar fail-dkim-strict 'dkim=pass header\.d=dkim\.test.*dmarc=fail \(p=reject dis=none, not enforced: reject\) header\.from=sub\.dkim\.test'
check "adkim=r (org-domain record), d=dkim.test signing news.dkim.test: dmarc=pass" \
  ar pass-dkim-relaxed 'dmarc=pass \(p=reject dis=none\) header\.from=news\.dkim\.test'
check "p=none: dmarc=fail (p=none dis=none)" \
  ar fail-none 'dmarc=fail \(p=none dis=none\) header\.from=none\.test'
check "p=quarantine, not enforced: dmarc=fail, says what enforcing would do" \
  ar fail-quarantine 'dmarc=fail \(p=quarantine dis=none, not enforced: quarantine\) header\.from=quar\.test'
check "p=quarantine, not enforced: no quarantine marker" no_marker fail-quarantine
check "p=reject, not enforced: dmarc=fail" \
  ar fail-reject 'dmarc=fail \(p=reject dis=none, not enforced: reject\) header\.from=reject\.test'
check "no record: dmarc=none" ar no-record 'dmarc=none \(no policy\) header\.from=norecord\.test'
check "organizational-domain fallback: sp=quarantine applies to sub.org.test" \
  ar org-fail 'dmarc=fail \(p=reject sp=quarantine dis=none, not enforced: quarantine\) header\.from=sub\.org\.test'
check "organizational-domain fallback, relaxed SPF alignment: dmarc=pass" \
  ar org-pass 'spf=pass smtp\.mailfrom=b@mail\.org\.test.*dmarc=pass .*header\.from=sub\.org\.test'
check "aspf=s: mail.strict.test does not align with strict.test" \
  ar spf-strict 'spf=pass .*dmarc=fail .*header\.from=strict\.test'
check "aspf=r: mail.relaxed.test aligns with relaxed.test" \
  ar spf-relaxed 'spf=pass .*dmarc=pass .*header\.from=relaxed\.test'
check "two records: dmarc=permerror, no policy" \
  ar two-records 'dmarc=permerror \(several DMARC records at _dmarc\.twice\.test\) header\.from=twice\.test'
check "invalid p=: dmarc=permerror" ar broken-record 'dmarc=permerror \(invalid p=sometimes'
check "the log has one dmarc line per message" \
  bash -c "[ \$(grep -c ' dmarc=' '$LOG') -eq 15 ]"
check "metrics: dmarc results counted" bash -c "curl -s http://127.0.0.1:$METRICS_PORT/metrics |
  grep -q '^hikyaku_dmarc_total{result=\"fail\"} 6$'"

# --- enforce = true ---
stop_daemon
DNS_SERVER=127.0.0.53:53 write_config '[dmarc]' 'enforce = true'
start_daemon
mail e-reject 'R <r@reject.test>'
mail e-quarantine 'Q <q@quar.test>'
mail e-pct 'P <p@pct.test>'
mail e-org 'S <s@sub.org.test>'
mail e-pass 'D <d@dkim.test>' dkim.test
mail e-none 'N <n@none.test>'
mail e-two-from 'A <a@spf.test>'
printf 'From: R <r@reject.test>\r\n' | cat - "$T/e-two-from.eml" >"$T/e-two.eml"
mail e-multi 'A <a@spf.test>, R <r@reject.test>'
rejected() {  # rejected NAME DOMAIN: the final dot got 550 5.7.1 naming DOMAIN
  ! send "$@" || { cat "$T/$1.swaks"; return 1; }
}
check "enforced p=reject: refused" rejected e-reject b@other.test
check "enforced p=reject: 550 5.7.1 naming the domain" \
  grep -qE '<\*\* 550 5\.7\.1 .*DMARC policy of reject\.test is reject' "$T/e-reject.swaks"
check "enforced p=quarantine: accepted" send e-quarantine b@other.test
check "enforced p=reject with pct=0: accepted (quarantined instead, RFC 7489 6.6.4)" \
  send e-pct b@other.test
check "enforced sp=quarantine for a subdomain: accepted" send e-org b@other.test
check "enforced, DKIM-aligned mail: accepted" send e-pass b@other.test
check "enforced p=none: accepted" send e-none b@other.test
check "enforced: two From: fields are refused" rejected e-two b@other.test
check "two From: fields: 550 5.7.1" grep -qE '<\*\* 550 5\.7\.1 Message refused: 2 From: fields' "$T/e-two.swaks"
check "enforced: one From: with an aligned and a p=reject domain is refused (strictest wins)" \
  rejected e-multi a@spf.test
check "the multi-address From: named reject.test" \
  grep -qE '<\*\* 550 5\.7\.1 .*reject\.test' "$T/e-multi.swaks"
check "twenty delivered (five more)" wait_for 20 maildir_count example.test alice
check "nothing refused was delivered" bash -c "! grep -lE '^Subject: e-(reject|two|multi)' '$M'/*"
marker() { grep -q "^X-Hikyaku-Quarantine: dmarc p=quarantine header.from=$2"$'\r'"\?$" "$(message "$1")"; }
check "p=quarantine: marked" marker e-quarantine quar.test
check "p=quarantine: A-R says dis=quarantine" \
  ar e-quarantine 'dmarc=fail \(p=quarantine dis=quarantine\) header\.from=quar\.test'
check "pct=0: marked for quarantine, not refused" marker e-pct pct.test
check "pct=0: A-R says pct=0 dis=quarantine" \
  ar e-pct 'dmarc=fail \(p=reject pct=0 dis=quarantine\) header\.from=pct\.test'
check "sp=quarantine: marked" marker e-org sub.org.test
check "pass: no marker" no_marker e-pass
check "p=none: no marker" no_marker e-none
check "metrics: rejections and quarantines counted" bash -c "
  curl -s http://127.0.0.1:$METRICS_PORT/metrics >'$T/metrics'
  grep -q '^hikyaku_rejected_total{reason=\"dmarc\"} 3$' '$T/metrics' &&
  grep -q '^hikyaku_dmarc_total{result=\"quarantined\"} 3$' '$T/metrics'"

# --- enabled = false: no lookups, no dmarc= result ---
stop_daemon
DNS_SERVER=127.0.0.53:53 write_config '[dmarc]' 'enabled = false' 'enforce = true'
start_daemon
mail off-reject 'R <r@reject.test>'
check "disabled: p=reject failure accepted" send off-reject b@other.test
check "twenty-one delivered" wait_for 21 maildir_count example.test alice
has_no_dmarc() { grep -q 'spf=pass' "$(message "$1")" && ! grep -q 'dmarc=' "$(message "$1")"; }
check "disabled: A-R has SPF but no dmarc=" has_no_dmarc off-reject
finish
