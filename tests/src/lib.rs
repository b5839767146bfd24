//! The one test harness of the workspace, in the spirit of ripgrep's
//! `tests/util.rs`: a fresh temporary folder per test, generated data, and
//! `shoptrain` either as the real binary (`Dir::cmd`, for what a user types,
//! kills and concurrency) or in-process (`shoptrain`, for cross-crate tests
//! that need no process of their own).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test harness: a failed step should stop the test"
)]

use clap::Parser;
use shoptrain_trainer::data::generate::{generate, GenOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `shoptrain ARGS...` in-process against `models_dir`; errors come
/// back as the text a user would see.
pub fn shoptrain(models_dir: &Path, args: &[&str]) -> Result<(), String> {
    let mut full = vec!["shoptrain", "--quiet", "--models-dir"];
    let dir = models_dir.to_string_lossy().into_owned();
    full.push(&dir);
    full.extend_from_slice(args);
    let cli = shoptrain_trainer::cli::Cli::try_parse_from(&full).map_err(|e| e.to_string())?;
    shoptrain_trainer::app::run(cli).map_err(|e| format!("{e:#}"))
}

/// Writes small generated data (2 stores x 3 products) into `dir/data.csv`.
pub fn small_data(dir: &Path, days: usize) -> PathBuf {
    generated_data(dir, 2, 3, days)
}

/// Writes the generator's data of the given size into `dir/data.csv`, the
/// same bytes as `shoptrain data gen` with its default seed and start.
pub fn generated_data(dir: &Path, stores: usize, products: usize, days: usize) -> PathBuf {
    let path = dir.join("data.csv");
    let opts = GenOptions {
        stores,
        products,
        days,
        ..GenOptions::default()
    };
    std::fs::write(&path, generate(&opts)).expect("write generated data");
    path
}

/// A test's own folder, with its models folder inside.
pub struct Dir {
    pub tmp: tempfile::TempDir,
    bin: PathBuf,
}

impl Dir {
    /// `bin` is the `shoptrain` executable under test
    /// (`env!("CARGO_BIN_EXE_shoptrain")` in the trainer's tests).
    pub fn new(bin: impl Into<PathBuf>) -> Dir {
        Dir {
            tmp: tempfile::tempdir().expect("temp dir"),
            bin: bin.into(),
        }
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    pub fn models(&self) -> PathBuf {
        self.path().join("models")
    }

    /// `shoptrain` with `--models-dir` set to this test's folder.
    pub fn cmd(&self) -> TestCommand {
        let mut cmd = Command::new(&self.bin);
        cmd.current_dir(self.path())
            .env("SHOPTRAIN_MODELS_DIR", self.models())
            .env_remove("RUST_LOG");
        TestCommand { cmd }
    }

    /// Small generated data: 2 stores x 3 products x `days` days.
    pub fn small_data(&self, days: usize) -> PathBuf {
        small_data(self.path(), days)
    }

    pub fn create(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, text).expect("write fixture");
        p
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// `--json train` of one quick model (product P001, 2 epochs, window 14).
    pub fn quick_train_cmd(&self, data: &Path, model: &str) -> TestCommand {
        let mut cmd = self.cmd();
        cmd.args(["--json", "train", "--data"]).arg(data).args([
            "--mode",
            "product",
            "--product",
            "P001",
            "--model",
            model,
            "--epochs",
            "2",
            "--window",
            "14",
        ]);
        cmd
    }

    /// Trains one quick model and returns its prefix.
    pub fn quick_train(&self, data: &Path, model: &str, extra: &[&str]) -> String {
        let out = self.quick_train_cmd(data, model).args(extra).ok();
        let v: serde_json::Value = serde_json::from_str(&out).expect("train --json prints JSON");
        v[0]["prefix"].as_str().expect("prefix").to_string()
    }
}

/// The numbers of column `name` of CSV text with a header line (e.g. the
/// `p50` column of `predict --format csv`).
pub fn csv_column(csv: &str, name: &str) -> Vec<f64> {
    let mut lines = csv.lines();
    let header = lines.next().unwrap_or_default();
    let col = header
        .split(',')
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"));
    lines
        .map(|l| {
            let cell = l.split(',').nth(col).unwrap_or_default();
            cell.parse()
                .unwrap_or_else(|_| panic!("{name}: {cell:?} is not a number"))
        })
        .collect()
}

/// A `shoptrain` process to run, with assertions on how it ends.
pub struct TestCommand {
    pub cmd: Command,
}

impl TestCommand {
    pub fn arg(&mut self, a: impl AsRef<std::ffi::OsStr>) -> &mut Self {
        self.cmd.arg(a);
        self
    }
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(
        &mut self,
        a: I,
    ) -> &mut Self {
        self.cmd.args(a);
        self
    }
    pub fn output(&mut self) -> Output {
        self.cmd.output().expect("run shoptrain")
    }
    /// Starts the command without waiting; its output is captured.
    pub fn spawn(&mut self) -> std::process::Child {
        self.cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start shoptrain")
    }
    /// Runs, expects success, returns stdout.
    pub fn ok(&mut self) -> String {
        let out = self.output();
        assert!(
            out.status.success(),
            "{:?} failed: {}\n{}",
            self.cmd,
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }
    /// Runs, expects failure, returns stderr.
    pub fn fails(&mut self) -> String {
        let out = self.output();
        assert!(
            !out.status.success(),
            "{:?} should have failed: {}",
            self.cmd,
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).expect("utf-8 stderr")
    }
}
