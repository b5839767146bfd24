//! `index rebuild`: a new `models.db` and `versions.json` from the metadata
//! files, the source of truth.

use super::index::{CheckpointKind, CheckpointRow, Index, OpenLock, UsersLock, DB_FILE};
use super::owner::host_name;
use super::{Registry, VersionStore, ALIASES_FILE};
use anyhow::{Context, Result};
use shoptrain_shared::bundle::sha256_hex;
use shoptrain_shared::metadata::ModelMetadata;
use shoptrain_shared::naming::Artifact;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Default, serde::Serialize)]
pub struct RebuildReport {
    pub models: usize,
    pub identifiers: usize,
    pub aliases: usize,
    /// Recorded forecasts carried over from the old database.
    pub forecasts: usize,
    /// Why they could not be (a damaged or missing old database).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forecasts_lost: Option<String>,
    pub skipped: Vec<String>,
}

impl Registry {
    /// Recreates `models.db` and `versions.json` from the metadata files.
    /// The old database is replaced only once the new one is complete.
    /// Waits up to `wait` for every other process to close the index.
    pub fn rebuild(dir: &Path, wait: std::time::Duration) -> Result<RebuildReport> {
        std::fs::create_dir_all(dir)?;
        // no other process may have the index open while it is replaced
        let _alone = UsersLock::exclusive(dir, wait)?;
        let staging = tempfile::Builder::new()
            .prefix(".rebuild-")
            .tempdir_in(dir)
            .context("cannot create a staging folder for the rebuild")?;
        let mut reader = Registry {
            dir: dir.to_path_buf(),
            index: Index::open(staging.path())?,
        };
        let mut report = RebuildReport::default();
        let mut counters: BTreeMap<String, u32> = BTreeMap::new();
        for path in reader.metadata_files()? {
            let text = std::fs::read_to_string(&path)?;
            let meta = match ModelMetadata::from_json(&text) {
                Ok(m) => m,
                Err(e) => {
                    report.skipped.push(format!("{}: {e}", path.display()));
                    continue;
                }
            };
            reader.reindex(&meta)?;
            let c = counters.entry(meta.model_identifier.clone()).or_insert(0);
            *c = (*c).max(meta.version);
            report.models += 1;
        }
        report.aliases = reader.restore_aliases()?;
        let old = dir.join(DB_FILE);
        if old.exists() {
            match reader.index.carry_forecasts(&old) {
                Ok(n) => report.forecasts = n,
                Err(e) => report.forecasts_lost = Some(format!("{e:#}")),
            }
        }
        drop(reader);
        // under the lock that opening takes, so no process opens (and
        // creates or migrates) a half-swapped models.db
        let lock = OpenLock::acquire(dir)?;
        for suffix in ["", "-wal", "-shm"] {
            let name = format!("{DB_FILE}{suffix}");
            let _ = std::fs::remove_file(dir.join(&name));
            if staging.path().join(&name).exists() {
                std::fs::rename(staging.path().join(&name), dir.join(&name)).with_context(
                    || format!("cannot move the rebuilt {name} into {}", dir.display()),
                )?;
            }
        }
        drop(lock);
        VersionStore::new(dir).raise_to(counters.clone())?;
        report.identifiers = counters.len();
        Ok(report)
    }

    /// The rows of one model: model, epochs and its checkpoint files.
    fn reindex(&self, meta: &ModelMetadata) -> Result<()> {
        let dataset_id = self.index.upsert_dataset(meta, &[])?;
        let id = self
            .index
            .insert_model(meta, dataset_id, None, &host_name())?;
        for e in &meta.history {
            self.index.add_epoch(id, e)?;
        }
        for (kind, rel) in self.checkpoint_files(&meta.prefix) {
            let bytes = std::fs::read(self.dir.join(&rel))?;
            let (kind, epoch) = match kind {
                Artifact::BestCheckpoint => {
                    (CheckpointKind::Best, meta.training.best_epoch.unwrap_or(0))
                }
                Artifact::EpochCheckpoint(n) => (CheckpointKind::Epoch, n),
                _ => continue,
            };
            let val_loss = meta
                .history
                .iter()
                .find(|h| h.epoch == epoch)
                .map(|h| h.val_loss);
            let row = CheckpointRow {
                kind,
                epoch,
                path: rel,
                bytes: bytes.len() as u64,
                sha256: sha256_hex(&bytes),
                val_loss,
            };
            self.index.add_checkpoint(id, &row)?;
        }
        Ok(())
    }

    /// Aliases from the `aliases.json` mirror; returns how many were set.
    fn restore_aliases(&mut self) -> Result<usize> {
        let Ok(text) = std::fs::read_to_string(self.dir.join(ALIASES_FILE)) else {
            return Ok(0);
        };
        let aliases: BTreeMap<String, String> = serde_json::from_str(&text)
            .with_context(|| format!("{} is corrupt", self.dir.join(ALIASES_FILE).display()))?;
        let mut restored = 0;
        for (name, prefix) in aliases {
            if self
                .index
                .alias_set(&name, &prefix, "index rebuild")
                .is_ok()
            {
                restored += 1;
            }
        }
        Ok(restored)
    }
}
