# A receiving Postfix (Debian's package) for tests in a network namespace (enter_netns): each
# instance runs from its own config, queue and data directories under $T, never the system
# instance or /etc/postfix. Sourced after lib.sh by t-37-postfix-receiver and t-39-guide; it sets
# the EXIT trap that stops the instances before lib.sh's cleanup.
# Postfix's daemons run as the postfix user and chdir into their queue under $T.
chmod 711 "$T"

PF_NAMES=()
# start_postfix NAME ADDR DOMAINS [main.cf lines...] — a Postfix instance in $T/pf/NAME receiving
# on ADDR:25 for DOMAINS, every recipient into the Maildir $T/pf/NAME/mail/box/, its log in
# $T/pf/NAME/postfix.log (postlogd: Postfix 3.4+ writes it itself, no syslog needed).
# PF_MASTER_EXTRA: more master.cf lines (a policy service, say), one per line. A main.cf line
# given later overrides an earlier one (Postfix takes the last).
PF_MASTER_EXTRA=""
start_postfix() {
  local name=$1 addr=$2 domains=$3 d=$T/pf/$1
  shift 3
  mkdir -p "$d/etc" "$d/queue" "$d/data" "$d/mail"
  chown postfix:postfix "$d/data"
  chown 65534:65534 "$d/mail"
  cat >"$d/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $d/queue
data_directory = $d/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.$name.test
mydomain = $name.test
myorigin = \$myhostname
mydestination =
alias_maps =
alias_database =
biff = no
inet_interfaces = $addr
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_peername_lookup = no
local_header_rewrite_clients =
maillog_file = $d/postfix.log
maillog_file_prefixes = $T
virtual_mailbox_domains = $domains
virtual_mailbox_base = $d/mail
virtual_mailbox_maps = static:box/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
CF
  for line in "$@"; do echo "$line" >>"$d/etc/main.cf"; done
  # Debian's master.cf, reduced to what a receiving MTA uses, nothing chrooted.
  cat >"$d/etc/master.cf" <<'CF'
smtp      inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CF
  [ -z "$PF_MASTER_EXTRA" ] || echo "$PF_MASTER_EXTRA" >>"$d/etc/master.cf"
  # Postfix binds only addresses of an interface (inet_interfaces), and 127.0.0.x is not one
  # until added to this namespace's loopback.
  ip addr add "$addr/32" dev lo
  PF_NAMES+=("$name")
  postfix -c "$d/etc" start >"$d/start.out" 2>&1 || {
    echo "postfix $name did not start:"; cat "$d/start.out" "$d/postfix.log" 2>/dev/null
    script -qc "postfix -c $d/etc check" /dev/null; return 1; }
  # Wait for the listening socket without connecting (a connection counts for anvil's rates).
  for _ in $(seq 1 100); do
    ss -Hltn "src $addr:25" | grep -q . && return 0
    sleep 0.1
  done
  echo "postfix $name does not listen on $addr:25:"; cat "$d/postfix.log"; return 1
}
# live PID — the process exists and is not a zombie (Postfix's master daemonizes; its children
# may wait for a reaper after they exit).
live() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $st != Z* ]]; }
stop_postfixes() {
  local name d pid
  for name in "${PF_NAMES[@]}"; do
    d=$T/pf/$name
    pid=$(tr -d ' ' <"$d/queue/pid/master.pid" 2>/dev/null || true)
    # postfix stop waits until the master has ended; its children end with it.
    postfix -c "$d/etc" stop >/dev/null 2>&1 || true
    [ -n "$pid" ] || continue
    for _ in $(seq 1 50); do
      if ! live "$pid"; then break; fi
      sleep 0.1
    done
    # Whatever is left of this instance (its master is the leader of their process group).
    if pgrep -g "$pid" >/dev/null; then pkill -KILL -g "$pid" || true; fi
  done
  PF_NAMES=()
}
pf_cleanup() {
  local rc=$?
  set +e  # (exit "$rc") below must not end the trap before lib.sh's cleanup
  stop_postfixes
  if [ "$rc" -ne 0 ] || [ "$FAILS" -ne 0 ]; then
    for f in "$T"/pf/*/postfix.log; do echo "--- $f ---"; tail -n 30 "$f"; done 2>/dev/null || true
  fi
  (exit "$rc")
  cleanup
}
trap pf_cleanup EXIT
