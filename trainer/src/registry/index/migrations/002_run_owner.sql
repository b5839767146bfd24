-- Who is training a row, so a dead run can be found and marked interrupted;
-- what kind of command logged a prediction.
ALTER TABLE models ADD COLUMN pid INTEGER;
ALTER TABLE models ADD COLUMN host TEXT;
ALTER TABLE predictions ADD COLUMN kind TEXT NOT NULL DEFAULT 'predict';
CREATE INDEX models_by_status ON models(status);
