//! The alias rule: an alias (`production`) that points at a version of a
//! retrained model moves to the new version only when the new one forecasts
//! the newest weeks better (MASE over rolling origins, `evaluate`'s rule);
//! so does one left on an older, stale version when the newest is up to date.

use super::journal::AliasMove;
use super::plan::{changed_series, models_in_use, Decision};
use crate::data::LoadedData;
use crate::evaluation::evaluate;
use crate::lookup::{series_for, Target};
use crate::registry::{user_name, Registry};
use anyhow::{Context, Result};
use shoptrain_shared::naming::VersionedName;
use std::path::Path;

/// Compares every alias on `identifier` with `kept` and moves those it beats.
pub fn promote(
    reg: &mut Registry,
    data: &LoadedData,
    identifier: &str,
    kept: &str,
    weeks: usize,
) -> Result<Vec<AliasMove>> {
    let mut moves = Vec::new();
    for (name, target) in reg.aliases()? {
        let on_it = VersionedName::parse(&target)
            .is_ok_and(|v| v.name.identifier() == identifier && target != kept);
        if !on_it {
            continue;
        }
        let old_mase = newest_weeks_mase(reg, data, &target, weeks)?;
        let new_mase = newest_weeks_mase(reg, data, kept, weeks)?;
        let moved = new_mase < old_mase;
        if moved {
            reg.alias_set_by(&name, kept, &format!("sync ({})", user_name()))?;
        }
        moves.push(AliasMove {
            name,
            from: target,
            to: kept.to_string(),
            old_mase,
            new_mase,
            moved,
        });
    }
    Ok(moves)
}

/// MASE of `prefix` over the last `weeks` weeks of its series (whole
/// forecast blocks of its horizon, at least one).
pub fn newest_weeks_mase(
    reg: &Registry,
    data: &LoadedData,
    prefix: &str,
    weeks: usize,
) -> Result<f64> {
    let forecaster = reg.load_forecaster(prefix)?;
    let series = series_for(&forecaster.meta, data, None, None)?;
    let blocks = (weeks * 7).div_ceil(forecaster.horizon()).max(1);
    let target = Target {
        reg,
        prefix,
        forecaster: &forecaster,
        data,
        series: &series,
    };
    let scored = evaluate(target, blocks)
        .with_context(|| format!("scoring {prefix} on the newest {weeks} weeks"))?;
    scored
        .get(prefix)
        .map(|m| m.mase)
        .with_context(|| format!("no MASE for {prefix}"))
}

/// An alias is a model in use too: one left on an older version whose
/// series changed since, while its identifier's newest version is up to
/// date (retrained by an earlier sync, or by hand), moves to that newest
/// version when it forecasts the newest weeks better. Nothing is trained.
pub fn promote_stale_aliases(
    dir: &Path,
    data: &LoadedData,
    decisions: &[Decision],
    retrained: &[&str],
    weeks: usize,
) -> Result<Vec<AliasMove>> {
    let mut reg = Registry::open(dir)?;
    let mut moves = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (_, target) in reg.aliases()? {
        let Ok(name) = shoptrain_shared::naming::VersionedName::parse(&target) else {
            continue;
        };
        let identifier = name.name.identifier();
        // this shard's models only, and those whose task ran the rule already
        let ours = decisions.iter().any(|d| d.identifier == identifier);
        if !ours || retrained.contains(&identifier.as_str()) || !seen.insert(identifier.clone()) {
            continue;
        }
        // under the model's lock, as a retrain: its newest version may be
        // a fine-tune another sync is about to replace
        let _lock = super::journal::lock_model(dir, &identifier)?;
        let Some(current) = models_in_use(&reg)?
            .remove(&identifier)
            .filter(|p| *p != target)
        else {
            continue;
        };
        let compared = (|| -> Result<Vec<AliasMove>> {
            let stale = !changed_series(&reg.read_metadata(&target)?, data)?.is_empty();
            let fresh = changed_series(&reg.read_metadata(&current)?, data)?.is_empty();
            if !(stale && fresh) {
                return Ok(Vec::new());
            }
            promote(&mut reg, data, &identifier, &current, weeks)
        })();
        match compared {
            Ok(m) => moves.extend(m),
            // one alias that cannot be judged leaves the others and the sync alone
            Err(e) => eprintln!("warning: alias on {target} left as it was: {e:#}"),
        }
    }
    Ok(moves)
}
