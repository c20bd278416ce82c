//! What the generated client puts on the wire, captured on a 127.0.0.1 listener.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::num::NonZeroU64;

use shipstream_inventory_generated::{
    Client, Hooks,
    types::{
        ListTotalInventoryLevelsFieldsItem as F, ListTotalInventoryLevelsFilterItem,
        ProductFieldName as P,
    },
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

const PAGE: &str = include_str!("fixtures/reference-page.json");

/// Serves one request with `PAGE` and returns the request head (request line + headers).
async fn capture_one() -> (String, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let handle = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0, "client closed before sending a whole request head");
            head.extend_from_slice(&buf[..n]);
        }
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{PAGE}",
            PAGE.len()
        );
        socket.write_all(response.as_bytes()).await.unwrap();
        String::from_utf8(head).unwrap()
    });
    (base, handle)
}

fn request_target(head: &str) -> &str {
    head.lines()
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .expect("request line")
}

use shipstream_inventory_contract_tests::within;

#[tokio::test]
async fn query_string_matches_the_documented_wire_format() {
    within(async {
        let (base, server) = capture_one().await;
        let client = Client::new(&base, Hooks::new());
        let page = client
            .list_total_inventory_levels()
            .filter(vec![
                ListTotalInventoryLevelsFilterItem::try_from("sku:ABC123").unwrap(),
                ListTotalInventoryLevelsFilterItem::try_from("qty_available{lt:10}").unwrap(),
            ])
            .sort("-updated_at,sku")
            .fields(vec![F::QtyOnHand, F::UpdatedAt])
            .fields_product(vec![P::Sku, P::Name])
            .count(1)
            .limit(NonZeroU64::new(1000).unwrap())
            .x_ship_stream_api_version("2025-08")
            .send()
            .await
            .unwrap();
        assert_eq!(page.collection.len(), 1);

        let head = server.await.unwrap();
        assert_eq!(
            request_target(&head),
            "/api/global/v1/inventory/levels/total?count=1\
             &fields=qty_on_hand,updated_at\
             &fields:product=sku,name\
             &filter=sku%3AABC123\
             &filter=qty_available%7Blt%3A10%7D\
             &limit=1000\
             &sort=-updated_at%2Csku"
        );
        let lower = head.to_ascii_lowercase();
        assert!(
            lower.contains("\r\nx-shipstream-api-version: 2025-08\r\n"),
            "{head}"
        );
        assert!(lower.contains("\r\naccept: application/json\r\n"), "{head}");
    })
    .await;
}

#[tokio::test]
async fn a_single_field_is_sent_once_and_no_parameter_is_invented() {
    within(async {
        let (base, server) = capture_one().await;
        let client = Client::new(&base, Hooks::new());
        client
            .list_total_inventory_levels()
            .fields(vec![F::All])
            .send()
            .await
            .unwrap();
        let head = server.await.unwrap();
        assert_eq!(
            request_target(&head),
            "/api/global/v1/inventory/levels/total?fields=all"
        );
    })
    .await;
}

#[test]
fn parameter_bounds_are_enforced_before_sending() {
    assert!(ListTotalInventoryLevelsFilterItem::try_from("").is_err());
    // `limit` is a NonZeroU64 and count/limit bounds come from the spec; a sort outside the
    // pattern is refused by the builder.
    let client = Client::new("http://127.0.0.1:9", Hooks::new());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt
        .block_on(client.list_total_inventory_levels().sort("price").send())
        .unwrap_err();
    assert!(err.to_string().contains("sort"), "{err}");
}

#[tokio::test]
async fn https_urls_get_a_tls_handshake() {
    within(async {
        // Without a TLS backend reqwest refuses `https://` before connecting; with rustls the
        // listener sees a TLS ClientHello (record type 0x16).
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut first = [0u8; 1];
            socket.read_exact(&mut first).await.unwrap();
            first[0]
        });
        let client = Client::new(&format!("https://127.0.0.1:{port}"), Hooks::new());
        let result = client.list_total_inventory_levels().send().await;
        assert!(
            result.is_err(),
            "the fake server never completes the handshake"
        );
        assert_eq!(server.await.unwrap(), 0x16, "no TLS ClientHello was sent");
    })
    .await;
}
