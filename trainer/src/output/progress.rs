//! Progress on the terminal: the indicatif bar training and batches report
//! to through `training::Progress`.

use crate::training::{Counting, Progress, ProgressSink};

/// A terminal progress bar (indicatif) for a training run or a batch: what
/// the command line hands training unless `--quiet` or `--json`.
#[derive(Default)]
pub struct Bar {
    bar: std::sync::Mutex<Option<indicatif::ProgressBar>>,
}

impl Bar {
    fn with<F: FnOnce(&mut Option<indicatif::ProgressBar>)>(&self, f: F) {
        // a panic elsewhere while drawing leaves the bar usable
        f(&mut self.bar.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

impl Progress for Bar {
    fn start(&self, counting: Counting, name: &str, total: u64, done: u64) {
        let template = match counting {
            Counting::Epochs => "{prefix} [{bar:30}] epoch {pos}/{len} {msg} eta {eta}",
            Counting::Models => "{prefix} [{bar:30}] {pos}/{len} models, eta {eta} {msg}",
        };
        let bar = progress_bar(total, template, false);
        bar.set_prefix(name.to_string());
        bar.set_position(done);
        self.with(|b| *b = Some(bar));
    }
    fn step(&self, done: u64, note: &str) {
        self.with(|b| {
            if let Some(bar) = b {
                bar.set_message(note.to_string());
                bar.set_position(done);
            }
        });
    }
    fn finish(&self) {
        self.with(|b| {
            if let Some(bar) = b.take() {
                bar.finish_and_clear();
            }
        });
    }
}

/// The progress a command reports to: a bar, or nothing when `quiet`.
pub fn progress_for(quiet: bool) -> ProgressSink {
    if quiet {
        ProgressSink::silent()
    } else {
        ProgressSink(std::sync::Arc::new(Bar::default()))
    }
}

/// A progress bar on stderr with `template` (indicatif's syntax), or a
/// hidden one when `quiet`.
pub fn progress_bar(len: u64, template: &str, quiet: bool) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}
