//! Observations, datasets and the daily series a scope selects from them:
//! several series are aggregated into one, and missing days are filled.

use super::{FeatureError, TARGET};
use crate::naming::Scope;
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How missing days inside a series are filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
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

    /// Fails naming `id` and some known ones when no row has it; `what` is
    /// `"store"` or `"product"`.
    pub fn require(&self, what: &'static str, id: &str) -> Result<(), FeatureError> {
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
                _ => scope.describe(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::parse_date;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
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

    #[cfg(feature = "clap")]
    #[test]
    fn clap_values_are_the_cli_words() {
        use clap::ValueEnum;
        let names: Vec<&str> = Fill::value_variants()
            .iter()
            .map(|f| {
                assert_eq!(f.to_possible_value().unwrap().get_name(), f.as_str());
                f.as_str()
            })
            .collect();
        assert_eq!(names, ["zero", "ffill", "error"]);
    }

    #[test]
    fn fill_names_read_back() {
        for fill in [Fill::Zero, Fill::Ffill, Fill::Error] {
            assert_eq!(Fill::from_recorded(fill.as_str()), fill);
            assert_eq!(
                serde_json::to_string(&fill).unwrap(),
                format!("{:?}", fill.as_str())
            );
        }
    }
}
