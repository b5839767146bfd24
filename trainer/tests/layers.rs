//! The trainer's layers only import downward (ARCHITECTURE.md, Layout):
//! the domain (training, batches, backtests, the registry, evaluation and
//! lookup) never imports the command line, the command handlers or the
//! terminal output; the output never imports a command handler; command
//! handlers import neither each other nor the command line. And one list of
//! model types.

use std::path::{Path, PathBuf};

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    out
}

/// Every `use` line of a file, comments dropped.
fn imports(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| l.split("//").next().unwrap().trim().to_string())
        .filter(|l| l.starts_with("use ") || l.starts_with("pub use "))
        .collect()
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn the_domain_never_imports_the_ui_or_the_commands() {
    let src = src();
    let domain = [
        "training",
        "batch",
        "backtest",
        "registry",
        "data",
        "store",
        "sync",
        "monitor",
        "evaluation.rs",
        "lookup.rs",
        "baselines.rs",
        "compute.rs",
        "device.rs",
        "optim.rs",
        "seeded_vars.rs",
    ];
    let mut checked = 0;
    for part in domain {
        for file in sources(&src.join(part))
            .into_iter()
            .chain(Some(src.join(part)).filter(|p| p.is_file()))
        {
            for line in imports(&file) {
                for upper in [
                    "crate::output",
                    "crate::commands",
                    "crate::cli",
                    "crate::app",
                ] {
                    assert!(!line.contains(upper), "{}: {line}", file.display());
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 30, "only {checked} domain files read");
    let output = sources(&src.join("output"));
    assert!(!output.is_empty());
    for file in output {
        for line in imports(&file) {
            assert!(
                !line.contains("crate::commands"),
                "{}: {line}",
                file.display()
            );
        }
    }
}

#[test]
fn command_handlers_import_neither_each_other_nor_the_command_line() {
    for file in sources(&src().join("commands")) {
        if file.file_name().unwrap() == "mod.rs" {
            continue;
        }
        for line in imports(&file) {
            // a handler's test module may `use super::*`
            let sibling = line.starts_with("use super::") && line != "use super::*;";
            // nor the command line above them: it builds their requests
            assert!(
                !line.contains("crate::commands") && !line.contains("crate::cli") && !sibling,
                "{}: {line}",
                file.display()
            );
        }
    }
}

#[test]
fn the_model_types_are_listed_once() {
    // the command line's choices come from ModelType::ALL, not lists of their own
    for file in sources(&src()) {
        let text = std::fs::read_to_string(&file).unwrap();
        for variant in ["    Mlstm,", "    Transformer,", "    Kan,"] {
            assert!(
                !text.contains(variant),
                "{} lists a model type: {variant:?}",
                file.display()
            );
        }
    }
}

#[test]
fn every_trainer_file_is_one_a_reader_can_hold() {
    for file in sources(&src()) {
        let lines = std::fs::read_to_string(&file).unwrap().lines().count();
        assert!(
            lines <= 450,
            "{} has {lines} lines: split it along what it does",
            file.display()
        );
    }
}
