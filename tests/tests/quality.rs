//! The quality bar, under the backtest protocol on real data: the default
//! settings on the real page-views series of `../shared/data` (the
//! repository's sibling folder, as in CI). Seasonal naive must reproduce
//! the reference figure in QUALITY.md (Reference figures; a check of the
//! protocol itself); every type must beat it, and the best type must be at
//! or below statsforecast's AutoETS figure there (0.920).
use shoptrain_shared::naming::{ModelType, Scope};
use shoptrain_trainer::backtest::{run, Plan, Refit, RunEnv};
use shoptrain_trainer::data::load_csv;
use shoptrain_trainer::device::{select_device, DeviceChoice};
use shoptrain_trainer::registry::Registry;
use shoptrain_trainer::training::TrainOptions;
use std::path::PathBuf;

fn real_data(file: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(file);
    assert!(
        path.exists(),
        "{} is missing: the real data sets live in ../shared/data beside the repository",
        path.display()
    );
    path
}

#[test]
fn every_default_model_beats_seasonal_naive_on_real_page_views() {
    let data = load_csv(&real_data("pageviews_daily.csv"), None).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let plan = Plan {
        scopes: vec![Scope::product("pageviews", Some("blog")).unwrap()],
        types: ModelType::ALL.to_vec(),
        origins: 8,
        refit: Refit::Once,
        opts: TrainOptions::default(),
    };
    let env = RunEnv {
        reg: Registry::open(tmp.path()).unwrap(),
        device: select_device(DeviceChoice::Cpu).unwrap(),
        tick: &|_| {},
    };
    let report = run(&data, &plan, &env).unwrap();
    let mase = |name: &str| report.mean[name].mase;
    let naive = mase("seasonal_naive_7");
    for name in ["mlstm", "transformer", "kan", "ets"] {
        eprintln!("{name}: MASE {:.3} (seasonal naive {naive:.3})", mase(name));
    }
    assert!(
        (naive - 0.963).abs() < 0.001,
        "seasonal naive {naive:.4}, reference 0.963"
    );
    for t in ["mlstm", "transformer", "kan"] {
        assert!(
            mase(t) < naive,
            "{t}: MASE {:.3} does not beat seasonal naive {naive:.3}",
            mase(t)
        );
    }
    let best = ["mlstm", "transformer", "kan"]
        .map(mase)
        .into_iter()
        .fold(f64::INFINITY, f64::min);
    assert!(
        best <= 0.920,
        "best type {best:.3}, AutoETS reference 0.920"
    );
}
