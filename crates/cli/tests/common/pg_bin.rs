//! Where the PostgreSQL server programs (`initdb`, `pg_ctl`) are: the one lookup, used by
//! the tests' servers (`pg.rs`) and by `cargo xtask ci`, which installs Debian's
//! `postgresql` package when this finds nothing (the file is included there by path).

use std::path::PathBuf;
use std::process::Command;

/// `SHIPSTREAM_PG_BIN`, else the newest of Debian's layout (`/usr/lib/postgresql/VERSION/bin`),
/// else `pg_config --bindir`'s, if `initdb` is there.
pub fn postgres_bin() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("SHIPSTREAM_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    if let Some((_, bin)) = found.pop() {
        return Some(bin);
    }
    let out = Command::new("pg_config").arg("--bindir").output().ok()?;
    let bin = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    (out.status.success() && bin.join("initdb").exists()).then_some(bin)
}
