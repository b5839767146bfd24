//! SQLite columns of the shared enums (feature `sql`): the trainer's index
//! stores them as the same lowercase words the metadata files use.

use crate::metadata::Status;
use crate::naming::{Mode, ModelType};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

macro_rules! text_column {
    ($t:ty, $what:literal, $parse:expr) => {
        impl ToSql for $t {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }
        impl FromSql for $t {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let text = value.as_str()?;
                let parse: fn(&str) -> Option<$t> = $parse;
                parse(text).ok_or_else(|| {
                    FromSqlError::Other(format!("unknown {} {text:?} in the index", $what).into())
                })
            }
        }
    };
}

text_column!(Mode, "mode", |s| s.parse().ok());
text_column!(ModelType, "model type", |s| s.parse().ok());
text_column!(Status, "status", Status::parse);

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    #[test]
    fn enums_round_trip_through_text_columns() {
        let conn = Connection::open_in_memory().unwrap();
        let (m, t, s): (Mode, ModelType, Status) = conn
            .query_row(
                "SELECT ?1, ?2, ?3",
                rusqlite::params![Mode::Store, ModelType::Kan, Status::Interrupted],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(
            (m, t, s),
            (Mode::Store, ModelType::Kan, Status::Interrupted)
        );
        let text: String = conn
            .query_row("SELECT ?1", [ModelType::Mlstm], |r| r.get(0))
            .unwrap();
        assert_eq!(text, "mlstm");
    }

    #[test]
    fn unknown_text_is_an_error_naming_it() {
        let conn = Connection::open_in_memory().unwrap();
        let err = conn
            .query_row("SELECT 'lstm'", [], |r| r.get::<_, ModelType>(0))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown model type \"lstm\""), "{err}");
    }
}
