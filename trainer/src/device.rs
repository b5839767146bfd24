//! The one place that decides which device tensors live on (ARCHITECTURE.md,
//! Training).

use anyhow::{bail, Result};
use candle_core::Device;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum DeviceChoice {
    /// The faster device for the job: CUDA for a model trained on many
    /// windows when compiled in and a GPU answers, else the CPU.
    #[default]
    Auto,
    Cpu,
    Cuda,
}

/// Training windows per epoch from which `--device auto` takes a GPU. On an
/// H200 (issue 25) one product's model (about 600 windows) trained 3x faster
/// on the CPU, launch latency dominating its small batches, and a global
/// model (about 69,000 windows) 4x faster on the GPU; the threshold sits
/// between the two, near their geometric mean. `scripts/gpu-check.sh`
/// measures both devices on the machine at hand.
pub const GPU_MIN_TRAIN_WINDOWS: usize = 8_000;

/// The device and a human name for it (recorded in metadata), for work
/// whose size does not matter (forecasts, or an explicit choice).
pub fn select_device(choice: DeviceChoice) -> Result<(Device, String)> {
    select_device_for(choice, usize::MAX)
}

/// The device for training on `train_windows` windows per epoch. When
/// `--device auto` had a GPU to choose from, the name says why it took
/// which device (it is printed in the report and kept in the metadata).
pub fn select_device_for(choice: DeviceChoice, train_windows: usize) -> Result<(Device, String)> {
    match choice {
        DeviceChoice::Cpu => Ok((Device::Cpu, "cpu".into())),
        DeviceChoice::Cuda => cuda(),
        DeviceChoice::Auto => Ok(auto(cuda().ok(), train_windows)),
    }
}

/// `--device auto`'s rule, given the GPU if one answered.
fn auto(gpu: Option<(Device, String)>, train_windows: usize) -> (Device, String) {
    match gpu {
            None => (Device::Cpu, "cpu".into()),
            Some((gpu, name)) if train_windows >= GPU_MIN_TRAIN_WINDOWS => (
                gpu,
                format!("{name} (auto: {} training windows, a GPU pays from {GPU_MIN_TRAIN_WINDOWS})", shown(train_windows)),
            ),
            Some(_) => (
                Device::Cpu,
                format!("cpu (auto: {} training windows, below the {GPU_MIN_TRAIN_WINDOWS} from which a GPU pays)", shown(train_windows)),
            ),
    }
}

/// Days from the data's first to its last date: the most windows a model
/// of one series can have.
pub fn series_days(data: &crate::data::LoadedData) -> usize {
    (data.date_max - data.date_min).num_days().max(0) as usize + 1
}

fn shown(windows: usize) -> String {
    if windows == usize::MAX {
        "any number of".into()
    } else {
        windows.to_string()
    }
}

#[cfg(feature = "cuda")]
fn cuda() -> Result<(Device, String)> {
    match Device::new_cuda(0) {
        Ok(d) => Ok((d, "cuda:0".into())),
        // candle's error text carries a backtrace after its first line
        Err(e) => bail!(
            "--device cuda: no CUDA GPU found (the driver answered {}); use --device cpu",
            e.to_string().lines().next().unwrap_or_default().trim()
        ),
    }
}

#[cfg(not(feature = "cuda"))]
fn cuda() -> Result<(Device, String)> {
    bail!("--device cuda: this shoptrain was built without CUDA support; build it with scripts/build-cuda.sh, or use --device cpu")
}

/// A larger batch keeps a GPU busy; on CPU the design default stands.
pub fn default_batch_size(device: &Device) -> usize {
    if device.is_cuda() {
        256
    } else {
        32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_takes_the_gpu_only_for_many_windows_and_says_why() {
        // the rule alone: a stand-in for the GPU that answered
        let gpu = || Some((Device::Cpu, "cuda:0".to_string()));
        let (_, small) = auto(gpu(), 600);
        assert_eq!(
            small,
            "cpu (auto: 600 training windows, below the 8000 from which a GPU pays)"
        );
        let (_, large) = auto(gpu(), 69_000);
        assert_eq!(
            large,
            "cuda:0 (auto: 69000 training windows, a GPU pays from 8000)"
        );
        // without a GPU there is nothing to explain
        assert_eq!(auto(None, 69_000).1, "cpu");
        assert_eq!(
            select_device_for(DeviceChoice::Cpu, 69_000).unwrap().1,
            "cpu"
        );
    }
}
