-- The tables of the model index (ARCHITECTURE.md, The index).
CREATE TABLE datasets(
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    rows INTEGER NOT NULL,
    series INTEGER NOT NULL,
    date_min TEXT NOT NULL,
    date_max TEXT NOT NULL,
    columns TEXT NOT NULL
);
CREATE TABLE models(
    id INTEGER PRIMARY KEY,
    filename_prefix TEXT NOT NULL UNIQUE,
    model_identifier TEXT NOT NULL,
    version INTEGER NOT NULL,
    mode TEXT NOT NULL,
    scope TEXT NOT NULL,
    model_type TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('training','completed','failed','interrupted')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT,
    metrics_summary TEXT,
    hyperparams TEXT,
    dataset_id INTEGER REFERENCES datasets(id),
    parent_prefix TEXT,
    device TEXT,
    created_by TEXT,
    error_message TEXT,
    deleted_at TEXT,
    UNIQUE(model_identifier, version)
);
CREATE INDEX models_by_listing ON models(mode, model_type, status);
CREATE INDEX models_by_identifier ON models(model_identifier, version);
CREATE TABLE epochs(
    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    train_loss REAL NOT NULL,
    val_loss REAL NOT NULL,
    lr REAL NOT NULL,
    seconds REAL NOT NULL,
    PRIMARY KEY(model_id, epoch)
);
CREATE TABLE checkpoints(
    id INTEGER PRIMARY KEY,
    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('best','epoch')),
    path TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    val_loss REAL,
    UNIQUE(model_id, kind, epoch)
);
CREATE TABLE aliases(
    name TEXT PRIMARY KEY,
    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    updated_at TEXT NOT NULL
);
CREATE TABLE alias_history(
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT,
    previous_prefix TEXT,
    action TEXT NOT NULL,
    at TEXT NOT NULL,
    by TEXT NOT NULL
);
CREATE TABLE predictions(
    id INTEGER PRIMARY KEY,
    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    input_sha256 TEXT NOT NULL,
    horizon INTEGER NOT NULL,
    output_path TEXT,
    seconds REAL NOT NULL
);
