//! Several `shoptrain` processes on one models directory at once.
//!
//! - Eight trainers on one identifier: eight distinct versions, eight
//!   complete artifact sets, eight `completed` rows, and no "database is
//!   locked".
//! - First use: eight processes (`models list`, `index verify`
//!   and a few quick `train`s) start together on a models folder that does
//!   not exist yet, or on a `models.db` of schema version 1 that they must
//!   migrate; 150 trials each, and not one process may fail. The race they
//!   lost was rare (about one trial in 50), hence the many trials.
//! - The same migration while another program holds a write lock on the
//!   old database, which failed every time before the fix.

use shoptrain_tests::Dir;
use shoptrain_trainer::registry::SCHEMA_VERSION;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};

#[test]
fn eight_trainers_on_one_identifier_all_complete() {
    let dir = crate::dir();
    let data = dir.small_data(90);
    let children: Vec<_> = (0..8)
        .map(|_| dir.quick_train_cmd(&data, "kan").spawn())
        .collect();
    let mut versions = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "a trainer failed: {stderr}");
        assert!(!stderr.contains("locked"), "{stderr}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let prefix = report[0]["prefix"].as_str().unwrap().to_string();
        versions.push(prefix.rsplit_once("_v").unwrap().1.parse::<u32>().unwrap());
        for file in [
            format!("{prefix}_model.safetensors"),
            format!("{prefix}_metadata.json"),
            format!("{prefix}_loss_curve.png"),
            format!("checkpoints/{prefix}_checkpoint_best.safetensors"),
            format!("checkpoints/{prefix}_checkpoint_epoch_2.safetensors"),
        ] {
            assert!(dir.models().join(&file).is_file(), "missing {file}");
        }
    }
    versions.sort();
    assert_eq!(versions, (1..=8).collect::<Vec<u32>>());
    assert_eq!(
        dir.read("models/versions.json"),
        "{\n  \"product_P001_all_kan\": 8\n}\n"
    );
    let rows: serde_json::Value = serde_json::from_str(
        &dir.cmd()
            .args(["--json", "models", "list", "--status", "completed"])
            .ok(),
    )
    .unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 8);
    dir.cmd().args(["index", "verify"]).ok();
}

/// Trials per test; a third of them (50) train as well.
const TRIALS: usize = 150;
const PROCESSES: usize = 8;

/// What process `i` of trial `t` runs: mostly the fast `models list` and
/// `index verify`; in every third trial one quick `train` (two in every
/// fifteenth).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Job {
    List,
    Verify,
    Train,
}

fn job(trial: usize, i: usize) -> Job {
    let trains = match trial {
        t if t.is_multiple_of(15) => 2,
        t if t.is_multiple_of(3) => 1,
        _ => 0,
    };
    if (0..trains).any(|k| i == (trial / 3 + 4 * k) % PROCESSES) {
        Job::Train
    } else if (i + trial).is_multiple_of(2) {
        Job::List
    } else {
        Job::Verify
    }
}

/// Starts `shoptrain` for a job, held at a start line: a shell waits for
/// its stdin to close, then becomes `shoptrain`. Closing every stdin in a
/// row releases the eight processes together, which is what a user's
/// `for i in …; do shoptrain … & done` does, only tighter.
fn start(dir: &Dir, data: &Path, job: Job) -> Child {
    let mut cmd = dir.cmd();
    cmd.arg("--quiet");
    match job {
        Job::List => cmd.args(["models", "list"]),
        Job::Verify => cmd.args(["index", "verify"]),
        Job::Train => cmd.args(["--json", "train", "--data"]).arg(data).args([
            "--mode",
            "product",
            "--product",
            "P001",
            "--model",
            "kan",
            "--epochs",
            "1",
            "--window",
            "14",
        ]),
    };
    let inner = &cmd.cmd;
    let mut gated = Command::new("sh");
    gated
        .args(["-c", r#"read _ignored; exec "$0" "$@""#])
        .arg(inner.get_program())
        .args(inner.get_args());
    for (key, value) in inner.get_envs() {
        match value {
            Some(v) => gated.env(key, v),
            None => gated.env_remove(key),
        };
    }
    if let Some(cwd) = inner.get_current_dir() {
        gated.current_dir(cwd);
    }
    gated
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sh")
}

/// One trial: eight jobs released at once; returns how many trained and a
/// line for each process that failed (or mentioned a lock).
fn race(dir: &Dir, data: &Path, trial: usize) -> (usize, Vec<String>) {
    race_while(dir, data, trial, || {})
}

/// `race`, running `meanwhile` once the processes are released.
fn race_while(
    dir: &Dir,
    data: &Path,
    trial: usize,
    meanwhile: impl FnOnce(),
) -> (usize, Vec<String>) {
    let jobs: Vec<Job> = (0..PROCESSES).map(|i| job(trial, i)).collect();
    let mut children: Vec<Child> = jobs.iter().map(|&j| start(dir, data, j)).collect();
    for child in &mut children {
        // a newline, then EOF: the shell's `read` returns and it execs
        let mut stdin = child.stdin.take().unwrap();
        let _ = stdin.write_all(b"\n");
    }
    meanwhile();
    let mut failures = Vec::new();
    for (child, job) in children.into_iter().zip(&jobs) {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() || stderr.contains("locked") {
            let stdout = String::from_utf8_lossy(&out.stdout);
            failures.push(format!(
                "trial {trial}, {job:?}: {} {}",
                stderr.trim(),
                stdout.trim()
            ));
        }
    }
    let trains = jobs.iter().filter(|&&j| j == Job::Train).count();
    (trains, failures)
}

/// The `completed` rows `models list` shows.
fn completed(dir: &Dir) -> usize {
    let out = dir
        .cmd()
        .args(["--json", "models", "list", "--status", "completed"])
        .ok();
    serde_json::from_str::<serde_json::Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .len()
}

/// Fails with every failure of every trial, so a run shows how often the
/// race is lost, not just the first time.
fn assert_no_failures(what: &str, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{what}: {} of {} processes failed:\n{}",
        failures.len(),
        TRIALS * PROCESSES,
        failures.join("\n")
    );
}

#[test]
fn first_use_by_eight_processes_at_once_never_fails() {
    let data_dir = crate::dir();
    let data = data_dir.small_data(90);
    let mut failures = Vec::new();
    for trial in 0..TRIALS {
        let dir = crate::dir();
        assert!(!dir.models().exists());
        let (trains, failed) = race(&dir, &data, trial);
        let clean = failed.is_empty();
        failures.extend(failed);
        if clean {
            assert_eq!(completed(&dir), trains, "trial {trial}");
        }
    }
    assert_no_failures("first use of a new models folder", &failures);
}

/// A `models.db` of schema version 1 (its first migration) holding one
/// failed run: in WAL mode, as an older shoptrain leaves it, on every
/// fourth trial, and in SQLite's default rollback mode (a copy made by
/// another tool) on the others, where the switch to WAL is the racy step.
fn old_index(dir: &Dir, wal: bool) {
    std::fs::create_dir_all(dir.models()).unwrap();
    let conn = rusqlite::Connection::open(dir.models().join("models.db")).unwrap();
    if wal {
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
    conn.execute_batch(include_str!(
        "../src/registry/index/migrations/001_tables.sql"
    ))
    .unwrap();
    conn.execute(
        "INSERT INTO models(filename_prefix, model_identifier, version, mode, scope, model_type, status, created_at, updated_at)
         VALUES ('product_P009_all_kan_v1', 'product_P009_all_kan', 1, 'product', 'P009_all', 'kan', 'failed', 't', 't')",
        [],
    )
    .unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();
}

#[test]
fn eight_processes_migrate_an_old_index_at_once() {
    let data_dir = crate::dir();
    let data = data_dir.small_data(90);
    let mut failures = Vec::new();
    for trial in 0..TRIALS {
        let dir = crate::dir();
        old_index(&dir, trial.is_multiple_of(4));
        let (trains, failed) = race(&dir, &data, trial);
        let clean = failed.is_empty();
        failures.extend(failed);
        if !clean {
            continue;
        }
        let conn = rusqlite::Connection::open(dir.models().join("models.db")).unwrap();
        let version: u32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION, "trial {trial}");
        let old: String = conn
            .query_row("SELECT status FROM models WHERE version = 1 AND model_identifier = 'product_P009_all_kan'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(old, "failed", "trial {trial}: the old row must survive");
        assert_eq!(completed(&dir), trains, "trial {trial}");
    }
    assert_no_failures("migration of a schema-1 index", &failures);
}

/// An old index in rollback-journal mode that another program (the sqlite3
/// shell, say) is writing to while eight processes start. Switching to WAL needs a write lock that SQLite's
/// busy handler does not wait for, so before the fix every process failed
/// at once with "database is locked"; now the first waits for the writer,
/// migrates, and the others follow.
#[test]
fn eight_processes_wait_for_a_writer_of_an_old_rollback_index() {
    let data_dir = crate::dir();
    let data = data_dir.small_data(90);
    let mut failures = Vec::new();
    for trial in [3, 4, 5] {
        let dir = crate::dir();
        old_index(&dir, false);
        let writer = rusqlite::Connection::open(dir.models().join("models.db")).unwrap();
        writer
            .execute_batch(
                "BEGIN IMMEDIATE;
                 INSERT INTO alias_history(name, action, at, by) VALUES ('x', 'rm', 't', 'sqlite3');",
            )
            .unwrap();
        let (trains, failed) = race_while(&dir, &data, trial, || {
            std::thread::sleep(std::time::Duration::from_millis(400));
            writer.execute_batch("COMMIT").unwrap();
        });
        failures.extend(failed);
        let conn = rusqlite::Connection::open(dir.models().join("models.db")).unwrap();
        let version: u32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        let written: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM alias_history WHERE by = 'sqlite3'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        if failures.is_empty() {
            assert_eq!(version, SCHEMA_VERSION);
            assert_eq!(written, 1, "the other program's write must survive");
            assert_eq!(completed(&dir), trains);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `index rebuild` while trainers write: it refuses (naming why and what to
/// do) as long as one has the index open, succeeds once they are done, and
/// no trainer's model is missing from the index afterwards.
#[test]
fn a_rebuild_never_loses_what_running_trainers_write() {
    let dir = crate::dir();
    let data = dir.small_data(120);
    let mut trainers: Vec<Child> = (0..3)
        .map(|_| {
            let mut cmd = dir.cmd();
            cmd.args(["--quiet", "train", "--data"])
                .arg(&data)
                .args(["--product", "P001", "--model", "kan", "--window", "14"])
                .args(["--epochs", "30", "--patience", "100"]);
            cmd.spawn()
        })
        .collect();
    let mut refused = 0;
    let mut rebuilt = 0;
    loop {
        let mut running = 0;
        for c in trainers.iter_mut() {
            if c.try_wait().unwrap().is_none() {
                running += 1;
            }
        }
        // no waiting: a trainer that has the index open is met, not waited out
        let out = dir.cmd().args(["index", "rebuild", "--wait", "0"]).output();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            rebuilt += 1;
        } else {
            assert!(
                stderr.contains("have the index in")
                    && stderr.contains("run `shoptrain index rebuild` again"),
                "{stderr}"
            );
            refused += 1;
        }
        if running == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    for t in trainers {
        let out = t.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(refused > 0, "no rebuild met a running trainer");
    // the last rebuild ran with every trainer gone, and a final one too
    dir.cmd().args(["index", "rebuild"]).ok();
    assert!(rebuilt >= 1);
    let rows: serde_json::Value =
        serde_json::from_str(&dir.cmd().args(["--json", "models", "list"]).ok()).unwrap();
    let completed: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "completed")
        .map(|r| r["prefix"].as_str().unwrap())
        .collect();
    assert_eq!(completed.len(), 3, "{rows}");
    dir.cmd().args(["index", "verify"]).ok();
}
