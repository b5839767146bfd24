//! A batch's journal, `batches/<id>.json` in the models folder: every
//! (series, model type) task and how far it got. It is rewritten whole and
//! atomically at each change, so after a kill it tells `--resume-batch`
//! which models were finished, which run was cut short (its prefix is
//! written before training starts), and which never began.

use crate::atomic::write_atomic;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use shoptrain_shared::naming::{ModelType, Scope};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    Pending,
    /// Training began under `prefix`; a kill leaves this.
    Running,
    Done,
    Failed,
}

/// One model of the batch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Task {
    /// The series' scope token, e.g. `P001_all`.
    pub series: String,
    pub scope: Scope,
    pub store: String,
    pub product: String,
    pub model_type: ModelType,
    pub state: TaskState,
    pub prefix: Option<String>,
    pub error: Option<String>,
    /// Validation MASE of the finished model.
    pub mase: Option<f64>,
    /// Share of validation days inside the outermost interval.
    pub coverage: Option<f64>,
    pub seconds: Option<f64>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Journal {
    /// Hash of the settings: the same command finds its journal again.
    pub id: String,
    /// What the batch was started with, for people reading the file.
    pub command: String,
    pub tasks: Vec<Task>,
    #[serde(skip)]
    path: PathBuf,
}

impl Journal {
    pub fn path_for(models: &Path, id: &str) -> PathBuf {
        models.join("batches").join(format!("{id}.json"))
    }

    pub fn new(models: &Path, id: String, command: String, tasks: Vec<Task>) -> Journal {
        Journal {
            path: Journal::path_for(models, &id),
            id,
            command,
            tasks,
        }
    }

    /// The journal of batch `id`, if one was written.
    pub fn read(models: &Path, id: &str) -> Result<Option<Journal>> {
        let path = Journal::path_for(models, id);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let mut journal: Journal = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a batch journal; delete it to start the batch over",
                path.display()
            )
        })?;
        if journal.id != id {
            bail!(
                "{} holds batch {}, not {id}; delete it to start the batch over",
                path.display(),
                journal.id
            );
        }
        journal.path = path;
        Ok(Some(journal))
    }

    /// Holds batch `id` for this process until the returned file is
    /// dropped: two workers given the same shard would otherwise both train
    /// it and overwrite each other's journal.
    pub fn lock(models: &Path, id: &str) -> Result<std::fs::File> {
        let (file, path) = lock_file_in(&models.join("batches"), id)?;
        if fs2::FileExt::try_lock_exclusive(&file).is_err() {
            bail!(
                "batch {id} is being trained by another shoptrain process ({} is locked); wait for it, or give each worker its own --shard",
                path.display()
            );
        }
        Ok(file)
    }

    pub fn save(&self) -> Result<()> {
        write_atomic(&self.path, &serde_json::to_vec_pretty(self)?)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn unfinished(&self) -> usize {
        self.tasks
            .iter()
            .filter(|t| t.state != TaskState::Done)
            .count()
    }
}

/// `folder/<name>.lock`, created with its folder if missing, opened for
/// locking (not yet locked).
pub fn lock_file_in(folder: &Path, name: &str) -> Result<(std::fs::File, PathBuf)> {
    std::fs::create_dir_all(folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    let path = folder.join(format!("{name}.lock"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    Ok((file, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(state: TaskState) -> Task {
        Task {
            series: "P001_all".into(),
            scope: Scope::product("P001", None).unwrap(),
            store: "all".into(),
            product: "P001".into(),
            model_type: ModelType::Kan,
            state,
            prefix: None,
            error: None,
            mase: None,
            coverage: None,
            seconds: None,
        }
    }

    #[test]
    fn a_saved_journal_reads_back_under_its_id_only() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Journal::read(dir.path(), "abc").unwrap().is_none());
        let tasks = vec![task(TaskState::Done), task(TaskState::Running)];
        let journal = Journal::new(dir.path(), "abc".into(), "train".into(), tasks);
        journal.save().unwrap();
        let back = Journal::read(dir.path(), "abc").unwrap().unwrap();
        assert_eq!(back.unfinished(), 1);
        assert_eq!(back.tasks[1].state, TaskState::Running);
        let held = Journal::lock(dir.path(), "abc").unwrap();
        let err = Journal::lock(dir.path(), "abc").unwrap_err().to_string();
        assert!(err.contains("another shoptrain process"), "{err}");
        drop(held);
        Journal::lock(dir.path(), "abc").unwrap();
        std::fs::copy(journal.path(), Journal::path_for(dir.path(), "other")).unwrap();
        let err = Journal::read(dir.path(), "other").unwrap_err().to_string();
        assert!(err.contains("holds batch abc"), "{err}");
    }
}
