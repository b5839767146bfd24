//! `models.db`, the SQLite index of the models directory (ARCHITECTURE.md,
//! The index). It is a cache of the metadata files: `index rebuild` can
//! always recreate it. Only `Registry` holds an `Index`.

mod aliases;
mod error;
mod forecasts;
mod lock;
mod models;
mod runs;

pub use aliases::AliasEvent;
pub use forecasts::RecordedForecast;
pub use lock::{OpenLock, UsersLock, DB_LOCK_FILE};
pub use models::{ListFilter, ModelRow};
pub use runs::{CheckpointKind, CheckpointRow};

use anyhow::{bail, Context, Result};
use error::db_error;
use rusqlite::ffi::ErrorCode;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const DB_FILE: &str = "models.db";

/// How long a process waits for another one's lock on the index (SQLite's
/// busy timeout) or on opening it (`models.db.lock`).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// Ordered migrations; `PRAGMA user_version` counts how many have run.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_tables.sql"),
    include_str!("migrations/002_run_owner.sql"),
    include_str!("migrations/003_forecasts.sql"),
];

pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

pub struct Index {
    conn: Connection,
    /// The database file, for error messages.
    path: PathBuf,
    /// This process's share of the models folder (see `UsersLock`).
    _users: UsersLock,
}

/// The timestamp format of every row and metadata file.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Opens, checks and switches the database to WAL. The caller holds the
/// `OpenLock`, so shoptrain processes do this one at a time (lock.rs says
/// why); `switch_to_wal` waits out any other writer.
fn open_connection(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path).map_err(|e| db_error(path, "open the model index", &e))?;
    // first, so that every later step waits for other processes' locks
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| db_error(path, "set the busy timeout", &e))?;
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(|e| match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                db_error(path, "check the index (PRAGMA quick_check)", &e)
            }
            _ => anyhow::anyhow!(
                "{} is not a readable SQLite database ({e}); run `shoptrain index rebuild` to recreate it from the metadata files",
                path.display()
            ),
        })?;
    if check != "ok" {
        bail!(
            "{} is damaged ({check}); run `shoptrain index rebuild` to recreate it from the metadata files",
            path.display()
        );
    }
    switch_to_wal(&conn, path)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(|e| db_error(path, "turn on foreign keys", &e))?;
    Ok(conn)
}

/// `PRAGMA journal_mode=WAL`, retried while the database is busy. On a
/// new or rollback-journal file the switch reads page 1 and then upgrades
/// to a write, and SQLite fails such an upgrade at once, without its busy
/// handler, while another connection holds a write lock (a process not
/// taking `models.db.lock`: an older shoptrain, the sqlite3 shell). This
/// loop is the busy handler it lacks. On a file already in WAL mode the
/// pragma changes nothing and takes no lock.
fn switch_to_wal(conn: &Connection, path: &Path) -> Result<()> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Ok(()) => return Ok(()),
            Err(e)
                if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
                    && start.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(e) => return Err(db_error(path, "switch the index to WAL mode", &e)),
        }
    }
}

fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

fn refuse_newer(path: &Path, current: u32) -> Result<()> {
    if current > SCHEMA_VERSION {
        bail!(
            "{} has schema version {current}, newer than this shoptrain understands ({SCHEMA_VERSION}); upgrade shoptrain, or point --models-dir elsewhere",
            path.display()
        );
    }
    Ok(())
}

/// Runs migrations up to `target` (tests use it to make old databases), in
/// one immediate transaction: the write lock is taken before the version
/// is read, so two migrating processes cannot both apply a migration.
pub fn migrate(conn: &mut Connection, path: &Path, target: u32) -> Result<()> {
    let current = user_version(conn).map_err(|e| db_error(path, "read the schema version", &e))?;
    refuse_newer(path, current)?;
    if current >= target {
        return Ok(());
    }
    let doing = format!("migrate the index from schema version {current} to {target}");
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| db_error(path, &doing, &e))?;
    // read again under the write lock: another process may have migrated
    let current = user_version(&tx).map_err(|e| db_error(path, &doing, &e))?;
    refuse_newer(path, current)?;
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .take(target as usize)
        .skip(current as usize)
    {
        let step = format!("run migration {} of the index", i + 1);
        tx.execute_batch(sql)
            .and_then(|()| tx.pragma_update(None, "user_version", (i + 1) as u32))
            .map_err(|e| db_error(path, &step, &e))?;
    }
    tx.commit().map_err(|e| db_error(path, &doing, &e))?;
    Ok(())
}

impl Index {
    /// Opens (creating and migrating as needed) `models.db` in `models_dir`.
    /// Safe for any number of processes at once: the opening sequence runs
    /// under `models.db.lock`, one process at a time.
    pub fn open(models_dir: &Path) -> Result<Index> {
        std::fs::create_dir_all(models_dir)
            .with_context(|| format!("cannot create models folder {}", models_dir.display()))?;
        let path = models_dir.join(DB_FILE);
        // the users' lock first, then the opening lock: the rebuild takes
        // them in the same order
        let users = UsersLock::shared(models_dir)?;
        let lock = OpenLock::acquire(models_dir)?;
        let mut conn = open_connection(&path)?;
        migrate(&mut conn, &path, SCHEMA_VERSION)?;
        drop(lock);
        Ok(Index {
            conn,
            path,
            _users: users,
        })
    }

    /// Runs reads; a SQLite error becomes a sentence about `doing`.
    fn read<T>(
        &self,
        doing: impl FnOnce() -> String,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T> {
        f(&self.conn).map_err(|e| db_error(&self.path, &doing(), &e))
    }

    /// Runs writes in one immediate transaction. It takes the write lock
    /// before reading anything, so it waits in SQLite's busy handler for
    /// other writers instead of failing at a read-to-write upgrade, and its
    /// statements land together or not at all.
    fn write<T>(
        &self,
        doing: impl FnOnce() -> String,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let run = || {
            let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        };
        run().map_err(|e| db_error(&self.path, &doing(), &e))
    }

    /// A model row's prefix, for messages ("model row N" if unreadable).
    fn row_name(&self, id: i64) -> String {
        self.conn
            .query_row(
                "SELECT filename_prefix FROM models WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap_or_else(|_| format!("model row {id}"))
    }

    #[cfg(test)]
    pub fn schema_version(&self) -> Result<u32> {
        Ok(user_version(&self.conn)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shoptrain_shared::metadata::Status;

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
            err.contains("schema version 99, newer than this shoptrain understands (3)"),
            "{err}"
        );
    }

    #[test]
    fn a_write_waits_for_another_processes_writer() {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(dir.path()).unwrap();
        let other = Connection::open(dir.path().join(DB_FILE)).unwrap();
        other
            .execute_batch("BEGIN IMMEDIATE; INSERT INTO alias_history(name, action, at, by) VALUES ('a', 'rm', 't', 'u')")
            .unwrap();
        let holder = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            other.execute_batch("COMMIT").unwrap();
        });
        let start = std::time::Instant::now();
        index
            .set_status("product_P1_all_kan_v1", Status::Failed, None)
            .unwrap();
        assert!(start.elapsed() >= Duration::from_millis(250));
        holder.join().unwrap();
    }

    #[test]
    fn opening_waits_for_the_open_lock() {
        let dir = tempfile::tempdir().unwrap();
        let lock = OpenLock::acquire(dir.path()).unwrap();
        let path = dir.path().to_path_buf();
        let opener = std::thread::spawn(move || Index::open(&path).map(|_| ()));
        std::thread::sleep(Duration::from_millis(300));
        assert!(!opener.is_finished(), "Index::open must wait for the lock");
        assert!(!dir.path().join(DB_FILE).exists());
        drop(lock);
        opener.join().unwrap().unwrap();
        assert!(dir.path().join(DB_FILE).exists());
    }

    #[test]
    fn garbage_database_names_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(DB_FILE), vec![7u8; 4096]).unwrap();
        let err = Index::open(dir.path()).err().unwrap().to_string();
        assert!(err.contains("shoptrain index rebuild"), "{err}");
    }
}
