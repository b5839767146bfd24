#!/usr/bin/env bash
# One command on a GPU machine that has no Rust: CPU/CUDA training parity of
# the three model types, `bench` on both devices and a small `train --each`,
# printed as one report in under 5 minutes (BENCHMARKS.md, "GPU").
#
# Here:   scripts/build-cuda.sh && strip target/release/shoptrain
# There:  copy target/release/shoptrain and this script, then
#         scripts/gpu-check.sh [path/to/shoptrain]      (default: ./shoptrain, then target/release/shoptrain)
# The CUDA 13 libraries come from PyTorch's wheels when present (never the
# build machine's link-time stubs). The report goes to stdout and to
# ${OUT:-/tmp/gpu-check}/report.txt; raw JSON beside it. BUDGET (seconds,
# default 270): no new step starts after it, so the report always ends.
set -u
bin=${1:-}
for c in "$bin" ./shoptrain target/release/shoptrain; do
  [ -n "$c" ] && [ -x "$c" ] && { bin=$(cd "$(dirname "$c")" && pwd)/$(basename "$c"); break; }
done
[ -x "${bin:-}" ] || { echo "gpu-check: no shoptrain binary; pass its path (built by scripts/build-cuda.sh)" >&2; exit 2; }
OUT=${OUT:-/tmp/gpu-check}; mkdir -p "$OUT"; R="$OUT/raw"; rm -rf "$R"; mkdir -p "$R"
exec > >(tee "$OUT/report.txt") 2>&1
if site=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' 2>/dev/null); then
  for d in "$site"/nvidia/cu13/lib "$site"/nvidia/*/lib; do
    [ -d "$d" ] && LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  done
  export LD_LIBRARY_PATH
fi
t0=$(date +%s); BUDGET=${BUDGET:-270}
step() {
  local spent=$(( $(date +%s) - t0 ))
  echo; echo "== $* ($spent s in)"
  [ "$spent" -lt "$BUDGET" ] || { echo "skipped: the time budget is spent"; return 1; }
}
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
st() { timeout "$1" "$bin" --quiet --json "${@:2}"; }

echo "shoptrain GPU check, $(date -u +%Y-%m-%dT%H:%MZ)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -2
echo "cpu cores: $(nproc)"; "$bin" --version
missing=$(ldd "$bin" 2>/dev/null | grep 'not found'); [ -z "$missing" ] || echo "missing libraries: $missing"

data="$R/data.csv"
"$bin" --quiet data gen --out "$data" >/dev/null || { echo "data gen failed"; exit 1; }

if step "parity: product P001 over all stores, three types, batch 32, 12 epochs, seed 42, cuda vs cpu"; then
  for dev in cuda cpu; do
    s=$(date +%s%N)
    st 150 --models-dir "$R/m_$dev" train --device "$dev" --batch-size 32 --epochs 12 --seed 42 \
      --data "$data" --mode product --product P001 --model all > "$R/train_$dev.json"
    echo "$dev: exit $? in $(ms "$s") ms"
    for t in mlstm transformer kan; do
      "$bin" --models-dir "$R/m_$dev" predict "product_P001_all_${t}_v1" --data "$data" --format csv \
        > "$R/pred_${dev}_$t.csv" 2>&1
    done
  done
  python3 - "$R" <<'EOF'
import csv, json, sys
r = sys.argv[1]
def load(dev):
    try:
        return {m["prefix"].split("_")[3]: m for m in json.load(open(f"{r}/train_{dev}.json"))}
    except Exception as e:
        print(f"  {dev}: no report ({e})"); return {}
def p50(dev, t):
    try:
        return [float(row["p50"]) for row in csv.DictReader(open(f"{r}/pred_{dev}_{t}.csv"))]
    except Exception:
        return []
gpu, cpu = load("cuda"), load("cpu")
print(f"  {'type':12} {'best val cuda':>14} {'best val cpu':>14} {'diff':>8} {'epoch':>7} {'forecast diff':>14} {'s cuda':>7} {'s cpu':>7}")
for t in ("mlstm", "transformer", "kan"):
    if t not in gpu or t not in cpu:
        print(f"  {t:12} FAIL: no result"); continue
    a, b = gpu[t]["best_val_loss"], cpu[t]["best_val_loss"]
    d = abs(a - b) / abs(b)
    fa, fb = p50("cuda", t), p50("cpu", t)
    fd = max((abs(x - y) / max(abs(y), 1e-9) for x, y in zip(fa, fb)), default=float("nan"))
    verdict = "ok" if d <= 0.01 and (t != "kan" or fd <= 1e-3) else "FAIL"
    print(f"  {t:12} {a:14.6f} {b:14.6f} {d:8.2%} {gpu[t]['best_epoch']!s:>3}/{cpu[t]['best_epoch']!s:<3} {fd:14.2e} "
          f"{gpu[t]['seconds']:7.1f} {cpu[t]['seconds']:7.1f}  {verdict}")
print("  (targets: best validation loss within 1%; kan's forecasts within 1e-3 relative)")
EOF
fi

if step "bench: the three networks, 100 training steps, batch 256 on cuda and 32 on cpu"; then
  st 90 bench --device cuda --steps 100 > "$R/bench_cuda.json"; echo "cuda: exit $?"
  st 90 bench --device cpu --steps 100 > "$R/bench_cpu.json"; echo "cpu: exit $?"
  python3 - "$R" <<'EOF'
import json, sys
r = sys.argv[1]
rows = {}
for dev in ("cuda", "cpu"):
    try:
        for m in json.load(open(f"{r}/bench_{dev}.json"))["models"]:
            rows.setdefault(m["model_type"], {})[dev] = m
    except Exception as e:
        print(f"  {dev}: no report ({e})")
print(f"  {'type':12} {'train win/s cuda':>17} {'cpu':>9} {'batched win/s cuda':>19} {'cpu':>9} {'1-window ms cuda':>17} {'cpu':>7}")
for t, d in rows.items():
    g = lambda dev, k: d[dev][k] if dev in d else float("nan")
    print(f"  {t:12} {g('cuda','train_windows_per_second'):17,.0f} {g('cpu','train_windows_per_second'):9,.0f} "
          f"{g('cuda','batched_windows_per_second'):19,.0f} {g('cpu','batched_windows_per_second'):9,.0f} "
          f"{g('cuda','forecast_ms_p50'):17.2f} {g('cpu','forecast_ms_p50'):7.2f}")
EOF
fi

if step "device auto: a global transformer (2 epochs) and one product's kan, as --device auto picks"; then
  for job in "global:--mode global --model transformer --epochs 2" "product:--mode product --product P001 --model kan --epochs 12"; do
    name=${job%%:*}; s=$(date +%s%N)
    # shellcheck disable=SC2086
    st 100 --models-dir "$R/auto_$name" train --device auto --data "$data" ${job#*:} > "$R/auto_$name.json"
    rc=$?; took=$(ms "$s")
    python3 -c "import json,sys; m=json.load(open(sys.argv[1]))[0]; print(f'  {sys.argv[2]:8} exit {sys.argv[3]}, {sys.argv[4]} ms on {m[\"device\"]}')" \
      "$R/auto_$name.json" "$name" "$rc" "$took" 2>/dev/null || echo "  $name: exit $rc"
  done
fi

if step "train --each product --store S001, kan, 5 epochs, on cuda and cpu"; then
  for dev in cuda cpu; do
    s=$(date +%s%N)
    st 90 --models-dir "$R/each_$dev" train --each product --store S001 --device "$dev" --epochs 5 \
      --data "$data" --model kan > "$R/each_$dev.json"
    rc=$?
    python3 -c "import json,sys; b=json.load(open(sys.argv[1])); t=b['tasks']; print(f'  {sys.argv[2]:5} exit {sys.argv[3]}: {sum(x[\"state\"]==\"done\" for x in t)} of {len(t)} done in {sys.argv[4]} ms')" \
      "$R/each_$dev.json" "$dev" "$rc" "$(ms "$s")" 2>/dev/null || echo "  $dev: exit $rc"
  done
fi
echo; echo "== done in $(( $(date +%s) - t0 )) s; report: $OUT/report.txt"
