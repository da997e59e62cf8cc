#!/bin/sh
# Builds the libFuzzer targets for parsers outside lib/smtp — DKIM relaxed canonicalization
# and the MTA-STS policy/TXT/cache parsers — through CMake (HK_FUZZ=ON with clang++-14, in
# $BUILD, default build-fuzz) and runs each for N seconds over its committed seeds.
# Usage: tests/fuzz/parsers/run.sh [seconds-per-target, default 20]
# Needs: clang-14, libclang-rt-14-dev (libFuzzer runtime) and the normal build's -dev packages.
# New corpus entries go to $OUT/corpus/<target>; the committed seeds are only read. Crashes are
# left in $OUT/artifacts/<target>/ and make the script exit non-zero.
set -eu

SECONDS_PER_TARGET=${1:-20}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
BUILD=${BUILD:-$ROOT/build-fuzz}
OUT=${OUT:-$ROOT/build-fuzz-parsers}
TARGETS="dkim_canon mta_sts_policy"

. "$HERE/../common.sh"
# shellcheck disable=SC2086 # one word per target
build_fuzzers $TARGETS
status=0
for t in $TARGETS; do
  run_fuzzer "$t" "$HERE/corpus/$t"
done
exit $status
