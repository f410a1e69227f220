#!/usr/bin/env bash
# Runs every test suite, then prints one line: `N passed, M failed`. Exits non-zero on any failure.
# Suites: native (cargo test), interop (pytest: real esptool/mpremote against esp-sim),
# browser (node --test: Playwright + Chromium against the built page).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
logs=target/test-logs
mkdir -p "$logs"
passed=0
failed=0

# add_counts SUITE PASSED FAILED EXIT: a suite that failed without counting a failure counts one.
add_counts() {
  local suite=$1 p=${2:-0} f=${3:-0} rc=$4
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  printf '[test] %-8s %d passed, %d failed\n' "$suite" "$p" "$f"
  passed=$((passed + p)); failed=$((failed + f))
}

echo "[test] native: cargo test"
# --no-fail-fast: one failing test binary must not hide the others' results.
cargo test --all-targets --no-fail-fast 2>&1 | tee "$logs/native.log"
rc=${PIPESTATUS[0]}
sum_field() { grep -E '^test result:' "$logs/native.log" | grep -oE "[0-9]+ $1" | awk '{s+=$1} END {print s+0}'; }
add_counts native "$(sum_field passed)" "$(sum_field failed)" "$rc"
ignored=$(sum_field ignored)
filtered=$(sum_field 'filtered out')

# The simulators as processes: the interop and browser suites talk to them. A failed build
# must fail the run, not leave those suites testing a stale binary.
if ! cargo build --bin esp-sim --bin picoboot-sim -q; then
  add_counts sim-build 0 1 1
  echo "$passed passed, $failed failed (the simulators did not build)"
  exit 1
fi

if [ -d tests/interop ]; then
  echo "[test] interop: pytest (esptool, mpremote against esp-sim)"
  .venv/bin/python -m pytest tests/interop -q -p no:cacheprovider 2>&1 | tee "$logs/interop.log"
  rc=${PIPESTATUS[0]}
  last=$(grep -E '[0-9]+ (passed|failed)' "$logs/interop.log" | tail -1)
  py_skipped=$(grep -oE '[0-9]+ skipped' <<<"$last" | grep -oE '[0-9]+')
  p=$(grep -oE '[0-9]+ passed' <<<"$last" | grep -oE '[0-9]+')
  f=$(grep -oE '[0-9]+ (failed|error)' <<<"$last" | grep -oE '[0-9]+' | awk '{s+=$1} END {print s+0}')
  add_counts interop "${p:-0}" "${f:-0}" "$rc"
fi

echo "[test] browser: building the page (trunk) and driving Chromium"
if trunk build --release --offline 2>&1 | tail -5; then
  node --test --test-concurrency=1 tests/e2e/ 2>&1 | tee "$logs/browser.log"
  rc=${PIPESTATUS[0]}
  p=$(grep -E '^# pass ' "$logs/browser.log" | awk '{print $3}')
  js_skipped=$(grep -E '^# (skipped|todo) ' "$logs/browser.log" | awk '{s+=$3} END {print s+0}')
  f=$(grep -E '^# fail ' "$logs/browser.log" | awk '{print $3}')
  add_counts browser "${p:-0}" "${f:-0}" "$rc"
else
  add_counts browser 0 1 1
fi

echo "[test] not run: ${ignored:-0} ignored and ${filtered:-0} filtered (native), ${py_skipped:-0} skipped (interop), ${js_skipped:-0} skipped or todo (browser)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
