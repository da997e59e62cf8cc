#!/bin/sh
# Builds the hk_smtp libFuzzer targets with clang++-14 (no CMake) and runs each for N seconds.
# Usage: tests/fuzz/smtp/run.sh [seconds-per-target, default 20]
# Needs: clang-14, libclang-rt-14-dev (libFuzzer runtime), libidn2-dev.
# New corpus entries go to $OUT/corpus/<target>; the committed seeds are only read. Crashes are
# left in $OUT/artifacts/<target>/ and make the script exit non-zero.
set -eu

SECONDS_PER_TARGET=${1:-20}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
OUT=${OUT:-$ROOT/build-fuzz-smtp}
CXX=${CXX:-clang++-14}
TARGETS="parse_command parse_path data_reader"

FLAGS="-std=c++20 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
  -fno-sanitize-recover=undefined -I$ROOT $(pkg-config --cflags libidn2)"
LIBS=$(pkg-config --libs libidn2)

mkdir -p "$OUT/obj"
for src in "$ROOT"/lib/smtp/*.cpp; do
  obj="$OUT/obj/$(basename "$src" .cpp).o"
  $CXX $FLAGS -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
done

. "$HERE/../common.sh"
status=0
for t in $TARGETS; do
  $CXX $FLAGS -fsanitize=fuzzer "$HERE/${t}_fuzz.cpp" "$OUT"/obj/*.o $LIBS -o "$OUT/${t}_fuzz"
  run_fuzzer "$t" "$OUT/${t}_fuzz" "$HERE/corpus/$t"
done
exit $status
