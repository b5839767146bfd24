//! How a long job reports as it goes without knowing how, or whether, it is
//! shown: the command layer hands training and batches a [`Progress`] (a
//! terminal bar, or nothing); the layers below never import the UI.

use std::fmt;
use std::sync::Arc;

/// What a job counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// A training run's epochs.
    Epochs,
    /// A batch's models.
    Models,
}

pub trait Progress: Send + Sync {
    /// A job named `name` of `total` steps, `done` of them already done.
    fn start(&self, counting: Counting, name: &str, total: u64, done: u64);
    /// The job reached step `done`; `note` says what (losses, a model).
    fn step(&self, done: u64, note: &str);
    fn finish(&self);
}

/// Reports nothing (`--quiet`, `--json`, and the runs inside a batch).
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: Counting, _: &str, _: u64, _: u64) {}
    fn step(&self, _: u64, _: &str) {}
    fn finish(&self) {}
}

/// A `Progress` to keep in options: cheap to clone, silent by default.
#[derive(Clone)]
pub struct ProgressSink(pub Arc<dyn Progress>);

impl ProgressSink {
    pub fn silent() -> ProgressSink {
        ProgressSink(Arc::new(Silent))
    }
}

impl Default for ProgressSink {
    fn default() -> Self {
        ProgressSink::silent()
    }
}

impl fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProgressSink")
    }
}

impl std::ops::Deref for ProgressSink {
    type Target = dyn Progress;
    fn deref(&self) -> &Self::Target {
        self.0.as_ref()
    }
}
