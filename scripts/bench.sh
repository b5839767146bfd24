#!/usr/bin/env bash
# Benchmarks (speed and memory targets live here, not in timed tests):
#   native: `shoptrain bench` on the release build (arguments go to it);
#   browser runtime: wasm forecast latency in Node and in headless Chromium
#   (Debian's, through web-demo's playwright-core) for web-demo/models.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p shoptrain-trainer
target/release/shoptrain bench "$@"
scripts/build-wasm.sh
if [ ! -f web-demo/models/index.json ]; then
  echo "bench: no exported models in web-demo/models for the wasm bench; run scripts/demo.sh (or shoptrain export) first" >&2
  exit 1
fi
node web-demo/bench.mjs
SHOPTRAIN_BIN="$PWD/target/release/shoptrain" node web-demo/bench-browser.mjs
