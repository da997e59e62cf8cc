#!/bin/sh
# The short fuzz run of the test command (tests/run.sh, which CI's .ci/run calls): builds every
# libFuzzer target (CMake's hk_fuzz: HK_FUZZ=ON with clang++-14, ASan and UBSan, in $BUILD,
# default build-fuzz) and runs each for N seconds over its committed seeds in
# tests/fuzz/*/corpus/<target>/. Exits non-zero on any finding (crash, sanitizer report, failed
# invariant, leak, timeout over 10 s, memory over 2 GiB); the input that caused it is left in
# $OUT/artifacts/<target>/ (OUT defaults to build-fuzz-short), the fuzzer's output in $OUT.
# Usage: tests/fuzz/short.sh [seconds-per-target, default 10]
# Needs: clang-14, libclang-rt-14-dev (deploy/install-deps.sh --test installs both).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build-fuzz}
OUT=${OUT:-$ROOT/build-fuzz-short}
SECONDS_PER_TARGET=${1:-10}

build_fuzzers
status=0
ran=0
for seeds in "$HERE"/*/corpus/*/; do
  t=$(basename "$seeds")
  if [ ! -x "$BUILD/bin/${t}_fuzz" ]; then
    echo "!! $seeds has no target ${t}_fuzz in tests/fuzz/CMakeLists.txt"
    status=1
    continue
  fi
  # Only this run's findings count: an old artifact must not hide or fake a new one.
  rm -rf "$OUT/artifacts/$t"
  run_fuzzer "$t" "$seeds"
  ran=$((ran + 1))
done
echo "fuzz: $ran targets, ${SECONDS_PER_TARGET}s each, $([ $status -eq 0 ] && echo "no finding" || echo FAILED)"
exit $status
