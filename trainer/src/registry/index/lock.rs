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
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| {
                format!(
                    "cannot create the lock file {} that guards opening models.db; check that you can write to {}",
                    path.display(),
                    models_dir.display()
                )
            })?;
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
