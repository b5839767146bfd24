//! What a training run records as it goes (`epochs`, `checkpoints`), who
//! owns it (`pid`, `host`, `status`), and the `predictions` log.

use super::{now, Index};
use anyhow::Result;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{params, Connection};
use shoptrain_shared::metadata::{EpochRecord, Status};

/// The two kinds of checkpoint file a run keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointKind {
    /// The weights of the best validation epoch so far (one per run).
    Best,
    /// Weights and optimiser state after an epoch, to resume from.
    Epoch,
}

impl CheckpointKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckpointKind::Best => "best",
            CheckpointKind::Epoch => "epoch",
        }
    }
}

impl ToSql for CheckpointKind {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for CheckpointKind {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value.as_str()? {
            "best" => Ok(CheckpointKind::Best),
            "epoch" => Ok(CheckpointKind::Epoch),
            other => Err(FromSqlError::Other(
                format!("unknown checkpoint kind {other:?} in the index").into(),
            )),
        }
    }
}

/// One checkpoint file as the index records it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointRow {
    pub kind: CheckpointKind,
    pub epoch: u32,
    /// Relative to the models folder.
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
    pub val_loss: Option<f64>,
}

/// Writes one epoch row of a run (replacing a row of the same epoch).
fn insert_epoch(c: &Connection, model_id: i64, e: &EpochRecord) -> rusqlite::Result<()> {
    c.execute(
        "INSERT OR REPLACE INTO epochs(model_id, epoch, train_loss, val_loss, lr, seconds) VALUES (?1,?2,?3,?4,?5,?6)",
        params![model_id, e.epoch, e.train_loss, e.val_loss, e.lr, e.seconds],
    )?;
    Ok(())
}

impl Index {
    /// Replaces every epoch row of a run with `history` (a run that kept a
    /// trial's weights keeps the trial's epochs), in one transaction.
    pub fn replace_epochs(&self, model_id: i64, history: &[EpochRecord]) -> Result<()> {
        self.write(
            || format!("replace the epochs of {}", self.row_name(model_id)),
            |c| {
                c.execute("DELETE FROM epochs WHERE model_id = ?1", [model_id])?;
                history
                    .iter()
                    .try_for_each(|e| insert_epoch(c, model_id, e))
            },
        )
    }

    pub fn add_epoch(&self, model_id: i64, e: &EpochRecord) -> Result<()> {
        self.write(
            || format!("record epoch {} of {}", e.epoch, self.row_name(model_id)),
            |c| insert_epoch(c, model_id, e),
        )
    }

    /// Records a checkpoint file; a `best` one replaces the previous best
    /// in the same transaction, so a run never has two or none.
    pub fn add_checkpoint(&self, model_id: i64, cp: &CheckpointRow) -> Result<()> {
        self.write(
            || {
                format!(
                    "record the {} checkpoint of epoch {} of {}",
                    cp.kind.as_str(),
                    cp.epoch,
                    self.row_name(model_id)
                )
            },
            |c| {
                c.execute(
                    "INSERT OR REPLACE INTO checkpoints(model_id, epoch, kind, path, bytes, sha256, val_loss)
                     VALUES (?1,?2,?3,?4,?5,?6,?7)",
                    params![model_id, cp.epoch, cp.kind, cp.path, cp.bytes as i64, cp.sha256, cp.val_loss],
                )?;
                if cp.kind == CheckpointKind::Best {
                    c.execute(
                        "DELETE FROM checkpoints WHERE model_id = ?1 AND kind = ?2 AND epoch != ?3",
                        params![model_id, CheckpointKind::Best, cp.epoch],
                    )?;
                }
                Ok(())
            },
        )
    }

    /// Forgets the epoch checkpoints of these epochs (one transaction).
    pub fn remove_epoch_checkpoints(&self, model_id: i64, epochs: &[u32]) -> Result<()> {
        self.write(
            || {
                format!(
                    "forget old epoch checkpoints of {}",
                    self.row_name(model_id)
                )
            },
            |c| {
                for epoch in epochs {
                    c.execute(
                        "DELETE FROM checkpoints WHERE model_id = ?1 AND kind = ?2 AND epoch = ?3",
                        params![model_id, CheckpointKind::Epoch, epoch],
                    )?;
                }
                Ok(())
            },
        )
    }

    pub fn epochs(&self, model_id: i64) -> Result<Vec<EpochRecord>> {
        self.read(
            || format!("read the epochs of {}", self.row_name(model_id)),
            |c| {
                let mut stmt = c.prepare(
                    "SELECT epoch, train_loss, val_loss, lr, seconds FROM epochs WHERE model_id = ?1 ORDER BY epoch",
                )?;
                let rows = stmt.query_map([model_id], |r| {
                    Ok(EpochRecord {
                        epoch: r.get(0)?,
                        train_loss: r.get(1)?,
                        val_loss: r.get(2)?,
                        lr: r.get(3)?,
                        seconds: r.get(4)?,
                    })
                })?;
                rows.collect()
            },
        )
    }

    /// `(prefix, path, sha256)` of every checkpoint of a completed model. A
    /// run that stopped mid-way may have rewritten a checkpoint file without
    /// reaching its index row, so its checkpoints are not held to their rows.
    pub fn completed_checkpoints(&self) -> Result<Vec<(String, String, String)>> {
        self.read(
            || "list the checkpoints of completed models".into(),
            |c| {
                let mut stmt = c.prepare(
                    "SELECT m.filename_prefix, c.path, c.sha256 FROM checkpoints c JOIN models m ON m.id = c.model_id
                     WHERE m.status = ?1 ORDER BY c.path",
                )?;
                let rows = stmt.query_map([Status::Completed], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
                rows.collect()
            },
        )
    }

    pub fn log_prediction(
        &self,
        model_id: i64,
        kind: &str,
        input_sha256: &str,
        horizon: usize,
        seconds: f64,
    ) -> Result<()> {
        self.write(
            || format!("log a {kind} with {}", self.row_name(model_id)),
            |c| {
                c.execute(
                    "INSERT INTO predictions(model_id, at, input_sha256, horizon, output_path, seconds, kind) VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6)",
                    params![model_id, now(), input_sha256, horizon as i64, seconds, kind],
                )
            },
        )?;
        Ok(())
    }

    pub fn prediction_count(&self, model_id: i64) -> Result<i64> {
        self.read(
            || format!("count the predictions of {}", self.row_name(model_id)),
            |c| {
                c.query_row(
                    "SELECT COUNT(*) FROM predictions WHERE model_id = ?1",
                    [model_id],
                    |r| r.get(0),
                )
            },
        )
    }

    /// Rows still `training` on this host: `(prefix, pid)`.
    pub fn training_rows(&self, host: &str) -> Result<Vec<(String, Option<u32>)>> {
        self.read(
            || "list the runs still training".into(),
            |c| {
                let mut stmt = c.prepare(
                    "SELECT filename_prefix, pid FROM models WHERE status = ?1 AND (host = ?2 OR host IS NULL)",
                )?;
                let rows = stmt.query_map(params![Status::Training, host], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
                rows.collect()
            },
        )
    }

    /// Records which process now trains a row (a resumed run), so that other
    /// commands do not take it for dead.
    pub fn set_owner(&self, prefix: &str, pid: u32, host: &str) -> Result<()> {
        self.write(
            || format!("record process {pid} on {host} as the trainer of {prefix}"),
            |c| {
                c.execute(
                    "UPDATE models SET pid = ?2, host = ?3, updated_at = ?4 WHERE filename_prefix = ?1",
                    params![prefix, pid, host, now()],
                )
            },
        )?;
        Ok(())
    }

    pub fn set_status(&self, prefix: &str, status: Status, error: Option<&str>) -> Result<()> {
        self.write(
            || format!("mark {prefix} {}", status.as_str()),
            |c| {
                c.execute(
                    "UPDATE models SET status = ?2, error_message = COALESCE(?3, error_message), updated_at = ?4 WHERE filename_prefix = ?1",
                    params![prefix, status, error, now()],
                )
            },
        )?;
        Ok(())
    }
}
