//! Corrupt files on disk: every command that meets one
//! says clearly what is wrong and where, exits non-zero, and never panics.

use shoptrain_tests::Dir;
use std::path::PathBuf;

/// A failing run's stderr, checked to be an error message and not a panic.
fn clear_failure(cmd: &mut shoptrain_tests::TestCommand) -> String {
    let out = cmd.output();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

struct Trained {
    dir: Dir,
    data: PathBuf,
    prefix: String,
}

fn trained() -> Trained {
    let dir = crate::dir();
    let data = dir.small_data(90);
    let prefix = dir.quick_train(&data, "kan", &[]);
    Trained { dir, data, prefix }
}

impl Trained {
    fn weights(&self) -> PathBuf {
        self.dir
            .models()
            .join(format!("{}_model.safetensors", self.prefix))
    }
    fn predict(&self) -> String {
        clear_failure(
            self.dir
                .cmd()
                .args(["predict", &self.prefix, "--data"])
                .arg(&self.data),
        )
    }
}

#[test]
fn truncated_weights() {
    let t = trained();
    let bytes = std::fs::read(t.weights()).unwrap();
    std::fs::write(t.weights(), &bytes[..bytes.len() / 2]).unwrap();
    let err = t.predict();
    assert!(
        err.contains(&format!("cannot load {}", t.prefix))
            && err.contains(&format!(
                "but the file holds {} (truncated download",
                bytes.len() / 2 - 8 - u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize
            )),
        "{err}"
    );
    std::fs::write(t.weights(), &bytes[..5]).unwrap();
    assert!(t.predict().contains("5 bytes, too short"));
}

#[test]
fn bit_flipped_weights() {
    let t = trained();
    let mut bytes = std::fs::read(t.weights()).unwrap();
    let at = bytes.len() - 17;
    bytes[at] ^= 0x01;
    std::fs::write(t.weights(), &bytes).unwrap();
    let err = t.predict();
    assert!(
        err.contains("does not match the metadata's") && err.contains("corrupt"),
        "{err}"
    );
    // the export of a corrupt model is refused the same way
    let err = clear_failure(
        t.dir
            .cmd()
            .args(["export", &t.prefix, "--out"])
            .arg(t.dir.path().join("site")),
    );
    assert!(err.contains("does not match the metadata's"), "{err}");
    assert!(!t.dir.path().join("site").join("index.json").exists());
}

#[test]
fn hostile_header_size() {
    let t = trained();
    let mut bytes = u64::MAX.to_le_bytes().to_vec();
    bytes.extend_from_slice(b"{}");
    std::fs::write(t.weights(), &bytes).unwrap();
    let err = t.predict();
    assert!(
        err.contains("weights header claims 18446744073709551615 bytes"),
        "{err}"
    );
}

#[test]
fn metadata_that_does_not_match_its_weights() {
    let t = trained();
    let other = t.dir.quick_train(&t.data, "transformer", &[]);
    // the transformer's weights under the kan's name
    std::fs::copy(
        t.dir.models().join(format!("{other}_model.safetensors")),
        t.weights(),
    )
    .unwrap();
    let err = t.predict();
    assert!(err.contains("weights were saved for prefix"), "{err}");

    // metadata edited by hand to another window than its weights
    let t = trained();
    let meta_path = t.dir.models().join(format!("{}_metadata.json", t.prefix));
    let text = std::fs::read_to_string(&meta_path).unwrap();
    std::fs::write(&meta_path, text.replace("\"window\": 14", "\"window\": 15")).unwrap();
    let err = t.predict();
    assert!(
        err.contains("weights do not fit the architecture in the metadata: tensor \"layers.0.norm.weight\" has shape [140], the architecture needs [150]"),
        "{err}"
    );

    // metadata that is not JSON at all
    std::fs::write(&meta_path, "{\"schema_version\": 1, \"prefix\": ").unwrap();
    let err = t.predict();
    assert!(
        err.contains(&format!("{}_metadata.json", t.prefix)),
        "{err}"
    );
}

#[test]
fn corrupt_database_is_recovered_by_rebuild() {
    let t = trained();
    let listing = t.dir.cmd().args(["--json", "models", "list"]).ok();
    let db = t.dir.models().join("models.db");
    let mut bytes = std::fs::read(&db).unwrap();
    for b in bytes.iter_mut().skip(100).step_by(7) {
        *b = 0xA5;
    }
    std::fs::write(&db, &bytes).unwrap();
    let err = clear_failure(t.dir.cmd().args(["models", "list"]));
    assert!(
        err.contains("models.db") && err.contains("shoptrain index rebuild"),
        "{err}"
    );
    t.dir.cmd().args(["index", "rebuild"]).ok();
    assert_eq!(t.dir.cmd().args(["--json", "models", "list"]).ok(), listing);
    t.dir.cmd().args(["index", "verify"]).ok();
}

#[test]
fn corrupt_versions_file_stops_training_until_rebuilt() {
    let t = trained();
    let versions = t.dir.models().join("versions.json");
    std::fs::write(&versions, "{\"product_P001_all_kan\": ").unwrap();
    let err = clear_failure(t.dir.cmd().args(["train", "--data"]).arg(&t.data).args([
        "--model",
        "kan",
        "--product",
        "P001",
        "--epochs",
        "1",
    ]));
    assert!(
        err.contains("versions.json") && err.contains("index rebuild"),
        "{err}"
    );
    // never silently reset
    assert_eq!(
        std::fs::read_to_string(&versions).unwrap(),
        "{\"product_P001_all_kan\": "
    );
    t.dir.cmd().args(["index", "rebuild"]).ok();
    assert_eq!(
        std::fs::read_to_string(&versions).unwrap(),
        "{\n  \"product_P001_all_kan\": 1\n}\n"
    );
}
