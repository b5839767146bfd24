//! Loading an exported model (weights bytes + metadata JSON) and forecasting
//! from history. The trainer's `predict`/`export` and the browser runtime both
//! go through [`Forecaster`], which is what makes their numbers agree.

use crate::features::{FeatureError, Series};
use crate::metadata::{MetadataError, ModelMetadata};
use crate::models::Model;
use candle_core::{DType, Device, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarBuilder};
use chrono::{Duration, NaiveDate};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

/// Largest safetensors JSON header accepted. Ours are a few KiB; a huge
/// claimed size means a corrupt or hostile file.
pub const MAX_HEADER_BYTES: u64 = 1 << 20;

/// Keys written into the safetensors `__metadata__` map.
pub const FORMAT_KEY: &str = "format";
pub const FORMAT_VALUE: &str = "shoptrain/1";
pub const PREFIX_KEY: &str = "prefix";
pub const MODEL_TYPE_KEY: &str = "model_type";

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    #[error("weights file is {0} bytes, too short to be safetensors (truncated download?)")]
    TooShort(usize),
    #[error("weights header claims {claimed} bytes (limit {MAX_HEADER_BYTES}); the file is corrupt or not safetensors")]
    HeaderTooLarge { claimed: u64 },
    #[error("weights header claims {claimed} bytes but the file has only {available} after it (truncated download?)")]
    Truncated { claimed: u64, available: usize },
    #[error("weights header describes {described} bytes of tensor data but the file holds {found} (truncated download, or bytes appended?)")]
    DataSize { described: u64, found: usize },
    #[error("weights are not valid safetensors: {0}")]
    Safetensors(String),
    #[error("weights tensor {name:?} is {dtype}, expected F32")]
    Dtype { name: String, dtype: String },
    #[error("weights were saved for {key} {found:?} but the metadata says {expected:?}")]
    HeaderMismatch {
        key: &'static str,
        found: String,
        expected: String,
    },
    #[error("weights sha256 {found} does not match the metadata's {expected}: the file is corrupt or belongs to another model")]
    Checksum { found: String, expected: String },
    #[error("weights do not fit the architecture in the metadata: {0}")]
    Architecture(String),
    #[error("weights hold tensors the architecture does not use: {0}")]
    Unused(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ForecastError {
    #[error(transparent)]
    Features(#[from] FeatureError),
    #[error("model failed to run: {0}")]
    Model(#[from] candle_core::Error),
    #[error("model produced a non-finite forecast")]
    NonFinite,
}

/// SHA-256 of bytes, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Named tensors that remember which names the model asked for, so unused
/// (foreign) tensors in a bundle are caught.
struct CheckedTensors {
    tensors: HashMap<String, Tensor>,
    used: Arc<Mutex<BTreeSet<String>>>,
}

impl SimpleBackend for CheckedTensors {
    fn get(
        &self,
        s: Shape,
        name: &str,
        _: Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        let t = self.get_unchecked(name, dtype, dev)?;
        if t.shape() != &s {
            candle_core::bail!(
                "tensor {name:?} has shape {:?}, the architecture needs {:?}",
                t.dims(),
                s.dims()
            );
        }
        Ok(t)
    }
    fn get_unchecked(&self, name: &str, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        let t = self
            .tensors
            .get(name)
            .ok_or_else(|| candle_core::Error::Msg(format!("tensor {name:?} is missing")))?;
        if let Ok(mut used) = self.used.lock() {
            used.insert(name.to_string());
        }
        t.to_dtype(dtype)?.to_device(dev)
    }
    fn contains_tensor(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }
}

/// Tensors by name.
pub type NamedTensors = HashMap<String, Tensor>;

/// Bytes of tensor data a safetensors JSON header describes (the largest end offset).
fn described_data_len(header: &[u8]) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_slice(header).ok()?;
    value
        .as_object()?
        .values()
        .filter_map(|t| t.get("data_offsets")?.get(1)?.as_u64())
        .max()
}

/// Reads and checks a safetensors buffer into named f32 tensors and the header's string map.
pub fn read_weights(bytes: &[u8]) -> Result<(NamedTensors, HashMap<String, String>), BundleError> {
    if bytes.len() < 8 {
        return Err(BundleError::TooShort(bytes.len()));
    }
    let mut head = [0u8; 8];
    head.copy_from_slice(&bytes[..8]);
    let claimed = u64::from_le_bytes(head);
    if claimed > MAX_HEADER_BYTES {
        return Err(BundleError::HeaderTooLarge { claimed });
    }
    if claimed as usize > bytes.len() - 8 {
        return Err(BundleError::Truncated {
            claimed,
            available: bytes.len() - 8,
        });
    }
    let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| match e {
        safetensors::SafeTensorError::MetadataIncompleteBuffer => {
            let header = &bytes[8..8 + claimed as usize];
            BundleError::DataSize {
                described: described_data_len(header).unwrap_or(0),
                found: bytes.len() - 8 - claimed as usize,
            }
        }
        e => BundleError::Safetensors(e.to_string()),
    })?;
    let (_, header) = safetensors::SafeTensors::read_metadata(bytes)
        .map_err(|e| BundleError::Safetensors(e.to_string()))?;
    let info = header.metadata().clone().unwrap_or_default();
    let mut tensors = HashMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() != safetensors::Dtype::F32 {
            return Err(BundleError::Dtype {
                name,
                dtype: format!("{:?}", view.dtype()),
            });
        }
        let t = Tensor::from_raw_buffer(view.data(), DType::F32, view.shape(), &Device::Cpu)
            .map_err(|e| BundleError::Safetensors(e.to_string()))?;
        tensors.insert(name, t);
    }
    Ok((tensors, info))
}

/// A dated forecast in sales units.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub dates: Vec<NaiveDate>,
    pub values: Vec<f32>,
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
        for (key, expected) in [
            (PREFIX_KEY, meta.prefix.clone()),
            (MODEL_TYPE_KEY, meta.model_type.to_string()),
        ] {
            match info.get(key) {
                Some(found) if *found == expected => {}
                found => {
                    return Err(BundleError::HeaderMismatch {
                        key,
                        found: found.cloned().unwrap_or_else(|| "(none)".into()),
                        expected,
                    })
                }
            }
        }
        if let Some(expected) = &meta.weights_sha256 {
            let found = sha256_hex(weights);
            if &found != expected {
                return Err(BundleError::Checksum {
                    found,
                    expected: expected.clone(),
                });
            }
        }
        Self::from_tensors(meta, tensors, Device::Cpu)
    }

    /// Builds a forecaster from tensors already in memory (trainer side).
    pub fn from_tensors(
        meta: ModelMetadata,
        tensors: HashMap<String, Tensor>,
        device: Device,
    ) -> Result<Forecaster, BundleError> {
        let used = Arc::new(Mutex::new(BTreeSet::new()));
        let names: BTreeSet<String> = tensors.keys().cloned().collect();
        let backend: Box<dyn SimpleBackend> = Box::new(CheckedTensors {
            tensors,
            used: used.clone(),
        });
        let vb = VarBuilder::from_backend(backend, DType::F32, device.clone());
        let model = Model::new(&meta.architecture, vb)
            .map_err(|e| BundleError::Architecture(e.to_string()))?;
        let used = used.lock().map(|u| u.clone()).unwrap_or_default();
        let unused: Vec<String> = names.difference(&used).cloned().collect();
        if !unused.is_empty() {
            return Err(BundleError::Unused(unused.join(", ")));
        }
        Ok(Forecaster {
            meta,
            model,
            device,
        })
    }

    pub fn window(&self) -> usize {
        self.meta.window
    }
    pub fn horizon(&self) -> usize {
        self.meta.horizon
    }

    /// Runs the model on normalised windows `[n, window*features]`, returning
    /// normalised outputs `[n, horizon]`.
    pub fn forward_normalized(&self, x: &[f32], n: usize) -> Result<Vec<f32>, ForecastError> {
        let f = self.meta.features.len();
        let input = Tensor::from_slice(x, (n, self.meta.window, f), &self.device)?;
        let out = self.model.forward(&input, None)?;
        let values = out.flatten_all()?.to_vec1::<f32>()?;
        if values.iter().any(|v| !v.is_finite()) {
            return Err(ForecastError::NonFinite);
        }
        Ok(values)
    }

    /// Forecasts the `horizon` days after the history's last date.
    pub fn predict(&self, history: &Series) -> Result<Forecast, ForecastError> {
        let rows = history.last_window(&self.meta.features, self.meta.window)?;
        let (x, scale) = self.meta.normalization.normalize_window(&rows);
        let z = self.forward_normalized(&x, 1)?;
        let last = *history
            .dates
            .last()
            .ok_or_else(|| FeatureError::History("history is empty".into()))?;
        Ok(Forecast {
            dates: (1..=self.meta.horizon as i64)
                .map(|d| last + Duration::days(d))
                .collect(),
            values: z.iter().map(|v| to_sales(scale.denormalize(*v))).collect(),
        })
    }
}

/// Sales cannot be negative: a forecast below zero is reported as zero.
pub fn to_sales(v: f32) -> f32 {
    v.max(0.0)
}

/// Names and shapes of every tensor an architecture reads.
pub fn expected_tensors(
    cfg: &crate::models::ModelConfig,
) -> candle_core::Result<Vec<(String, Vec<usize>)>> {
    let varmap = candle_nn::VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    Model::new(cfg, vb)?;
    let data = varmap
        .data()
        .lock()
        .map_err(|_| candle_core::Error::Msg("var map poisoned".into()))?;
    let mut out: Vec<(String, Vec<usize>)> = data
        .iter()
        .map(|(n, v)| (n.clone(), v.dims().to_vec()))
        .collect();
    out.sort();
    Ok(out)
}
