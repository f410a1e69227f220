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
cargo test --all-targets 2>&1 | tee "$logs/native.log"
rc=${PIPESTATUS[0]}
p=$(grep -E '^test result:' "$logs/native.log" | sed -E 's/.* ([0-9]+) passed.*/\1/' | awk '{s+=$1} END {print s+0}')
f=$(grep -E '^test result:' "$logs/native.log" | sed -E 's/.* ([0-9]+) failed.*/\1/' | awk '{s+=$1} END {print s+0}')
add_counts native "${p:-0}" "${f:-0}" "$rc"

# The simulator as a process: the interop and browser suites talk to it.
cargo build --bin esp-sim --bin picoboot-sim -q

if [ -d tests/interop ]; then
  echo "[test] interop: pytest (esptool, mpremote against esp-sim)"
  .venv/bin/python -m pytest tests/interop -q -p no:cacheprovider 2>&1 | tee "$logs/interop.log"
  rc=${PIPESTATUS[0]}
  last=$(grep -E '[0-9]+ (passed|failed)' "$logs/interop.log" | tail -1)
  p=$(grep -oE '[0-9]+ passed' <<<"$last" | grep -oE '[0-9]+')
  f=$(grep -oE '[0-9]+ (failed|error)' <<<"$last" | grep -oE '[0-9]+' | awk '{s+=$1} END {print s+0}')
  add_counts interop "${p:-0}" "${f:-0}" "$rc"
fi

echo "[test] browser: building the page (trunk) and driving Chromium"
if trunk build --release --offline 2>&1 | tail -5; then
  node --test --test-concurrency=1 tests/e2e/ 2>&1 | tee "$logs/browser.log"
  rc=${PIPESTATUS[0]}
  p=$(grep -E '^# pass ' "$logs/browser.log" | awk '{print $3}')
  f=$(grep -E '^# fail ' "$logs/browser.log" | awk '{print $3}')
  add_counts browser "${p:-0}" "${f:-0}" "$rc"
else
  add_counts browser 0 1 1
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
