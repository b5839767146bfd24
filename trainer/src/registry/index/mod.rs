//! `models.db`, the SQLite index of the models directory (ARCHITECTURE.md,
//! The index). It is a cache of the metadata files: `index rebuild` can
//! always recreate it. Only `Registry` holds an `Index`.

mod aliases;
mod models;
mod runs;

pub use aliases::AliasEvent;
pub use models::{ListFilter, ModelRow};
pub use runs::{CheckpointKind, CheckpointRow};

use anyhow::{bail, Context, Result};
use rusqlite::{Connection, TransactionBehavior};
use std::path::Path;
use std::time::Duration;

pub const DB_FILE: &str = "models.db";

/// Ordered migrations; `PRAGMA user_version` counts how many have run.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_tables.sql"),
    include_str!("migrations/002_run_owner.sql"),
];

pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

pub struct Index {
    conn: Connection,
}

/// The timestamp format of every row and metadata file.
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

impl Index {
    /// Opens (creating and migrating as needed) `models.db` in `models_dir`.
    pub fn open(models_dir: &Path) -> Result<Index> {
        std::fs::create_dir_all(models_dir)
            .with_context(|| format!("cannot create models folder {}", models_dir.display()))?;
        let path = models_dir.join(DB_FILE);
        let mut conn = open_connection(&path)?;
        migrate(&mut conn, &path, SCHEMA_VERSION)?;
        Ok(Index { conn })
    }

    #[cfg(test)]
    pub fn schema_version(&self) -> Result<u32> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
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
        assert_eq!(row.status, shoptrain_shared::metadata::Status::Completed);
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
