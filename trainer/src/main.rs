use clap::Parser;

// Every candle op allocates its output afresh, so a training step frees and
// allocates the same few hundred kilobyte-sized buffers thousands of times;
// glibc's malloc hands them back to the kernel and faults zeroed pages in
// again. mimalloc keeps them for reuse: 1.3-2.7x the batched forecasts and
// training windows per second, a third off one-window latency
// (BENCHMARKS.md, allocator).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // `shoptrain predict --each ... | head` should stop quietly when the
    // reader goes, as other Unix tools do, not panic on the broken pipe
    #[cfg(unix)]
    // SAFETY: restores the default action of one signal before any thread starts
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    shoptrain_trainer::compute::init();
    let cli = shoptrain_trainer::cli::Cli::parse();
    if let Err(e) = shoptrain_trainer::app::run(cli) {
        eprintln!("error: {e:#}");
        // drift is a finding, not a failure: a nightly job tells them apart
        let drift = e
            .downcast_ref::<shoptrain_trainer::monitor::DriftFound>()
            .is_some();
        std::process::exit(if drift {
            shoptrain_trainer::monitor::DRIFT_EXIT
        } else {
            1
        });
    }
}
