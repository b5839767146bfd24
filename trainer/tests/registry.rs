//! The registry commands, driven through the real binary.

#[test]
fn rebuild_restores_listing_and_counters() {
    let dir = crate::dir();
    let data = dir.small_data(90);
    let kan = dir.quick_train(&data, "kan", &[]);
    dir.quick_train(&data, "kan", &[]);
    dir.quick_train(&data, "transformer", &[]);
    dir.cmd()
        .args(["models", "alias", "set", "production", &kan])
        .ok();
    let listing = dir.cmd().args(["--json", "models", "list"]).ok();
    let counters = dir.read("models/versions.json");
    assert!(
        counters.contains("\"product_P001_all_kan\": 2"),
        "{counters}"
    );

    std::fs::remove_file(dir.models().join("models.db")).unwrap();
    std::fs::remove_file(dir.models().join("versions.json")).unwrap();
    let _ = std::fs::remove_file(dir.models().join("models.db-wal"));
    let _ = std::fs::remove_file(dir.models().join("models.db-shm"));
    dir.cmd().args(["index", "rebuild"]).ok();
    assert_eq!(dir.cmd().args(["--json", "models", "list"]).ok(), listing);
    assert_eq!(dir.read("models/versions.json"), counters);
    // aliases come back from aliases.json, and rebuild is idempotent
    assert_eq!(
        dir.cmd().args(["models", "alias", "list"]).ok(),
        format!("production -> {kan}\n")
    );
    dir.cmd().args(["index", "rebuild"]).ok();
    assert_eq!(dir.cmd().args(["--json", "models", "list"]).ok(), listing);
    dir.cmd().args(["index", "verify"]).ok();
}

#[test]
fn verify_names_a_deleted_or_altered_weights_file() {
    let dir = crate::dir();
    let data = dir.small_data(90);
    let a = dir.quick_train(&data, "kan", &[]);
    let b = dir.quick_train(&data, "kan", &[]);
    dir.cmd().args(["index", "verify"]).ok();

    let weights_a = dir.models().join(format!("{a}_model.safetensors"));
    std::fs::remove_file(&weights_a).unwrap();
    let out = dir.cmd().args(["index", "verify"]).output();
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("{a}_model.safetensors is missing")),
        "{stdout}"
    );

    let weights_b = dir.models().join(format!("{b}_model.safetensors"));
    let mut bytes = std::fs::read(&weights_b).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    std::fs::write(&weights_b, bytes).unwrap();
    let out = dir.cmd().args(["index", "verify"]).output();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("{b}_model.safetensors has sha256")),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("index verify found 2 problem(s)"));
}

#[test]
fn list_filters_show_delete_and_alias_history() {
    let dir = crate::dir();
    let data = dir.small_data(90);
    let kan = dir.quick_train(&data, "kan", &[]);
    let tr = dir.quick_train(&data, "transformer", &[]);
    let kans = dir
        .cmd()
        .args(["--json", "models", "list", "--type", "kan"])
        .ok();
    let rows: serde_json::Value = serde_json::from_str(&kans).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["prefix"], kan.as_str());
    assert_eq!(rows[0]["status"], "completed");
    assert!(rows[0]["metrics"]["rmse"].as_f64().unwrap() > 0.0);

    dir.cmd()
        .args(["models", "alias", "set", "production", &kan])
        .ok();
    assert_eq!(
        dir.cmd()
            .args(["models", "alias", "set", "production", &tr])
            .ok(),
        format!("production: {kan} -> {tr}\n")
    );
    let show = dir
        .cmd()
        .args(["--json", "models", "show", "production"])
        .ok();
    assert!(show.contains(&format!("\"prefix\": \"{tr}\"")));
    let history = dir
        .cmd()
        .args(["--json", "models", "alias", "list", "--history"])
        .ok();
    let h: serde_json::Value = serde_json::from_str(&history).unwrap();
    assert_eq!(h[1]["previous"], kan.as_str());

    // soft delete hides the row but keeps files; hard delete removes both
    dir.cmd().args(["models", "delete", &kan]).ok();
    assert!(!dir.cmd().args(["models", "list"]).ok().contains(&kan));
    assert!(dir
        .cmd()
        .args(["models", "list", "--all"])
        .ok()
        .contains(&kan));
    assert!(dir
        .models()
        .join(format!("{kan}_model.safetensors"))
        .exists());
    dir.cmd().args(["models", "delete", "--hard", &kan]).ok();
    assert!(!dir
        .models()
        .join(format!("{kan}_model.safetensors"))
        .exists());
    assert!(!dir.models().join(format!("{kan}_metadata.json")).exists());
    assert!(!dir
        .cmd()
        .args(["models", "list", "--all"])
        .ok()
        .contains(&kan));
    let err = dir
        .cmd()
        .args(["models", "show", "product_P001_all_kan_v9"])
        .fails();
    assert!(
        err.contains("no model \"product_P001_all_kan_v9\""),
        "{err}"
    );
}

#[test]
fn a_killed_training_run_is_marked_interrupted_by_the_next_command() {
    let dir = crate::dir();
    let data = dir.small_data(90);
    let out = dir
        .cmd()
        .args(["--quiet", "train", "--data"])
        .arg(&data)
        .args([
            "--mode",
            "product",
            "--product",
            "P001",
            "--model",
            "kan",
            "--epochs",
            "3",
            "--window",
            "14",
            "--halt-after-epoch",
            "1",
        ])
        .output();
    assert_eq!(out.status.code(), Some(86));
    let rows = dir.cmd().args(["--json", "models", "list"]).ok();
    let rows: serde_json::Value = serde_json::from_str(&rows).unwrap();
    assert_eq!(rows[0]["status"], "interrupted");
    let meta = dir.read("models/product_P001_all_kan_v1_metadata.json");
    assert!(meta.contains("\"status\": \"interrupted\""));
    assert!(!dir
        .models()
        .join("product_P001_all_kan_v1_model.safetensors")
        .exists());
    dir.cmd().args(["index", "verify"]).ok();
}

#[test]
fn a_hard_deleted_version_is_never_reused_even_after_a_rebuild() {
    let dir = crate::dir();
    let data = dir.small_data(90);
    dir.quick_train(&data, "kan", &[]);
    let newest = dir.quick_train(&data, "kan", &[]);
    assert_eq!(newest, "product_P001_all_kan_v2");
    dir.cmd().args(["models", "delete", &newest, "--hard"]).ok();
    dir.cmd().args(["index", "rebuild"]).ok();
    let counters = dir.read("models/versions.json");
    assert!(
        counters.contains("\"product_P001_all_kan\": 2"),
        "{counters}"
    );
    assert_eq!(
        dir.quick_train(&data, "kan", &[]),
        "product_P001_all_kan_v3"
    );
}
