//! Typed query pieces: filter fields, sort keys, optional fields.
//!
//! Nothing here lists a fact about the API: the field handles, their kinds and docs, the
//! sort keys and the enumerations are generated from `openapi.yaml`
//! ([`shipstream_inventory_generated::api`]).

use std::{fmt, marker::PhantomData, str::FromStr};

use chrono::{DateTime, SecondsFormat, Utc};
use shipstream_filter::{Condition, Filter, Value};
use shipstream_inventory_generated::api::{self, Enumeration};

use crate::Error;

/// The product types `product_type` can be filtered on.
pub use shipstream_inventory_generated::api::ProductType;
/// A sortable field (the keys of the spec's `sort` pattern).
pub use shipstream_inventory_generated::api::SortField;
/// Optional fields of a level (`fields=`), exactly the values the spec lists.
pub use shipstream_inventory_generated::types::ListTotalInventoryLevelsFieldsItem as LevelField;
/// Product fields to include (`fields:product=`): the names the spec lists, and any other
/// as [`ProductField::Unknown`] (the API selects fields of packaging objects too, which the
/// spec cannot list), sent unchanged.
pub use shipstream_inventory_generated::types::ProductFieldName as ProductField;

/// Every [`LevelField`] value as the wire spells it, in spec order.
pub const LEVEL_FIELD_NAMES: &[&str] = api::params::FIELDS.values;
/// Every [`ProductField`] value the spec lists, as the wire spells it, in spec order (others
/// are allowed: see [`ProductField::Unknown`]).
pub const PRODUCT_FIELD_NAMES: &[&str] = api::params::FIELDS_PRODUCT.values;

macro_rules! field_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $name(&'static str);

        impl $name {
            /// The handle of the field named `name` (the constants in [`fields`] are the
            /// ones the spec lists).
            pub const fn new(name: &'static str) -> Self {
                Self(name)
            }

            /// The field's name on the wire.
            pub const fn name(self) -> &'static str {
                self.0
            }

            /// Matches when the field is null (`true`) or not null (`false`).
            pub fn is_null(self, null: bool) -> Filter {
                Filter::all(self.0, [Condition::null(null)])
            }

            /// Matches when any one of the groups of conditions holds (OR of ANDs):
            /// `field[{..},{..}]`.
            pub fn any<G, C>(self, groups: G) -> Filter
            where
                G: IntoIterator<Item = C>,
                C: IntoIterator<Item = Condition>,
            {
                Filter::any(self.0, groups)
            }
        }
    };
}

field_type!(
    /// An integer field: compare with `eq`, `gt`, `lt`, ... .
    IntField
);
field_type!(
    /// A text field: compare with `eq`, `starts_with`, `ends_with`, ... .
    TextField
);
field_type!(
    /// A boolean field.
    BoolField
);
field_type!(
    /// A timestamp field: compare with `gt`, `lt`, ... .
    TimeField
);

/// A field whose values are one of the closed set `T` (a generated enum such as
/// [`ProductType`]).
pub struct EnumField<T>(&'static str, PhantomData<fn() -> T>);

impl<T> Clone for EnumField<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for EnumField<T> {}
impl<T> fmt::Debug for EnumField<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EnumField").field(&self.0).finish()
    }
}
impl<T> PartialEq for EnumField<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<T> Eq for EnumField<T> {}

impl<T: Enumeration> EnumField<T> {
    /// The handle of the field named `name`.
    pub const fn new(name: &'static str) -> Self {
        Self(name, PhantomData)
    }
    /// The field's name on the wire.
    pub const fn name(self) -> &'static str {
        self.0
    }
    /// Equal to `v`.
    pub fn eq(self, v: T) -> Filter {
        Filter::equals(self.0, v.as_str())
    }
    /// Not equal to `v` (operator assumed from the older API).
    pub fn neq(self, v: T) -> Filter {
        Filter::all(self.0, [Condition::neq(v.as_str())])
    }
    /// One of `values` (operator assumed from the older API).
    pub fn is_in(self, values: impl IntoIterator<Item = T>) -> Filter {
        Filter::all(
            self.0,
            [Condition::is_in(values.into_iter().map(|v| v.as_str()))],
        )
    }
    /// Matches when the field is null (`true`) or not null (`false`).
    pub fn is_null(self, null: bool) -> Filter {
        Filter::all(self.0, [Condition::null(null)])
    }
}

impl IntField {
    /// Equal to `v` (`field:v`).
    pub fn eq(self, v: i64) -> Filter {
        Filter::equals(self.0, v)
    }
    /// Not equal to `v` (operator assumed from the older API).
    pub fn neq(self, v: i64) -> Filter {
        Filter::all(self.0, [Condition::neq(v)])
    }
    /// Greater than `v`.
    pub fn gt(self, v: i64) -> Filter {
        Filter::all(self.0, [Condition::gt(v)])
    }
    /// At least `v` (operator assumed from the older API).
    pub fn gteq(self, v: i64) -> Filter {
        Filter::all(self.0, [Condition::gteq(v)])
    }
    /// Less than `v`.
    pub fn lt(self, v: i64) -> Filter {
        Filter::all(self.0, [Condition::lt(v)])
    }
    /// At most `v` (operator assumed from the older API).
    pub fn lteq(self, v: i64) -> Filter {
        Filter::all(self.0, [Condition::lteq(v)])
    }
    /// Strictly between `low` and `high` (`field{gt:low,lt:high}`).
    pub fn between(self, low: i64, high: i64) -> Filter {
        Filter::all(self.0, [Condition::gt(low), Condition::lt(high)])
    }
    /// One of `values` (operator assumed from the older API).
    pub fn is_in(self, values: impl IntoIterator<Item = i64>) -> Filter {
        Filter::all(self.0, [Condition::is_in(values)])
    }
    /// None of `values` (operator assumed from the older API).
    pub fn not_in(self, values: impl IntoIterator<Item = i64>) -> Filter {
        Filter::all(self.0, [Condition::not_in(values)])
    }
}

impl TextField {
    /// Equal to `v`.
    pub fn eq(self, v: impl Into<String>) -> Filter {
        Filter::equals(self.0, v.into())
    }
    /// Not equal to `v` (operator assumed from the older API).
    pub fn neq(self, v: impl Into<String>) -> Filter {
        Filter::all(self.0, [Condition::neq(v.into())])
    }
    /// Starts with `prefix`.
    pub fn starts_with(self, prefix: impl Into<String>) -> Filter {
        Filter::all(self.0, [Condition::start(prefix.into())])
    }
    /// Ends with `suffix`.
    pub fn ends_with(self, suffix: impl Into<String>) -> Filter {
        Filter::all(self.0, [Condition::end(suffix.into())])
    }
    /// One of `values` (operator assumed from the older API).
    pub fn is_in<S: Into<String>>(self, values: impl IntoIterator<Item = S>) -> Filter {
        Filter::all(
            self.0,
            [Condition::is_in(values.into_iter().map(Into::into))],
        )
    }
    /// None of `values` (operator assumed from the older API).
    pub fn not_in<S: Into<String>>(self, values: impl IntoIterator<Item = S>) -> Filter {
        Filter::all(
            self.0,
            [Condition::not_in(values.into_iter().map(Into::into))],
        )
    }
}

impl BoolField {
    /// Equal to `v` (`field:true`).
    pub fn eq(self, v: bool) -> Filter {
        Filter::equals(self.0, v)
    }
}

fn ts(t: DateTime<Utc>) -> Value {
    Value::String(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

impl TimeField {
    /// At exactly `t`.
    pub fn eq(self, t: DateTime<Utc>) -> Filter {
        Filter::all(self.0, [Condition::eq(ts(t))])
    }
    /// After `t`.
    pub fn gt(self, t: DateTime<Utc>) -> Filter {
        Filter::all(self.0, [Condition::gt(ts(t))])
    }
    /// At or after `t` (operator assumed from the older API).
    pub fn gteq(self, t: DateTime<Utc>) -> Filter {
        Filter::all(self.0, [Condition::gteq(ts(t))])
    }
    /// Before `t`.
    pub fn lt(self, t: DateTime<Utc>) -> Filter {
        Filter::all(self.0, [Condition::lt(ts(t))])
    }
    /// At or before `t` (operator assumed from the older API).
    pub fn lteq(self, t: DateTime<Utc>) -> Filter {
        Filter::all(self.0, [Condition::lteq(ts(t))])
    }
    /// After `from` and before `to`.
    pub fn between(self, from: DateTime<Utc>, to: DateTime<Utc>) -> Filter {
        Filter::all(self.0, [Condition::gt(ts(from)), Condition::lt(ts(to))])
    }
}

/// Every filterable field of the endpoint, typed; one constant per entry of the spec's
/// `x-filterable-fields`, documented with the spec's description.
///
/// ```
/// use shipstream_inventory::{ProductType, fields};
/// assert_eq!(fields::QTY_AVAILABLE.lt(10).to_string(), "qty_available{lt:10}");
/// assert_eq!(fields::SKU.eq("ABC123").to_string(), "sku:ABC123");
/// assert_eq!(fields::IS_ENABLED.eq(false).to_string(), "is_enabled:false");
/// assert_eq!(fields::PRODUCT_TYPE.eq(ProductType::Packaging).to_string(), "product_type:packaging");
/// assert_eq!(
///     fields::PRODUCT_NAME.any([[shipstream_inventory::Condition::start("Box of")], [shipstream_inventory::Condition::end("CASE")]]).to_string(),
///     r#"product_name[{start:"Box of"},{end:"CASE"}]"#
/// );
/// ```
pub mod fields {
    #[allow(unused_imports)]
    use super::{BoolField, EnumField, IntField, TextField, TimeField};

    macro_rules! handle_type {
        (integer) => { IntField };
        (string) => { TextField };
        (boolean) => { BoolField };
        (timestamp) => { TimeField };
        (enumeration($t:ident)) => { EnumField<shipstream_inventory_generated::api::$t> };
    }

    macro_rules! define_handles {
        ($( ($konst:ident, $name:literal, $kind:ident $(($t:ident))?, $doc:literal $(, deprecated $note:literal)?) ),* $(,)?) => {
            $(
                #[doc = $doc]
                $(#[deprecated(note = $note)])?
                pub const $konst: handle_type!($kind $(($t))?) = <handle_type!($kind $(($t))?)>::new($name);
            )*
            /// The names of every field above, in the spec's order.
            pub const ALL: &[&str] = &[$($name),*];
        };
    }

    shipstream_inventory_generated::__filterable_fields!(define_handles);
}

/// A sort order: one or more keys, each ascending or descending.
///
/// ```
/// use shipstream_inventory::{Sort, SortField};
/// let sort = Sort::desc(SortField::UpdatedAt).then_asc(SortField::Sku);
/// assert_eq!(sort.to_string(), "-updated_at,sku");
/// assert_eq!("-updated_at,sku".parse::<Sort>().unwrap(), sort);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Sort(Vec<(SortField, bool)>);

impl Sort {
    /// Ascending by `field`.
    pub fn asc(field: SortField) -> Self {
        Self(vec![(field, false)])
    }
    /// Descending by `field`.
    pub fn desc(field: SortField) -> Self {
        Self(vec![(field, true)])
    }
    /// Then ascending by `field`.
    pub fn then_asc(mut self, field: SortField) -> Self {
        self.0.push((field, false));
        self
    }
    /// Then descending by `field`.
    pub fn then_desc(mut self, field: SortField) -> Self {
        self.0.push((field, true));
        self
    }
    /// The keys, each with `true` for descending.
    pub fn keys(&self) -> &[(SortField, bool)] {
        &self.0
    }
}

impl fmt::Display for Sort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (field, desc)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if *desc {
                f.write_str("-")?;
            }
            f.write_str(field.as_str())?;
        }
        Ok(())
    }
}

impl FromStr for Sort {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let mut keys = Vec::new();
        for part in s.split(',') {
            let part = part.trim();
            let (desc, name) = match part.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, part),
            };
            let field: SortField = name.parse().map_err(|_| {
                Error::invalid_request(format!(
                    "cannot sort by `{part}`: sortable fields are {}, each optionally \
                     prefixed with - for descending",
                    api::SORT_KEYS.join(", ")
                ))
            })?;
            if keys.iter().any(|(f, _)| *f == field) {
                return Err(Error::invalid_request(format!(
                    "sort key `{name}` appears twice in `{s}`"
                )));
            }
            keys.push((field, desc));
        }
        Ok(Self(keys))
    }
}

/// The query of a request, before encoding.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Query {
    pub(crate) filters: Vec<Filter>,
    pub(crate) sort: Option<Sort>,
    pub(crate) fields: Vec<LevelField>,
    pub(crate) product_fields: Vec<ProductField>,
    pub(crate) count: bool,
    pub(crate) limit: Option<u32>,
}

impl Query {
    /// The URL of the first page, built by the generated operation: parameter names,
    /// encoding (`filter` repeated, `fields` and `fields:product` comma-joined) and the
    /// spec's checks of each value (patterns, lengths) are progenitor's and the generated
    /// crate's, not this crate's. `preparer` is a generated client made with
    /// `Hooks::preparing`, so nothing is sent.
    pub(crate) fn prepare(
        &self,
        preparer: &shipstream_inventory_generated::Client,
    ) -> Result<url::Url, Error> {
        use futures::FutureExt as _;
        use shipstream_inventory_generated::types;

        let mut op = preparer.list_total_inventory_levels();
        if !self.filters.is_empty() {
            let items = self
                .filters
                .iter()
                .map(|f| types::ListTotalInventoryLevelsFilterItem::try_from(f.render()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| Error::invalid_request(format!("filter: {e}; nothing was sent")))?;
            op = op.filter(items);
        }
        if let Some(sort) = &self.sort {
            let sort =
                types::ListTotalInventoryLevelsSort::try_from(sort.to_string()).map_err(|e| {
                    Error::invalid_request(format!("sort `{sort}`: {e}; nothing was sent"))
                })?;
            op = op.sort(sort);
        }
        if !self.fields.is_empty() {
            op = op.fields(self.fields.clone());
        }
        if !self.product_fields.is_empty() {
            op = op.fields_product(self.product_fields.clone());
        }
        if self.count {
            op = op.count(1);
        }
        if let Some(limit) = self
            .limit
            .and_then(|l| std::num::NonZeroU64::new(u64::from(l)))
        {
            op = op.limit(limit);
        }
        let result = op.send().now_or_never().ok_or_else(|| {
            Error::invalid_request("the generated operation did not complete without I/O")
        })?;
        shipstream_inventory_generated::prepared(result)
            .map(|request| request.url)
            .map_err(|e| Error::invalid_request(format!("{e}; nothing was sent")))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_typed_fields_are_the_filter_catalogue() {
        let catalogue: Vec<&str> = shipstream_filter::fields::ALL
            .iter()
            .map(|f| f.name)
            .collect();
        let mut ours = fields::ALL.to_vec();
        let mut theirs = catalogue.clone();
        ours.sort_unstable();
        theirs.sort_unstable();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn queries_are_built_by_the_generated_operation() {
        let q = Query {
            filters: vec![
                fields::SKU.eq("A B,C"),
                fields::QTY_AVAILABLE.lt(10),
                fields::PRODUCT_NAME.starts_with("Box \"of\""),
            ],
            sort: Some(Sort::asc(SortField::ProductId)),
            fields: vec![LevelField::QtyOnHand, LevelField::UpdatedAt],
            product_fields: vec![ProductField::Sku, ProductField::Name],
            count: true,
            limit: Some(1000),
        };
        let preparer = shipstream_inventory_generated::Client::new(
            "https://acme.shipstream.app",
            shipstream_inventory_generated::Hooks::preparing(),
        );
        let url = q.prepare(&preparer).unwrap();
        assert_eq!(url.path(), api::PATH);
        // Read back the way a server reads a query string.
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let get = |k: &str| -> Vec<&str> {
            pairs
                .iter()
                .filter(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
                .collect()
        };
        assert_eq!(
            get("filter"),
            [
                "sku:A B,C",
                "qty_available{lt:10}",
                r#"product_name{start:"Box \"of\""}"#
            ]
        );
        assert_eq!(get("sort"), ["product_id"]);
        assert_eq!(get("fields"), ["qty_on_hand,updated_at"]);
        assert_eq!(get("fields:product"), ["sku,name"]);
        assert_eq!(get("count"), ["1"]);
        assert_eq!(get("limit"), ["1000"]);
        assert_eq!(pairs.len(), 8, "{url}");
    }

    #[test]
    fn every_typed_filter_validates_against_the_catalogue() {
        let t = DateTime::parse_from_rfc3339("2025-08-28T10:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let all = [
            fields::PRODUCT_ID.between(1, 9),
            fields::SKU.is_in(["a", "b"]),
            fields::PRODUCT_TYPE.eq(ProductType::Packaging),
            fields::PRODUCT_TYPE.is_in(ProductType::ALL.iter().copied()),
            fields::UPDATED_AT.gt(t),
            fields::PRODUCT_CREATED_AT.between(t, t),
            fields::IS_VISIBLE.eq(true),
            fields::BARCODE.ends_with("9"),
            fields::QTY_ON_HAND.is_null(false),
            fields::QTY_PICKED.not_in([1, 2]),
        ];
        for f in all {
            f.validate().unwrap();
            assert_eq!(Filter::parse(&f.render()).unwrap(), f);
        }
        assert_eq!(
            fields::UPDATED_AT.gt(t).to_string(),
            r#"updated_at{gt:"2025-08-28T10:30:00Z"}"#
        );
    }

    #[test]
    fn sorts_parse_and_refuse_unknown_keys() {
        assert_eq!("sku".parse::<Sort>().unwrap(), Sort::asc(SortField::Sku));
        assert!(
            "price"
                .parse::<Sort>()
                .unwrap_err()
                .to_string()
                .contains("sortable")
        );
        assert!("sku,-sku".parse::<Sort>().is_err());
    }
}
