//! Reading (CSV or Parquet), generating and describing sales files
//! (ARCHITECTURE.md, Data).

pub mod generate;
pub mod inspect;
pub mod load;
pub mod parquet;

pub use load::{load_csv, parse_csv, LoadedData};
