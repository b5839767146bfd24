#!/usr/bin/env bash
# The quality backtests of QUALITY.md: `shoptrain backtest --each --model all`
# on the real data sets in ../shared/data and on generated data (product P001
# over all stores), then a summary of mean MASE per set beside the reference
# figures (QUALITY.md, Reference figures).
# Usage: scripts/quality.sh [OUT_DIR] [extra backtest flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-quality-runs}; shift || true
data_dir=../shared/data
[ -d "$data_dir" ] || { echo "error: $data_dir not found (the real data sets live beside the repository)" >&2; exit 1; }
cargo build --release -q -p shoptrain-trainer
bin=target/release/shoptrain
mkdir -p "$out"
for set in hotel_arrivals electricity pageviews; do
  echo "==> $set" >&2
  "$bin" --quiet --json backtest --data "$data_dir/${set}_daily.csv" --each --model all "$@" > "$out/$set.json"
done
echo "==> generated" >&2
"$bin" data gen --out "$out/generated.csv" > /dev/null
"$bin" --quiet --json backtest --data "$out/generated.csv" --mode product --product P001 --model all "$@" > "$out/generated.json"
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
ref = {"hotel_arrivals": (0.600, 0.500), "electricity": (0.952, 0.755), "pageviews": (0.963, 0.920)}
names = ["mlstm", "transformer", "kan", "seasonal_naive_7", "ets"]
print(f"{'set':<16}" + "".join(f"{n:>18}" for n in names) + f"{'ref SN':>9}{'ref ETS':>9}")
for s in ["hotel_arrivals", "electricity", "pageviews", "generated"]:
    r = json.load(open(f"{out}/{s}.json"))
    row = "".join(f"{r['mean'].get(n, {}).get('mase', float('nan')):>18.3f}" for n in names)
    sn, ets = ref.get(s, (float("nan"),) * 2)
    print(f"{s:<16}{row}{sn:>9.3f}{ets:>9.3f}")
PY
