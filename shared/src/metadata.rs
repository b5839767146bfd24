//! `{prefix}_metadata.json`: everything needed to rebuild a model,
//! its features and its index row. The file is the source of truth; the SQLite
//! index is a cache of it.

use crate::features::{KnownFuture, Normalization};
use crate::metrics::{Metrics, QuantileMetrics};
use crate::models::ModelConfig;
use crate::naming::{Mode, ModelName, ModelType, Scope, VersionedName};
use serde::{Deserialize, Serialize};

pub const SCHEMA_VERSION: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Training,
    Completed,
    Failed,
    Interrupted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Training => "training",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Interrupted => "interrupted",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Training,
            Status::Completed,
            Status::Failed,
            Status::Interrupted,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// What training minimises, on normalised sales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Loss {
    /// Mean squared error (what models trained before this option used).
    #[default]
    Mse,
    /// Mean absolute error: what MASE scores.
    Mae,
    /// Squared below 1, absolute above: MSE's smooth start, MAE's robustness.
    Huber,
}

impl Loss {
    pub fn as_str(self) -> &'static str {
        match self {
            Loss::Mse => "mse",
            Loss::Mae => "mae",
            Loss::Huber => "huber",
        }
    }
}

/// The training settings a user chooses: parsed from the command line
/// (`clap` feature), used by the training loop and recorded in the metadata
/// as they were, so one type carries them the whole way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct TrainConfig {
    /// Most epochs to train (early stopping may end sooner).
    #[serde(rename = "epochs_requested")]
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 50))]
    pub epochs: u32,
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 1e-3))]
    pub lr: f64,
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 1e-4))]
    pub weight_decay: f64,
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 42))]
    pub seed: u64,
    /// Stop after this many epochs without a better validation loss.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 10))]
    pub patience: u32,
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0.2))]
    pub val_ratio: f64,
    /// Write an epoch checkpoint (with optimiser state) every N epochs; 0 = never.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 1))]
    pub checkpoint_every: u32,
    /// Epoch checkpoints kept: the newest N (the latest is what --resume
    /// needs); older ones are removed as training goes. The best
    /// checkpoint is always kept.
    #[serde(default = "one_checkpoint")]
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 1))]
    pub keep_checkpoints: u32,
    /// What training minimises (and early stopping watches). MAE by
    /// default (QUALITY.md, experiment 8); metadata without it means MSE.
    #[serde(default)]
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = Loss::Mae))]
    pub loss: Loss,
    /// Pooled cross-learning for one (store, product) series: `auto` trains
    /// a short series (under a year of training windows) both alone and on
    /// its siblings' windows too (same store or same product, at most 8),
    /// validated on its own series either way, and keeps what validates
    /// better; `always` pools every such series; `never` trains each alone.
    /// Whether a model did pool is `TrainingInfo::pooled`.
    #[serde(
        default = "Pool::before_pooling",
        skip_serializing_if = "Pool::is_never",
        deserialize_with = "Pool::read"
    )]
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value = "auto"))]
    pub pool: Pool,
}

/// See `TrainConfig::pool` (QUALITY.md, experiments 29 and 30).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Pool {
    Auto,
    Always,
    Never,
}

impl Pool {
    /// Models trained before pooling existed trained alone.
    fn before_pooling() -> Pool {
        Pool::Never
    }

    fn is_never(&self) -> bool {
        *self == Pool::Never
    }

    /// A setting as written now, or as the opt-in flag's `true`/`false`.
    fn read<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Pool, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Flag(bool),
            Choice(Pool),
        }
        Ok(match Written::deserialize(d)? {
            Written::Flag(true) => Pool::Always,
            Written::Flag(false) => Pool::Never,
            Written::Choice(p) => p,
        })
    }

    /// What a run that continues a model's weights does: what it did.
    pub fn as_done(pooled: bool) -> Pool {
        if pooled {
            Pool::Always
        } else {
            Pool::Never
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 50,
            lr: 1e-3,
            weight_decay: 1e-4,
            seed: 42,
            patience: 10,
            val_ratio: 0.2,
            checkpoint_every: 1,
            keep_checkpoints: 1,
            loss: Loss::Mae,
            pool: Pool::Auto,
        }
    }
}

fn one_checkpoint() -> u32 {
    1
}

impl TrainConfig {
    /// Rejects settings no run can use, naming the flag to fix.
    pub fn check(&self) -> Result<(), String> {
        if self.epochs == 0 {
            return Err("--epochs must be at least 1".into());
        }
        if self.keep_checkpoints == 0 {
            return Err("--keep-checkpoints must be at least 1 (--resume needs the latest epoch checkpoint; --checkpoint-every 0 writes none)".into());
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err("--lr must be a positive number".into());
        }
        if !(self.val_ratio > 0.0 && self.val_ratio < 1.0) {
            return Err(format!(
                "--val-ratio must be between 0 and 1 (exclusive), got {}",
                self.val_ratio
            ));
        }
        Ok(())
    }
}

/// What a run did, around the settings it ran with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingInfo {
    #[serde(flatten)]
    pub config: TrainConfig,
    pub epochs_run: u32,
    pub batch_size: usize,
    pub device: String,
    pub duration_seconds: f64,
    pub best_epoch: Option<u32>,
    pub best_val_loss: Option<f64>,
    pub train_windows: usize,
    pub val_windows: usize,
    /// It also trained on its siblings' windows (`TrainConfig::pool`); their
    /// digests are among `DataInfo::series_sha256`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub pooled: bool,
}

impl TrainingInfo {
    /// Whether the model learnt from its siblings' windows: `pooled`, or
    /// the opt-in `"pool": true` of models trained before it was recorded.
    pub fn learnt_from_siblings(&self) -> bool {
        self.pooled || self.config.pool == Pool::Always
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataInfo {
    pub path: String,
    pub sha256: String,
    pub date_min: String,
    pub date_max: String,
    pub rows: usize,
    pub series: usize,
    pub fill: String,
    /// The sales store's data version it learned from (`--data store[@V]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_version: Option<u32>,
    /// sha256 of each series it learned from (dates and values), by label:
    /// which series changed since is a comparison of these.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub series_sha256: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: u32,
    pub train_loss: f64,
    pub val_loss: f64,
    pub lr: f64,
    pub seconds: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostInfo {
    pub user: String,
    pub host: String,
    pub os: String,
    pub device_name: String,
    pub shoptrain_version: String,
    pub candle_version: String,
}

/// Raw (unescaped) ids of a model's scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeIds {
    pub product: Option<String>,
    pub store: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetadata {
    pub schema_version: u32,
    pub prefix: String,
    pub model_identifier: String,
    pub mode: Mode,
    /// The scope token as it appears in the prefix, e.g. `P001_all`.
    pub scope: String,
    pub scope_ids: ScopeIds,
    pub model_type: ModelType,
    pub version: u32,
    pub status: Status,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub architecture: ModelConfig,
    pub training: TrainingInfo,
    pub data: DataInfo,
    /// Input feature names in column order; `sales` is always first.
    pub features: Vec<String>,
    pub normalization: Normalization,
    /// Columns known for the forecast days, when the model reads them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_future: Option<KnownFuture>,
    pub window: usize,
    pub horizon: usize,
    pub metrics: Option<Metrics>,
    /// How the quantiles fit the validation days (calibrated on them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantile_metrics: Option<QuantileMetrics>,
    /// The least std (sales) a quantile's distance from the median is
    /// scaled by (`Scale::spread`); single-series models only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spread_floor: Option<f32>,
    /// The same metrics for naive forecasts on the same validation windows.
    #[serde(default)]
    pub baselines: std::collections::BTreeMap<String, Metrics>,
    /// Baselines that could not be computed (e.g. ETS that failed to fit), and why.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub baseline_errors: std::collections::BTreeMap<String, String>,
    pub history: Vec<EpochRecord>,
    pub weights_sha256: Option<String>,
    pub parent_prefix: Option<String>,
    pub host: HostInfo,
    pub error_message: Option<String>,
    /// Set by a soft delete; the files stay until a hard delete.
    #[serde(default)]
    pub deleted_at: Option<String>,
    /// The classical forecast validation blends with the network's (see
    /// `floor`); absent on models trained before the floor: network alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<crate::floor::Floor>,
    /// What went wrong without costing the model, e.g. a loss curve that
    /// could not be drawn: the run completed, its weights are written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Brings metadata written under an older schema to the current one.
/// 1 → 2: version 2 added quantile forecasts (`architecture.quantiles`,
/// `quantile_metrics`); a version 1 model has neither and forecasts points.
fn migrate(mut value: serde_json::Value, found: u64) -> serde_json::Value {
    if found < 2 {
        value["schema_version"] = serde_json::json!(2);
    }
    value
}

#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error("metadata is not valid JSON: {0}")]
    Json(serde_json::Error),
    #[error("metadata has no integer schema_version field")]
    NoSchemaVersion,
    #[error("metadata schema_version {found} is newer than this shoptrain understands ({SCHEMA_VERSION}); upgrade shoptrain")]
    TooNew { found: u64 },
    #[error("metadata (schema_version {SCHEMA_VERSION}) is incomplete or has a wrong field: {0}")]
    Schema(serde_json::Error),
    #[error("metadata is inconsistent: {0}")]
    Inconsistent(String),
}

impl ModelMetadata {
    /// Parses and checks a metadata file's text.
    pub fn from_json(text: &str) -> Result<ModelMetadata, MetadataError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(MetadataError::Json)?;
        let found = value
            .get("schema_version")
            .and_then(|v| v.as_u64())
            .ok_or(MetadataError::NoSchemaVersion)?;
        if found > SCHEMA_VERSION as u64 {
            return Err(MetadataError::TooNew { found });
        }
        let value = migrate(value, found);
        let meta: ModelMetadata = serde_json::from_value(value).map_err(MetadataError::Schema)?;
        meta.check()?;
        Ok(meta)
    }

    #[expect(
        clippy::expect_used,
        reason = "serialising plain data structs with string keys cannot fail"
    )]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("metadata serialises")
    }

    /// The name this metadata claims, rebuilt from its own fields.
    pub fn versioned_name(&self) -> Result<VersionedName, MetadataError> {
        let scope = match self.mode {
            Mode::Product => Scope::product(
                self.scope_ids.product.as_deref().unwrap_or_default(),
                self.scope_ids.store.as_deref(),
            ),
            Mode::Store => Scope::store(
                self.scope_ids.store.as_deref().unwrap_or_default(),
                self.scope_ids.product.as_deref(),
            ),
            Mode::Global => Ok(Scope::Global),
        }
        .map_err(|e| MetadataError::Inconsistent(e.to_string()))?;
        Ok(VersionedName::new(
            ModelName::new(scope, self.model_type),
            self.version,
        ))
    }

    fn check(&self) -> Result<(), MetadataError> {
        let name = self.versioned_name()?;
        let bad = |why: String| Err(MetadataError::Inconsistent(why));
        if name.prefix() != self.prefix {
            return bad(format!(
                "prefix {:?} does not match its mode/scope/type/version ({:?})",
                self.prefix,
                name.prefix()
            ));
        }
        if name.name.identifier() != self.model_identifier {
            return bad(format!(
                "model_identifier {:?} does not match prefix {:?}",
                self.model_identifier, self.prefix
            ));
        }
        if self.architecture.model_type() != self.model_type {
            return bad(format!(
                "architecture is for {} but model_type is {}",
                self.architecture.model_type(),
                self.model_type
            ));
        }
        if self.features.first().map(String::as_str) != Some(crate::features::TARGET) {
            return bad("the first feature must be 'sales'".into());
        }
        if self.window == 0 || self.horizon == 0 {
            return bad("window and horizon must be positive".into());
        }
        if self.architecture.window() != self.window
            || self.architecture.horizon() != self.horizon
            || self.architecture.features() != self.features.len()
        {
            return bad(format!(
                "architecture expects window {} horizon {} with {} features, metadata says window {} horizon {} with {} features",
                self.architecture.window(),
                self.architecture.horizon(),
                self.architecture.features(),
                self.window,
                self.horizon,
                self.features.len()
            ));
        }
        if !self.architecture.quantiles().is_empty() {
            if let Err(e) = crate::models::check_levels(self.architecture.quantiles()) {
                return bad(e);
            }
        }
        let columns = self.known_future.as_ref().map_or(0, |k| k.columns.len());
        if columns != self.architecture.known_future_columns() {
            return bad(format!(
                "known_future lists {columns} columns, the architecture reads {}",
                self.architecture.known_future_columns()
            ));
        }
        if let Some(known) = &self.known_future {
            if known.scale.len() != columns || known.scale.iter().any(|s| s.is_nan() || *s <= 0.0) {
                return bad("known_future needs one positive scale per column".into());
            }
            if let Err(e) = known.positions(&self.features) {
                return bad(format!("known_future: {e}"));
            }
        }
        self.normalization
            .check(self.features.len())
            .map_err(MetadataError::Inconsistent)
    }

    /// What training minimised, in words: the point forecast's loss, plus
    /// (for a quantile model) the pinball loss of the other quantiles, e.g.
    /// `MAE + pinball (p10, p90)`.
    pub fn objective(&self) -> String {
        let point = self.training.config.loss.as_str().to_uppercase();
        let others: Vec<String> = self
            .architecture
            .quantiles()
            .iter()
            .filter(|l| **l != 0.5)
            .map(|l| crate::metrics::level_name(*l))
            .collect();
        if others.is_empty() {
            format!("{point} loss")
        } else {
            format!("{point} + pinball ({})", others.join(", "))
        }
    }

    /// The known-future columns with their positions among the features
    /// (checked when the metadata was read).
    pub fn known_future_positions(&self) -> Option<(&KnownFuture, Vec<usize>)> {
        let known = self.known_future.as_ref()?;
        Some((known, known.positions(&self.features).unwrap_or_default()))
    }
}
