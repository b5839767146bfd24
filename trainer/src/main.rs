use clap::Parser;

fn main() {
    // `shoptrain predict --each ... | head` should stop quietly when the
    // reader goes, as other Unix tools do, not panic on the broken pipe
    #[cfg(unix)]
    // SAFETY: restores the default action of one signal before any thread starts
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = shoptrain_trainer::cli::Cli::parse();
    if let Err(e) = shoptrain_trainer::app::run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
