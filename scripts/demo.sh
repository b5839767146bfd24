#!/usr/bin/env bash
# The main job, from a fresh machine: sample data -> train the three model
# types (quick settings) -> export -> build wasm -> serve the demo.
# Settings (environment):
#   PORT=8080                 the port to serve on (PORT=8081 scripts/demo.sh if 8080 is taken)
#   EPOCHS=15                 training epochs per model
#   RETRAIN=1                 train new versions even when this demo's models exist
#   SHOPTRAIN_MODELS_DIR      where models go (default saved_models/)
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8080}
EPOCHS=${EPOCHS:-15}
export SHOPTRAIN_MODELS_DIR=${SHOPTRAIN_MODELS_DIR:-$PWD/saved_models}

# a busy port fails now, not after minutes of building and training
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "error: port $PORT is already in use (an earlier demo still serving?); stop it, or pick another: PORT=8081 scripts/demo.sh" >&2
  exit 1
fi

cargo build --release -p shoptrain-trainer
bin=target/release/shoptrain
mkdir -p data
"$bin" data gen --out data/demo.csv
# the last run's models, if every one of them is still there (same data: gen is deterministic)
prefixes=()
if [ -z "${RETRAIN:-}" ] && [ -f data/demo-models.txt ]; then
  mapfile -t prefixes < data/demo-models.txt
  for p in "${prefixes[@]}"; do
    [ -f "$SHOPTRAIN_MODELS_DIR/${p}_model.safetensors" ] || { prefixes=(); break; }
  done
fi
if [ ${#prefixes[@]} -gt 0 ]; then
  echo "reusing the demo's models ${prefixes[*]} (RETRAIN=1 trains new versions)"
else
  echo "training mlstm, transformer and kan on product P001 over all stores ($EPOCHS epochs at most each)..."
  "$bin" train --data data/demo.csv --mode product --product P001 --store all --model all \
    --epochs "$EPOCHS" | tee data/demo-train.txt
  mapfile -t prefixes < <(awk '/ completed on /{print $1}' data/demo-train.txt)
  [ ${#prefixes[@]} -eq 3 ] || { echo "error: expected three trained models, see data/demo-train.txt" >&2; exit 1; }
  printf '%s\n' "${prefixes[@]}" > data/demo-models.txt
fi
"$bin" export "${prefixes[@]}" --out web-demo/models
scripts/build-wasm.sh
echo "the shoptrain binary is $PWD/$bin (cargo install --path trainer puts it on PATH)"
echo "open http://127.0.0.1:$PORT/ (widget: http://127.0.0.1:$PORT/embed.html); Ctrl-C stops"
exec "$bin" serve --root web-demo --port "$PORT"
