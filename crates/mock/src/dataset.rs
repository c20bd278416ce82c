//! The mock's data: one [`TotalLevel`-with-product record](crate#the-dataset) per product,
//! stored compactly and serialised on demand.

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

mod generate {
    //! Deterministic generation of realistic products.

    use super::*;

    struct Category {
        prefix: &'static str,
        nouns: &'static [&'static str],
        variants: &'static [&'static str],
        description: &'static str,
        hs: &'static str,
        /// Weight range in pounds.
        weight: (f32, f32),
        product_type: ProductType,
        /// Relative frequency.
        share: u32,
        regulation: Option<RegulationTemplate>,
    }

    #[derive(Clone, Copy)]
    struct RegulationTemplate {
        id: u32,
        technical_name: &'static str,
        info: &'static str,
        container: &'static str,
    }

    const CATEGORIES: &[Category] = &[
        Category {
            prefix: "SPC",
            nouns: &[
                "Oregano",
                "Basil",
                "Smoked Paprika",
                "Cumin",
                "Thyme",
                "Cinnamon",
                "Turmeric",
                "Black Pepper",
            ],
            variants: &[
                "Jar 50g",
                "Jar 250g",
                "Refill Bag 1kg",
                "Grinder",
                "Sachet 10g",
            ],
            description: "Dried culinary herbs and spices",
            hs: "0910.99",
            weight: (0.1, 2.5),
            product_type: ProductType::Normal,
            share: 14,
            regulation: None,
        },
        Category {
            prefix: "TEA",
            nouns: &[
                "Earl Grey",
                "Sencha",
                "Rooibos",
                "Chai",
                "Peppermint",
                "Oolong",
            ],
            variants: &["Tin 100g", "20 Bags", "Loose Leaf 500g", "Sampler"],
            description: "Tea, whether or not flavoured",
            hs: "0902.30",
            weight: (0.1, 1.5),
            product_type: ProductType::Normal,
            share: 10,
            regulation: None,
        },
        Category {
            prefix: "MUG",
            nouns: &[
                "Café Mug",
                "Espresso Cup",
                "Teapot",
                "French Press",
                "Travel Tumbler",
            ],
            variants: &["White", "Black", "Speckled", "350ml", "1L"],
            description: "Ceramic tableware and kitchenware",
            hs: "6912.00",
            weight: (0.4, 3.0),
            product_type: ProductType::Normal,
            share: 9,
            regulation: None,
        },
        Category {
            prefix: "TOY",
            nouns: &[
                "Spinning Top",
                "Marble Run",
                "Stacking Blocks",
                "Yo-Yo",
                "Puzzle Cube",
            ],
            variants: &["Red", "Blue", "Wooden", "Deluxe Edition", "Starter Set"],
            description: "Plastic children's toy with steel weights and ball bearings",
            hs: "9503.00",
            weight: (0.2, 5.0),
            product_type: ProductType::Normal,
            share: 9,
            regulation: None,
        },
        Category {
            prefix: "PEN",
            nouns: &["Gel Pen", "Fountain Pen", "Marker", "Highlighter", "Pencil"],
            variants: &["Black", "Blue", "Assorted", "Fine", "Bold"],
            description: "Pens, markers and pencils",
            hs: "9608.10",
            weight: (0.05, 1.0),
            product_type: ProductType::Normal,
            share: 9,
            regulation: None,
        },
        Category {
            prefix: "AUD",
            nouns: &[
                "Headphones",
                "Earbuds",
                "Bluetooth Speaker",
                "USB Microphone",
            ],
            variants: &["Matte Black", "Silver", "Pro", "Lite", "Gen 2"],
            description: "Headphones and earphones",
            hs: "8518.30",
            weight: (0.2, 4.0),
            product_type: ProductType::Normal,
            share: 7,
            regulation: None,
        },
        Category {
            prefix: "TSH",
            nouns: &["T-Shirt", "Hoodie", "Beanie", "Socks 3-Pack"],
            variants: &["S", "M", "L", "XL", "Heather Grey", "Navy"],
            description: "Cotton garments, knitted",
            hs: "6109.10",
            weight: (0.2, 1.8),
            product_type: ProductType::Normal,
            share: 10,
            regulation: None,
        },
        Category {
            prefix: "KIT",
            nouns: &[
                "Salt & Pepper \"Classic\" Set",
                "Crème Brûlée Kit",
                "Gift Box, Assorted",
                "Über Grill Set",
                "50% Off Bundle",
            ],
            variants: &["Holiday", "Small", "Large", "Édition Spéciale"],
            description: "Gift sets of assorted goods",
            hs: "9505.90",
            weight: (0.5, 8.0),
            product_type: ProductType::Normal,
            share: 5,
            regulation: None,
        },
        Category {
            prefix: "BAT",
            nouns: &[
                "Lithium Battery Pack",
                "Power Bank",
                "Rechargeable AA Cells",
            ],
            variants: &["10000mAh", "20000mAh", "4-Pack", "8-Pack"],
            description: "Lithium-ion accumulators",
            hs: "8507.60",
            weight: (0.2, 2.0),
            product_type: ProductType::Normal,
            share: 1,
            regulation: Some(RegulationTemplate {
                id: 3480,
                technical_name: "Lithium ion batteries",
                info: "Class 9 miscellaneous dangerous goods",
                container: "Fibreboard Box",
            }),
        },
        Category {
            prefix: "AER",
            nouns: &["Spray Paint", "Dry Shampoo", "Air Freshener"],
            variants: &["400ml", "200ml", "Matte", "Gloss"],
            description: "Aerosol cans",
            hs: "3208.20",
            weight: (0.3, 1.2),
            product_type: ProductType::Normal,
            share: 1,
            regulation: Some(RegulationTemplate {
                id: 1950,
                technical_name: "Aerosols, flammable",
                info: "Flammable gas, limited quantity",
                container: "Metal Can",
            }),
        },
        Category {
            prefix: "BOX",
            nouns: &["Shipping Box", "Mailer Envelope", "Poly Mailer"],
            variants: &["12x9x4", "6x6x6", "18x12x8", "Padded", "Large"],
            description: "Cartons and boxes of corrugated paper",
            hs: "4819.10",
            weight: (0.05, 1.5),
            product_type: ProductType::Packaging,
            share: 4,
            regulation: None,
        },
        Category {
            prefix: "PAL",
            nouns: &["Pallet", "Stacking Tote", "Bin"],
            variants: &["48x40", "Euro", "Small", "Large"],
            description: "Pallets and load boards",
            hs: "4415.20",
            weight: (2.0, 40.0),
            product_type: ProductType::Containers,
            share: 2,
            regulation: None,
        },
        Category {
            prefix: "SUP",
            nouns: &["Packing Tape", "Shipping Labels", "Stretch Wrap"],
            variants: &["Roll", "6-Pack", "500 Count", "Clear"],
            description: "Self-adhesive tapes and labels",
            hs: "3919.10",
            weight: (0.1, 6.0),
            product_type: ProductType::Supplies,
            share: 3,
            regulation: None,
        },
        Category {
            prefix: "FIL",
            nouns: &["Air Pillows", "Packing Peanuts", "Kraft Paper Fill"],
            variants: &["Bag", "Roll", "Bulk"],
            description: "Packing and cushioning material",
            hs: "3923.90",
            weight: (0.1, 4.0),
            product_type: ProductType::Infill,
            share: 2,
            regulation: None,
        },
    ];

    const ADJECTIVES: &[&str] = &[
        "Organic", "Classic", "Premium", "Eco", "Deluxe", "Mini", "Travel", "Vintage", "Everyday",
        "Studio",
    ];
    const SKU_SUFFIXES: &[&str] = &["-BLK", "-RED", "-S", "-M", "-L", "-XL", "-V2", "-2PK"];
    const VENDORS: &[&str] = &[
        "ACME", "GLOBEX", "INITECH", "UMBRELLA", "HOOLI", "STARK", "WAYNE",
    ];
    const WEIGHT_UNITS: &[(&str, f32, u32)] = &[
        ("lb", 1.0, 50),
        ("oz", 16.0, 20),
        ("kg", 0.453_592, 20),
        ("g", 453.592, 10),
    ];
    const LENGTH_UNITS: &[(&str, f32, u32)] = &[
        ("in", 1.0, 60),
        ("cm", 2.54, 30),
        ("mm", 25.4, 5),
        ("ft", 1.0 / 12.0, 3),
        ("m", 0.0254, 2),
    ];
    const COUNTRIES: &[&str] = &["TW", "CN", "US", "DE", "MX", "VN", "IN", "IT"];
    const CURRENCIES: &[&str] = &["USD", "USD", "USD", "EUR", "CAD"];
    const COLORS: &[(i64, &str)] = &[
        (13, "Red and Black"),
        (4, "Blue"),
        (7, "Forest Green"),
        (21, "Natural"),
        (2, "White"),
    ];
    const SEASONS: &[&str] = &["spring", "summer", "autumn", "winter", "all-year"];
    const TAGS: &[&str] = &["PVC", "GLASS", "FRAGILE", "OVERSIZE"];
    const BATCH_TIMES: usize = 12;

    fn weighted<'a, T>(rng: &mut SplitMix64, items: &'a [(T, u32)]) -> &'a T {
        let total: u32 = items.iter().map(|i| i.1).sum();
        let mut x = rng.below(u64::from(total)) as u32;
        for (item, w) in items {
            if x < *w {
                return item;
            }
            x -= w;
        }
        &items[0].0
    }

    /// Most products have the first goods type of the spec; one in ten has another one
    /// the spec lists, chosen from the id (so the rest of the dataset does not depend on
    /// how many goods types the spec has).
    fn goods_type_for(types: &[Span], id: u32) -> Span {
        let h = SplitMix64::derive(u64::from(id), 0x600D5).next_u64();
        match types {
            [] => Span::NULL,
            [only] => *only,
            [first, rest @ ..] => {
                if h.is_multiple_of(10) {
                    rest[(h / 10 % rest.len() as u64) as usize]
                } else {
                    *first
                }
            }
        }
    }

    fn round2(x: f32) -> f32 {
        (x * 100.0).round() / 100.0
    }

    fn round1(x: f32) -> f32 {
        (x * 10.0).round() / 10.0
    }

    struct Templates {
        /// The spec's goods types (the first one, `NORMAL`, for most products).
        goods_types: Vec<Span>,
        optimistic: Span,
        weight_units: Vec<(Span, f32, u32)>,
        length_units: Vec<(Span, Span, f32, u32)>,
        /// Export record per (category, customs tier, currency).
        exports: HashMap<(usize, u32, usize), u32>,
        cf_codes: [Span; 6],
        cf_labels: Vec<Span>,
        seasons: Vec<Span>,
        cf_json: Vec<Span>,
        batch_times: Vec<i64>,
        packagings: u32,
        regulated: HashMap<usize, Vec<u32>>,
    }

    fn templates(b: &mut Builder, rng: &mut SplitMix64) -> Templates {
        let weight_units = WEIGHT_UNITS
            .iter()
            .map(|(u, f, w)| (b.intern(u), *f, *w))
            .collect();
        let length_units = LENGTH_UNITS
            .iter()
            .map(|(u, f, w)| {
                let vol = match *u {
                    "in" => "in^3",
                    "ft" => "ft^3",
                    "m" => "m^3",
                    _ => "cm^3",
                };
                (b.intern(u), b.intern(vol), *f, *w)
            })
            .collect();
        // 24 packaging profiles shared by all products.
        let mut packagings = 0;
        for i in 0..24u32 {
            let mut flags = 0u8;
            for (bit, p) in [
                (pack::REQUIRE_PACKAGING, 0.6),
                (pack::REQUIRE_WEIGHT_CHECK, 0.3),
                (pack::REQUIRE_CONFIRMATION_PER_ITEM, 0.2),
                (pack::IS_SHIP_SEPARATELY, 0.15),
                (pack::CAN_TIP, 0.7),
                (pack::CAN_CONTAIN_OTHER_ITEMS, 0.4),
                (pack::IS_HANDLING_SURCHARGE, 0.1),
            ] {
                if rng.chance(p) {
                    flags |= bit;
                }
            }
            let tag = if flags & pack::IS_SHIP_SEPARATELY != 0 {
                let tag = rng.pick::<&str>(TAGS);
                b.intern(tag)
            } else {
                Span::NULL
            };
            let unit = (i % 3 != 0).then_some(1);
            let bulk = rng.chance(0.5).then(|| *rng.pick(&[6i64, 10, 12, 24, 48]));
            let max = rng.chance(0.4).then(|| rng.range(2, 50) as i64);
            b.data.packagings.push(Packaging {
                flags,
                unit_quantity: unit,
                bulk_quantity: bulk,
                max_per_package: max,
                ship_separately_tag: tag,
            });
            packagings += 1;
        }
        let mut regulated = HashMap::new();
        for (ci, c) in CATEGORIES.iter().enumerate() {
            if let Some(r) = c.regulation {
                let mut ids = Vec::new();
                for units in [1i64, 2, 5] {
                    let idx = b.data.regulated.len() as u32;
                    let technical_name = b.intern(r.technical_name);
                    let info = b.intern(r.info);
                    let container = b.intern(r.container);
                    let lb = b.intern("lb");
                    b.data.regulated.push(Regulated {
                        regulation_id: Some(r.id),
                        technical_name,
                        additional_information: if units == 5 { Span::NULL } else { info },
                        net_weight: Some((0.5 * units as f64, lb)),
                        container_type: container,
                        container_meets_hazmat_specs: Some(units != 2),
                        regulation_units: Some(units),
                    });
                    ids.push(idx);
                }
                regulated.insert(ci, ids);
            }
        }
        let cf_codes = [
            b.intern("color"),
            b.intern("cost_of_goods"),
            b.intern("allow_mailer"),
            b.intern("season"),
            b.intern("attributes"),
            b.intern("legacy_code"),
        ];
        let cf_labels = COLORS.iter().map(|(_, l)| b.intern(l)).collect();
        let seasons = SEASONS.iter().map(|s| b.intern(s)).collect();
        // Keys sorted, as the loader re-serialises object values.
        let cf_json = vec![
            b.intern(r#"{"material":"steel","recyclable":true}"#),
            b.intern(r#"{"care":["wash cold","tumble dry low"],"material":"cotton"}"#),
            b.intern(r#"["gift","fragile"]"#),
            b.intern(r#"{"organic":false,"origin":{"country":"IT","region":"Sicily"}}"#),
        ];
        let batch_times = (0..BATCH_TIMES)
            .map(|_| GENERATED_NOW - rng.range(0, 400 * 86_400) as i64 / 60 * 60)
            .collect();
        Templates {
            goods_types: GoodsType::KNOWN.iter().map(|g| b.intern(g)).collect(),
            optimistic: b.intern("optimistic"),
            weight_units,
            length_units,
            exports: HashMap::new(),
            cf_codes,
            cf_labels,
            seasons,
            cf_json,
            batch_times,
            packagings,
            regulated,
        }
    }

    fn export_for(b: &mut Builder, t: &mut Templates, rng: &mut SplitMix64, ci: usize) -> u32 {
        let tier = rng.range(1, 40) as u32;
        let currency = rng.below(CURRENCIES.len() as u64) as usize;
        if let Some(idx) = t.exports.get(&(ci, tier, currency)) {
            return *idx;
        }
        let c = &CATEGORIES[ci];
        let description = b.intern(c.description);
        let country = b.intern(COUNTRIES[(ci + tier as usize) % COUNTRIES.len()]);
        let hs = b.intern(c.hs);
        let ext_start = b.data.hs_ext.len();
        for k in 0..(tier % 3) {
            let cc = b.intern(COUNTRIES[(ci + k as usize) % COUNTRIES.len()]);
            let ext = b.push_fmt(format_args!("{:03}", (tier * 7 + k * 3) % 1000));
            b.data.hs_ext.push((cc, ext));
        }
        let hs_country_extension = if tier.is_multiple_of(5) {
            List::NULL
        } else {
            List {
                start: ext_start as u32,
                len: (b.data.hs_ext.len() - ext_start) as u32,
            }
        };
        let cur = b.intern(CURRENCIES[currency]);
        let idx = b.data.exports.len() as u32;
        b.data.exports.push(Export {
            description: if tier.is_multiple_of(11) {
                Span::NULL
            } else {
                description
            },
            customs_value: (!tier.is_multiple_of(13))
                .then_some((f64::from(tier) * 2.5 - 0.01, cur)),
            country_of_manufacture: country,
            hs_base_code: if tier.is_multiple_of(17) {
                Span::NULL
            } else {
                hs
            },
            hs_country_extension,
        });
        t.exports.insert((ci, tier, currency), idx);
        idx
    }

    fn digits(b: &mut Builder, rng: &mut SplitMix64, n: usize) -> Span {
        let start = b.data.text.len();
        for _ in 0..n {
            b.data.text.push(char::from(b'0' + rng.below(10) as u8));
        }
        b.span_from(start)
    }

    pub(super) fn generate(count: usize, seed: u64) -> Data {
        let mut b = Builder::default();
        let mut trng = SplitMix64::derive(seed, 1);
        let mut t = templates(&mut b, &mut trng);
        let mut rng = SplitMix64::derive(seed, 2);
        b.data.products.reserve_exact(count);
        b.data.text.reserve(count * 64);
        b.data.spans.reserve(count + count / 4);
        b.data.custom_fields.reserve(count * 3 / 2);
        let total_share: u32 = CATEGORIES.iter().map(|c| c.share).sum();
        let shares: Vec<(usize, u32)> = CATEGORIES
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c.share))
            .collect();
        debug_assert!(total_share > 0);
        let mut id = 0u32;
        for _ in 0..count {
            id += 1;
            if rng.chance(0.02) {
                id += rng.range(1, 3) as u32;
            }
            let ci = *weighted(&mut rng, &shares);
            let c = &CATEGORIES[ci];

            // SKU: unique through the id.
            let sku = {
                let suffix = if rng.chance(0.3) {
                    *rng.pick(SKU_SUFFIXES)
                } else {
                    ""
                };
                if rng.chance(0.04) {
                    b.push_fmt(format_args!(
                        "{}-{id}{}",
                        c.prefix.to_ascii_lowercase(),
                        suffix.to_ascii_lowercase()
                    ))
                } else {
                    b.push_fmt(format_args!("{}-{id:06}{suffix}", c.prefix))
                }
            };
            // Name.
            let name = {
                let noun = *rng.pick(c.nouns);
                let variant = *rng.pick(c.variants);
                let adj = rng.chance(0.6).then(|| *rng.pick(ADJECTIVES));
                let box_of = c.prefix == "PEN" && rng.chance(0.3);
                let case = rng.chance(0.05);
                let start = b.data.text.len();
                if box_of {
                    b.data.text.push_str("Box of 12 ");
                }
                if let Some(a) = adj {
                    b.data.text.push_str(a);
                    b.data.text.push(' ');
                }
                b.data.text.push_str(noun);
                b.data.text.push_str(" - ");
                b.data.text.push_str(variant);
                if case {
                    b.data.text.push_str(" CASE");
                }
                b.span_from(start)
            };
            let vendor_sku = {
                let x = rng.next_f64();
                if x < 0.65 {
                    let v = *rng.pick(VENDORS);
                    b.push_fmt(format_args!("{v}-{:06X}", rng.below(0x100_0000)))
                } else if x < 0.70 {
                    b.push("")
                } else {
                    Span::NULL
                }
            };
            let external_id = if rng.chance(0.55) {
                b.push_fmt(format_args!(
                    "{:02}-{:03}-{:04}",
                    rng.below(100),
                    rng.below(1000),
                    rng.below(10_000)
                ))
            } else {
                Span::NULL
            };
            let barcodes = {
                let x = rng.next_f64();
                if x < 0.08 {
                    List::NULL
                } else if x < 0.15 {
                    b.list([])
                } else {
                    let upc = digits(&mut b, &mut rng, 12);
                    if x < 0.75 {
                        b.list([upc])
                    } else {
                        let ean = digits(&mut b, &mut rng, 13);
                        b.list([upc, ean])
                    }
                }
            };
            let merchant_id = *weighted(&mut rng, &[(1u32, 40), (2, 25), (3, 15), (4, 12), (5, 8)]);
            let warehouse_id = rng.range(1, 3) as u32;
            let lot_type_id = if rng.chance(0.15) {
                rng.range(1, 4) as u32
            } else {
                0
            };

            let mut flags = 0u16;
            if !rng.chance(0.03) {
                flags |= flag::ENABLED;
            }
            if rng.chance(0.92) {
                flags |= flag::AVAILABLE;
            }
            if !rng.chance(0.05) {
                flags |= flag::VISIBLE;
            }
            // Physical attributes.
            let (mut weight, mut weight_unit) = (0.0f32, Span::NULL);
            if rng.chance(0.95) {
                let (u, factor, _) = *weighted3(&mut rng, &t.weight_units);
                let lb = c.weight.0 + (c.weight.1 - c.weight.0) * rng.next_f64() as f32;
                weight = round2(lb * factor).max(0.01);
                weight_unit = u;
                flags |= flag::WEIGHT;
            }
            let (mut dims, mut dims_unit, mut volume, mut volume_unit) =
                ([0.0f32; 3], Span::NULL, 0.0f32, Span::NULL);
            if rng.chance(0.9) {
                let (u, vu, factor, _) = *weighted4(&mut rng, &t.length_units);
                let inches = [
                    2.0 + rng.next_f64() as f32 * 22.0,
                    2.0 + rng.next_f64() as f32 * 16.0,
                    0.5 + rng.next_f64() as f32 * 12.0,
                ];
                dims = inches.map(|x| round1(x * factor).max(0.1));
                dims_unit = u;
                flags |= flag::DIMENSIONS;
                if rng.chance(0.85) {
                    // Volume from the dimensions; millimetres become cm^3.
                    let mm = b.data.str(u) == "mm";
                    let k = if mm { 0.001 } else { 1.0 };
                    volume = round2(dims[0] * dims[1] * dims[2] * k);
                    volume_unit = vu;
                    flags |= flag::VOLUME;
                }
            }
            let mut virtual_inventory = Span::NULL;
            if rng.chance(0.97) {
                flags |= flag::INVENTORY;
                if rng.chance(0.2) {
                    flags |= flag::BACKORDERS;
                }
                if rng.chance(0.6) {
                    flags |= flag::DYNAMIC_ALLOCATION;
                }
                if rng.chance(0.15) {
                    virtual_inventory = t.optimistic;
                }
            }
            let export = if rng.chance(0.7) {
                export_for(&mut b, &mut t, &mut rng, ci)
            } else {
                NONE
            };
            let regulated = match t.regulated.get(&ci) {
                Some(ids) if rng.chance(0.9) => *rng.pick(ids),
                _ => NONE,
            };
            let packaging = if rng.chance(0.85) {
                rng.below(u64::from(t.packagings)) as u32
            } else {
                NONE
            };
            // Custom fields with varied JSON values.
            let custom_fields = {
                let x = rng.next_f64();
                if x < 0.10 {
                    List::NULL
                } else if x < 0.25 {
                    List {
                        start: b.data.custom_fields.len() as u32,
                        len: 0,
                    }
                } else {
                    let start = b.data.custom_fields.len();
                    let n = rng.range(1, 4) as usize;
                    let first = rng.below(6) as usize;
                    for k in 0..n {
                        let which = (first + k) % 6;
                        let code = t.cf_codes[which];
                        let (label, value) = match which {
                            0 => {
                                let ci = rng.below(COLORS.len() as u64) as usize;
                                (t.cf_labels[ci], CfValue::Int(COLORS[ci].0))
                            }
                            1 => (
                                Span::NULL,
                                CfValue::Float((rng.range(50, 20_000) as f64) / 100.0),
                            ),
                            2 => (Span::NULL, CfValue::Bool(rng.chance(0.5))),
                            3 => {
                                if rng.chance(0.2) {
                                    (Span::NULL, CfValue::Null)
                                } else {
                                    (Span::NULL, CfValue::Str(*rng.pick(&t.seasons)))
                                }
                            }
                            4 => (Span::NULL, CfValue::Json(*rng.pick(&t.cf_json))),
                            _ => {
                                let s = b.push_fmt(format_args!("L{}", rng.below(100_000)));
                                (Span::NULL, CfValue::Str(s))
                            }
                        };
                        b.data
                            .custom_fields
                            .push(CustomField { code, label, value });
                    }
                    List {
                        start: start as u32,
                        len: (b.data.custom_fields.len() - start) as u32,
                    }
                }
            };
            // Timestamps.
            let created_at = 1_483_228_800 + rng.below(270_000_000) as i64; // 2017-01-01 + ~8.5y
            let span = (GENERATED_NOW - created_at).max(0) as u64;
            let updated_at = created_at + rng.below(span + 1) as i64;
            let level_updated_at = {
                let batch = t.batch_times[rng.below(BATCH_TIMES as u64) as usize];
                if rng.chance(0.25) && batch >= created_at {
                    batch
                } else {
                    let t = created_at + rng.below(span + 1) as i64;
                    (t / 60 * 60).max(created_at)
                }
            };
            // Quantities (see the crate docs for the invariants).
            let mut q = [0i32; 10];
            if rng.chance(0.10) {
                if flags & flag::BACKORDERS != 0 && rng.chance(0.5) {
                    q[Q_BACKORDERED] = rng.range(1, 40) as i32;
                }
                if rng.chance(0.5) {
                    q[Q_EXPECTED] = rng.range(10, 500) as i32;
                }
            } else {
                let on_hand = (5000f64.powf(rng.next_f64())).floor() as i32;
                let on_hand = on_hand.max(1);
                let picked = rng.below(on_hand as u64 / 10 + 1) as i32;
                let reserved = rng.below((on_hand - picked) as u64 / 8 + 1) as i32;
                let allocated = rng.below((on_hand - picked - reserved) as u64 / 5 + 1) as i32;
                q[Q_ON_HAND] = on_hand;
                q[Q_PICKED] = picked;
                q[Q_RESERVED] = reserved;
                q[Q_ALLOCATED] = allocated;
                q[Q_AVAILABLE] = on_hand - picked - reserved - allocated;
                if rng.chance(0.6) {
                    q[Q_EXPECTED] = rng.range(1, 1000) as i32;
                }
                if rng.chance(0.2) {
                    q[Q_PROCESSED] = rng.range(1, 50) as i32;
                }
                if rng.chance(0.2) {
                    q[Q_PUTAWAY] = rng.range(1, 100) as i32;
                }
            }
            q[Q_ADVERTISED] = q[Q_AVAILABLE];
            if !virtual_inventory.is_null() && q[Q_ON_HAND] > 0 {
                q[Q_ADVERTISED] += rng.below(200) as i32;
            }
            b.data.products.push(Product {
                id,
                merchant_id,
                warehouse_id,
                lot_type_id,
                sku,
                name,
                vendor_sku,
                external_id,
                goods_type: goods_type_for(&t.goods_types, id),
                barcodes,
                custom_fields,
                export,
                regulated,
                packaging,
                weight,
                dims,
                volume,
                weight_unit,
                dims_unit,
                volume_unit,
                virtual_inventory,
                flags,
                product_type: product_type_index(c.product_type),
                created_at,
                updated_at,
                level_updated_at,
                qty: q,
            });
        }
        b.data.seed = Some(seed);
        b.data.text.shrink_to_fit();
        b.data.spans.shrink_to_fit();
        b.data.custom_fields.shrink_to_fit();
        b.data
    }

    fn weighted3<'a>(rng: &mut SplitMix64, items: &'a [(Span, f32, u32)]) -> &'a (Span, f32, u32) {
        let total: u32 = items.iter().map(|i| i.2).sum();
        let mut x = rng.below(u64::from(total)) as u32;
        for item in items {
            if x < item.2 {
                return item;
            }
            x -= item.2;
        }
        &items[0]
    }

    fn weighted4<'a>(
        rng: &mut SplitMix64,
        items: &'a [(Span, Span, f32, u32)],
    ) -> &'a (Span, Span, f32, u32) {
        let total: u32 = items.iter().map(|i| i.3).sum();
        let mut x = rng.below(u64::from(total)) as u32;
        for item in items {
            if x < item.3 {
                return item;
            }
            x -= item.3;
        }
        &items[0]
    }
}

mod load {
    //! Reading records (the NDJSON / JSON file format).

    use super::*;

    #[derive(Default)]
    pub(super) struct Loader {
        b: Builder,
        exports: HashMap<String, u32>,
        regulated: HashMap<String, u32>,
        packagings: HashMap<String, u32>,
    }

    struct Ctx {
        record: usize,
    }

    impl Ctx {
        fn err(&self, message: impl Into<String>) -> DatasetError {
            DatasetError::Invalid {
                record: self.record,
                message: message.into(),
            }
        }
    }

    fn obj<'a>(v: &'a Json, what: &str, ctx: &Ctx) -> Result<&'a Map<String, Json>, DatasetError> {
        v.as_object()
            .ok_or_else(|| ctx.err(format!("{what} must be an object")))
    }

    /// `Some(value)` unless missing or null.
    fn get<'a>(m: &'a Map<String, Json>, key: &str) -> Option<&'a Json> {
        m.get(key).filter(|v| !v.is_null())
    }

    fn string<'a>(
        m: &'a Map<String, Json>,
        key: &str,
        ctx: &Ctx,
    ) -> Result<Option<&'a str>, DatasetError> {
        match get(m, key) {
            None => Ok(None),
            Some(Json::String(s)) => Ok(Some(s)),
            Some(_) => Err(ctx.err(format!("`{key}` must be a string"))),
        }
    }

    fn int(m: &Map<String, Json>, key: &str, ctx: &Ctx) -> Result<Option<i64>, DatasetError> {
        match get(m, key) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| ctx.err(format!("`{key}` must be an integer"))),
        }
    }

    fn num(m: &Map<String, Json>, key: &str, ctx: &Ctx) -> Result<Option<f64>, DatasetError> {
        match get(m, key) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .map(Some)
                .ok_or_else(|| ctx.err(format!("`{key}` must be a number"))),
        }
    }

    fn boolean(m: &Map<String, Json>, key: &str, ctx: &Ctx) -> Result<Option<bool>, DatasetError> {
        match get(m, key) {
            None => Ok(None),
            Some(v) => v
                .as_bool()
                .map(Some)
                .ok_or_else(|| ctx.err(format!("`{key}` must be a boolean"))),
        }
    }

    fn ts(m: &Map<String, Json>, key: &str, ctx: &Ctx) -> Result<Option<i64>, DatasetError> {
        match string(m, key, ctx)? {
            None => Ok(None),
            Some(s) => time::parse(s)
                .map(Some)
                .ok_or_else(|| ctx.err(format!("`{key}` is not an RFC 3339 timestamp: {s:?}"))),
        }
    }

    fn ref_id(m: &Map<String, Json>, key: &str, ctx: &Ctx) -> Result<Option<u32>, DatasetError> {
        match get(m, key) {
            None => Ok(None),
            Some(v) => {
                let o = obj(v, key, ctx)?;
                let id =
                    int(o, "id", ctx)?.ok_or_else(|| ctx.err(format!("`{key}.id` is missing")))?;
                u32::try_from(id)
                    .map(Some)
                    .map_err(|_| ctx.err(format!("`{key}.id` must be in 0..=4294967295")))
            }
        }
    }

    impl Loader {
        pub(super) fn add(&mut self, v: &Json, record: usize) -> Result<(), DatasetError> {
            let ctx = Ctx { record };
            let level = obj(v, "a record", &ctx)?;
            let pv = level
                .get("product")
                .ok_or_else(|| ctx.err("`product` is missing"))?;
            let p = obj(pv, "`product`", &ctx)?;
            let id = int(p, "id", &ctx)?.ok_or_else(|| ctx.err("`product.id` is missing"))?;
            let id = u32::try_from(id)
                .ok()
                .filter(|&i| i > 0)
                .ok_or_else(|| ctx.err("`product.id` must be in 1..=4294967295"))?;
            let sku = string(p, "sku", &ctx)?.ok_or_else(|| ctx.err("`product.sku` is missing"))?;
            let b = &mut self.b;
            let sku = b.push(sku);
            let name = b.push(string(p, "name", &ctx)?.unwrap_or_default());
            let vendor_sku = b.opt_push(string(p, "vendor_sku", &ctx)?);
            let external_id = b.opt_push(string(p, "external_id", &ctx)?);
            let goods_type = b.intern(
                string(p, "goods_type", &ctx)?
                    .unwrap_or(GoodsType::KNOWN.first().copied().unwrap_or_default()),
            );
            let barcodes = match get(p, "barcodes") {
                None => List::NULL,
                Some(Json::Array(items)) => {
                    let mut spans = Vec::with_capacity(items.len());
                    for item in items {
                        let s = item
                            .as_str()
                            .ok_or_else(|| ctx.err("`barcodes` must hold strings"))?;
                        spans.push(b.push(s));
                    }
                    b.list(spans)
                }
                Some(_) => return Err(ctx.err("`barcodes` must be an array")),
            };
            let product_type = match string(p, "product_type", &ctx)? {
                None => 0,
                Some(t) => product_type_index(t.parse::<ProductType>().map_err(|_| {
                    ctx.err(format!(
                        "unknown product_type {t:?}; the spec lists {}",
                        ProductType::ALL
                            .iter()
                            .map(|t| t.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?),
            };
            let mut flags = 0u16;
            for (key, bit, default) in [
                ("is_enabled", flag::ENABLED, true),
                ("is_available", flag::AVAILABLE, true),
                ("is_visible", flag::VISIBLE, true),
            ] {
                if boolean(p, key, &ctx)?.unwrap_or(default) {
                    flags |= bit;
                }
            }
            let mut product = Product {
                id,
                merchant_id: ref_id(p, "merchant", &ctx)?.unwrap_or(0),
                warehouse_id: ref_id(level, "warehouse", &ctx)?.unwrap_or(1),
                lot_type_id: ref_id(p, "lot_type", &ctx)?.unwrap_or(0),
                sku,
                name,
                vendor_sku,
                external_id,
                goods_type,
                barcodes,
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
                flags,
                product_type,
                created_at: 0,
                updated_at: 0,
                level_updated_at: 0,
                qty: [0; 10],
            };
            if let Some(w) = get(p, "weight") {
                let w = obj(w, "`weight`", &ctx)?;
                product.flags |= flag::WEIGHT;
                product.weight = num(w, "value", &ctx)?.unwrap_or(0.0) as f32;
                product.weight_unit = self.b.opt_intern(string(w, "unit", &ctx)?);
            }
            if let Some(d) = get(p, "dimensions") {
                let d = obj(d, "`dimensions`", &ctx)?;
                product.flags |= flag::DIMENSIONS;
                for (i, k) in ["length", "width", "height"].iter().enumerate() {
                    product.dims[i] = num(d, k, &ctx)?.unwrap_or(0.0) as f32;
                }
                product.dims_unit = self.b.opt_intern(string(d, "unit", &ctx)?);
            }
            if let Some(vol) = get(p, "volume") {
                let vol = obj(vol, "`volume`", &ctx)?;
                product.flags |= flag::VOLUME;
                product.volume = num(vol, "value", &ctx)?.unwrap_or(0.0) as f32;
                product.volume_unit = self.b.opt_intern(string(vol, "unit", &ctx)?);
            }
            if let Some(inv) = get(p, "inventory") {
                let inv = obj(inv, "`inventory`", &ctx)?;
                product.flags |= flag::INVENTORY;
                if boolean(inv, "backorders", &ctx)?.unwrap_or(false) {
                    product.flags |= flag::BACKORDERS;
                }
                if boolean(inv, "dynamic_allocation", &ctx)?.unwrap_or(false) {
                    product.flags |= flag::DYNAMIC_ALLOCATION;
                }
                product.virtual_inventory =
                    self.b.opt_intern(string(inv, "virtual_inventory", &ctx)?);
            }
            if let Some(e) = get(p, "export") {
                product.export = self.export(e, &ctx)?;
            }
            if let Some(r) = get(p, "regulated_goods") {
                product.regulated = self.regulated(r, &ctx)?;
            }
            if let Some(pk) = get(p, "packaging") {
                product.packaging = self.packaging(pk, &ctx)?;
            }
            if let Some(cf) = get(p, "custom_fields") {
                product.custom_fields = self.custom_fields(cf, &ctx)?;
            }
            let level_updated = ts(level, "updated_at", &ctx)?;
            let created = ts(p, "created_at", &ctx)?;
            let updated = ts(p, "updated_at", &ctx)?;
            product.created_at = created.or(updated).or(level_updated).unwrap_or(0);
            product.updated_at = updated.unwrap_or(product.created_at);
            product.level_updated_at = level_updated.unwrap_or(product.updated_at);
            for (i, name) in QTY_NAMES.iter().enumerate() {
                let v = int(level, name, &ctx)?.unwrap_or(0);
                product.qty[i] = i32::try_from(v)
                    .map_err(|_| ctx.err(format!("`{name}` does not fit in 32 bits")))?;
            }
            self.b.data.products.push(product);
            Ok(())
        }

        fn export(&mut self, v: &Json, ctx: &Ctx) -> Result<u32, DatasetError> {
            let key = v.to_string();
            if let Some(i) = self.exports.get(&key) {
                return Ok(*i);
            }
            let e = obj(v, "`export`", ctx)?;
            let customs_value = match get(e, "customs_value") {
                None => None,
                Some(cv) => {
                    let cv = obj(cv, "`customs_value`", ctx)?;
                    Some((
                        num(cv, "amount", ctx)?.unwrap_or(0.0),
                        self.b.opt_intern(string(cv, "currency", ctx)?),
                    ))
                }
            };
            let hs_country_extension = match get(e, "hs_country_extension") {
                None => List::NULL,
                Some(Json::Array(items)) => {
                    let start = self.b.data.hs_ext.len();
                    for item in items {
                        let o = obj(item, "`hs_country_extension[]`", ctx)?;
                        let c = self.b.opt_intern(string(o, "country_id", ctx)?);
                        let x = self.b.opt_intern(string(o, "extension", ctx)?);
                        self.b.data.hs_ext.push((c, x));
                    }
                    List {
                        start: start as u32,
                        len: items.len() as u32,
                    }
                }
                Some(_) => return Err(ctx.err("`hs_country_extension` must be an array")),
            };
            let export = Export {
                description: self.b.opt_intern(string(e, "description", ctx)?),
                customs_value,
                country_of_manufacture: self.b.opt_intern(string(
                    e,
                    "country_of_manufacture",
                    ctx,
                )?),
                hs_base_code: self.b.opt_intern(string(e, "hs_base_code", ctx)?),
                hs_country_extension,
            };
            let i = self.b.data.exports.len() as u32;
            self.b.data.exports.push(export);
            self.exports.insert(key, i);
            Ok(i)
        }

        fn regulated(&mut self, v: &Json, ctx: &Ctx) -> Result<u32, DatasetError> {
            let key = v.to_string();
            if let Some(i) = self.regulated.get(&key) {
                return Ok(*i);
            }
            let r = obj(v, "`regulated_goods`", ctx)?;
            let net_weight = match get(r, "net_weight") {
                None => None,
                Some(w) => {
                    let w = obj(w, "`net_weight`", ctx)?;
                    Some((
                        num(w, "value", ctx)?.unwrap_or(0.0),
                        self.b.opt_intern(string(w, "unit", ctx)?),
                    ))
                }
            };
            let reg = Regulated {
                regulation_id: ref_id(r, "regulation", ctx)?,
                technical_name: self.b.opt_intern(string(r, "technical_name", ctx)?),
                additional_information: self.b.opt_intern(string(
                    r,
                    "additional_information",
                    ctx,
                )?),
                net_weight,
                container_type: self.b.opt_intern(string(r, "container_type", ctx)?),
                container_meets_hazmat_specs: boolean(r, "container_meets_hazmat_specs", ctx)?,
                regulation_units: int(r, "regulation_units", ctx)?,
            };
            let i = self.b.data.regulated.len() as u32;
            self.b.data.regulated.push(reg);
            self.regulated.insert(key, i);
            Ok(i)
        }

        fn packaging(&mut self, v: &Json, ctx: &Ctx) -> Result<u32, DatasetError> {
            let key = v.to_string();
            if let Some(i) = self.packagings.get(&key) {
                return Ok(*i);
            }
            let p = obj(v, "`packaging`", ctx)?;
            let mut flags = 0u8;
            for (k, bit) in [
                ("require_packaging", pack::REQUIRE_PACKAGING),
                ("require_weight_check", pack::REQUIRE_WEIGHT_CHECK),
                (
                    "require_confirmation_per_item",
                    pack::REQUIRE_CONFIRMATION_PER_ITEM,
                ),
                ("is_ship_separately", pack::IS_SHIP_SEPARATELY),
                ("can_tip", pack::CAN_TIP),
                ("can_contain_other_items", pack::CAN_CONTAIN_OTHER_ITEMS),
                ("is_handling_surcharge", pack::IS_HANDLING_SURCHARGE),
            ] {
                if boolean(p, k, ctx)?.unwrap_or(false) {
                    flags |= bit;
                }
            }
            let packaging = Packaging {
                flags,
                unit_quantity: int(p, "unit_quantity", ctx)?,
                bulk_quantity: int(p, "bulk_quantity", ctx)?,
                max_per_package: int(p, "max_per_package", ctx)?,
                ship_separately_tag: self.b.opt_intern(string(p, "ship_separately_tag", ctx)?),
            };
            let i = self.b.data.packagings.len() as u32;
            self.b.data.packagings.push(packaging);
            self.packagings.insert(key, i);
            Ok(i)
        }

        fn custom_fields(&mut self, v: &Json, ctx: &Ctx) -> Result<List, DatasetError> {
            let items = v
                .as_array()
                .ok_or_else(|| ctx.err("`custom_fields` must be an array"))?;
            let start = self.b.data.custom_fields.len();
            for item in items {
                let o = obj(item, "`custom_fields[]`", ctx)?;
                let code = string(o, "code", ctx)?
                    .ok_or_else(|| ctx.err("`custom_fields[].code` is missing"))?;
                let code = self.b.intern(code);
                let label = self.b.opt_intern(string(o, "label", ctx)?);
                let value = match o.get("value") {
                    None | Some(Json::Null) => CfValue::Null,
                    Some(Json::Bool(b)) => CfValue::Bool(*b),
                    Some(Json::Number(n)) => match n.as_i64() {
                        Some(i) => CfValue::Int(i),
                        None => CfValue::Float(n.as_f64().unwrap_or(0.0)),
                    },
                    Some(Json::String(s)) => CfValue::Str(self.b.intern(s)),
                    Some(other) => CfValue::Json(self.b.intern(&other.to_string())),
                };
                self.b
                    .data
                    .custom_fields
                    .push(CustomField { code, label, value });
            }
            Ok(List {
                start: start as u32,
                len: items.len() as u32,
            })
        }

        pub(super) fn finish(self) -> Result<Dataset, DatasetError> {
            let mut data = self.b.data;
            data.products.sort_by_key(|p| p.id);
            for (n, w) in data.products.windows(2).enumerate() {
                if w[0].id == w[1].id {
                    return Err(DatasetError::Invalid {
                        record: n + 2,
                        message: format!("duplicate product id {}", w[0].id),
                    });
                }
            }
            let mut skus = std::collections::HashSet::with_capacity(data.products.len());
            for p in &data.products {
                if !skus.insert(data.str(p.sku)) {
                    return Err(DatasetError::Invalid {
                        record: 0,
                        message: format!("duplicate sku {:?} (product {})", data.str(p.sku), p.id),
                    });
                }
            }
            data.products.shrink_to_fit();
            data.text.shrink_to_fit();
            Ok(Dataset {
                data: Arc::new(data),
            })
        }
    }
}

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
        let ok =
            r#"[{"product":{"id":2,"sku":"B"},"qty_on_hand":3},{"product":{"id":1,"sku":"A"}}]"#;
        let ds = Dataset::from_json_str(ok).unwrap();
        assert_eq!(ds.product_ids(), vec![1, 2]);
        assert_eq!(ds.record_json(2).unwrap()["qty_on_hand"], 3);
        assert!(ds.seed().is_none());
    }
}
