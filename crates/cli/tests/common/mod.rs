//! Helpers shared by the CLI tests: the binary with a clean environment, and mock servers
//! running on their own runtime while the test thread waits on the child process.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::{
    io::Read,
    path::{Path, PathBuf},
    time::Duration,
};

use shipstream_inventory_mock::{Dataset, Faults, MockConfig, MockServer};

/// The binary under test.
pub fn bin_path() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_shipstream-inventory"))
}

/// How long a child process may run before a test kills it: only a hang reaches it, and
/// nothing is timed against it.
pub const PROCESS_TIMEOUT: Duration = Duration::from_secs(120);

/// The binary with a clean environment: no SHIPSTREAM_* or RUST_LOG, fixed COLUMNS; killed
/// after [`PROCESS_TIMEOUT`].
pub fn cli() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(bin_path());
    cmd.env_clear_shipstream().timeout(PROCESS_TIMEOUT);
    cmd
}

/// Waits for `child` and collects its output (stdout and stderr must be piped or null);
/// kills it and fails the test when it runs longer than [`PROCESS_TIMEOUT`].
pub fn wait_output(mut child: std::process::Child) -> std::process::Output {
    // Read the pipes on their own threads, so a chatty child never blocks on a full pipe.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > PROCESS_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the child process ran longer than {PROCESS_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    std::process::Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Removes the variables that would change the CLI's behaviour.
pub trait EnvClear {
    fn env_clear_shipstream(&mut self) -> &mut Self;
}

impl EnvClear for assert_cmd::Command {
    fn env_clear_shipstream(&mut self) -> &mut Self {
        for var in [
            "SHIPSTREAM_URL",
            "SHIPSTREAM_TOKEN",
            "SHIPSTREAM_API_VERSION",
            "RUST_LOG",
            "PGSSLMODE",
            "PGSSLROOTCERT",
        ] {
            self.env_remove(var);
        }
        self.env("COLUMNS", "100").env("NO_COLOR", "1")
    }
}

impl EnvClear for std::process::Command {
    fn env_clear_shipstream(&mut self) -> &mut Self {
        for var in [
            "SHIPSTREAM_URL",
            "SHIPSTREAM_TOKEN",
            "SHIPSTREAM_API_VERSION",
            "RUST_LOG",
            "PGSSLMODE",
            "PGSSLROOTCERT",
        ] {
            self.env_remove(var);
        }
        self.env("COLUMNS", "100").env("NO_COLOR", "1")
    }
}

/// How long a test waits for a future of its own (a mock starting or stopping, a request);
/// only a hang reaches it.
pub const ASYNC_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `f` on `rt`, failing the test when it takes longer than [`ASYNC_TIMEOUT`].
pub fn block_on<F: std::future::Future>(rt: &tokio::runtime::Runtime, f: F) -> F::Output {
    rt.block_on(async {
        tokio::time::timeout(ASYNC_TIMEOUT, f)
            .await
            .expect("a test future hangs")
    })
}

/// A mock server on its own runtime.
pub struct Mock {
    pub server: Option<MockServer>,
    pub rt: tokio::runtime::Runtime,
}

impl Mock {
    /// Starts the mock with `config`.
    pub fn start(config: MockConfig) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let server = block_on(&rt, MockServer::start(config)).unwrap();
        Self {
            server: Some(server),
            rt,
        }
    }

    /// `products` generated products (seed 42) and these faults.
    pub fn with(products: usize, faults: &str) -> Self {
        Self::start(
            MockConfig::default()
                .dataset(Dataset::generate(products, 42))
                .faults(faults.parse::<Faults>().unwrap()),
        )
    }

    pub fn server(&self) -> &MockServer {
        self.server.as_ref().unwrap()
    }

    pub fn url(&self) -> String {
        self.server().base_url().to_owned()
    }

    /// The binary, pointed at this server.
    pub fn cli(&self) -> assert_cmd::Command {
        let mut cmd = cli();
        cmd.env("SHIPSTREAM_URL", self.url())
            .env("SHIPSTREAM_TOKEN", self.server().token());
        cmd
    }

    /// A `std` command for the binary, pointed at this server.
    pub fn std_command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(bin_path());
        cmd.env_clear_shipstream()
            .env("SHIPSTREAM_URL", self.url())
            .env("SHIPSTREAM_TOKEN", self.server().token());
        cmd
    }

    /// The first page the mock itself sends for `query`, as JSON: the reference the CLI's
    /// output is held to.
    pub fn page(&self, query: &str) -> serde_json::Value {
        let url = format!(
            "{}{}?{query}",
            self.url(),
            shipstream_inventory::ENDPOINT_PATH
        );
        let token = self.server().token().to_owned();
        block_on(&self.rt, async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        })
    }

    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.server().requests().len()
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            block_on(&self.rt, server.shutdown());
        }
    }
}

/// The product ids of NDJSON output, in order.
pub fn ndjson_ids(text: &str) -> Vec<i64> {
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["product"]["id"].as_i64().unwrap()
        })
        .collect()
}

/// `items_written` of a `--checkpoint` file; 0 while it is missing or being replaced.
pub fn items_written(checkpoint: &Path) -> u64 {
    std::fs::read_to_string(checkpoint)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["items_written"].as_u64())
        .unwrap_or(0)
}
pub mod pg;
pub mod pg_bin;
