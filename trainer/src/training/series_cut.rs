//! One series cut for training: its raw feature rows, chronological split
//! and normalisation, and the windows cut from it.

use super::TrainOptions;
use anyhow::Result;
use shoptrain_shared::classical::EtsModel;
use shoptrain_shared::features::{make_windows, KnownFuture, Normalization, Split, Windows};
use shoptrain_shared::floor::ets_fit;
use shoptrain_shared::hybrid;
use std::sync::OnceLock;

/// One series' raw feature rows, their split and their normalisation, and
/// the ETS forecast of every window when new models blend it in.
pub struct SeriesCut {
    pub rows: Vec<Vec<f32>>,
    pub split: Split,
    pub norm: Normalization,
    /// ETS fitted on the days before the first validation window.
    pub ets_fit: EtsBeforeValidation,
    /// By window start (`--base blend`): computed once, whether the windows
    /// are cut once or twice (known-future columns to choose).
    ets: Option<Vec<Vec<f32>>>,
}

impl SeriesCut {
    pub fn new(
        rows: Vec<Vec<f32>>,
        split: Split,
        norm: Normalization,
        opts: &TrainOptions,
    ) -> Self {
        let ets_fit = EtsBeforeValidation::new(split.train + opts.window);
        let ets = opts.blends_ets().then(|| {
            let sales: Vec<f32> = rows.iter().map(|r| r[0]).collect();
            let origins: Vec<usize> = (0..split.train + split.val)
                .map(|start| start + opts.window)
                .collect();
            let fit = ets_fit.get(&sales).ok();
            hybrid::base_forecasts(&sales, fit, &origins, opts.horizon)
        });
        SeriesCut {
            rows,
            split,
            norm,
            ets_fit,
            ets,
        }
    }
}

/// A series' AutoETS fitted once, on its days before the first validation
/// window: the windows' base, the floor's validation forecasts and the
/// floor's choice of method all run it on with the same parameters, so no
/// parameter has seen a validation day (training's origins are in sample:
/// QUALITY.md, experiment 33f).
pub struct EtsBeforeValidation {
    days: usize,
    fit: OnceLock<Result<EtsModel, String>>,
}

impl EtsBeforeValidation {
    pub fn new(days: usize) -> Self {
        EtsBeforeValidation {
            days,
            fit: OnceLock::new(),
        }
    }

    /// The fit on the first days of `sales` (the series'), made on first use.
    pub fn get(&self, sales: &[f32]) -> Result<&EtsModel, String> {
        self.fit
            .get_or_init(|| ets_fit(&sales[..self.days.min(sales.len())]))
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// The training and validation windows of every series.
pub fn cut_windows(
    cut: &[SeriesCut],
    known: Option<&KnownFuture>,
    features: &[String],
    opts: &TrainOptions,
) -> Result<(Windows, Windows)> {
    let positions = known.map(|k| k.positions(features)).transpose()?;
    let known = known.zip(positions.as_deref());
    let shape = (opts.window, opts.horizon);
    let (mut train, mut val) = (Windows::default(), Windows::default());
    for c in cut {
        let (rows, norm, split, ets) = (&c.rows, &c.norm, c.split, c.ets.as_deref());
        train.extend(make_windows(rows, norm, known, ets, shape, 0, split.train));
        val.extend(make_windows(
            rows,
            norm,
            known,
            ets,
            shape,
            split.train,
            split.val,
        ));
    }
    Ok((train, val))
}
