//! One series cut for training: its raw feature rows, chronological split
//! and normalisation, and the windows cut from it.

use super::TrainOptions;
use anyhow::Result;
use shoptrain_shared::features::{make_windows, KnownFuture, Normalization, Split, Windows};
use shoptrain_shared::hybrid;

/// One series' raw feature rows, their split and their normalisation, and
/// the ETS forecast of every window when new models blend it in.
pub struct SeriesCut {
    pub rows: Vec<Vec<f32>>,
    pub split: Split,
    pub norm: Normalization,
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
        let ets = opts
            .blends_ets()
            .then(|| ets_forecasts(&rows, split, opts.window, opts.horizon));
        SeriesCut {
            rows,
            split,
            norm,
            ets,
        }
    }
}

/// The ETS forecast of every window, fitted on the days before the first
/// validation window's forecast (as the floor's ETS).
fn ets_forecasts(rows: &[Vec<f32>], split: Split, window: usize, horizon: usize) -> Vec<Vec<f32>> {
    let sales: Vec<f32> = rows.iter().map(|r| r[0]).collect();
    let origins: Vec<usize> = (0..split.train + split.val)
        .map(|start| start + window)
        .collect();
    hybrid::base_forecasts(&sales, split.train + window, &origins, horizon)
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
