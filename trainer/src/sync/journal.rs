//! A sync's journal, `syncs/<id>.json` in the models folder: each model it
//! retrains, the run it began (written before training starts) and what
//! came of it. Rewritten whole and atomically at each change, so a `sync`
//! run again after a kill resumes the cut run from its checkpoint instead
//! of training the model twice. Locks: one per journal (one process runs a
//! sync with given settings) and one per model identifier (syncs with other
//! settings or shards never retrain the same model at once).

use crate::atomic::write_atomic;
use crate::batch::{lock_file_in, TaskState};
use crate::training::Succession;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Path, PathBuf};

/// The folder of sync journals and locks in the models folder.
pub const SYNC_DIR: &str = "syncs";

/// One model a sync retrains.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncTask {
    pub identifier: String,
    /// The version in use that the new one follows.
    pub parent: String,
    pub action: Succession,
    pub why: String,
    pub state: TaskState,
    /// The run under way (a kill leaves it here).
    pub running: Option<String>,
    /// Runs finished: the action's, then a full retrain when the fine-tune
    /// validated worse than its parent.
    pub trained: Vec<Trained>,
    /// The version in use after the task (the better of the runs).
    pub kept: Option<String>,
    pub alias_moves: Vec<AliasMove>,
    pub note: Option<String>,
    pub error: Option<String>,
    pub seconds: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Trained {
    pub prefix: String,
    pub how: Succession,
    /// Validation MASE.
    pub mase: Option<f64>,
}

/// An alias that pointed at a version of the task's identifier, and whether
/// it moved to the new version (only when that beat the old on the newest
/// weeks).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AliasMove {
    pub name: String,
    pub from: String,
    pub to: String,
    pub old_mase: f64,
    pub new_mase: f64,
    pub moved: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SyncJournal {
    pub id: String,
    pub data: String,
    pub tasks: Vec<SyncTask>,
    #[serde(skip)]
    path: PathBuf,
}

impl SyncJournal {
    pub fn path_for(models: &Path, id: &str) -> PathBuf {
        models.join(SYNC_DIR).join(format!("{id}.json"))
    }

    /// The journal of sync `id`, or a new empty one.
    pub fn read_or_new(models: &Path, id: &str, data: &str) -> Result<SyncJournal> {
        let path = SyncJournal::path_for(models, id);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(SyncJournal {
                    id: id.to_string(),
                    data: data.to_string(),
                    tasks: Vec::new(),
                    path,
                })
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let mut journal: SyncJournal = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a sync journal; delete it to start this sync over",
                path.display()
            )
        })?;
        journal.path = path;
        Ok(journal)
    }

    pub fn save(&self) -> Result<()> {
        write_atomic(&self.path, &serde_json::to_vec_pretty(self)?)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn lock_file(models: &Path, name: &str) -> Result<(File, PathBuf)> {
    lock_file_in(&models.join(SYNC_DIR), name)
}

/// An exclusive lock on `syncs/<name>.lock`, or `None` when another
/// process holds it.
pub fn try_lock(models: &Path, name: &str) -> Result<Option<File>> {
    let (file, _) = lock_file(models, name)?;
    Ok(fs2::FileExt::try_lock_exclusive(&file)
        .is_ok()
        .then_some(file))
}

/// Model `identifier`'s lock, waiting while another sync retrains it (it
/// then finds the model up to date instead of training it again).
pub fn lock_model(models: &Path, identifier: &str) -> Result<File> {
    let (file, path) = lock_file(models, identifier)?;
    fs2::FileExt::lock_exclusive(&file)
        .with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(file)
}

/// Holds sync `id` for this process while the file lives.
pub fn lock_journal(models: &Path, id: &str) -> Result<File> {
    match try_lock(models, id)? {
        Some(file) => Ok(file),
        None => bail!(
            "a sync with these settings is already running on {} ({}/{id}.lock is held); wait for it to finish, or give each worker its own --shard",
            models.display(),
            SYNC_DIR
        ),
    }
}
