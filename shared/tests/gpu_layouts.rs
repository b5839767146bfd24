//! CI has no GPU, and candle's CPU matmul takes operand layouts its CUDA
//! matmul refuses. Strict mode (`models::matmul::strict`) holds every model
//! matmul to the CUDA rule on the CPU: forward and backward of each type with
//! every default feature (seasonal base, known-future columns, quantiles).

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use shoptrain_shared::models::{matmul, Model, ModelConfig, Noise};
use shoptrain_shared::naming::ModelType;

fn train_step_under_strict_mode(model_type: ModelType) -> Vec<String> {
    let (features, window, horizon, columns, batch) = (3, 30, 7, 2, 5);
    let cfg = ModelConfig::default_for(model_type, features, window, horizon)
        .with_base_weeks(4)
        .with_known_future(columns)
        .with_quantiles(&[0.1, 0.5, 0.9]);
    assert_eq!(cfg.known_future_columns(), columns);
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let model = Model::new(&cfg, vb).unwrap();
    let x = Tensor::randn(0f32, 1.0, (batch, cfg.input_width()), &Device::Cpu).unwrap();
    let strict = matmul::strict();
    let (point, quantiles) = model
        .forward_quantiles(&x, Some(&Noise::new(7)))
        .unwrap_or_else(|e| panic!("{model_type:?} forward: {e}"));
    let loss = (point.sqr().unwrap().mean_all().unwrap()
        + quantiles.unwrap().abs().unwrap().mean_all().unwrap())
    .unwrap();
    let grads = loss
        .backward()
        .unwrap_or_else(|e| panic!("{model_type:?} backward: {e}"));
    for var in varmap.all_vars() {
        assert!(
            grads.get(&var).is_some(),
            "{model_type:?}: a weight got no gradient"
        );
    }
    // the inference path (no noise, no graph) too
    model.forward(&x.detach(), None).unwrap();
    strict.copied()
}

#[test]
fn every_type_trains_under_the_cuda_matmul_rule() {
    // What the helper had to copy is exactly what the H200 run refused before
    // it existed (issue 25): the transformer's head on the last position…
    let transformer = train_step_under_strict_mode(ModelType::Transformer);
    assert!(
        transformer.contains(&"lhs [5, 64] stride [1920, 1]".to_string()),
        "{transformer:?}"
    );
    // …and the known-future layer on its narrowed block, for every type.
    let block = "lhs [5, 7, 2] stride [21, 3, 1]".to_string();
    assert!(transformer.contains(&block), "{transformer:?}");
    for t in [ModelType::Mlstm, ModelType::Kan] {
        let copied = train_step_under_strict_mode(t);
        assert!(copied.contains(&block), "{t:?}: {copied:?}");
    }
}

#[test]
fn every_model_matmul_goes_through_the_helper() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/models");
    let mut stack = vec![std::path::PathBuf::from(dir)];
    let mut checked = 0;
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if p.file_name().unwrap() == "matmul.rs" {
            continue;
        }
        let src = std::fs::read_to_string(&p).unwrap();
        for (n, line) in src.lines().enumerate() {
            let code = line.split("//").next().unwrap();
            assert!(
                !code.contains(".matmul(")
                    && !code.contains("broadcast_matmul(")
                    && !code.contains("candle_nn::Linear::new"),
                "{}:{}: multiply through models::matmul, not candle directly: {line}",
                p.display(),
                n + 1
            );
        }
        checked += 1;
    }
    assert!(checked > 10, "only {checked} files read under {dir}");
}
