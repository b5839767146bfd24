//! The `datasets` and `models` tables.

use super::{now, Index};
use anyhow::Result;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use shoptrain_shared::metadata::{ModelMetadata, Status};
use shoptrain_shared::naming::{Mode, ModelType};

/// One row of `models`, as `models list/show` print it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ModelRow {
    #[serde(skip)]
    pub id: i64,
    pub prefix: String,
    pub model_identifier: String,
    pub version: u32,
    pub mode: Mode,
    pub scope: String,
    pub model_type: ModelType,
    pub status: Status,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub metrics: Option<serde_json::Value>,
    pub device: Option<String>,
    pub parent_prefix: Option<String>,
    pub dataset_sha256: Option<String>,
    pub created_by: Option<String>,
    pub error_message: Option<String>,
    pub deleted_at: Option<String>,
}

/// Which rows `models list` shows.
#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    pub mode: Option<Mode>,
    pub model_type: Option<ModelType>,
    pub status: Option<Status>,
    pub include_deleted: bool,
}

fn row_to_model(r: &rusqlite::Row) -> rusqlite::Result<ModelRow> {
    let metrics: Option<String> = r.get("metrics_summary")?;
    Ok(ModelRow {
        id: r.get("id")?,
        prefix: r.get("filename_prefix")?,
        model_identifier: r.get("model_identifier")?,
        version: r.get("version")?,
        mode: r.get("mode")?,
        scope: r.get("scope")?,
        model_type: r.get("model_type")?,
        status: r.get("status")?,
        created_at: r.get("created_at")?,
        finished_at: r.get("finished_at")?,
        metrics: metrics.and_then(|m| serde_json::from_str(&m).ok()),
        device: r.get("device")?,
        parent_prefix: r.get("parent_prefix")?,
        dataset_sha256: r.get("dataset_sha256")?,
        created_by: r.get("created_by")?,
        error_message: r.get("error_message")?,
        deleted_at: r.get("deleted_at")?,
    })
}

const SELECT_MODELS: &str = "SELECT m.*, d.sha256 AS dataset_sha256 FROM models m LEFT JOIN datasets d ON d.id = m.dataset_id";

fn metrics_summary(meta: &ModelMetadata) -> Option<String> {
    meta.metrics.as_ref().map(|m| {
        serde_json::json!({
            "rmse": m.rmse, "mae": m.mae, "mape": m.mape, "smape": m.smape, "r2": m.r2, "mase": m.mase
        })
        .to_string()
    })
}

impl Index {
    /// Adds the dataset a run uses (once per sha256); returns its row id.
    pub fn upsert_dataset(&self, meta: &ModelMetadata, columns: &[String]) -> Result<i64> {
        let d = &meta.data;
        let columns = serde_json::to_string(columns)?;
        self.write(
            || format!("record the dataset {} of {}", d.path, meta.prefix),
            |c| {
                c.execute(
                    "INSERT INTO datasets(sha256, path, rows, series, date_min, date_max, columns)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(sha256) DO NOTHING",
                    params![
                        d.sha256,
                        d.path,
                        d.rows as i64,
                        d.series as i64,
                        d.date_min,
                        d.date_max,
                        columns
                    ],
                )?;
                c.query_row(
                    "SELECT id FROM datasets WHERE sha256 = ?1",
                    [&d.sha256],
                    |r| r.get(0),
                )
            },
        )
    }

    /// Inserts the row a metadata file describes; `pid` is the process
    /// training it (none when rebuilding from files).
    pub fn insert_model(
        &self,
        meta: &ModelMetadata,
        dataset_id: i64,
        pid: Option<u32>,
        host: &str,
    ) -> Result<i64> {
        let hyper =
            serde_json::json!({ "architecture": meta.architecture, "training": meta.training });
        self.write(
            || format!("add {} to the index", meta.prefix),
            |c| {
                c.execute(
                    "INSERT INTO models(filename_prefix, model_identifier, version, mode, scope, model_type, status,
                        created_at, updated_at, finished_at, metrics_summary, hyperparams, dataset_id, parent_prefix,
                        device, created_by, error_message, deleted_at, pid, host)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
                    params![
                        meta.prefix, meta.model_identifier, meta.version, meta.mode, meta.scope,
                        meta.model_type, meta.status, meta.created_at, now(), meta.finished_at,
                        metrics_summary(meta), hyper.to_string(), dataset_id, meta.parent_prefix,
                        meta.training.device, meta.host.user, meta.error_message, meta.deleted_at, pid, host
                    ],
                )?;
                Ok(c.last_insert_rowid())
            },
        )
    }

    /// Copies status, finish time, metrics and error from the metadata.
    pub fn update_from_metadata(&self, meta: &ModelMetadata) -> Result<()> {
        self.write(
            || {
                format!(
                    "record that {} is {}",
                    meta.prefix,
                    meta.status.as_str()
                )
            },
            |c| {
                c.execute(
                    "UPDATE models SET status = ?2, finished_at = ?3, metrics_summary = ?4, error_message = ?5,
                        updated_at = ?6, deleted_at = ?7, device = ?8 WHERE filename_prefix = ?1",
                    params![
                        meta.prefix, meta.status, meta.finished_at, metrics_summary(meta),
                        meta.error_message, now(), meta.deleted_at, meta.training.device
                    ],
                )
            },
        )?;
        Ok(())
    }

    pub fn list(&self, f: &ListFilter) -> Result<Vec<ModelRow>> {
        let mut sql = format!("{SELECT_MODELS} WHERE 1=1");
        let mut args: Vec<&str> = Vec::new();
        for (col, v) in [
            ("m.mode", f.mode.map(Mode::as_str)),
            ("m.model_type", f.model_type.map(ModelType::as_str)),
            ("m.status", f.status.map(Status::as_str)),
        ] {
            if let Some(v) = v {
                args.push(v);
                sql.push_str(&format!(" AND {col} = ?{}", args.len()));
            }
        }
        if !f.include_deleted {
            sql.push_str(" AND m.deleted_at IS NULL");
        }
        sql.push_str(" ORDER BY m.model_identifier, m.version");
        self.read(
            || "list the models".into(),
            |c| {
                let mut stmt = c.prepare(&sql)?;
                let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), row_to_model)?;
                rows.collect()
            },
        )
    }

    pub fn find(&self, prefix: &str) -> Result<Option<ModelRow>> {
        self.read(
            || format!("look up {prefix}"),
            |c| {
                c.query_row(
                    &format!("{SELECT_MODELS} WHERE m.filename_prefix = ?1"),
                    [prefix],
                    row_to_model,
                )
                .optional()
            },
        )
    }

    pub fn set_deleted(&self, prefix: &str, at: &str) -> Result<()> {
        self.write(
            || format!("mark {prefix} deleted"),
            |c| {
                c.execute(
                    "UPDATE models SET deleted_at = ?2, updated_at = ?2 WHERE filename_prefix = ?1",
                    params![prefix, at],
                )
            },
        )?;
        Ok(())
    }

    pub fn remove(&self, prefix: &str) -> Result<()> {
        self.write(
            || format!("remove the row of {prefix}"),
            |c| c.execute("DELETE FROM models WHERE filename_prefix = ?1", [prefix]),
        )?;
        Ok(())
    }
}
