//! The browser runtime: a thin `#[wasm_bindgen]` skin over
//! `shoptrain_shared::forecast`. JS values become Rust calls, Rust errors
//! become JS `Error`s; all logic lives (and is tested) in `shared`.

use shoptrain_shared::features::{Series, SeriesPick, CALENDAR_FEATURES};
use shoptrain_shared::forecast::Forecaster as SharedForecaster;
use shoptrain_shared::manifest::{model_files, Manifest};
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

    /// The sales the model forecasts, in words ("product P001 at all
    /// stores"; "every store and product" for a global model).
    #[wasm_bindgen(getter)]
    pub fn series(&self) -> String {
        // the metadata was checked on load, so its name rebuilds
        self.inner.meta.versioned_name().map_or_else(
            |_| self.inner.meta.prefix.clone(),
            |n| n.name.scope.describe(),
        )
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

    /// The columns a history must give (its data columns, `sales` first);
    /// the calendar features are derived from the dates.
    #[wasm_bindgen(getter, js_name = inputColumns)]
    pub fn input_columns(&self) -> Vec<String> {
        self.features_where(false)
    }

    /// The features computed from each date (day of week, month, weekend).
    #[wasm_bindgen(getter, js_name = calendarFeatures)]
    pub fn calendar_features(&self) -> Vec<String> {
        self.features_where(true)
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
    /// `store` / `product` pick one series of a long CSV (`store_id`,
    /// `product_id` columns), as a global model needs.
    #[wasm_bindgen(js_name = predictCsv)]
    pub fn predict_csv(
        &self,
        history_csv: &str,
        future_csv: Option<String>,
        store: Option<String>,
        product: Option<String>,
    ) -> Result<String, JsError> {
        let pick = pick(&store, &product);
        predict_json(&self.inner, history_csv, future_csv.as_deref(), pick).map_err(js_error)
    }
}

impl Forecaster {
    /// The model's features that are (or are not) calendar features.
    fn features_where(&self, calendar: bool) -> Vec<String> {
        self.inner
            .meta
            .features
            .iter()
            .filter(|f| CALENDAR_FEATURES.contains(&f.as_str()) == calendar)
            .cloned()
            .collect()
    }
}

/// The series JS picks with its optional `store` / `product` arguments.
fn pick<'a>(store: &'a Option<String>, product: &'a Option<String>) -> SeriesPick<'a> {
    SeriesPick {
        store: store.as_deref(),
        product: product.as_deref(),
    }
}

/// Reads history CSV exactly as `predictCsv` does, for charts and tables:
/// `{dates: string[], columns: {name: number[]}}` as JSON text, or the
/// same error `predictCsv` would throw.
#[wasm_bindgen(js_name = parseHistory)]
pub fn parse_history(
    history_csv: &str,
    store: Option<String>,
    product: Option<String>,
) -> Result<String, JsError> {
    history_json(history_csv, pick(&store, &product)).map_err(js_error)
}

/// Native-testable core of `parseHistory`.
pub fn history_json(history_csv: &str, pick: SeriesPick) -> Result<String, String> {
    let s = Series::from_csv_picking(history_csv, pick).map_err(|e| e.to_string())?;
    let dates: Vec<String> = s.dates.iter().map(|d| d.to_string()).collect();
    let columns: serde_json::Map<String, serde_json::Value> = s
        .columns
        .iter()
        .zip(&s.values)
        .map(|(c, v)| (c.clone(), serde_json::json!(v)))
        .collect();
    Ok(serde_json::json!({ "dates": dates, "columns": columns }).to_string())
}

/// Native-testable core of `predictCsv`.
pub fn predict_json(
    f: &SharedForecaster,
    history_csv: &str,
    future_csv: Option<&str>,
    pick: SeriesPick,
) -> Result<String, String> {
    let history = Series::from_csv_picking(history_csv, pick).map_err(|e| e.to_string())?;
    let future = future_csv
        .map(|csv| Series::from_csv_picking(csv, pick))
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

/// Checks an export manifest (`index.json` text) and returns it as JSON
/// text; another format throws, saying to export again.
#[wasm_bindgen(js_name = parseManifest)]
pub fn parse_manifest(text: &str) -> Result<String, JsError> {
    let manifest = Manifest::from_json(text).map_err(js_error)?;
    manifest.to_json().map_err(js_error)
}

/// The file names of an exported model, `[weights, metadata]`, by the
/// naming rules (the JS side spells no suffix).
#[wasm_bindgen(js_name = modelFiles)]
pub fn model_files_of(prefix: &str) -> Vec<String> {
    let (weights, metadata) = model_files(prefix);
    vec![weights, metadata]
}
