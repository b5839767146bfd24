//! The models directory as a whole: artifact files (the truth), the SQLite
//! index (a cache of them) and the version counter, kept in step.

use crate::atomic::write_atomic;
use crate::index::{Index, DB_FILE};
use crate::versions::VersionStore;
use anyhow::{bail, Context, Result};
use shoptrain_shared::forecast::sha256_hex;
use shoptrain_shared::metadata::{ModelMetadata, Status};
use shoptrain_shared::naming::{Artifact, VersionedName, CHECKPOINT_DIR};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Mirror of the aliases table, so `index rebuild` can restore them.
pub const ALIASES_FILE: &str = "aliases.json";

pub struct Registry {
    pub dir: PathBuf,
    pub index: Index,
}

pub fn host_name() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

pub fn user_name() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

fn process_alive(pid: u32) -> bool {
    // signal 0 checks existence without touching the process
    let rc = unsafe { libc::kill(pid as libc::pid_t, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

impl Registry {
    /// Opens the models directory and marks runs whose process died as
    /// `interrupted` (in the index and in their metadata file).
    pub fn open(dir: &Path) -> Result<Registry> {
        let index = Index::open(dir)?;
        let reg = Registry {
            dir: dir.to_path_buf(),
            index,
        };
        reg.mark_dead_runs()?;
        Ok(reg)
    }

    pub fn versions(&self) -> VersionStore {
        VersionStore::new(&self.dir)
    }

    pub fn path(&self, prefix: &str, artifact: Artifact) -> PathBuf {
        self.dir.join(artifact.file_name(prefix))
    }

    fn mark_dead_runs(&self) -> Result<()> {
        for (prefix, pid) in self.index.training_rows(&host_name())? {
            if pid.is_some_and(process_alive) {
                continue;
            }
            let why = "the training process ended without finishing (killed or crashed)";
            if let Ok(mut meta) = self.read_metadata(&prefix) {
                if meta.status == Status::Training {
                    meta.status = Status::Interrupted;
                    meta.error_message = Some(why.into());
                    self.write_metadata(&meta)?;
                }
            }
            self.index
                .set_status(&prefix, Status::Interrupted, Some(why))?;
        }
        Ok(())
    }

    pub fn read_metadata(&self, prefix: &str) -> Result<ModelMetadata> {
        let path = self.path(prefix, Artifact::Metadata);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "cannot read {}; is {prefix:?} a model here? (`shoptrain models list`)",
                path.display()
            )
        })?;
        ModelMetadata::from_json(&text).with_context(|| format!("in {}", path.display()))
    }

    pub fn write_metadata(&self, meta: &ModelMetadata) -> Result<()> {
        write_atomic(
            &self.path(&meta.prefix, Artifact::Metadata),
            meta.to_json().as_bytes(),
        )
    }

    /// Resolves an alias or prefix to a model the index knows (not deleted).
    pub fn resolve(&self, name: &str) -> Result<String> {
        let prefix = self.index.resolve(name)?;
        VersionedName::parse(&prefix).with_context(|| {
            format!(
                "{name:?} is neither an alias nor a model prefix like product_P001_all_mlstm_v1"
            )
        })?;
        match self.index.find(&prefix)? {
            Some(row) if row.deleted_at.is_none() => Ok(prefix),
            Some(_) => bail!("model {prefix} was deleted"),
            None => bail!(
                "no model {prefix:?} in {}; see `shoptrain models list`",
                self.dir.display()
            ),
        }
    }

    /// Every `*_metadata.json` in the directory, sorted by file name.
    pub fn metadata_files(&self) -> Result<Vec<PathBuf>> {
        let mut out: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .with_context(|| format!("cannot list {}", self.dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .and_then(Artifact::parse_file_name)
                    .is_some_and(|(_, kind)| kind == Artifact::Metadata)
            })
            .collect();
        out.sort();
        Ok(out)
    }

    /// Checkpoint files of a prefix: `(artifact, relative path)`.
    pub fn checkpoint_files(&self, prefix: &str) -> Vec<(Artifact, String)> {
        let mut out: Vec<(Artifact, String)> = std::fs::read_dir(self.dir.join(CHECKPOINT_DIR))
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let (v, kind) = Artifact::parse_file_name(&name)?;
                (v.prefix() == prefix).then(|| (kind, kind.file_name(prefix)))
            })
            .collect();
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out
    }

    pub fn save_aliases(&self) -> Result<()> {
        let map: BTreeMap<String, String> = self.index.aliases()?.into_iter().collect();
        let mut text = serde_json::to_string_pretty(&map)?;
        text.push('\n');
        write_atomic(&self.dir.join(ALIASES_FILE), text.as_bytes())
    }

    /// Recreates `models.db` and `versions.json` from the metadata files.
    /// The old database is replaced only once the new one is complete.
    pub fn rebuild(dir: &Path) -> Result<RebuildReport> {
        std::fs::create_dir_all(dir)?;
        let staging = tempfile::Builder::new()
            .prefix(".rebuild-")
            .tempdir_in(dir)
            .context("cannot create a staging folder for the rebuild")?;
        let index = Index::open(staging.path())?;
        let mut report = RebuildReport::default();
        let mut counters: BTreeMap<String, u32> = BTreeMap::new();
        let reader = Registry {
            dir: dir.to_path_buf(),
            index,
        };
        for path in reader.metadata_files()? {
            let text = std::fs::read_to_string(&path)?;
            let meta = match ModelMetadata::from_json(&text) {
                Ok(m) => m,
                Err(e) => {
                    report.skipped.push(format!("{}: {e}", path.display()));
                    continue;
                }
            };
            let dataset_id = reader.index.upsert_dataset(&meta, &[])?;
            let id = reader
                .index
                .insert_model(&meta, dataset_id, None, &host_name())?;
            for e in &meta.history {
                reader.index.add_epoch(id, e)?;
            }
            for (kind, rel) in reader.checkpoint_files(&meta.prefix) {
                let bytes = std::fs::read(dir.join(&rel))?;
                let (k, epoch) = match kind {
                    Artifact::BestCheckpoint => ("best", meta.training.best_epoch.unwrap_or(0)),
                    Artifact::EpochCheckpoint(n) => ("epoch", n),
                    _ => continue,
                };
                let val = meta
                    .history
                    .iter()
                    .find(|h| h.epoch == epoch)
                    .map(|h| h.val_loss);
                reader.index.add_checkpoint(
                    id,
                    epoch,
                    k,
                    &rel,
                    bytes.len() as u64,
                    &sha256_hex(&bytes),
                    val,
                )?;
            }
            let c = counters.entry(meta.model_identifier.clone()).or_insert(0);
            *c = (*c).max(meta.version);
            report.models += 1;
        }
        let mut reader = reader;
        if let Ok(text) = std::fs::read_to_string(dir.join(ALIASES_FILE)) {
            let aliases: BTreeMap<String, String> = serde_json::from_str(&text)
                .with_context(|| format!("{} is corrupt", dir.join(ALIASES_FILE).display()))?;
            for (name, prefix) in aliases {
                if reader
                    .index
                    .alias_set(&name, &prefix, "index rebuild")
                    .is_ok()
                {
                    report.aliases += 1;
                }
            }
        }
        drop(reader);
        for suffix in ["", "-wal", "-shm"] {
            let name = format!("{DB_FILE}{suffix}");
            let _ = std::fs::remove_file(dir.join(&name));
            if staging.path().join(&name).exists() {
                std::fs::rename(staging.path().join(&name), dir.join(&name))?;
            }
        }
        VersionStore::new(dir).replace_all(counters.clone())?;
        report.identifiers = counters.len();
        Ok(report)
    }

    /// Compares files with the index: every problem found, as a sentence.
    pub fn verify(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let rows = self.index.list(&crate::index::ListFilter {
            include_deleted: true,
            ..Default::default()
        })?;
        for row in &rows {
            if row.status == "training" || row.status == "interrupted" || row.status == "failed" {
                continue;
            }
            let meta = match self.read_metadata(&row.prefix) {
                Ok(m) => m,
                Err(e) => {
                    problems.push(format!("{}: {e:#}", row.prefix));
                    continue;
                }
            };
            let weights = self.path(&row.prefix, Artifact::Weights);
            match std::fs::read(&weights) {
                Err(_) => problems.push(format!(
                    "{} is missing (index row {})",
                    weights.display(),
                    row.prefix
                )),
                Ok(bytes) => {
                    let found = sha256_hex(&bytes);
                    if meta.weights_sha256.as_deref() != Some(found.as_str()) {
                        problems.push(format!(
                            "{} has sha256 {found}, the metadata records {}",
                            weights.display(),
                            meta.weights_sha256.as_deref().unwrap_or("none")
                        ));
                    }
                }
            }
            let curve = self.path(&row.prefix, Artifact::LossCurve);
            if !curve.exists() {
                problems.push(format!(
                    "{} is missing (index row {})",
                    curve.display(),
                    row.prefix
                ));
            }
        }
        for (prefix, rel, sha) in self.index.completed_checkpoints()? {
            match std::fs::read(self.dir.join(&rel)) {
                Err(_) => problems.push(format!(
                    "{} is missing (checkpoint of {prefix})",
                    self.dir.join(&rel).display()
                )),
                Ok(bytes) if sha256_hex(&bytes) != sha => problems.push(format!(
                    "{} does not match its recorded sha256 {sha}",
                    self.dir.join(&rel).display()
                )),
                Ok(_) => {}
            }
        }
        for path in self.metadata_files()? {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if let Some((v, _)) = Artifact::parse_file_name(name) {
                if !rows.iter().any(|r| r.prefix == v.prefix()) {
                    problems.push(format!(
                        "{} has no row in the index (run `shoptrain index rebuild`)",
                        path.display()
                    ));
                }
            }
        }
        if let Err(e) = self.versions().read() {
            problems.push(format!("{e:#}"));
        }
        Ok(problems)
    }
}

#[derive(Debug, Default, serde::Serialize)]
pub struct RebuildReport {
    pub models: usize,
    pub identifiers: usize,
    pub aliases: usize,
    pub skipped: Vec<String>,
}
