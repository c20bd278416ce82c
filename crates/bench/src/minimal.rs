//! The hand-written serde structs the facade is measured against: what a developer
//! would write for this endpoint without the SDK.
//!
//! [`Page`] decodes **the same fields the facade decodes** (every level field, and every
//! field `fields:product=all` returns for the included products), typed the way a careful
//! hand-written client types them: ids and quantities `i64`, strings `String`, timestamps
//! `chrono::DateTime<Utc>`, enum-like values (`type`, `goods_type`, units) plain `String`s,
//! measures `f64`, custom-field values `serde_json::Value`. It has none of the facade's
//! extras: no open enums, no `serde_json::Number`, no map of included objects by id, no
//! record-by-record fallback, no checkpoint.
//!
//! [`SyncPage`] decodes only what an inventory sync reads (each level's product id and
//! SKU, its quantities and `updated_at`, and each included product's id, SKU and name);
//! serde skips everything else. It is reported for information; the target compares with
//! [`Page`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One page, every field.
#[derive(Debug, Deserialize)]
pub struct Page {
    /// The levels.
    pub collection: Vec<Level>,
    /// The included products.
    #[serde(default)]
    pub included: Option<Included>,
    /// Whether another page follows.
    pub has_more: bool,
    /// The next page's URI.
    #[serde(default)]
    pub next: Option<String>,
    /// The previous page's URI.
    #[serde(default)]
    pub previous: Option<String>,
    /// Paging details.
    #[serde(default)]
    pub meta: Option<Meta>,
}

/// `meta`.
#[derive(Debug, Deserialize)]
pub struct Meta {
    /// Total matches (with `count=1`).
    #[serde(default)]
    pub count: Option<i64>,
    /// The next page's first id.
    #[serde(default)]
    pub cursor_start: Option<i64>,
    /// The end of the next page.
    #[serde(default)]
    pub cursor_end: Option<i64>,
    /// Seconds the server spent.
    #[serde(default)]
    pub processing_time: Option<f64>,
}

/// `included`.
#[derive(Debug, Deserialize)]
pub struct Included {
    /// The products.
    #[serde(rename = "Product", default)]
    pub products: Vec<Product>,
}

/// The members of [`Level`]: the `TotalLevel` properties of the spec it was written for.
/// The export test compares the hand-written peer's bytes with the facade's whole records
/// while the spec's level properties are these.
pub const LEVEL_FIELDS: &[&str] = &[
    "product",
    "qty_advertised",
    "qty_allocated",
    "qty_available",
    "qty_backordered",
    "qty_expected",
    "qty_on_hand",
    "qty_picked",
    "qty_processed",
    "qty_putaway",
    "qty_reserved",
    "type",
    "updated_at",
    "warehouse",
];

/// A level. Field order and `skip_serializing_if` match the generated `TotalLevel`, so
/// both serialise to the same NDJSON.
#[derive(Debug, Deserialize, Serialize)]
pub struct Level {
    /// The product stub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<ProductRef>,
    /// Quantity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qty_advertised: Option<i64>,
    /// Quantity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qty_allocated: Option<i64>,
    /// Quantity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qty_available: Option<i64>,
    /// Quantity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qty_backordered: Option<i64>,
    /// Quantity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qty_expected: Option<i64>,
    /// Quantity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qty_on_hand: Option<i64>,
    /// Quantity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qty_picked: Option<i64>,
    /// Quantity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qty_processed: Option<i64>,
    /// Quantity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qty_putaway: Option<i64>,
    /// Quantity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qty_reserved: Option<i64>,
    /// `TotalLevel`.
    #[serde(rename = "type")]
    pub type_: String,
    /// When the level changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    /// The warehouse stub (with `fields=warehouse`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse: Option<ObjectRef>,
}

/// The level's product stub.
#[derive(Debug, Deserialize, Serialize)]
pub struct ProductRef {
    /// Product id.
    pub id: i64,
    /// SKU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// `Product`.
    #[serde(rename = "type")]
    pub type_: String,
}

/// `{type, id}`.
#[derive(Debug, Deserialize, Serialize)]
pub struct ObjectRef {
    /// Id.
    pub id: i64,
    /// Type.
    #[serde(rename = "type")]
    pub type_: String,
}

/// An included product, every field of `fields:product=all`.
#[derive(Debug, Deserialize)]
pub struct Product {
    #[serde(rename = "type")]
    pub type_: String,
    pub id: i64,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub vendor_sku: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub barcodes: Option<Vec<String>>,
    #[serde(default)]
    pub goods_type: Option<String>,
    #[serde(default)]
    pub is_enabled: Option<bool>,
    #[serde(default)]
    pub is_available: Option<bool>,
    #[serde(default)]
    pub is_visible: Option<bool>,
    #[serde(default)]
    pub lot_type: Option<ObjectRef>,
    #[serde(default)]
    pub weight: Option<Measure>,
    #[serde(default)]
    pub dimensions: Option<Dimensions>,
    #[serde(default)]
    pub volume: Option<Measure>,
    #[serde(default)]
    pub inventory: Option<Inventory>,
    #[serde(default)]
    pub export: Option<Export>,
    #[serde(default)]
    pub regulated_goods: Option<RegulatedGoods>,
    #[serde(default)]
    pub packaging: Option<Packaging>,
    #[serde(default)]
    pub custom_fields: Option<Vec<CustomField>>,
    #[serde(default)]
    pub merchant: Option<ObjectRef>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

/// A weight or volume.
#[derive(Debug, Deserialize)]
pub struct Measure {
    #[serde(default)]
    pub value: Option<f64>,
    #[serde(default)]
    pub unit: Option<String>,
}

/// Length, width, height.
#[derive(Debug, Deserialize)]
pub struct Dimensions {
    #[serde(default)]
    pub length: Option<f64>,
    #[serde(default)]
    pub width: Option<f64>,
    #[serde(default)]
    pub height: Option<f64>,
    #[serde(default)]
    pub unit: Option<String>,
}

/// Stock settings.
#[derive(Debug, Deserialize)]
pub struct Inventory {
    #[serde(default)]
    pub backorders: Option<bool>,
    #[serde(default)]
    pub dynamic_allocation: Option<bool>,
    #[serde(default)]
    pub virtual_inventory: Option<String>,
}

/// Customs details.
#[derive(Debug, Deserialize)]
pub struct Export {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub customs_value: Option<Money>,
    #[serde(default)]
    pub country_of_manufacture: Option<String>,
    #[serde(default)]
    pub hs_base_code: Option<String>,
    #[serde(default)]
    pub hs_country_extension: Option<Vec<HsCountryExtension>>,
}

/// An amount.
#[derive(Debug, Deserialize)]
pub struct Money {
    #[serde(default)]
    pub amount: Option<f64>,
    #[serde(default)]
    pub currency: Option<String>,
}

/// A country's HS code extension.
#[derive(Debug, Deserialize)]
pub struct HsCountryExtension {
    #[serde(default)]
    pub country_id: Option<String>,
    #[serde(default)]
    pub extension: Option<String>,
}

/// Hazmat details.
#[derive(Debug, Deserialize)]
pub struct RegulatedGoods {
    #[serde(default)]
    pub additional_information: Option<String>,
    #[serde(default)]
    pub container_meets_hazmat_specs: Option<bool>,
    #[serde(default)]
    pub container_type: Option<String>,
    #[serde(default)]
    pub net_weight: Option<Measure>,
    #[serde(default)]
    pub regulation: Option<ObjectRef>,
    #[serde(default)]
    pub regulation_units: Option<i64>,
    #[serde(default)]
    pub technical_name: Option<String>,
}

/// Packing rules.
#[derive(Debug, Deserialize)]
pub struct Packaging {
    #[serde(default)]
    pub require_packaging: Option<bool>,
    #[serde(default)]
    pub require_weight_check: Option<bool>,
    #[serde(default)]
    pub require_confirmation_per_item: Option<bool>,
    #[serde(default)]
    pub unit_quantity: Option<i64>,
    #[serde(default)]
    pub bulk_quantity: Option<i64>,
    #[serde(default)]
    pub max_per_package: Option<i64>,
    #[serde(default)]
    pub is_ship_separately: Option<bool>,
    #[serde(default)]
    pub ship_separately_tag: Option<String>,
    #[serde(default)]
    pub can_tip: Option<bool>,
    #[serde(default)]
    pub can_contain_other_items: Option<bool>,
    #[serde(default)]
    pub is_handling_surcharge: Option<bool>,
}

/// A custom field.
#[derive(Debug, Deserialize)]
pub struct CustomField {
    pub code: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub value: Option<serde_json::Value>,
}

/// One page, only what an inventory sync reads.
#[derive(Debug, Deserialize)]
pub struct SyncPage {
    /// The levels.
    pub collection: Vec<SyncLevel>,
    /// The included products.
    #[serde(default)]
    pub included: Option<SyncIncluded>,
    /// Whether another page follows.
    pub has_more: bool,
    /// The next page's URI.
    #[serde(default)]
    pub next: Option<String>,
}

/// A level's product, quantities and time.
#[derive(Debug, Deserialize)]
pub struct SyncLevel {
    pub product: SyncProductRef,
    #[serde(default)]
    pub qty_available: Option<i64>,
    #[serde(default)]
    pub qty_on_hand: Option<i64>,
    #[serde(default)]
    pub qty_allocated: Option<i64>,
    #[serde(default)]
    pub qty_reserved: Option<i64>,
    #[serde(default)]
    pub qty_picked: Option<i64>,
    #[serde(default)]
    pub qty_backordered: Option<i64>,
    #[serde(default)]
    pub qty_expected: Option<i64>,
    #[serde(default)]
    pub qty_processed: Option<i64>,
    #[serde(default)]
    pub qty_putaway: Option<i64>,
    #[serde(default)]
    pub qty_advertised: Option<i64>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

/// `{id, sku}` of a level's product.
#[derive(Debug, Deserialize)]
pub struct SyncProductRef {
    pub id: i64,
    #[serde(default)]
    pub sku: Option<String>,
}

/// `included`, products only.
#[derive(Debug, Deserialize)]
pub struct SyncIncluded {
    /// The products.
    #[serde(rename = "Product", default)]
    pub products: Vec<SyncProduct>,
}

/// An included product's id, SKU and name.
#[derive(Debug, Deserialize)]
pub struct SyncProduct {
    pub id: i64,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}
