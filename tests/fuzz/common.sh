# Shared by the fuzz run.sh scripts (POSIX sh): runs one built libFuzzer target.
# run_fuzzer TARGET BINARY SEEDS — runs BINARY for $SECONDS_PER_TARGET seconds over the corpus
# $OUT/corpus/TARGET (new entries) and SEEDS (the committed seeds, only read); crashes go to
# $OUT/artifacts/TARGET/. Sets status=1 when the fuzzer fails.
run_fuzzer() {
  mkdir -p "$OUT/corpus/$1" "$OUT/artifacts/$1"
  echo "== $1: ${SECONDS_PER_TARGET}s"
  if ! "$2" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$OUT/artifacts/$1/" \
      "$OUT/corpus/$1" "$3" 2>"$OUT/$1.log"; then
    echo "!! $1 failed; see $OUT/$1.log and $OUT/artifacts/$1/"
    status=1
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+ +DONE" "$OUT/$1.log" || true
}
