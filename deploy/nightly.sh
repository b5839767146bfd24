#!/usr/bin/env bash
# The nightly job (systemd timer or Kubernetes CronJob): import the day's
# sales files, retrain the models whose series changed, then check the
# forecasts and retrain the drifting models at once.
#
# Settings come from the environment (defaults in brackets):
#   SHOPTRAIN             the binary [shoptrain]
#   SHOPTRAIN_MODELS_DIR  the models folder (holds the sales store) [required]
#   INBOX                 folder where new daily *.csv files are dropped [required]
#   JOBS                  training workers [nproc]
#   WEEKS                 weeks worse than seasonal naive that count as drift [2]
#   SHARD                 I/N: this machine's share of the retraining [all]
# Exits non-zero when a file was rejected, a step failed or a model drifts, so
# the scheduler marks the run as failed; the log says which.
set -euo pipefail

SHOPTRAIN="${SHOPTRAIN:-shoptrain}"
: "${SHOPTRAIN_MODELS_DIR:?set SHOPTRAIN_MODELS_DIR to the models folder}"
: "${INBOX:?set INBOX to the folder where the daily CSV files are dropped}"
JOBS="${JOBS:-$(nproc)}"
WEEKS="${WEEKS:-2}"
SHARD="${SHARD:-}"
export SHOPTRAIN_MODELS_DIR # shoptrain reads the folder (and its store) from here

log() { printf '%s nightly: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }

mkdir -p "$SHOPTRAIN_MODELS_DIR" "$INBOX/imported" "$INBOX/rejected"

# One nightly at a time per folder: a second one would import the same files
# twice. Sharded machines share the folder by design, so each shard gets its
# own lock and only the import step is serialized between them (below).
lock="$SHOPTRAIN_MODELS_DIR/nightly.lock"
[[ -n $SHARD ]] && lock="$SHOPTRAIN_MODELS_DIR/nightly.shard-${SHARD/\//-of-}.lock"
exec 9>>"$lock"
if ! flock -n 9; then
  log "another nightly holds $lock; not starting a second one"
  exit 1
fi

failed=()

# (a) Import. One data version per file, oldest name first (byte order, so
# dated names sort by date in any locale), CSV or Parquet. Uploaders should
# write under another name and rename into the inbox, so that no half-written
# file is read. A refused file goes to rejected/ and the import stops there:
# later days would only leave a gap behind it. A file that fails for another
# reason (a full disk, a busy store) stays in the inbox for the next run.
exec 8>>"$SHOPTRAIN_MODELS_DIR/nightly-import.lock"
flock 8 # shards wait here; the first one empties the inbox for the others
mapfile -t files < <(find "$INBOX" -maxdepth 1 -type f \( -name '*.csv' -o -name '*.parquet' \) | LC_ALL=C sort)
log "import: ${#files[@]} file(s) in $INBOX"
for file in ${files[@]+"${files[@]}"}; do
  if out=$("$SHOPTRAIN" data import "$file" 2>&1); then
    printf '%s\n' "$out" >&2
    mv -- "$file" "$INBOX/imported/"
    log "imported ${file##*/}"
  else
    printf '%s\n' "$out" >&2
    # shoptrain names the file first when the file itself is at fault
    if [[ $out == *"error: $file:"* ]]; then
      mv -- "$file" "$INBOX/rejected/"
      log "rejected ${file##*/} (moved to $INBOX/rejected/); the files after it wait in $INBOX"
    else
      log "could not import ${file##*/}; it stays in $INBOX for the next run"
    fi
    failed+=("import of ${file##*/}")
    break
  fi
done
exec 8>&-

# (b) Retrain what changed. A failed sync is journaled and finishes on the next
# run, so carry on to the monitor rather than stop here.
log "sync --jobs $JOBS${SHARD:+ --shard $SHARD}"
"$SHOPTRAIN" sync --jobs "$JOBS" ${SHARD:+--shard "$SHARD"} || failed+=("sync")

# (c) Monitor: exit 3 means drift (the table is already printed); anything
# else non-zero is an error of the monitor itself.
log "monitor --weeks $WEEKS"
status=0
"$SHOPTRAIN" monitor --weeks "$WEEKS" --png "$SHOPTRAIN_MODELS_DIR/monitor.png" || status=$?
if ((status == 3)); then
  log "drift found: sync --when-drifting"
  "$SHOPTRAIN" sync --when-drifting --weeks "$WEEKS" --jobs "$JOBS" ${SHARD:+--shard "$SHARD"} \
    || failed+=("sync --when-drifting")
  failed+=("drift (models worse than seasonal naive for $WEEKS weeks)")
elif ((status != 0)); then
  failed+=("monitor (exit $status)")
fi

if ((${#failed[@]})); then
  for problem in "${failed[@]}"; do log "failed: $problem"; done
  exit 1
fi
log "done"
