#!/bin/sh
# Builds the libFuzzer targets for parsers outside lib/smtp — DKIM relaxed canonicalization
# and the MTA-STS policy/TXT/cache parsers — through CMake (HK_FUZZ=ON with clang++-14, in
# $BUILD, default build-fuzz) and runs each for N seconds over its committed seeds.
# Usage: tests/fuzz/parsers/run.sh [seconds-per-target, default 20]
# Needs: clang-14, libclang-rt-14-dev (libFuzzer runtime) and the normal build's -dev packages.
# New corpus entries go to $OUT/corpus/<target>; the committed seeds are only read. Crashes are
# left in $OUT/artifacts/<target>/ and make the script exit non-zero.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../common.sh"
fuzz_main "dkim_canon mta_sts_policy dns_response spf tag_list dkim_verify auth_results dmarc_record prototext mime" "${1:-20}"
