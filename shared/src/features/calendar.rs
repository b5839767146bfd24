//! Features derived from the date, and the raw feature rows a model reads:
//! `sales`, the chosen extra columns, then the calendar features.

use super::{FeatureError, Series, TARGET};
use chrono::{Datelike, NaiveDate};
use std::f64::consts::TAU;

/// Features derived from the date, never read from data.
pub const CALENDAR_FEATURES: [&str; 5] =
    ["dow_sin", "dow_cos", "month_sin", "month_cos", "is_weekend"];

/// Day-of-week and month as sin/cos pairs, and weekend.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::parse_date;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
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
    fn feature_names_put_sales_first_and_calendar_last() {
        assert_eq!(
            feature_names(&["price".into(), "sales".into()]),
            [
                "sales",
                "price",
                "dow_sin",
                "dow_cos",
                "month_sin",
                "month_cos",
                "is_weekend"
            ]
        );
    }
}
