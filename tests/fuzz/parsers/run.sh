#!/bin/sh
# Builds the libFuzzer targets for parsers outside lib/smtp — DKIM relaxed canonicalization
# and the MTA-STS policy/TXT/cache parsers — with clang++-14 (no CMake) and runs each for N
# seconds. Usage: tests/fuzz/parsers/run.sh [seconds-per-target, default 20]
# Needs: clang-14, libclang-rt-14-dev (libFuzzer runtime), libssl-dev.
# New corpus entries go to $OUT/corpus/<target>; the committed seeds are only read. Crashes are
# left in $OUT/artifacts/<target>/ and make the script exit non-zero.
set -eu

SECONDS_PER_TARGET=${1:-20}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
OUT=${OUT:-$ROOT/build-fuzz-parsers}
CXX=${CXX:-clang++-14}

FLAGS="-std=c++20 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
  -fno-sanitize-recover=undefined -I$ROOT"

mkdir -p "$OUT/obj"
$CXX $FLAGS -fsanitize=fuzzer-no-link -c "$ROOT/lib/dkim/signer.cpp" -o "$OUT/obj/signer.o"
$CXX $FLAGS -fsanitize=fuzzer-no-link -c "$ROOT/lib/mta_sts/mta_sts_policy.cpp" \
  -o "$OUT/obj/mta_sts_policy.o"

. "$HERE/../common.sh"
status=0
for t in dkim_canon mta_sts_policy; do
  case $t in
    dkim_canon) objs="$OUT/obj/signer.o" libs="-lcrypto" ;;
    mta_sts_policy) objs="$OUT/obj/mta_sts_policy.o" libs="" ;;
  esac
  # shellcheck disable=SC2086 # one word per object and library
  $CXX $FLAGS -fsanitize=fuzzer "$HERE/${t}_fuzz.cpp" $objs $libs -o "$OUT/${t}_fuzz"
  run_fuzzer "$t" "$OUT/${t}_fuzz" "$HERE/corpus/$t"
done
exit $status
