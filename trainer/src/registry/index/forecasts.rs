//! The `forecasts` table: what `predict` forecast, for `monitor`.

use super::{now, Index};
use anyhow::Result;
use rusqlite::params;
use shoptrain_shared::forecast::Forecast;
use shoptrain_shared::naming::Scope;

/// One recorded forecast, as `monitor` reads it back.
#[derive(Debug, Clone)]
pub struct RecordedForecast {
    pub id: i64,
    pub prefix: String,
    pub model_identifier: String,
    pub at: String,
    pub scope: Scope,
    pub series: String,
    pub data: String,
    pub origin: chrono::NaiveDate,
    /// The forecast days' medians, from the day after `origin`.
    pub median: Vec<f32>,
    pub levels: Vec<f64>,
    /// `[level][day]`.
    pub quantiles: Vec<Vec<f32>>,
}

impl Index {
    pub fn record_forecast(
        &self,
        model_id: i64,
        scope: &Scope,
        series: &str,
        data: &str,
        forecast: &Forecast,
    ) -> Result<()> {
        let (Some(first), Some(origin)) = (
            forecast.dates.first(),
            forecast.dates.first().and_then(|d| d.pred_opt()),
        ) else {
            return Ok(());
        };
        let (levels, quantiles) = forecast
            .quantiles
            .as_ref()
            .map_or((vec![], vec![]), |q| (q.levels.clone(), q.values.clone()));
        self.write(
            || format!("record a forecast of {}", self.row_name(model_id)),
            |c| {
                c.execute(
                    "INSERT INTO forecasts(model_id, at, scope, series, data, origin, first_day, median, levels, quantiles)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![
                        model_id,
                        now(),
                        serde_json::to_string(scope).unwrap_or_default(),
                        series,
                        data,
                        origin.to_string(),
                        first.to_string(),
                        serde_json::to_string(&forecast.values).unwrap_or_default(),
                        serde_json::to_string(&levels).unwrap_or_default(),
                        serde_json::to_string(&quantiles).unwrap_or_default(),
                    ],
                )
            },
        )?;
        Ok(())
    }

    /// Every recorded forecast of a model not deleted, oldest first.
    pub fn recorded_forecasts(&self) -> Result<Vec<RecordedForecast>> {
        self.read(
            || "read the recorded forecasts".into(),
            |c| {
                let mut stmt = c.prepare(
                    "SELECT f.id, m.filename_prefix, m.model_identifier, f.at, f.scope, f.series, f.data,
                            f.origin, f.median, f.levels, f.quantiles
                     FROM forecasts f JOIN models m ON m.id = f.model_id
                     WHERE m.deleted_at IS NULL ORDER BY f.origin, f.id",
                )?;
                let rows = stmt.query_map([], |r| {
                    let json = |i: usize| -> rusqlite::Result<String> { r.get(i) };
                    let bad = |i: usize, e: &dyn std::fmt::Display| {
                        rusqlite::Error::FromSqlConversionFailure(
                            i,
                            rusqlite::types::Type::Text,
                            e.to_string().into(),
                        )
                    };
                    let origin: String = r.get(7)?;
                    Ok(RecordedForecast {
                        id: r.get(0)?,
                        prefix: r.get(1)?,
                        model_identifier: r.get(2)?,
                        at: r.get(3)?,
                        scope: serde_json::from_str(&json(4)?).map_err(|e| bad(4, &e))?,
                        series: r.get(5)?,
                        data: r.get(6)?,
                        origin: origin.parse().map_err(|e| bad(7, &e))?,
                        median: serde_json::from_str(&json(8)?).map_err(|e| bad(8, &e))?,
                        levels: serde_json::from_str(&json(9)?).map_err(|e| bad(9, &e))?,
                        quantiles: serde_json::from_str(&json(10)?).map_err(|e| bad(10, &e))?,
                    })
                })?;
                rows.collect()
            },
        )
    }
}

impl Index {
    /// Copies the recorded forecasts of models this index knows (by prefix)
    /// from another `models.db` — the one `index rebuild` replaces, since
    /// forecasts live in no metadata file. Returns how many were copied.
    pub fn carry_forecasts(&self, old: &std::path::Path) -> Result<usize> {
        let uri = format!("file:{}?mode=ro", old.display());
        self.conn.execute("ATTACH DATABASE ?1 AS old", [&uri])?;
        let marks = self.conn.execute(
            "INSERT INTO drift_retrains(model_identifier, prefix, version, at)
             SELECT model_identifier, prefix, version, at FROM old.drift_retrains ORDER BY id",
            [],
        );
        let copied = self.conn.execute(
            "INSERT INTO forecasts(model_id, at, scope, series, data, origin, first_day, median, levels, quantiles)
             SELECT m.id, f.at, f.scope, f.series, f.data, f.origin, f.first_day, f.median, f.levels, f.quantiles
             FROM old.forecasts f JOIN old.models o ON o.id = f.model_id
             JOIN models m ON m.filename_prefix = o.filename_prefix
             ORDER BY f.id",
            [],
        );
        self.conn.execute("DETACH DATABASE old", [])?;
        marks?;
        Ok(copied?)
    }
}

impl Index {
    /// Records that `sync --when-drifting` retrained `identifier` as
    /// version `version` (`prefix`).
    pub fn mark_drift_retrain(&self, identifier: &str, prefix: &str, version: u32) -> Result<()> {
        self.write(
            || format!("record the drift retrain {prefix}"),
            |c| {
                c.execute(
                    "INSERT INTO drift_retrains(model_identifier, prefix, version, at) VALUES (?1, ?2, ?3, ?4)",
                    params![identifier, prefix, version, now()],
                )
            },
        )?;
        Ok(())
    }

    /// Each identifier's newest drift retrain, as its version.
    pub fn drift_retrains(&self) -> Result<std::collections::BTreeMap<String, u32>> {
        self.read(
            || "read the drift retrains".into(),
            |c| {
                let mut stmt = c.prepare(
                    "SELECT model_identifier, MAX(version) FROM drift_retrains GROUP BY model_identifier",
                )?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect()
            },
        )
    }
}
