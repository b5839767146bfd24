//! Model behaviour on real training windows of generated data.

use candle_core::{Device, Tensor};
use candle_nn::VarMap;
use shoptrain_shared::features::{feature_names, NormChoice};
use shoptrain_shared::metadata::TrainConfig;
use shoptrain_shared::models::{KanConfig, KanForecaster};
use shoptrain_shared::naming::Scope;
use shoptrain_tests::small_data;
use shoptrain_trainer::data::load_csv;
use shoptrain_trainer::seeded_vars::seeded_var_builder;
use shoptrain_trainer::training::{prepare, TrainOptions};

fn options() -> TrainOptions {
    TrainOptions {
        config: TrainConfig {
            epochs: 1,
            seed: 1,
            checkpoint_every: 0,
            ..TrainConfig::default()
        },
        ..TrainOptions::default()
    }
}

#[test]
fn kan_spline_branch_is_live_on_training_windows() {
    let tmp = tempfile::tempdir().unwrap();
    let data = load_csv(&small_data(tmp.path(), 200), None).unwrap();
    let extra: Vec<String> = data.dataset.columns[1..].to_vec();
    let features = feature_names(&extra);
    for norm in [NormChoice::Instance, NormChoice::Fitted] {
        // the network's own inputs: no known-future block after the history
        let opts = TrainOptions {
            norm,
            known_future: Some(Vec::new()),
            ets_blend: false,
            ..options()
        };
        let p = prepare(
            &data,
            &Scope::product("P001", None).unwrap(),
            &features,
            &opts,
        )
        .unwrap();
        let cfg = KanConfig::new(features.len(), 30, 7);
        let vm = VarMap::new();
        let kan = KanForecaster::new(&cfg, seeded_var_builder(&vm, 1, &Device::Cpu)).unwrap();
        let x = Tensor::from_slice(
            &p.train.x,
            (p.train.count, 30 * features.len()),
            &Device::Cpu,
        )
        .unwrap();
        let coverage = kan.layers[0].grid_coverage(&x).unwrap();
        assert!(
            coverage > 0.99,
            "{norm:?}: only {coverage} of inputs inside the spline grid"
        );
    }
}
