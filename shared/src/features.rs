//! Series selection, calendar features, normalisation and windowing
//! (DESIGN §2). The trainer and the browser both call these functions, so a
//! forecast in wasm sees exactly the numbers the trainer saw.

use crate::naming::Scope;
use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::f64::consts::TAU;

/// The forecast target; always the first feature.
pub const TARGET: &str = "sales";

/// Features derived from the date, never read from data.
pub const CALENDAR_FEATURES: [&str; 5] =
    ["dow_sin", "dow_cos", "month_sin", "month_cos", "is_weekend"];

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FeatureError {
    #[error("unknown {what} {id:?}; known {what}s include: {known}")]
    UnknownId {
        what: &'static str,
        id: String,
        known: String,
    },
    #[error(
        "{series}: dates {from} to {to} are missing (use --fill zero or --fill ffill to fill them)"
    )]
    Gap {
        series: String,
        from: NaiveDate,
        to: NaiveDate,
    },
    #[error("{series} has {days} days, but window {window} + horizon {horizon} with a validation split needs at least {needed} days; use a shorter --window/--horizon or more data")]
    TooShort {
        series: String,
        days: usize,
        window: usize,
        horizon: usize,
        needed: usize,
    },
    #[error("feature {0:?} is neither a data column nor a calendar feature")]
    UnknownFeature(String),
    #[error("history: {0}")]
    History(String),
}

/// How missing days inside a series are filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Fill {
    /// Zero sales and zero flags; other columns carried forward.
    #[default]
    Zero,
    /// Every column carried forward from the previous day.
    Ffill,
    /// A gap is an error.
    Error,
}

impl Fill {
    /// Reads back [`Fill::as_str`] as recorded in metadata (default `zero`).
    pub fn from_recorded(s: &str) -> Fill {
        match s {
            "ffill" => Fill::Ffill,
            "error" => Fill::Error,
            _ => Fill::Zero,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Fill::Zero => "zero",
            Fill::Ffill => "ffill",
            Fill::Error => "error",
        }
    }
}

/// One validated CSV row: the values follow [`Dataset::columns`].
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub date: NaiveDate,
    pub store: String,
    pub product: String,
    pub values: Vec<f64>,
}

/// A loaded long-format dataset: `columns[0]` is `sales`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub columns: Vec<String>,
    pub rows: Vec<Observation>,
}

/// A daily series with contiguous dates; `values[c][t]` is column `c` on day `t`.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub dates: Vec<NaiveDate>,
    pub columns: Vec<String>,
    pub values: Vec<Vec<f64>>,
}

/// How a column is combined when several series are summed into one.
fn aggregate(column: &str, values: &[f64]) -> f64 {
    if column == TARGET {
        values.iter().sum()
    } else if column.starts_with("is_") {
        // flags are OR-ed
        if values.iter().any(|v| *v != 0.0) {
            1.0
        } else {
            0.0
        }
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

fn sample(ids: impl Iterator<Item = String>) -> String {
    let ids: Vec<String> = ids.collect();
    let mut shown: Vec<String> = ids.iter().take(8).cloned().collect();
    if ids.len() > 8 {
        shown.push(format!("... ({} in all)", ids.len()));
    }
    shown.join(", ")
}

impl Dataset {
    pub fn stores(&self) -> Vec<String> {
        let set: std::collections::BTreeSet<&str> =
            self.rows.iter().map(|r| r.store.as_str()).collect();
        set.into_iter().map(str::to_string).collect()
    }

    pub fn products(&self) -> Vec<String> {
        let set: std::collections::BTreeSet<&str> =
            self.rows.iter().map(|r| r.product.as_str()).collect();
        set.into_iter().map(str::to_string).collect()
    }

    fn require(&self, what: &'static str, id: &str) -> Result<(), FeatureError> {
        let known = if what == "store" {
            self.stores()
        } else {
            self.products()
        };
        if known.iter().any(|k| k == id) {
            Ok(())
        } else {
            Err(FeatureError::UnknownId {
                what,
                id: id.to_string(),
                known: sample(known.into_iter()),
            })
        }
    }

    /// The series a scope trains on: one for product/store modes, one per
    /// (store, product) pair for global mode.
    pub fn select(&self, scope: &Scope, fill: Fill) -> Result<Vec<Series>, FeatureError> {
        if let Some(p) = scope.product_id() {
            self.require("product", p)?;
        }
        if let Some(s) = scope.store_id() {
            self.require("store", s)?;
        }
        let mut groups: BTreeMap<String, Vec<&Observation>> = BTreeMap::new();
        for row in &self.rows {
            let keep = scope.product_id().is_none_or(|p| p == row.product)
                && scope.store_id().is_none_or(|s| s == row.store);
            if !keep {
                continue;
            }
            let label = match scope {
                Scope::Global => format!("store {} product {}", row.store, row.product),
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
            };
            groups.entry(label).or_default().push(row);
        }
        groups
            .into_iter()
            .map(|(label, rows)| self.build_series(label, &rows, fill))
            .collect()
    }

    fn build_series(
        &self,
        label: String,
        rows: &[&Observation],
        fill: Fill,
    ) -> Result<Series, FeatureError> {
        let mut by_date: BTreeMap<NaiveDate, Vec<&Observation>> = BTreeMap::new();
        for r in rows {
            by_date.entry(r.date).or_default().push(r);
        }
        let ncol = self.columns.len();
        let mut dates = Vec::new();
        let mut values: Vec<Vec<f64>> = vec![Vec::new(); ncol];
        let mut previous: Option<NaiveDate> = None;
        for (date, day) in &by_date {
            if let Some(prev) = previous {
                let mut missing = prev + Duration::days(1);
                if missing < *date && fill == Fill::Error {
                    return Err(FeatureError::Gap {
                        series: label,
                        from: missing,
                        to: *date - Duration::days(1),
                    });
                }
                while missing < *date {
                    dates.push(missing);
                    for (c, col) in self.columns.iter().enumerate() {
                        let last = *values[c].last().unwrap_or(&0.0);
                        let zeroed = col == TARGET || col.starts_with("is_");
                        values[c].push(if fill == Fill::Zero && zeroed {
                            0.0
                        } else {
                            last
                        });
                    }
                    missing += Duration::days(1);
                }
            }
            dates.push(*date);
            for (c, col) in self.columns.iter().enumerate() {
                let column: Vec<f64> = day.iter().map(|r| r.values[c]).collect();
                values[c].push(aggregate(col, &column));
            }
            previous = Some(*date);
        }
        Ok(Series {
            label,
            dates,
            columns: self.columns.clone(),
            values,
        })
    }
}

/// Day-of-week and month as sin/cos pairs, and weekend (DESIGN §2).
pub fn calendar_value(name: &str, date: NaiveDate) -> Option<f64> {
    let dow = date.weekday().num_days_from_monday() as f64;
    let month = date.month0() as f64;
    Some(match name {
        "dow_sin" => (TAU * dow / 7.0).sin(),
        "dow_cos" => (TAU * dow / 7.0).cos(),
        "month_sin" => (TAU * month / 12.0).sin(),
        "month_cos" => (TAU * month / 12.0).cos(),
        "is_weekend" => {
            if dow >= 5.0 {
                1.0
            } else {
                0.0
            }
        }
        _ => return None,
    })
}

/// The model input features for a series: `sales`, the chosen extra columns,
/// then the calendar features.
pub fn feature_names(extra: &[String]) -> Vec<String> {
    let mut names = vec![TARGET.to_string()];
    names.extend(extra.iter().filter(|e| e.as_str() != TARGET).cloned());
    names.extend(CALENDAR_FEATURES.iter().map(|s| s.to_string()));
    names
}

/// Rows `[t][feature]` of raw (unnormalised) feature values.
pub fn feature_rows(series: &Series, features: &[String]) -> Result<Vec<Vec<f32>>, FeatureError> {
    enum Source {
        Column(usize),
        Calendar,
    }
    let sources: Vec<(Source, &str)> = features
        .iter()
        .map(|f| {
            if let Some(c) = series.columns.iter().position(|c| c == f) {
                Ok((Source::Column(c), f.as_str()))
            } else if CALENDAR_FEATURES.contains(&f.as_str()) {
                Ok((Source::Calendar, f.as_str()))
            } else {
                Err(FeatureError::UnknownFeature(f.clone()))
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(series
        .dates
        .iter()
        .enumerate()
        .map(|(t, date)| {
            sources
                .iter()
                .map(|(src, name)| match src {
                    Source::Column(c) => series.values[*c][t] as f32,
                    // the name was checked to be a calendar feature above
                    Source::Calendar => calendar_value(name, *date).unwrap_or(0.0) as f32,
                })
                .collect()
        })
        .collect())
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

fn column_stats<'a>(rows: impl Iterator<Item = &'a [f32]>, nfeat: usize) -> (Vec<f32>, Vec<f32>) {
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
}

/// Windows cut from one series: inputs `[n, window*features]`, targets `[n, horizon]`.
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

/// Cuts windows `first..first+count` from raw feature rows.
pub fn make_windows(
    rows: &[Vec<f32>],
    norm: &Normalization,
    window: usize,
    horizon: usize,
    first: usize,
    count: usize,
) -> Windows {
    let mut out = Windows::default();
    for start in first..first + count {
        let input = &rows[start..start + window];
        let (x, scale) = norm.normalize_window(input);
        out.x.extend(x);
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

/// History handed to a forecaster: dated rows with named columns.
impl Series {
    /// Parses history CSV text: a header with `date` and the feature columns.
    pub fn from_csv(text: &str) -> Result<Series, FeatureError> {
        let err = |m: String| FeatureError::History(m);
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| err(format!("cannot read the CSV header: {e}")))?
            .iter()
            .map(str::to_string)
            .collect();
        let date_col = header
            .iter()
            .position(|h| h == "date")
            .ok_or_else(|| err("the CSV header has no 'date' column".into()))?;
        let columns: Vec<String> = header
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != date_col)
            .map(|(_, h)| h.clone())
            .collect();
        let mut dates = Vec::new();
        let mut values = vec![Vec::new(); columns.len()];
        for (i, record) in reader.records().enumerate() {
            let line = i + 2;
            let record = record.map_err(|e| err(format!("line {line}: {e}")))?;
            if record.len() != header.len() {
                return Err(err(format!(
                    "line {line}: expected {} fields, found {}",
                    header.len(),
                    record.len()
                )));
            }
            let date = NaiveDate::parse_from_str(&record[date_col], "%Y-%m-%d").map_err(|_| {
                err(format!(
                    "line {line}, column 'date': {:?} is not a YYYY-MM-DD date",
                    &record[date_col]
                ))
            })?;
            dates.push(date);
            let mut c = 0;
            for (j, field) in record.iter().enumerate() {
                if j == date_col {
                    continue;
                }
                values[c].push(
                    parse_number(field)
                        .map_err(|m| err(format!("line {line}, column {:?}: {m}", columns[c])))?,
                );
                c += 1;
            }
        }
        Ok(Series {
            label: "history".into(),
            dates,
            columns,
            values,
        })
    }

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

/// Parses a number, refusing NaN and infinities.
pub fn parse_number(field: &str) -> Result<f64, String> {
    let v: f64 = field
        .parse()
        .map_err(|_| format!("{field:?} is not a number"))?;
    if !v.is_finite() {
        return Err(format!("{field:?} is not a finite number"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn obs(date: &str, store: &str, product: &str, v: [f64; 3]) -> Observation {
        Observation {
            date: d(date),
            store: store.into(),
            product: product.into(),
            values: v.to_vec(),
        }
    }

    fn dataset() -> Dataset {
        Dataset {
            columns: vec!["sales".into(), "price".into(), "is_promotion".into()],
            rows: vec![
                obs("2024-01-01", "S1", "P1", [2.0, 10.0, 0.0]),
                obs("2024-01-01", "S2", "P1", [3.0, 12.0, 1.0]),
                obs("2024-01-03", "S1", "P1", [5.0, 11.0, 0.0]),
                obs("2024-01-01", "S1", "P2", [7.0, 1.0, 0.0]),
            ],
        }
    }

    #[test]
    fn aggregation_sums_sales_averages_price_ors_flags_and_fills() {
        let s = dataset()
            .select(&Scope::product("P1", None).unwrap(), Fill::Zero)
            .unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(
            s[0].dates,
            vec![d("2024-01-01"), d("2024-01-02"), d("2024-01-03")]
        );
        assert_eq!(s[0].values[0], vec![5.0, 0.0, 5.0]);
        assert_eq!(s[0].values[1], vec![11.0, 11.0, 11.0]);
        assert_eq!(s[0].values[2], vec![1.0, 0.0, 0.0]);
        let ff = dataset()
            .select(&Scope::product("P1", None).unwrap(), Fill::Ffill)
            .unwrap();
        assert_eq!(ff[0].values[0], vec![5.0, 5.0, 5.0]);
        let err = dataset()
            .select(&Scope::product("P1", None).unwrap(), Fill::Error)
            .unwrap_err();
        assert!(err
            .to_string()
            .contains("2024-01-02 to 2024-01-02 are missing"));
    }

    #[test]
    fn global_keeps_series_apart_and_unknown_ids_are_named() {
        let s = dataset().select(&Scope::Global, Fill::Zero).unwrap();
        assert_eq!(s.len(), 3);
        let err = dataset()
            .select(&Scope::store("S9", None).unwrap(), Fill::Zero)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown store \"S9\"; known stores include: S1, S2"
        );
    }

    #[test]
    fn calendar_features() {
        // 2024-01-06 is a Saturday
        assert_eq!(calendar_value("is_weekend", d("2024-01-06")), Some(1.0));
        assert_eq!(calendar_value("is_weekend", d("2024-01-05")), Some(0.0));
        assert!((calendar_value("dow_sin", d("2024-01-01")).unwrap()).abs() < 1e-12);
        assert!((calendar_value("month_cos", d("2024-01-15")).unwrap() - 1.0).abs() < 1e-12);
    }

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
    fn history_csv_checks_dates_and_columns() {
        let csv = "date,sales\n2024-01-01,1\n2024-01-02,2\n2024-01-04,3\n";
        let s = Series::from_csv(csv).unwrap();
        let f = feature_names(&[]);
        assert!(s
            .last_window(&f, 2)
            .unwrap_err()
            .to_string()
            .contains("2024-01-02 is followed by 2024-01-04"));
        assert_eq!(s.last_window(&f, 1).unwrap()[0].len(), 6);
        let bad = Series::from_csv("date,sales\n2024-01-01,abc\n").unwrap_err();
        assert_eq!(
            bad.to_string(),
            "history: line 2, column \"sales\": \"abc\" is not a number"
        );
        let nf = feature_names(&["price".into()]);
        assert!(s
            .last_window(&nf, 1)
            .unwrap_err()
            .to_string()
            .contains("column \"price\" is missing"));
    }
}
