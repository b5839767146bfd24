//! The alias rule: an alias (`production`) that points at a version of a
//! retrained model moves to the new version only when the new one forecasts
//! the newest weeks better (MASE over rolling origins, `evaluate`'s rule).

use super::journal::AliasMove;
use crate::data::LoadedData;
use crate::evaluation::evaluate;
use crate::lookup::{series_for, Target};
use crate::registry::{user_name, Registry};
use anyhow::{Context, Result};
use shoptrain_shared::naming::VersionedName;

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
