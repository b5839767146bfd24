//! `versions.json`: model identifier → latest reserved version
//! (ARCHITECTURE.md, Naming and versions).
//! Every change happens under an exclusive fs2 lock on `versions.json.lock`
//! and is written atomically, so concurrent trainers get distinct versions.

use crate::atomic::write_atomic;
use anyhow::{Context, Result};
use fs2::FileExt;
use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

pub const VERSIONS_FILE: &str = "versions.json";
pub const LOCK_FILE: &str = "versions.json.lock";

pub struct VersionStore {
    dir: PathBuf,
}

impl VersionStore {
    pub fn new(models_dir: &Path) -> VersionStore {
        VersionStore {
            dir: models_dir.to_path_buf(),
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.join(VERSIONS_FILE)
    }

    /// Runs `f` on the counters while holding the lock, saving what it returns.
    fn locked<T>(&self, f: impl FnOnce(&mut BTreeMap<String, u32>) -> Result<T>) -> Result<T> {
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create models folder {}", self.dir.display()))?;
        let lock_path = self.dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("cannot open lock file {}", lock_path.display()))?;
        lock.lock_exclusive()
            .with_context(|| format!("cannot lock {}", lock_path.display()))?;
        let mut counters = self.read()?;
        let before = counters.clone();
        let out = f(&mut counters)?;
        if counters != before {
            let mut text = serde_json::to_string_pretty(&counters)?;
            text.push('\n');
            write_atomic(&self.path(), text.as_bytes())?;
        }
        // the lock is released when `lock` is dropped (and on process exit)
        drop(lock);
        Ok(out)
    }

    /// The current counters; a missing file is empty, a corrupt one an error.
    pub fn read(&self) -> Result<BTreeMap<String, u32>> {
        let path = self.path();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{} is corrupt ({e}); it was not changed. Run `shoptrain index rebuild` to rebuild it from the metadata files",
                path.display()
            )
        })
    }

    /// Reserves the next version of `identifier` (1 if it has none).
    pub fn reserve(&self, identifier: &str) -> Result<u32> {
        self.locked(|c| {
            let next = c.get(identifier).copied().unwrap_or(0) + 1;
            c.insert(identifier.to_string(), next);
            Ok(next)
        })
    }

    /// Raises counters to at least the given versions (used by `index
    /// rebuild`). A counter is a high-water mark: it never goes down, so a
    /// version whose files were hard-deleted is never taken again.
    pub fn raise_to(&self, counters: BTreeMap<String, u32>) -> Result<()> {
        // A corrupt file is being replaced on purpose: do not read it first.
        let path = self.path();
        if path.exists() && self.read().is_err() {
            let mut text = serde_json::to_string_pretty(&counters)?;
            text.push('\n');
            return write_atomic(&path, text.as_bytes());
        }
        self.locked(|c| {
            for (id, v) in counters {
                let mark = c.entry(id).or_insert(0);
                *mark = (*mark).max(v);
            }
            Ok(())
        })
    }
}
