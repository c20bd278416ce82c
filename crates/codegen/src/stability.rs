//! What makes a spec change reach users as the semver change it is:
//!
//! - every struct with named fields and every enum of `types` is `#[non_exhaustive]`, so a
//!   property or enum value the API adds is an addition for Rust callers too (a struct
//!   literal or an exhaustive `match` outside the crate would break on it; build values
//!   with the `builder` types, match with a `_` arm);
//! - what the spec deprecates ([`Deprecations`]) gets `#[deprecated]` with the spec's note
//!   on the struct field, its builder method, the enum variant, and the variant of the
//!   `fields` / `fields:product` enums (`LevelField` / `ProductField` in the facade) that
//!   names it, so callers are warned a release before a removal breaks them.

use syn::{Attribute, Fields, ImplItem, Item, parse_quote};

use crate::facts::{Deprecations, Facts, field_ident, pascal};

fn has(attrs: &[Attribute], name: &str) -> bool {
    attrs.iter().any(|a| a.path().is_ident(name))
}

/// The `#[serde(rename = "...")]` value among `attrs`.
fn serde_rename(attrs: &[Attribute]) -> Option<String> {
    let mut out = None;
    for a in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = a.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let lit: syn::LitStr = meta.value()?.parse()?;
                out = Some(lit.value());
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    out
}

fn deprecate(attrs: &mut Vec<Attribute>, note: &str) {
    if !has(attrs, "deprecated") {
        attrs.push(parse_quote!(#[deprecated(note = #note)]));
    }
}

/// Applies both to the items of `pub mod types`.
pub(crate) fn apply(types: &mut [Item], facts: &Facts) {
    let d = &facts.deprecations;
    // The enums of `fields` and `fields:product` name properties of a level and a product.
    let level = facts.level_schema();
    let product = facts.product_schema();
    let op = pascal(&facts.operation_id);
    let field_enums = [
        (format!("{op}FieldsItem"), level),
        (format!("{op}FieldsProductItem"), product),
    ];
    for item in types.iter_mut() {
        match item {
            Item::Struct(s) => {
                if let Fields::Named(named) = &mut s.fields {
                    if !has(&s.attrs, "non_exhaustive") {
                        s.attrs.push(parse_quote!(#[non_exhaustive]));
                    }
                    let schema = s.ident.to_string();
                    for f in named.named.iter_mut() {
                        let wire = serde_rename(&f.attrs).or_else(|| {
                            f.ident
                                .as_ref()
                                .map(|i| i.to_string().trim_start_matches("r#").to_owned())
                        });
                        if let Some(note) =
                            wire.and_then(|w| d.properties.get(&(schema.clone(), w)))
                        {
                            deprecate(&mut f.attrs, note);
                        }
                    }
                }
            }
            Item::Enum(e) => {
                if !has(&e.attrs, "non_exhaustive") {
                    e.attrs.push(parse_quote!(#[non_exhaustive]));
                }
                let name = e.ident.to_string();
                let property_schema = field_enums
                    .iter()
                    .find(|(n, _)| *n == name)
                    .and_then(|(_, s)| s.clone());
                for v in e.variants.iter_mut() {
                    let ident = v.ident.to_string();
                    let wire = serde_rename(&v.attrs);
                    let note = enum_value_note(d, &name, wire.as_deref(), &ident).or_else(|| {
                        let schema = property_schema.clone()?;
                        d.properties.get(&(schema, wire.clone()?))
                    });
                    if let Some(note) = note {
                        deprecate(&mut v.attrs, note);
                    }
                }
            }
            Item::Mod(m) if m.ident == "builder" => {
                let Some((_, items)) = m.content.as_mut() else {
                    continue;
                };
                for item in items.iter_mut() {
                    let Item::Impl(imp) = item else { continue };
                    if imp.trait_.is_some() {
                        continue;
                    }
                    let syn::Type::Path(p) = imp.self_ty.as_ref() else {
                        continue;
                    };
                    let Some(schema) = p.path.segments.last().map(|s| s.ident.to_string()) else {
                        continue;
                    };
                    for it in imp.items.iter_mut() {
                        let ImplItem::Fn(f) = it else { continue };
                        let method = f.sig.ident.to_string();
                        let method = method.trim_start_matches("r#");
                        let note = d.properties.iter().find_map(|((s, prop), note)| {
                            (*s == schema && field_ident(prop) == method).then_some(note)
                        });
                        if let Some(note) = note {
                            deprecate(&mut f.attrs, note);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// Puts `#[deprecated]` on the operation builder's method of each deprecated parameter
/// (the top-level `builder` module of progenitor's output).
pub(crate) fn apply_to_operation_builder(items: &mut [Item], facts: &Facts) {
    let params = &facts.deprecations.parameters;
    if params.is_empty() {
        return;
    }
    let op = pascal(&facts.operation_id);
    for item in items.iter_mut() {
        let Item::Mod(m) = item else { continue };
        if m.ident != "builder" {
            continue;
        }
        let Some((_, inner)) = m.content.as_mut() else {
            continue;
        };
        for item in inner.iter_mut() {
            let Item::Impl(imp) = item else { continue };
            let syn::Type::Path(p) = imp.self_ty.as_ref() else {
                continue;
            };
            if imp.trait_.is_some() || p.path.segments.last().is_none_or(|s| s.ident != op) {
                continue;
            }
            for it in imp.items.iter_mut() {
                let ImplItem::Fn(f) = it else { continue };
                let method = f.sig.ident.to_string();
                if let Some(note) = params
                    .iter()
                    .find_map(|(name, note)| (field_ident(name) == method).then_some(note))
                {
                    deprecate(&mut f.attrs, note);
                }
            }
        }
    }
}

/// The note of a deprecated value of the enum schema `name`, matched by its wire value, or
/// by its variant name when the variant has no `rename` (the open enums).
fn enum_value_note<'a>(
    d: &'a Deprecations,
    name: &str,
    wire: Option<&str>,
    ident: &str,
) -> Option<&'a String> {
    d.enum_values.iter().find_map(|((schema, value), note)| {
        (schema == name && (Some(value.as_str()) == wire || pascal(value) == ident)).then_some(note)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    /// The workspace's spec with a level quantity, a sort key, a filterable field and an
    /// enum value deprecated the ways the spec spells it.
    fn deprecating_spec() -> String {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi.yaml"))
                .unwrap();
        let mut spec: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        let level = &mut spec["components"]["schemas"]["TotalLevel"]["properties"]["qty_picked"];
        level["deprecated"] = true.into();
        level["x-deprecation-note"] = "use qty_allocated".into();
        spec["components"]["parameters"]["Sort"]["schema"]["x-deprecated-values"] =
            serde_yaml::from_str("{sku: sort by product_id}").unwrap();
        spec["components"]["parameters"]["Filter"]["x-filterable-fields"]["product_name"]["deprecated"] =
            "filter by sku".into();
        spec["components"]["schemas"]["GoodsType"]["x-deprecated-values"] =
            serde_yaml::from_str("{normal: gone in 2026-09}").unwrap();
        spec["components"]["parameters"]["Count"]["deprecated"] = true.into();
        spec["components"]["parameters"]["Count"]["x-deprecation-note"] = "counts are slow".into();
        serde_yaml::to_string(&spec).unwrap()
    }

    #[test]
    fn what_the_spec_deprecates_is_deprecated_in_rust() {
        let g = crate::generate(&deprecating_spec()).unwrap();
        let code = g.code.replace(['\n', ' '], "");
        let api = g.api.replace(['\n', ' '], "");
        let has = |hay: &str, needle: &str| {
            assert!(
                hay.contains(&needle.replace(['\n', ' '], "")),
                "missing: {needle}"
            );
        };
        // The struct field and its builder method.
        has(
            &code,
            r#"#[deprecated(note = "use qty_allocated")] pub qty_picked"#,
        );
        has(
            &code,
            r#"#[deprecated(note = "use qty_allocated")] pub fn qty_picked"#,
        );
        // The `fields` enum's variant (LevelField::QtyPicked in the facade).
        has(
            &code,
            r#"#[serde(rename = "qty_picked")] #[deprecated(note = "use qty_allocated")] QtyPicked"#,
        );
        // An open enum's value.
        has(&code, r#"#[deprecated(note = "gone in 2026-09")] Normal"#);
        // The sort key's variant and the filterable field's handle.
        has(&api, r#"#[deprecated(note = "sort by product_id")] Sku"#);
        has(
            &api,
            r#""The product's name.", deprecated "filter by sku")"#,
        );
        // A parameter's method on the operation builder.
        has(
            &code,
            r#"#[deprecated(note = "counts are slow")] pub fn count"#,
        );
    }

    #[test]
    fn generated_types_are_non_exhaustive() {
        let g = crate::generate(&deprecating_spec()).unwrap();
        let code = g.code.replace(['\n', ' '], "");
        for item in [
            "pubstructTotalLevel{",
            "pubstructProduct{",
            "pubenumListTotalInventoryLevelsFieldsItem{",
        ] {
            let at = code.find(item).unwrap();
            let before = &code[at.saturating_sub(400)..at];
            assert!(before.contains("#[non_exhaustive]"), "{item} is exhaustive");
        }
    }
}
