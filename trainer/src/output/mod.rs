//! Everything commands print: tables for people, JSON for programs, and the
//! progress bar; one file per kind of output.

mod forecasts;
mod monitor;
mod progress;
mod registry;
mod scores;
mod sync;

pub use forecasts::*;
pub use monitor::*;
pub use progress::*;
pub use registry::*;
pub use scores::*;
pub use sync::*;

use anyhow::Result;
use serde::Serialize;

/// How `predict` prints a forecast.
#[derive(Debug, Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
}

/// Pretty JSON on stdout.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Cells padded to a table: ids and dates left, numbers right.
pub(crate) fn table_line<S: AsRef<str>>(cells: &[S]) -> String {
    cells
        .iter()
        .map(|c| {
            let c = c.as_ref();
            if c.parse::<f64>().is_ok() {
                format!("{c:>10}")
            } else {
                format!("{c:<10}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
