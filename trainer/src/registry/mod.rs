//! The models folder as a whole (ARCHITECTURE.md, Artifacts): artifact files
//! (the truth), the SQLite index (a cache of them) and the version counter.
//! `Registry` is their only writer, which is how they stay in step.

mod catalog;
mod index;
mod owner;
mod rebuild;
mod runs;
mod verify;
mod versions;

pub use catalog::DeleteReport;
pub use index::{
    now, AliasEvent, CheckpointKind, CheckpointRow, ListFilter, ModelRow, RecordedForecast,
    DB_FILE, DB_LOCK_FILE, SCHEMA_VERSION,
};
pub use owner::{host_name, user_name};
pub use rebuild::RebuildReport;
pub use runs::Checkpoint;
pub use versions::{VersionStore, LOCK_FILE, VERSIONS_FILE};

use crate::atomic::write_atomic;
use anyhow::{bail, Context, Result};
use index::Index;
use shoptrain_shared::forecast::Forecaster;
use shoptrain_shared::metadata::{EpochRecord, ModelMetadata, Status};
use shoptrain_shared::naming::{Artifact, VersionedName, CHECKPOINT_DIR};
use std::path::{Path, PathBuf};

/// Mirror of the aliases table, so `index rebuild` can restore them.
pub const ALIASES_FILE: &str = "aliases.json";

pub struct Registry {
    dir: PathBuf,
    index: Index,
}

impl Registry {
    /// Opens the models directory and marks runs whose process died as
    /// `interrupted` (in the index and in their metadata file).
    pub fn open(dir: &Path) -> Result<Registry> {
        let index = Index::open(dir)?;
        let reg = Registry {
            dir: dir.to_path_buf(),
            index,
        };
        reg.mark_dead_runs()?;
        Ok(reg)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, prefix: &str, artifact: Artifact) -> PathBuf {
        self.dir.join(artifact.file_name(prefix))
    }

    /// Reserves the next version of a model identifier (under the file lock).
    pub fn reserve_version(&self, identifier: &str) -> Result<u32> {
        VersionStore::new(&self.dir).reserve(identifier)
    }

    pub fn read_metadata(&self, prefix: &str) -> Result<ModelMetadata> {
        let path = self.path(prefix, Artifact::Metadata);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "cannot read {}; is {prefix:?} a model here? (`shoptrain models list`)",
                path.display()
            )
        })?;
        ModelMetadata::from_json(&text).with_context(|| format!("in {}", path.display()))
    }

    fn write_metadata(&self, meta: &ModelMetadata) -> Result<()> {
        write_atomic(
            &self.path(&meta.prefix, Artifact::Metadata),
            meta.to_json().as_bytes(),
        )
    }

    /// The bytes of one artifact file of a model.
    pub fn read_artifact(&self, prefix: &str, artifact: Artifact) -> Result<Vec<u8>> {
        let path = self.path(prefix, artifact);
        std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))
    }

    /// The prefix an alias points at, or `name` itself; deleted models too.
    pub fn resolve_alias(&self, name: &str) -> Result<String> {
        self.index.resolve(name)
    }

    /// Resolves an alias or prefix to a model the index knows (not deleted).
    pub fn resolve(&self, name: &str) -> Result<String> {
        let prefix = self.index.resolve(name)?;
        VersionedName::parse(&prefix).with_context(|| {
            format!(
                "{name:?} is neither an alias nor a model prefix like product_P001_all_mlstm_v1"
            )
        })?;
        match self.index.find(&prefix)? {
            Some(row) if row.deleted_at.is_none() => Ok(prefix),
            Some(_) => bail!("model {prefix} was deleted"),
            None => bail!(
                "no model {prefix:?} in {}; see `shoptrain models list`",
                self.dir.display()
            ),
        }
    }

    /// A completed model's final weights, ready to forecast.
    pub fn load_forecaster(&self, prefix: &str) -> Result<Forecaster> {
        let path = self.path(prefix, Artifact::Metadata);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the metadata of {prefix}"))?;
        let meta =
            ModelMetadata::from_json(&text).with_context(|| format!("in {}", path.display()))?;
        if meta.status != Status::Completed {
            bail!(
                "{prefix} is {}, not completed; it has no final weights to forecast with",
                meta.status.as_str()
            );
        }
        let weights = std::fs::read(self.path(prefix, Artifact::Weights))
            .with_context(|| format!("cannot read the weights of {prefix}"))?;
        Forecaster::from_bytes(&weights, &text).with_context(|| format!("cannot load {prefix}"))
    }

    pub fn find(&self, prefix: &str) -> Result<Option<ModelRow>> {
        self.index.find(prefix)
    }

    pub fn list(&self, filter: &ListFilter) -> Result<Vec<ModelRow>> {
        self.index.list(filter)
    }

    pub fn epochs(&self, model_id: i64) -> Result<Vec<EpochRecord>> {
        self.index.epochs(model_id)
    }

    pub fn prediction_count(&self, model_id: i64) -> Result<i64> {
        self.index.prediction_count(model_id)
    }

    /// Logs that `kind` (`predict`, `evaluate`) used a model, if it has a row.
    pub fn log_prediction(
        &self,
        prefix: &str,
        kind: &str,
        input_sha256: &str,
        horizon: usize,
        seconds: f64,
    ) -> Result<()> {
        if let Some(row) = self.index.find(prefix)? {
            self.index
                .log_prediction(row.id, kind, input_sha256, horizon, seconds)?;
        }
        Ok(())
    }

    /// Records a forecast `prefix` made of the series `scope` (for `monitor`).
    pub fn record_forecast(
        &self,
        prefix: &str,
        scope: &shoptrain_shared::naming::Scope,
        series: &str,
        data: &str,
        forecast: &shoptrain_shared::forecast::Forecast,
    ) -> Result<()> {
        if let Some(row) = self.index.find(prefix)? {
            self.index
                .record_forecast(row.id, scope, series, data, forecast)?;
        }
        Ok(())
    }

    /// Records that `sync --when-drifting` retrained a model as `prefix`.
    pub fn mark_drift_retrain(&self, prefix: &str) -> Result<()> {
        let v = VersionedName::parse(prefix)?;
        self.index
            .mark_drift_retrain(&v.name.identifier(), prefix, v.version)
    }

    /// Each identifier's newest drift retrain (its version).
    pub fn drift_retrains(&self) -> Result<std::collections::BTreeMap<String, u32>> {
        self.index.drift_retrains()
    }

    /// Every recorded forecast of a model not deleted, oldest origin first.
    pub fn recorded_forecasts(&self) -> Result<Vec<RecordedForecast>> {
        self.index.recorded_forecasts()
    }

    /// Every `*_metadata.json` in the directory, sorted by file name.
    fn metadata_files(&self) -> Result<Vec<PathBuf>> {
        let mut out: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .with_context(|| format!("cannot list {}", self.dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .and_then(Artifact::parse_file_name)
                    .is_some_and(|(_, kind)| kind == Artifact::Metadata)
            })
            .collect();
        out.sort();
        Ok(out)
    }

    /// Checkpoint files of a prefix: `(artifact, relative path)`.
    pub fn checkpoint_files(&self, prefix: &str) -> Vec<(Artifact, String)> {
        let mut out: Vec<(Artifact, String)> = std::fs::read_dir(self.dir.join(CHECKPOINT_DIR))
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let (v, kind) = Artifact::parse_file_name(&name)?;
                (v.prefix() == prefix).then(|| (kind, kind.file_name(prefix)))
            })
            .collect();
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out
    }

    /// `(epoch, relative path)` of every epoch checkpoint file of `prefix`.
    pub fn epoch_checkpoints(&self, prefix: &str) -> Vec<(u32, String)> {
        self.checkpoint_files(prefix)
            .into_iter()
            .filter_map(|(kind, rel)| match kind {
                Artifact::EpochCheckpoint(n) => Some((n, rel)),
                _ => None,
            })
            .collect()
    }

    /// Removes a file of the models folder; one already gone is no error.
    fn remove_file(&self, rel: &str) -> Result<()> {
        let path = self.dir.join(rel);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                bail!("cannot remove {}: {e}", path.display())
            }
            _ => Ok(()),
        }
    }
}
