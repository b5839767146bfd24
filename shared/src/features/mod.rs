//! Series selection, calendar features, normalisation and windowing. The
//! trainer and the browser both call these functions, so a forecast in wasm
//! sees exactly the numbers the trainer saw.
//!
//! One file per concern: `series` (observations, datasets and their
//! aggregation into daily series), `calendar` (date-derived features and the
//! feature rows), `normalization`, `windows` (training windows and the
//! forecast window), `known_future` (the forecast days' known columns), `history_csv` (the history text the browser sends) and
//! `fields` (the CSV field rules every parser shares). Everything public is
//! re-exported here, so paths read `features::X`.

mod calendar;
mod fields;
mod history_csv;
mod known_future;
mod normalization;
mod series;
mod windows;

pub use calendar::{calendar_value, feature_names, feature_rows, CALENDAR_FEATURES};
pub use fields::{csv_reader, parse_date, parse_number, parse_value, DATE_FORMAT};
pub use history_csv::SeriesPick;
pub use known_future::KnownFuture;
pub use normalization::{NormChoice, Normalization, Scale};
pub use series::{Dataset, Fill, Observation, Series};
pub use windows::{make_windows, Split, Windows};

use chrono::NaiveDate;

/// The forecast target; always the first feature.
pub const TARGET: &str = "sales";

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
    #[error("known future: {0}")]
    KnownFuture(String),
}
