//! One series cut for training: its raw feature rows, chronological split
//! and normalisation, and the windows cut from it.

use super::TrainOptions;
use anyhow::Result;
use shoptrain_shared::features::{make_windows, KnownFuture, Normalization, Split, Windows};
use shoptrain_shared::hybrid;

/// One series' raw feature rows, their split and their normalisation.
pub struct SeriesCut {
    pub rows: Vec<Vec<f32>>,
    pub split: Split,
    pub norm: Normalization,
}

impl SeriesCut {
    /// The ETS forecast of every window (`--base blend`), fitted on the days
    /// before the first validation window's forecast (as the floor's ETS).
    fn ets_forecasts(&self, window: usize, horizon: usize) -> Vec<Vec<f32>> {
        let sales: Vec<f32> = self.rows.iter().map(|r| r[0]).collect();
        let origins: Vec<usize> = (0..self.split.train + self.split.val)
            .map(|start| start + window)
            .collect();
        hybrid::base_forecasts(&sales, self.split.train + window, &origins, horizon)
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
        let ets = opts
            .blends_ets()
            .then(|| c.ets_forecasts(opts.window, opts.horizon));
        let (rows, norm, split) = (&c.rows, &c.norm, c.split);
        let ets = ets.as_deref();
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
