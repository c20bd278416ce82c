//! The filterable and sortable fields of the inventory levels endpoint, generated from the
//! spec (`x-filterable-fields` and the `sort` pattern) into
//! [`shipstream_inventory_generated::api`]; this module only looks them up.
//!
//! ```
//! use shipstream_filter::fields::{self, FieldKind};
//!
//! let spec = fields::lookup("qty_available").unwrap();
//! assert_eq!(spec.kind, FieldKind::Integer);
//! assert!(fields::supports(spec.kind, shipstream_filter::Op::Lt));
//! assert!(fields::SORTABLE.contains(&"updated_at"));
//! assert!(fields::lookup("nope").is_none());
//! ```

use crate::ast::Op;
use shipstream_inventory_generated::api;

/// Whether a field belongs to the product or to the inventory level.
pub use api::FieldGroup;
/// The type of a filterable field, which decides the operators and operands it accepts
/// (generated from the spec's `x-filterable-fields`).
pub use api::FieldKind;
/// One filterable field: name, kind, group, description, whether it is also a sort key.
pub use api::FilterableField as FieldSpec;

/// Whether `op` applies to fields of `kind`: `eq`, `neq`, `null`, `in`, `nin` apply to
/// every kind; `gt`, `gteq`, `lt`, `lteq` to integers and timestamps; `start`, `end` to
/// strings and enums. (The grammar's rule: the spec does not say.)
pub fn supports(kind: FieldKind, op: Op) -> bool {
    match op {
        Op::Gt | Op::Gteq | Op::Lt | Op::Lteq => {
            matches!(kind, FieldKind::Integer | FieldKind::Timestamp)
        }
        Op::Start | Op::End => matches!(kind, FieldKind::String | FieldKind::Enum(_)),
        Op::Eq | Op::Neq | Op::Null | Op::In | Op::Nin => true,
    }
}

/// Every operator of the spec that applies to `kind`, in [`Op::ALL`] order.
pub fn operators(kind: FieldKind) -> Vec<Op> {
    Op::ALL
        .iter()
        .copied()
        .filter(|op| op.in_spec() && supports(kind, *op))
        .collect()
}

/// Every filterable field, in the spec's order.
///
/// `goods_type` is an open string (known values include `NORMAL`). `is_enabled` defaults
/// to `true` on this endpoint: disabled products are left out unless a filter on
/// `is_enabled` is given.
pub const ALL: &[FieldSpec] = api::FILTERABLE_FIELDS;

/// The fields accepted by `sort=` (prefix `-` for descending; default `-updated_at`).
pub const SORTABLE: &[&str] = api::SORT_KEYS;

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
    fn the_catalogue_is_consistent() {
        let mut names: Vec<_> = ALL.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len(), "duplicate field");
        for f in ALL {
            assert_eq!(f.sortable, SORTABLE.contains(&f.name), "{}", f.name);
            if let FieldKind::Enum(values) = f.kind {
                assert!(!values.is_empty(), "{} has no values", f.name);
            }
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
        assert!(supports(FieldKind::Integer, Op::Gt));
        assert!(supports(FieldKind::Timestamp, Op::Lteq));
        assert!(!supports(FieldKind::String, Op::Gt));
        assert!(!supports(FieldKind::Boolean, Op::Start));
        assert!(supports(FieldKind::Enum(&["a"]), Op::Start));
        assert!(!supports(FieldKind::Integer, Op::End));
        assert_eq!(
            operators(FieldKind::Boolean),
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
