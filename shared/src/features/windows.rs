//! Windows: the training and validation windows cut from a series, their
//! chronological split, and the last window a forecast reads.

use super::{
    feature_rows, FeatureError, KnownFuture, Normalization, Scale, Series, CALENDAR_FEATURES,
};
use chrono::Duration;

/// Windows cut from one series: inputs `[n, input_width]` (the normalised
/// history, then the known-future block if any), targets `[n, horizon]`.
#[derive(Debug, Clone, Default)]
pub struct Windows {
    pub x: Vec<f32>,
    pub y: Vec<f32>,
    /// Raw sales targets, for metrics in sales units.
    pub y_raw: Vec<f32>,
    pub scales: Vec<Scale>,
    /// Raw sales of each window's input, for naive baselines.
    pub history_sales: Vec<Vec<f32>>,
    pub count: usize,
}

impl Windows {
    pub fn extend(&mut self, other: Windows) {
        self.x.extend(other.x);
        self.y.extend(other.y);
        self.y_raw.extend(other.y_raw);
        self.scales.extend(other.scales);
        self.history_sales.extend(other.history_sales);
        self.count += other.count;
    }
}

/// How a series' windows split chronologically into train and validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    pub train: usize,
    pub val: usize,
}

impl Split {
    /// Last `val_ratio` of the windows validate (at least one of each).
    pub fn new(
        label: &str,
        days: usize,
        window: usize,
        horizon: usize,
        val_ratio: f64,
    ) -> Result<Split, FeatureError> {
        let total = (days + 1).saturating_sub(window + horizon);
        let val = ((total as f64 * val_ratio).round() as usize).max(1);
        if total < val + 1 {
            // smallest day count that leaves one training window beside the validation ones
            let needed_windows = (2..)
                .find(|n| n - ((*n as f64 * val_ratio).round() as usize).max(1) >= 1)
                .unwrap_or(2);
            return Err(FeatureError::TooShort {
                series: label.to_string(),
                days,
                window,
                horizon,
                needed: window + horizon + needed_windows - 1,
            });
        }
        Ok(Split {
            train: total - val,
            val,
        })
    }

    /// Rows the training windows touch (inputs and targets): normalisation is
    /// fitted on these only.
    pub fn train_rows(&self, window: usize, horizon: usize) -> usize {
        self.train + window + horizon - 1
    }
}

/// Cuts windows `first..first+count` from raw feature rows; `known` gives
/// each its forecast days' known columns (at their `positions` in a row),
/// `ets` (by window start, in sales) the ETS forecast a hybrid model reads
/// last ([`crate::hybrid`]).
pub fn make_windows(
    rows: &[Vec<f32>],
    norm: &Normalization,
    known: Option<(&KnownFuture, &[usize])>,
    ets: Option<&[Vec<f32>]>,
    (window, horizon): (usize, usize),
    first: usize,
    count: usize,
) -> Windows {
    let mut out = Windows::default();
    for start in first..first + count {
        let input = &rows[start..start + window];
        let (x, scale) = norm.normalize_window(input);
        out.x.extend(x);
        if let Some((known, positions)) = known {
            let future = &rows[start + window..start + window + horizon];
            out.x
                .extend(known.block(positions, input, Some(future), horizon, scale));
        }
        if let Some(ets) = ets {
            out.x.extend(ets[start].iter().map(|v| scale.normalize(*v)));
        }
        for t in 0..horizon {
            let sales = rows[start + window + t][0];
            out.y_raw.push(sales);
            out.y.push(scale.normalize(sales));
        }
        out.history_sales.push(input.iter().map(|r| r[0]).collect());
        out.scales.push(scale);
        out.count += 1;
    }
    out
}

/// History handed to a forecaster: the window it reads.
impl Series {
    /// The last `window` days, checked to be consecutive, as raw feature rows.
    pub fn last_window(
        &self,
        features: &[String],
        window: usize,
    ) -> Result<Vec<Vec<f32>>, FeatureError> {
        let err = |m: String| FeatureError::History(m);
        for f in features {
            if !self.columns.contains(f) && !CALENDAR_FEATURES.contains(&f.as_str()) {
                return Err(err(format!(
                    "column {f:?} is missing; the model needs columns {}",
                    features
                        .iter()
                        .filter(|f| !CALENDAR_FEATURES.contains(&f.as_str()))
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        if self.dates.len() < window {
            return Err(err(format!(
                "{} rows given, the model needs at least {window} (its window)",
                self.dates.len()
            )));
        }
        let start = self.dates.len() - window;
        for pair in self.dates[start..].windows(2) {
            if pair[1] != pair[0] + Duration::days(1) {
                return Err(err(format!(
                    "the last {window} dates must be consecutive days; {} is followed by {}",
                    pair[0], pair[1]
                )));
            }
        }
        for (c, col) in self.columns.iter().enumerate() {
            if let Some(v) = self.values[c][start..].iter().find(|v| !v.is_finite()) {
                return Err(err(format!("column {col:?} has a non-finite value {v}")));
            }
        }
        let rows = feature_rows(self, features)?;
        Ok(rows[start..].to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::feature_names;

    #[test]
    fn split_is_chronological_and_too_short_is_explained() {
        let s = Split::new("s", 100, 30, 7, 0.2).unwrap();
        assert_eq!(s.train + s.val, 64);
        assert_eq!(s.val, 13);
        let err = Split::new("product P1", 36, 30, 7, 0.2).unwrap_err();
        assert!(err.to_string().contains("product P1 has 36 days"), "{err}");
        assert!(err.to_string().contains("needs at least 38 days"), "{err}");
        assert!(Split::new("s", 38, 30, 7, 0.2).is_ok());
    }

    #[test]
    fn last_window_checks_dates_and_columns() {
        let csv = "date,sales\n2024-01-01,1\n2024-01-02,2\n2024-01-04,3\n";
        let s = Series::from_csv(csv).unwrap();
        let f = feature_names(&[]);
        assert!(s
            .last_window(&f, 2)
            .unwrap_err()
            .to_string()
            .contains("2024-01-02 is followed by 2024-01-04"));
        assert_eq!(s.last_window(&f, 1).unwrap()[0].len(), 6);
        let nf = feature_names(&["price".into()]);
        assert!(s
            .last_window(&nf, 1)
            .unwrap_err()
            .to_string()
            .contains("column \"price\" is missing"));
    }
}
