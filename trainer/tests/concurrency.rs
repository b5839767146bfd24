//! Eight trainers at once on one identifier and one models directory
//!: eight distinct versions, eight complete artifact sets,
//! eight `completed` rows, and no "database is locked".

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
