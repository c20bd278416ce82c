//! Parsing and validating the query of `GET /api/global/v1/inventory/levels/total`.
//!
//! Length: about 610 lines of code; the rest of the file is its unit tests.

use std::cmp::Ordering;

use percent_encoding::percent_decode_str;
use serde_json::Value as Json;
use shipstream_filter::Filter;
use shipstream_inventory_generated::api;

use crate::dataset::{Data, Product, QTY_NAMES, flag};
use crate::render::{LevelFields, ProductFields};
use crate::{synth, time};

/// Largest `limit` (the spec's maximum).
pub(crate) const MAX_LIMIT: usize = match api::params::LIMIT.maximum {
    Some(m) => m as usize,
    None => usize::MAX,
};
/// Smallest `limit` (the spec's minimum).
pub(crate) const MIN_LIMIT: usize = match api::params::LIMIT.minimum {
    Some(m) => m as usize,
    None => 1,
};

/// `limit` when none is given (the spec's default).
pub(crate) fn default_limit() -> usize {
    api::params::LIMIT
        .default
        .and_then(|d| d.parse().ok())
        .unwrap_or(MAX_LIMIT)
}

/// `sort` when none is given (the spec's default; none means id order).
pub(crate) fn default_sort() -> &'static str {
    api::params::SORT.default.unwrap_or("product_id")
}

/// Decodes one `application/x-www-form-urlencoded` component (`+` is a space).
pub(crate) fn decode(s: &str) -> String {
    let plus = s.replace('+', " ");
    percent_decode_str(&plus).decode_utf8_lossy().into_owned()
}

/// The decoded `(key, value)` pairs of a raw query string, in order.
pub(crate) fn pairs(raw: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The raw query with the cursor parameters removed and `extra` (`key=value`, already
/// encoded) appended.
pub(crate) fn with_cursor(raw: &str, extra: &str) -> String {
    let mut out: Vec<&str> = raw
        .split('&')
        .filter(|seg| {
            if seg.is_empty() {
                return false;
            }
            let key = seg.split_once('=').map_or(*seg, |(k, _)| k);
            !matches!(decode(key).as_str(), "cursor_start" | "cursor_end")
        })
        .collect();
    out.push(extra);
    out.join("&")
}

/// The kind of a 400 detail (decides the error's `type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Broke the API description (types, ranges, enums): `openapi`.
    Schema,
    /// Broke the meaning of a parameter (filters, cursors): `application`.
    Meaning,
}

/// One problem with the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Detail {
    pub(crate) key: String,
    pub(crate) message: String,
    pub(crate) kind: Kind,
}

impl Detail {
    pub(crate) fn schema(key: &str, message: impl Into<String>) -> Self {
        Detail {
            key: key.into(),
            message: message.into(),
            kind: Kind::Schema,
        }
    }

    pub(crate) fn meaning(key: &str, message: impl Into<String>) -> Self {
        Detail {
            key: key.into(),
            message: message.into(),
            kind: Kind::Meaning,
        }
    }
}

/// The query pairs with every `sort` value cut to the first occurrence of each key
/// (`sku,-sku,product_id` becomes `sku,product_id`): how a server that accepts repeated
/// sort keys reads them ([`MockConfig::repeated_sort_keys`](crate::MockConfig)).
pub(crate) fn first_sort_keys(pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    pairs
        .into_iter()
        .map(|(k, v)| {
            if k != "sort" {
                return (k, v);
            }
            let mut seen: Vec<&str> = Vec::new();
            let mut kept: Vec<&str> = Vec::new();
            for part in v.split(',') {
                let name = part.strip_prefix('-').unwrap_or(part);
                if !seen.contains(&name) {
                    seen.push(name);
                    kept.push(part);
                }
            }
            let kept = kept.join(",");
            (k, kept)
        })
        .collect()
}

/// A field `filter=` or `sort=` can name, resolved once per request: one the dataset
/// models, a level or product property the mock makes values up for ([`synth`]), or a
/// field of the spec it knows nothing else about (values made up from its kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FilterField {
    ProductId,
    Sku,
    ProductName,
    ProductType,
    ProductCreatedAt,
    ProductUpdatedAt,
    MerchantId,
    VendorSku,
    ExternalId,
    Barcode,
    GoodsType,
    IsEnabled,
    IsAvailable,
    IsVisible,
    UpdatedAt,
    Qty(usize),
    /// A level property without a model.
    Level(&'static api::Property),
    /// A product property without a model.
    Product(&'static api::Property),
    /// A filterable field that is no property either.
    Other(&'static api::FilterableField),
}

impl FilterField {
    /// The field a (validated) filter names; `None` when the spec does not list it.
    pub(crate) fn from_name(name: &str) -> Option<FilterField> {
        let spec = api::filterable_field(name)?;
        Some(FilterField::resolve(name).unwrap_or(FilterField::Other(spec)))
    }

    /// The field a sort key names; `None` when the spec's `sort` pattern lacks it.
    pub(crate) fn sort_key(name: &str) -> Option<FilterField> {
        if !api::SORT_KEYS.contains(&name) {
            return None;
        }
        FilterField::resolve(name).or_else(|| api::filterable_field(name).map(FilterField::Other))
    }

    /// The modelled field called `name`, else the level or product property called so.
    fn resolve(name: &str) -> Option<FilterField> {
        use FilterField::*;
        Some(match name {
            "product_id" => ProductId,
            "sku" => Sku,
            "product_name" => ProductName,
            "product_type" => ProductType,
            "product_created_at" => ProductCreatedAt,
            "product_updated_at" => ProductUpdatedAt,
            "merchant_id" => MerchantId,
            "vendor_sku" => VendorSku,
            "external_id" => ExternalId,
            "barcode" => Barcode,
            "goods_type" => GoodsType,
            "is_enabled" => IsEnabled,
            "is_available" => IsAvailable,
            "is_visible" => IsVisible,
            "updated_at" => UpdatedAt,
            other => match QTY_NAMES.iter().position(|q| *q == other) {
                Some(i) => Qty(i),
                None => match api::level_property(other) {
                    Some(p) => Level(p),
                    None => Product(api::product_property(other)?),
                },
            },
        })
    }

    /// The canonical name (for cache keys).
    pub(crate) fn name(self) -> &'static str {
        use FilterField::*;
        match self {
            ProductId => "product_id",
            Sku => "sku",
            ProductName => "product_name",
            ProductType => "product_type",
            ProductCreatedAt => "product_created_at",
            ProductUpdatedAt => "product_updated_at",
            MerchantId => "merchant_id",
            VendorSku => "vendor_sku",
            ExternalId => "external_id",
            Barcode => "barcode",
            GoodsType => "goods_type",
            IsEnabled => "is_enabled",
            IsAvailable => "is_available",
            IsVisible => "is_visible",
            UpdatedAt => "updated_at",
            Qty(i) => QTY_NAMES.get(i).copied().unwrap_or("qty"),
            Level(p) | Product(p) => p.name,
            Other(f) => f.name,
        }
    }

    /// The record's value for this field, as the filter crate evaluates it.
    pub(crate) fn value(self, d: &Data, p: &Product) -> Json {
        use FilterField::*;
        let s = |span| {
            d.opt_str(span)
                .map_or(Json::Null, |t: &str| Json::String(t.to_owned()))
        };
        match self {
            ProductId => Json::from(p.id),
            Sku => s(p.sku),
            ProductName => s(p.name),
            ProductType => Json::from(crate::dataset::product_type_name(p.product_type)),
            ProductCreatedAt => Json::String(time::to_string(p.created_at)),
            ProductUpdatedAt => Json::String(time::to_string(p.updated_at)),
            MerchantId => {
                if p.merchant_id == 0 {
                    Json::Null
                } else {
                    Json::from(p.merchant_id)
                }
            }
            VendorSku => s(p.vendor_sku),
            ExternalId => s(p.external_id),
            Barcode => {
                if p.barcodes.is_null() {
                    Json::Null
                } else {
                    Json::Array(
                        d.spans
                            .get(p.barcodes.range())
                            .unwrap_or_default()
                            .iter()
                            .map(|b| Json::String(d.str(*b).to_owned()))
                            .collect(),
                    )
                }
            }
            GoodsType => s(p.goods_type),
            IsEnabled => Json::Bool(p.has(flag::ENABLED)),
            IsAvailable => Json::Bool(p.has(flag::AVAILABLE)),
            IsVisible => Json::Bool(p.has(flag::VISIBLE)),
            UpdatedAt => Json::String(time::to_string(p.level_updated_at)),
            Qty(i) => Json::from(p.qty.get(i).copied().unwrap_or(0)),
            Level(prop) | Product(prop) => synth::property(prop, p.id),
            Other(f) => synth::filter_field(f, p.id),
        }
    }
}

/// Orders values of one field: null first, then booleans, numbers, strings (byte order),
/// arrays and objects by their text.
fn cmp_json(a: &Json, b: &Json) -> Ordering {
    fn rank(v: &Json) -> u8 {
        match v {
            Json::Null => 0,
            Json::Bool(_) => 1,
            Json::Number(_) => 2,
            Json::String(_) => 3,
            Json::Array(_) => 4,
            Json::Object(_) => 5,
        }
    }
    match (a, b) {
        (Json::Bool(x), Json::Bool(y)) => x.cmp(y),
        (Json::Number(x), Json::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => x
                .as_f64()
                .unwrap_or(0.0)
                .total_cmp(&y.as_f64().unwrap_or(0.0)),
        },
        (Json::String(x), Json::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        _ if rank(a) != rank(b) => rank(a).cmp(&rank(b)),
        _ => a.to_string().cmp(&b.to_string()),
    }
}

/// A parsed `sort=`: keys with their direction (`true` = descending), normalised so that
/// nothing follows `product_id` (which is unique) and no key repeats.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SortSpec {
    pub(crate) keys: Vec<(FilterField, bool)>,
}

impl SortSpec {
    pub(crate) fn parse(text: &str) -> Result<SortSpec, String> {
        let mut keys: Vec<(FilterField, bool)> = Vec::new();
        let known = || api::SORT_KEYS.join(", ");
        if text.is_empty() {
            return Err(format!("must name at least one of {}", known()));
        }
        for part in text.split(',') {
            let (desc, name) = match part.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, part),
            };
            let Some(key) = FilterField::sort_key(name) else {
                return Err(format!(
                    "cannot sort by {part:?}: sortable fields are {}, comma-separated, each \
                     optionally prefixed with `-` for descending order",
                    known()
                ));
            };
            if keys.iter().any(|(k, _)| *k == key) {
                return Err(format!("{name} appears more than once"));
            }
            keys.push((key, desc));
        }
        if let Some(i) = keys.iter().position(|(k, _)| *k == FilterField::ProductId) {
            keys.truncate(i + 1);
        }
        Ok(SortSpec { keys })
    }

    /// A canonical text for cache keys.
    pub(crate) fn cache_key(&self) -> String {
        self.keys
            .iter()
            .map(|(k, desc)| {
                if *desc {
                    format!("-{}", k.name())
                } else {
                    k.name().to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `Some(descending)` when the first key is `product_id`.
    pub(crate) fn by_id(&self) -> Option<bool> {
        match self.keys.first() {
            Some((FilterField::ProductId, desc)) => Some(*desc),
            _ => None,
        }
    }

    /// Orders two products: the keys in turn, then ascending product id.
    pub(crate) fn compare(&self, d: &Data, a: &Product, b: &Product) -> Ordering {
        for (key, desc) in &self.keys {
            let o = match key {
                FilterField::ProductId => a.id.cmp(&b.id),
                FilterField::Sku => d.str(a.sku).as_bytes().cmp(d.str(b.sku).as_bytes()),
                FilterField::UpdatedAt => a.level_updated_at.cmp(&b.level_updated_at),
                FilterField::Qty(i) => a.qty.get(*i).cmp(&b.qty.get(*i)),
                other => cmp_json(&other.value(d, a), &other.value(d, b)),
            };
            let o = if *desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        a.id.cmp(&b.id)
    }
}

/// A validated list request.
#[derive(Clone, Debug)]
pub(crate) struct ListQuery {
    pub(crate) filters: Vec<(FilterField, Filter)>,
    /// The filters' canonical texts joined (a cache key for counts).
    pub(crate) filter_key: String,
    /// Whether the implicit `is_enabled:true` applies (no filter names `is_enabled`).
    pub(crate) enabled_only: bool,
    pub(crate) sort: SortSpec,
    /// The optional level fields asked for with `fields`.
    pub(crate) level_fields: LevelFields,
    pub(crate) product_fields: Option<ProductFields>,
    pub(crate) limit: usize,
    pub(crate) count: bool,
    pub(crate) cursor_start: Option<i64>,
    pub(crate) cursor_end: Option<i64>,
}

/// The items of a comma-separated list parameter (`fields`, `fields:product`; every
/// occurrence in turn). An empty value is the empty list; an empty item in a non-empty
/// list (`a,,b`, `a,`) or an item named twice is a 400, since the spec's items are enum
/// values and `uniqueItems: true`.
fn split_list(key: &str, values: &[&str], details: &mut Vec<Detail>) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    for value in values.iter().filter(|v| !v.is_empty()) {
        for item in value.split(',') {
            if item.is_empty() {
                details.push(Detail::schema(
                    key,
                    format!("{:?} has an empty item", clip(value)),
                ));
            } else if items.iter().any(|i| i == item) {
                details.push(Detail::schema(
                    key,
                    format!("{:?} is named more than once", clip(item)),
                ));
            } else {
                items.push(item.to_owned());
            }
        }
    }
    items
}

fn int_param(key: &str, value: &str, details: &mut Vec<Detail>) -> Option<i64> {
    match value.trim().parse::<i64>() {
        Ok(v) => Some(v),
        Err(_) => {
            details.push(Detail::schema(
                key,
                format!("must be an integer, got {:?}", clip(value)),
            ));
            None
        }
    }
}

/// Shortens echoed user input.
pub(crate) fn clip(s: &str) -> String {
    if s.chars().count() > 60 {
        let mut t: String = s.chars().take(60).collect();
        t.push_str("...");
        t
    } else {
        s.to_owned()
    }
}

impl ListQuery {
    /// Validates the decoded query pairs; every problem found is reported.
    pub(crate) fn from_pairs(pairs: &[(String, String)]) -> Result<ListQuery, Vec<Detail>> {
        let mut details = Vec::new();
        let all = |key: &str| -> Vec<&str> {
            pairs
                .iter()
                .filter(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
                .collect()
        };
        let last = |key: &str| -> Option<&str> {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let (filters, keys, enabled_only) = parse_filters(&all("filter"), &mut details);
        let sort = match SortSpec::parse(last("sort").unwrap_or(default_sort())) {
            Ok(s) => s,
            Err(m) => {
                details.push(Detail::schema("sort", m));
                SortSpec { keys: Vec::new() }
            }
        };
        let level_fields = parse_level_fields(&all("fields"), &mut details);
        let product_fields = parse_product_fields(&all("fields:product"), &mut details);
        let limit = parse_limit(last("limit"), &mut details);
        let count = parse_count(last("count"), &mut details);
        let cursor_start =
            last("cursor_start").and_then(|v| int_param("cursor_start", v, &mut details));
        let cursor_end = last("cursor_end").and_then(|v| int_param("cursor_end", v, &mut details));

        if details.is_empty() {
            Ok(ListQuery {
                filters,
                filter_key: keys.join("\u{1}"),
                enabled_only,
                sort,
                level_fields,
                product_fields,
                limit,
                count,
                cursor_start,
                cursor_end,
            })
        } else {
            Err(details)
        }
    }

    /// Whether product `p` passes every filter (and the implicit `is_enabled:true`).
    pub(crate) fn matches(&self, d: &Data, p: &Product) -> bool {
        if self.enabled_only && !p.has(flag::ENABLED) {
            return false;
        }
        self.filters
            .iter()
            .all(|(field, f)| f.matches(&field.value(d, p)))
    }
}

/// The `filter` values: each parsed, validated and bound to its field; with the cache key
/// parts and whether the default `is_enabled` rule still applies.
#[allow(clippy::type_complexity)]
fn parse_filters(
    texts: &[&str],
    details: &mut Vec<Detail>,
) -> (Vec<(FilterField, Filter)>, Vec<String>, bool) {
    let mut filters = Vec::new();
    let mut keys = Vec::new();
    let mut enabled_only = true;
    for &text in texts {
        match Filter::parse_validated(text) {
            Ok(f) => match FilterField::from_name(&f.field) {
                Some(field) => {
                    if field == FilterField::IsEnabled {
                        enabled_only = false;
                    }
                    keys.push(f.render());
                    filters.push((field, f));
                }
                None => details.push(Detail::meaning(
                    "filter",
                    format!("unknown filter field `{}` at column 1", clip(&f.field)),
                )),
            },
            Err(e) => details.push(Detail::meaning("filter", e.to_string())),
        }
    }
    (filters, keys, enabled_only)
}

/// The `fields` values.
fn parse_level_fields(values: &[&str], details: &mut Vec<Detail>) -> LevelFields {
    let mut level_fields = LevelFields::default();
    let level_values = api::params::FIELDS.values;
    for v in split_list("fields", values, details) {
        if !level_values.contains(&v.as_str()) {
            details.push(Detail::schema(
                "fields",
                format!(
                    "unknown field {:?}; expected a comma-separated list of {}",
                    clip(&v),
                    level_values.join(", ")
                ),
            ));
        } else if v == "all" {
            level_fields = LevelFields::all();
        } else if let Some(b) = LevelFields::bit(&v) {
            level_fields.0 |= b;
        }
    }
    level_fields
}

/// The `fields:product` values (`None` without the parameter).
fn parse_product_fields(values: &[&str], details: &mut Vec<Detail>) -> Option<ProductFields> {
    if values.is_empty() {
        None
    } else {
        let mut mask = 0u64;
        let param = api::params::FIELDS_PRODUCT;
        let allowed = param.values;
        for v in split_list("fields:product", values, details) {
            match v.as_str() {
                // An open list (the API selects fields of packaging objects too): a name
                // the spec does not list is accepted and selects nothing, since every
                // object this mock includes is a product.
                _ if !allowed.contains(&v.as_str()) && param.open => {}
                _ if !allowed.contains(&v.as_str()) => details.push(Detail::schema(
                    "fields:product",
                    format!(
                        "unknown product field {:?}; expected one of {}",
                        clip(&v),
                        allowed.join(", ")
                    ),
                )),
                "basic" => mask |= ProductFields::basic().0,
                "all" => mask |= ProductFields::all().0,
                other => mask |= ProductFields::bit(other).unwrap_or(0),
            }
        }
        Some(ProductFields(mask))
    }
}

/// The `limit` value, or the default.
fn parse_limit(value: Option<&str>, details: &mut Vec<Detail>) -> usize {
    match value {
        None => default_limit(),
        Some(v) => match int_param("limit", v, details) {
            Some(n) if (MIN_LIMIT as i64..=MAX_LIMIT as i64).contains(&n) => n as usize,
            Some(n) => {
                details.push(Detail::schema(
                    "limit",
                    format!("must be between {MIN_LIMIT} and {MAX_LIMIT}, got {n}"),
                ));
                default_limit()
            }
            None => default_limit(),
        },
    }
}

/// The `count` value (`0` or `1`).
fn parse_count(value: Option<&str>, details: &mut Vec<Detail>) -> bool {
    let count_param = &api::params::COUNT;
    match value {
        None => false,
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n)
                if v.trim() == n.to_string()
                    && count_param.minimum.is_none_or(|m| n >= m)
                    && count_param.maximum.is_none_or(|m| n <= m) =>
            {
                n > 0
            }
            _ => {
                details.push(Detail::schema(
                    "count",
                    format!(
                        "must be an integer from {} to {}, got {:?}",
                        count_param.minimum.unwrap_or(0),
                        count_param.maximum.unwrap_or(1),
                        clip(v)
                    ),
                ));
                false
            }
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn q(raw: &str) -> Result<ListQuery, Vec<Detail>> {
        ListQuery::from_pairs(&pairs(raw))
    }

    #[test]
    fn decoding() {
        assert_eq!(
            pairs("a=1&fields%3Aproduct=sku%2Cname&filter=x+y&&flag"),
            vec![
                ("a".into(), "1".into()),
                ("fields:product".into(), "sku,name".into()),
                ("filter".into(), "x y".into()),
                ("flag".into(), String::new()),
            ]
        );
        assert_eq!(
            with_cursor(
                "limit=5&cursor_start=9&cursor%5Fend=3&sort=sku",
                "cursor_start=12"
            ),
            "limit=5&sort=sku&cursor_start=12"
        );
        assert_eq!(with_cursor("", "cursor_end=1"), "cursor_end=1");
    }

    #[test]
    fn list_parameters_hold_unique_known_items() {
        assert!(
            q("fields=&fields:product=").is_ok(),
            "an empty value is the empty list"
        );
        assert!(q("fields=qty_on_hand&fields=warehouse&fields:product=id,sku").is_ok());
        for bad in [
            "fields=qty_on_hand,qty_on_hand",
            "fields=all&fields=all",
            "fields=qty_on_hand,",
            "fields=,all",
            "fields=%20all",
            "fields:product=sku,sku",
            "fields:product=sku,,name",
        ] {
            assert!(q(bad).is_err(), "{bad}");
        }
        // `fields:product` is an open list: the API selects fields of packaging objects
        // too, which the spec cannot name.
        assert!(q("fields:product=sku,packaging_type").is_ok());
    }

    #[test]
    fn sort_specs() {
        let s = SortSpec::parse("-updated_at,product_id,sku").unwrap();
        assert_eq!(s.cache_key(), "-updated_at,product_id");
        assert_eq!(SortSpec::parse("product_id").unwrap().by_id(), Some(false));
        assert_eq!(SortSpec::parse("-product_id").unwrap().by_id(), Some(true));
        assert!(SortSpec::parse("name").is_err());
        assert!(SortSpec::parse("sku,sku").is_err());
        assert!(SortSpec::parse("").is_err());
        assert!(SortSpec::parse("sku,").is_err());
    }

    #[test]
    fn defaults_and_errors() {
        let d = q("").unwrap();
        assert_eq!(d.limit, 100);
        assert!(
            d.enabled_only
                && !d.count
                && !d.level_fields.has("warehouse")
                && d.product_fields.is_none()
        );
        assert_eq!(d.sort.cache_key(), "-updated_at");
        let d =
            q("filter=is_enabled:false&fields=qty_on_hand,warehouse&fields:product=basic&count=1")
                .unwrap();
        assert!(!d.enabled_only && d.count && d.level_fields.has("warehouse"));
        assert_eq!(d.product_fields, Some(ProductFields::basic()));
        let e = q("limit=0&count=2&cursor_start=x&sort=name&fields=colour&fields%3Aproduct=sku,sku&filter=nope:1")
            .unwrap_err();
        let keys: Vec<_> = e.iter().map(|d| d.key.as_str()).collect();
        for k in [
            "limit",
            "count",
            "cursor_start",
            "sort",
            "fields",
            "fields:product",
            "filter",
        ] {
            assert!(keys.contains(&k), "{k} missing from {keys:?}");
        }
    }
}
