#!/usr/bin/env bash
# Fuzz the three loaders that take outside bytes, with cargo-fuzz (libFuzzer):
# prefix_parse (model names), csv_load (data files), bundle_load (the
# runtime's weights + metadata). Not part of CI: scripts/fuzz.sh 600 runs each
# for 10 minutes; findings land in tests/fuzz/artifacts/<target>/.
#   scripts/fuzz.sh [SECONDS per target, default 600] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(prefix_parse csv_load bundle_load)
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
# cargo-fuzz passes -Z flags (sanitizer coverage); the stable toolchain here
# accepts them with RUSTC_BOOTSTRAP.
export RUSTC_BOOTSTRAP=1

# Seeds: real names, a real data file and real exported bundles.
corpus=tests/fuzz/corpus
mkdir -p "$corpus"/{prefix_parse,csv_load,bundle_load}
cargo build -q -p shoptrain-trainer
bin=target/debug/shoptrain
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
"$bin" data gen --stores 2 --products 2 --days 60 --out "$seeds/data.csv" >/dev/null
head -c 4000 "$seeds/data.csv" > "$corpus/csv_load/generated.csv"
SHOPTRAIN_MODELS_DIR="$seeds/models" "$bin" --quiet train --data "$seeds/data.csv" \
  --product P001 --model all --epochs 1 --window 7 --horizon 2
for t in mlstm transformer kan; do
  p=product_P001_all_${t}_v1
  printf '%s' "$p" > "$corpus/prefix_parse/$t"
  python3 - "$seeds/models/${p}_metadata.json" "$seeds/models/${p}_model.safetensors" "$corpus/bundle_load/$t" <<'PY'
import struct, sys
meta = open(sys.argv[1], 'rb').read()
weights = open(sys.argv[2], 'rb').read()
open(sys.argv[3], 'wb').write(struct.pack('<I', len(meta)) + meta + weights)
PY
done
printf 'store_S~2F1_~61ll_kan_v12' > "$corpus/prefix_parse/escaped"

for t in "${targets[@]}"; do
  echo "fuzz: $t for ${secs}s"
  cargo fuzz run --fuzz-dir tests/fuzz "$t" "$corpus/$t" -- \
    -max_total_time="$secs" -rss_limit_mb=4096 -max_len=1048576 -print_final_stats=1
done
