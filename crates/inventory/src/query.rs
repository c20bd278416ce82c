//! Typed query pieces: filter fields, sort keys, optional fields.

use std::{fmt, str::FromStr};

use chrono::{DateTime, SecondsFormat, Utc};
use shipstream_filter::{Condition, Filter, Value};

use crate::Error;

/// Optional fields of a level (`fields=`), exactly the values the spec lists.
pub use shipstream_inventory_generated::types::ListTotalInventoryLevelsFieldsItem as LevelField;
/// Product fields to include (`fields:product=`), exactly the values the spec lists.
pub use shipstream_inventory_generated::types::ListTotalInventoryLevelsFieldsProductItem as ProductField;

/// Every [`LevelField`] value as the wire spells it, in spec order.
pub const LEVEL_FIELD_NAMES: &[&str] = shipstream_inventory_generated::query_values::FIELDS;
/// Every [`ProductField`] value as the wire spells it, in spec order.
pub const PRODUCT_FIELD_NAMES: &[&str] =
    shipstream_inventory_generated::query_values::FIELDS_PRODUCT;

macro_rules! field_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $name(&'static str);

        impl $name {
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
field_type!(
    /// The product type field.
    ProductTypeField
);

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

/// The product types `product_type` can be filtered on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProductType {
    /// `normal`
    Normal,
    /// `packaging`
    Packaging,
    /// `containers`
    Containers,
    /// `supplies`
    Supplies,
    /// `infill`
    Infill,
}

impl ProductType {
    /// Every product type.
    pub const ALL: [ProductType; 5] = [
        Self::Normal,
        Self::Packaging,
        Self::Containers,
        Self::Supplies,
        Self::Infill,
    ];

    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Packaging => "packaging",
            Self::Containers => "containers",
            Self::Supplies => "supplies",
            Self::Infill => "infill",
        }
    }
}

impl ProductTypeField {
    /// Of type `t`.
    pub fn eq(self, t: ProductType) -> Filter {
        Filter::equals(self.0, t.as_str())
    }
    /// Not of type `t` (operator assumed from the older API).
    pub fn neq(self, t: ProductType) -> Filter {
        Filter::all(self.0, [Condition::neq(t.as_str())])
    }
    /// Of one of `types` (operator assumed from the older API).
    pub fn is_in(self, types: impl IntoIterator<Item = ProductType>) -> Filter {
        Filter::all(
            self.0,
            [Condition::is_in(types.into_iter().map(ProductType::as_str))],
        )
    }
}

/// Every filterable field of the endpoint, typed.
///
/// ```
/// use shipstream_inventory::fields;
/// assert_eq!(fields::QTY_AVAILABLE.lt(10).to_string(), "qty_available{lt:10}");
/// assert_eq!(fields::SKU.eq("ABC123").to_string(), "sku:ABC123");
/// assert_eq!(fields::IS_ENABLED.eq(false).to_string(), "is_enabled:false");
/// assert_eq!(
///     fields::PRODUCT_NAME.any([[shipstream_inventory::Condition::start("Box of")], [shipstream_inventory::Condition::end("CASE")]]).to_string(),
///     r#"product_name[{start:"Box of"},{end:"CASE"}]"#
/// );
/// ```
pub mod fields {
    use super::{BoolField, IntField, ProductTypeField, TextField, TimeField};

    /// Product entity id.
    pub const PRODUCT_ID: IntField = IntField("product_id");
    /// Product SKU.
    pub const SKU: TextField = TextField("sku");
    /// Product name.
    pub const PRODUCT_NAME: TextField = TextField("product_name");
    /// Product type (normal, packaging, containers, supplies, infill).
    pub const PRODUCT_TYPE: ProductTypeField = ProductTypeField("product_type");
    /// When the product was created.
    pub const PRODUCT_CREATED_AT: TimeField = TimeField("product_created_at");
    /// When the product was last updated.
    pub const PRODUCT_UPDATED_AT: TimeField = TimeField("product_updated_at");
    /// Merchant (website) id.
    pub const MERCHANT_ID: IntField = IntField("merchant_id");
    /// Vendor SKU.
    pub const VENDOR_SKU: TextField = TextField("vendor_sku");
    /// External product id.
    pub const EXTERNAL_ID: TextField = TextField("external_id");
    /// A product barcode.
    pub const BARCODE: TextField = TextField("barcode");
    /// Goods classification.
    pub const GOODS_TYPE: TextField = TextField("goods_type");
    /// Whether the product is enabled (the API assumes `true` unless filtered).
    pub const IS_ENABLED: BoolField = BoolField("is_enabled");
    /// Whether the product is available.
    pub const IS_AVAILABLE: BoolField = BoolField("is_available");
    /// Whether the product is visible.
    pub const IS_VISIBLE: BoolField = BoolField("is_visible");
    /// When the level last changed.
    pub const UPDATED_AT: TimeField = TimeField("updated_at");
    /// Allocated quantity.
    pub const QTY_ALLOCATED: IntField = IntField("qty_allocated");
    /// Backordered quantity.
    pub const QTY_BACKORDERED: IntField = IntField("qty_backordered");
    /// Reserved quantity.
    pub const QTY_RESERVED: IntField = IntField("qty_reserved");
    /// Picked quantity.
    pub const QTY_PICKED: IntField = IntField("qty_picked");
    /// Expected quantity.
    pub const QTY_EXPECTED: IntField = IntField("qty_expected");
    /// Processed quantity.
    pub const QTY_PROCESSED: IntField = IntField("qty_processed");
    /// Put-away quantity.
    pub const QTY_PUTAWAY: IntField = IntField("qty_putaway");
    /// Available quantity.
    pub const QTY_AVAILABLE: IntField = IntField("qty_available");
    /// On-hand quantity.
    pub const QTY_ON_HAND: IntField = IntField("qty_on_hand");
    /// Advertised quantity.
    pub const QTY_ADVERTISED: IntField = IntField("qty_advertised");

    /// The names of every field above, in the order of the reference page.
    pub const ALL: &[&str] = &[
        PRODUCT_ID.name(),
        SKU.name(),
        PRODUCT_NAME.name(),
        PRODUCT_TYPE.name(),
        PRODUCT_CREATED_AT.name(),
        PRODUCT_UPDATED_AT.name(),
        MERCHANT_ID.name(),
        VENDOR_SKU.name(),
        EXTERNAL_ID.name(),
        BARCODE.name(),
        GOODS_TYPE.name(),
        IS_ENABLED.name(),
        IS_AVAILABLE.name(),
        IS_VISIBLE.name(),
        UPDATED_AT.name(),
        QTY_ALLOCATED.name(),
        QTY_BACKORDERED.name(),
        QTY_RESERVED.name(),
        QTY_PICKED.name(),
        QTY_EXPECTED.name(),
        QTY_PROCESSED.name(),
        QTY_PUTAWAY.name(),
        QTY_AVAILABLE.name(),
        QTY_ON_HAND.name(),
        QTY_ADVERTISED.name(),
    ];
}

/// A sortable field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SortField {
    /// `product_id`: the stable order for complete exports.
    ProductId,
    /// `sku`
    Sku,
    /// `updated_at` (the API's default, descending).
    UpdatedAt,
}

impl SortField {
    /// Every sortable field.
    pub const ALL: [SortField; 3] = [Self::ProductId, Self::Sku, Self::UpdatedAt];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProductId => "product_id",
            Self::Sku => "sku",
            Self::UpdatedAt => "updated_at",
        }
    }
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
            let field = SortField::ALL
                .into_iter()
                .find(|f| f.as_str() == name)
                .ok_or_else(|| {
                    Error::invalid_request(format!(
                        "cannot sort by `{part}`: sortable fields are product_id, sku and \
                         updated_at, each optionally prefixed with - for descending"
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

const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn enc(s: &str) -> percent_encoding::PercentEncode<'_> {
    percent_encoding::utf8_percent_encode(s, UNRESERVED)
}

impl Query {
    /// The query string as the spec describes it: `filter` repeated, `fields` and
    /// `fields:product` comma-joined, values percent-encoded.
    pub(crate) fn encode(&self) -> String {
        let mut pairs: Vec<String> = Vec::new();
        for f in &self.filters {
            pairs.push(format!("filter={}", enc(&f.render())));
        }
        if let Some(sort) = &self.sort {
            pairs.push(format!("sort={}", enc(&sort.to_string())));
        }
        let join = |items: Vec<String>| -> String {
            items
                .iter()
                .map(|i| enc(i).to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        if !self.fields.is_empty() {
            pairs.push(format!(
                "fields={}",
                join(self.fields.iter().map(ToString::to_string).collect())
            ));
        }
        if !self.product_fields.is_empty() {
            pairs.push(format!(
                "fields:product={}",
                join(
                    self.product_fields
                        .iter()
                        .map(ToString::to_string)
                        .collect()
                )
            ));
        }
        if self.count {
            pairs.push("count=1".into());
        }
        if let Some(limit) = self.limit {
            pairs.push(format!("limit={limit}"));
        }
        pairs.join("&")
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
    fn queries_encode_like_the_spec_says() {
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
        assert_eq!(
            q.encode(),
            "filter=sku%3AA%20B%2CC&filter=qty_available%7Blt%3A10%7D\
             &filter=product_name%7Bstart%3A%22Box%20%5C%22of%5C%22%22%7D&sort=product_id\
             &fields=qty_on_hand,updated_at&fields:product=sku,name&count=1&limit=1000"
        );
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
            fields::PRODUCT_TYPE.is_in(ProductType::ALL),
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
