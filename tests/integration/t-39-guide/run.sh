#!/usr/bin/env bash
# docs/guide.md, walked: its commands, taken from the guide itself (guide_steps.py extracts every
# ```sh block after a `<!-- test: NAME -->` line), run in the guide's order in a private network
# namespace that plays the internet: the VPS is 203.0.113.25 (and 2001:db8::25 in DNS), the
# "mailbox provider" is a real Postfix on 198.51.100.25:25 (its own config dir under $T, never the
# system instance) that checks the client's PTR (reject_unknown_client_hostname), SPF with
# Debian's postfix-policyd-spf-python and DKIM with OpenDKIM as its milter, both writing
# Authentication-Results as a mailbox provider does.
# The DNS is dnsmasq on 127.0.0.53, the namespace's /etc/resolv.conf. The test ends with the
# guide's first mail stored in Postfix's Maildir, spf=pass and dkim=pass in the receiver's
# Authentication-Results, aligned with From: (DMARC), and dkimpy's dkimverify passing on the
# stored file. Where the guide shows what a command prints, the output is checked against it.
#
# Substitutions, applied to the guide's commands and outputs (and nothing else):
#   example.com → guide.test (so mx.example.com → mx.guide.test, you@example.com → you@guide.test)
#   gmail-smtp-in.l.google.com → mx.inbox.test, gmail.com → inbox.test (the Postfix)
#   /etc/hikyaku → $ETC, /var/lib/hikyaku → $DATA, /etc/letsencrypt → $T/letsencrypt
#   /usr/local/share/hikyaku/ → $HK_SRC/deploy/ (where install.sh puts deploy/acme)
#   `hikyaku-util ` → `hikyaku-util -C $ETC ` (the binaries of this build come first in PATH)
#   `journalctl -u hikyaku …` → `cat $LOG` (no journald here; the daemon logs to $LOG)
#   `user-add ADDRESS` → `user-add ADDRESS --password-stdin` (it asks only at a terminal); the
#   test gives that password on standard input, to swaks too (which reads it there itself).
# Stood in for, and said so when the test runs: installing (t-40-quickstart runs the quickstart,
# the package has its own test), hostnamectl and ufw (they would change this machine), the
# provider's PTR (a --ptr-record of dnsmasq), certbot and acme.sh (a self-signed certificate in a
# certbot-shaped lineage, handed over by the guide's own hook command), systemctl (the daemon is
# started in the background), publishing at a DNS host (what dns-records printed, converted
# record by record into dnsmasq options), test-relay (it needs an account at a relay provider;
# the guide's [[relay]] example is checked with --check-config and print-config instead).
# One addition to the guide's configuration: [listen] on 203.0.113.25 and 127.0.0.1 (Postfix holds
# 198.51.100.25:25 in the same namespace, so the guide's default 0.0.0.0:25 cannot bind here).
# Where a person would take minutes between steps, the test waits for the daemon's log line
# saying it took in the new domain and the new DKIM key (it polls for them every few seconds).
source "$(dirname "$0")/../lib.sh"
enter_netns "$@"
source "$(dirname "$0")/../zone.sh"
# dkimpy, dig, swaks, Postfix and policyd-spf resolve through this namespace's resolv.conf.
echo "nameserver 127.0.0.53" >"$T/resolv.conf"
source "$(dirname "$0")/../postfix.sh"

VPS4=203.0.113.25
MBX=198.51.100.25
ip addr add "$VPS4/32" dev lo

PW='correct horse battery staple'
STEPS=$T/steps
mkdir -p "$STEPS" "$T/work" "$T/letsencrypt/live"
chmod 755 "$T/letsencrypt"
check "the guide's runnable blocks extracted (every sh block has a test marker)" \
  "$PY" "$HK_SRC/tests/integration/t-39-guide/guide_steps.py" extract "$HK_SRC/docs/guide.md" \
  "$STEPS" \
  "gmail-smtp-in.l.google.com=>mx.inbox.test" "gmail.com=>inbox.test" "example.com=>guide.test" \
  "/etc/hikyaku=>$ETC" "/var/lib/hikyaku=>$DATA" "/etc/letsencrypt=>$T/letsencrypt" \
  "/usr/local/share/hikyaku/=>$HK_SRC/deploy/" \
  "re:\\bhikyaku-util =>hikyaku-util -C $ETC " \
  're:journalctl -u hikyaku[^|&]*=>cat "$LOG" ' \
  're:user-add (\S+)=>user-add \1 --password-stdin'
[ -s "$STEPS/order" ] || { finish; exit 1; }

DONE=()
# run_step NAME [< input] — runs the guide's block NAME (bash -e as a shell runs it, 30 s at most) and,
# when the guide shows its output, matches it.
run_step() {
  local name=$1 rc=0
  DONE+=("$name")
  if [ ! -f "$STEPS/$name.sh" ]; then
    fail "guide step $name: no such block in docs/guide.md"
    return
  fi
  (cd "$T/work" && PATH="$HK_BIN:$PATH" LOG=$LOG timeout 30 bash -e "$STEPS/$name.sh") \
    >"$STEPS/$name.log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    fail "guide step $name (exit $rc): $(head -c 200 "$STEPS/$name.sh" | head -n 3)"
    tail -n 20 "$STEPS/$name.log" | sed 's/^/     /'
  elif [ -f "$STEPS/$name.out" ] &&
    ! "$PY" "$HK_SRC/tests/integration/t-39-guide/guide_steps.py" match "$STEPS/$name.out" \
      "$STEPS/$name.log" >"$STEPS/$name.match" 2>&1; then
    fail "guide step $name: its output differs from the guide's"
    sed 's/^/     /' "$STEPS/$name.match"
    tail -n 20 "$STEPS/$name.log" | sed 's/^/     got: /'
  else
    pass "guide step $name"
  fi
}
standin() {  # standin NAME WHY
  DONE+=("$1")
  [ -f "$STEPS/$1.sh" ] || fail "guide step $1: no such block in docs/guide.md"
  echo "skip - guide step $1 is stood in for: $2"
}

# The internet: the provider's PTR for the VPS, and the mailbox provider's MX.
DNS_BASE=(--ptr-record=25.113.0.203.in-addr.arpa,mx.guide.test
  "--ptr-record=$("$PY" -c 'import ipaddress; print(ipaddress.ip_address("2001:db8::25").reverse_pointer)'),mx.guide.test"
  --mx-host=inbox.test,mx.inbox.test,10 "--host-record=mx.inbox.test,$MBX")
start_dns "${DNS_BASE[@]}"

# The receiver's DKIM verdict, as Debian's mail servers reach it: OpenDKIM as Postfix's milter,
# verifying only, writing Authentication-Results with dkim=.
cat >"$T/opendkim.conf" <<CONF
Mode v
Socket inet:8891@127.0.0.1
Nameservers 127.0.0.53
ResolverConfiguration $T/unbound.conf
AuthservID mx.inbox.test
AlwaysAddARHeader yes
Syslog no
UserID opendkim
PidFile $T/opendkim.pid
CONF
# Its resolver is libunbound, which by default never asks a loopback server (the test zone's is)
# and answers NXDOMAIN itself for the special-use name test. (RFC 6761 §6.2).
printf 'server:\n  do-not-query-localhost: no\n  local-zone: "test." nodefault\n' >"$T/unbound.conf"
chmod 644 "$T/opendkim.conf" "$T/unbound.conf"
opendkim -f -x "$T/opendkim.conf" >"$T/opendkim.log" 2>&1 &
for _ in $(seq 1 50); do ss -Hltn "src 127.0.0.1:8891" | grep -q . && break; sleep 0.1; done
check "OpenDKIM listens as Postfix's milter" bash -c "ss -Hltn 'src 127.0.0.1:8891' | grep -q ."

cat >"$T/policyd-spf.conf" <<CONF
debugLevel = 1
TestOnly = 1
HELO_reject = Fail
Mail_From_reject = Fail
PermError_reject = False
TempError_Defer = False
skip_addresses = 127.0.0.0/8,::ffff:127.0.0.0/104,::1
Header_Type = AR
Authserv_Id = mx.inbox.test
CONF
chmod 644 "$T/policyd-spf.conf"
PF_MASTER_EXTRA="policyd-spf unix - n n - 0 spawn user=nobody argv=/usr/bin/policyd-spf $T/policyd-spf.conf"
start_postfix inbox "$MBX" "inbox.test" \
  "smtpd_peername_lookup = yes" \
  "smtpd_client_restrictions = reject_unknown_client_hostname" \
  "smtpd_recipient_restrictions = reject_unauth_destination, check_policy_service unix:private/policyd-spf" \
  "policyd-spf_time_limit = 3600" \
  "smtpd_milters = inet:127.0.0.1:8891" "milter_default_action = tempfail"
BOX=$T/pf/inbox/mail/box/new
# Both addresses are local here (start_postfix put $MBX on lo), and a connection to a local
# address leaves from that address; give the route to the mailbox provider the VPS's address as
# its source, as the VPS's default route would, so that Postfix sees the client 203.0.113.25.
ip route replace local "$MBX" dev lo table local proto kernel scope host src "$VPS4"

# --- 1. Install ---
standin install-source "tests/integration/t-40-quickstart runs deploy/quickstart.sh on a temporary prefix; here this build's binaries ($HK_BIN) come first in PATH"
standin install-deb "the Debian package is built and installed by its own test"
standin tools "dnsutils and swaks come with deploy/install-deps.sh --test"
run_step install-check
# What the installation makes (deploy/install.sh).
mkdir -p "$ETC/certs" "$ETC/domains" "$DATA"
# --- 2. hostname and PTR ---
standin hostname "hostnamectl would rename this machine; the daemon takes its name from hikyaku.toml"
run_step ptr-check  # the provider's rDNS: dnsmasq's --ptr-record above
# --- 3. firewall and port 25 ---
standin firewall "the namespace has no firewall to open"
run_step port25-check
standin relay-check "test-relay --send-to needs an account at a relay provider"
# --- 4. configuration ---
run_step config
cat >>"$ETC/hikyaku.toml" <<TOML
[listen]
smtp = ["$VPS4:25", "127.0.0.1:25"]
submission = ["$VPS4:587", "127.0.0.1:587"]
submission_tls = ["$VPS4:465", "127.0.0.1:465"]
TOML
run_step config-check
# Step 3's [[relay]] example (a toml block, not a command) must be a configuration hikyaku takes,
# with the preset filling in the provider's host: appended to a copy of the guide's config.
mkdir -p "$T/relay-etc"
cp "$ETC/hikyaku.toml" "$T/relay-etc/hikyaku.toml"
awk '/^```toml/{f=1;next} /^```/{f=0} f' "$HK_SRC/docs/guide.md" >>"$T/relay-etc/hikyaku.toml"
check "the guide's [[relay]] example passes --check-config" \
  env RELAY_PASSWORD=secret "$HK_BIN/hikyaku" -C "$T/relay-etc" --check-config
check "the guide's relay preset resolves to the provider's host" \
  bash -c "RELAY_PASSWORD=secret '$HK_BIN/hikyaku-util' -C '$T/relay-etc' print-config | grep -qx 'host = \"email-smtp.eu-west-1.amazonaws.com\"'"
# --- 5. certificate ---
standin certbot "Let's Encrypt cannot reach this namespace; a self-signed certificate in a certbot-shaped lineage ($T/letsencrypt/live/mx.guide.test) is handed over by the next step, the hook certbot runs"
make_cert "$T/letsencrypt/live/mx.guide.test" mx.guide.test
# The hook's defaults are /etc/hikyaku/certs and the systemd service hikyaku: never this machine's.
export HIKYAKU_CERTS_DIR=$ETC/certs HIKYAKU_SERVICE=hikyaku-t39-none
run_step certbot-existing
standin acme.sh "acme.sh is not installed; its hook writes the same two files"
run_step cert-check
# --- 6. start ---
standin start "no systemd here: the daemon runs in the background with the guide's configuration"
start_daemon
run_step start-check
# --- 7. users ---
# The daemon notices new domains, users and keys by itself within seconds; a person takes longer
# than that between two steps, the test waits for the log line.
# reloaded_since LINE WHAT — 1 once the log has "reload what=WHAT result=ok" past line LINE.
reloaded_since() {
  if tail -n +"$(($1 + 1))" "$LOG" | grep -q "reload what=$2 result=ok"; then echo 1; else echo 0; fi
}
mark=$(wc -l <"$LOG")
run_step users <<<"$PW"
WAIT_SECONDS=15 check "the daemon took in the new domain and user" wait_for 1 reloaded_since "$mark" domains
run_step users-check
# --- 8. DKIM and DNS ---
mark=$(wc -l <"$LOG")
run_step dkim
WAIT_SECONDS=15 check "the daemon took in the DKIM key" wait_for 1 reloaded_since "$mark" dkim
run_step records
# Publishing: exactly what dns-records printed, served by dnsmasq beside the rest of the internet.
check "the records convert to dnsmasq options" bash -c "$(declare -f zone_to_dnsmasq); zone_to_dnsmasq '$STEPS/records.log' >'$T/zone.args'"
mapfile -t zone <"$T/zone.args"
kill "$(cat "$T/dnsmasq.pid")"
for _ in $(seq 1 50); do kill -0 "$(cat "$T/dnsmasq.pid")" 2>/dev/null || break; sleep 0.1; done
start_dns "${DNS_BASE[@]}" "${zone[@]}"
run_step check-dns
# --- 9. the first mail ---
run_step send <<<"$PW"
stored() { if [ -d "$BOX" ]; then find "$BOX" -type f | wc -l; else echo 0; fi; }
check "Postfix stored the first mail" wait_for 1 stored
MSG=$(find "$BOX" -type f | head -n1)
MSG=${MSG:-/dev/null}
run_step send-check
check "the receiver confirmed the PTR: Received from mx.guide.test [203.0.113.25]" \
  grep -qE "^Received: from mx\.guide\.test \(mx\.guide\.test \[$VPS4\]\)" "$MSG"
check "the receiver's Authentication-Results (policyd-spf): spf=pass for guide.test from 203.0.113.25" \
  grep -qE "^Authentication-Results: mx\.inbox\.test; spf=pass .*smtp\.mailfrom=guide\.test \(client-ip=$VPS4; helo=mx\.guide\.test; envelope-from=you@guide\.test" "$MSG"
SELECTOR=$(basename "$(ls "$ETC"/domains/guide.test/dkim/*.pem)" .pem)
dkim_header() { sed -n '/^DKIM-Signature:/,/^[^ \t]/p' "$MSG" | head -n -1 | tr -d '\n\t '; }
check "hikyaku signed it: DKIM-Signature d=guide.test; s=$SELECTOR (the key of step 8)" \
  bash -c "$(declare -f dkim_header); MSG='$MSG'; dkim_header | grep -q 'd=guide.test;s=$SELECTOR;'"
check "the receiver's Authentication-Results (OpenDKIM): dkim=pass for d=guide.test, s=$SELECTOR" \
  bash -c "grep -A1 -x 'Authentication-Results: mx.inbox.test;' '$MSG' |
    grep -qE '^\s+dkim=pass .* header\.d=guide\.test header\.i=@guide\.test header\.a=rsa-sha256 header\.s=$SELECTOR '"
# DMARC (RFC 7489 §3.1, §4.2): the From: domain is the domain of a passing DKIM signature and of
# the SPF-checked envelope sender, and check-dns found its policy published.
check "DMARC aligned: From: you@guide.test, dkim header.d=guide.test, spf smtp.mailfrom=guide.test" \
  bash -c "grep -qx 'From: you@guide.test' '$MSG' && grep -q 'header.d=guide.test ' '$MSG' &&
    grep -q 'spf=pass .*smtp.mailfrom=guide.test ' '$MSG' && grep -qE '^DMARC +ok' '$STEPS/check-dns.log'"
# Postfix stores with LF line ends; the CRLF form is what went over the wire.
check "dkimpy: DKIM passes on the stored message (key from the test zone)" \
  bash -c "sed 's/\$/\r/' '$MSG' | dkimverify"
check "Postfix logged the delivery" \
  grep -q 'postfix/virtual.*to=<someone@inbox.test>.*status=sent' "$T/pf/inbox/postfix.log"
# --- 10. when something fails ---
run_step queue
run_step logs
check "the message stored is the guide's" grep -qx 'Subject: first mail from hikyaku' "$MSG"

# Every command of the guide was run or stood in for, by name.
missing=()
while read -r name; do
  [[ " ${DONE[*]} " == *" $name "* ]] || missing+=("$name")
done <"$STEPS/order"
check "every runnable block of the guide is run or stood in for (new: ${missing[*]:-none})" \
  test "${#missing[@]}" = 0
finish
