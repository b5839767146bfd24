//! `shoptrain sync`: retrain the models in use whose data changed.

use crate::output::{print_json, print_sync};
use crate::store::{SalesStore, STORE_FILE};
use crate::sync::{dry_run, run as sync_run, SyncOptions};
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// A checked `sync` command; `only` is filled in from `monitor` when
/// `--when-drifting`.
pub struct SyncRequest {
    pub store: Option<PathBuf>,
    pub dry_run: bool,
    pub when_drifting: Option<usize>,
    pub opts: SyncOptions,
}

pub fn run(dir: &Path, req: SyncRequest, json: bool) -> Result<()> {
    let store = req.store.clone().unwrap_or_else(|| dir.join(STORE_FILE));
    if !store.is_file() {
        bail!(
            "no sales store at {}; `shoptrain data import FILE` creates it, or pass --store PATH",
            store.display()
        );
    }
    let data = SalesStore::open(&store)?.load(None, None)?;
    let mut opts = req.opts;
    if let Some(weeks) = req.when_drifting {
        let reg = crate::registry::Registry::open(dir)?;
        opts.rules.only = Some(crate::monitor::drifting(&reg, &data, weeks)?);
    }
    let report = if req.dry_run {
        dry_run(dir, &data, &opts)?
    } else {
        sync_run(dir, &data, &opts)?
    };
    if json {
        print_json(&report)?;
    } else {
        print_sync(&report, req.dry_run);
    }
    let failed: Vec<&str> = report
        .tasks
        .iter()
        .filter(|t| t.state != crate::batch::TaskState::Done)
        .map(|t| t.identifier.as_str())
        .collect();
    if !failed.is_empty() {
        bail!(
            "{} of {} models were not retrained ({}; errors above and in {}); fix the cause and run sync again: it resumes",
            failed.len(),
            report.tasks.len(),
            failed.join(", "),
            report
                .journal
                .as_ref()
                .map_or(String::new(), |p| p.display().to_string())
        );
    }
    Ok(())
}
