//! Normalisation of model inputs: per-feature statistics fitted on the
//! training part, or each window by its own statistics.

use serde::{Deserialize, Serialize};

/// How product and store models normalise (global models always use instance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum NormChoice {
    /// Each input window by its own statistics (RevIN-style): follows level shifts.
    #[default]
    Instance,
    /// Per-feature statistics fitted on the training part.
    Fitted,
}

/// Per-feature statistics, or per-window statistics (RevIN-style instance
/// normalisation) for global models that must forecast any series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Normalization {
    Fitted { mean: Vec<f32>, std: Vec<f32> },
    Instance,
}

/// Smallest standard deviation used to scale; relative to the mean so that a
/// flat window of large sales does not explode.
fn floor_std(std: f32, mean: f32) -> f32 {
    std.max(1e-3).max(0.05 * mean.abs())
}

pub(super) fn column_stats<'a>(
    rows: impl Iterator<Item = &'a [f32]>,
    nfeat: usize,
) -> (Vec<f32>, Vec<f32>) {
    let mut sum = vec![0f64; nfeat];
    let mut sq = vec![0f64; nfeat];
    let mut n = 0f64;
    for row in rows {
        for (f, v) in row.iter().enumerate() {
            sum[f] += *v as f64;
            sq[f] += (*v as f64) * (*v as f64);
        }
        n += 1.0;
    }
    let n = n.max(1.0);
    let mean: Vec<f32> = sum.iter().map(|s| (s / n) as f32).collect();
    let std = sq
        .iter()
        .zip(&mean)
        .map(|(q, m)| {
            let var = (q / n - (*m as f64) * (*m as f64)).max(0.0);
            floor_std(var.sqrt() as f32, *m)
        })
        .collect();
    (mean, std)
}

impl Normalization {
    /// Which choice this normalisation is.
    pub fn choice(&self) -> NormChoice {
        match self {
            Normalization::Instance => NormChoice::Instance,
            Normalization::Fitted { .. } => NormChoice::Fitted,
        }
    }

    /// Fits per-feature statistics on training rows only.
    pub fn fit(rows: &[Vec<f32>]) -> Normalization {
        let nfeat = rows.first().map_or(0, Vec::len);
        let (mean, std) = column_stats(rows.iter().map(Vec::as_slice), nfeat);
        Normalization::Fitted { mean, std }
    }

    pub fn check(&self, nfeat: usize) -> Result<(), String> {
        match self {
            Normalization::Fitted { mean, std } if mean.len() != nfeat || std.len() != nfeat => {
                Err(format!(
                    "normalisation has {} means and {} stds for {nfeat} features",
                    mean.len(),
                    std.len()
                ))
            }
            Normalization::Fitted { std, .. } if std.iter().any(|s| s.is_nan() || *s <= 0.0) => {
                Err("normalisation std must be positive".into())
            }
            _ => Ok(()),
        }
    }

    /// Normalises one input window (`rows` = `window` rows of raw features)
    /// into a flat `[window * features]` vector, returning the sales scale
    /// `(mean, std)` that maps model outputs back to sales.
    pub fn normalize_window(&self, rows: &[Vec<f32>]) -> (Vec<f32>, Scale) {
        let nfeat = rows.first().map_or(0, Vec::len);
        let (mean, std) = match self {
            Normalization::Fitted { mean, std } => (mean.clone(), std.clone()),
            Normalization::Instance => column_stats(rows.iter().map(Vec::as_slice), nfeat),
        };
        let mut x = Vec::with_capacity(rows.len() * nfeat);
        for row in rows {
            for (f, v) in row.iter().enumerate() {
                x.push((v - mean[f]) / std[f]);
            }
        }
        (
            x,
            Scale {
                mean: mean[0],
                std: std[0],
            },
        )
    }
}

/// Maps normalised sales back to sales.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub mean: f32,
    pub std: f32,
}

impl Scale {
    pub fn normalize(&self, sales: f32) -> f32 {
        (sales - self.mean) / self.std
    }
    pub fn denormalize(&self, z: f32) -> f32 {
        z * self.std + self.mean
    }
    /// The std a quantile's distance from the median is measured in: the
    /// window's own, but never under the model's `floor` (the spread of its
    /// training windows), so a calm month before the forecast cannot shrink
    /// the interval below what the series usually does (QUALITY.md,
    /// experiment 25).
    pub fn spread(&self, floor: Option<f32>) -> f32 {
        floor.map_or(self.std, |f| self.std.max(f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_normalisation_is_scale_free() {
        let rows: Vec<Vec<f32>> = (0..10).map(|t| vec![t as f32 * 3.0 + 100.0]).collect();
        let big: Vec<Vec<f32>> = rows.iter().map(|r| vec![r[0] * 10.0]).collect();
        let (a, _) = Normalization::Instance.normalize_window(&rows);
        let (b, sb) = Normalization::Instance.normalize_window(&big);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-5);
        }
        assert!((sb.denormalize(b[3]) - big[3][0]).abs() < 1e-2);
    }

    #[test]
    fn spread_is_the_std_held_up_by_the_floor() {
        let calm = Scale {
            mean: 50.0,
            std: 4.0,
        };
        assert_eq!(calm.spread(None), 4.0);
        assert_eq!(calm.spread(Some(10.0)), 10.0);
        assert_eq!(calm.spread(Some(2.0)), 4.0);
    }

    #[cfg(feature = "clap")]
    #[test]
    fn clap_values_are_the_cli_words() {
        use clap::ValueEnum;
        let names: Vec<String> = NormChoice::value_variants()
            .iter()
            .map(|c| c.to_possible_value().unwrap().get_name().to_string())
            .collect();
        assert_eq!(names, ["instance", "fitted"]);
    }

    #[test]
    fn choice_names_the_kind() {
        assert_eq!(Normalization::Instance.choice(), NormChoice::Instance);
        let fitted = Normalization::fit(&[vec![1.0, 2.0], vec![3.0, 4.0]]);
        assert_eq!(fitted.choice(), NormChoice::Fitted);
        assert_eq!(NormChoice::default(), NormChoice::Instance);
        assert_eq!(
            serde_json::to_string(&NormChoice::Fitted).unwrap(),
            "\"fitted\""
        );
    }
}
