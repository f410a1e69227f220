# webflash: two commands. Both install whatever is missing first (pinned, idempotent).
#   make serve   build the app and serve it at http://127.0.0.1:8080 (with the Demo board)
#   make test    run every test: native, interop (esptool, mpremote), browser
#   make bench   measure flashing speed (modeled and against esptool) and page weight
#   make faults  the fault campaign (1000+ seeded sessions through a bad line; see README)
#   make fuzz    every parser fuzzed (cargo-fuzz, nightly), 10 million executions per target
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: serve test build bench faults fuzz setup-app setup-test

setup-app:
	@scripts/setup.sh app

setup-test:
	@scripts/setup.sh test

build: setup-app
	trunk build --release --offline

serve: setup-app
	trunk serve --release --offline

test: setup-test
	@scripts/test.sh

# Not part of `make test`: about 1.5 minutes, most of it esptool over rfc2217:// in real time.
# Builds dist/ first if it is missing (page weight needs it). Writes target/bench/bench.json.
bench: setup-app
	@test -f dist/index.html || trunk build --release --offline
	cargo build --profile perf --bin bench --bin esp-sim
	target/perf/bench

# Not part of `make test` (which runs a seeded slice): the fault campaign, 1000 flashing sessions
# and 100 file sessions on the real MicroPython, about 1 minute. Writes target/faults/.
# Replay one session: target/release/faults --replay SEED [--files].
faults: setup-test
	cargo build --release --bin faults
	target/release/faults --sessions 1000 --files 100

# Not part of `make test` (which replays the seeds and regressions): coverage-guided fuzzing of
# every parser, FUZZ_RUNS (default 10 million) executions per target; installs cargo-fuzz
# (pinned) on the nightly toolchain. Writes target/fuzz/summary.md.
fuzz: setup-app
	@scripts/fuzz.sh
