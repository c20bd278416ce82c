//! A page of levels, the objects it includes, and its decoding (record by record when
//! needed, so one bad record never loses a page).

use std::{collections::HashMap, sync::Arc};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use shipstream_inventory_generated::types::{PageMeta, Product, TotalLevelsPage};

use crate::Level;

use crate::error::RecordError;

/// One level together with its product, when products were asked for
/// ([`product_fields`](crate::TotalLevelsRequest::product_fields)).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Item {
    /// The level as the API sent it.
    pub level: Level,
    /// The level's product from the page's `included` objects.
    pub product: Option<Arc<Product>>,
}

impl Item {
    /// An item made from its parts (for tests and fixtures; the streams make them from
    /// pages).
    pub fn new(level: Level, product: Option<Arc<Product>>) -> Item {
        Item { level, product }
    }

    /// The product id of the level, when the level carries its product stub.
    pub fn product_id(&self) -> Option<i64> {
        self.level.product.as_ref().map(|p| p.id)
    }

    /// The SKU from the level's product stub, or else from the included product.
    pub fn sku(&self) -> Option<&str> {
        self.level
            .product
            .as_ref()
            .and_then(|p| p.sku.as_deref())
            .or_else(|| self.product.as_ref().and_then(|p| p.sku.as_deref()))
    }
}

/// Objects a page references, keyed by `(type, id)`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Included {
    products: HashMap<i64, Arc<Product>>,
    other: HashMap<String, Vec<serde_json::Value>>,
}

/// An included object found by [`Included::get`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum IncludedRef<'a> {
    /// A product.
    Product(&'a Product),
    /// An object of a type this client does not model, as raw JSON.
    Other(&'a serde_json::Value),
}

impl Included {
    /// The product with this id.
    pub fn product(&self, id: i64) -> Option<&Arc<Product>> {
        self.products.get(&id)
    }

    /// Every included product, in no particular order.
    pub fn products(&self) -> impl Iterator<Item = &Arc<Product>> {
        self.products.values()
    }

    /// The object of type `type_` (for example `"Product"`) with this id.
    pub fn get(&self, type_: &str, id: i64) -> Option<IncludedRef<'_>> {
        if type_ == "Product" {
            return self.products.get(&id).map(|p| IncludedRef::Product(p));
        }
        self.other
            .get(type_)?
            .iter()
            .find(|v| v.get("id").and_then(serde_json::Value::as_i64) == Some(id))
            .map(IncludedRef::Other)
    }

    /// Types other than `Product` present on the page.
    pub fn other_types(&self) -> impl Iterator<Item = &str> {
        self.other.keys().map(String::as_str)
    }

    /// True when nothing is included.
    pub fn is_empty(&self) -> bool {
        self.products.is_empty() && self.other.is_empty()
    }
}

/// Where to continue an export: serialise it (serde) after a page and pass it to
/// [`Client::resume`](crate::Client::resume) to carry on with the following page.
///
/// It holds the URI of the next page as the server gave it (resolved and checked against
/// the client's origin again on resume) and how far the export got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CheckpointRepr")]
pub struct Checkpoint {
    /// Format version of this structure ([`CHECKPOINT_VERSION`]); deserialising another
    /// version fails with an error that says so.
    pub(crate) version: u32,
    /// The next page to fetch; `None` when the export is complete.
    pub(crate) next: Option<String>,
    /// Pages delivered so far.
    pub(crate) pages: u64,
    /// Levels delivered so far.
    pub(crate) items: u64,
    /// Why the export could not go on after this page although the server said more
    /// pages follow (no, a repeated, or an off-origin `next`); such a checkpoint is not
    /// done, and resuming from it fails with this reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) stopped: Option<String>,
    /// A parallel export's ranges still to deliver (format version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) parallel: Option<crate::parallel::Shards>,
}

/// The checkpoint format of a sequential export.
const CHECKPOINT_VERSION: u32 = 1;
/// The checkpoint format of a parallel export (it adds `parallel`; a release that reads
/// only version 1 refuses it rather than taking it for a finished export).
const PARALLEL_CHECKPOINT_VERSION: u32 = 2;

/// A checkpoint as serialised, before its version is checked.
#[derive(Deserialize)]
struct CheckpointRepr {
    version: u32,
    next: Option<String>,
    pages: u64,
    items: u64,
    #[serde(default)]
    stopped: Option<String>,
    #[serde(default)]
    parallel: Option<crate::parallel::Shards>,
}

impl TryFrom<CheckpointRepr> for Checkpoint {
    type Error = String;

    fn try_from(r: CheckpointRepr) -> Result<Self, String> {
        let known = match r.version {
            CHECKPOINT_VERSION => r.parallel.is_none(),
            PARALLEL_CHECKPOINT_VERSION => r.parallel.is_some(),
            _ => false,
        };
        if !known {
            return Err(format!(
                "checkpoint format version {} is not one this release of shipstream-inventory \
                 reads with these members (it reads version {CHECKPOINT_VERSION}, and \
                 {PARALLEL_CHECKPOINT_VERSION} for parallel exports); resume with the release \
                 that wrote it, or start the export again",
                r.version
            ));
        }
        Ok(Self {
            version: r.version,
            next: r.next,
            pages: r.pages,
            items: r.items,
            stopped: r.stopped,
            parallel: r.parallel,
        })
    }
}

impl Checkpoint {
    pub(crate) fn new(next: Option<String>, pages: u64, items: u64) -> Self {
        Self {
            version: CHECKPOINT_VERSION,
            next,
            pages,
            items,
            stopped: None,
            parallel: None,
        }
    }

    /// A checkpoint of a parallel export: the ranges still to deliver.
    pub(crate) fn parallel(shards: crate::parallel::Shards, pages: u64, items: u64) -> Self {
        Self {
            version: PARALLEL_CHECKPOINT_VERSION,
            parallel: Some(shards),
            ..Self::new(None, pages, items)
        }
    }

    /// A checkpoint after a page whose `next` could not be followed although more pages
    /// follow: not done, and resuming from it fails with `reason`.
    pub(crate) fn stopped(pages: u64, items: u64, reason: String) -> Self {
        Self {
            stopped: Some(reason),
            ..Self::new(None, pages, items)
        }
    }

    /// True when nothing is left to fetch: the server said no more pages follow. A
    /// checkpoint after a page whose `next` could not be followed is not done
    /// ([`Checkpoint::stopped_because`]).
    pub fn is_done(&self) -> bool {
        self.next.is_none()
            && self.stopped.is_none()
            && self
                .parallel
                .as_ref()
                .is_none_or(|p| p.ranges.is_empty() && !p.fresh)
    }

    /// True for the checkpoint of a parallel export
    /// ([`TotalLevelsRequest::parallel`](crate::TotalLevelsRequest::parallel)); resuming
    /// it runs in parallel again.
    pub fn is_parallel(&self) -> bool {
        self.parallel.is_some()
    }

    /// Why the export stopped after this page although the server said more pages
    /// follow (its `next` was missing, repeated a page, or pointed to another origin).
    pub fn stopped_because(&self) -> Option<&str> {
        self.stopped.as_deref()
    }

    /// Levels delivered before this checkpoint.
    pub fn items_delivered(&self) -> u64 {
        self.items
    }

    /// Pages delivered before this checkpoint.
    pub fn pages_delivered(&self) -> u64 {
        self.pages
    }

    /// The next page's URI, as the server gave it.
    pub fn next_uri(&self) -> Option<&str> {
        self.next.as_deref()
    }
}

/// One page of levels.
#[derive(Clone, Debug)]
pub struct Page {
    pub(crate) entries: Vec<Result<Level, RecordError>>,
    pub(crate) included: Included,
    pub(crate) included_errors: Vec<RecordError>,
    pub(crate) has_more: bool,
    pub(crate) next: Option<String>,
    pub(crate) previous: Option<String>,
    pub(crate) meta: Option<PageMeta>,
    pub(crate) number: u64,
    pub(crate) checkpoint: Checkpoint,
    pub(crate) server_date: Option<chrono::DateTime<chrono::Utc>>,
    /// The server time at which the listing's view of the key space was taken: the page's
    /// own `Date`, or for a parallel export the `Date` of its bounds requests (ids created
    /// after them are beyond its ranges).
    pub(crate) walk_date: Option<chrono::DateTime<chrono::Utc>>,
}

impl Page {
    /// The levels that decoded, in order.
    pub fn levels(&self) -> impl Iterator<Item = &Level> {
        self.entries.iter().filter_map(|e| e.as_ref().ok())
    }

    /// Every record in order: a level, or why it did not decode.
    pub fn records(&self) -> &[Result<Level, RecordError>] {
        &self.entries
    }

    /// Records of this page (levels and included objects) that did not decode.
    pub fn record_errors(&self) -> impl Iterator<Item = &RecordError> {
        self.entries
            .iter()
            .filter_map(|e| e.as_ref().err())
            .chain(self.included_errors.iter())
    }

    /// The number of records, decoded or not.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the page holds no records.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The level's product, when products were asked for.
    pub fn product_of(&self, level: &Level) -> Option<&Arc<Product>> {
        self.included.product(level.product.as_ref()?.id)
    }

    /// The included objects.
    pub fn included(&self) -> &Included {
        &self.included
    }

    /// True when the server says more pages lie the way this page was reached: another
    /// page follows when it was reached forward (the first page, or `next`), as every
    /// stream of this crate walks; more previous pages exist when it was reached through
    /// `previous`.
    pub fn has_more(&self) -> bool {
        self.has_more
    }

    /// The next page's URI as the server sent it.
    pub fn next_uri(&self) -> Option<&str> {
        self.next.as_deref()
    }

    /// The previous page's URI as the server sent it.
    pub fn previous_uri(&self) -> Option<&str> {
        self.previous.as_deref()
    }

    /// The page's `meta` object.
    pub fn meta(&self) -> Option<&PageMeta> {
        self.meta.as_ref()
    }

    /// The total number of matches, when asked for with
    /// [`count(true)`](crate::TotalLevelsRequest::count).
    pub fn count(&self) -> Option<i64> {
        self.meta.as_ref()?.count
    }

    /// 1 for the first page of a run, 2 for the next, ... (continuing across resumes).
    pub fn number(&self) -> u64 {
        self.number
    }

    /// Where to continue after this page.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The server's clock when it answered (its `Date` header, whole seconds), if it
    /// sent one.
    pub fn server_date(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.server_date
    }

    /// Decodes a page from the JSON the endpoint returns (for example a recorded response),
    /// exactly as a fetched page is decoded: unknown fields and enum values are kept or
    /// ignored, and a record that does not fit becomes a [`RecordError`] in
    /// [`records`](Self::records) without failing the page.
    ///
    /// ```
    /// let page = shipstream_inventory::Page::from_json(br#"{"collection":[
    ///     {"type":"TotalLevel","product":{"type":"Product","id":1},"qty_on_hand":5},
    ///     {"type":"TotalLevel","qty_on_hand":"five"}],"has_more":false}"#)?;
    /// assert_eq!(page.levels().count(), 1);
    /// assert_eq!(page.record_errors().count(), 1);
    /// # Ok::<(), shipstream_inventory::Error>(())
    /// ```
    pub fn from_json(body: &[u8]) -> Result<Page, crate::Error> {
        let decoded = decode(body).map_err(|e| {
            let error = || {
                crate::Error::new(
                    crate::error::ErrorKind::Decode,
                    "not a page of inventory levels",
                )
            };
            match e {
                DecodeError::Corrupt(e) => error().with_source(e),
                DecodeError::NotAPage(e) => error().with_source(e),
            }
        })?;
        let items = decoded.entries.iter().filter(|e| e.is_ok()).count() as u64;
        let next = decoded
            .next
            .clone()
            .filter(|n| decoded.has_more && !n.trim().is_empty());
        // `server_date` is None: decoding does not set it, the fetch does.
        Ok(decoded.into_page(1, Checkpoint::new(next, 1, items)))
    }

    /// The page's levels with their products, and its record errors, in order.
    pub fn items(&self) -> impl Iterator<Item = Result<Item, RecordError>> + '_ {
        self.entries
            .iter()
            .map(|e| match e {
                Ok(level) => Ok(Item {
                    product: self.product_of(level).cloned(),
                    level: level.clone(),
                }),
                Err(r) => Err(r.clone()),
            })
            .chain(self.included_errors.iter().cloned().map(Err))
    }

    /// Like [`items`](Self::items), consuming the page (no clone of the levels).
    pub fn into_items(self) -> impl Iterator<Item = Result<Item, RecordError>> {
        let included = self.included;
        self.entries
            .into_iter()
            .map(move |e| match e {
                Ok(level) => {
                    let product = level
                        .product
                        .as_ref()
                        .and_then(|p| included.product(p.id).cloned());
                    Ok(Item { level, product })
                }
                Err(r) => Err(r),
            })
            .chain(self.included_errors.into_iter().map(Err))
    }
}

/// A decoded body, before it becomes a [`Page`] ([`Decoded::into_page`]). Its fields are
/// the page's but its number and checkpoint, which only the pager knows: kept apart so
/// that no `Page` exists without them.
#[derive(Debug)]
pub(crate) struct Decoded {
    /// The response's `Date` header (set by the fetch, not by decoding).
    pub(crate) server_date: Option<chrono::DateTime<chrono::Utc>>,
    pub(crate) entries: Vec<Result<Level, RecordError>>,
    pub(crate) included: Included,
    pub(crate) included_errors: Vec<RecordError>,
    pub(crate) has_more: bool,
    pub(crate) next: Option<String>,
    pub(crate) previous: Option<String>,
    pub(crate) meta: Option<PageMeta>,
}

impl Decoded {
    /// The page this body is, as page `number` of its listing, with `checkpoint`.
    pub(crate) fn into_page(self, number: u64, checkpoint: Checkpoint) -> Page {
        Page {
            entries: self.entries,
            included: self.included,
            included_errors: self.included_errors,
            has_more: self.has_more,
            next: self.next,
            previous: self.previous,
            meta: self.meta,
            number,
            checkpoint,
            server_date: self.server_date,
            walk_date: self.server_date,
        }
    }
}

/// Why a body is not a page.
#[derive(Debug)]
pub(crate) enum DecodeError {
    /// Not JSON, or cut short: likely damaged in transit; worth a retry.
    Corrupt(serde_json::Error),
    /// JSON, but not a page envelope.
    NotAPage(EnvelopeError),
}

/// Why a JSON body is not a page envelope, and where.
#[derive(Debug)]
pub(crate) struct EnvelopeError {
    /// The member that does not fit (`has_more`, `meta.count`; `.` for the body itself).
    pub(crate) path: String,
    pub(crate) source: serde_json::Error,
}

impl std::fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path == "." {
            write!(f, "{}", self.source)
        } else {
            write!(f, "at `{}`: {}", self.path, self.source)
        }
    }
}

impl std::error::Error for EnvelopeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

#[derive(Deserialize)]
struct RawEnvelope<'a> {
    #[serde(borrow)]
    collection: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    included: Option<HashMap<String, Vec<&'a RawValue>>>,
    has_more: bool,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    previous: Option<String>,
    #[serde(default, borrow)]
    meta: Option<&'a RawValue>,
}

/// Decodes a page body. The common case is one pass into the generated types; when a
/// record does not fit, the page is decoded again record by record.
pub(crate) fn decode(body: &[u8]) -> Result<Decoded, DecodeError> {
    match serde_json::from_slice::<TotalLevelsPage>(body) {
        // Objects of other types than `Product` keep every member only as raw JSON (the
        // generated `IncludedObject` holds just `type` and `id`): the slow path keeps them.
        Ok(page) if page.included.as_ref().is_some_and(|i| !i.extra.is_empty()) => {
            decode_slowly(body)
        }
        Ok(page) => Ok(from_typed(page)),
        Err(e) if e.is_eof() => Err(DecodeError::Corrupt(e)),
        // serde_json reports values it cannot hold (a lone surrogate escape, a number
        // beyond f64, nesting beyond its recursion limit) as syntax errors, though they
        // may sit inside one record of well-formed JSON: the slow path tells a damaged
        // body (still a syntax error there) from one bad record.
        Err(_) => decode_slowly(body),
    }
}

fn from_typed(page: TotalLevelsPage) -> Decoded {
    let mut included = Included::default();
    if let Some(inc) = page.included {
        included.products = inc
            .product
            .into_iter()
            .map(|p| (p.id, Arc::new(p)))
            .collect();
        // `inc.extra` is empty here: `decode` sends pages with other types to the slow path.
    }
    Decoded {
        server_date: None,
        entries: page.collection.into_iter().map(Ok).collect(),
        included,
        included_errors: Vec::new(),
        has_more: page.has_more,
        next: page.next,
        previous: page.previous,
        meta: page.meta,
    }
}

fn decode_slowly(body: &[u8]) -> Result<Decoded, DecodeError> {
    let corrupt_or_not_a_page = |path: String, e: serde_json::Error| {
        if e.is_syntax() || e.is_eof() {
            DecodeError::Corrupt(e)
        } else {
            DecodeError::NotAPage(EnvelopeError { path, source: e })
        }
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let env: RawEnvelope<'_> = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| corrupt_or_not_a_page(e.path().to_string(), e.into_inner()))?;
    // As `serde_json::from_slice` does: nothing but whitespace may follow the body.
    de.end().map_err(|e| corrupt_or_not_a_page(".".into(), e))?;
    let record = |location: String, raw: &RawValue, e: serde_json::Error| RecordError {
        location,
        raw: raw.get().to_owned(),
        reason: e.to_string(),
    };
    let entries = env
        .collection
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            serde_json::from_str::<Level>(raw.get())
                .map_err(|e| record(format!("collection[{i}]"), raw, e))
        })
        .collect();
    let mut included = Included::default();
    let mut included_errors = Vec::new();
    for (type_, objects) in env.included.unwrap_or_default() {
        for (i, raw) in objects.iter().enumerate() {
            if type_ == "Product" {
                match serde_json::from_str::<Product>(raw.get()) {
                    Ok(p) => {
                        included.products.insert(p.id, Arc::new(p));
                    }
                    Err(e) => {
                        included_errors.push(record(format!("included.Product[{i}]"), raw, e))
                    }
                }
            } else {
                match serde_json::from_str::<serde_json::Value>(raw.get()) {
                    Ok(v) => included.other.entry(type_.clone()).or_default().push(v),
                    Err(e) => {
                        included_errors.push(record(format!("included.{type_}[{i}]"), raw, e))
                    }
                }
            }
        }
    }
    // A `meta` that does not fit is dropped rather than failing the page.
    let meta = env
        .meta
        .and_then(|raw| serde_json::from_str::<PageMeta>(raw.get()).ok());
    Ok(Decoded {
        server_date: None,
        entries,
        included,
        included_errors,
        has_more: env.has_more,
        next: env.next,
        previous: env.previous,
        meta,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_bad_record_does_not_lose_the_page() {
        let body = br#"{"collection":[
            {"type":"TotalLevel","product":{"type":"Product","id":1,"sku":"A"},"qty_on_hand":1},
            {"type":"TotalLevel","product":{"type":"Product","id":2},"qty_on_hand":"many"},
            {"type":"TotalLevel","product":{"type":"Product","id":3},"qty_on_hand":3}
        ],"included":{"Product":[{"type":"Product","id":1,"sku":"A"},{"type":"Product","id":"x"}]},
        "has_more":false,"next":null,"meta":{"count":"not a number"}}"#;
        let d = decode(body).unwrap();
        assert_eq!(d.entries.len(), 3);
        assert!(d.entries[0].is_ok() && d.entries[2].is_ok());
        let bad = d.entries[1].as_ref().unwrap_err();
        assert_eq!(bad.location, "collection[1]");
        assert!(bad.raw.contains("\"many\""));
        assert!(bad.reason.contains("invalid type"), "{}", bad.reason);
        assert_eq!(d.included_errors.len(), 1);
        assert_eq!(d.included_errors[0].location, "included.Product[1]");
        assert!(d.included.product(1).is_some());
        assert!(d.meta.is_none());
    }

    #[test]
    fn truncated_bodies_are_corrupt_and_wrong_shapes_are_not_pages() {
        assert!(matches!(
            decode(br#"{"collection":[{"type":"Tot"#),
            Err(DecodeError::Corrupt(_))
        ));
        assert!(matches!(decode(b"<html>"), Err(DecodeError::Corrupt(_))));
        assert!(matches!(
            decode(br#"{"collection":{}}"#),
            Err(DecodeError::NotAPage(_))
        ));
        assert!(matches!(
            decode(br#"{"collection":[]}"#),
            Err(DecodeError::NotAPage(_))
        ));
    }

    #[test]
    fn a_wrong_envelope_member_is_named() {
        let Err(DecodeError::NotAPage(e)) = decode(br#"{"collection":[],"has_more":"mollit"}"#)
        else {
            panic!("not refused as a page");
        };
        assert_eq!(e.path, "has_more");
        assert!(
            e.to_string().starts_with("at `has_more`: invalid type"),
            "{e}"
        );
        let err = Page::from_json(br#"{"collection":{"a":1},"has_more":false}"#).unwrap_err();
        let cause = std::error::Error::source(&err).map(ToString::to_string);
        assert!(
            cause
                .as_deref()
                .is_some_and(|c| c.contains("at `collection`: invalid type")),
            "{err}: {cause:?}"
        );
    }

    #[test]
    fn trailing_characters_after_the_body_are_corrupt() {
        let body =
            br#"{"collection":[{"type":"TotalLevel","qty_on_hand":"x"}],"has_more":false} x"#;
        assert!(matches!(decode(body), Err(DecodeError::Corrupt(_))));
    }

    #[test]
    fn a_checkpoint_of_another_format_version_is_refused_clearly() {
        let ok = serde_json::to_string(&Checkpoint::new(Some("/x?cursor_start=5".into()), 2, 10))
            .unwrap();
        let back: Checkpoint = serde_json::from_str(&ok).unwrap();
        assert_eq!(back.next.as_deref(), Some("/x?cursor_start=5"));
        let newer = ok.replace("\"version\":1", "\"version\":2");
        assert_ne!(newer, ok);
        let err = serde_json::from_str::<Checkpoint>(&newer)
            .unwrap_err()
            .to_string();
        assert!(err.contains("checkpoint format version 2"), "{err}");
        assert!(err.contains("start the export again"), "{err}");
    }
}
