#!/usr/bin/env bash
# Installs what the tests need, builds with warnings as errors and runs every test: unit tests
# (GoogleTest) and integration tests (the real daemon on loopback, driven by real clients), then
# a short run of every libFuzzer target (tests/fuzz/short.sh: clang-14, ASan/UBSan, build-fuzz).
#   tests/run.sh [--sanitize]   (--sanitize: an ASan/UBSan build in build-asan)
# HK_FUZZ_SECONDS: seconds per fuzz target (default 10; 0 skips the fuzz run).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$src/build-ci
extra=()
if [ "${1:-}" = "--sanitize" ]; then
  build=$src/build-asan
  extra=(-DHK_SANITIZE="address;undefined")
fi
bash "$src/deploy/install-deps.sh" --test
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHK_WERROR=ON "${extra[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build"
ctest --output-on-failure -j"$(nproc)" --timeout 300
if [ "${HK_FUZZ_SECONDS:-10}" != 0 ]; then
  sh "$src/tests/fuzz/short.sh" "${HK_FUZZ_SECONDS:-10}"
fi
