#!/usr/bin/env bash
# Installs what the tests need, builds with warnings as errors and runs every test: unit tests
# (GoogleTest) and integration tests (the real daemon on loopback, driven by real clients).
#   tests/run.sh [--sanitize]   (--sanitize: an ASan/UBSan build in build-asan)
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
