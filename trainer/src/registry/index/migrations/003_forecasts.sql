-- Every forecast `predict` makes, so that `monitor` can score it once the
-- days it forecast have been sold (imported into the sales store).
CREATE TABLE forecasts(
    id INTEGER PRIMARY KEY,
    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    -- the series forecast (a naming::Scope as JSON) and its label
    scope TEXT NOT NULL,
    series TEXT NOT NULL,
    -- the data it forecast from (a file, or the sales store's STORE@V)
    data TEXT NOT NULL,
    -- the last day of history; the forecast days follow it
    origin TEXT NOT NULL,
    first_day TEXT NOT NULL,
    -- JSON: the days' medians, and the quantile levels with their values
    median TEXT NOT NULL,
    levels TEXT NOT NULL,
    quantiles TEXT NOT NULL
);
CREATE INDEX forecasts_by_model ON forecasts(model_id);
-- The version `sync --when-drifting` retrained a model to: monitor judges
-- drift only on forecasts of that version and later ones.
CREATE TABLE drift_retrains(
    id INTEGER PRIMARY KEY,
    model_identifier TEXT NOT NULL,
    prefix TEXT NOT NULL,
    version INTEGER NOT NULL,
    at TEXT NOT NULL
);
