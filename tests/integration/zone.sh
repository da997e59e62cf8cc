# zone_to_dnsmasq FILE: the dnsmasq options serving every record line of a `hikyaku-util
# dns-records` zone, one per line; an unknown record type fails, so nothing printed is left
# unpublished. Sourced by the tests that publish what dns-records prints (t-36, t-39).
zone_to_dnsmasq() {
  local name type rest value
  while read -r name _ type rest; do
    case "$type" in
      MX) echo "--mx-host=${name%.},$(echo "$rest" | cut -d' ' -f2 | sed 's/\.$//'),$(echo "$rest" | cut -d' ' -f1)" ;;
      A | AAAA) echo "--host-record=${name%.},$rest" ;;
      TXT)
        value=$(echo "$rest" | sed 's/^( *//; s/ *)$//' | grep -o '"[^"]*"' | tr -d '"\n')
        echo "--txt-record=${name%.},$(echo "$value" | fold -w 250 | paste -sd, -)"
        ;;
      TLSA)  # RFC 6698 §2.1: usage, selector, matching type (one octet each), then the data
        read -r u s m data <<<"$rest"
        printf -- '--dns-rr=%s,52,%02x%02x%02x%s\n' "${name%.}" "$u" "$s" "$m" "$data"
        ;;
      *) echo "unknown record type $type" >&2; return 1 ;;
    esac
  done < <(grep -v '^;' "$1" | grep -v '^$')
}
