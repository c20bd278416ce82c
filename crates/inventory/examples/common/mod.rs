//! Shared by the examples: a client for `SHIPSTREAM_URL`/`SHIPSTREAM_TOKEN` when set,
//! otherwise for a mock server started in-process with demo data.

use shipstream_inventory::Client;
use shipstream_inventory_mock::{Dataset, MockConfig, MockServer};

/// The client, and the mock server to keep alive while it is used (if one was started).
pub async fn client() -> Result<(Client, Option<MockServer>), Box<dyn std::error::Error>> {
    if std::env::var_os(shipstream_inventory::ENV_URL).is_some() {
        return Ok((Client::from_env()?, None));
    }
    eprintln!("SHIPSTREAM_URL is not set: using a mock server with demo data");
    let server =
        MockServer::start(MockConfig::default().dataset(Dataset::generate(250, 42))).await?;
    let client = Client::builder()
        .base_url(server.base_url())
        .token(server.token())
        .build()?;
    Ok((client, Some(server)))
}
