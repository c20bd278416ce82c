//! Writing a file atomically: readers see the old file or the new one, never half of one.

use std::{io::Write as _, path::Path};

/// Writes `bytes` to `path` through a temporary file beside it (`prefix` names it), synced
/// and then renamed over `path`; the rename itself is made durable where the platform
/// allows.
pub fn write(path: &Path, prefix: &str, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(prefix)
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
