//! kill -9 at random moments of training: afterwards every
//! final artifact has valid metadata, `index verify` is clean apart from the
//! runs it marks `interrupted`, `versions.json` is valid and `--resume` works.

use rand::{Rng, SeedableRng};
use shoptrain_shared::bundle::{read_weights, sha256_hex};
use shoptrain_shared::metadata::{ModelMetadata, Status};
use shoptrain_shared::naming::{Artifact, VersionedName, CHECKPOINT_DIR};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

const TYPES: [&str; 3] = ["mlstm", "transformer", "kan"];
const TRIALS: usize = 21;

fn train_args(data: &Path, model: &str) -> Vec<String> {
    let mut args: Vec<String> = ["--quiet", "train", "--data"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push(data.display().to_string());
    for a in [
        "--mode",
        "product",
        "--product",
        "P001",
        "--model",
        model,
        "--epochs",
        "4",
        "--window",
        "14",
        "--checkpoint-every",
        "1",
    ] {
        args.push(a.to_string());
    }
    args
}

/// Every file in the models directory must be a known artifact with valid
/// metadata, the index's own files, or a temporary file of an interrupted write.
fn assert_no_orphan_artifacts(models: &Path) -> BTreeMap<String, ModelMetadata> {
    let mut metas = BTreeMap::new();
    let mut files = Vec::new();
    for dir in [models.to_path_buf(), models.join("checkpoints")] {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                files.push(e.file_name().to_string_lossy().into_owned());
            }
        }
    }
    for name in files {
        if name.starts_with(".tmp-")
            || name.starts_with("models.db")
            || name.starts_with("versions.json")
        {
            continue;
        }
        let (v, kind) = Artifact::parse_file_name(&name)
            .unwrap_or_else(|| panic!("{name} is not an artifact name"));
        let prefix = v.prefix();
        let text = std::fs::read_to_string(models.join(format!("{prefix}_metadata.json")))
            .unwrap_or_else(|e| panic!("{name} has no metadata: {e}"));
        let meta = ModelMetadata::from_json(&text)
            .unwrap_or_else(|e| panic!("metadata of {name} is invalid: {e}"));
        if kind == Artifact::Weights && meta.status == Status::Completed {
            let bytes = std::fs::read(models.join(&name)).unwrap();
            assert_eq!(meta.weights_sha256, Some(sha256_hex(&bytes)), "{name}");
        }
        if kind != Artifact::Metadata && kind != Artifact::LossCurve {
            let rel = kind.file_name(&prefix);
            let bytes = std::fs::read(models.join(rel)).unwrap();
            read_weights(&bytes).unwrap_or_else(|e| panic!("{name} is not whole: {e}"));
        }
        metas.insert(prefix, meta);
    }
    metas
}

#[test]
fn kill_9_at_random_moments_loses_nothing() {
    let dir = crate::dir();
    let data = dir.small_data(120);
    // How long one uninterrupted run takes sets the range of kill moments.
    let t0 = Instant::now();
    dir.cmd().args(train_args(&data, "kan")).ok();
    let kan_run = t0.elapsed();
    let t0 = Instant::now();
    dir.cmd().args(train_args(&data, "mlstm")).ok();
    let slow_run = t0.elapsed().max(kan_run);

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(6);
    let mut killed = 0;
    for trial in 0..TRIALS {
        let model = TYPES[trial % 3];
        let mut child = dir.cmd().args(train_args(&data, model)).spawn();
        let at = slow_run.mul_f64(rng.random_range(0.0..1.1));
        let started = Instant::now();
        while started.elapsed() < at {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            killed += 1;
        }
        child.wait().unwrap();
        eprintln!("trial {trial}: {model} killed after {at:?}");
    }
    assert!(
        killed >= TRIALS / 2,
        "only {killed} of {TRIALS} runs were killed"
    );

    // The next command marks the dead runs; verify then reports nothing else.
    let out = dir.cmd().args(["index", "verify"]).output();
    assert!(
        out.status.success(),
        "index verify after kills: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let metas = assert_no_orphan_artifacts(&dir.models());
    let rows: serde_json::Value =
        serde_json::from_str(&dir.cmd().args(["--json", "models", "list"]).ok()).unwrap();
    for row in rows.as_array().unwrap() {
        let status = row["status"].as_str().unwrap();
        assert!(status == "completed" || status == "interrupted", "{row}");
        let prefix = row["prefix"].as_str().unwrap();
        assert_eq!(metas[prefix].status.as_str(), status, "{prefix}");
    }

    // versions.json is whole and never behind the versions on disk.
    let counters: BTreeMap<String, u32> =
        serde_json::from_str(&dir.read("models/versions.json")).unwrap();
    for prefix in metas.keys() {
        let v = VersionedName::parse(prefix).unwrap();
        assert!(counters[&v.name.identifier()] >= v.version, "{prefix}");
    }

    // An interrupted run of each type that reached a checkpoint resumes to completion.
    let mut resumed = 0;
    for model in TYPES {
        let Some(prefix) = metas
            .iter()
            .filter(|(p, m)| {
                m.status == Status::Interrupted
                    && p.contains(&format!("_{model}_"))
                    && has_epoch_checkpoint(&dir.models(), p)
            })
            .map(|(p, _)| p.clone())
            .next()
        else {
            continue;
        };
        let out = dir
            .cmd()
            .args(["--json", "train", "--data"])
            .arg(&data)
            .args(["--resume", &prefix])
            .ok();
        assert!(out.contains("\"status\": \"completed\""), "{out}");
        resumed += 1;
    }
    assert!(
        resumed >= 2,
        "only {resumed} model types had a run to resume"
    );
    dir.cmd().args(["index", "verify"]).ok();
    assert_no_orphan_artifacts(&dir.models());
}

/// Whether `prefix` has an epoch checkpoint to resume from: only the newest
/// is kept, so its epoch is whichever the run reached.
fn has_epoch_checkpoint(models: &Path, prefix: &str) -> bool {
    std::fs::read_dir(models.join(CHECKPOINT_DIR))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            matches!(
                Artifact::parse_file_name(&name),
                Some((v, Artifact::EpochCheckpoint(_))) if v.prefix() == prefix
            )
        })
}
