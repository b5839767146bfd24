#!/usr/bin/env bash
# The project's one test command: formatting, lints, every cargo test, the
# wasm32 builds, the npm package, then Node and headless-Chromium tests of the
# browser runtime (a fresh Vite 8 project installs the package from npm's registry).
# Installs what a fresh Debian machine lacks (wasm32 target, pinned
# wasm-bindgen-cli, Debian chromium, npm playwright-core).
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
if ! command -v chromium >/dev/null 2>&1; then
  step "installing Debian chromium"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
if [ ! -d web-demo/node_modules/playwright-core ]; then
  step "installing playwright-core"
  (cd web-demo && npm install --no-audit --no-fund --silent)
fi

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
step "cargo test"
cargo test --workspace
step "shared builds for wasm32-unknown-unknown"
# the size-tuned profile build-wasm.sh uses, so the browser build reuses it
cargo build -p shoptrain-shared --target wasm32-unknown-unknown --profile wasm-release

step "wasm package"
scripts/build-wasm.sh

step "train and export small models for the browser tests"
cargo build -p shoptrain-trainer
export SHOPTRAIN_BIN="$PWD/target/debug/shoptrain"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SHOPTRAIN_MODELS_DIR="$work/models"
"$SHOPTRAIN_BIN" data gen --stores 2 --products 4 --days 200 --out "$work/data.csv"
"$SHOPTRAIN_BIN" --quiet train --data "$work/data.csv" --mode product --product P001 --model all --epochs 3 --window 28
"$SHOPTRAIN_BIN" --quiet train --data "$work/data.csv" --mode global --model kan --epochs 2 --window 28
# the models above blend ETS into their base (the default); one with the seasonal mean alone
"$SHOPTRAIN_BIN" --quiet train --data "$work/data.csv" --mode product --product P002 --store S001 --model mlstm --epochs 2 --window 28 --base seasonal
rm -rf web-demo/models
"$SHOPTRAIN_BIN" export product_P001_all_mlstm_v1 product_P001_all_transformer_v1 product_P001_all_kan_v1 global_all_kan_v1 product_P002_S001_mlstm_v1 --out web-demo/models

step "npm package"
SKIP_WASM=1 scripts/build-npm.sh
export SHOPTRAIN_NPM_TGZ="$PWD/$(ls target/npm/shoptrain-forecast-*.tgz)"

step "node and Chromium tests (wasm parity, JS API, demo, widget across origins, Vite)"
# one file at a time: each starts its own servers and Chromium on two cores
(cd web-demo && node --test --test-concurrency=1 tests/)

step "wasm bench script runs (no timing asserted: numbers belong in benchmarks)"
node web-demo/bench.mjs 3
