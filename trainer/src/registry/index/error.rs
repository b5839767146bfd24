//! SQLite errors as sentences: which file, which operation, and what to do
//! (ARCHITECTURE.md, Errors and reliability).

use super::BUSY_TIMEOUT;
use rusqlite::ffi::ErrorCode;
use std::path::Path;

/// `models.db (PATH): cannot DOING: CAUSE; WHAT TO DO`.
pub fn db_error(path: &Path, doing: &str, e: &rusqlite::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "models.db ({}): cannot {doing}: {}; {}",
        path.display(),
        cause(e),
        hint(e)
    )
}

/// SQLite's own message ("database is locked"), without rusqlite's
/// "Error code 5: …" restatement.
fn cause(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message.clone(),
        rusqlite::Error::SqliteFailure(err, None) => err.to_string(),
        other => other.to_string(),
    }
}

fn hint(e: &rusqlite::Error) -> String {
    const REBUILD: &str = "run `shoptrain index rebuild` to recreate it from the metadata files";
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => format!(
            "another process held the index for {} s; retry, or check for a stuck shoptrain process",
            BUSY_TIMEOUT.as_secs()
        ),
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            format!("the file is damaged; {REBUILD}")
        }
        Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => {
            "check that you can write to the models folder and to models.db, models.db-wal and models.db-shm in it".into()
        }
        Some(ErrorCode::DiskFull) => "free some disk space, then retry".into(),
        Some(ErrorCode::SystemIoFailure) => {
            format!("check the disk, then retry; if it keeps failing, {REBUILD}")
        }
        Some(ErrorCode::ConstraintViolation) => {
            format!("the index disagrees with the metadata files; {REBUILD}")
        }
        _ => format!("if it keeps failing, {REBUILD}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::ffi;

    fn failure(code: i32, message: &str) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(code), Some(message.into()))
    }

    #[test]
    fn busy_names_file_operation_and_way_out() {
        let e = failure(ffi::SQLITE_BUSY, "database is locked");
        let text = db_error(
            Path::new("/m/models.db"),
            "record epoch 3 of product_P001_all_kan_v1",
            &e,
        )
        .to_string();
        assert_eq!(
            text,
            "models.db (/m/models.db): cannot record epoch 3 of product_P001_all_kan_v1: database is locked; \
             another process held the index for 60 s; retry, or check for a stuck shoptrain process"
        );
    }

    #[test]
    fn damage_names_rebuild() {
        for code in [ffi::SQLITE_NOTADB, ffi::SQLITE_CORRUPT, ffi::SQLITE_IOERR] {
            let text = db_error(
                Path::new("/m/models.db"),
                "list models",
                &failure(code, "x"),
            )
            .to_string();
            assert!(text.contains("shoptrain index rebuild"), "{text}");
        }
    }
}
