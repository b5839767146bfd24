//! The flat storage rule (see ARCHITECTURE.md, Naming): how a model's name
//! becomes a filename prefix and back. This module is the only place these
//! strings are built or parsed.
//!
//! ```
//! use shoptrain_shared::naming::{ModelName, ModelType, Scope, VersionedName};
//! let name = ModelName::new(Scope::product("P001", None).unwrap(), ModelType::Mlstm);
//! let v2 = VersionedName::new(name, 2);
//! assert_eq!(v2.prefix(), "product_P001_all_mlstm_v2");
//! assert_eq!(VersionedName::parse("product_P001_all_mlstm_v2").unwrap(), v2);
//! ```

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Longest escaped token accepted, in bytes.
pub const MAX_TOKEN_BYTES: usize = 64;

/// The keyword that stands for "every store" / "every product" in a scope.
const ALL: &str = "all";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("{what} is empty; give a non-empty id")]
    EmptyId { what: &'static str },
    #[error("{what} {id:?} is {len} bytes once escaped; the limit is {MAX_TOKEN_BYTES} bytes")]
    TooLong {
        what: &'static str,
        id: String,
        len: usize,
    },
    #[error("unknown mode {0:?}; expected one of: product, store, global")]
    UnknownMode(String),
    #[error("unknown model type {0:?}; expected one of: mlstm, transformer, kan")]
    UnknownModelType(String),
    #[error("malformed model name {name:?}: {why}")]
    Malformed { name: String, why: String },
    #[error("alias name {0:?} {1}; use 1 to 64 of A-Z a-z 0-9 . _ -, like 'production'")]
    BadAlias(String, &'static str),
}

/// An alias (`production`, `staging-2`) names a model version in the
/// registry. It must not read as a model prefix, or `predict NAME` would be
/// ambiguous.
pub fn check_alias(name: &str) -> Result<(), NameError> {
    let bad = |why| Err(NameError::BadAlias(name.to_string(), why));
    if name.is_empty() || name.len() > MAX_TOKEN_BYTES {
        return bad("has the wrong length");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        return bad("has characters outside the allowed set");
    }
    if VersionedName::parse(name).is_ok() {
        return bad("looks like a model prefix");
    }
    Ok(())
}

/// What a model's series is selected by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Product,
    Store,
    Global,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Product, Mode::Store, Mode::Global];
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Product => "product",
            Mode::Store => "store",
            Mode::Global => "global",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, NameError> {
        Mode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| NameError::UnknownMode(s.to_string()))
    }
}

/// The three architectures (see ARCHITECTURE.md, Models).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum ModelType {
    Mlstm,
    Transformer,
    Kan,
}

impl ModelType {
    pub const ALL: [ModelType; 3] = [ModelType::Mlstm, ModelType::Transformer, ModelType::Kan];
    pub fn as_str(self) -> &'static str {
        match self {
            ModelType::Mlstm => "mlstm",
            ModelType::Transformer => "transformer",
            ModelType::Kan => "kan",
        }
    }
}

impl fmt::Display for ModelType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ModelType {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, NameError> {
        ModelType::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| NameError::UnknownModelType(s.to_string()))
    }
}

fn is_plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

/// Escapes a data id into a token: bytes outside `[A-Za-z0-9-]` become `~XX`.
/// An id spelled exactly `all` escapes its first byte (`~61ll`) so that it can
/// never be read back as the "every store/product" keyword.
pub fn escape_id(what: &'static str, id: &str) -> Result<String, NameError> {
    if id.is_empty() {
        return Err(NameError::EmptyId { what });
    }
    let mut out = String::with_capacity(id.len());
    for (i, b) in id.bytes().enumerate() {
        let keyword_clash = i == 0 && id == ALL;
        if is_plain(b) && !keyword_clash {
            out.push(b as char);
        } else {
            out.push_str(&format!("~{b:02X}"));
        }
    }
    if out.len() > MAX_TOKEN_BYTES {
        return Err(NameError::TooLong {
            what,
            id: id.to_string(),
            len: out.len(),
        });
    }
    Ok(out)
}

/// Inverse of [`escape_id`]; accepts only the canonical spelling, so that
/// `escape_id(unescape_token(t)) == t` for every accepted token.
pub fn unescape_token(token: &str) -> Result<String, String> {
    let bytes = token.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'~' {
            let hex = token
                .get(i + 1..i + 3)
                .ok_or_else(|| format!("token {token:?} ends inside a ~XX escape"))?;
            if !hex
                .bytes()
                .all(|h| h.is_ascii_digit() || (b'A'..=b'F').contains(&h))
            {
                return Err(format!(
                    "token {token:?} has escape ~{hex}, expected two uppercase hex digits"
                ));
            }
            out.push(u8::from_str_radix(hex, 16).map_err(|e| e.to_string())?);
            i += 3;
        } else if is_plain(b) {
            out.push(b);
            i += 1;
        } else {
            return Err(format!(
                "token {token:?} contains {:?}, which must be written as ~XX",
                b as char
            ));
        }
    }
    let id = String::from_utf8(out).map_err(|_| format!("token {token:?} is not UTF-8"))?;
    match escape_id("id", &id) {
        Ok(canonical) if canonical == token => Ok(id),
        Ok(canonical) => Err(format!(
            "token {token:?} is not in canonical form (expected {canonical:?})"
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// Which series a model forecasts. Ids are kept raw; escaping happens on output.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum Scope {
    /// One product, summed over one store or all stores (`store: None`).
    Product {
        product: String,
        store: Option<String>,
    },
    /// One store, summed over one product or all products (`product: None`).
    Store {
        store: String,
        product: Option<String>,
    },
    /// Every (store, product) series pooled.
    Global,
}

impl Scope {
    pub fn product(product: &str, store: Option<&str>) -> Result<Scope, NameError> {
        let scope = Scope::Product {
            product: product.to_string(),
            store: store.map(str::to_string),
        };
        scope.token()?;
        Ok(scope)
    }

    pub fn store(store: &str, product: Option<&str>) -> Result<Scope, NameError> {
        let scope = Scope::Store {
            store: store.to_string(),
            product: product.map(str::to_string),
        };
        scope.token()?;
        Ok(scope)
    }

    /// What the scope's sales are, in words: "product P001 at all stores",
    /// "store S01 for product P002", "every store and product".
    pub fn describe(&self) -> String {
        match self {
            Scope::Global => "every store and product".into(),
            Scope::Product { product, store } => format!(
                "product {product} at {}",
                store
                    .as_deref()
                    .map_or("all stores".into(), |s| format!("store {s}"))
            ),
            Scope::Store { store, product } => format!(
                "store {store} for {}",
                product
                    .as_deref()
                    .map_or("all products".into(), |p| format!("product {p}"))
            ),
        }
    }

    pub fn mode(&self) -> Mode {
        match self {
            Scope::Product { .. } => Mode::Product,
            Scope::Store { .. } => Mode::Store,
            Scope::Global => Mode::Global,
        }
    }

    pub fn product_id(&self) -> Option<&str> {
        match self {
            Scope::Product { product, .. } => Some(product),
            Scope::Store { product, .. } => product.as_deref(),
            Scope::Global => None,
        }
    }

    pub fn store_id(&self) -> Option<&str> {
        match self {
            Scope::Product { store, .. } => store.as_deref(),
            Scope::Store { store, .. } => Some(store),
            Scope::Global => None,
        }
    }

    /// The scope part of a prefix, e.g. `P001_all` (it contains one `_`).
    pub fn token(&self) -> Result<String, NameError> {
        let optional = |what, id: &Option<String>| match id {
            None => Ok(ALL.to_string()),
            Some(id) => escape_id(what, id),
        };
        Ok(match self {
            Scope::Product { product, store } => {
                format!(
                    "{}_{}",
                    escape_id("product id", product)?,
                    optional("store id", store)?
                )
            }
            Scope::Store { store, product } => {
                format!(
                    "{}_{}",
                    escape_id("store id", store)?,
                    optional("product id", product)?
                )
            }
            Scope::Global => ALL.to_string(),
        })
    }
}

/// A model without its version: the key of the version counter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelName {
    pub scope: Scope,
    pub model_type: ModelType,
}

impl ModelName {
    pub fn new(scope: Scope, model_type: ModelType) -> ModelName {
        ModelName { scope, model_type }
    }

    pub fn mode(&self) -> Mode {
        self.scope.mode()
    }

    /// `product_P001_all_mlstm`.
    pub fn identifier(&self) -> String {
        // Scopes are validated when built; a hand-built one with a bad id
        // still yields a readable (if unparsable) identifier rather than a panic.
        let scope = self
            .scope
            .token()
            .unwrap_or_else(|e| format!("<invalid scope: {e}>"));
        format!("{}_{}_{}", self.mode(), scope, self.model_type)
    }

    /// The logical path, e.g. `product/P001_all/mlstm`.
    pub fn logical_path(&self) -> String {
        let scope = self.scope.token().unwrap_or_default();
        format!("{}/{}/{}", self.mode(), scope, self.model_type)
    }

    pub fn parse(identifier: &str) -> Result<ModelName, NameError> {
        let malformed = |why: String| NameError::Malformed {
            name: identifier.to_string(),
            why,
        };
        let parts: Vec<&str> = identifier.split('_').collect();
        let mode: Mode = parts
            .first()
            .ok_or_else(|| malformed("it is empty".into()))?
            .parse()?;
        let expected = match mode {
            Mode::Global => 3,
            _ => 4,
        };
        if parts.len() != expected {
            return Err(malformed(format!(
                "a {mode} model identifier has {expected} parts separated by '_', found {}",
                parts.len()
            )));
        }
        let model_type: ModelType = parts[expected - 1].parse()?;
        let id = |t: &str| unescape_token(t).map_err(malformed);
        let optional = |t: &str| -> Result<Option<String>, NameError> {
            if t == ALL {
                Ok(None)
            } else {
                id(t).map(Some)
            }
        };
        let scope = match mode {
            Mode::Product => Scope::Product {
                product: id(parts[1])?,
                store: optional(parts[2])?,
            },
            Mode::Store => Scope::Store {
                store: id(parts[1])?,
                product: optional(parts[2])?,
            },
            Mode::Global => {
                if parts[1] != ALL {
                    return Err(malformed(format!(
                        "a global model's scope is 'all', found {:?}",
                        parts[1]
                    )));
                }
                Scope::Global
            }
        };
        Ok(ModelName { scope, model_type })
    }
}

/// A model with its version: its filename prefix names every artifact.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VersionedName {
    pub name: ModelName,
    pub version: u32,
}

impl VersionedName {
    pub fn new(name: ModelName, version: u32) -> VersionedName {
        VersionedName { name, version }
    }

    /// `product_P001_all_mlstm_v2`.
    pub fn prefix(&self) -> String {
        format!("{}_v{}", self.name.identifier(), self.version)
    }

    pub fn logical_path(&self) -> String {
        format!("{}/v{}", self.name.logical_path(), self.version)
    }

    pub fn parse(prefix: &str) -> Result<VersionedName, NameError> {
        let malformed = |why: &str| NameError::Malformed {
            name: prefix.to_string(),
            why: why.to_string(),
        };
        let (identifier, version) = prefix
            .rsplit_once('_')
            .ok_or_else(|| malformed("expected '{identifier}_v{N}'"))?;
        let digits = version
            .strip_prefix('v')
            .ok_or_else(|| malformed("the last part must be the version, like 'v2'"))?;
        if digits.is_empty()
            || !digits.bytes().all(|b| b.is_ascii_digit())
            || digits.starts_with('0')
        {
            return Err(malformed(
                "the version must be 'v' then a positive number without leading zeros",
            ));
        }
        let version: u32 = digits
            .parse()
            .map_err(|_| malformed("the version number is too large"))?;
        Ok(VersionedName {
            name: ModelName::parse(identifier)?,
            version,
        })
    }
}

impl fmt::Display for VersionedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.prefix())
    }
}

/// The files one model version owns, relative to the models dir.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Artifact {
    Weights,
    Metadata,
    LossCurve,
    BestCheckpoint,
    EpochCheckpoint(u32),
}

/// Folder (inside the models dir) holding checkpoints.
pub const CHECKPOINT_DIR: &str = "checkpoints";

impl Artifact {
    /// Path relative to the models directory, `/`-separated.
    pub fn file_name(self, prefix: &str) -> String {
        match self {
            Artifact::Weights => format!("{prefix}_model.safetensors"),
            Artifact::Metadata => format!("{prefix}_metadata.json"),
            Artifact::LossCurve => format!("{prefix}_loss_curve.png"),
            Artifact::BestCheckpoint => {
                format!("{CHECKPOINT_DIR}/{prefix}_checkpoint_best.safetensors")
            }
            Artifact::EpochCheckpoint(n) => {
                format!("{CHECKPOINT_DIR}/{prefix}_checkpoint_epoch_{n}.safetensors")
            }
        }
    }

    /// Reads an artifact's file name (without folder) back into its prefix and kind.
    pub fn parse_file_name(file: &str) -> Option<(VersionedName, Artifact)> {
        let (prefix, kind) = if let Some(p) = file.strip_suffix("_model.safetensors") {
            (p, Artifact::Weights)
        } else if let Some(p) = file.strip_suffix("_metadata.json") {
            (p, Artifact::Metadata)
        } else if let Some(p) = file.strip_suffix("_loss_curve.png") {
            (p, Artifact::LossCurve)
        } else if let Some(p) = file.strip_suffix("_checkpoint_best.safetensors") {
            (p, Artifact::BestCheckpoint)
        } else {
            let stem = file.strip_suffix(".safetensors")?;
            let (p, n) = stem.rsplit_once("_checkpoint_epoch_")?;
            // only the canonical spelling: `05` or `+5` would name epoch 5 twice
            let epoch: u32 = n.parse().ok().filter(|e: &u32| e.to_string() == n)?;
            (p, Artifact::EpochCheckpoint(epoch))
        };
        Some((VersionedName::parse(prefix).ok()?, kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_documented() {
        assert_eq!(escape_id("id", "bbq_ckn").unwrap(), "bbq~5Fckn");
        assert_eq!(escape_id("id", "~").unwrap(), "~7E");
        assert_eq!(escape_id("id", "all").unwrap(), "~61ll");
        assert_eq!(escape_id("id", "é").unwrap(), "~C3~A9");
    }

    #[test]
    fn keyword_all_and_id_all_differ() {
        let every = ModelName::new(Scope::product("P1", None).unwrap(), ModelType::Kan);
        let named = ModelName::new(Scope::product("P1", Some("all")).unwrap(), ModelType::Kan);
        assert_ne!(every.identifier(), named.identifier());
        assert_eq!(ModelName::parse(&named.identifier()).unwrap(), named);
    }

    #[test]
    fn clear_errors() {
        assert_eq!(
            Scope::product("", None).unwrap_err().to_string(),
            "product id is empty; give a non-empty id"
        );
        let long = "x".repeat(65);
        assert!(Scope::store(&long, None)
            .unwrap_err()
            .to_string()
            .contains("65 bytes once escaped; the limit is 64"));
        assert!(VersionedName::parse("warehouse_P1_all_kan_v1")
            .unwrap_err()
            .to_string()
            .contains("unknown mode \"warehouse\""));
        assert!(VersionedName::parse("product_P1_all_lstm_v1")
            .unwrap_err()
            .to_string()
            .contains("unknown model type \"lstm\""));
        for bad in [
            "product_P1_all_kan",
            "product_P1_all_kan_v0",
            "product_P1_all_kan_v01",
            "product_P1_kan_v1",
            "product_P~41_all_kan_v1",
            "product_P~4_all_kan_v1",
            "global_x_kan_v1",
            "product_P.1_all_kan_v1",
        ] {
            assert!(
                matches!(VersionedName::parse(bad), Err(NameError::Malformed { .. })),
                "{bad} should be malformed"
            );
        }
    }

    #[test]
    fn artifact_names_round_trip() {
        let v = VersionedName::parse("store_S~2F1_all_transformer_v12").unwrap();
        for kind in [
            Artifact::Weights,
            Artifact::Metadata,
            Artifact::LossCurve,
            Artifact::BestCheckpoint,
            Artifact::EpochCheckpoint(7),
        ] {
            let path = kind.file_name(&v.prefix());
            let file = path.rsplit('/').next().unwrap();
            assert_eq!(Artifact::parse_file_name(file), Some((v.clone(), kind)));
        }
        assert_eq!(
            Artifact::Weights.file_name("product_P001_all_mlstm_v2"),
            "product_P001_all_mlstm_v2_model.safetensors"
        );
    }

    #[cfg(feature = "clap")]
    #[test]
    fn clap_values_are_the_cli_words() {
        use clap::ValueEnum;
        assert_eq!(Mode::value_variants(), Mode::ALL);
        for m in Mode::ALL {
            assert_eq!(m.to_possible_value().unwrap().get_name(), m.as_str());
        }
        assert_eq!(ModelType::value_variants(), ModelType::ALL);
        for t in ModelType::ALL {
            assert_eq!(t.to_possible_value().unwrap().get_name(), t.as_str());
        }
    }

    /// Found by the prefix_parse fuzzer: a zero-padded or signed
    /// epoch named the same checkpoint as the canonical file name.
    #[test]
    fn non_canonical_epoch_numbers_are_not_artifacts() {
        for file in [
            "product_P001_all_kan_v1_checkpoint_epoch_05.safetensors",
            "product_P001_all_kan_v1_checkpoint_epoch_+5.safetensors",
        ] {
            assert_eq!(Artifact::parse_file_name(file), None, "{file}");
        }
        assert!(Artifact::parse_file_name(
            "product_P001_all_kan_v1_checkpoint_epoch_5.safetensors"
        )
        .is_some());
    }
}
