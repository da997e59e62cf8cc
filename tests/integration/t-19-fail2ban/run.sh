#!/usr/bin/env bash
# The fail2ban filter and jails of deploy/fail2ban against the log the real daemon writes: every
# failure line matched with the right address, no other line matched, user names cannot frame
# another address; the jail configuration passes fail2ban's own check.
source "$(dirname "$0")/../lib.sh"
F2B=$HK_SRC/deploy/fail2ban
FILTER=$F2B/filter.d/hikyaku.conf
TRUSTED='["127.0.0.1/32"]' write_config
sed -i 's/^\[limits\]/&\nauth_failures_per_ip = 4\nconnection_rate_per_ip = 5/' "$ETC/hikyaku.toml"
setup_domains
start_daemon
check "failures and successes provoked from 127.0.0.2-8" \
  "$PY" "$(dirname "$0")/provoke.py" "$SMTP_PORT" "$TLS_PORT"
check "the success lines are in the log" \
  bash -c "grep -q 'session client=127.0.0.8 auth=alice@example.test result=authenticated' '$LOG'"

# What the filter must find: the failure lines, counted per address by a plain reading of the
# log (the first field after "session " names the client; the result is the line's tail).
expected() {
  "$PY" - "$LOG" <<'PY'
import collections, re, sys
want = collections.Counter()
for line in open(sys.argv[1], encoding="utf-8"):
    m = re.match(r"\S+ info session client=(\S+) ", line)
    if not m:
        continue
    tail = line.rstrip("\n")
    if tail.endswith(" result=auth-failed") or any(
            tail.endswith(" result=refused reason=" + r)
            for r in ("auth-ban", "connection-rate", "pipelining", "errors")):
        want[m.group(1)] += 1
for ip, n in sorted(want.items()):
    print(ip, n)
PY
}
matched() {  # matched [fail2ban-regex options] LOGFILE — the addresses it finds, counted
  fail2ban-regex -o ip "$@" "$FILTER" | sort | uniq -c | awk '{ print $2, $1 }'
}
expected >"$T/expected"
check "the log holds the failures provoked, per address" \
  bash -c "[ \"\$(tr '\n' ' ' <'$T/expected')\" = \
'127.0.0.2 3 127.0.0.3 2 127.0.0.4 7 127.0.0.5 1 127.0.0.6 1 127.0.0.7 1 ' ] || { cat '$T/expected'; false; }"
matched "$LOG" >"$T/matched"
check "file log: fail2ban-regex matches exactly the failure lines, with the right addresses" \
  diff "$T/expected" "$T/matched"
# The "Matched line(s)" and "Missed line(s)" sections of fail2ban-regex's report.
fail2ban-regex --print-all-matched --print-all-missed "$LOG" "$FILTER" >"$T/report" 2>&1 || true
sed -n '/^|- Matched line(s):/,/^`-/p' "$T/report" >"$T/matched-lines"
sed -n '/^|- Missed line(s):/,/^`-/p' "$T/report" >"$T/missed-lines"
check "every success line missed: the login and both deliveries (127.0.0.8, 127.0.0.1)" \
  bash -c "[ \$(grep -c 'result=authenticated\|result=delivered' '$T/missed-lines') -eq 3 ]"
check "no success line and nothing from 127.0.0.1 or 127.0.0.8 matched" \
  bash -c "[ -s '$T/matched-lines' ] &&
           ! grep -E 'result=authenticated|result=delivered|client=127\.0\.0\.[18] ' \
             '$T/matched-lines'"
check "framing user names never yield their addresses" \
  bash -c "! grep -qE '127\.0\.0\.9[89]' '$T/matched'"
# Under systemd the lines reach the journal without the timestamp.
sed 's/^[^ ]* //' "$LOG" >"$T/journal.log"
matched -d '{NONE}' "$T/journal.log" >"$T/matched-journal"
check "journal-style lines (no timestamp): the same matches" diff "$T/expected" "$T/matched-journal"

# The jails load with fail2ban's own configuration check (both backends).
mkdir -p "$T/f2b"
cp -r /etc/fail2ban/. "$T/f2b/"
cp "$FILTER" "$T/f2b/filter.d/hikyaku.conf"
sed 's/^enabled  = false/enabled  = true/; s|^logpath  = .*|logpath  = '"$LOG"'|' \
  "$F2B/jail.d/hikyaku.conf" >"$T/f2b/jail.d/hikyaku.conf"
rm -f "$T/f2b/jail.d/defaults-debian.conf"  # enables sshd, whose log this system may lack
check "fail2ban-client -t accepts the jails" fail2ban-client -c "$T/f2b" -t
finish
