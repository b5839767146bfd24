//! Training settings as metadata files of every age record them.

use shoptrain_shared::metadata::{Pool, TrainConfig, TrainingInfo};

fn info(pool: Option<&str>, pooled: Option<bool>) -> TrainingInfo {
    let mut v = serde_json::json!({
        "epochs_requested": 5, "lr": 0.001, "weight_decay": 0.0001, "seed": 42,
        "patience": 10, "val_ratio": 0.2, "checkpoint_every": 1,
        "epochs_run": 5, "batch_size": 32, "device": "cpu", "duration_seconds": 1.0,
        "best_epoch": 3, "best_val_loss": 0.5, "train_windows": 100, "val_windows": 20,
    });
    if let Some(p) = pool {
        v["pool"] = serde_json::from_str(p).unwrap();
    }
    if let Some(p) = pooled {
        v["pooled"] = p.into();
    }
    serde_json::from_value(v).unwrap()
}

#[test]
fn pooling_reads_from_every_metadata_age() {
    // before pooling: trained alone
    let old = info(None, None);
    assert_eq!(old.config.pool, Pool::Never);
    assert!(!old.learnt_from_siblings());
    // the opt-in flag of session 12: true pooled, false did not
    let flag = info(Some("true"), None);
    assert_eq!(flag.config.pool, Pool::Always);
    assert!(flag.learnt_from_siblings());
    assert_eq!(info(Some("false"), None).config.pool, Pool::Never);
    // now: the setting, and what the run did
    let auto = info(Some("\"auto\""), Some(true));
    assert_eq!(auto.config.pool, Pool::Auto);
    assert!(auto.learnt_from_siblings());
    assert!(!info(Some("\"auto\""), None).learnt_from_siblings());
    // written back as it reads
    let text = serde_json::to_value(&auto).unwrap();
    assert_eq!(text["pool"], "auto");
    assert_eq!(text["pooled"], true);
    assert!(serde_json::to_value(&old).unwrap().get("pool").is_none());
    // the command line's default
    assert_eq!(TrainConfig::default().pool, Pool::Auto);
}
