#!/usr/bin/env bash
# The quality backtests of QUALITY.md: `shoptrain backtest --each --model all`
# on every real data set in ../shared/data (the dev pool) and on generated data
# (product P001 over all stores), on seeds 42 and 1; then one table per seed
# (every type, the default pick `best`, ETS, seasonal naive, statsforecast's
# figures) and the two numbers every change is judged by: the mean over all
# sets and the worst set (ratio of the default pick to statsforecast's
# AutoETS; on generated data to shoptrain's own ETS).
# Usage: scripts/quality.sh [OUT_DIR] [extra backtest flags...]
#        SEEDS="42" scripts/quality.sh ...   (one seed, for a quick look)
#        OUTSIDE=DIR scripts/quality.sh ...  (also every DIR/*_daily.csv: real
#        sets outside the dev pool, in a table of their own, judged against
#        shoptrain's ETS; QUALITY.md says where ours came from)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-quality-runs}; shift || true
data_dir=../shared/data
[ -d "$data_dir" ] || { echo "error: $data_dir not found (the real data sets live beside the repository)" >&2; exit 1; }
cargo build --release -q -p shoptrain-trainer
bin=target/release/shoptrain
mkdir -p "$out"
"$bin" data gen --out "$out/generated.csv" > /dev/null
sets=(hotel_arrivals electricity pageviews wikipedia generated)
for seed in ${SEEDS:-42 1}; do
  for set in "${sets[@]}"; do
    echo "==> $set, seed $seed" >&2
    if [ "$set" = generated ]; then
      "$bin" --quiet --json backtest --data "$out/generated.csv" --mode product --product P001 \
        --model all --seed "$seed" "$@" > "$out/$set.$seed.json"
    else
      "$bin" --quiet --json backtest --data "$data_dir/${set}_daily.csv" --each --model all \
        --seed "$seed" "$@" > "$out/$set.$seed.json"
    fi
  done
  for file in ${OUTSIDE:+"$OUTSIDE"/*_daily.csv}; do
    [ -f "$file" ] || { echo "error: no *_daily.csv in OUTSIDE=$OUTSIDE" >&2; exit 1; }
    name=outside_$(basename "$file" _daily.csv)
    echo "==> $name, seed $seed" >&2
    "$bin" --quiet --json backtest --data "$file" --each --model all \
      --seed "$seed" "$@" > "$out/$name.$seed.json"
  done
done
python3 - "$out" ${SEEDS:-42 1} <<'PY'
import json, os, sys
out, seeds = sys.argv[1], sys.argv[2:]
# statsforecast 2.1.1 (../shared/data/README.md): seasonal naive, AutoETS
ref = {"hotel_arrivals": (0.600, 0.500), "electricity": (0.952, 0.755),
       "pageviews": (0.963, 0.920), "wikipedia": (1.249, 1.521)}
dev_sets = ["hotel_arrivals", "electricity", "pageviews", "wikipedia", "generated"]
where = os.environ.get("OUTSIDE")
outside = sorted("outside_" + f.removesuffix("_daily.csv")
                 for f in (os.listdir(where) if where else []) if f.endswith("_daily.csv"))
names = ["mlstm", "transformer", "kan", "best", "ets", "seasonal_naive_7"]
nan = float("nan")
for seed, sets, title in [(seed, sets, title) for seed in seeds
                          for sets, title in [(dev_sets, "the dev pool"), (outside, "outside the dev pool")] if sets]:
    print(f"\nseed {seed}, {title}: mean MASE per set")
    print(f"{'set':<16}" + "".join(f"{n:>17}" for n in names) + f"{'sf SN':>8}{'sf ETS':>8}")
    ratios = {n: [] for n in names}
    means = {n: [] for n in names}
    for s in sets:
        r = json.load(open(f"{out}/{s}.{seed}.json"))
        m = {n: r["mean"].get(n, {}).get("mase", nan) for n in names}
        sn, ets = ref.get(s, (nan, nan))
        floor = ets if s in ref else m["ets"]
        for n in names:
            ratios[n].append((m[n] / floor, s))
            means[n].append(m[n])
        print(f"{s.removeprefix('outside_'):<16}" + "".join(f"{m[n]:>17.3f}" for n in names) + f"{sn:>8.3f}{ets:>8.3f}")
    print(f"{'mean of sets':<16}" + "".join(f"{sum(means[n]) / len(means[n]):>17.3f}" for n in names))
    worst = {n: max(ratios[n]) for n in names}
    print(f"{'worst / AutoETS':<16}" + "".join(f"{worst[n][0]:>12.3f} {worst[n][1].removeprefix('outside_')[:4]:<4}" for n in names))
    picks = {}
    for s in sets:
        for row in json.load(open(f"{out}/{s}.{seed}.json"))["series"]:
            picks[row.get("best", "-")] = picks.get(row.get("best", "-"), 0) + 1
    print("default pick per series: " + ", ".join(f"{k} {v}" for k, v in sorted(picks.items())))
PY
