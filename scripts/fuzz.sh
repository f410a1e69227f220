#!/usr/bin/env bash
# `make fuzz`: every fuzz target (fuzz/fuzz_targets, bodies in src/fuzzing.rs) coverage-guided
# with libFuzzer on the nightly toolchain, FUZZ_RUNS executions each (default 10 million), then
# the grown corpus replayed in release with the per-input time and allocation checks of
# tests/fuzz_corpus.rs. Writes target/fuzz/summary.md and summary.json. A crash is copied to
# fuzz/regressions/<target>/ (give it a name that says what it caught) and fails the run.
# Options: FUZZ_RUNS=N, FUZZ_TARGETS="slip uf2".
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
CARGO_FUZZ_VERSION=0.13.2
runs=${FUZZ_RUNS:-10000000}
targets=${FUZZ_TARGETS:-$(ls fuzz/fuzz_targets | sed 's/\.rs$//')}

# The nightly toolchain cargo-fuzz needs, pinned by date: the machine's `nightly` when it is
# that one, otherwise installed by its dated name.
NIGHTLY_DATE=2026-05-19
if rustup run nightly rustc --version 2>/dev/null | grep -q "$NIGHTLY_DATE"; then
  toolchain=nightly
else
  toolchain=nightly-$NIGHTLY_DATE
  rustup toolchain list | grep -q "^$toolchain" || rustup toolchain install "$toolchain" --profile minimal
fi
if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$CARGO_FUZZ_VERSION" ]; then
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

out=target/fuzz
mkdir -p "$out"
date=$(date -u +%Y-%m-%d)
failed=0
rows=""
json="["
for t in $targets; do
  corpus=target/fuzz-corpus/$t
  mkdir -p "$corpus" "fuzz/regressions/$t"
  log=$out/$t.log
  start=$(date +%s)
  # -malloc_limit_mb: any single allocation over 64 MB is a failure (a length field believed
  # without a check); -timeout: a hung input. Inputs up to 64 KiB.
  cargo "+$toolchain" fuzz run "$t" "$corpus" "fuzz/seeds/$t" -- \
    -runs="$runs" -max_len=65536 -timeout=1 -malloc_limit_mb=64 -rss_limit_mb=2048 \
    -print_final_stats=1 >"$log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  for crash in fuzz/artifacts/"$t"/*; do
    [ -f "$crash" ] || continue
    cp "$crash" "fuzz/regressions/$t/"
    echo "[fuzz] $t: $(basename "$crash") copied to fuzz/regressions/$t/"
  done
  verdict=clean
  if [ "$rc" -ne 0 ]; then verdict="FAILED (see $log)"; failed=1; fi
  echo "[fuzz] $t: ${execs:-0} executions in ${secs}s: $verdict"
  rows+="| $t | ${execs:-0} | ${secs} s | $verdict |"$'\n'
  json+="{\"target\":\"$t\",\"executions\":${execs:-0},\"seconds\":$secs,\"clean\":$([ "$rc" -eq 0 ] && echo true || echo false)},"
done
json="${json%,}]"

echo "[fuzz] replaying the grown corpus (release): time and allocation per input"
if ! FUZZ_CORPUS_DIR=$PWD/target/fuzz-corpus cargo test --release --test fuzz_corpus -q -- --nocapture 2>&1 | tee "$out/replay.log"; then
  failed=1
fi
replayed=$(grep -oE '[0-9]+ corpus inputs replayed' "$out/replay.log" | grep -oE '^[0-9]+')

{
  echo "Fuzzing run of $date, $runs executions asked per target; corpus replayed: ${replayed:-?} inputs."
  echo
  echo "| target | executions | time | result |"
  echo "|---|---|---|---|"
  printf '%s' "$rows"
} >"$out/summary.md"
echo "{\"date\":\"$date\",\"runs\":$runs,\"targets\":$json}" >"$out/summary.json"
cat "$out/summary.md"
exit $failed
