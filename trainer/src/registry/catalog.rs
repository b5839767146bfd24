//! Changes a user makes to the catalogue: deleting models and moving
//! aliases (mirrored to `aliases.json` so `index rebuild` restores them).

use super::index::AliasEvent;
use super::owner::user_name;
use super::{now, Registry, ALIASES_FILE};
use crate::atomic::write_atomic;
use anyhow::{bail, Result};
use shoptrain_shared::naming::{check_alias, Artifact, VersionedName};
use std::collections::BTreeMap;

/// What a delete did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteReport {
    /// Hidden from listings; files kept.
    Soft,
    /// Files and row removed; the number of files that were tried.
    Hard { files: usize },
}

impl Registry {
    fn save_aliases(&self) -> Result<()> {
        let map: BTreeMap<String, String> = self.index.aliases()?.into_iter().collect();
        let mut text = serde_json::to_string_pretty(&map)?;
        text.push('\n');
        write_atomic(&self.dir.join(ALIASES_FILE), text.as_bytes())
    }

    /// Soft delete hides a model; hard delete removes its files (metadata
    /// last: until it is gone, `index rebuild` still knows the model) and row.
    pub fn delete(&self, prefix: &str, hard: bool) -> Result<DeleteReport> {
        VersionedName::parse(prefix)?;
        if self.index.find(prefix)?.is_none() {
            bail!(
                "no model {prefix:?} in {}; see `shoptrain models list`",
                self.dir.display()
            );
        }
        if !hard {
            let at = now();
            if let Ok(mut meta) = self.read_metadata(prefix) {
                meta.deleted_at = Some(at.clone());
                self.write_metadata(&meta)?;
            }
            self.index.set_deleted(prefix, &at)?;
            return Ok(DeleteReport::Soft);
        }
        let mut files = vec![
            Artifact::Weights.file_name(prefix),
            Artifact::LossCurve.file_name(prefix),
        ];
        files.extend(
            self.checkpoint_files(prefix)
                .into_iter()
                .map(|(_, rel)| rel),
        );
        files.push(Artifact::Metadata.file_name(prefix));
        for rel in &files {
            self.remove_file(rel)?;
        }
        self.index.remove(prefix)?;
        self.save_aliases()?;
        Ok(DeleteReport::Hard { files: files.len() })
    }

    /// Points alias `name` at `prefix`; returns where it pointed before.
    pub fn alias_set(&mut self, name: &str, prefix: &str) -> Result<Option<String>> {
        self.alias_set_by(name, prefix, &user_name())
    }

    /// [`Registry::alias_set`], recording `by` (a person, or `sync (user)`)
    /// in the alias history.
    pub fn alias_set_by(&mut self, name: &str, prefix: &str, by: &str) -> Result<Option<String>> {
        check_alias(name)?;
        let previous = self.index.alias_set(name, prefix, by)?;
        self.save_aliases()?;
        Ok(previous)
    }

    /// Removes alias `name`; returns where it pointed.
    pub fn alias_rm(&mut self, name: &str) -> Result<String> {
        let previous = self.index.alias_rm(name, &user_name())?;
        self.save_aliases()?;
        Ok(previous)
    }

    /// `(alias, prefix)` pairs, sorted by alias.
    pub fn aliases(&self) -> Result<Vec<(String, String)>> {
        self.index.aliases()
    }

    pub fn alias_history(&self) -> Result<Vec<AliasEvent>> {
        self.index.alias_history()
    }
}
