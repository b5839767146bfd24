//! Forecasts checked against what was sold (`shoptrain monitor`): every
//! forecast `predict` recorded whose days are now in the data is scored —
//! MASE scaled by the history before it (the one MASE rule), beside
//! seasonal naive from that same history, and the share of days inside its
//! outermost interval — and the scores are summed up per model and week.
//! A model in use whose forecasts (any of its versions') lost to seasonal
//! naive in each of the last N weeks is drifting (`sync --when-drifting`
//! retrains it).

use crate::baselines::SEASON;
use crate::data::LoadedData;
use crate::registry::{RecordedForecast, Registry};
use crate::sync::models_in_use;
use anyhow::Result;
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use shoptrain_shared::features::Fill;
use shoptrain_shared::metrics::{seasonal_naive, seasonal_naive_scale};
use std::collections::{BTreeMap, BTreeSet};

/// The exit status of `monitor` when a model in use is drifting (errors
/// exit 1), so that a nightly job tells drift from a failure.
pub const DRIFT_EXIT: i32 = 3;

/// `monitor`'s failure when it finds drift (see [`DRIFT_EXIT`]).
#[derive(Debug)]
pub struct DriftFound(pub String);

impl std::fmt::Display for DriftFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DriftFound {}

/// A series' days and sales.
type DatedSales = (Vec<NaiveDate>, Vec<f32>);

/// One recorded forecast against the days sold.
#[derive(Debug, Clone, Serialize)]
pub struct ScoredForecast {
    pub id: i64,
    pub prefix: String,
    pub series: String,
    pub origin: NaiveDate,
    /// Monday of the week of its first forecast day.
    pub week: NaiveDate,
    /// Its days, every one of them sold (imported).
    pub days: usize,
    pub mase: f64,
    pub seasonal_naive_mase: f64,
    /// Share of those days inside the outermost interval (P10–P90).
    pub coverage: Option<f64>,
}

/// One model's forecasts of one week, averaged.
#[derive(Debug, Clone, Serialize)]
pub struct WeekScore {
    pub prefix: String,
    pub week: NaiveDate,
    pub forecasts: usize,
    pub mase: f64,
    pub seasonal_naive_mase: f64,
    pub coverage: Option<f64>,
}

/// A model in use that lost to seasonal naive in each of its last weeks.
#[derive(Debug, Clone, Serialize)]
pub struct Drift {
    pub identifier: String,
    pub prefix: String,
    pub weeks: Vec<NaiveDate>,
}

#[derive(Debug, Serialize)]
pub struct MonitorReport {
    pub data: String,
    pub recorded: usize,
    /// Recorded forecasts not scored: days not all sold yet (or a series
    /// gone from the data, or too short a history to scale by).
    pub waiting: usize,
    pub weeks: Vec<WeekScore>,
    pub drifting: Vec<Drift>,
    /// The weeks of drift that count (`--weeks`).
    pub drift_weeks: usize,
}

/// Scores every recorded forecast against `data` and finds the drift.
pub fn monitor(reg: &Registry, data: &LoadedData, drift_weeks: usize) -> Result<MonitorReport> {
    let recorded = reg.recorded_forecasts()?;
    // each series selected once: many forecasts share it
    let mut sales: BTreeMap<String, Option<DatedSales>> = BTreeMap::new();
    let mut scored = Vec::new();
    let mut identifiers = BTreeMap::new();
    for f in &recorded {
        let key = serde_json::to_string(&f.scope)?;
        let series = sales.entry(key).or_insert_with(|| {
            let s = data.dataset.select(&f.scope, Fill::Zero).ok()?.pop()?;
            Some((s.dates, s.values[0].iter().map(|v| *v as f32).collect()))
        });
        if let Some(s) = series
            .as_ref()
            .and_then(|(dates, sales)| score(f, dates, sales))
        {
            identifiers.insert(s.prefix.clone(), f.model_identifier.clone());
            scored.push(s);
        }
    }
    let weeks = by_model_and_week(&scored);
    let drifting = drifting_models(reg, &scored, &identifiers, drift_weeks)?;
    Ok(MonitorReport {
        data: data.path.clone(),
        recorded: recorded.len(),
        waiting: recorded.len() - scored.len(),
        weeks,
        drifting,
        drift_weeks,
    })
}

/// The identifiers of the drifting models in use (`sync --when-drifting`).
pub fn drifting(reg: &Registry, data: &LoadedData, weeks: usize) -> Result<BTreeSet<String>> {
    Ok(monitor(reg, data, weeks)?
        .drifting
        .into_iter()
        .map(|d| d.identifier)
        .collect())
}

/// One forecast's scores once every day of it is in the data; `None`
/// before (or when its history is too short to scale by).
fn score(f: &RecordedForecast, dates: &[NaiveDate], sales: &[f32]) -> Option<ScoredForecast> {
    let end = dates.iter().position(|d| *d == f.origin)? + 1;
    let days = f.median.len();
    if days == 0 || end + days > sales.len() || end < SEASON + 1 {
        return None;
    }
    let history = &sales[..end];
    let actual = &sales[end..end + days];
    let scale = seasonal_naive_scale(history, SEASON);
    let naive = seasonal_naive(history, days, SEASON);
    let mae = |f: &[f32]| {
        actual
            .iter()
            .zip(f)
            .map(|(a, p)| (*a as f64 - *p as f64).abs())
            .sum::<f64>()
            / days as f64
    };
    let coverage = (f.quantiles.len() >= 2).then(|| {
        let (low, high) = (&f.quantiles[0], &f.quantiles[f.quantiles.len() - 1]);
        let inside = (0..days)
            .filter(|&d| low[d] <= actual[d] && actual[d] <= high[d])
            .count();
        inside as f64 / days as f64
    });
    Some(ScoredForecast {
        id: f.id,
        prefix: f.prefix.clone(),
        series: f.series.clone(),
        origin: f.origin,
        week: monday(f.origin.succ_opt()?),
        days,
        mase: mae(&f.median) / scale,
        seasonal_naive_mase: mae(&naive) / scale,
        coverage,
    })
}

fn monday(day: NaiveDate) -> NaiveDate {
    day - chrono::Days::new(day.weekday().num_days_from_monday() as u64)
}

fn by_model_and_week(scored: &[ScoredForecast]) -> Vec<WeekScore> {
    let mut groups: BTreeMap<(&str, NaiveDate), Vec<&ScoredForecast>> = BTreeMap::new();
    for s in scored {
        groups.entry((&s.prefix, s.week)).or_default().push(s);
    }
    groups
        .into_iter()
        .map(|((prefix, week), g)| {
            let mean = |v: &dyn Fn(&ScoredForecast) -> f64| {
                g.iter().map(|s| v(s)).sum::<f64>() / g.len() as f64
            };
            let covered: Vec<f64> = g.iter().filter_map(|s| s.coverage).collect();
            WeekScore {
                prefix: prefix.to_string(),
                week,
                forecasts: g.len(),
                mase: mean(&|s| s.mase),
                seasonal_naive_mase: mean(&|s| s.seasonal_naive_mase),
                coverage: (!covered.is_empty())
                    .then(|| covered.iter().sum::<f64>() / covered.len() as f64),
            }
        })
        .collect()
}

/// Models in use (the newest version of each identifier, and every alias's
/// target) whose forecasts lost to seasonal naive in each of the `n`
/// calendar weeks up to the newest week scored. A model is judged by its
/// identifier's forecasts, whichever version made them (`sync` gives a
/// model a new version at every import, before its forecasts are sold),
/// since its last drift retrain.
fn drifting_models(
    reg: &Registry,
    scored: &[ScoredForecast],
    identifiers: &BTreeMap<String, String>,
    n: usize,
) -> Result<Vec<Drift>> {
    let Some(newest) = scored.iter().map(|s| s.week).max() else {
        return Ok(Vec::new());
    };
    let wanted: Vec<NaiveDate> = (0..n as u64)
        .rev()
        .map(|k| newest - chrono::Days::new(7 * k))
        .collect();
    let mut in_use: BTreeMap<String, String> = models_in_use(reg)?
        .into_iter()
        .map(|(identifier, prefix)| (prefix, identifier))
        .collect();
    for (_, prefix) in reg.aliases()? {
        if let Ok(v) = shoptrain_shared::naming::VersionedName::parse(&prefix) {
            in_use.insert(prefix, v.name.identifier());
        }
    }
    // a drift retrain starts the clock again: older versions' forecasts
    // do not count against it
    let retrained = reg.drift_retrains()?;
    let version_of = |prefix: &str| {
        shoptrain_shared::naming::VersionedName::parse(prefix).map_or(0, |v| v.version)
    };
    // (identifier, week) -> (model's MASE sum, seasonal naive's, count)
    let mut weekly: BTreeMap<(&str, NaiveDate), (f64, f64, usize)> = BTreeMap::new();
    for s in scored {
        let Some(identifier) = identifiers.get(&s.prefix) else {
            continue;
        };
        if retrained
            .get(identifier)
            .is_some_and(|v| version_of(&s.prefix) < *v)
        {
            continue;
        }
        let w = weekly.entry((identifier, s.week)).or_default();
        w.0 += s.mase;
        w.1 += s.seasonal_naive_mase;
        w.2 += 1;
    }
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (prefix, identifier) in in_use {
        if n == 0 || !seen.insert(identifier.clone()) {
            continue;
        }
        let lost = wanted.iter().all(|week| {
            weekly
                .get(&(identifier.as_str(), *week))
                .is_some_and(|(m, naive, _)| m > naive)
        });
        if lost {
            out.push(Drift {
                identifier,
                prefix,
                weeks: wanted.clone(),
            });
        }
    }
    Ok(out)
}
