#!/usr/bin/env bash
# The main job, from a fresh machine: sample data -> train the three model
# types (quick settings) -> export -> build wasm -> serve the demo.
# PORT (default 8080), EPOCHS (default 15) and SHOPTRAIN_MODELS_DIR may be set.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8080}
EPOCHS=${EPOCHS:-15}
export SHOPTRAIN_MODELS_DIR=${SHOPTRAIN_MODELS_DIR:-$PWD/saved_models}

cargo build --release -p shoptrain-trainer
bin=target/release/shoptrain
mkdir -p data
"$bin" data gen --out data/demo.csv
"$bin" train --data data/demo.csv --mode product --product P001 --store all --model all \
  --epochs "$EPOCHS" --json > data/demo-train.json
mapfile -t prefixes < <(grep -o '"prefix": "[^"]*"' data/demo-train.json | cut -d'"' -f4)
"$bin" export "${prefixes[@]}" --out web-demo/models
scripts/build-wasm.sh
echo "open http://127.0.0.1:$PORT/ (widget: http://127.0.0.1:$PORT/embed.html); Ctrl-C stops"
exec "$bin" serve --root web-demo --port "$PORT"
