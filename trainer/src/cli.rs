//! The `shoptrain` command line (clap derive). Handlers live in `commands`.

use crate::device::DeviceChoice;
use clap::{Args, Parser, Subcommand, ValueEnum};
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
    /// Rolling-origin backtest beside naive baselines.
    Evaluate(EvaluateArgs),
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
    /// Series, date range, gaps and statistics of a CSV file.
    Inspect { file: PathBuf },
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ModelChoice {
    Mlstm,
    Transformer,
    Kan,
    All,
}

impl ModelChoice {
    pub fn types(self) -> Vec<shoptrain_shared::naming::ModelType> {
        use shoptrain_shared::naming::ModelType;
        match self {
            ModelChoice::All => ModelType::ALL.to_vec(),
            ModelChoice::Mlstm => vec![ModelType::Mlstm],
            ModelChoice::Transformer => vec![ModelType::Transformer],
            ModelChoice::Kan => vec![ModelType::Kan],
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ModeArg {
    Product,
    Store,
    Global,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum FillArg {
    Zero,
    Ffill,
    Error,
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Long CSV: date,store_id,product_id,sales[,extra columns].
    #[arg(long)]
    pub data: PathBuf,
    #[arg(long, value_enum, default_value = "product")]
    pub mode: ModeArg,
    /// Product id (product mode), or one product / `all` (store mode).
    #[arg(long)]
    pub product: Option<String>,
    /// Store id or `all` (product mode), or the store (store mode).
    #[arg(long)]
    pub store: Option<String>,
    #[arg(long, value_enum, default_value = "all")]
    pub model: ModelChoice,
    #[arg(long, default_value_t = 50)]
    pub epochs: u32,
    /// Default 32 on CPU, 256 on CUDA.
    #[arg(long)]
    pub batch_size: Option<usize>,
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    #[arg(long, default_value_t = 1e-4)]
    pub weight_decay: f64,
    #[arg(long, default_value_t = 30)]
    pub window: usize,
    #[arg(long, default_value_t = 7)]
    pub horizon: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[arg(long, value_enum, default_value = "auto")]
    pub device: DeviceChoice,
    /// Write an epoch checkpoint (with optimiser state) every N epochs; 0 = never.
    #[arg(long, default_value_t = 1)]
    pub checkpoint_every: u32,
    /// Stop after this many epochs without a better validation loss.
    #[arg(long, default_value_t = 10)]
    pub patience: u32,
    #[arg(long, default_value_t = 0.2)]
    pub val_ratio: f64,
    /// Extra numeric columns to use as features (comma-separated); default: all.
    #[arg(long, value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    #[arg(long, value_enum, default_value = "zero")]
    pub fill: FillArg,
    /// Normalisation of product/store models (global models always use instance).
    #[arg(long, value_enum, default_value = "instance")]
    pub norm: crate::train::NormChoice,
    /// Continue an interrupted run from its latest epoch checkpoint.
    #[arg(long, conflicts_with = "from")]
    pub resume: Option<String>,
    /// Fine-tune a new version from this parent model (prefix or alias).
    #[arg(long)]
    pub from: Option<String>,
    /// Fault injection for tests: exit abruptly after this epoch.
    #[arg(long, hide = true)]
    pub halt_after_epoch: Option<u32>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
}

#[derive(Args, Debug)]
pub struct PredictArgs {
    /// Model prefix or alias.
    pub model: String,
    /// Data file; the model's own series is selected from it.
    #[arg(long)]
    pub data: PathBuf,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// For global models: the store of the series to forecast.
    #[arg(long)]
    pub store: Option<String>,
    /// For global models: the product of the series to forecast.
    #[arg(long)]
    pub product: Option<String>,
}

#[derive(Args, Debug)]
pub struct EvaluateArgs {
    pub model: String,
    #[arg(long)]
    pub data: PathBuf,
    /// Number of rolling origins (the last K horizon-long blocks).
    #[arg(long, default_value_t = 8)]
    pub windows: usize,
    #[arg(long)]
    pub store: Option<String>,
    #[arg(long)]
    pub product: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum ModelsCommand {
    /// List models (newest version last).
    List {
        #[arg(long, value_enum)]
        mode: Option<ModeArg>,
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
    /// Rebuild models.db and versions.json from the metadata files.
    Rebuild,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Model prefixes or aliases.
    #[arg(required = true)]
    pub models: Vec<String>,
    #[arg(long)]
    pub out: PathBuf,
    /// Data file the sample histories come from (default: each model's training data).
    #[arg(long)]
    pub data: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The web-demo folder (with pkg/ and models/ inside).
    #[arg(long, default_value = "web-demo")]
    pub root: PathBuf,
    /// Serve a fixed number of requests, then exit (for tests).
    #[arg(long, hide = true)]
    pub max_requests: Option<usize>,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Long CSV to take windows from (every series); default: the generated
    /// sample data (5 stores x 20 products x 730 days), built in memory.
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "all")]
    pub model: ModelChoice,
    /// Timed training steps per model type (after 3 untimed warm-up steps).
    #[arg(long, default_value_t = 30)]
    pub steps: usize,
    /// Timed one-window forecasts per model type.
    #[arg(long, default_value_t = 200)]
    pub forecasts: usize,
    /// Default 32 on CPU, 256 on CUDA (as in training).
    #[arg(long)]
    pub batch_size: Option<usize>,
    #[arg(long, default_value_t = 30)]
    pub window: usize,
    #[arg(long, default_value_t = 7)]
    pub horizon: usize,
    #[arg(long, value_enum, default_value = "auto")]
    pub device: DeviceChoice,
}
