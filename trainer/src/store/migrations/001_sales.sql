-- The sales store: every row a day of one series, valid from the data
-- version that wrote it until the one that corrected it (NULL: current).
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE data_versions (
    version INTEGER PRIMARY KEY,
    imported_at TEXT NOT NULL,
    source TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    rows_added INTEGER NOT NULL,
    rows_changed INTEGER NOT NULL,
    rows_unchanged INTEGER NOT NULL
);
CREATE TABLE version_series (
    version INTEGER NOT NULL REFERENCES data_versions(version),
    store TEXT NOT NULL,
    product TEXT NOT NULL,
    added INTEGER NOT NULL,
    changed INTEGER NOT NULL,
    unchanged INTEGER NOT NULL,
    PRIMARY KEY (version, store, product)
);
CREATE TABLE sales (
    store TEXT NOT NULL,
    product TEXT NOT NULL,
    date TEXT NOT NULL,
    first_version INTEGER NOT NULL REFERENCES data_versions(version),
    last_version INTEGER REFERENCES data_versions(version),
    vals TEXT NOT NULL,
    PRIMARY KEY (store, product, date, first_version)
);
CREATE INDEX sales_current ON sales (store, product, date) WHERE last_version IS NULL;
