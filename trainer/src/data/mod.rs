//! Reading, generating and describing sales CSV files (ARCHITECTURE.md, Data).

pub mod generate;
pub mod inspect;
pub mod load;

pub use load::{load_csv, parse_csv, LoadedData};
