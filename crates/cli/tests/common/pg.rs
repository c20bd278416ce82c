//! A real PostgreSQL server for the tests of `sync --db postgres://…`, started by the test
//! itself: `initdb` into a temporary directory, `pg_ctl start` on a free port of
//! 127.0.0.1 (and a socket in that directory), stopped when the value drops.
//!
//! The server's programs come from `SHIPSTREAM_PG_BIN` if set, else the newest
//! `/usr/lib/postgresql/*/bin` (Debian's `postgresql` package, which `cargo xtask ci`
//! installs when it is missing), else `pg_config --bindir`. PostgreSQL refuses to run as
//! root: as root, the programs run as the `postgres` user the package creates.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// A running server, stopped on drop.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
    rt: tokio::runtime::Runtime,
}

fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SHIPSTREAM_PG_BIN") {
        return PathBuf::from(dir);
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
        return bin;
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let bin = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if bin.join("initdb").exists() {
            return bin;
        }
    }
    panic!(
        "no PostgreSQL server programs (initdb, pg_ctl) found: install Debian's `postgresql` \
         package (`cargo xtask ci` does), or set SHIPSTREAM_PG_BIN to their directory"
    );
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Postgres {
    /// Starts a server of its own (about a second).
    pub fn start() -> Postgres {
        let bin = bin_dir();
        let as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("shipstream-pg-")
            .tempdir()
            .unwrap();
        if as_postgres {
            // The server's user must own its data directory and reach the socket's.
            let status = Command::new("chown")
                .args(["postgres:"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "chown postgres {}", dir.path().display());
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut pg = Postgres {
            dir,
            bin,
            port: 0,
            as_postgres,
            rt,
        };
        let data = pg.data();
        pg.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        // A port taken between the probe and the start fails `pg_ctl`: try another.
        for attempt in 0.. {
            pg.port = free_port();
            let options = format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c \
                 synchronous_commit=off -c full_page_writes=off",
                pg.port,
                pg.dir.path().display()
            );
            let log = pg.dir.path().join("server.log");
            let ok = pg.try_run(
                "pg_ctl",
                &[
                    "-D",
                    data.to_str().unwrap(),
                    "-o",
                    &options,
                    "-l",
                    log.to_str().unwrap(),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
            );
            if ok {
                break;
            }
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            assert!(attempt < 3, "pg_ctl start failed:\n{log}");
        }
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(path);
            cmd
        } else {
            Command::new(path)
        }
    }

    fn try_run(&self, program: &str, args: &[&str]) -> bool {
        let out = self.command(program).args(args).output().unwrap();
        if !out.status.success() {
            eprintln!(
                "{program} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        out.status.success()
    }

    fn run(&self, program: &str, args: &[&str]) {
        assert!(self.try_run(program, args), "{program} {args:?} failed");
    }

    /// The URL of database `db` on this server.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// A new, empty database; its URL.
    pub fn database(&self, db: &str) -> String {
        self.execute(&self.url("postgres"), &format!("CREATE DATABASE {db}"));
        self.url(db)
    }

    /// Connects to `url` and runs `f` with the client, under a timeout.
    pub fn with<T>(&self, url: &str, f: impl AsyncFnOnce(&tokio_postgres::Client) -> T) -> T {
        self.rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(60), async {
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                let task = tokio::spawn(connection);
                let out = f(&client).await;
                drop(client);
                let _ = task.await;
                out
            })
            .await
            .expect("a query to the test server hangs")
        })
    }

    /// Runs statements.
    pub fn execute(&self, url: &str, sql: &str) {
        self.with(url, async |c| c.batch_execute(sql).await.unwrap());
    }

    /// Waits (at most 30 s) until no session holds an advisory lock: a killed client's
    /// session ends when the server notices its connection closed.
    pub fn wait_unlocked(&self, url: &str) {
        let started = Instant::now();
        loop {
            let held: i64 = self.with(url, async |c| {
                c.query_one(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted",
                    &[],
                )
                .await
                .unwrap()
                .get(0)
            });
            if held == 0 {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "an advisory lock is still held 30 s after its client ended"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl")
            .args([
                "-D",
                data.to_str().unwrap_or_default(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ])
            .output();
    }
}
