//! `--pool auto` on a short series: after the run's own loop, the same model
//! trained fresh on its own and its siblings' windows (a trial), both
//! calibrated, and the one whose validation forecast (with its floor)
//! scores the lower MASE kept (QUALITY.md, experiment 30). Both validate on
//! the same own windows.

use super::{Finalist, Run, StartState, Trial};
use crate::training::artifacts::{validate, validation_metrics};
use crate::training::Prepared;
use anyhow::Result;
use shoptrain_shared::metadata::ModelMetadata;

impl<'a> Run<'a> {
    /// Validation MASE of a finalist, floor included.
    fn validation_mase(&self, meta: &ModelMetadata, f: &Finalist) -> Result<f64> {
        let v = validate(meta, self.prepared, &f.trained.best, self.opts.floor)?;
        Ok(validation_metrics(self.prepared, meta.horizon, &v.forecast).mase)
    }

    /// Trains and calibrates the pooled trial and returns the finalist to
    /// finish with: the trial when it validates better (then `meta`, the
    /// index's epoch rows and the best checkpoint become the trial's), else
    /// `own`. A trial that fails costs a warning, never the own model.
    pub(super) fn choose_pooling(
        &self,
        meta: &mut ModelMetadata,
        pooled: &'a Prepared,
        own: Finalist<'a>,
    ) -> Result<Finalist<'a>> {
        let trial = Run {
            prepared: pooled,
            ..*self
        };
        let mut trial_meta = meta.clone();
        trial_meta.known_future = pooled.known_future.clone();
        trial_meta.training.pooled = true;
        trial_meta.training.train_windows = pooled.train.count;
        trial_meta.data.series_sha256 = pooled.series_sha256.clone();
        let own_mase = self.validation_mase(meta, &own)?;
        let tried = trial
            .train_trial(&mut trial_meta)
            .and_then(|c| Ok((trial.validation_mase(&trial_meta, &c)?, c)));
        let (trial_mase, candidate) = match tried {
            Ok(done) => done,
            Err(e) => {
                let warning =
                    format!("the pooled trial failed, the model trained alone is kept: {e:#}");
                eprintln!("warning: {}: {warning}", meta.prefix);
                meta.warnings.push(warning);
                return Ok(own);
            }
        };
        // a NaN never wins; ties go to the model trained alone
        if trial_mase.partial_cmp(&own_mase) != Some(std::cmp::Ordering::Less) {
            return Ok(own);
        }
        self.reg
            .replace_epochs(self.run_id, &candidate.trained.state.history)?;
        let epoch = candidate.trained.state.best_epoch.unwrap_or(0);
        let val_loss = candidate.trained.state.best_val_loss;
        self.save_best_weights(&trial_meta, epoch, val_loss, &candidate.trained.best)?;
        *meta = trial_meta;
        Ok(candidate)
    }

    /// The pooled trial from fresh weights, calibrated.
    fn train_trial(&self, meta: &mut ModelMetadata) -> Result<Finalist<'a>> {
        let (model, vars) = self.fresh_model(meta)?;
        let data = self.device_data(meta)?;
        let start = StartState::default();
        let trained = self.train_loop(meta, &model, &vars, &data, start, Trial::Pooled)?;
        self.finalist(meta, &vars, &data, trained)
    }
}
