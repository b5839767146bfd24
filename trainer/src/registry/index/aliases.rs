//! The `aliases` table and its `alias_history` log.

use super::{now, Index};
use anyhow::{Context, Result};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// One move of an alias, oldest first in `alias_history`. Fields are in
/// alphabetical order, the order the JSON output has always had.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AliasEvent {
    /// `set` or `rm`.
    pub action: String,
    pub alias: String,
    pub at: String,
    pub by: String,
    /// Where the alias points after the move (none after `rm`).
    pub prefix: Option<String>,
    pub previous: Option<String>,
}

/// The prefix an alias points at, if it exists.
fn alias_target(conn: &Connection, name: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT m.filename_prefix FROM aliases a JOIN models m ON m.id = a.model_id WHERE a.name = ?1",
        [name],
        |r| r.get(0),
    )
    .optional()
}

impl Index {
    /// A prefix, or an alias pointing at one.
    pub fn resolve(&self, name: &str) -> Result<String> {
        let target = self.read(|| format!("look up {name:?}"), |c| alias_target(c, name))?;
        Ok(target.unwrap_or_else(|| name.to_string()))
    }

    /// Points `name` at `prefix`, recording the move in `alias_history`.
    /// `None` when no live model has that prefix.
    pub fn alias_set(&self, name: &str, prefix: &str, by: &str) -> Result<Option<String>> {
        let moved = self.write(
            || format!("point alias {name:?} at {prefix}"),
            |c| {
                let model_id: Option<i64> = c
                    .query_row(
                        "SELECT id FROM models WHERE filename_prefix = ?1 AND deleted_at IS NULL",
                        [prefix],
                        |r| r.get(0),
                    )
                    .optional()?;
                let Some(model_id) = model_id else {
                    return Ok(None);
                };
                let previous = alias_target(c, name)?;
                let at = now();
                c.execute(
                    "INSERT INTO aliases(name, model_id, updated_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT(name) DO UPDATE SET model_id = excluded.model_id, updated_at = excluded.updated_at",
                    params![name, model_id, at],
                )?;
                c.execute(
                    "INSERT INTO alias_history(name, prefix, previous_prefix, action, at, by) VALUES (?1, ?2, ?3, 'set', ?4, ?5)",
                    params![name, prefix, previous, at, by],
                )?;
                Ok(Some(previous))
            },
        )?;
        moved.with_context(|| {
            format!("no model {prefix:?} in the index; see `shoptrain models list`")
        })
    }

    pub fn alias_rm(&self, name: &str, by: &str) -> Result<String> {
        let removed = self.write(
            || format!("remove alias {name:?}"),
            |c| {
                let Some(previous) = alias_target(c, name)? else {
                    return Ok(None);
                };
                c.execute("DELETE FROM aliases WHERE name = ?1", [name])?;
                c.execute(
                    "INSERT INTO alias_history(name, prefix, previous_prefix, action, at, by) VALUES (?1, NULL, ?2, 'rm', ?3, ?4)",
                    params![name, previous, now(), by],
                )?;
                Ok(Some(previous))
            },
        )?;
        removed.with_context(|| format!("no alias {name:?}; see `shoptrain models alias list`"))
    }

    /// `(alias, prefix)` pairs, sorted by alias.
    pub fn aliases(&self) -> Result<Vec<(String, String)>> {
        self.read(
            || "list the aliases".into(),
            |c| {
                let mut stmt = c.prepare(
                    "SELECT a.name, m.filename_prefix FROM aliases a JOIN models m ON m.id = a.model_id ORDER BY a.name",
                )?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect()
            },
        )
    }

    pub fn alias_history(&self) -> Result<Vec<AliasEvent>> {
        self.read(
            || "read the alias history".into(),
            |c| {
                let mut stmt = c.prepare(
                    "SELECT name, prefix, previous_prefix, action, at, by FROM alias_history ORDER BY id",
                )?;
                let rows = stmt.query_map([], |r| {
                    Ok(AliasEvent {
                        alias: r.get(0)?,
                        prefix: r.get(1)?,
                        previous: r.get(2)?,
                        action: r.get(3)?,
                        at: r.get(4)?,
                        by: r.get(5)?,
                    })
                })?;
                rows.collect()
            },
        )
    }
}
