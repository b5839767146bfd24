//! Crash-safe file writes: write a temporary file beside the target, fsync it,
//! rename it into place. A crash leaves either the old file or the new one,
//! never half of one under the final name.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

/// A temporary file in `path`'s folder (created if missing), readable by
/// others like any artifact, to be persisted over `path` once complete.
/// `suffix` keeps an extension for writers that go by it (PNG).
pub fn temp_file_beside(path: &Path, suffix: &str) -> Result<tempfile::NamedTempFile> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create folder {}", dir.display()))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tmp-").suffix(suffix);
    // artifacts are meant to be read by others (a web server, a colleague):
    // the usual 0644 less the umask, not tempfile's private 0600
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    builder
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))
}

pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = temp_file_beside(path, "")?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot move the new file into place at {}", path.display()))?;
    Ok(())
}
