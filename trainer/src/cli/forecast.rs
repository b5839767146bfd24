//! The arguments of `predict`, `evaluate`, `export`, `serve` and `bench`.

use super::{check_batch_size, ModelChoice, ShapeFlags};
use crate::batch::{Each, Pick};
use crate::bench::BenchOptions;
use crate::commands::each::EachOptions;
use crate::commands::export::ExportOptions;
use crate::commands::serve::ServeOptions;
use crate::lookup::ForecastOptions;
use crate::output::Format;
use anyhow::{bail, Result};
use clap::Args;
use std::path::PathBuf;

/// Which model forecasts which series of which file.
#[derive(Args, Debug)]
pub struct ModelSeriesArgs {
    /// Model prefix or alias (or --each).
    #[arg(required_unless_present = "each")]
    pub model: Option<String>,
    /// Data file; the model's own series is selected from it.
    #[arg(long)]
    pub data: PathBuf,
    /// For global models: the store of the series to forecast; with
    /// --each: only this store.
    #[arg(long)]
    pub store: Option<String>,
    /// For global models: the product of the series to forecast; with
    /// --each: only this product.
    #[arg(long)]
    pub product: Option<String>,
    /// Every product, store or (store, product) series of --data, each
    /// with its own newest model, into one table.
    #[arg(long, value_enum, conflicts_with = "model")]
    pub each: Option<Each>,
    /// With --each: which model of each series.
    #[arg(long = "type", value_enum, default_value = "best", requires = "each")]
    pub pick: Pick,
}

/// One model, or every selected series' model.
pub enum Target {
    One(ForecastOptions),
    Each(EachOptions),
}

impl ModelSeriesArgs {
    pub fn target(self) -> Target {
        match (self.each, self.model) {
            (Some(each), _) => Target::Each(EachOptions {
                data: self.data,
                each,
                product: self.product,
                store: self.store,
                pick: self.pick,
            }),
            (None, model) => Target::One(ForecastOptions {
                // clap requires one of the two
                model: model.unwrap_or_default(),
                data: self.data,
                store: self.store,
                product: self.product,
            }),
        }
    }
}

#[derive(Args, Debug)]
pub struct PredictArgs {
    #[command(flatten)]
    pub target: ModelSeriesArgs,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// CSV of the forecast days' known columns (`date` and the columns the
    /// model's metadata lists under `known_future`, one row a day); without
    /// it they are taken as unchanged from recent weeks.
    #[arg(long, conflicts_with = "each")]
    pub future: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct EvaluateArgs {
    #[command(flatten)]
    pub target: ModelSeriesArgs,
    /// Number of rolling origins (the last K horizon-long blocks).
    #[arg(long, default_value_t = 8)]
    pub windows: usize,
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

impl From<ExportArgs> for ExportOptions {
    fn from(a: ExportArgs) -> Self {
        ExportOptions {
            models: a.models,
            out: a.out,
            data: a.data,
        }
    }
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (0.0.0.0 for every interface).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The web-demo folder (with pkg/ and models/ inside).
    #[arg(long, default_value = "web-demo")]
    pub root: PathBuf,
    /// An origin whose pages may embed forecasts from this server, e.g.
    /// https://shop.example (repeat for several; * for any). Without it only
    /// pages this server serves can load the package and the models.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origins: Vec<String>,
}

impl From<ServeArgs> for ServeOptions {
    fn from(a: ServeArgs) -> Self {
        ServeOptions {
            host: a.host,
            port: a.port,
            root: a.root,
            allow_origins: a.allow_origins,
        }
    }
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
    #[command(flatten)]
    pub shape: ShapeFlags,
}

impl BenchArgs {
    pub fn into_options(self) -> Result<BenchOptions> {
        if self.steps == 0 || self.forecasts == 0 {
            bail!("--steps and --forecasts must be at least 1");
        }
        check_batch_size(self.shape.batch_size)?;
        Ok(BenchOptions {
            data: self.data,
            types: self.model.types(),
            steps: self.steps,
            forecasts: self.forecasts,
            batch_size: self.shape.batch_size,
            window: self.shape.window,
            horizon: self.shape.horizon,
            device: self.shape.device,
        })
    }
}
