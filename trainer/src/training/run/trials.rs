//! The trials of a fresh run: after the run's own loop, the same model
//! trained fresh on other windows — for a short series, pooled with its
//! siblings (`--pool auto`, QUALITY.md experiment 30). Each is calibrated,
//! and the one whose validation forecast (with its floor) scores the lowest
//! MASE is kept; all validate on the same own windows. (Experiment 33b's
//! trial of an ETS base went the same way and was not kept.)

use super::{Finalist, Run, StartState, Trial};
use crate::training::artifacts::{validate, validation_metrics};
use crate::training::Prepared;
use anyhow::Result;
use shoptrain_shared::metadata::ModelMetadata;

/// Validation MASE of a finalist, floor included, on its own windows.
fn validation_mase(meta: &ModelMetadata, f: &Finalist, floor: bool) -> Result<f64> {
    let v = validate(meta, f.run.prepared, &f.trained.best, floor)?;
    Ok(validation_metrics(f.run.prepared, meta.horizon, &v.forecast).mase)
}

impl<'a> Run<'a> {
    /// Trains and calibrates a trial on `windows` and returns the finalist
    /// to finish with: the trial when it validates better than `kept` (then
    /// `meta`, the index's epoch rows and the best checkpoint become the
    /// trial's), else `kept`. A trial that fails costs a warning, never the
    /// model already kept.
    pub(super) fn choose_trial(
        &self,
        meta: &mut ModelMetadata,
        windows: &'a Prepared,
        trial: Trial,
        kept: Finalist<'a>,
    ) -> Result<Finalist<'a>> {
        let run = Run {
            prepared: windows,
            ..*self
        };
        let mut trial_meta = meta.clone();
        trial_meta.known_future = windows.known_future.clone();
        trial_meta.training.pooled = windows.with_siblings;
        trial_meta.training.train_windows = windows.train.count;
        trial_meta.data.series_sha256 = windows.series_sha256.clone();
        let kept_mase = validation_mase(meta, &kept, self.opts.floor)?;
        let tried = run
            .train_trial(&mut trial_meta, trial)
            .and_then(|c| Ok((validation_mase(&trial_meta, &c, self.opts.floor)?, c)));
        let (trial_mase, candidate) = match tried {
            Ok(done) => done,
            Err(e) => {
                let warning = format!(
                    "the {} trial failed, the model already trained is kept: {e:#}",
                    trial.name()
                );
                eprintln!("warning: {}: {warning}", meta.prefix);
                meta.warnings.push(warning);
                return Ok(kept);
            }
        };
        // a NaN never wins; ties go to the model already kept
        if trial_mase.partial_cmp(&kept_mase) != Some(std::cmp::Ordering::Less) {
            return Ok(kept);
        }
        self.reg
            .replace_epochs(self.run_id, &candidate.trained.state.history)?;
        let epoch = candidate.trained.state.best_epoch.unwrap_or(0);
        let val_loss = candidate.trained.state.best_val_loss;
        self.save_best_weights(&trial_meta, epoch, val_loss, &candidate.trained.best)?;
        *meta = trial_meta;
        Ok(candidate)
    }

    /// A trial from fresh weights, calibrated.
    fn train_trial(&self, meta: &mut ModelMetadata, trial: Trial) -> Result<Finalist<'a>> {
        let (model, vars) = self.fresh_model(meta)?;
        let data = self.device_data(meta)?;
        let start = StartState::default();
        let trained = self.train_loop(meta, &model, &vars, &data, start, trial)?;
        self.finalist(meta, &vars, &data, trained)
    }
}
