//! `models.db`, the SQLite index of the models directory (DESIGN §5). It is a
//! cache of the metadata files: `index rebuild` can always recreate it.

use anyhow::{bail, Context, Result};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use shoptrain_shared::metadata::{EpochRecord, ModelMetadata, Status};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DB_FILE: &str = "models.db";

/// Ordered migrations; `PRAGMA user_version` counts how many have run.
const MIGRATIONS: &[&str] = &[
    // 1: the tables of DESIGN §5
    r#"
    CREATE TABLE datasets(
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        rows INTEGER NOT NULL,
        series INTEGER NOT NULL,
        date_min TEXT NOT NULL,
        date_max TEXT NOT NULL,
        columns TEXT NOT NULL
    );
    CREATE TABLE models(
        id INTEGER PRIMARY KEY,
        filename_prefix TEXT NOT NULL UNIQUE,
        model_identifier TEXT NOT NULL,
        version INTEGER NOT NULL,
        mode TEXT NOT NULL,
        scope TEXT NOT NULL,
        model_type TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('training','completed','failed','interrupted')),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        finished_at TEXT,
        metrics_summary TEXT,
        hyperparams TEXT,
        dataset_id INTEGER REFERENCES datasets(id),
        parent_prefix TEXT,
        device TEXT,
        created_by TEXT,
        error_message TEXT,
        deleted_at TEXT,
        UNIQUE(model_identifier, version)
    );
    CREATE INDEX models_by_listing ON models(mode, model_type, status);
    CREATE INDEX models_by_identifier ON models(model_identifier, version);
    CREATE TABLE epochs(
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        epoch INTEGER NOT NULL,
        train_loss REAL NOT NULL,
        val_loss REAL NOT NULL,
        lr REAL NOT NULL,
        seconds REAL NOT NULL,
        PRIMARY KEY(model_id, epoch)
    );
    CREATE TABLE checkpoints(
        id INTEGER PRIMARY KEY,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        epoch INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('best','epoch')),
        path TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        val_loss REAL,
        UNIQUE(model_id, kind, epoch)
    );
    CREATE TABLE aliases(
        name TEXT PRIMARY KEY,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE alias_history(
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        prefix TEXT,
        previous_prefix TEXT,
        action TEXT NOT NULL,
        at TEXT NOT NULL,
        by TEXT NOT NULL
    );
    CREATE TABLE predictions(
        id INTEGER PRIMARY KEY,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        input_sha256 TEXT NOT NULL,
        horizon INTEGER NOT NULL,
        output_path TEXT,
        seconds REAL NOT NULL
    );
    "#,
    // 2: who is training a row, so a dead run can be found and marked interrupted
    r#"
    ALTER TABLE models ADD COLUMN pid INTEGER;
    ALTER TABLE models ADD COLUMN host TEXT;
    ALTER TABLE predictions ADD COLUMN kind TEXT NOT NULL DEFAULT 'predict';
    CREATE INDEX models_by_status ON models(status);
    "#,
];

pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// One row of `models`, as `models list/show` print it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ModelRow {
    #[serde(skip)]
    pub id: i64,
    pub prefix: String,
    pub model_identifier: String,
    pub version: u32,
    pub mode: String,
    pub scope: String,
    pub model_type: String,
    pub status: String,
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

#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    pub mode: Option<String>,
    pub model_type: Option<String>,
    pub status: Option<String>,
    pub include_deleted: bool,
}

pub struct Index {
    conn: Connection,
    pub path: PathBuf,
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn open_connection(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)
        .with_context(|| format!("cannot open the model index {}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(60))?;
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(|e| {
            anyhow::anyhow!(
                "{} is not a readable SQLite database ({e}); run `shoptrain index rebuild` to recreate it from the metadata files",
                path.display()
            )
        })?;
    if check != "ok" {
        bail!(
            "{} is damaged ({check}); run `shoptrain index rebuild` to recreate it from the metadata files",
            path.display()
        );
    }
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// Runs migrations up to `target` (tests use it to make old databases).
pub fn migrate(conn: &mut Connection, path: &Path, target: u32) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        bail!(
            "{} has schema version {current}, newer than this shoptrain understands ({SCHEMA_VERSION}); upgrade shoptrain, or point --models-dir elsewhere",
            path.display()
        );
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .take(target as usize)
        .skip(current as usize)
    {
        tx.execute_batch(sql)
            .with_context(|| format!("migration {} of {} failed", i + 1, path.display()))?;
        tx.pragma_update(None, "user_version", (i + 1) as u32)?;
    }
    tx.commit()?;
    Ok(())
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
    /// Opens (creating and migrating as needed) `models.db` in `models_dir`.
    pub fn open(models_dir: &Path) -> Result<Index> {
        std::fs::create_dir_all(models_dir)
            .with_context(|| format!("cannot create models folder {}", models_dir.display()))?;
        let path = models_dir.join(DB_FILE);
        let mut conn = open_connection(&path)?;
        migrate(&mut conn, &path, SCHEMA_VERSION)?;
        Ok(Index { conn, path })
    }

    pub fn schema_version(&self) -> Result<u32> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    pub fn upsert_dataset(&self, meta: &ModelMetadata, columns: &[String]) -> Result<i64> {
        let d = &meta.data;
        self.conn.execute(
            "INSERT INTO datasets(sha256, path, rows, series, date_min, date_max, columns)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(sha256) DO NOTHING",
            params![
                d.sha256,
                d.path,
                d.rows as i64,
                d.series as i64,
                d.date_min,
                d.date_max,
                serde_json::to_string(columns)?
            ],
        )?;
        Ok(self.conn.query_row(
            "SELECT id FROM datasets WHERE sha256 = ?1",
            [&d.sha256],
            |r| r.get(0),
        )?)
    }

    /// Inserts (or, on rebuild, replaces) the row a metadata file describes.
    pub fn insert_model(
        &self,
        meta: &ModelMetadata,
        dataset_id: i64,
        pid: Option<u32>,
        host: &str,
    ) -> Result<i64> {
        let hyper =
            serde_json::json!({ "architecture": meta.architecture, "training": meta.training });
        self.conn.execute(
            "INSERT INTO models(filename_prefix, model_identifier, version, mode, scope, model_type, status,
                created_at, updated_at, finished_at, metrics_summary, hyperparams, dataset_id, parent_prefix,
                device, created_by, error_message, deleted_at, pid, host)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
            params![
                meta.prefix, meta.model_identifier, meta.version, meta.mode.as_str(), meta.scope,
                meta.model_type.as_str(), meta.status.as_str(), meta.created_at, now(), meta.finished_at,
                metrics_summary(meta), hyper.to_string(), dataset_id, meta.parent_prefix,
                meta.training.device, meta.host.user, meta.error_message, meta.deleted_at, pid, host
            ],
        )
        .with_context(|| format!("cannot add {} to the index", meta.prefix))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Copies status, finish time, metrics and error from the metadata.
    pub fn update_from_metadata(&self, meta: &ModelMetadata) -> Result<()> {
        self.conn.execute(
            "UPDATE models SET status = ?2, finished_at = ?3, metrics_summary = ?4, error_message = ?5,
                updated_at = ?6, deleted_at = ?7, device = ?8 WHERE filename_prefix = ?1",
            params![
                meta.prefix, meta.status.as_str(), meta.finished_at, metrics_summary(meta),
                meta.error_message, now(), meta.deleted_at, meta.training.device
            ],
        )?;
        Ok(())
    }

    pub fn add_epoch(&self, model_id: i64, e: &EpochRecord) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO epochs(model_id, epoch, train_loss, val_loss, lr, seconds) VALUES (?1,?2,?3,?4,?5,?6)",
            params![model_id, e.epoch, e.train_loss, e.val_loss, e.lr, e.seconds],
        )?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub fn add_checkpoint(
        &self,
        model_id: i64,
        epoch: u32,
        kind: &str,
        path: &str,
        bytes: u64,
        sha256: &str,
        val_loss: Option<f64>,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO checkpoints(model_id, epoch, kind, path, bytes, sha256, val_loss)
             VALUES (?1,?2,?3,?4,?5,?6,?7)",
            params![model_id, epoch, kind, path, bytes as i64, sha256, val_loss],
        )?;
        if kind == "best" {
            // only one best checkpoint exists at a time
            self.conn.execute(
                "DELETE FROM checkpoints WHERE model_id = ?1 AND kind = 'best' AND epoch != ?2",
                params![model_id, epoch],
            )?;
        }
        Ok(())
    }

    pub fn list(&self, f: &ListFilter) -> Result<Vec<ModelRow>> {
        let mut sql = format!("{SELECT_MODELS} WHERE 1=1");
        let mut args: Vec<String> = Vec::new();
        for (col, v) in [
            ("m.mode", &f.mode),
            ("m.model_type", &f.model_type),
            ("m.status", &f.status),
        ] {
            if let Some(v) = v {
                args.push(v.clone());
                sql.push_str(&format!(" AND {col} = ?{}", args.len()));
            }
        }
        if !f.include_deleted {
            sql.push_str(" AND m.deleted_at IS NULL");
        }
        sql.push_str(" ORDER BY m.model_identifier, m.version");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), row_to_model)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn find(&self, prefix: &str) -> Result<Option<ModelRow>> {
        Ok(self
            .conn
            .query_row(
                &format!("{SELECT_MODELS} WHERE m.filename_prefix = ?1"),
                [prefix],
                row_to_model,
            )
            .optional()?)
    }

    /// A prefix, or an alias pointing at one.
    pub fn resolve(&self, name: &str) -> Result<String> {
        if let Some(p) = self
            .conn
            .query_row(
                "SELECT m.filename_prefix FROM aliases a JOIN models m ON m.id = a.model_id WHERE a.name = ?1",
                [name],
                |r| r.get::<_, String>(0),
            )
            .optional()?
        {
            return Ok(p);
        }
        Ok(name.to_string())
    }

    pub fn epochs(&self, model_id: i64) -> Result<Vec<EpochRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT epoch, train_loss, val_loss, lr, seconds FROM epochs WHERE model_id = ?1 ORDER BY epoch",
        )?;
        let rows = stmt.query_map([model_id], |r| {
            Ok(EpochRecord {
                epoch: r.get(0)?,
                train_loss: r.get(1)?,
                val_loss: r.get(2)?,
                lr: r.get(3)?,
                seconds: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// `(prefix, path, sha256)` of every checkpoint of a completed model. A
    /// run that stopped mid-way may have rewritten a checkpoint file without
    /// reaching its index row, so its checkpoints are not held to their rows.
    pub fn completed_checkpoints(&self) -> Result<Vec<(String, String, String)>> {
        let mut stmt = self.conn.prepare(
            "SELECT m.filename_prefix, c.path, c.sha256 FROM checkpoints c JOIN models m ON m.id = c.model_id
             WHERE m.status = 'completed' ORDER BY c.path",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn set_deleted(&self, prefix: &str, at: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE models SET deleted_at = ?2, updated_at = ?2 WHERE filename_prefix = ?1",
            params![prefix, at],
        )?;
        Ok(())
    }

    pub fn remove(&self, prefix: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM models WHERE filename_prefix = ?1", [prefix])?;
        Ok(())
    }

    /// Points `name` at `prefix`, recording the move in `alias_history`.
    pub fn alias_set(&mut self, name: &str, prefix: &str, by: &str) -> Result<Option<String>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let model_id: i64 = tx
            .query_row(
                "SELECT id FROM models WHERE filename_prefix = ?1 AND deleted_at IS NULL",
                [prefix],
                |r| r.get(0),
            )
            .optional()?
            .with_context(|| {
                format!("no model {prefix:?} in the index; see `shoptrain models list`")
            })?;
        let previous: Option<String> = tx
            .query_row(
                "SELECT m.filename_prefix FROM aliases a JOIN models m ON m.id = a.model_id WHERE a.name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()?;
        let at = now();
        tx.execute(
            "INSERT INTO aliases(name, model_id, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(name) DO UPDATE SET model_id = excluded.model_id, updated_at = excluded.updated_at",
            params![name, model_id, at],
        )?;
        tx.execute(
            "INSERT INTO alias_history(name, prefix, previous_prefix, action, at, by) VALUES (?1, ?2, ?3, 'set', ?4, ?5)",
            params![name, prefix, previous, at, by],
        )?;
        tx.commit()?;
        Ok(previous)
    }

    pub fn alias_rm(&mut self, name: &str, by: &str) -> Result<String> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let previous: String = tx
            .query_row(
                "SELECT m.filename_prefix FROM aliases a JOIN models m ON m.id = a.model_id WHERE a.name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()?
            .with_context(|| format!("no alias {name:?}; see `shoptrain models alias list`"))?;
        tx.execute("DELETE FROM aliases WHERE name = ?1", [name])?;
        tx.execute(
            "INSERT INTO alias_history(name, prefix, previous_prefix, action, at, by) VALUES (?1, NULL, ?2, 'rm', ?3, ?4)",
            params![name, previous, now(), by],
        )?;
        tx.commit()?;
        Ok(previous)
    }

    /// `(alias, prefix)` pairs, sorted by alias.
    pub fn aliases(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare(
            "SELECT a.name, m.filename_prefix FROM aliases a JOIN models m ON m.id = a.model_id ORDER BY a.name",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// `(alias, prefix, previous, action, at, by)`, oldest first.
    pub fn alias_history(&self) -> Result<Vec<serde_json::Value>> {
        let mut stmt = self.conn.prepare(
            "SELECT name, prefix, previous_prefix, action, at, by FROM alias_history ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(serde_json::json!({
                "alias": r.get::<_, String>(0)?, "prefix": r.get::<_, Option<String>>(1)?,
                "previous": r.get::<_, Option<String>>(2)?, "action": r.get::<_, String>(3)?,
                "at": r.get::<_, String>(4)?, "by": r.get::<_, String>(5)?,
            }))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn log_prediction(
        &self,
        model_id: i64,
        kind: &str,
        input_sha256: &str,
        horizon: usize,
        seconds: f64,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO predictions(model_id, at, input_sha256, horizon, output_path, seconds, kind) VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6)",
            params![model_id, now(), input_sha256, horizon as i64, seconds, kind],
        )?;
        Ok(())
    }

    pub fn prediction_count(&self, model_id: i64) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM predictions WHERE model_id = ?1",
            [model_id],
            |r| r.get(0),
        )?)
    }

    /// Rows still `training` on this host: `(prefix, pid)`.
    pub fn training_rows(&self, host: &str) -> Result<Vec<(String, Option<u32>)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT filename_prefix, pid FROM models WHERE status = 'training' AND (host = ?1 OR host IS NULL)")?;
        let rows = stmt.query_map([host], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records which process now trains a row (a resumed run), so that other
    /// commands do not take it for dead.
    pub fn set_owner(&self, prefix: &str, pid: u32, host: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE models SET pid = ?2, host = ?3, updated_at = ?4 WHERE filename_prefix = ?1",
            params![prefix, pid, host, now()],
        )?;
        Ok(())
    }

    pub fn set_status(&self, prefix: &str, status: Status, error: Option<&str>) -> Result<()> {
        self.conn.execute(
            "UPDATE models SET status = ?2, error_message = COALESCE(?3, error_message), updated_at = ?4 WHERE filename_prefix = ?1",
            params![prefix, status.as_str(), error, now()],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_database_is_migrated_in_place_keeping_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        {
            let mut conn = open_connection(&path).unwrap();
            migrate(&mut conn, &path, 1).unwrap();
            conn.execute(
                "INSERT INTO models(filename_prefix, model_identifier, version, mode, scope, model_type, status, created_at, updated_at)
                 VALUES ('product_P1_all_kan_v1', 'product_P1_all_kan', 1, 'product', 'P1_all', 'kan', 'completed', 't', 't')",
                [],
            )
            .unwrap();
        }
        let index = Index::open(dir.path()).unwrap();
        assert_eq!(index.schema_version().unwrap(), SCHEMA_VERSION);
        let row = index.find("product_P1_all_kan_v1").unwrap().unwrap();
        assert_eq!(row.status, "completed");
        // the new column exists and is usable
        assert!(index.training_rows("h").unwrap().is_empty());
    }

    #[test]
    fn newer_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", 99).unwrap();
        }
        let err = Index::open(dir.path()).err().unwrap().to_string();
        assert!(
            err.contains("schema version 99, newer than this shoptrain understands (2)"),
            "{err}"
        );
    }

    #[test]
    fn garbage_database_names_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(DB_FILE), vec![7u8; 4096]).unwrap();
        let err = Index::open(dir.path()).err().unwrap().to_string();
        assert!(err.contains("shoptrain index rebuild"), "{err}");
    }
}
