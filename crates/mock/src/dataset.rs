//! The mock's data: one [`TotalLevel`-with-product record](crate#the-dataset) per product,
//! stored compactly and serialised on demand.
//!
//! Length: about 660 lines of code; the rest of the file is its unit tests.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value as Json};

use shipstream_inventory_generated::api::ProductType;
use shipstream_inventory_generated::types::GoodsType;

use crate::render::{LevelFields, LevelOut, ProductFields};
use crate::rng::SplitMix64;
use crate::time;

/// Names of the ten quantities, in the order of the API description (and of
/// [`Product::qty`]).
pub(crate) const QTY_NAMES: [&str; 10] = [
    "qty_allocated",
    "qty_backordered",
    "qty_reserved",
    "qty_picked",
    "qty_expected",
    "qty_processed",
    "qty_putaway",
    "qty_available",
    "qty_on_hand",
    "qty_advertised",
];
/// How every quantity's name starts, those the dataset models and any other the spec
/// lists (a property added to the spec is a quantity by this name too).
pub(crate) const QTY_PREFIX: &str = "qty_";
pub(crate) const Q_ALLOCATED: usize = 0;
pub(crate) const Q_BACKORDERED: usize = 1;
pub(crate) const Q_RESERVED: usize = 2;
pub(crate) const Q_PICKED: usize = 3;
pub(crate) const Q_EXPECTED: usize = 4;
pub(crate) const Q_PROCESSED: usize = 5;
pub(crate) const Q_PUTAWAY: usize = 6;
pub(crate) const Q_AVAILABLE: usize = 7;
pub(crate) const Q_ON_HAND: usize = 8;
pub(crate) const Q_ADVERTISED: usize = 9;

/// The wire value of a stored `product_type` (an index into the spec's values, generated
/// as [`api::ProductType`]).
pub(crate) fn product_type_name(index: u8) -> &'static str {
    ProductType::ALL
        .get(usize::from(index))
        .or(ProductType::ALL.first())
        .map_or("", |t| t.as_str())
}

/// The stored index of a product type.
fn product_type_index(t: ProductType) -> u8 {
    ProductType::ALL
        .iter()
        .position(|x| *x == t)
        .map_or(0, |i| i as u8)
}

/// The fixed "now" of generated datasets: 2025-08-31T12:00:00Z.
pub(crate) const GENERATED_NOW: i64 = 1_756_641_600;

/// A string in [`Data::text`]; `start == u32::MAX` means `null`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Span {
    start: u32,
    len: u32,
}

impl Span {
    pub(crate) const NULL: Span = Span {
        start: u32::MAX,
        len: 0,
    };

    pub(crate) fn is_null(self) -> bool {
        self.start == u32::MAX
    }
}

/// A run of entries in one of the side tables; `start == u32::MAX` means `null`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct List {
    pub(crate) start: u32,
    pub(crate) len: u32,
}

impl List {
    pub(crate) const NULL: List = List {
        start: u32::MAX,
        len: 0,
    };

    pub(crate) fn is_null(self) -> bool {
        self.start == u32::MAX
    }

    pub(crate) fn range(self) -> std::ops::Range<usize> {
        if self.is_null() {
            0..0
        } else {
            self.start as usize..self.start as usize + self.len as usize
        }
    }
}

/// "No entry" in a side-table index.
pub(crate) const NONE: u32 = u32::MAX;

pub(crate) mod flag {
    pub(crate) const ENABLED: u16 = 1;
    pub(crate) const AVAILABLE: u16 = 1 << 1;
    pub(crate) const VISIBLE: u16 = 1 << 2;
    pub(crate) const INVENTORY: u16 = 1 << 3;
    pub(crate) const BACKORDERS: u16 = 1 << 4;
    pub(crate) const DYNAMIC_ALLOCATION: u16 = 1 << 5;
    pub(crate) const WEIGHT: u16 = 1 << 6;
    pub(crate) const DIMENSIONS: u16 = 1 << 7;
    pub(crate) const VOLUME: u16 = 1 << 8;
}

/// One product with its total level. Strings live in [`Data::text`], nested objects in
/// side tables shared between products.
#[derive(Clone, Debug)]
pub(crate) struct Product {
    pub(crate) id: u32,
    /// 0 = no merchant (`null`).
    pub(crate) merchant_id: u32,
    pub(crate) warehouse_id: u32,
    /// 0 = no lot type (`null`).
    pub(crate) lot_type_id: u32,
    pub(crate) sku: Span,
    pub(crate) name: Span,
    pub(crate) vendor_sku: Span,
    pub(crate) external_id: Span,
    pub(crate) goods_type: Span,
    /// Spans in [`Data::spans`].
    pub(crate) barcodes: List,
    /// Entries in [`Data::custom_fields`].
    pub(crate) custom_fields: List,
    /// Index in [`Data::exports`] or [`NONE`].
    pub(crate) export: u32,
    /// Index in [`Data::regulated`] or [`NONE`].
    pub(crate) regulated: u32,
    /// Index in [`Data::packagings`] or [`NONE`].
    pub(crate) packaging: u32,
    pub(crate) weight: f32,
    pub(crate) dims: [f32; 3],
    pub(crate) volume: f32,
    pub(crate) weight_unit: Span,
    pub(crate) dims_unit: Span,
    pub(crate) volume_unit: Span,
    /// `inventory.virtual_inventory`; null = absent.
    pub(crate) virtual_inventory: Span,
    pub(crate) flags: u16,
    pub(crate) product_type: u8,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) level_updated_at: i64,
    /// In [`QTY_NAMES`] order.
    pub(crate) qty: [i32; 10],
}

impl Product {
    /// A product with nothing recorded: no strings, side-table entries, measures, flags,
    /// timestamps or stock, in the default warehouse. The loader and the live mode's new
    /// products start from it (`Product { .., ..Product::BLANK }`).
    pub(crate) const BLANK: Product = Product {
        id: 0,
        merchant_id: 0,
        warehouse_id: 1,
        lot_type_id: 0,
        sku: Span::NULL,
        name: Span::NULL,
        vendor_sku: Span::NULL,
        external_id: Span::NULL,
        goods_type: Span::NULL,
        barcodes: List::NULL,
        custom_fields: List::NULL,
        export: NONE,
        regulated: NONE,
        packaging: NONE,
        weight: 0.0,
        dims: [0.0; 3],
        volume: 0.0,
        weight_unit: Span::NULL,
        dims_unit: Span::NULL,
        volume_unit: Span::NULL,
        virtual_inventory: Span::NULL,
        flags: 0,
        product_type: 0,
        created_at: 0,
        updated_at: 0,
        level_updated_at: 0,
        qty: [0; 10],
    };

    pub(crate) fn has(&self, f: u16) -> bool {
        self.flags & f != 0
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Export {
    pub(crate) description: Span,
    pub(crate) customs_value: Option<(f64, Span)>,
    pub(crate) country_of_manufacture: Span,
    pub(crate) hs_base_code: Span,
    /// Entries in [`Data::hs_ext`].
    pub(crate) hs_country_extension: List,
}

#[derive(Clone, Debug)]
pub(crate) struct Regulated {
    pub(crate) regulation_id: Option<u32>,
    pub(crate) technical_name: Span,
    pub(crate) additional_information: Span,
    pub(crate) net_weight: Option<(f64, Span)>,
    pub(crate) container_type: Span,
    pub(crate) container_meets_hazmat_specs: Option<bool>,
    pub(crate) regulation_units: Option<i64>,
}

pub(crate) mod pack {
    pub(crate) const REQUIRE_PACKAGING: u8 = 1;
    pub(crate) const REQUIRE_WEIGHT_CHECK: u8 = 1 << 1;
    pub(crate) const REQUIRE_CONFIRMATION_PER_ITEM: u8 = 1 << 2;
    pub(crate) const IS_SHIP_SEPARATELY: u8 = 1 << 3;
    pub(crate) const CAN_TIP: u8 = 1 << 4;
    pub(crate) const CAN_CONTAIN_OTHER_ITEMS: u8 = 1 << 5;
    pub(crate) const IS_HANDLING_SURCHARGE: u8 = 1 << 6;
}

#[derive(Clone, Debug)]
pub(crate) struct Packaging {
    pub(crate) flags: u8,
    pub(crate) unit_quantity: Option<i64>,
    pub(crate) bulk_quantity: Option<i64>,
    pub(crate) max_per_package: Option<i64>,
    pub(crate) ship_separately_tag: Span,
}

#[derive(Clone, Debug)]
pub(crate) enum CfValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Span),
    /// Compact JSON text of an object or array.
    Json(Span),
}

#[derive(Clone, Debug)]
pub(crate) struct CustomField {
    pub(crate) code: Span,
    /// Null = no `label` member.
    pub(crate) label: Span,
    pub(crate) value: CfValue,
}

/// The stored dataset.
#[derive(Clone, Debug, Default)]
pub(crate) struct Data {
    /// Sorted by ascending id (ids are unique).
    pub(crate) products: Vec<Product>,
    pub(crate) text: String,
    pub(crate) spans: Vec<Span>,
    pub(crate) exports: Vec<Export>,
    pub(crate) hs_ext: Vec<(Span, Span)>,
    pub(crate) regulated: Vec<Regulated>,
    pub(crate) packagings: Vec<Packaging>,
    pub(crate) custom_fields: Vec<CustomField>,
    pub(crate) seed: Option<u64>,
    /// Changed by the live mode since generation: timestamps may be after
    /// [`GENERATED_NOW`] (they follow the mock's clock).
    pub(crate) live: bool,
    /// The largest id the live mode deleted (0: none): new products take ids above it, so
    /// no id is ever used twice.
    pub(crate) deleted_max_id: u32,
}

impl Data {
    /// The text of a span (`""` for null).
    pub(crate) fn str(&self, s: Span) -> &str {
        if s.is_null() {
            return "";
        }
        self.text
            .get(s.start as usize..s.start as usize + s.len as usize)
            .unwrap_or_default()
    }

    /// The text of a span, `None` for null.
    pub(crate) fn opt_str(&self, s: Span) -> Option<&str> {
        (!s.is_null()).then(|| self.str(s))
    }

    /// Appends a string to the arena.
    pub(crate) fn push_text(&mut self, s: &str) -> Span {
        let start = self.text.len();
        self.text.push_str(s);
        Span {
            start: u32::try_from(start).unwrap_or(u32::MAX - 1),
            len: u32::try_from(s.len()).unwrap_or(0),
        }
    }

    /// The index of the product with this id.
    pub(crate) fn index_of(&self, id: i64) -> Option<usize> {
        let id = u32::try_from(id).ok()?;
        self.products.binary_search_by_key(&id, |p| p.id).ok()
    }

    fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.products.capacity() * size_of::<Product>()
            + self.text.capacity()
            + self.spans.capacity() * size_of::<Span>()
            + self.exports.capacity() * size_of::<Export>()
            + self.hs_ext.capacity() * size_of::<(Span, Span)>()
            + self.regulated.capacity() * size_of::<Regulated>()
            + self.packagings.capacity() * size_of::<Packaging>()
            + self.custom_fields.capacity() * size_of::<CustomField>()
    }
}

/// A set of products with their total inventory levels, served by the mock.
///
/// Cheap to clone (the data is shared). See the [crate docs](crate#the-dataset) for what
/// [`Dataset::generate`] makes, the invariants it keeps and the file format of
/// [`Dataset::from_json_file`].
///
/// ```
/// use shipstream_inventory_mock::Dataset;
///
/// let a = Dataset::generate(50, 7);
/// let b = Dataset::generate(50, 7);
/// assert_eq!(a.len(), 50);
/// assert_eq!(a.to_ndjson_string(), b.to_ndjson_string());
/// a.check_invariants()?;
///
/// let copy = Dataset::from_json_str(&a.to_ndjson_string())?;
/// assert_eq!(copy.to_ndjson_string(), a.to_ndjson_string());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Dataset {
    pub(crate) data: Arc<Data>,
}

impl fmt::Debug for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dataset")
            .field("products", &self.len())
            .field("seed", &self.data.seed)
            .finish()
    }
}

impl Default for Dataset {
    /// [`Dataset::generate`]`(250, 42)`.
    fn default() -> Self {
        Dataset::generate(250, 42)
    }
}

/// Why a dataset file could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A line (NDJSON) or the document (JSON array, `line` 0) is not valid JSON.
    #[error("line {line}: invalid JSON: {source}")]
    Json {
        /// 1-based line number (0 for a JSON array document).
        line: usize,
        /// The cause.
        source: serde_json::Error,
    },
    /// A record does not have the expected shape.
    #[error("record {record}: {message}")]
    Invalid {
        /// 1-based record number (the line number for NDJSON).
        record: usize,
        /// What is wrong.
        message: String,
    },
}

/// Counts describing a dataset (see [`Dataset::stats`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DatasetStats {
    /// Number of products (= levels).
    pub products: usize,
    /// Products with `is_enabled = false`.
    pub disabled: usize,
    /// Products with `is_visible = false`.
    pub invisible: usize,
    /// Products with `qty_on_hand = 0`.
    pub zero_stock: usize,
    /// Products with regulated-goods details.
    pub regulated: usize,
    /// Products whose `barcodes` is null or empty.
    pub without_barcodes: usize,
    /// Distinct merchant ids.
    pub merchants: usize,
    /// Largest product id.
    pub max_id: u64,
    /// Approximate heap bytes used by the dataset.
    pub heap_bytes: usize,
}

impl Dataset {
    /// A dataset without products.
    pub fn empty() -> Dataset {
        Dataset {
            data: Arc::new(Data::default()),
        }
    }

    /// Generates `products` realistic products deterministically from `seed`.
    ///
    /// The same `(products, seed)` always gives the same dataset, on every platform and
    /// version of this crate's dependencies; a smaller dataset is a prefix of a larger one
    /// with the same seed. About 1 µs per product in release builds.
    pub fn generate(products: usize, seed: u64) -> Dataset {
        Dataset {
            data: Arc::new(generate::generate(products, seed)),
        }
    }

    /// Loads a dataset file: either a JSON array of records or NDJSON (one record per line;
    /// blank lines are skipped). The format is chosen by the first non-blank character.
    pub fn from_json_file(path: impl AsRef<Path>) -> Result<Dataset, DatasetError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| DatasetError::Io {
            path: path.to_owned(),
            source,
        })?;
        Dataset::from_json_str(&text)
    }

    /// Loads an NDJSON dataset file (one record per line).
    pub fn from_ndjson_file(path: impl AsRef<Path>) -> Result<Dataset, DatasetError> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|source| DatasetError::Io {
            path: path.to_owned(),
            source,
        })?;
        Dataset::from_ndjson_reader(std::io::BufReader::new(file)).map_err(|e| match e {
            DatasetError::Io { source, .. } => DatasetError::Io {
                path: path.to_owned(),
                source,
            },
            other => other,
        })
    }

    /// Reads NDJSON records from `reader`.
    pub fn from_ndjson_reader(reader: impl BufRead) -> Result<Dataset, DatasetError> {
        let mut loader = load::Loader::default();
        for (n, line) in reader.lines().enumerate() {
            let line = line.map_err(|source| DatasetError::Io {
                path: PathBuf::from("<reader>"),
                source,
            })?;
            if line.trim().is_empty() {
                continue;
            }
            let v: Json = serde_json::from_str(&line).map_err(|source| DatasetError::Json {
                line: n + 1,
                source,
            })?;
            loader.add(&v, n + 1)?;
        }
        loader.finish()
    }

    /// Parses a JSON array of records, or NDJSON text.
    pub fn from_json_str(text: &str) -> Result<Dataset, DatasetError> {
        if text.trim_start().starts_with('[') {
            let records: Vec<Json> = serde_json::from_str(text)
                .map_err(|source| DatasetError::Json { line: 0, source })?;
            let mut loader = load::Loader::default();
            for (n, v) in records.iter().enumerate() {
                loader.add(v, n + 1)?;
            }
            loader.finish()
        } else {
            Dataset::from_ndjson_reader(text.as_bytes())
        }
    }

    /// Writes the dataset as NDJSON (the format [`Dataset::from_json_file`] reads), in
    /// ascending product id order.
    pub fn write_ndjson(&self, mut out: impl Write) -> std::io::Result<()> {
        let mut buf = Vec::with_capacity(2048);
        for idx in 0..self.len() {
            buf.clear();
            serde_json::to_writer(&mut buf, &self.record(idx))?;
            buf.push(b'\n');
            out.write_all(&buf)?;
        }
        Ok(())
    }

    /// [`Dataset::write_ndjson`] into a `String`.
    pub fn to_ndjson_string(&self) -> String {
        let mut out = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self.write_ndjson(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    fn record(&self, idx: usize) -> LevelOut<'_> {
        LevelOut {
            data: &self.data,
            idx,
            fields: LevelFields::all(),
            product: Some(ProductFields::all()),
            ..LevelOut::new(&self.data, idx)
        }
    }

    /// The number of products.
    pub fn len(&self) -> usize {
        self.data.products.len()
    }

    /// Whether there are no products.
    pub fn is_empty(&self) -> bool {
        self.data.products.is_empty()
    }

    /// The seed of a generated dataset (`None` when loaded from a file).
    pub fn seed(&self) -> Option<u64> {
        self.data.seed
    }

    /// Every product id, ascending.
    pub fn product_ids(&self) -> Vec<u64> {
        self.data.products.iter().map(|p| u64::from(p.id)).collect()
    }

    /// The record of product `id` in the file format (a `TotalLevel` with the full product,
    /// its `product_type` and the `warehouse` stub), or `None`.
    pub fn record_json(&self, id: u64) -> Option<Json> {
        let idx = self.data.index_of(i64::try_from(id).ok()?)?;
        serde_json::to_value(self.record(idx)).ok()
    }

    /// Counts of notable products, and the memory used.
    pub fn stats(&self) -> DatasetStats {
        let d = &self.data;
        let mut s = DatasetStats {
            products: d.products.len(),
            heap_bytes: d.heap_bytes(),
            ..DatasetStats::default()
        };
        let mut merchants = std::collections::BTreeSet::new();
        for p in &d.products {
            s.disabled += usize::from(!p.has(flag::ENABLED));
            s.invisible += usize::from(!p.has(flag::VISIBLE));
            s.zero_stock += usize::from(p.qty[Q_ON_HAND] == 0);
            s.regulated += usize::from(p.regulated != NONE);
            s.without_barcodes += usize::from(p.barcodes.len == 0);
            if p.merchant_id != 0 {
                merchants.insert(p.merchant_id);
            }
            s.max_id = s.max_id.max(u64::from(p.id));
        }
        s.merchants = merchants.len();
        s
    }

    /// Checks the [quantity and data invariants](crate#invariants) on every product; the
    /// error names the first product that breaks one. Generated datasets always pass;
    /// loaded ones need not.
    pub fn check_invariants(&self) -> Result<(), String> {
        let d = &self.data;
        let mut skus = std::collections::HashSet::with_capacity(d.products.len());
        let mut prev = 0u32;
        for p in &d.products {
            let q = &p.qty;
            let fail = |what: &str| Err(format!("product {}: {what} ({q:?})", p.id));
            if p.id <= prev {
                return fail("ids are not strictly ascending");
            }
            prev = p.id;
            if !skus.insert(d.str(p.sku)) {
                return fail("duplicate sku");
            }
            if q.iter().any(|&v| v < 0) {
                return fail("negative quantity");
            }
            let parts = i64::from(q[Q_AVAILABLE])
                + i64::from(q[Q_ALLOCATED])
                + i64::from(q[Q_RESERVED])
                + i64::from(q[Q_PICKED]);
            if i64::from(q[Q_ON_HAND]) != parts {
                return fail("qty_on_hand != available + allocated + reserved + picked");
            }
            if q[Q_ADVERTISED] < q[Q_AVAILABLE] {
                return fail("qty_advertised < qty_available");
            }
            if q[Q_ADVERTISED] > q[Q_AVAILABLE] && p.virtual_inventory.is_null() {
                return fail("qty_advertised > qty_available without virtual inventory");
            }
            if q[Q_BACKORDERED] > 0 && !p.has(flag::BACKORDERS) {
                return fail("backordered without inventory.backorders");
            }
            if q[Q_BACKORDERED] > 0 && q[Q_AVAILABLE] > 0 {
                return fail("backordered while available");
            }
            if p.updated_at < p.created_at || p.level_updated_at < p.created_at {
                return fail("updated before created");
            }
            if d.seed.is_some()
                && !d.live
                && (p.updated_at > GENERATED_NOW || p.level_updated_at > GENERATED_NOW)
            {
                return fail("timestamp after the generation's now");
            }
        }
        Ok(())
    }
}

/// Appends strings to the arena and interns repeated ones.
#[derive(Default)]
pub(crate) struct Builder {
    pub(crate) data: Data,
    interned: HashMap<Box<str>, Span>,
}

impl Builder {
    /// Appends `s` (not interned).
    pub(crate) fn push(&mut self, s: &str) -> Span {
        let start = self.data.text.len();
        self.data.text.push_str(s);
        self.span_from(start)
    }

    /// Appends formatted text.
    pub(crate) fn push_fmt(&mut self, args: fmt::Arguments<'_>) -> Span {
        let start = self.data.text.len();
        let _ = self.data.text.write_fmt(args);
        self.span_from(start)
    }

    fn span_from(&self, start: usize) -> Span {
        Span {
            start: start as u32,
            len: (self.data.text.len() - start) as u32,
        }
    }

    /// Appends `s` once; later calls with the same text return the same span.
    pub(crate) fn intern(&mut self, s: &str) -> Span {
        if let Some(span) = self.interned.get(s) {
            return *span;
        }
        let span = self.push(s);
        self.interned.insert(s.into(), span);
        span
    }

    pub(crate) fn opt_intern(&mut self, s: Option<&str>) -> Span {
        s.map_or(Span::NULL, |s| self.intern(s))
    }

    pub(crate) fn opt_push(&mut self, s: Option<&str>) -> Span {
        s.map_or(Span::NULL, |s| self.push(s))
    }

    /// Stores a list of spans.
    pub(crate) fn list(&mut self, spans: impl IntoIterator<Item = Span>) -> List {
        let start = self.data.spans.len();
        self.data.spans.extend(spans);
        List {
            start: start as u32,
            len: (self.data.spans.len() - start) as u32,
        }
    }
}

mod catalogue;
mod generate;
mod load;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn deterministic_and_prefix_stable() {
        let a = Dataset::generate(300, 9);
        let b = Dataset::generate(300, 9);
        let c = Dataset::generate(100, 9);
        let d = Dataset::generate(300, 10);
        let (a, b, c, d) = (
            a.to_ndjson_string(),
            b.to_ndjson_string(),
            c.to_ndjson_string(),
            d.to_ndjson_string(),
        );
        assert_eq!(a, b);
        assert!(a.starts_with(&c));
        assert_ne!(a, d);
    }

    #[test]
    fn invariants_and_mix() {
        let ds = Dataset::generate(20_000, 1);
        ds.check_invariants().unwrap();
        let s = ds.stats();
        let pct = |n: usize| n as f64 * 100.0 / s.products as f64;
        assert!((2.0..4.5).contains(&pct(s.disabled)), "{s:?}");
        assert!((3.5..6.5).contains(&pct(s.invisible)), "{s:?}");
        assert!((8.0..12.0).contains(&pct(s.zero_stock)), "{s:?}");
        assert!(s.regulated > 0, "{s:?}");
        assert!(s.without_barcodes > 0, "{s:?}");
        assert_eq!(s.merchants, 5);
        assert!(s.max_id > s.products as u64, "ids have gaps");
        assert!(
            s.heap_bytes / s.products < 400,
            "{} bytes per product",
            s.heap_bytes / s.products
        );
    }

    #[test]
    fn load_errors() {
        let err = Dataset::from_json_str("{\"product\":{}}").unwrap_err();
        assert!(err.to_string().contains("product.id"), "{err}");
        let err = Dataset::from_json_str("{").unwrap_err();
        assert!(matches!(err, DatasetError::Json { line: 1, .. }), "{err}");
        let two = r#"{"product":{"id":1,"sku":"A"}}
{"product":{"id":1,"sku":"B"}}"#;
        assert!(
            Dataset::from_json_str(two)
                .unwrap_err()
                .to_string()
                .contains("duplicate")
        );
        // Errors name the member at fault, nested ones with their path.
        for (record, names) in [
            (r#"{"product":{"id":1}}"#, "`product.sku` is missing"),
            (r#"{"product":{"id":"7","sku":"A"}}"#, "`product.id`"),
            (
                r#"{"product":{"id":1,"sku":"A"},"qty_on_hand":"3"}"#,
                "`qty_on_hand`",
            ),
            (
                r#"{"product":{"id":1,"sku":"A","barcodes":[1]}}"#,
                "`product.barcodes[0]`",
            ),
            (
                r#"{"product":{"id":1,"sku":"A","packaging":{"can_tip":"yes"}}}"#,
                "`product.packaging.can_tip`",
            ),
            (
                r#"{"product":{"id":1,"sku":"A","custom_fields":[{"label":"x"}]}}"#,
                "`product.custom_fields[0].code` is missing",
            ),
            (
                r#"{"product":{"id":0,"sku":"A"}}"#,
                "`product.id` must be in 1..=4294967295",
            ),
            (
                r#"{"product":{"id":1,"sku":"A","updated_at":"soon"}}"#,
                "`updated_at` is not an RFC 3339",
            ),
            ("[1]", "a record must be an object"),
        ] {
            let err = Dataset::from_json_str(record).unwrap_err().to_string();
            assert!(err.contains(names), "{record}: {err}");
        }
        let ok =
            r#"[{"product":{"id":2,"sku":"B"},"qty_on_hand":3},{"product":{"id":1,"sku":"A"}}]"#;
        let ds = Dataset::from_json_str(ok).unwrap();
        assert_eq!(ds.product_ids(), vec![1, 2]);
        assert_eq!(ds.record_json(2).unwrap()["qty_on_hand"], 3);
        assert!(ds.seed().is_none());
    }
}
