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
    /// finish with: the trial when it validates better (then `meta` and the
    /// index's epoch rows become the trial's), else `own`.
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
        let (model, vars) = trial.fresh_model(&trial_meta)?;
        let data = trial.device_data(&trial_meta)?;
        let start = StartState::default();
        let trained = trial.train_loop(&trial_meta, &model, &vars, &data, start, Trial::Pooled)?;
        let candidate = trial.finalist(&mut trial_meta, &vars, &data, trained)?;
        let own_mase = self.validation_mase(meta, &own)?;
        if trial.validation_mase(&trial_meta, &candidate)? >= own_mase {
            return Ok(own);
        }
        self.reg
            .replace_epochs(self.run_id, &candidate.trained.state.history)?;
        *meta = trial_meta;
        Ok(candidate)
    }
}
