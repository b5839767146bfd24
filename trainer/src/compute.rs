//! Where the trainer's CPU parallelism comes from. candle can split each op
//! across threads, but at these models' sizes that cost more than it gained
//! (one thread trained faster than two: BENCHMARKS.md, "Threads"). So each
//! candle op runs on one thread, and independent work — the micro-batches of
//! a training step, row blocks of a forecast, the series of `train --each` —
//! runs side by side on one pool of threads.

use anyhow::Result;
use candle_core::Device;
use rayon::prelude::*;
use std::sync::OnceLock;

/// The environment variable that sets the pool's size (default: every core;
/// `RAYON_NUM_THREADS` is read when it is not set).
pub const THREADS_VAR: &str = "SHOPTRAIN_THREADS";

/// Windows per block when a forecast of many windows is split across the
/// pool: fixed, so the numbers do not depend on the thread count.
pub const FORECAST_BLOCK: usize = 64;

static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();

fn from_env(name: &str) -> Option<usize> {
    std::env::var(name)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .filter(|&n| n > 0)
}

fn budget() -> usize {
    from_env(THREADS_VAR)
        .or_else(|| from_env("RAYON_NUM_THREADS"))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Call first in `main`, before any other thread starts: sizes the pool from
/// the environment, then has candle run each op on one thread (candle reads
/// these variables at every matrix product). Child processes inherit the
/// pool's size through [`THREADS_VAR`].
pub fn init() {
    // the variables first, while this is the only thread
    std::env::set_var(THREADS_VAR, budget().to_string());
    std::env::set_var("RAYON_NUM_THREADS", "1");
    std::env::set_var("CANDLE_NUM_THREADS", "1");
    pool();
}

/// The pool independent work runs on; None if the system would not start
/// its threads, and then the work runs on the calling thread.
fn pool() -> Option<&'static rayon::ThreadPool> {
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(budget())
            .thread_name(|i| format!("shoptrain-compute-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}

/// Rows per block on a GPU: one launch of each kernel per block, so as many
/// as memory comfortably holds rather than the CPU's cache-sized blocks (the
/// H200 run of issue 25 forecast 25-50k windows/s at any batch size, one
/// block of 64 after another).
pub const GPU_BLOCK: usize = 8192;

/// `f(start, len)` for consecutive blocks of at most `block` of `count`
/// rows (at least [`GPU_BLOCK`] off the CPU), side by side on the pool when
/// the tensors live on the CPU (a GPU queues its own work: there they run one
/// after another); the results in row order.
pub fn in_row_blocks<T: Send>(
    device: &Device,
    count: usize,
    block: usize,
    f: impl Fn(usize, usize) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let block = if device.is_cpu() {
        block.max(1)
    } else {
        block.max(GPU_BLOCK)
    };
    let starts: Vec<usize> = (0..count).step_by(block).collect();
    let run = |start: &usize| f(*start, block.min(count - start));
    match pool().filter(|_| device.is_cpu()) {
        Some(pool) => pool.install(|| starts.par_iter().map(run).collect()),
        None => starts.iter().map(run).collect(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn row_blocks_cover_every_row_once_in_order() {
        let cpu = &candle_core::Device::Cpu;
        let blocks = super::in_row_blocks(cpu, 10, 4, |start, len| Ok((start, len))).unwrap();
        assert_eq!(blocks, vec![(0, 4), (4, 4), (8, 2)]);
        let none = super::in_row_blocks(cpu, 0, 4, |s, l| Ok((s, l))).unwrap();
        assert!(none.is_empty());
        let err = super::in_row_blocks(cpu, 5, 2, |s, _| {
            if s == 2 {
                anyhow::bail!("block at 2")
            }
            Ok(s)
        });
        assert_eq!(err.unwrap_err().to_string(), "block at 2");
    }
}
