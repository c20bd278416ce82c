//! Child processes of xtask: the `shipstream-inventory mock` server that the contract
//! peers and the benchmarks start, found through the `listening on URL` line it prints.

use std::{
    io::{BufRead as _, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
};

use anyhow::{Context as _, Result, bail};

/// A child process, killed (and waited for) when dropped.
#[derive(Debug)]
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running `shipstream-inventory mock`, killed when dropped.
#[derive(Debug)]
pub struct MockProcess {
    child: KillOnDrop,
    /// Its base URL (`http://127.0.0.1:PORT`).
    pub url: String,
}

impl MockProcess {
    /// Starts `cli mock --host 127.0.0.1 --port 0 ARGS` with stderr going to `stderr`,
    /// and waits for its `listening on URL` line (the rest of its stdout is drained).
    pub fn start(cli: &Path, args: &[&str], stderr: Stdio) -> Result<Self> {
        let mut child = Command::new(cli)
            .args(["mock", "--host", "127.0.0.1", "--port", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map(KillOnDrop)
            .with_context(|| format!("cannot start {} mock", cli.display()))?;
        let stdout = child.0.stdout.take().context("no stdout")?;
        let mut reader = BufReader::new(stdout);
        let mut first = String::new();
        let read = reader.read_line(&mut first);
        let url = match (read, first.trim().strip_prefix("listening on ")) {
            (Ok(_), Some(url)) => url.to_owned(),
            _ => bail!(
                "the mock printed {:?} instead of `listening on URL`",
                first.trim()
            ),
        };
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        Ok(Self { child, url })
    }
}

impl MockProcess {
    /// Stops the mock with SIGTERM (as Ctrl-C would), so that it prints its counters on
    /// stderr, and waits for it.
    pub fn stop(mut self) -> Result<()> {
        let pid = self.child.0.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status()?;
        if !status.success() {
            bail!("kill -TERM {pid} failed");
        }
        self.child.0.wait()?;
        Ok(())
    }
}
