# Shared by the fuzz run.sh scripts (POSIX sh). The caller sets HERE (its own folder, holding
# corpus/<target>/ seeds) and calls fuzz_main; BUILD (the fuzz build dir, default build-fuzz) and
# OUT (corpus, artifacts and logs, default build-fuzz-<folder>) may come from the environment.

# configure_fuzz_build — configures $BUILD with clang++ and HK_FUZZ=ON the first time (the
# libraries get libFuzzer's coverage hooks and ASan/UBSan there, never in the normal build).
configure_fuzz_build() {
  if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    launcher=""
    if command -v ccache >/dev/null; then
      launcher="-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
    fi
    # Debug: no NDEBUG, so every assert in the headers stays armed; HK_FUZZ itself adds -O1.
    # shellcheck disable=SC2086 # empty or one word
    CXX=${CXX:-clang++-14} cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DHK_FUZZ=ON \
      -DHK_TESTS=OFF $launcher >/dev/null
  fi
}

# build_fuzzers TARGET... — configure_fuzz_build, then builds TARGET_fuzz for each TARGET with
# the hk_* libraries it links (no TARGET: every fuzz target, CMake's hk_fuzz). CMake is the only
# recipe: tests/fuzz/CMakeLists.txt lists the targets and what they link.
build_fuzzers() {
  configure_fuzz_build
  targets=""
  for t in "$@"; do
    targets="$targets --target ${t}_fuzz"
  done
  # shellcheck disable=SC2086 # one word per option
  cmake --build "$BUILD" -j"${JOBS:-$(nproc)}" ${targets:---target hk_fuzz}
}

# run_fuzzer TARGET SEEDS — runs $BUILD/bin/TARGET_fuzz for $SECONDS_PER_TARGET seconds over the
# corpus $OUT/corpus/TARGET (new entries) and SEEDS (the committed seeds, only read); crashes go
# to $OUT/artifacts/TARGET/. Sets status=1 when the fuzzer fails.
run_fuzzer() {
  mkdir -p "$OUT/corpus/$1" "$OUT/artifacts/$1"
  echo "== $1: ${SECONDS_PER_TARGET}s"
  if ! "$BUILD/bin/$1_fuzz" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$OUT/artifacts/$1/" \
      "$OUT/corpus/$1" "$2" 2>"$OUT/$1.log"; then
    echo "!! $1 failed; see $OUT/$1.log and $OUT/artifacts/$1/"
    status=1
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+[[:space:]]+DONE" \
    "$OUT/$1.log" || true
}

# fuzz_main "TARGET..." [SECONDS] — builds the targets, runs each for SECONDS (default 20) over its
# committed seeds in $HERE/corpus/TARGET, and exits non-zero when any of them failed.
fuzz_main() {
  ROOT=$(cd "$HERE/../../.." && pwd)
  BUILD=${BUILD:-$ROOT/build-fuzz}
  OUT=${OUT:-$ROOT/build-fuzz-$(basename "$HERE")}
  SECONDS_PER_TARGET=${2:-20}
  # shellcheck disable=SC2086 # one word per target
  build_fuzzers $1
  status=0
  for t in $1; do
    run_fuzzer "$t" "$HERE/corpus/$t"
  done
  exit $status
}
