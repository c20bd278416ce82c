//! The mock server on a dedicated thread with its own single-threaded runtime, so that
//! serving pages never runs on (or steals workers from) the runtime of the client being
//! measured.

use std::thread::JoinHandle;

use anyhow::{Context as _, Result, anyhow};
use shipstream_inventory_mock::{MockConfig, MockServer};
use tokio::sync::oneshot;

/// A mock server running on its own thread. Stops when dropped.
#[derive(Debug)]
pub struct BackgroundMock {
    base_url: String,
    token: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl BackgroundMock {
    /// Starts a server for `config` (requests are not recorded) and waits until it
    /// listens.
    pub fn start(config: MockConfig) -> Result<Self> {
        let config = config.record_requests(false);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(String, String), String>>();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("mock-server".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("cannot start a runtime: {e}")));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match MockServer::start(config).await {
                        Ok(server) => {
                            server.state().warm_up();
                            let _ = ready_tx.send(Ok((
                                server.base_url().to_owned(),
                                server.token().to_owned(),
                            )));
                            let _ = stop_rx.await;
                            server.shutdown().await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.to_string()));
                        }
                    }
                });
            })
            .context("cannot start the mock server's thread")?;
        let (base_url, token) = ready_rx
            .recv()
            .context("the mock server's thread ended before listening")?
            .map_err(|e| anyhow!("cannot start the mock server: {e}"))?;
        Ok(Self {
            base_url,
            token,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The accepted bearer token.
    pub fn token(&self) -> &str {
        &self.token
    }
}

impl Drop for BackgroundMock {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
