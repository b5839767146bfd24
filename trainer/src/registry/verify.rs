//! `index verify`: every disagreement between files and index, as a sentence.

use super::index::ListFilter;
use super::{Registry, VersionStore};
use anyhow::Result;
use shoptrain_shared::bundle::sha256_hex;
use shoptrain_shared::metadata::Status;
use shoptrain_shared::naming::Artifact;

impl Registry {
    /// Compares files with the index: every problem found, as a sentence.
    pub fn verify(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let rows = self.index.list(&ListFilter {
            include_deleted: true,
            ..Default::default()
        })?;
        for row in rows.iter().filter(|r| r.status == Status::Completed) {
            self.verify_model(&row.prefix, &mut problems);
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
                let prefix = v.prefix();
                if !rows.iter().any(|r| r.prefix == prefix) && !self.row_pending(&prefix)? {
                    problems.push(format!(
                        "{} has no row in the index (run `shoptrain index rebuild`)",
                        path.display()
                    ));
                }
            }
        }
        if let Err(e) = VersionStore::new(&self.dir).read() {
            problems.push(format!("{e:#}"));
        }
        Ok(problems)
    }

    /// Whether a metadata file missing from the rows read above belongs to
    /// a run being started: `begin_run` writes the metadata file, then the
    /// row, so a `verify` running beside a `train` can list the file in
    /// between. Its row may be there by now; if not, a file still
    /// `training` is such a run, and like a `training` row it is not held
    /// to the index.
    fn row_pending(&self, prefix: &str) -> Result<bool> {
        if self.index.find(prefix)?.is_some() {
            return Ok(true);
        }
        Ok(self
            .read_metadata(prefix)
            .is_ok_and(|m| m.status == Status::Training))
    }

    /// A completed model's metadata, weights (against their sha256) and loss curve.
    fn verify_model(&self, prefix: &str, problems: &mut Vec<String>) {
        let meta = match self.read_metadata(prefix) {
            Ok(m) => m,
            Err(e) => {
                problems.push(format!("{prefix}: {e:#}"));
                return;
            }
        };
        let weights = self.path(prefix, Artifact::Weights);
        match std::fs::read(&weights) {
            Err(_) => problems.push(format!(
                "{} is missing (index row {prefix})",
                weights.display()
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
        let curve = self.path(prefix, Artifact::LossCurve);
        // a curve that could not be drawn is recorded as a warning, not lost
        let name = Artifact::LossCurve.file_name(prefix);
        let excused = meta.warnings.iter().any(|w| w.contains(&name));
        if !curve.exists() && !excused {
            problems.push(format!(
                "{} is missing (index row {prefix})",
                curve.display()
            ));
        }
    }
}
