//! `scripts/demo.sh` as a newcomer meets it: a busy port is refused at
//! once, before anything is built, trained or exported, with the way out.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn demo_refuses_a_busy_port_before_building_anything() {
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let models = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = Command::new("bash")
        .arg(root.join("scripts/demo.sh"))
        .env("PORT", port.to_string())
        .env("SHOPTRAIN_MODELS_DIR", models.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("port {port} is already in use"))
            && stderr.contains("PORT=8081 scripts/demo.sh"),
        "{stderr}"
    );
    // refused before cargo, training or export ran
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        !stderr.contains("Compiling") && !stderr.contains("Finished"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(models.path()).unwrap().count(), 0);
    drop(busy);
}

#[test]
fn the_first_screen_says_where_the_cli_is() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let first_screen: String = readme.lines().take(30).collect::<Vec<_>>().join("\n");
    for needed in [
        "target/release/shoptrain",
        "cargo install --path trainer",
        "PORT=8081",
    ] {
        assert!(
            first_screen.contains(needed),
            "README's first screen lacks {needed:?}"
        );
    }
    // and the demo says it when it is done, before it serves
    let demo = std::fs::read_to_string(root.join("scripts/demo.sh")).unwrap();
    let said = demo
        .find("the shoptrain binary is")
        .expect("demo.sh names the binary");
    assert!(said < demo.find("exec \"$bin\" serve").unwrap());
}
