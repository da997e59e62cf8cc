# DNSSEC rig for t-33-dane, sourced after lib.sh: a zone signed with ldns-signzone, served by nsd
# on 127.0.0.60, and unbound on 127.0.0.61 validating it with the zone's DS as trust anchor.
# start_signed_dns SIGNED_ZONE_BODY_FILE UNSIGNED_ZONE PLAIN_BODY_FILE — see run.sh.

# sign_zone ZONE FILE — FILE.signed, signed with a fresh KSK and ZSK (ECDSA P-256, algorithm 13);
# $Z/ZONE.ds gets the KSK's DS record, the trust anchor.
sign_zone() {
  local zone=$1 file=$2 ksk zsk
  (cd "$Z" && ksk=$(ldns-keygen -a ECDSAP256SHA256 -k "$zone") && zsk=$(ldns-keygen -a ECDSAP256SHA256 "$zone") &&
    cat "$ksk.key" "$zsk.key" >>"$file" &&
    ldns-signzone -n "$file" "$zsk" "$ksk" && cp "$ksk.ds" "$Z/$zone.ds")
}

# start_nsd ZONE:FILE... — nsd serving each zone from its file on 127.0.0.60:53.
start_nsd() {
  mkdir -p "$Z/nsd"
  cat >"$Z/nsd.conf" <<CONF
server:
  ip-address: 127.0.0.60
  port: 53
  do-ip6: no
  zonesdir: "$Z"
  pidfile: "$Z/nsd.pid"
  database: ""
  username: ""
  chroot: ""
  logfile: "$Z/nsd.log"
  xfrdfile: "$Z/nsd/xfrd.state"
  xfrdir: "$Z/nsd"
  zonelistfile: "$Z/nsd/zone.list"
  server-count: 1
  verbosity: 1
remote-control:
  control-enable: no
CONF
  for z in "$@"; do
    printf 'zone:\n  name: "%s"\n  zonefile: "%s"\n' "${z%%:*}" "${z#*:}" >>"$Z/nsd.conf"
  done
  nsd -d -c "$Z/nsd.conf" >>"$Z/nsd.log" 2>&1 &
  for _ in $(seq 1 50); do
    dig +short +time=1 +tries=1 @127.0.0.60 "${1%%:*}" SOA >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "nsd did not start:"; cat "$Z/nsd.log"; return 1
}

# start_unbound SIGNED_ZONE INSECURE_ZONE — unbound on 127.0.0.61:53, both zones stubbed to nsd,
# the signed one anchored by its DS.
start_unbound() {
  cat >"$Z/unbound.conf" <<CONF
server:
  interface: 127.0.0.61
  port: 53
  do-ip6: no
  do-not-query-localhost: no
  access-control: 127.0.0.0/8 allow
  username: ""
  chroot: ""
  directory: "$Z"
  pidfile: "$Z/unbound.pid"
  use-syslog: no
  logfile: "$Z/unbound.log"
  verbosity: 1
  val-log-level: 2
  qname-minimisation: no
  module-config: "validator iterator"
  trust-anchor-file: "$Z/$1.ds"
  domain-insecure: "$2"
  # RFC 6761 .test is a static local zone by default; here it is delegated by the stubs below.
  local-zone: "test." nodefault
  cache-max-negative-ttl: 1
remote-control:
  control-enable: no
stub-zone:
  name: "$1"
  stub-addr: 127.0.0.60
stub-zone:
  name: "$2"
  stub-addr: 127.0.0.60
CONF
  unbound -d -c "$Z/unbound.conf" >>"$Z/unbound.log" 2>&1 &
  for _ in $(seq 1 50); do
    dig +short +time=1 +tries=1 @127.0.0.61 "$1" SOA >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "unbound did not start:"; cat "$Z/unbound.log"; return 1
}
