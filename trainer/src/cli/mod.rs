//! The `shoptrain` command line: clap types only, each converted into the
//! validated options its command takes (`commands::*`). The enums users
//! pick from are the shared ones (`shared`'s `clap` feature).

mod forecast;
mod sync;
mod train;

pub use forecast::{
    BenchArgs, EvaluateArgs, ExportArgs, ModelSeriesArgs, PredictArgs, ServeArgs, Target,
};
pub use sync::{MonitorArgs, SyncArgs};
pub use train::{BacktestArgs, SelectionArgs, ShapeFlags, TrainArgs, TrainingFlags};

use crate::commands::models::ListOptions;
use crate::data::generate::GenOptions;
use crate::registry::ListFilter;
use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use shoptrain_shared::metadata::Status;
use shoptrain_shared::naming::{Mode, ModelType};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "shoptrain",
    version,
    about = "Train sales-forecasting models natively and export them for the browser"
)]
pub struct Cli {
    /// Folder holding models, versions.json and models.db.
    #[arg(
        long,
        global = true,
        env = "SHOPTRAIN_MODELS_DIR",
        default_value = "saved_models"
    )]
    pub models_dir: PathBuf,
    /// Machine-readable JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// No progress bars or chatter on stderr.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Generate or inspect sales data.
    #[command(subcommand)]
    Data(DataCommand),
    /// Train models (mlstm, transformer, kan or all).
    Train(TrainArgs),
    /// Forecast the days after a data file's last date.
    Predict(PredictArgs),
    /// Rolling-origin backtest of a trained model beside naive baselines.
    Evaluate(EvaluateArgs),
    /// Train and score at rolling origins beside seasonal naive and ETS.
    Backtest(BacktestArgs),
    /// The model registry.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Reconcile files with the SQLite index.
    #[command(subcommand)]
    Index(IndexCommand),
    /// Copy models and a manifest for the browser runtime.
    Export(ExportArgs),
    /// Serve the web demo and exported models on 127.0.0.1.
    Serve(ServeArgs),
    /// Training throughput, forecast latency and peak memory per model type.
    Bench(BenchArgs),
    /// Retrain every model in use whose series changed in the sales store
    /// since the data version it learned from.
    Sync(SyncArgs),
    /// Score the forecasts `predict` recorded against the sales imported
    /// since: per model and week, beside seasonal naive.
    Monitor(MonitorArgs),
}

#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Write deterministic synthetic pharmacy sales.
    Gen {
        #[arg(long, default_value = "data.csv")]
        out: PathBuf,
        #[arg(long, default_value_t = 5)]
        stores: usize,
        #[arg(long, default_value_t = 20)]
        products: usize,
        #[arg(long, default_value_t = 730)]
        days: usize,
        /// First date (YYYY-MM-DD).
        #[arg(long, default_value = "2023-01-01")]
        start: String,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Series, date range, gaps and statistics of a CSV file, or of the
    /// sales store (`store`, or `store@V` for version V).
    Inspect {
        file: PathBuf,
        /// The sales store, when FILE is `store[@V]` (default: sales.db in the models folder).
        #[arg(long = "store")]
        store_path: Option<PathBuf>,
    },
    /// Add a long-format CSV to the sales store as its next data version:
    /// new days added, corrected days replaced, in one transaction.
    Import {
        file: PathBuf,
        /// The sales store (default: sales.db in the models folder).
        #[arg(long = "store")]
        store_path: Option<PathBuf>,
    },
    /// The sales store's data versions: when, from which file, rows added,
    /// changed and unchanged.
    Versions {
        #[arg(long = "store")]
        store_path: Option<PathBuf>,
    },
    /// Write a data version of the sales store back as CSV.
    Export {
        /// The version (default: the newest).
        #[arg(long)]
        version: Option<u32>,
        /// Where to write (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long = "store")]
        store_path: Option<PathBuf>,
    },
}

/// The options of `data gen`, checked.
pub fn gen_options(
    stores: usize,
    products: usize,
    days: usize,
    start: &str,
    seed: u64,
) -> Result<GenOptions> {
    let start = chrono::NaiveDate::parse_from_str(start, "%Y-%m-%d")
        .with_context(|| format!("--start {start:?} is not a YYYY-MM-DD date"))?;
    if stores == 0 || products == 0 || days == 0 {
        bail!("--stores, --products and --days must be at least 1");
    }
    Ok(GenOptions {
        stores,
        products,
        days,
        start,
        seed,
    })
}

/// `--batch-size`, when given, trains on at least one window a step.
fn check_batch_size(batch_size: Option<usize>) -> Result<()> {
    if batch_size == Some(0) {
        bail!("--batch-size must be at least 1");
    }
    Ok(())
}

/// A model type, or all of them (`all`). Its values come from
/// `ModelType::ALL`, the one list of types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelChoice {
    All,
    One(ModelType),
}

impl ModelChoice {
    pub fn types(self) -> Vec<ModelType> {
        match self {
            ModelChoice::All => ModelType::ALL.to_vec(),
            ModelChoice::One(t) => vec![t],
        }
    }

    /// One type, or none for `all`.
    pub fn single(self) -> Option<ModelType> {
        match self {
            ModelChoice::One(t) => Some(t),
            ModelChoice::All => None,
        }
    }
}

impl ValueEnum for ModelChoice {
    fn value_variants<'a>() -> &'a [Self] {
        static VARIANTS: std::sync::OnceLock<Vec<ModelChoice>> = std::sync::OnceLock::new();
        VARIANTS.get_or_init(|| {
            ModelType::ALL
                .into_iter()
                .map(ModelChoice::One)
                .chain([ModelChoice::All])
                .collect()
        })
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(match self {
            ModelChoice::One(t) => clap::builder::PossibleValue::new(t.as_str()),
            ModelChoice::All => clap::builder::PossibleValue::new("all").help("every model type"),
        })
    }
}

#[derive(Subcommand, Debug)]
pub enum ModelsCommand {
    /// List models (newest version last).
    List {
        #[arg(long, value_enum)]
        mode: Option<Mode>,
        #[arg(long = "type", value_enum)]
        model_type: Option<ModelChoice>,
        #[arg(long)]
        status: Option<String>,
        /// Include soft-deleted models.
        #[arg(long)]
        all: bool,
    },
    /// One model's row, metadata and epochs.
    Show { model: String },
    /// Soft-delete a model (hide it); --hard removes its files and row.
    Delete {
        prefix: String,
        #[arg(long)]
        hard: bool,
    },
    /// Named pointers to models (e.g. production).
    #[command(subcommand)]
    Alias(AliasCommand),
    /// Metrics of several models side by side.
    Compare { models: Vec<String> },
}

/// The filter of `models list`, with the status word checked.
pub fn list_options(
    mode: Option<Mode>,
    model_type: Option<ModelChoice>,
    status: Option<String>,
    all: bool,
) -> Result<ListOptions> {
    let status = match status {
        None => None,
        Some(s) => Some(Status::parse(&s).with_context(|| {
            format!("unknown status {s:?}; expected training, completed, failed or interrupted")
        })?),
    };
    Ok(ListOptions {
        filter: ListFilter {
            mode,
            model_type: model_type.and_then(ModelChoice::single),
            status,
            include_deleted: all,
        },
    })
}

#[derive(Subcommand, Debug)]
pub enum AliasCommand {
    /// Point NAME at PREFIX (recorded in the alias history).
    Set { name: String, prefix: String },
    /// Remove NAME.
    Rm { name: String },
    /// Current aliases, and with --history every move.
    List {
        #[arg(long)]
        history: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum IndexCommand {
    /// Report rows without files, files without rows and checksum mismatches.
    Verify,
    /// Rebuild models.db and versions.json from the metadata files, once no
    /// other shoptrain process has the index open.
    Rebuild {
        /// Seconds to wait for other processes (trainers, serve) to close
        /// the index before giving up.
        #[arg(long, default_value_t = 10)]
        wait: u64,
    },
}
