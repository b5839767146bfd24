//! The one place that decides which device tensors live on (ARCHITECTURE.md,
//! Training).

use anyhow::{bail, Result};
use candle_core::Device;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum DeviceChoice {
    /// CUDA when compiled in and a GPU answers, else CPU.
    #[default]
    Auto,
    Cpu,
    Cuda,
}

/// The device and a human name for it (recorded in metadata).
pub fn select_device(choice: DeviceChoice) -> Result<(Device, String)> {
    match choice {
        DeviceChoice::Cpu => Ok((Device::Cpu, "cpu".into())),
        DeviceChoice::Cuda => cuda(),
        DeviceChoice::Auto => Ok(cuda().unwrap_or((Device::Cpu, "cpu".into()))),
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
