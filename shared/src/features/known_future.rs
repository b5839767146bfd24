//! Known-future inputs: data columns whose values for the forecast days are
//! known when the forecast is made (a promotion plan, holidays, workdays,
//! prices). A model reads each as its change from the days the seasonal base
//! averages, so "as in the base weeks" reads as zero, and beside it the
//! base's level in units of the window's sales scale, so that a change can
//! act as a share of sales (a promotion lifts sales by a share, not by a
//! number). Without values for the forecast days every change is zero and the
//! model forecasts as if nothing known were different.

use super::normalization::column_stats;
use super::{FeatureError, Scale, Series, TARGET};
use crate::models::{base_day, WEEK};
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnownFuture {
    /// Data columns, among the model's features, known for the forecast days.
    pub columns: Vec<String>,
    /// Each column's standard deviation over the training rows; changes are
    /// divided by it.
    pub scale: Vec<f32>,
    /// Weeks the changes are measured against (the seasonal base's weeks).
    pub weeks: usize,
}

impl KnownFuture {
    /// Fits the scales of `columns` on training rows (`[t][feature]`, in the
    /// order of `features`), with the statistics fitted normalisation uses.
    pub fn fit<'a>(
        features: &[String],
        columns: &[String],
        train_rows: impl Iterator<Item = &'a [f32]>,
        weeks: usize,
    ) -> Result<KnownFuture, FeatureError> {
        let mut known = KnownFuture {
            columns: columns.to_vec(),
            scale: Vec::new(),
            weeks,
        };
        let (_, std) = column_stats(train_rows, features.len());
        known.scale = known.positions(features)?.iter().map(|&p| std[p]).collect();
        Ok(known)
    }

    /// Inputs per forecast day: one change per column, then the base level.
    pub fn width(&self) -> usize {
        self.columns.len() + 1
    }

    /// Where each column sits among `features`.
    pub fn positions(&self, features: &[String]) -> Result<Vec<usize>, FeatureError> {
        self.columns
            .iter()
            .map(|c| {
                features
                    .iter()
                    .position(|f| f == c && c != TARGET)
                    .ok_or_else(|| FeatureError::UnknownFeature(c.clone()))
            })
            .collect()
    }

    /// The inputs of one window's forecast days, `[horizon * width]` flat:
    /// `history` is the window's raw feature rows, `future` the raw rows of
    /// the forecast days where they are known, `scale` the window's sales
    /// scale.
    pub fn block(
        &self,
        positions: &[usize],
        history: &[Vec<f32>],
        future: Option<&[Vec<f32>]>,
        horizon: usize,
        scale: Scale,
    ) -> Vec<f32> {
        let t = history.len();
        let weeks = self.weeks.clamp(1, (t / WEEK).max(1));
        // mean of column `c` on the same weekday as forecast day `h` over the base weeks
        let base = |c: usize, h: usize| -> f32 {
            (1..=weeks)
                .map(|w| history[base_day(t, h, w)][c])
                .sum::<f32>()
                / weeks as f32
        };
        let mut out = Vec::with_capacity(horizon * self.width());
        for h in 0..horizon {
            for (&p, &s) in positions.iter().zip(&self.scale) {
                out.push(match future {
                    Some(rows) => (rows[h][p] - base(p, h)) / s,
                    None => 0.0,
                });
            }
            out.push(base(0, h) / scale.std);
        }
        out
    }
}

impl Series {
    /// The known `columns` of the `horizon` days after `last`, as rows laid
    /// out like `features` (other features zero): every day must be there.
    pub fn known_rows(
        &self,
        features: &[String],
        columns: &[String],
        last: NaiveDate,
        horizon: usize,
    ) -> Result<Vec<Vec<f32>>, FeatureError> {
        let err = FeatureError::KnownFuture;
        let mut sources = Vec::new();
        for c in columns {
            let col = self.columns.iter().position(|x| x == c).ok_or_else(|| {
                err(format!(
                    "column {c:?} is missing; the model reads {} for the forecast days",
                    columns.join(", ")
                ))
            })?;
            let pos = features
                .iter()
                .position(|f| f == c)
                .ok_or_else(|| FeatureError::UnknownFeature(c.clone()))?;
            sources.push((col, pos));
        }
        (1..=horizon as i64)
            .map(|d| {
                let date = last + Duration::days(d);
                let t = self.dates.iter().position(|x| *x == date).ok_or_else(|| {
                    err(format!(
                        "no row for {date}; give all {horizon} forecast days after {last}, or none"
                    ))
                })?;
                let mut row = vec![0f32; features.len()];
                for &(col, pos) in &sources {
                    let v = self.values[col][t];
                    if !v.is_finite() {
                        return Err(err(format!(
                            "column {:?} on {date} is {v}",
                            self.columns[col]
                        )));
                    }
                    row[pos] = v as f32;
                }
                Ok(row)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn changes_are_measured_against_the_base_weeks_and_scaled() {
        let features = names(&["sales", "promo", "price"]);
        // 14 days: sales 10 + day, promo on day 9, price 2
        let history: Vec<Vec<f32>> = (0..14)
            .map(|t| vec![10.0 + t as f32, (t == 9) as u8 as f32, 2.0])
            .collect();
        let known = KnownFuture {
            columns: names(&["promo", "price"]),
            scale: vec![0.5, 1.0],
            weeks: 2,
        };
        let pos = known.positions(&features).unwrap();
        assert_eq!(pos, vec![1, 2]);
        // forecast days: promo on day 0, price 3 on day 1
        let future = vec![vec![0.0, 1.0, 2.0], vec![0.0, 0.0, 3.0]];
        let scale = Scale {
            mean: 0.0,
            std: 2.0,
        };
        let b = known.block(&pos, &history, Some(&future), 2, scale);
        // day 0 (weekday of days 0 and 7): promo 1 - 0, price 2 - 2, sales base (10+17)/2
        // day 1 (days 1 and 8): promo 0 - 0, price 3 - 2, base (11+18)/2
        assert_eq!(b, vec![2.0, 0.0, 6.75, 0.0, 1.0, 7.25]);
        // day 2 of a 3-day horizon is the weekday of days 2 and 9: the promo in
        // the base weeks makes a day without one a negative change
        let future3 = vec![future[0].clone(), future[1].clone(), vec![0.0, 0.0, 2.0]];
        let b3 = known.block(&pos, &history, Some(&future3), 3, scale);
        assert_eq!(&b3[6..], &[-1.0, 0.0, 7.75]);
        // unknown future: no change, the level stays
        let none = known.block(&pos, &history, None, 2, scale);
        assert_eq!(none, vec![0.0, 0.0, 6.75, 0.0, 0.0, 7.25]);
    }

    #[test]
    fn scales_are_fitted_and_columns_must_be_features() {
        let features = names(&["sales", "promo"]);
        let rows = [vec![1.0, 0.0], vec![2.0, 2.0]];
        let k = KnownFuture::fit(
            &features,
            &names(&["promo"]),
            rows.iter().map(Vec::as_slice),
            4,
        )
        .unwrap();
        assert_eq!(k.scale, vec![1.0]);
        assert_eq!(k.width(), 2);
        for bad in ["temperature", "sales"] {
            let err =
                KnownFuture::fit(&features, &names(&[bad]), rows.iter().map(Vec::as_slice), 4)
                    .unwrap_err();
            assert!(matches!(err, FeatureError::UnknownFeature(c) if c == bad));
        }
    }
}
