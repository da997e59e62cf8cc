#!/bin/sh
# Builds the PROXY protocol header's libFuzzer target through CMake (HK_FUZZ=ON with clang++-14,
# in $BUILD, default build-fuzz) and runs it for N seconds over its committed seeds.
# Usage: tests/fuzz/proxy/run.sh [seconds, default 20]
# Needs: clang-14, libclang-rt-14-dev (libFuzzer runtime). Crashes are left in
# $OUT/artifacts/proxy_header/ and make the script exit non-zero.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../common.sh"
fuzz_main "proxy_header" "${1:-20}"
