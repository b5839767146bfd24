use clap::Parser;

fn main() {
    let cli = shoptrain_trainer::cli::Cli::parse();
    if let Err(e) = shoptrain_trainer::app::run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
