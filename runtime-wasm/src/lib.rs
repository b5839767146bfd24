//! The browser runtime: a thin `#[wasm_bindgen]` skin over
//! `shoptrain_shared::forecast`. JS values become Rust calls, Rust errors
//! become JS `Error`s; all logic lives (and is tested) in `shared`.

use shoptrain_shared::features::Series;
use shoptrain_shared::forecast::Forecaster as SharedForecaster;
use wasm_bindgen::prelude::*;

/// A loaded model, ready to forecast.
#[wasm_bindgen]
pub struct Forecaster {
    inner: SharedForecaster,
}

fn js_error(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// The history rows as CSV text with a `date` column and the model's data
/// columns. Arrays of row objects are turned into this text on the JS side.
#[wasm_bindgen]
impl Forecaster {
    /// Builds a forecaster from the `{prefix}_model.safetensors` bytes and the
    /// `{prefix}_metadata.json` text; throws on any mismatch or corruption.
    #[wasm_bindgen(constructor)]
    pub fn new(weights: &[u8], metadata_json: &str) -> Result<Forecaster, JsError> {
        let inner = SharedForecaster::from_bytes(weights, metadata_json).map_err(js_error)?;
        Ok(Forecaster { inner })
    }

    #[wasm_bindgen(getter, js_name = modelType)]
    pub fn model_type(&self) -> String {
        self.inner.meta.model_type.to_string()
    }

    #[wasm_bindgen(getter)]
    pub fn prefix(&self) -> String {
        self.inner.meta.prefix.clone()
    }

    #[wasm_bindgen(getter)]
    pub fn window(&self) -> usize {
        self.inner.window()
    }

    #[wasm_bindgen(getter)]
    pub fn horizon(&self) -> usize {
        self.inner.horizon()
    }

    /// Input feature names in order (data columns, then calendar features).
    #[wasm_bindgen(getter, js_name = featureNames)]
    pub fn feature_names(&self) -> Vec<String> {
        self.inner.meta.features.clone()
    }

    /// Data columns whose values for the forecast days the model reads
    /// (`futureCsv` of `predictCsv`); empty for most models.
    #[wasm_bindgen(getter, js_name = knownFuture)]
    pub fn known_future(&self) -> Vec<String> {
        self.inner
            .meta
            .known_future
            .as_ref()
            .map_or_else(Vec::new, |k| k.columns.clone())
    }

    /// Quantile levels the model forecasts (e.g. `[0.1, 0.5, 0.9]`); empty
    /// for a point-forecast model.
    #[wasm_bindgen(getter)]
    pub fn quantiles(&self) -> Vec<f64> {
        self.inner.meta.architecture.quantiles().to_vec()
    }

    /// Forecast from CSV history: returns `{dates: string[], values: number[],
    /// quantiles: {levels: number[], values: number[][]} | null}` as JSON
    /// text (`values` is the point forecast, the median of the quantiles).
    /// `futureCsv` (optional) gives the forecast days' `knownFuture` columns,
    /// a `date` column and one row a day; without it they count as unchanged.
    #[wasm_bindgen(js_name = predictCsv)]
    pub fn predict_csv(
        &self,
        history_csv: &str,
        future_csv: Option<String>,
    ) -> Result<String, JsError> {
        predict_json(&self.inner, history_csv, future_csv.as_deref()).map_err(js_error)
    }
}

/// Native-testable core of `predictCsv`.
pub fn predict_json(
    f: &SharedForecaster,
    history_csv: &str,
    future_csv: Option<&str>,
) -> Result<String, String> {
    let history = Series::from_csv(history_csv).map_err(|e| e.to_string())?;
    let future = future_csv
        .map(Series::from_csv)
        .transpose()
        .map_err(|e| format!("future: {e}"))?;
    let forecast = f
        .predict(&history, future.as_ref())
        .map_err(|e| e.to_string())?;
    let dates: Vec<String> = forecast.dates.iter().map(|d| d.to_string()).collect();
    Ok(serde_json::json!({
        "dates": dates,
        "values": forecast.values,
        "quantiles": forecast.quantiles,
    })
    .to_string())
}
