//! The version counter under real OS-process concurrency.

use shoptrain_trainer::registry::VersionStore;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

const WORKER_ENV: &str = "SHOPTRAIN_RESERVE_WORKER";

/// Not a test on its own: when spawned by `eight_processes_reserve_distinct_versions`
/// with the worker variable set, it makes 50 reservations and prints them.
#[test]
fn reserve_worker() {
    let Ok(spec) = std::env::var(WORKER_ENV) else {
        return;
    };
    let (dir, worker) = spec.split_once('|').unwrap();
    let store = VersionStore::new(&PathBuf::from(dir));
    let worker: usize = worker.parse().unwrap();
    for i in 0..50 {
        // half the reservations share one identifier, the rest alternate by worker parity
        let id = if i % 2 == 0 {
            "product_P001_all_kan".to_string()
        } else {
            format!("store_S{}_all_mlstm", worker % 2)
        };
        let v = store.reserve(&id).unwrap();
        println!("RESERVED {id} {v}");
    }
}

#[test]
fn eight_processes_reserve_distinct_versions() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..8)
        .map(|w| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "versions::reserve_worker",
                    "--nocapture",
                    "--test-threads",
                    "1",
                ])
                .env(WORKER_ENV, format!("{}|{w}", dir.path().display()))
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut got: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            // libtest may print "test reserve_worker ... " on the same line
            if let Some(rest) = line.split_once("RESERVED ").map(|(_, r)| r) {
                let (id, v) = rest.split_once(' ').unwrap();
                got.entry(id.to_string())
                    .or_default()
                    .push(v.parse().unwrap());
            }
        }
    }
    assert_eq!(got.values().map(Vec::len).sum::<usize>(), 400);
    for (id, versions) in &mut got {
        versions.sort();
        let expected: Vec<u32> = (1..=versions.len() as u32).collect();
        assert_eq!(
            versions, &expected,
            "{id}: versions must be distinct and contiguous"
        );
    }
    let text = std::fs::read_to_string(dir.path().join("versions.json")).unwrap();
    let file: BTreeMap<String, u32> = serde_json::from_str(&text).unwrap();
    assert_eq!(file["product_P001_all_kan"], 200);
    assert_eq!(file["store_S0_all_mlstm"], 100);
    assert_eq!(file["store_S1_all_mlstm"], 100);
}

#[test]
fn corrupt_versions_file_is_an_error_not_a_reset() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("versions.json"), "{\"a\": 3,").unwrap();
    let err = VersionStore::new(dir.path())
        .reserve("a")
        .unwrap_err()
        .to_string();
    assert!(err.contains("versions.json is corrupt"), "{err}");
    assert!(err.contains("shoptrain index rebuild"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("versions.json")).unwrap(),
        "{\"a\": 3,"
    );
}
