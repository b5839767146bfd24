//! A training run's writes: its row and metadata at the start, epochs and
//! checkpoints as it goes, final artifacts or its failure at the end, and
//! the marking of runs whose process died.

use super::index::{CheckpointKind, CheckpointRow};
use super::owner::{host_name, process_alive};
use super::{now, Registry};
use crate::atomic::write_atomic;
use crate::plot::draw_loss_curve;
use anyhow::{Context, Result};
use candle_core::Tensor;
use shoptrain_shared::bundle::{sha256_hex, write_bundle};
use shoptrain_shared::metadata::{EpochRecord, ModelMetadata, Status};
use shoptrain_shared::naming::Artifact;
use std::collections::HashMap;
use std::path::Path;

/// One checkpoint to save: its weights (and optimiser state) and header.
pub struct Checkpoint<'a> {
    pub kind: CheckpointKind,
    pub epoch: u32,
    pub tensors: &'a [(String, Tensor)],
    pub header: HashMap<String, String>,
    pub val_loss: Option<f64>,
}

/// Writes a safetensors bundle atomically; returns `(bytes, sha256)`.
fn save_bundle(
    path: &Path,
    tensors: &[(String, Tensor)],
    header: HashMap<String, String>,
) -> Result<(u64, String)> {
    let bytes = write_bundle(tensors, header)?;
    write_atomic(path, &bytes)?;
    Ok((bytes.len() as u64, sha256_hex(&bytes)))
}

impl Registry {
    /// Records a new run (metadata file first, then its index rows);
    /// returns the run's row id.
    pub fn begin_run(&self, meta: &ModelMetadata, columns: &[String]) -> Result<i64> {
        self.write_metadata(meta)?;
        let dataset_id = self.index.upsert_dataset(meta, columns)?;
        self.index
            .insert_model(meta, dataset_id, Some(std::process::id()), &host_name())
    }

    /// Takes over an interrupted run for this process (`--resume`); returns
    /// its row id.
    pub fn take_over_run(&self, meta: &mut ModelMetadata) -> Result<i64> {
        let prefix = meta.prefix.clone();
        let id = self
            .index
            .find(&prefix)?
            .with_context(|| format!("{prefix} has no index row; run `shoptrain index rebuild`"))?
            .id;
        meta.status = Status::Training;
        meta.error_message = None;
        self.write_metadata(meta)?;
        self.index
            .set_owner(&prefix, std::process::id(), &host_name())?;
        self.index.update_from_metadata(meta)?;
        Ok(id)
    }

    pub fn record_epoch(&self, run: i64, record: &EpochRecord) -> Result<()> {
        self.index.add_epoch(run, record)
    }

    pub fn replace_epochs(&self, run: i64, history: &[EpochRecord]) -> Result<()> {
        self.index.replace_epochs(run, history)
    }

    pub fn save_checkpoint(&self, run: i64, prefix: &str, c: Checkpoint) -> Result<()> {
        let artifact = match c.kind {
            CheckpointKind::Best => Artifact::BestCheckpoint,
            CheckpointKind::Epoch => Artifact::EpochCheckpoint(c.epoch),
        };
        let rel = artifact.file_name(prefix);
        let (bytes, sha256) = save_bundle(&self.dir.join(&rel), c.tensors, c.header)?;
        self.index.add_checkpoint(
            run,
            &CheckpointRow {
                kind: c.kind,
                epoch: c.epoch,
                path: rel,
                bytes,
                sha256,
                val_loss: c.val_loss,
            },
        )
    }

    /// Keeps the newest `keep` epoch checkpoints of a run and removes the
    /// others: index rows first, then files, so a kill in between leaves
    /// only unlisted files (older than the kept ones, so `--resume` still
    /// takes the latest) and never a row without its file.
    pub fn prune_epoch_checkpoints(&self, run: i64, prefix: &str, keep: usize) -> Result<()> {
        let mut epochs = self.epoch_checkpoints(prefix);
        epochs.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
        let old = epochs.split_off(keep.min(epochs.len()));
        if old.is_empty() {
            return Ok(());
        }
        let numbers: Vec<u32> = old.iter().map(|(n, _)| *n).collect();
        self.index.remove_epoch_checkpoints(run, &numbers)?;
        for (_, rel) in old {
            self.remove_file(&rel)?;
        }
        Ok(())
    }

    /// Writes the final artifacts (loss curve, weights), then marks the run
    /// completed in its metadata file and index row. The loss curve is a
    /// by-product: if it cannot be drawn the run still completes, with a
    /// warning on stderr and in the metadata.
    pub fn complete_run(
        &self,
        meta: &mut ModelMetadata,
        weights: &[(String, Tensor)],
        header: HashMap<String, String>,
    ) -> Result<()> {
        let title = format!("{} — loss per epoch", meta.prefix);
        let curve = self.path(&meta.prefix, Artifact::LossCurve);
        if let Err(e) = draw_loss_curve(
            &curve,
            &title,
            &meta.objective(),
            &meta.history,
            meta.training.best_epoch,
        ) {
            let warning = format!("{} not written: {e:#}", curve.display());
            eprintln!("warning: {}: {warning}", meta.prefix);
            meta.warnings.push(warning);
        }
        let (_, sha) = save_bundle(&self.path(&meta.prefix, Artifact::Weights), weights, header)?;
        meta.weights_sha256 = Some(sha);
        meta.status = Status::Completed;
        meta.finished_at = Some(now());
        self.write_metadata(meta)?;
        self.index.update_from_metadata(meta)
    }

    /// Marks a run failed with its error, best effort: the original error
    /// matters more than a second one.
    pub fn fail_run(&self, meta: &mut ModelMetadata, error: &anyhow::Error) {
        meta.status = Status::Failed;
        meta.finished_at = Some(now());
        meta.error_message = Some(format!("{error:#}"));
        let _ = self.write_metadata(meta);
        let _ = self.index.update_from_metadata(meta);
    }

    pub(super) fn mark_dead_runs(&self) -> Result<()> {
        for (prefix, pid) in self.index.training_rows(&host_name())? {
            if pid.is_some_and(process_alive) {
                continue;
            }
            let why = "the training process ended without finishing (killed or crashed)";
            if let Ok(mut meta) = self.read_metadata(&prefix) {
                if meta.status == Status::Training {
                    meta.status = Status::Interrupted;
                    meta.error_message = Some(why.into());
                    self.write_metadata(&meta)?;
                }
            }
            self.index
                .set_status(&prefix, Status::Interrupted, Some(why))?;
        }
        Ok(())
    }
}
