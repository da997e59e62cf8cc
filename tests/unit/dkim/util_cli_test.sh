#!/usr/bin/env bash
# Runs the real hikyaku-util DKIM commands against a temporary config folder: keygen (modes,
# refusal to overwrite), dns, sign, verify (ours and dkimpy). Usage: util_cli_test.sh UTIL PY
set -u
UTIL=${1:?usage: util_cli_test.sh PATH/TO/hikyaku-util PATH/TO/dkimpy_verify.py}
PYVERIFY=${2:?usage: util_cli_test.sh PATH/TO/hikyaku-util PATH/TO/dkimpy_verify.py}
CONF=$(mktemp -d)
trap 'rm -rf "$CONF"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
# check WANT_EXIT DESCRIPTION COMMAND...: stdin from $STDIN (default /dev/null), stdout in $OUT.
check() {
  local want=$1 what=$2
  shift 2
  OUT=$("$@" < "${STDIN:-/dev/null}" 2> "$CONF/.err")
  local got=$?
  if [[ $got -eq $want ]]; then ok; else bad "$what: exit $got, want $want ($(cat "$CONF/.err"))"; fi
}
u() { "$UTIL" -C "$CONF" "$@"; }
# The TXT value inside a zone-file line.
value_of() { sed 's/^[^(]*( "//; s/" )$//; s/" "//g' <<< "$1"; }

mkdir -p "$CONF/domains/example.org"
check 1 "keygen for a domain that is not local" u dkim-keygen other.org
check 2 "bad algo" u dkim-keygen example.org --algo=rsa1024
check 2 "bad selector" u dkim-keygen example.org --selector=../x
check 0 "keygen rsa" u dkim-keygen example.org --selector=r1
[[ $OUT == 'r1._domainkey.example.org. IN TXT ( "v=DKIM1; k=rsa; p='* ]] && ok || bad "rsa record: $OUT"
check 0 "keygen ed25519" u dkim-keygen example.org --selector=e1 --algo=ed25519
[[ $OUT == *'k=ed25519; p='* ]] && ok || bad "ed25519 record: $OUT"
check 1 "keygen refuses to overwrite" u dkim-keygen example.org --selector=r1
[[ $(stat -c %a "$CONF/domains/example.org/dkim") == 700 ]] && ok || bad "dkim/ mode"
[[ $(stat -c %a "$CONF/domains/example.org/dkim/r1.pem") == 600 ]] && ok || bad "key mode"
check 0 "default selector" u dkim-keygen example.org --algo=ed25519
[[ $OUT == hk20* ]] && ok || bad "default selector: $OUT"

check 0 "dns all" u dkim-dns example.org
[[ $(wc -l <<< "$OUT") -eq 3 ]] && ok || bad "dns all: $OUT"
check 0 "dns r1" u dkim-dns example.org --selector=r1
RSA=$(value_of "$OUT")
echo "$OUT" > "$CONF/r1.txt"
check 0 "dns e1" u dkim-dns example.org --selector=e1
ED=$(value_of "$OUT")
check 1 "dns unknown selector" u dkim-dns example.org --selector=nope

printf 'From: a@example.org\nTo: b@example.net\nSubject: hi\n\nbody\n' > "$CONF/msg"
STDIN=$CONF/msg check 0 "sign r1" u dkim-sign example.org --selector=r1
printf '%s\n' "$OUT" > "$CONF/signed"
[[ $(grep -c '^DKIM-Signature:' "$CONF/signed") -eq 1 ]] && ok || bad "one signature"
STDIN=$CONF/signed check 0 "verify key file (zone line)" u dkim-verify --key-file="$CONF/r1.txt"
[[ $OUT == "pass d=example.org s=r1"* ]] && ok || bad "verify output: $OUT"
STDIN=$CONF/signed check 0 "dkimpy rsa" /usr/bin/python3 "$PYVERIFY" "$RSA"
STDIN=$CONF/signed check 1 "verify with the wrong key" u dkim-verify --dns-record="$ED"
sed 's/^body$/bodY/' "$CONF/signed" > "$CONF/tampered"
STDIN=$CONF/tampered check 1 "tampered body" u dkim-verify --dns-record="$RSA"
[[ $OUT == fail* ]] && ok || bad "tampered output: $OUT"

STDIN=$CONF/msg check 0 "sign e1" u dkim-sign example.org --selector=e1
printf '%s\n' "$OUT" > "$CONF/signed-ed"
STDIN=$CONF/signed-ed check 0 "verify ed25519" u dkim-verify --dns-record="$ED"
STDIN=$CONF/signed-ed check 0 "dkimpy ed25519" /usr/bin/python3 "$PYVERIFY" "$ED"
STDIN=$CONF/msg check 0 "sign with all keys" u dkim-sign example.org
[[ $(grep -c '^DKIM-Signature:' <<< "$OUT") -eq 3 ]] && ok || bad "three signatures"
# Without a key, dkim-verify asks DNS through hikyaku.toml; this folder has none: exit 1.
STDIN=$CONF/msg check 1 "verify through DNS needs hikyaku.toml" u dkim-verify
check 2 "verify takes one key source" u dkim-verify --key-file=a --dns-record=b

echo "dkim util_cli: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
