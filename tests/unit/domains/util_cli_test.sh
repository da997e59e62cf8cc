#!/usr/bin/env bash
# Runs the real hikyaku-util against a temporary config folder: users, authentication exit codes,
# the users file mode, aliases. Usage: util_cli_test.sh PATH/TO/hikyaku-util
set -u
UTIL=${1:?usage: util_cli_test.sh PATH/TO/hikyaku-util}
CONF=$(mktemp -d)
trap 'rm -rf "$CONF"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# expect CODE DESCRIPTION -- COMMAND...: runs COMMAND (stdin from $STDIN if set), keeps its
# stdout in $OUT and stderr in $ERR, and checks the exit code.
expect() {
  local want=$1 what=$2
  shift 3
  local got
  OUT=$("$@" < "${STDIN:-/dev/null}" 2> "$CONF/.err")
  got=$?
  ERR=$(cat "$CONF/.err")
  if [[ $got -eq $want ]]; then ok; else bad "$what: exit $got, want $want (stderr: $ERR)"; fi
}
# contains HAYSTACK NEEDLE DESCRIPTION
contains() {
  if [[ $1 == *"$2"* ]]; then ok; else bad "$3: \"$1\" lacks \"$2\""; fi
}

u() { "$UTIL" -C "$CONF" "$@"; }
pw() { printf '%s\n' "$1" > "$CONF/.pw"; STDIN=$CONF/.pw; }

# Global options.
expect 0 "--version" -- "$UTIL" --version
[[ $OUT =~ ^hikyaku-util\ [0-9]+\.[0-9]+ ]] && ok || bad "--version prints '$OUT'"
expect 0 "--help" -- "$UTIL" --help
contains "$OUT" "user-add" "--help lists user-add"
contains "$OUT" "aliases-resolve" "--help lists aliases-resolve"
expect 0 "command --help" -- "$UTIL" user-add --help
contains "$OUT" "--force" "user-add --help mentions --force"
expect 2 "no command" -- "$UTIL"
expect 2 "unknown command" -- u frobnicate
contains "$ERR" "unknown command frobnicate" "unknown command names it"
[[ $(printf '%s' "$ERR" | wc -l) -eq 0 ]] && ok || bad "usage error is one line: $ERR"
expect 2 "unknown option" -- u user-add alice@example.com --pasword=x
expect 2 "missing argument" -- u user-add
expect 2 "bad address" -- u user-add alice --password=x
expect 2 "path traversal domain" -- u user-add alice@../etc --password=x
expect 2 "no password, stdin not a terminal" -- u user-add alice@example.com
expect 2 "both password options" -- u user-add alice@example.com --password=x --password-stdin

# user-add through stdin creates the domain folder and a 0600 users file.
pw 's3cret pass'
expect 0 "user-add" -- u user-add Alice@Example.com --password-stdin
contains "$OUT" "is now a local domain" "user-add says it created the domain"
contains "$OUT" "added alice@example.com" "user-add names the user"
USERS=$CONF/domains/example.com/users
[[ $(stat -c %a "$USERS") == 600 ]] && ok || bad "users file mode $(stat -c %a "$USERS")"
grep -q 's3cret' "$USERS" && bad "plaintext password in users file" || ok
grep -q '^alice scrypt\$14\$8\$1\$' "$USERS" && ok || bad "users line format: $(cat "$USERS")"
unset STDIN
expect 0 "user-add with --password" -- u user-add john.smith@example.com --password=other
expect 1 "user-add refuses an existing user" -- u user-add alice@example.com --password=x
contains "$ERR" "--force" "refusal mentions --force"
expect 2 "empty password" -- u user-add empty@example.com --password=

# authenticate: exit 0 ok, 1 wrong, one line of output.
pw 's3cret pass'
expect 0 "authenticate ok" -- u authenticate alice@example.com --password-stdin
[[ $OUT == "ok alice@example.com" ]] && ok || bad "authenticate prints '$OUT'"
pw 'wrong'
expect 1 "authenticate wrong password" -- u authenticate alice@example.com --password-stdin
[[ $OUT == "failed alice@example.com" ]] && ok || bad "failed auth prints '$OUT'"
unset STDIN
expect 1 "authenticate unknown user" -- u authenticate nobody@example.com --password=x
expect 0 "authenticate normalized name" -- u authenticate JohnSmith@example.com --password=other
expect 0 "authenticate bare name, one domain" -- u authenticate alice '--password=s3cret pass'
expect 0 "user-add --force replaces" -- u user-add alice@example.com --password=new --force
contains "$OUT" "replaced" "--force says replaced"
expect 1 "old password gone" -- u authenticate alice@example.com '--password=s3cret pass'
expect 0 "new password works" -- u authenticate alice@example.com --password=new
[[ $(stat -c %a "$USERS") == 600 ]] && ok || bad "users file mode after rewrite"

# user-list, check-userdb.
expect 0 "user-list" -- u user-list example.com
[[ $OUT == $'alice@example.com\njohnsmith@example.com' ]] && ok || bad "user-list: $OUT"
expect 1 "user-list unknown domain" -- u user-list nowhere.example
expect 0 "check-userdb ok" -- u check-userdb example.com
contains "$OUT" "2 users, ok" "check-userdb counts users"
chmod 644 "$USERS"
expect 1 "check-userdb flags mode 0644" -- u check-userdb example.com
contains "$OUT" "chmod 600" "check-userdb explains the mode"
chmod 600 "$USERS"
cp "$USERS" "$CONF/users.bak"
echo "bob hunter2" >> "$USERS"
expect 1 "check-userdb broken line" -- u check-userdb example.com
contains "$OUT" "users:6: password of \"bob\" is not a scrypt hash" "check-userdb names the line"
[[ $OUT == *hunter2* ]] && bad "check-userdb echoed a plaintext password" || ok
cp "$CONF/users.bak" "$USERS"

# Aliases.
expect 0 "aliases-add" -- u aliases-add sales@example.com alice,john.smith
contains "$OUT" "added sales@example.com" "aliases-add reports"
expect 0 "aliases-add extends" -- u aliases-add Sales@example.com bob@gmail.example alice
contains "$OUT" "updated sales@example.com" "aliases-add updates an entry"
grep -qx 'sales: alice, john.smith, bob@gmail.example' "$CONF/domains/example.com/aliases" && ok ||
  bad "aliases line: $(cat "$CONF/domains/example.com/aliases")"
expect 0 "aliases-resolve" -- u aliases-resolve Sales+x@example.com
[[ $OUT == $'local alice@example.com\nlocal johnsmith@example.com\nremote bob@gmail.example' ]] &&
  ok || bad "aliases-resolve: $OUT"
expect 0 "aliases-resolve user" -- u aliases-resolve alice@example.com
[[ $OUT == "local alice@example.com" ]] && ok || bad "aliases-resolve user: $OUT"
expect 1 "aliases-resolve unknown" -- u aliases-resolve nobody@example.com
contains "$ERR" "unknown address" "unknown address message"
expect 0 "catch-all" -- u aliases-add '*@example.com' alice
expect 0 "catch-all resolves" -- u aliases-resolve nobody@example.com
[[ $OUT == "local alice@example.com" ]] && ok || bad "catch-all: $OUT"
expect 0 "cross-domain alias" -- u aliases-add info@example.org sales@example.com
contains "$OUT" "is now a local domain" "aliases-add creates the domain"
expect 0 "cross-domain resolve" -- u aliases-resolve info@example.org
contains "$OUT" "remote bob@gmail.example" "cross-domain chain"
expect 0 "loop part one" -- u aliases-add a@example.com b
cp "$CONF/domains/example.com/aliases" "$CONF/aliases.bak"
expect 1 "loop refused" -- u aliases-add b@example.com a
contains "$ERR" "alias loop" "loop named"
cmp -s "$CONF/aliases.bak" "$CONF/domains/example.com/aliases" && ok || bad "loop left file changed"
expect 2 "bad target" -- u aliases-add x@example.com 'bad target'
expect 1 "broken aliases file" -- bash -c "echo 'nocolon' >> '$CONF/domains/example.com/aliases' &&
  '$UTIL' -C '$CONF' aliases-resolve alice@example.com"
contains "$ERR" "aliases:" "broken aliases file named"

# user-remove.
cp "$CONF/aliases.bak" "$CONF/domains/example.com/aliases"
expect 0 "user-remove" -- u user-remove John.Smith@example.com
expect 1 "user-remove again" -- u user-remove johnsmith@example.com
expect 1 "removed user cannot log in" -- u authenticate johnsmith@example.com --password=other

echo "util_cli_test: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
