//! Fetch the first page of levels with low availability, with each product's name.
//!
//! `cargo run -p shipstream-inventory --example first_page`

mod common;

use shipstream_inventory::{ProductField, Sort, SortField, fields};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _mock) = common::client().await?;
    let page = client
        .total_levels()
        .filter(fields::QTY_AVAILABLE.lt(10))
        .sort(Sort::asc(SortField::ProductId))
        .product_fields([ProductField::Sku, ProductField::Name])
        .page_size(10)
        .count(true)
        .send()
        .await?;
    println!(
        "{} levels match; the first {}:",
        page.count().unwrap_or_default(),
        page.len()
    );
    for level in page.levels() {
        let name = page
            .product_of(level)
            .and_then(|p| p.name.clone())
            .unwrap_or_default();
        println!(
            "{:>8} {:<20} available {:>5}  on hand {:>5}  {name}",
            level.product.as_ref().map(|p| p.id).unwrap_or_default(),
            level
                .product
                .as_ref()
                .and_then(|p| p.sku.as_deref())
                .unwrap_or("?"),
            level.qty_available.unwrap_or_default(),
            level.qty_on_hand.unwrap_or_default(),
        );
    }
    for bad in page.record_errors() {
        eprintln!("skipped: {bad}");
    }
    Ok(())
}
