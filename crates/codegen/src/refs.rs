//! `$ref` resolution inside one OpenAPI document: the one copy that codegen, xtask and
//! the contract tests use.

use serde_json::Value;

/// How many references in a row are followed before the chain counts as a cycle.
pub const MAX_DEPTH: usize = 32;

/// Why a chain of references could not be followed to its end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RefError {
    /// A reference that does not point into this document, or at nothing in it.
    #[error("unsupported or dangling $ref `{0}`")]
    Dangling(String),
    /// More than [`MAX_DEPTH`] references in a row.
    #[error("a $ref cycle through `{0}`")]
    Cycle(String),
}

/// Where following the references of a value ended.
#[derive(Debug, Clone)]
pub struct Walk<'a> {
    /// The last value reached: the target, or the reference that could not be followed.
    pub value: &'a Value,
    /// The last reference followed (`#/components/schemas/Product`), if any.
    pub last_ref: Option<&'a str>,
    /// Why the chain stopped before a value without `$ref`, if it did.
    pub error: Option<RefError>,
}

impl<'a> Walk<'a> {
    /// The target, or the error.
    pub fn target(self) -> Result<&'a Value, RefError> {
        match self.error {
            None => Ok(self.value),
            Some(e) => Err(e),
        }
    }

    /// The last segment of the last reference followed (`Product`).
    pub fn name(&self) -> Option<&'a str> {
        self.last_ref.map(ref_name)
    }

    /// The JSON pointer of the value reached, when a reference was followed.
    pub fn pointer(&self) -> Option<&'a str> {
        self.last_ref.and_then(|r| r.strip_prefix('#'))
    }
}

/// The target of a local reference such as `#/components/schemas/Product`.
pub fn lookup<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

/// The last segment of a `$ref`, e.g. `Product` for `#/components/schemas/Product`.
pub fn ref_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

/// Follows `value`'s `$ref`s (repeatedly) within `doc`.
pub fn walk<'a>(doc: &'a Value, mut value: &'a Value) -> Walk<'a> {
    let mut last_ref = None;
    for _ in 0..MAX_DEPTH {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
            return Walk {
                value,
                last_ref,
                error: None,
            };
        };
        match lookup(doc, reference) {
            Some(target) => {
                last_ref = Some(reference);
                value = target;
            }
            None => {
                return Walk {
                    value,
                    last_ref,
                    error: Some(RefError::Dangling(reference.to_owned())),
                };
            }
        }
    }
    Walk {
        value,
        last_ref,
        error: Some(RefError::Cycle(last_ref.unwrap_or_default().to_owned())),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    #[test]
    fn chains_dangling_references_and_cycles() {
        let doc = json!({"components": {"schemas": {
            "A": {"$ref": "#/components/schemas/B"},
            "B": {"type": "string"},
            "C": {"$ref": "#/components/schemas/Nope"},
            "D": {"$ref": "#/components/schemas/D"},
        }}});
        let to_a = json!({"$ref": "#/components/schemas/A"});
        let w = walk(&doc, &to_a);
        assert_eq!(w.name(), Some("B"));
        assert_eq!(w.pointer(), Some("/components/schemas/B"));
        assert_eq!(w.target().unwrap(), &json!({"type": "string"}));
        let plain = json!({"type": "integer"});
        assert_eq!(walk(&doc, &plain).target().unwrap(), &plain);
        let to_c = json!({"$ref": "#/components/schemas/C"});
        let w = walk(&doc, &to_c);
        assert_eq!(
            w.error,
            Some(RefError::Dangling("#/components/schemas/Nope".into()))
        );
        assert_eq!(w.value, &json!({"$ref": "#/components/schemas/Nope"}));
        assert!(matches!(
            walk(&doc, &json!({"$ref": "#/components/schemas/D"})).error,
            Some(RefError::Cycle(_))
        ));
        assert!(matches!(
            walk(&doc, &json!({"$ref": "other.yaml#/X"})).error,
            Some(RefError::Dangling(_))
        ));
    }
}
