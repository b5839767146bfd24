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
