#!/usr/bin/env bash
# Build the browser runtime into web-demo/pkg: wasm32 release build (size-tuned
# profile), wasm-bindgen (CLI pinned to the exact crate version in Cargo.lock),
# and, with WASM_OPT=1, wasm-opt -Oz (npm `binaryen`): smaller raw, but it
# gzips worse than the plain build (README), so it is off by default.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[ -n "$version" ] || { echo "build-wasm: wasm-bindgen not found in Cargo.lock" >&2; exit 1; }
if ! wasm-bindgen --version 2>/dev/null | grep -q " $version\$"; then
  echo "build-wasm: installing wasm-bindgen-cli $version (once)"
  # --locked uses the CLI's own lockfile; where the registry lacks one of its
  # pinned dependencies, fall back to resolving them (the CLI stays pinned).
  cargo install --locked wasm-bindgen-cli --version "$version" \
    || cargo install wasm-bindgen-cli --version "$version"
fi

cargo build -p shoptrain-runtime-wasm --target wasm32-unknown-unknown --profile wasm-release
# the name section (function names, ~270 kB) only serves debuggers
wasm-bindgen --target web --remove-name-section --remove-producers-section --out-dir web-demo/pkg \
  target/wasm32-unknown-unknown/wasm-release/shoptrain_runtime_wasm.wasm

wasm=web-demo/pkg/shoptrain_runtime_wasm_bg.wasm
if [ "${WASM_OPT:-0}" = 1 ]; then
  command -v wasm-opt >/dev/null || { echo "build-wasm: WASM_OPT=1 needs wasm-opt on PATH (npm install -g binaryen)" >&2; exit 1; }
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals -o "$wasm.opt" "$wasm" && mv "$wasm.opt" "$wasm"
fi
raw=$(wc -c < "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
echo "build-wasm: $wasm is $raw bytes ($gz gzipped)"
