//! A small harness in the spirit of ripgrep's tests/util.rs: every test gets
//! a fresh temporary directory, generated data and a `shoptrain` command
//! builder pointed at its own models directory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "integration test code"
)]
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Dir {
    pub tmp: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().expect("temp dir"),
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
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_shoptrain"));
        cmd.current_dir(self.path())
            .env("SHOPTRAIN_MODELS_DIR", self.models())
            .env_remove("RUST_LOG");
        TestCommand { cmd }
    }

    /// Small generated data: 2 stores x 3 products x `days` days.
    pub fn small_data(&self, days: usize) -> PathBuf {
        let path = self.path().join("data.csv");
        self.cmd()
            .args([
                "data",
                "gen",
                "--stores",
                "2",
                "--products",
                "3",
                "--days",
                &days.to_string(),
                "--out",
            ])
            .arg(&path)
            .ok();
        path
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
