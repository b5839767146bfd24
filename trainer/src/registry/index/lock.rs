//! `models.db.lock`: an exclusive fs2 lock a process holds only while it
//! opens `models.db` (creating it, checking it, switching it to WAL and
//! migrating it) and while `index rebuild` swaps a new database in
//! (ARCHITECTURE.md, The index).
//!
//! SQLite's busy timeout does not cover this step: switching a new or
//! rollback-journal database to WAL reads page 1 and then upgrades that read
//! to a write, and an upgrade that meets another connection's lock fails at
//! once with SQLITE_BUSY instead of waiting. Eight processes starting on a
//! new models folder lost that race now and then ("database is locked").
//! Under this lock one process at a time does the whole opening sequence;
//! once it is done the database is in WAL mode and migrated, and
//! every later step (reads, immediate write transactions) waits in SQLite's
//! busy handler instead.

use super::BUSY_TIMEOUT;
use anyhow::{bail, Context, Result};
use fs2::FileExt;
use std::fs::{File, OpenOptions};
use std::path::Path;
use std::time::{Duration, Instant};

pub const DB_LOCK_FILE: &str = "models.db.lock";

/// Held until dropped (and released by the OS if the process dies).
pub struct OpenLock {
    _file: File,
}

impl OpenLock {
    /// Waits (up to the busy timeout) for the lock of `models_dir`.
    pub fn acquire(models_dir: &Path) -> Result<OpenLock> {
        let path = models_dir.join(DB_LOCK_FILE);
        let file = lock_file(models_dir, DB_LOCK_FILE, "guards opening models.db")?;
        let start = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            match file.try_lock_exclusive() {
                Ok(()) => return Ok(OpenLock { _file: file }),
                Err(e) if e.kind() != fs2::lock_contended_error().kind() => {
                    return Err(e).with_context(|| format!("cannot lock {}", path.display()))
                }
                Err(_) if start.elapsed() >= BUSY_TIMEOUT => bail!(
                    "{}: another shoptrain process has been opening or migrating models.db in {} for {} s; retry, or check for a stuck shoptrain process",
                    path.display(),
                    models_dir.display(),
                    BUSY_TIMEOUT.as_secs()
                ),
                Err(_) => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
            }
        }
    }
}

/// `models.db.users`: every process that has the index open holds a shared
/// lock on it for as long as it does; `index rebuild` takes it exclusively,
/// so it never swaps the database from under a writer (whose later writes
/// would go to the replaced file and be lost), and processes that start
/// while it rebuilds wait for it.
pub const USERS_LOCK_FILE: &str = "models.db.users";

/// Held until dropped (and released by the OS if the process dies).
pub struct UsersLock {
    _file: File,
}

impl UsersLock {
    fn file(models_dir: &Path) -> Result<File> {
        lock_file(
            models_dir,
            USERS_LOCK_FILE,
            "counts the processes using models.db",
        )
    }

    /// A user's share: waits (up to the busy timeout) while a rebuild runs.
    pub fn shared(models_dir: &Path) -> Result<UsersLock> {
        let file = Self::file(models_dir)?;
        wait_for(&file, FileExt::try_lock_shared, BUSY_TIMEOUT).map_err(|()| {
            anyhow::anyhow!(
                "`shoptrain index rebuild` has held {} for {} s; retry when it is done",
                models_dir.display(),
                BUSY_TIMEOUT.as_secs()
            )
        })?;
        Ok(UsersLock { _file: file })
    }

    /// The rebuild's: waits up to `wait` for every other user to close the
    /// index, else says who is in the way and what to do.
    pub fn exclusive(models_dir: &Path, wait: Duration) -> Result<UsersLock> {
        let file = Self::file(models_dir)?;
        wait_for(&file, FileExt::try_lock_exclusive, wait).map_err(|()| {
            anyhow::anyhow!(
                "other shoptrain processes (a training run, `train --each`, `serve`, ...) have the index in {} open; \
                 a rebuild now would swap the database from under them and lose what they write. \
                 Waited {} s; let them finish or stop them, then run `shoptrain index rebuild` again",
                models_dir.display(),
                wait.as_secs()
            )
        })?;
        Ok(UsersLock { _file: file })
    }
}

/// Opens (creating) a lock file of the models folder; `what` says what it
/// guards, for the error.
fn lock_file(models_dir: &Path, name: &str, what: &str) -> Result<File> {
    let path = models_dir.join(name);
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| {
            format!(
                "cannot create the lock file {} that {what}; check that you can write to {}",
                path.display(),
                models_dir.display()
            )
        })
}

/// Tries `lock` with growing pauses until it holds or `limit` passes.
fn wait_for(
    file: &File,
    lock: fn(&File) -> std::io::Result<()>,
    limit: Duration,
) -> std::result::Result<(), ()> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match lock(file) {
            Ok(()) => return Ok(()),
            Err(_) if start.elapsed() >= limit => return Err(()),
            Err(_) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
        }
    }
}
