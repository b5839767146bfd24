//! The quality bar: on generated data every model type
//! beats the seasonal-naive (lag 7) forecast's MASE on the validation split
//! of a product series. Settings are the CLI defaults but 20 epochs, so the
//! test stays quick on two cores.

use shoptrain_tests::{generated_data, shoptrain};

#[test]
fn every_model_type_beats_seasonal_naive_on_a_product_series() {
    let tmp = tempfile::tempdir().unwrap();
    let data = generated_data(tmp.path(), 2, 4, 730);
    let models = tmp.path().join("models");
    let d = data.to_string_lossy().into_owned();
    shoptrain(
        &models,
        &[
            "train",
            "--data",
            &d,
            "--mode",
            "product",
            "--product",
            "P001",
            "--model",
            "all",
            "--epochs",
            "20",
            "--seed",
            "1",
        ],
    )
    .unwrap();
    for t in ["mlstm", "transformer", "kan"] {
        let file = models.join(format!("product_P001_all_{t}_v1_metadata.json"));
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let model = meta["metrics"]["mase"].as_f64().unwrap();
        let naive = meta["baselines"]["seasonal_naive_7"]["mase"]
            .as_f64()
            .unwrap();
        eprintln!("{t}: MASE {model:.3}, seasonal naive {naive:.3}");
        assert!(
            model < naive,
            "{t}: MASE {model:.3} does not beat seasonal naive {naive:.3}"
        );
    }
}
