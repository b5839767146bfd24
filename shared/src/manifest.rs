//! The export manifest, `index.json`: the one home of the export format.
//! `shoptrain export` writes it, the browser runtime reads it (through wasm,
//! so it is this same type) and refuses a manifest of another format. Every
//! file name in it comes from the naming rules ([`Artifact`]); the JS side
//! never spells a suffix or parses a version out of a prefix.

use crate::metadata::ScopeIds;
use crate::metrics::{Metrics, QuantileMetrics, Quantiles};
use crate::naming::{Artifact, Mode, ModelType};
use serde::{Deserialize, Serialize};

/// The format this build writes and reads. 2 added `version` and `sample`.
pub const FORMAT: &str = "shoptrain-export/2";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub exported_at: String,
    pub models: Vec<ManifestEntry>,
}

/// One exported model: where its files are, and a sample history with the
/// native forecast of it (what the browser must reproduce).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub prefix: String,
    pub version: u32,
    pub model_type: ModelType,
    pub mode: Mode,
    pub scope: String,
    pub scope_ids: ScopeIds,
    /// What is forecast, in words ("product P001 at all stores").
    pub series: String,
    pub window: usize,
    pub horizon: usize,
    pub features: Vec<String>,
    /// File names beside `index.json`.
    pub weights: String,
    pub metadata: String,
    pub sample: String,
    pub metrics: Option<Metrics>,
    pub quantile_metrics: Option<QuantileMetrics>,
    pub sample_history_csv: String,
    pub native_forecast: NativeForecast,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NativeForecast {
    pub dates: Vec<String>,
    pub values: Vec<f32>,
    pub quantiles: Option<Quantiles>,
}

/// The sample history file of a model (`sample_{prefix}.csv`).
pub fn sample_file(prefix: &str) -> String {
    format!("sample_{prefix}.csv")
}

/// The files of an exported model, by the naming rules: `(weights, metadata)`.
pub fn model_files(prefix: &str) -> (String, String) {
    (
        Artifact::Weights.file_name(prefix),
        Artifact::Metadata.file_name(prefix),
    )
}

impl Manifest {
    /// Parses `index.json`, refusing another format with what to do.
    pub fn from_json(text: &str) -> Result<Manifest, String> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| format!("the export manifest is not valid JSON: {e}"))?;
        match value.get("format").and_then(|f| f.as_str()) {
            Some(FORMAT) => {}
            found => {
                return Err(format!(
                    "the export manifest is {}, this runtime reads {FORMAT}: export the models again with this version's `shoptrain export`",
                    found.map_or("of no known format".to_string(), |f| format!("format {f}"))
                ))
            }
        }
        serde_json::from_value(value)
            .map_err(|e| format!("the export manifest ({FORMAT}) is incomplete or wrong: {e}"))
    }

    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_format_is_refused_with_what_to_do() {
        let old = r#"{"format":"shoptrain-export/1","exported_at":"x","models":[]}"#;
        let err = Manifest::from_json(old).unwrap_err();
        assert!(
            err.contains("format shoptrain-export/1, this runtime reads shoptrain-export/2"),
            "{err}"
        );
        assert!(err.contains("export the models again"), "{err}");
        let none = Manifest::from_json(r#"{"models":[]}"#).unwrap_err();
        assert!(none.contains("of no known format"), "{none}");
        let ok = Manifest::from_json(&format!(
            r#"{{"format":"{FORMAT}","exported_at":"x","models":[]}}"#
        ))
        .unwrap();
        assert!(ok.models.is_empty());
        assert_eq!(
            model_files("product_P001_all_kan_v2"),
            (
                "product_P001_all_kan_v2_model.safetensors".to_string(),
                "product_P001_all_kan_v2_metadata.json".to_string()
            )
        );
    }
}
