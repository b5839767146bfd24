//! Which series a batch covers (`--each` with the `--product`/`--store`
//! filters) and which of them one worker takes (`--shard I/N`).

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use shoptrain_shared::features::Dataset;
use shoptrain_shared::naming::Scope;
use std::fmt;
use std::str::FromStr;

/// One model per what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Each {
    /// Every product, summed over the stores (or over `--store`).
    Product,
    /// Every store, summed over the products (or over `--product`).
    Store,
    /// Every (store, product) series.
    Series,
}

/// The series of `data` one model each, sorted, narrowed by the filters.
pub fn select_series(
    data: &Dataset,
    each: Each,
    product: Option<&str>,
    store: Option<&str>,
) -> Result<Vec<Scope>> {
    let keep = |filter: Option<&str>, id: &str| filter.is_none_or(|f| f == "all" || f == id);
    let (product, store) = (
        product.filter(|p| *p != "all"),
        store.filter(|s| *s != "all"),
    );
    if let Some(p) = product {
        data.require("product", p)?;
    }
    if let Some(s) = store {
        data.require("store", s)?;
    }
    let scopes: Vec<Scope> = match each {
        Each::Product => data
            .products()
            .iter()
            .filter(|p| keep(product, p))
            .map(|p| Scope::product(p, store))
            .collect::<Result<_, _>>()?,
        Each::Store => data
            .stores()
            .iter()
            .filter(|s| keep(store, s))
            .map(|s| Scope::store(s, product))
            .collect::<Result<_, _>>()?,
        Each::Series => {
            let mut pairs: Vec<(&str, &str)> = data
                .rows
                .iter()
                .map(|r| (r.store.as_str(), r.product.as_str()))
                .filter(|(s, p)| keep(store, s) && keep(product, p))
                .collect();
            pairs.sort_unstable();
            pairs.dedup();
            pairs
                .into_iter()
                .map(|(s, p)| Scope::product(p, Some(s)))
                .collect::<Result<_, _>>()?
        }
    };
    if scopes.is_empty() {
        bail!("--each {each:?} selects no series of the data; check --product/--store");
    }
    Ok(scopes)
}

/// One worker's part of a batch: the series at positions `index`,
/// `index + count`, … of the sorted selection, so that `count` workers given
/// `0/count` … `count-1/count` cover every series exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    pub fn take<T>(&self, items: Vec<T>) -> Vec<T> {
        items
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % self.count == self.index)
            .map(|(_, t)| t)
            .collect()
    }
}

impl FromStr for Shard {
    type Err = anyhow::Error;
    fn from_str(text: &str) -> Result<Shard> {
        let how = "give --shard I/N with 0 <= I < N, e.g. 0/4 for the first of four workers";
        let (i, n) = text
            .split_once('/')
            .with_context(|| format!("--shard {text:?}: {how}"))?;
        let parse = |t: &str| {
            t.trim()
                .parse::<usize>()
                .with_context(|| format!("--shard {text:?}: {t:?} is not a number; {how}"))
        };
        let (index, count) = (parse(i)?, parse(n)?);
        if count == 0 || index >= count {
            bail!("--shard {text:?}: {how}");
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_item_once() {
        let items: Vec<usize> = (0..10).collect();
        let mut seen: Vec<usize> = (0..4)
            .flat_map(|index| Shard { index, count: 4 }.take(items.clone()))
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, items);
        assert_eq!(Shard::WHOLE.take(items.clone()), items);
    }

    #[test]
    fn shard_text_is_checked() {
        assert_eq!(
            "2/4".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 4 }
        );
        for bad in ["4/4", "1/0", "x/2", "3"] {
            let err = bad.parse::<Shard>().unwrap_err().to_string();
            assert!(
                err.contains("--shard") && err.contains("0 <= I < N"),
                "{err}"
            );
        }
    }
}
