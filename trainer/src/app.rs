//! Runs a parsed command line: each subcommand's arguments become its
//! options (`cli`), then its handler runs (`commands`).

use crate::cli::{
    self, AliasCommand, Cli, Command, DataCommand, IndexCommand, ModelsCommand, Target,
};
use crate::commands;
use anyhow::Result;

pub fn run(cli: Cli) -> Result<()> {
    let (json, quiet) = (cli.json, cli.quiet);
    let dir = cli.models_dir.as_path();
    match cli.command {
        Command::Data(DataCommand::Gen {
            out,
            stores,
            products,
            days,
            start,
            seed,
        }) => {
            let opts = cli::gen_options(stores, products, days, &start, seed)?;
            commands::data::generate_file(&out, &opts, json)
        }
        Command::Data(DataCommand::Inspect { file, store_path }) => {
            commands::data::inspect(dir, &file, store_path.as_deref(), json)
        }
        Command::Data(DataCommand::Import { file, store_path }) => {
            commands::data::import(dir, &file, store_path.as_deref(), json)
        }
        Command::Data(DataCommand::Versions { store_path }) => {
            commands::data::versions(dir, store_path.as_deref(), json)
        }
        Command::Data(DataCommand::Export {
            version,
            out,
            store_path,
        }) => commands::data::export(dir, version, out.as_deref(), store_path.as_deref()),
        Command::Train(args) => commands::train::run(dir, args.into_request(quiet || json)?, json),
        Command::Predict(args) => match args.target.target() {
            Target::One(opts) => {
                commands::predict::run(dir, &opts, args.future.as_deref(), args.format)
            }
            Target::Each(opts) => commands::each::predict(dir, &opts, args.format),
        },
        Command::Evaluate(args) => match args.target.target() {
            Target::One(opts) => commands::evaluate::run(dir, &opts, args.windows, json),
            Target::Each(opts) => commands::each::evaluate(dir, &opts, args.windows, json),
        },
        Command::Backtest(args) => {
            commands::backtest::run(dir, args.into_request(quiet || json)?, json)
        }
        Command::Models(cmd) => models(dir, cmd, json),
        Command::Index(IndexCommand::Verify) => commands::index::verify(dir, json),
        Command::Index(IndexCommand::Rebuild { wait }) => {
            commands::index::rebuild(dir, std::time::Duration::from_secs(wait), json)
        }
        Command::Export(args) => commands::export::run(dir, &args.into(), json),
        Command::Serve(args) => commands::serve::run(dir, &args.into()),
        Command::Bench(args) => commands::bench::run(&args.into_options()?, json),
        Command::Monitor(args) => commands::monitor::run(dir, &args.into(), json),
        Command::Sync(args) => commands::sync::run(dir, args.into_request(quiet || json)?, json),
    }
}

fn models(dir: &std::path::Path, cmd: ModelsCommand, json: bool) -> Result<()> {
    use commands::models;
    match cmd {
        ModelsCommand::List {
            mode,
            model_type,
            status,
            all,
        } => models::list(
            dir,
            &cli::list_options(mode, model_type, status, all)?,
            json,
        ),
        ModelsCommand::Show { model } => models::show(dir, &model, json),
        ModelsCommand::Delete { prefix, hard } => models::delete(dir, &prefix, hard),
        ModelsCommand::Compare { models: names } => models::compare(dir, &names, json),
        ModelsCommand::Alias(AliasCommand::Set { name, prefix }) => {
            models::alias_set(dir, &name, &prefix)
        }
        ModelsCommand::Alias(AliasCommand::Rm { name }) => models::alias_rm(dir, &name),
        ModelsCommand::Alias(AliasCommand::List { history }) => {
            models::alias_list(dir, history, json)
        }
    }
}
