//! The filterable and sortable fields of `GET /api/global/v1/inventory/levels/total`
//! ("List total inventory levels").
//!
//! ```
//! use shipstream_filter::fields::{self, FieldKind};
//!
//! let spec = fields::lookup("qty_available").unwrap();
//! assert_eq!(spec.kind, FieldKind::Integer);
//! assert!(fields::SORTABLE.contains(&"updated_at"));
//! assert!(fields::lookup("nope").is_none());
//! ```

use crate::ast::Op;

/// The type of a filterable field, which decides the operators and operands it accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldKind {
    /// A whole number (ids, quantities).
    Integer,
    /// Free text, compared case-sensitively.
    String,
    /// `true` / `false`.
    Boolean,
    /// An ISO-8601 / RFC 3339 date-time such as `2025-08-28T10:30:00Z`.
    Timestamp,
    /// One of a fixed set of lowercase strings.
    Enum(&'static [&'static str]),
}

impl FieldKind {
    /// Whether `op` applies to fields of this kind:
    /// `eq`, `neq`, `null`, `in`, `nin` apply to every kind; `gt`, `gteq`, `lt`, `lteq` to
    /// integers and timestamps; `start`, `end` to strings and enums.
    pub fn supports(self, op: Op) -> bool {
        match op {
            Op::Gt | Op::Gteq | Op::Lt | Op::Lteq => {
                matches!(self, FieldKind::Integer | FieldKind::Timestamp)
            }
            Op::Start | Op::End => matches!(self, FieldKind::String | FieldKind::Enum(_)),
            Op::Eq | Op::Neq | Op::Null | Op::In | Op::Nin => true,
        }
    }

    /// Every operator this kind supports, in [`Op::ALL`] order.
    pub fn operators(self) -> Vec<Op> {
        Op::ALL
            .iter()
            .copied()
            .filter(|op| self.supports(*op))
            .collect()
    }

    /// A short name for messages: `"integer"`, `"string"`, `"boolean"`, `"timestamp"`, `"enum"`.
    pub fn name(self) -> &'static str {
        match self {
            FieldKind::Integer => "integer",
            FieldKind::String => "string",
            FieldKind::Boolean => "boolean",
            FieldKind::Timestamp => "timestamp",
            FieldKind::Enum(_) => "enum",
        }
    }
}

/// Whether a field belongs to the product or to the inventory level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldGroup {
    /// Fields of the level's product ("Product Fields" on the endpoint page).
    Product,
    /// Fields of the total level itself ("Inventory Fields").
    Inventory,
}

/// One filterable field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct FieldSpec {
    /// The name used in `filter=` (e.g. `qty_available`).
    pub name: &'static str,
    /// Its type.
    pub kind: FieldKind,
    /// Product or inventory field.
    pub group: FieldGroup,
    /// The endpoint page's description.
    pub description: &'static str,
    /// Whether the field is also accepted by `sort=`.
    pub sortable: bool,
}

/// The values of `product_type`.
pub const PRODUCT_TYPES: &[&str] = &["normal", "packaging", "containers", "supplies", "infill"];

const fn spec(
    name: &'static str,
    kind: FieldKind,
    group: FieldGroup,
    description: &'static str,
    sortable: bool,
) -> FieldSpec {
    FieldSpec {
        name,
        kind,
        group,
        description,
        sortable,
    }
}

use FieldGroup::{Inventory as I, Product as P};
use FieldKind::{Boolean, Integer, String as Str, Timestamp};

/// Every filterable field, in the endpoint page's order.
///
/// `goods_type` is treated as an open string (known values include `NORMAL`).
/// `is_enabled` defaults to `true` on this endpoint: disabled products are left out unless
/// a filter on `is_enabled` is given.
pub const ALL: &[FieldSpec] = &[
    spec("product_id", Integer, P, "Product entity ID", true),
    spec("sku", Str, P, "Product SKU", true),
    spec("product_name", Str, P, "Product name", false),
    spec(
        "product_type",
        FieldKind::Enum(PRODUCT_TYPES),
        P,
        "Product type (normal, packaging, containers, supplies, infill)",
        false,
    ),
    spec(
        "product_created_at",
        Timestamp,
        P,
        "Product creation date",
        false,
    ),
    spec(
        "product_updated_at",
        Timestamp,
        P,
        "Product last update date",
        false,
    ),
    spec("merchant_id", Integer, P, "Merchant/website ID", false),
    spec("vendor_sku", Str, P, "Vendor SKU", false),
    spec("external_id", Str, P, "External product ID", false),
    spec("barcode", Str, P, "Product barcode", false),
    spec("goods_type", Str, P, "Goods classification", false),
    spec(
        "is_enabled",
        Boolean,
        P,
        "Product enabled status (default: true)",
        false,
    ),
    spec(
        "is_available",
        Boolean,
        P,
        "Product availability status",
        false,
    ),
    spec("is_visible", Boolean, P, "Product visibility status", false),
    spec(
        "updated_at",
        Timestamp,
        I,
        "Inventory last updated timestamp",
        true,
    ),
    spec(
        "qty_allocated",
        Integer,
        I,
        "Quantity allocated for orders",
        false,
    ),
    spec("qty_backordered", Integer, I, "Quantity backordered", false),
    spec(
        "qty_reserved",
        Integer,
        I,
        "Quantity reserved for picking",
        false,
    ),
    spec(
        "qty_picked",
        Integer,
        I,
        "Quantity picked but not packed",
        false,
    ),
    spec(
        "qty_expected",
        Integer,
        I,
        "Quantity expected from deliveries",
        false,
    ),
    spec(
        "qty_processed",
        Integer,
        I,
        "Quantity processed from deliveries",
        false,
    ),
    spec(
        "qty_putaway",
        Integer,
        I,
        "Quantity waiting to be put away",
        false,
    ),
    spec(
        "qty_available",
        Integer,
        I,
        "Quantity available for allocation",
        false,
    ),
    spec(
        "qty_on_hand",
        Integer,
        I,
        "Total physical quantity on hand",
        false,
    ),
    spec(
        "qty_advertised",
        Integer,
        I,
        "Quantity advertised to customers",
        false,
    ),
];

/// The fields accepted by `sort=` (prefix `-` for descending; default `-updated_at`).
pub const SORTABLE: &[&str] = &["product_id", "sku", "updated_at"];

/// The catalogue entry for `name` (exact, case-sensitive).
pub fn lookup(name: &str) -> Option<&'static FieldSpec> {
    ALL.iter().find(|f| f.name == name)
}

/// The known field closest to `name` (by edit distance), if any is reasonably close.
pub fn suggest(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    ALL.iter()
        .map(|f| (edit_distance(&lower, f.name), f.name))
        .filter(|(d, candidate)| *d <= (candidate.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// All field names, comma-separated (for messages).
pub(crate) fn names() -> String {
    ALL.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
}

/// Levenshtein distance over `char`s.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_matches_endpoint_page() {
        assert_eq!(ALL.len(), 25);
        let mut names: Vec<_> = ALL.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len(), "duplicate field");
        for f in ALL {
            assert_eq!(f.sortable, SORTABLE.contains(&f.name), "{}", f.name);
            if f.name.starts_with("qty_") || f.name.ends_with("_id") && f.name != "external_id" {
                assert_eq!(f.kind, FieldKind::Integer, "{}", f.name);
            }
            if f.name.ends_with("_at") {
                assert_eq!(f.kind, FieldKind::Timestamp, "{}", f.name);
            }
            if f.name.starts_with("is_") {
                assert_eq!(f.kind, FieldKind::Boolean, "{}", f.name);
            }
        }
        assert_eq!(
            lookup("product_type").map(|f| f.kind),
            Some(FieldKind::Enum(PRODUCT_TYPES))
        );
        assert_eq!(
            lookup("goods_type").map(|f| f.kind),
            Some(FieldKind::String)
        );
        assert_eq!(
            lookup("external_id").map(|f| f.kind),
            Some(FieldKind::String)
        );
        for s in SORTABLE {
            assert!(lookup(s).is_some());
        }
    }

    #[test]
    fn lookup_is_exact() {
        assert!(lookup("sku").is_some());
        assert!(lookup("SKU").is_none());
        assert!(lookup("").is_none());
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("qty_availble"), Some("qty_available"));
        assert_eq!(suggest("SKU"), Some("sku"));
        assert_eq!(suggest("product"), Some("product_id"));
        assert_eq!(suggest("zzzzzzzzzzzz"), None);
    }

    #[test]
    fn operator_table() {
        assert!(FieldKind::Integer.supports(Op::Gt));
        assert!(FieldKind::Timestamp.supports(Op::Lteq));
        assert!(!FieldKind::String.supports(Op::Gt));
        assert!(!FieldKind::Boolean.supports(Op::Start));
        assert!(FieldKind::Enum(PRODUCT_TYPES).supports(Op::Start));
        assert!(!FieldKind::Integer.supports(Op::End));
        assert_eq!(
            FieldKind::Boolean.operators(),
            vec![Op::Eq, Op::Neq, Op::Null, Op::In, Op::Nin]
        );
    }

    #[test]
    fn edit_distance_basics() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
