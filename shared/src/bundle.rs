//! The weights bundle: a safetensors file whose `__metadata__` map names the
//! format, the model prefix and the model type. The trainer writes it with
//! [`write_bundle`] and [`header`]; the trainer and the browser runtime read
//! it back with [`read_weights`], which checks every length before trusting it.

use crate::metadata::{MetadataError, ModelMetadata};
use crate::models::{Model, ModelConfig};
use crate::naming::ModelType;
use candle_core::{DType, Device, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarBuilder};
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
    #[error("cannot serialise weights: {0}")]
    Serialize(String),
}

/// SHA-256 of bytes, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Tensors by name.
pub type NamedTensors = HashMap<String, Tensor>;

/// The `__metadata__` map every bundle carries: format, prefix and model type.
/// Callers may add keys (checkpoints record their epoch and validation loss).
pub fn header(prefix: &str, model_type: ModelType) -> HashMap<String, String> {
    HashMap::from([
        (FORMAT_KEY.to_string(), FORMAT_VALUE.to_string()),
        (PREFIX_KEY.to_string(), prefix.to_string()),
        (MODEL_TYPE_KEY.to_string(), model_type.to_string()),
    ])
}

/// Serialises named tensors, moved to the CPU as F32, with `info` as the
/// `__metadata__` map: the bytes of a weights file or checkpoint.
pub fn write_bundle(
    tensors: &[(String, Tensor)],
    info: HashMap<String, String>,
) -> Result<Vec<u8>, BundleError> {
    let cpu: Vec<(String, Tensor)> = tensors
        .iter()
        .map(|(n, t)| Ok((n.clone(), t.to_device(&Device::Cpu)?.to_dtype(DType::F32)?)))
        .collect::<candle_core::Result<_>>()
        .map_err(|e| BundleError::Serialize(e.to_string()))?;
    let bytes = safetensors::serialize(cpu.iter().map(|(n, t)| (n.as_str(), t)), Some(info))
        .map_err(|e| BundleError::Serialize(e.to_string()))?;
    canonical_header(bytes)
}

/// Rewrites the JSON header with its keys sorted. safetensors writes the
/// string map from a `HashMap`, so the same weights would otherwise get a
/// different file (and sha256) on each run. Same keys, same length.
fn canonical_header(mut bytes: Vec<u8>) -> Result<Vec<u8>, BundleError> {
    let bad = |what: &str| BundleError::Serialize(format!("unexpected header: {what}"));
    let len_bytes: [u8; 8] = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("too short"))?;
    let n = u64::from_le_bytes(len_bytes) as usize;
    let header = bytes.get(8..8 + n).ok_or_else(|| bad("truncated"))?;
    let value: serde_json::Value =
        serde_json::from_slice(header).map_err(|e| bad(&e.to_string()))?;
    // serde_json's map is ordered by key (no `preserve_order` feature here)
    let mut sorted = serde_json::to_vec(&value).map_err(|e| bad(&e.to_string()))?;
    if sorted.len() > n {
        return Err(bad("sorted header is longer"));
    }
    sorted.resize(n, b' ');
    bytes[8..8 + n].copy_from_slice(&sorted);
    Ok(bytes)
}

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

/// Checks a bundle's header map and bytes against the metadata it ships
/// with: the prefix and model type must match, and so must the sha256 when
/// the metadata records one.
pub(crate) fn check_against(
    meta: &ModelMetadata,
    info: &HashMap<String, String>,
    weights: &[u8],
) -> Result<(), BundleError> {
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
    Ok(())
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

/// Builds the model of an architecture from named tensors, checking that
/// every tensor it reads is present with the right shape and that no tensor
/// is left over.
pub(crate) fn build_model(
    cfg: &ModelConfig,
    tensors: NamedTensors,
    device: &Device,
) -> Result<Model, BundleError> {
    let used = Arc::new(Mutex::new(BTreeSet::new()));
    let names: BTreeSet<String> = tensors.keys().cloned().collect();
    let backend: Box<dyn SimpleBackend> = Box::new(CheckedTensors {
        tensors,
        used: used.clone(),
    });
    let vb = VarBuilder::from_backend(backend, DType::F32, device.clone());
    let model = Model::new(cfg, vb).map_err(|e| BundleError::Architecture(e.to_string()))?;
    let used = used.lock().map(|u| u.clone()).unwrap_or_default();
    let unused: Vec<String> = names.difference(&used).cloned().collect();
    if !unused.is_empty() {
        return Err(BundleError::Unused(unused.join(", ")));
    }
    Ok(model)
}

/// Names and shapes of every tensor an architecture reads: what a bundle
/// for it must hold, and nothing more.
pub fn expected_tensors(cfg: &ModelConfig) -> candle_core::Result<Vec<(String, Vec<usize>)>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_has_the_three_standard_keys() {
        let h = header("product_P001_all_kan_v2", ModelType::Kan);
        assert_eq!(h.len(), 3);
        assert_eq!(h[FORMAT_KEY], FORMAT_VALUE);
        assert_eq!(h[PREFIX_KEY], "product_P001_all_kan_v2");
        assert_eq!(h[MODEL_TYPE_KEY], "kan");
    }

    #[test]
    fn write_then_read_round_trips_names_values_and_info() {
        let a = Tensor::new(&[[1f32, -2.5], [3.0, 0.25]], &Device::Cpu).unwrap();
        // F64 tensors are stored as F32
        let b = Tensor::new(&[7f64, 8.0, 9.5], &Device::Cpu).unwrap();
        let mut info = header("store_S1_all_mlstm_v1", ModelType::Mlstm);
        info.insert("epoch".into(), "3".into());
        let bytes = write_bundle(&[("a".into(), a), ("b.w".into(), b)], info.clone()).unwrap();
        let (tensors, read_info) = read_weights(&bytes).unwrap();
        assert_eq!(read_info, info);
        let mut names: Vec<&String> = tensors.keys().collect();
        names.sort();
        assert_eq!(names, ["a", "b.w"]);
        assert_eq!(tensors["a"].dims(), [2, 2]);
        assert_eq!(
            tensors["a"].to_vec2::<f32>().unwrap(),
            vec![vec![1.0, -2.5], vec![3.0, 0.25]]
        );
        assert_eq!(tensors["b.w"].dtype(), DType::F32);
        assert_eq!(
            tensors["b.w"].to_vec1::<f32>().unwrap(),
            vec![7.0, 8.0, 9.5]
        );
        // the same tensors and map serialise to the same bytes
        let again: Vec<(String, Tensor)> = ["a", "b.w"]
            .iter()
            .map(|n| (n.to_string(), tensors[*n].clone()))
            .collect();
        assert_eq!(write_bundle(&again, info).unwrap(), bytes);
    }

    #[test]
    fn truncated_bundles_are_explained() {
        let t = Tensor::new(&[1f32, 2.0], &Device::Cpu).unwrap();
        let bytes = write_bundle(&[("t".into(), t)], HashMap::new()).unwrap();
        assert!(matches!(
            read_weights(&bytes[..4]),
            Err(BundleError::TooShort(4))
        ));
        assert!(matches!(
            read_weights(&bytes[..bytes.len() - 1]),
            Err(BundleError::DataSize {
                described: 8,
                found: 7
            })
        ));
    }

    #[test]
    fn same_weights_give_the_same_bytes_whatever_the_map_order() {
        let t = Tensor::new(&[1f32, 2., 3.], &Device::Cpu).unwrap();
        let tensors = vec![("w".to_string(), t)];
        let keys = [
            "format",
            "prefix",
            "model_type",
            "epoch",
            "state",
            "val_loss",
        ];
        let first = write_bundle(
            &tensors,
            keys.iter()
                .map(|k| (k.to_string(), format!("v{k}")))
                .collect(),
        )
        .unwrap();
        for _ in 0..20 {
            // a fresh HashMap per call: a new random iteration order
            let info: HashMap<String, String> = keys
                .iter()
                .rev()
                .map(|k| (k.to_string(), format!("v{k}")))
                .collect();
            assert_eq!(write_bundle(&tensors, info).unwrap(), first);
        }
        let (read, info) = read_weights(&first).unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(info["state"], "vstate");
    }
}
