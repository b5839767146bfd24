//! Cross-crate integration tests (train → files → index → export → runtime
//! parity) live in `tests/`; this library holds their shared harness.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test harness: a failed step should stop the test"
)]

use clap::Parser;
use std::path::{Path, PathBuf};

/// Runs `shoptrain ARGS...` in-process against `models_dir`.
pub fn shoptrain(models_dir: &Path, args: &[&str]) -> anyhow_free::Result {
    let mut full = vec!["shoptrain", "--quiet", "--models-dir"];
    let dir = models_dir.to_string_lossy().into_owned();
    full.push(&dir);
    full.extend_from_slice(args);
    let cli = shoptrain_trainer::cli::Cli::try_parse_from(&full).map_err(|e| e.to_string())?;
    shoptrain_trainer::commands::run(cli).map_err(|e| format!("{e:#}"))
}

/// Writes small generated data (2 stores x 3 products) into `dir` and returns its path.
pub fn small_data(dir: &Path, days: usize) -> PathBuf {
    generated_data(dir, 2, 3, days)
}

/// Writes `shoptrain data gen` output of the given size into `dir/data.csv`.
pub fn generated_data(dir: &Path, stores: usize, products: usize, days: usize) -> PathBuf {
    let path = dir.join("data.csv");
    let p = path.to_string_lossy().into_owned();
    let models = dir.join("models");
    let (s, pr, d) = (stores.to_string(), products.to_string(), days.to_string());
    shoptrain(
        &models,
        &[
            "data",
            "gen",
            "--stores",
            &s,
            "--products",
            &pr,
            "--days",
            &d,
            "--out",
            &p,
        ],
    )
    .expect("data gen");
    path
}

pub mod anyhow_free {
    /// Errors as their display text, which is what users see.
    pub type Result = std::result::Result<(), String>;
}
