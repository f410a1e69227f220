#!/usr/bin/env bash
# Installs what webflash needs, idempotently and at pinned versions. Each step is skipped when
# the right version is already there, so a warm machine spends seconds here.
#   scripts/setup.sh app    what `make serve` needs: Rust wasm target, Trunk, wasm-bindgen-cli,
#                           npm tools (wasm-opt), the Python venv that carries the stub images
#   scripts/setup.sh test   the above plus Debian's Chromium for the browser tests
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
# wasm-bindgen-cli must equal the wasm-bindgen crate in Cargo.lock.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/,""); print; exit}' Cargo.lock)
PYTHON=${PYTHON:-python3}

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
have_version() { command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -qF "$2"; }

rust_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32 Rust target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! have_version trunk "trunk $TRUNK_VERSION"; then
    say "installing trunk $TRUNK_VERSION (about 9 minutes, once)"
    cargo install trunk --version "$TRUNK_VERSION" --locked
  fi
  if ! have_version wasm-bindgen "wasm-bindgen $WASM_BINDGEN_VERSION"; then
    # --locked fails here: its locked webpki-roots is not in the reachable index.
    say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 4 minutes, once)"
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
  fi
  # Trunk builds with --offline, so every crate must already be in cargo's cache.
  cargo fetch --locked -q
}

npm_fingerprint() { cat package.json package-lock.json 2>/dev/null | sha256sum | cut -c1-16 || true; }

npm_tools() {
  local stamp=node_modules/.webflash-stamp
  local want
  want=$(npm_fingerprint)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing npm packages (pinned in package-lock.json)"
    if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
    want=$(npm_fingerprint)
    echo "$want" > "$stamp"
  fi
}

python_venv() {
  local stamp=.venv/.webflash-stamp
  local want
  want=$(sha256sum requirements-test.txt | cut -c1-16)
  if [ ! -x .venv/bin/python ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "creating the Python venv (esptool, mpremote, pytest; pinned)"
    "$PYTHON" -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-test.txt
    echo "$want" > "$stamp"
  fi
}

# Flasher stub images are third-party binaries: taken from the pinned esptool package at build
# time, with their licence texts, never committed. esptool's JSON files are kept in
# .stubs/esptool/ (the native tests check each .stub against them); the page gets each as a
# .stub file (src/protocol/stub.rs: the same segments as raw bytes, half the download) in
# .stubs/stubs/, which Trunk copies into dist/stubs/.
stub_images() {
  local src
  src=$(.venv/bin/python -c 'import esptool, os; print(os.path.join(os.path.dirname(esptool.__file__), "targets", "stub_flasher", "2"))')
  if [ ! -f .stubs/stubs/esp32.stub ] || [ "$src/esp32.json" -nt .stubs/stubs/esp32.stub ]; then
    say "copying flasher stub images from esptool $(.venv/bin/python -c 'import esptool; print(esptool.__version__)')"
    rm -rf .stubs && mkdir -p .stubs/stubs .stubs/esptool
    cp "$src"/*.json .stubs/esptool/
    cp "$src"/LICENSE* "$src"/README* .stubs/stubs/ 2>/dev/null || true
    .venv/bin/python -c 'import esptool; print(esptool.__version__)' > .stubs/stubs/ESPTOOL_VERSION
    .venv/bin/python - .stubs/esptool .stubs/stubs <<'PY'
import base64, json, pathlib, struct, sys
src, dst = map(pathlib.Path, sys.argv[1:])
for path in sorted(src.glob("*.json")):
    stub = json.loads(path.read_text())
    segs = [(stub["text_start"], base64.b64decode(stub["text"]))]
    if stub.get("data") is not None and stub.get("data_start") is not None:
        segs.append((stub["data_start"], base64.b64decode(stub["data"])))
    out = b"WFSTUB\x01\x00" + struct.pack("<II", stub["entry"], len(segs))
    out += b"".join(struct.pack("<II", addr, len(data)) for addr, data in segs)
    out += b"".join(data for _, data in segs)
    (dst / (path.stem + ".stub")).write_bytes(out)
PY
  fi
}

# Debian's dfu-util tools are the format peer for .dfu files (tests/dfu_files.rs: dfu-suffix).
dfu_tools() {
  if ! command -v dfu-suffix >/dev/null 2>&1; then
    say "installing Debian's dfu-util 0.11 (dfu-suffix) for the .dfu tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq dfu-util=0.11-1 >/dev/null
  fi
}

chromium_browser() {
  if ! command -v chromium >/dev/null 2>&1; then
    say "installing Debian's chromium for the browser tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
  fi
  # Debian's binaryen (wasm-opt 108) corrupts wasm-bindgen output; Trunk must use the npm one.
  if dpkg -s binaryen >/dev/null 2>&1; then
    say "note: Debian's binaryen is installed; the build uses node_modules/.bin/wasm-opt instead"
  fi
}

case "${1:-app}" in
  app) rust_tools; npm_tools; python_venv; stub_images ;;
  test) rust_tools; npm_tools; python_venv; stub_images; dfu_tools; chromium_browser ;;
  *) echo "usage: $0 app|test" >&2; exit 2 ;;
esac
