//! Loading an exported model (weights bytes + metadata JSON) and forecasting
//! from history. The trainer's `predict`/`export` and the browser runtime both
//! go through [`Forecaster`], which is what makes their numbers agree.

use crate::bundle::{build_model, check_against, read_weights, BundleError};
use crate::features::{FeatureError, Scale, Series};
use crate::floor::{Classical, Floor};
use crate::hybrid;
use crate::metadata::ModelMetadata;
use crate::metrics::Quantiles;
use crate::models::Model;
use candle_core::{Device, Tensor};
use chrono::{Duration, NaiveDate};
use std::collections::HashMap;

#[derive(Debug, thiserror::Error)]
pub enum ForecastError {
    #[error(transparent)]
    Features(#[from] FeatureError),
    #[error("model failed to run: {0}")]
    Model(#[from] candle_core::Error),
    #[error("model produced a non-finite forecast")]
    NonFinite,
    #[error("the classical floor under the forecast failed: {0}")]
    Floor(String),
}

/// A dated forecast in sales units: the point forecast (the median when
/// the model forecasts quantiles) and the quantiles, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub dates: Vec<NaiveDate>,
    pub values: Vec<f32>,
    pub quantiles: Option<Quantiles>,
}

/// A ready-to-run model: metadata plus weights on a device.
pub struct Forecaster {
    pub meta: ModelMetadata,
    model: Model,
    device: Device,
}

impl Forecaster {
    /// Builds a forecaster from an exported bundle, checking that the weights
    /// are intact and match the metadata.
    pub fn from_bytes(weights: &[u8], metadata_json: &str) -> Result<Forecaster, BundleError> {
        let meta = ModelMetadata::from_json(metadata_json)?;
        let (tensors, info) = read_weights(weights)?;
        check_against(&meta, &info, weights)?;
        Self::from_tensors(meta, tensors, Device::Cpu)
    }

    /// Builds a forecaster from tensors already in memory (trainer side).
    pub fn from_tensors(
        meta: ModelMetadata,
        tensors: HashMap<String, Tensor>,
        device: Device,
    ) -> Result<Forecaster, BundleError> {
        let model = build_model(&meta.architecture, tensors, &device)?;
        Ok(Forecaster {
            meta,
            model,
            device,
        })
    }

    pub fn window(&self) -> usize {
        self.meta.window
    }
    pub fn device(&self) -> &Device {
        &self.device
    }
    pub fn horizon(&self) -> usize {
        self.meta.horizon
    }

    /// Runs the model on one input row per window (`[n, input_width]`, see
    /// [`crate::features::make_windows`]), each normalised by its own entry
    /// of `scales`, and returns the forecasts in sales units: the points
    /// (window after window) and the quantiles when the model gives them.
    pub fn forecast_rows(
        &self,
        x: &[f32],
        scales: &[Scale],
    ) -> Result<(Vec<f32>, Option<Quantiles>), ForecastError> {
        let (n, h) = (scales.len(), self.meta.horizon);
        let width = self.meta.architecture.input_width();
        let input = Tensor::from_slice(x, (n, width), &self.device)?;
        let (point, quantiles) = self.model.forward_quantiles(&input, None)?;
        let point = finite(&point)?;
        let values = point
            .iter()
            .enumerate()
            .map(|(k, z)| to_sales(scales[k / h].denormalize(*z)))
            .collect();
        let quantiles = match quantiles {
            Some(q) => {
                let levels = self.meta.architecture.quantiles();
                let mut out = vec![Vec::with_capacity(n * h); levels.len()];
                // q is [n, levels, horizon]; each level's distance from the
                // median is scaled by the window's spread
                for (k, z) in finite(&q)?.iter().enumerate() {
                    let (window, day) = (k / (levels.len() * h), k % h);
                    let (scale, median) = (scales[window], point[window * h + day]);
                    let spread = scale.spread(self.meta.spread_floor);
                    out[(k / h) % levels.len()]
                        .push(to_sales(scale.denormalize(median) + (z - median) * spread));
                }
                Some(Quantiles {
                    levels: levels.to_vec(),
                    values: out,
                })
            }
            None => None,
        };
        Ok((values, quantiles))
    }

    /// Forecasts the `horizon` days after the history's last date. A model
    /// that reads known-future columns takes them from `future` (rows for
    /// at least the forecast days); without it they count as unchanged.
    pub fn predict(
        &self,
        history: &Series,
        future: Option<&Series>,
    ) -> Result<Forecast, ForecastError> {
        let rows = history.last_window(&self.meta.features, self.meta.window)?;
        let (mut x, scale) = self.meta.normalization.normalize_window(&rows);
        let last = *history
            .dates
            .last()
            .ok_or_else(|| FeatureError::History("history is empty".into()))?;
        if let Some((known, positions)) = self.meta.known_future_positions() {
            let future_rows = future
                .map(|f| f.known_rows(&self.meta.features, &known.columns, last, self.meta.horizon))
                .transpose()?;
            x.extend(known.block(
                &positions,
                &rows,
                future_rows.as_deref(),
                self.meta.horizon,
                scale,
            ));
        }
        let horizon = self.meta.horizon;
        let floor = self.meta.floor.filter(Floor::blends);
        let arch = &self.meta.architecture;
        let sales = if arch.ets_blend() || floor.is_some() {
            let column = history
                .columns
                .iter()
                .position(|c| c == crate::features::TARGET)
                .ok_or_else(|| FeatureError::History("history has no sales column".into()))?;
            history.values[column].iter().map(|v| *v as f32).collect()
        } else {
            Vec::new()
        };
        // the ETS forecast a hybrid model's base blends in, also the floor's when it stands on ETS
        let mut ets = None;
        if arch.ets_blend() {
            let (base, fitted) = hybrid::base_forecast(&sales, horizon);
            x.extend(base.iter().map(|v| scale.normalize(*v)));
            ets = Some(fitted);
        }
        let (mut values, mut quantiles) = self.forecast_rows(&x, &[scale])?;
        if let Some(floor) = floor {
            let classical = match (floor.classical, ets) {
                (Classical::Ets, Some(fitted)) => fitted,
                (method, _) => method.forecast(&sales, horizon),
            }
            .map_err(ForecastError::Floor)?;
            let q = quantiles.as_mut().map(|q| q.values.as_mut_slice());
            floor.mix(&mut values, &classical, q);
        }
        Ok(Forecast {
            dates: (1..=self.meta.horizon as i64)
                .map(|d| last + Duration::days(d))
                .collect(),
            values,
            quantiles,
        })
    }
}

fn finite(t: &Tensor) -> Result<Vec<f32>, ForecastError> {
    let values = t.flatten_all()?.to_vec1::<f32>()?;
    if values.iter().any(|v| !v.is_finite()) {
        return Err(ForecastError::NonFinite);
    }
    Ok(values)
}

/// Sales cannot be negative: a forecast below zero is reported as zero.
pub fn to_sales(v: f32) -> f32 {
    v.max(0.0)
}
