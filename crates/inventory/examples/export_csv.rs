//! Export every level to CSV, streaming page after page (memory stays flat).
//!
//! `cargo run -p shipstream-inventory --example export_csv > levels.csv`

mod common;

use futures::StreamExt as _;
use shipstream_inventory::{ProductField, Sort, SortField};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _mock) = common::client().await?;
    let mut out = csv::Writer::from_writer(std::io::stdout().lock());
    out.write_record([
        "product_id",
        "sku",
        "name",
        "qty_available",
        "qty_on_hand",
        "updated_at",
    ])?;
    let mut items = std::pin::pin!(
        client
            .total_levels()
            .sort(Sort::asc(SortField::ProductId))
            .product_fields([ProductField::Name])
            .page_size(1000)
            .prefetch(true)
            .items()
    );
    let (mut written, mut skipped) = (0u64, 0u64);
    while let Some(item) = items.next().await {
        match item {
            Ok(item) => {
                out.write_record([
                    item.product_id()
                        .map(|id| id.to_string())
                        .unwrap_or_default(),
                    item.sku().unwrap_or_default().to_owned(),
                    item.product
                        .as_ref()
                        .and_then(|p| p.name.clone())
                        .unwrap_or_default(),
                    item.level
                        .qty_available
                        .map(|q| q.to_string())
                        .unwrap_or_default(),
                    item.level
                        .qty_on_hand
                        .map(|q| q.to_string())
                        .unwrap_or_default(),
                    item.level
                        .updated_at
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_default(),
                ])?;
                written += 1;
            }
            // One bad record: report it and go on.
            Err(e) if e.is_record() => {
                eprintln!("{e}");
                skipped += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
    out.flush()?;
    eprintln!("{written} levels written, {skipped} skipped");
    Ok(())
}
