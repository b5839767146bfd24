//! Data → training and validation windows of every selected series.

use super::known_future_fit::{select_columns, Layout};
use super::series_cut::{cut_windows, EtsBeforeValidation, SeriesCut};
use super::TrainOptions;
use crate::data::LoadedData;
use anyhow::{bail, Result};
use shoptrain_shared::features::{
    feature_rows, KnownFuture, NormChoice, Normalization, Split, Windows, CALENDAR_FEATURES, TARGET,
};
use shoptrain_shared::floor::Classical;
use shoptrain_shared::metadata::{Pool, TrainConfig};
use shoptrain_shared::metrics::seasonal_naive_scale;
use shoptrain_shared::metrics::Metrics;
use shoptrain_shared::models::WEEK;
use shoptrain_shared::naming::Scope;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Windows of every selected series, split chronologically.
pub struct Prepared {
    pub scope: Scope,
    pub features: Vec<String>,
    pub normalization: Normalization,
    pub known_future: Option<KnownFuture>,
    pub train: Windows,
    pub val: Windows,
    /// MASE denominator of each validation window: the history before its
    /// first forecast day (`Metrics::compute_blocks`, the one MASE rule).
    pub val_mase_scale: Vec<f64>,
    pub series: usize,
    /// Each series' sales, and each validation window's (series, first
    /// forecast day): the whole history a classical baseline fits on.
    pub sales: Vec<Vec<f32>>,
    pub val_origins: Vec<(usize, usize)>,
    /// The baselines' metrics on the validation windows, computed once for
    /// every model type trained on these windows.
    pub baselines: OnceLock<Baselines>,
    /// See `ModelMetadata::spread_floor`.
    pub spread_floor: Option<f32>,
    /// sha256 of each selected series (dates and values), by label.
    pub series_sha256: BTreeMap<String, String>,
    /// The first `own_train` training windows are the model's own series';
    /// the rest were pooled from related series (`--pool`) and are left out
    /// of the interval calibration.
    pub own_train: usize,
    /// Each classical method's forecasts of the validation windows (or why
    /// it has none), computed once for every model type: the floor's
    /// candidates and the ETS baseline.
    pub classical: OnceLock<Vec<ClassicalForecasts>>,
    /// Each series' ETS fit (by index of `sales`), shared by the floor's
    /// validation forecasts, its choice of method and the windows' base.
    pub ets_fits: Vec<EtsBeforeValidation>,
    /// The floor's classical method, chosen over every origin
    /// (`scoring::classical_pick`).
    pub classical_pick: OnceLock<Option<Classical>>,
    /// Its siblings' windows are among the training windows (and their
    /// digests among `series_sha256`).
    pub with_siblings: bool,
    /// The same model's windows with its siblings' pooled in (`Pool::Auto`
    /// on a short series): the run trains both and keeps the better.
    pub pooled: Option<Box<Prepared>>,
}

/// A one-series model with fewer own training windows than this (about a
/// year of days) is short: `Pool::Auto` tries pooling it with its siblings.
pub const SHORT_SERIES: usize = 365;

/// The baselines' metrics on the validation windows by name, and why a
/// baseline is missing, by name (`scoring::baselines` computes them).
#[derive(Debug, Clone, Default)]
pub struct Baselines {
    pub metrics: BTreeMap<String, Metrics>,
    pub errors: BTreeMap<String, String>,
}

/// One classical method's forecasts of every validation window, or why it
/// has none.
pub type ClassicalForecasts = (Classical, Result<Vec<f32>, String>);

pub fn prepare(
    data: &LoadedData,
    scope: &Scope,
    features: &[String],
    opts: &TrainOptions,
) -> Result<Prepared> {
    if opts.window == 0 || opts.horizon == 0 {
        bail!("--window and --horizon must be at least 1");
    }
    if let Err(e) = opts.config.check() {
        bail!(e);
    }
    let series = data.dataset.select(scope, opts.fill)?;
    let global = matches!(scope, Scope::Global);
    let mut out = Prepared {
        scope: scope.clone(),
        features: features.to_vec(),
        normalization: Normalization::Instance,
        known_future: None,
        train: Windows::default(),
        val: Windows::default(),
        val_mase_scale: Vec::new(),
        series: series.len(),
        sales: Vec::new(),
        val_origins: Vec::new(),
        baselines: OnceLock::new(),
        spread_floor: None,
        classical: OnceLock::new(),
        classical_pick: OnceLock::new(),
        ets_fits: Vec::new(),
        own_train: 0,
        pooled: None,
        with_siblings: false,
        series_sha256: series
            .iter()
            .map(|s| (s.label.clone(), series_digest(s)))
            .collect(),
    };
    let (window, horizon) = (opts.window, opts.horizon);
    let mut cut = Vec::with_capacity(series.len());
    for s in &series {
        let rows = feature_rows(s, features)?;
        let split = Split::new(&s.label, rows.len(), window, horizon, opts.config.val_ratio)?;
        let norm = if global || opts.norm == NormChoice::Instance {
            Normalization::Instance
        } else {
            Normalization::fit(&rows[..split.train_rows(window, horizon)])
        };
        cut.push(SeriesCut::new(rows, split, norm, opts));
    }
    let own_train: usize = cut.iter().map(|c| c.split.train).sum();
    let one_series = !global && series.len() == 1;
    if opts.config.pool == Pool::Always && one_series {
        let (more, digests) = pooled(data, scope, &series[0], &cut[0], features, opts)?;
        cut.extend(more);
        out.with_siblings = true;
        // what sync compares: a pooled series that changes makes the model stale
        out.series_sha256.extend(digests);
    }
    let (columns, choose) = known_future_columns(features, opts, &cut)?;
    // windows with every candidate column, kept if validation keeps them all
    let mut candidate_windows = None;
    if !columns.is_empty() {
        let train_rows = cut.iter().flat_map(|c| {
            c.rows[..c.split.train_rows(window, horizon)]
                .iter()
                .map(Vec::as_slice)
        });
        let weeks = opts.base_weeks.min(window / WEEK);
        let mut known = KnownFuture::fit(features, &columns, train_rows, weeks)?;
        if choose {
            let (train, val) = cut_windows(&cut, Some(&known), features, opts)?;
            let layout = Layout {
                window,
                features: features.len(),
                horizon,
                weeks,
                columns: columns.len(),
                ets: opts.blends_ets(),
                blend: Vec::new(),
            };
            // chosen against the seasonal mean: ETS cannot see the plan, and
            // where a plan drives sales it carries the plan's past into its level
            let mut chosen = select_columns(&layout, &train, &val);
            chosen.sort_unstable();
            if chosen.len() == columns.len() {
                candidate_windows = Some((train, val));
            } else {
                known.columns = chosen.iter().map(|&c| known.columns[c].clone()).collect();
                known.scale = chosen.iter().map(|&c| known.scale[c]).collect();
            }
        }
        out.known_future = (!known.columns.is_empty()).then_some(known);
    }
    (out.train, out.val) = match candidate_windows {
        Some(windows) => windows,
        None => cut_windows(&cut, out.known_future.as_ref(), features, opts)?,
    };
    // the model's own series; pooled ones only lent training windows
    for SeriesCut {
        rows,
        split,
        norm,
        ets_fit,
        ..
    } in cut.into_iter().take(series.len())
    {
        let sales: Vec<f32> = rows.iter().map(|r| r[0]).collect();
        let k = out.sales.len();
        for origin in (split.train..split.train + split.val).map(|i| i + window) {
            out.val_mase_scale
                .push(seasonal_naive_scale(&sales[..origin], WEEK));
            out.val_origins.push((k, origin));
        }
        out.sales.push(sales);
        out.ets_fits.push(ets_fit);
        out.normalization = norm;
    }
    out.own_train = own_train;
    if series.len() == 1 {
        out.spread_floor = typical_spread(&out.train, own_train);
    }
    let short = own_train < SHORT_SERIES;
    let auto = opts.config.pool == Pool::Auto && one_series && short;
    if auto && !related_scopes(&data.dataset, scope).is_empty() {
        // the same inputs as the own model, so both have one architecture
        let columns = out
            .known_future
            .as_ref()
            .map_or_else(Vec::new, |k| k.columns.clone());
        let pooled_opts = TrainOptions {
            config: TrainConfig {
                pool: Pool::Always,
                ..opts.config.clone()
            },
            known_future: Some(columns),
            ..opts.clone()
        };
        out.pooled = Some(Box::new(prepare(data, scope, features, &pooled_opts)?));
    }
    Ok(out)
}

/// Related series pooled into training (`--pool`), at most this many.
const MAX_POOLED: usize = 8;

/// The series a `--pool` model of `scope` also trains on, as one-series
/// scopes: for one (store, product) series the others of its product or
/// its store, at most [`MAX_POOLED`]. A total pools nothing: its parts
/// made generated data's product totals much worse (QUALITY.md,
/// experiment 29).
pub fn related_scopes(d: &shoptrain_shared::features::Dataset, scope: &Scope) -> Vec<Scope> {
    let (store, product) = match scope {
        Scope::Product {
            product,
            store: Some(store),
        }
        | Scope::Store {
            store,
            product: Some(product),
        } => (store, product),
        _ => return Vec::new(),
    };
    let mut pairs: Vec<(&str, &str)> = d
        .rows
        .iter()
        .map(|r| (r.store.as_str(), r.product.as_str()))
        .filter(|(s, p)| (s == store) != (p == product))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    pairs
        .into_iter()
        .take(MAX_POOLED)
        .filter_map(|(s, p)| Scope::product(p, Some(s)).ok())
        .collect()
}

/// The training windows of the series related to `scope`'s one series
/// ([`related_scopes`]), and their digests. Only windows whose days all come
/// before the own series' first validation day.
fn pooled(
    data: &LoadedData,
    scope: &Scope,
    own: &shoptrain_shared::features::Series,
    own_cut: &SeriesCut,
    features: &[String],
    opts: &TrainOptions,
) -> Result<(Vec<SeriesCut>, BTreeMap<String, String>)> {
    let d = &data.dataset;
    let first_val_day = own.dates[own_cut.split.train + opts.window];
    let (mut out, mut digests) = (Vec::new(), BTreeMap::new());
    for one in related_scopes(d, scope) {
        let Some(s) = d.select(&one, opts.fill)?.pop() else {
            continue;
        };
        digests.insert(s.label.clone(), series_digest(&s));
        let days = s.dates.iter().take_while(|t| **t < first_val_day).count();
        let windows = (days + 1).saturating_sub(opts.window + opts.horizon);
        if windows == 0 {
            continue;
        }
        let rows = feature_rows(&s, features)?;
        let norm = if opts.norm == NormChoice::Instance {
            Normalization::Instance
        } else {
            Normalization::fit(&rows[..days])
        };
        let split = Split {
            train: windows,
            val: 0,
        };
        out.push(SeriesCut::new(rows, split, norm, opts));
    }
    Ok((out, digests))
}

/// The digest of every series a model of `scope` learns from (its pooled
/// ones with `pool`), by label,
/// over the data columns among its `features` (the columns it was loaded
/// with): what `sync` compares with what the model's metadata recorded.
pub fn series_digests(
    data: &LoadedData,
    scope: &Scope,
    fill: shoptrain_shared::features::Fill,
    features: &[String],
    pool: bool,
) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut selected = data.dataset.select(scope, fill)?;
    if pool && selected.len() == 1 {
        for one in related_scopes(&data.dataset, scope) {
            selected.extend(data.dataset.select(&one, fill)?);
        }
    }
    for s in selected {
        let mut kept = s.clone();
        let columns: Vec<usize> = features
            .iter()
            .filter_map(|f| s.columns.iter().position(|c| c == f))
            .collect();
        kept.columns = columns.iter().map(|&c| s.columns[c].clone()).collect();
        kept.values = columns.iter().map(|&c| s.values[c].clone()).collect();
        out.insert(s.label.clone(), series_digest(&kept));
    }
    Ok(out)
}

/// sha256 of a series' dates and values (every column), in a stable text
/// form: the same rows give the same digest whichever file or store version
/// they came from.
fn series_digest(s: &shoptrain_shared::features::Series) -> String {
    let mut text = s.columns.join(",");
    for (t, date) in s.dates.iter().enumerate() {
        text.push('\n');
        text.push_str(&date.to_string());
        for c in &s.values {
            text.push(',');
            text.push_str(&c[t].to_string());
        }
    }
    shoptrain_shared::bundle::sha256_hex(text.as_bytes())
}

/// The lower quartile of the own training windows' sales std: a floor under
/// the spread of calm windows that still leaves the calmest quarter of
/// the series' own history its narrow intervals (the median as floor
/// made generated data's intervals too narrow in its turbulent weeks:
/// QUALITY.md, experiment 25).
fn typical_spread(train: &Windows, own: usize) -> Option<f32> {
    // the model's own series' windows come first; pooled ones are others' spread
    let mut stds: Vec<f32> = train.scales.iter().take(own).map(|s| s.std).collect();
    stds.sort_by(f32::total_cmp);
    stds.get(stds.len() / 4).copied()
}

/// The known-future columns a new model may read: those asked for, or by
/// default every flag column (0/1 values: holidays, promotions, workdays,
/// the plans a shop knows ahead) among the features, of which validation
/// then chooses (`true`). None without a seasonal base, which the changes
/// are measured against. Continuous columns (temperature, price) only when
/// named: a forecast for them is not a plan (QUALITY.md, experiment 20).
fn known_future_columns(
    features: &[String],
    opts: &TrainOptions,
    cut: &[SeriesCut],
) -> Result<(Vec<String>, bool)> {
    let has_base = opts.base_weeks.min(opts.window / WEEK) > 0;
    let is_flag = |f: usize| {
        cut.iter()
            .all(|c| c.rows.iter().all(|r| r[f] == 0.0 || r[f] == 1.0))
    };
    let data_columns = || {
        features
            .iter()
            .filter(|f| f.as_str() != TARGET && !CALENDAR_FEATURES.contains(&f.as_str()))
            .cloned()
            .collect::<Vec<_>>()
    };
    match &opts.known_future {
        None if has_base => Ok((
            data_columns()
                .into_iter()
                .filter(|c| features.iter().position(|f| f == c).is_some_and(is_flag))
                .collect(),
            true,
        )),
        None => Ok((Vec::new(), false)),
        Some(asked) => {
            if !asked.is_empty() && !has_base {
                bail!("--known-future needs a base (--base blend or seasonal, and a --window of at least 7 days)");
            }
            let data = data_columns();
            if let Some(bad) = asked.iter().find(|c| !data.contains(c)) {
                bail!(
                    "--known-future {bad:?} is not one of the model's data columns ({}); pass columns that --features selects, or none",
                    if data.is_empty() { "it has none".to_string() } else { data.join(", ") }
                );
            }
            Ok((asked.clone(), false))
        }
    }
}
