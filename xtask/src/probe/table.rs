//! The probe table: one entry per note id of the spec, with the note's requests and its
//! judge, or why no read-only request settles it. The list of probed notes
//! and the reasons for the others ([`untestable_reason`]) follow from it.

use serde_json::Value;

use super::{Judged, judges as j};
use crate::live::{Answer, LiveConfig, VERSION_HEADER};

/// The rows of the pages the probes read.
const PAGE: &str = "5";
/// The header the spec says comes with the 400 that refuses a version.
pub const VERSION_ERROR_HEADER: &str = "X-ShipStream-API-Version-Error";
/// A well-formed version in the future, which the vendor documents as refused with 400.
pub const FUTURE_VERSION: &str = "2999-12";

/// A request of a probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Ask {
    /// `GET` of the operation with this query, and this version header instead of the
    /// configured one when given.
    Get(Vec<(&'static str, String)>, Option<String>),
    /// `GET` of a link the instance gave.
    Follow(String),
}

/// What every probe may read besides the answers to its own requests.
pub(super) struct Ctx<'a> {
    /// The instance's root URL.
    pub(super) base: reqwest::Url,
    /// The first page ([`first`]), which every run fetches first.
    pub(super) first: Answer,
    /// The spec.
    pub(super) spec: &'a Value,
    /// The names of a level's quantities, from the spec.
    pub(super) quantities: Vec<String>,
    /// The configured API version.
    pub(super) version: Option<String>,
    /// Every page of levels (status 200) fetched so far: the scans at the end of
    /// [`NOTES`] read them all.
    pub(super) pages: Vec<Answer>,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(cfg: &LiveConfig, spec: &'a Value, first: Answer) -> anyhow::Result<Self> {
        Ok(Self {
            base: cfg.url("/")?,
            pages: vec![first.clone()],
            first,
            spec,
            quantities: j::quantity_names(spec),
            version: cfg.api_version.clone(),
        })
    }
}

/// A note's requests, or why none can be formed (the note is then not testable).
type Asks = fn(&Ctx<'_>) -> Result<Vec<Ask>, String>;
/// A note's judge: the context and the answers to its requests, in order.
type Judge = fn(&Ctx<'_>, &[Answer]) -> Judged;

/// How a note is settled.
pub(super) enum How {
    /// Its requests and its judge.
    Probe(Asks, Judge),
    /// Why no read-only request settles it.
    Untestable(&'static str),
}

fn get(query: &[(&'static str, &str)]) -> Ask {
    let query = query.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    Ask::Get(query, None)
}

/// `limit` levels by product id, with `key=value`.
fn by_id(limit: &str, key: &'static str, value: &str) -> Ask {
    get(&[("sort", "product_id"), ("limit", limit), (key, value)])
}

/// The first page: by product id, with its count.
pub(super) fn first() -> Ask {
    by_id(PAGE, "count", "1")
}

/// The first page alone (already fetched).
fn on_first(_: &Ctx<'_>) -> Result<Vec<Ask>, String> {
    Ok(vec![first()])
}

/// Nothing of its own: a scan of every page fetched before it.
fn scan(_: &Ctx<'_>) -> Result<Vec<Ask>, String> {
    Ok(Vec::new())
}

/// The first page, and its `next` followed when its form is right.
fn next(c: &Ctx<'_>) -> Result<Vec<Ask>, String> {
    Ok(match j::next_form(&c.base, &c.first) {
        Ok((uri, _)) => vec![first(), Ask::Follow(uri)],
        Err(_) => vec![first()],
    })
}

/// The last page of a query: the first level alone.
fn last(c: &Ctx<'_>) -> Result<Vec<Ask>, String> {
    let id = j::ids(&c.first).into_iter().next();
    let id = id.ok_or("no last page to look at: the instance lists no levels")?;
    Ok(vec![by_id(PAGE, "filter", &format!("product_id:{id}"))])
}

/// The levels updated after the first page's first.
fn later(c: &Ctx<'_>) -> Result<Vec<Ask>, String> {
    let t = j::first_updated_at(c).ok_or("the first page has no level with `updated_at`")?;
    let filter = format!("updated_at{{gt:{t:?}}}");
    Ok(vec![get(&[
        ("sort", "updated_at"),
        ("limit", PAGE),
        ("filter", &filter),
    ])])
}

fn operators(c: &Ctx<'_>, id: &str) -> Result<Vec<Ask>, String> {
    let cases = j::operator_cases(c, id)?;
    Ok(cases
        .iter()
        .map(|(_, f, _)| by_id(PAGE, "filter", f))
        .collect())
}

/// `limit` beyond its documented maximum.
fn over_limit(_: &Ctx<'_>) -> Result<Vec<Ask>, String> {
    Ok(vec![get(&[("limit", "1001")])])
}

/// The first level with its warehouse.
fn warehouse(_: &Ctx<'_>) -> Result<Vec<Ask>, String> {
    Ok(vec![by_id("1", "fields", "warehouse")])
}

/// The first page with its products' basic fields.
fn basic(_: &Ctx<'_>) -> Result<Vec<Ask>, String> {
    Ok(vec![by_id(PAGE, "fields:product", "basic")])
}

/// The first page with every field of its products.
fn all_products(_: &Ctx<'_>) -> Result<Vec<Ask>, String> {
    Ok(vec![by_id(PAGE, "fields:product", "all")])
}

/// Why notes are not testable.
const LIMITS: &str = "needs the rate or concurrency limit reached: more requests, or more at \
     once, than a polite probe of at most 60 sequential requests sends";
const MAY_BE_NULL: &str = "says a value may be null or missing: answers can show that it is, \
     never that it cannot be";
const NOT_OFFERED: &str = "a decision not to offer an operator: whether the server knows it \
     does not make the client wrong";
const TOKEN: &str = "needs a token without the permission; the probe has a working one";
const NO_404: &str = "says the docs list no 404; no request settles what the docs list";
const CHANGES: &str = "needs a level changed while the probe watches; read-only requests \
     change nothing";
const UNIT: &str = "a unit cannot be read off a number";
const NAMES: &str = "needs a field name of a packaging object to ask for, and the vendor \
     documents none";
const KINDS: &str = "would need a filter on each of the 26 filterable fields; not probed";
const ORIGIN: &str = "says where the names come from; each operator is probed under \
     operators-neq-in-nin and operators-gteq-lteq";
const UNKNOWN: &str = "states that the behaviour is unknown and what the mock does, not a \
     claim on the API";
const KNOWN: &str = "lists known values of an open enum: an answer may show another value, \
     which the client reads anyway, never that a listed one is not used";
const CLIENT: &str = "a rule the client keeps (each name once, no empty filter): the \
     server's answer to what the client never sends cannot make the client wrong";
const RETIRED: &str = "needs a version the server has retired, and no page names one";
const SERVER_ERROR: &str = "needs a 5xx answer, which a polite probe cannot cause";
const CURSOR: &str = "what a cursor counts from (the page's last id or the next one) is not \
     documented, so no answer's numbers can show it is not a product id";
const OPEN: &str = "the type stays open and either value is read: no answer can contradict \
     the note";

/// Every note id of the spec and how it is settled. The scans come last: they read every
/// page the probes before them fetched.
pub(super) const NOTES: &[(&str, How)] = &[
    ("next-link-form", How::Probe(next, j::next_link_form)),
    (
        "no-previous-page-spelling",
        How::Probe(on_first, |c, _| j::at(&c.first, "/previous", j::no_link)),
    ),
    (
        "count-int64",
        How::Probe(on_first, |c, _| {
            j::at(&c.first, "/meta/count", j::int64_if_any)
        }),
    ),
    (
        "level-default-fields",
        How::Probe(on_first, j::default_fields),
    ),
    (
        "no-next-page-spelling",
        How::Probe(last, |_, a| j::on(a, "/next", j::no_link)),
    ),
    (
        "meta-cursor-start-null-at-end",
        How::Probe(last, |_, a| j::on(a, "/meta/cursor_start", j::null)),
    ),
    (
        "meta-cursor-end-null-at-end",
        How::Probe(last, |_, a| j::on(a, "/meta/cursor_end", j::null)),
    ),
    (
        "timestamp-compared-as-string",
        How::Probe(later, j::timestamp_filter),
    ),
    (
        "sort-key-once",
        How::Probe(
            |_| Ok(vec![get(&[("sort", "sku,sku"), ("limit", "1")])]),
            j::sort_key_once,
        ),
    ),
    (
        "operators-neq-in-nin",
        How::Probe(
            |c| operators(c, "operators-neq-in-nin"),
            |c, a| j::operators(c, a, "operators-neq-in-nin"),
        ),
    ),
    (
        "operators-gteq-lteq",
        How::Probe(
            |c| operators(c, "operators-gteq-lteq"),
            |c, a| j::operators(c, a, "operators-gteq-lteq"),
        ),
    ),
    (
        "refused-parameter-400",
        How::Probe(over_limit, j::refused_parameter),
    ),
    (
        "version-echo-on-error",
        How::Probe(over_limit, |_, a| {
            j::header_on(a, |s| s / 100 == 4, VERSION_HEADER)
        }),
    ),
    (
        "version-error-header",
        How::Probe(
            |_| {
                Ok(vec![Ask::Get(
                    vec![("limit", "1".into())],
                    Some(FUTURE_VERSION.into()),
                )])
            },
            |_, a| j::header_on(a, |s| s == 400, VERSION_ERROR_HEADER),
        ),
    ),
    (
        "version-header-wins",
        How::Probe(
            |c| {
                let v = j::served_version(c).ok_or("the first page named no version")?;
                let query = vec![("limit", "1".into()), ("version", FUTURE_VERSION.into())];
                Ok(vec![Ask::Get(query, Some(v))])
            },
            j::version_header_wins,
        ),
    ),
    (
        "warehouse-field-stub",
        How::Probe(warehouse, |_, a| {
            j::on(a, "/collection/0/warehouse", j::stub)
        }),
    ),
    (
        "object-ref-id-int64",
        How::Probe(warehouse, |_, a| {
            j::on(a, "/collection/0/warehouse/id", j::int64_if_any)
        }),
    ),
    (
        "product-type-id-always",
        How::Probe(
            |_| Ok(vec![by_id(PAGE, "fields:product", "sku")]),
            j::included_type_id,
        ),
    ),
    ("product-basic-fields", How::Probe(basic, j::basic_fields)),
    (
        "product-basic-fields-param",
        How::Probe(basic, j::basic_fields),
    ),
    (
        "included-object-type-id",
        How::Probe(basic, j::included_type_id),
    ),
    ("product-id-int64", How::Probe(basic, j::product_id_int64)),
    ("has-more-always", How::Probe(scan, j::has_more)),
    ("quantities-never-null", How::Probe(scan, j::quantities)),
    (
        "updated-at-whole-seconds",
        How::Probe(scan, j::whole_seconds),
    ),
    ("product-ref-id-int64", How::Probe(scan, j::product_ref_ids)),
    (
        "cursor-start-int64",
        How::Probe(scan, |c, _| j::cursor(c, "cursor_start", "next")),
    ),
    (
        "cursor-end-int64",
        How::Probe(scan, |c, _| j::cursor(c, "cursor_end", "previous")),
    ),
    (
        "product-members-never-null",
        How::Probe(all_products, |c, a| {
            j::never_null(
                c,
                a,
                "",
                &[
                    "sku",
                    "name",
                    "goods_type",
                    "is_enabled",
                    "is_available",
                    "is_visible",
                    "created_at",
                    "updated_at",
                ],
            )
        }),
    ),
    (
        "weight-members-never-null",
        How::Probe(all_products, |c, a| {
            j::never_null(c, a, "/weight", &["value", "unit"])
        }),
    ),
    (
        "dimensions-members-never-null",
        How::Probe(all_products, |c, a| {
            j::never_null(c, a, "/dimensions", &["length", "width", "height", "unit"])
        }),
    ),
    (
        "volume-members-never-null",
        How::Probe(all_products, |c, a| {
            j::never_null(c, a, "/volume", &["value", "unit"])
        }),
    ),
    (
        "money-members-never-null",
        How::Probe(all_products, |c, a| {
            j::never_null(c, a, "/export/customs_value", &["amount", "currency"])
        }),
    ),
    (
        "hs-extension-members-never-null",
        How::Probe(all_products, |c, a| {
            j::never_null(
                c,
                a,
                "/export/hs_country_extension/*",
                &["country_id", "extension"],
            )
        }),
    ),
    (
        "inventory-members-never-null",
        How::Probe(all_products, |c, a| {
            j::never_null(
                c,
                a,
                "/inventory",
                &["backorders", "dynamic_allocation", "virtual_inventory"],
            )
        }),
    ),
    (
        "packaging-flags-never-null",
        How::Probe(all_products, |c, a| {
            j::never_null(
                c,
                a,
                "/packaging",
                &[
                    "require_packaging",
                    "require_weight_check",
                    "require_confirmation_per_item",
                    "is_ship_separately",
                    "can_tip",
                    "can_contain_other_items",
                    "is_handling_surcharge",
                ],
            )
        }),
    ),
    ("product-stub-sku", How::Probe(scan, j::product_stub_sku)),
    ("page-members-never-null", How::Probe(scan, j::page_members)),
    (
        "previous-link-form",
        How::Probe(scan, j::previous_link_form),
    ),
    ("meta-cursors-int64", How::Probe(scan, j::meta_cursors)),
    ("ratelimit-limit-header", How::Untestable(LIMITS)),
    ("ratelimit-remaining-header", How::Untestable(LIMITS)),
    ("concurrency-limit-header", How::Untestable(LIMITS)),
    ("concurrency-current-header", How::Untestable(LIMITS)),
    ("rate-limit-figures", How::Untestable(LIMITS)),
    ("status-409-merchant", How::Untestable(LIMITS)),
    ("status-429-merchant", How::Untestable(LIMITS)),
    ("retry-after-form", How::Untestable(LIMITS)),
    ("retry-after-on-429", How::Untestable(LIMITS)),
    ("server-errors-transient", How::Untestable(SERVER_ERROR)),
    ("retired-version-400", How::Untestable(RETIRED)),
    ("cursor-is-product-id", How::Untestable(CURSOR)),
    ("fields-names-once", How::Untestable(CLIENT)),
    ("product-fields-names-once", How::Untestable(CLIENT)),
    ("filter-not-empty", How::Untestable(CLIENT)),
    ("object-types-assumed", How::Untestable(KNOWN)),
    ("weight-units", How::Untestable(KNOWN)),
    ("length-units", How::Untestable(KNOWN)),
    ("volume-units", How::Untestable(KNOWN)),
    ("status-403", How::Untestable(TOKEN)),
    ("status-404", How::Untestable(NO_404)),
    ("date-header-clock", How::Untestable(CHANGES)),
    ("processing-time-seconds", How::Untestable(UNIT)),
    ("product-field-names-open", How::Untestable(NAMES)),
    ("filter-field-kinds", How::Untestable(KINDS)),
    ("assumed-operators-origin", How::Untestable(ORIGIN)),
    ("no-operator-notnull", How::Untestable(NOT_OFFERED)),
    ("no-operators-from-to", How::Untestable(NOT_OFFERED)),
    ("no-operator-starts", How::Untestable(NOT_OFFERED)),
    ("cursor-under-other-sort", How::Untestable(UNKNOWN)),
    ("error-type-openapi", How::Untestable(OPEN)),
    ("weight-nullable", How::Untestable(MAY_BE_NULL)),
    ("dimensions-nullable", How::Untestable(MAY_BE_NULL)),
    ("volume-nullable", How::Untestable(MAY_BE_NULL)),
    ("inventory-nullable", How::Untestable(MAY_BE_NULL)),
    ("export-nullable", How::Untestable(MAY_BE_NULL)),
    ("money-nullable", How::Untestable(MAY_BE_NULL)),
    ("regulated-goods-nullable", How::Untestable(MAY_BE_NULL)),
    ("packaging-nullable", How::Untestable(MAY_BE_NULL)),
    ("object-ref-nullable", How::Untestable(MAY_BE_NULL)),
    ("product-members-nullable", How::Untestable(MAY_BE_NULL)),
    ("custom-field-code-label", How::Untestable(MAY_BE_NULL)),
];

/// Why note `id` is not testable ([`NO_PROBE_YET`] for a note the table does not know,
/// e.g. a new one, or a probed one).
pub fn untestable_reason(id: &str) -> &'static str {
    NOTES
        .iter()
        .find_map(|(n, how)| match how {
            How::Untestable(why) if *n == id => Some(*why),
            _ => None,
        })
        .unwrap_or(NO_PROBE_YET)
}

/// The reason given for a note the table does not know.
pub const NO_PROBE_YET: &str = "no probe for this note yet: add an entry to \
     xtask/src/probe/table.rs (NOTES), its requests and judge if read-only GET requests can \
     settle it, else the reason it cannot";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeSet;

    use super::*;
    use crate::{check, live::VERSION_HEADER, spec};

    #[test]
    fn every_note_of_the_spec_has_one_entry_and_every_entry_is_a_note() {
        let text = include_str!("../../../openapi.yaml");
        let notes: Vec<String> = check::assumed_notes_of(text)
            .unwrap()
            .into_iter()
            .map(|n| n.id)
            .collect();
        let table: Vec<&str> = NOTES.iter().map(|(id, _)| *id).collect();
        let (notes_set, table_set): (BTreeSet<&str>, BTreeSet<&str>) = (
            notes.iter().map(String::as_str).collect(),
            table.iter().copied().collect(),
        );
        assert_eq!(table.len(), table_set.len(), "an id twice in the table");
        assert_eq!(notes_set, table_set);
        assert_eq!(untestable_reason("a-note-added-later"), NO_PROBE_YET);
        assert_eq!(
            untestable_reason("status-404"),
            "says the docs list no 404; no request settles what the docs list"
        );
    }

    #[test]
    fn the_headers_and_quantities_are_the_specs() {
        let text = include_str!("../../../openapi.yaml");
        let spec = spec::parse(text).unwrap();
        for header in [VERSION_ERROR_HEADER, VERSION_HEADER] {
            let at = format!("/components/responses/BadRequest/headers/{header}");
            assert!(spec.pointer(&at).is_some(), "{header}");
        }
        // The quantities are the level's integer properties, as codegen reads them.
        let facts = shipstream_inventory_codegen::facts::Facts::from_yaml(text).unwrap();
        let mut integers: Vec<String> = facts
            .level_properties
            .iter()
            .filter(|p| p.ty == shipstream_inventory_codegen::facts::JsonType::Integer)
            .map(|p| p.name.clone())
            .collect();
        let mut names = j::quantity_names(&spec);
        names.sort();
        integers.sort();
        assert_eq!(names, integers);
        assert!(names.contains(&"qty_on_hand".to_owned()));
    }
}
