# webflash: two commands. Both install whatever is missing first (pinned, idempotent).
#   make serve   build the app and serve it at http://127.0.0.1:8080 (with the Demo board)
#   make test    run every test: native, interop (esptool, mpremote), browser
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: serve test build setup-app setup-test

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
