//! The one place where the ShipStream inventory client is generated.
//!
//! `crates/generated/build.rs` and `cargo xtask generate` both call [`generate`], so the
//! code a build compiles and the snapshot a reviewer reads can never differ.
//!
//! ```no_run
//! let spec = std::fs::read_to_string("openapi.yaml")?;
//! let generated = shipstream_inventory_codegen::generate(&spec)?;
//! std::fs::write("client.rs", generated.code)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What happens on top of plain progenitor (each one overcomes a known progenitor limit):
//! - every string enum among the component schemas becomes an *open* enum with an
//!   `Unknown(String)` variant that keeps and writes back values this client does not know
//!   ([`open_enums`]); the types are injected into the generated `types` module and swapped
//!   in with typify's `with_replacement`;
//! - every `type: number` schema becomes `serde_json::Number`, so an integer such as
//!   `"value": 20` is written back as `20`, not `20.0`;
//! - query parameters declared `explode: false` are listed in
//!   `COMMA_JOINED_QUERY_PARAMS`, so the generated crate's request hook can join them with
//!   commas as the API expects (progenitor always repeats array parameters);
//! - the client is generated with the builder interface (new optional parameters never
//!   break callers) and with `HooksMode::Expected`, so the hand-written hooks of the
//!   generated crate are the single seam for transport, retries and tracing.
#![deny(missing_docs)]

pub mod json_schema;
mod open_enum;

use std::collections::BTreeSet;

use openapiv3::{OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, SchemaKind, Type};
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};
use quote::quote;

pub use open_enum::OpenEnum;

/// Everything that can go wrong while generating the client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The spec is not valid YAML or not an OpenAPI 3.0 document.
    #[error("openapi.yaml could not be read as an OpenAPI 3.0 document: {0}")]
    Parse(#[from] serde_yaml::Error),
    /// progenitor refused the spec.
    #[error("progenitor could not generate a client from openapi.yaml: {0}")]
    Progenitor(String),
    /// The generated tokens are not valid Rust (a progenitor bug).
    #[error("the generated client is not valid Rust: {0}")]
    Syntax(#[from] syn::Error),
    /// An enum of the spec cannot be turned into an open Rust enum.
    #[error("enum schema `{schema}` cannot become an open enum: {reason}")]
    OpenEnum {
        /// The component schema name.
        schema: String,
        /// Why it cannot.
        reason: String,
    },
    /// The generated `types` module was not found (a progenitor change).
    #[error("progenitor's output has no `pub mod types`; the codegen crate needs updating")]
    NoTypesModule,
}

/// The generated client: formatted Rust source and facts about it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Generated {
    /// Formatted Rust source (prettyplease), ready to `include!`.
    pub code: String,
    /// The open enums that replaced progenitor's closed ones.
    pub open_enums: Vec<OpenEnum>,
    /// Query parameters whose array values are sent comma-joined.
    pub comma_joined_query_params: Vec<String>,
}

/// Parses `openapi.yaml` text.
pub fn parse_spec(spec_yaml: &str) -> Result<OpenAPI, Error> {
    Ok(serde_yaml::from_str(spec_yaml)?)
}

/// Generates the client from the text of `openapi.yaml`.
pub fn generate(spec_yaml: &str) -> Result<Generated, Error> {
    let spec = parse_spec(spec_yaml)?;
    generate_from(&spec)
}

/// Generates the client from a parsed spec.
pub fn generate_from(spec: &OpenAPI) -> Result<Generated, Error> {
    let spec = &preprocess(spec);
    let open_enums = open_enums(spec)?;
    let comma_joined = comma_joined_query_params(spec);

    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_hooks(HooksMode::Expected)
        .with_inner_type(quote! { crate::Hooks })
        .with_derive("PartialEq")
        .with_derive("::schemars::JsonSchema")
        .with_conversion(
            number_schema(),
            "::serde_json::Number",
            [TypeImpl::Display].into_iter(),
        );
    for e in &open_enums {
        settings.with_replacement(
            &e.name,
            format!("crate::types::{}", e.name),
            [TypeImpl::Display, TypeImpl::FromStr].into_iter(),
        );
    }

    let mut generator = Generator::new(&settings);
    let tokens = generator
        .generate_tokens(spec)
        .map_err(|e| Error::Progenitor(e.to_string()))?;
    let mut file: syn::File = syn::parse2(tokens)?;

    // Put the open enums into `pub mod types`, where the replacements point.
    let types_mod = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "types" => m.content.as_mut(),
            _ => None,
        })
        .ok_or(Error::NoTypesModule)?;
    for e in &open_enums {
        let items: syn::File = syn::parse2(e.tokens())?;
        types_mod.1.extend(items.items);
    }

    let names = comma_joined.iter();
    let extra: syn::File = syn::parse2(quote! {
        /// Query parameters declared `explode: false` in the spec: their array values go on
        /// the wire once, comma-joined (`fields=a,b`), not repeated.
        pub const COMMA_JOINED_QUERY_PARAMS: &[&str] = &[#(#names),*];
    })?;
    file.items.extend(extra.items);

    let consts = query_enum_values(spec).into_iter().map(|(name, values)| {
        let ident = quote::format_ident!(
            "{}",
            name.chars()
                .map(|c| if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                })
                .collect::<String>()
        );
        let doc = format!("The values the spec allows for `{name}`, in spec order.");
        quote! {
            #[doc = #doc]
            pub const #ident: &[&str] = &[#(#values),*];
        }
    });
    let values_mod: syn::File = syn::parse2(quote! {
        /// The values of the spec's enumerated query parameters (the generated request
        /// enums cannot be iterated).
        pub mod query_values {
            #(#consts)*
        }
    })?;
    file.items.extend(values_mod.items);

    let code = format!(
        "// @generated by shipstream-inventory-codegen from openapi.yaml. Do not edit by hand;\n\
         // change openapi.yaml or crates/codegen and run `cargo xtask generate`.\n\n{}",
        prettyplease::unparse(&file)
    );
    Ok(Generated {
        code,
        open_enums,
        comma_joined_query_params: comma_joined,
    })
}

/// The spec as progenitor is given it. The one change: an operation's `default` response
/// is dropped, because progenitor counts `default` as a success response and refuses an
/// operation whose success responses have two different body types (200 `TotalLevelsPage`
/// and default `ErrorBody`). Without it, statuses the spec does not list surface as
/// `Error::UnexpectedResponse` with the raw response, which is what callers need anyway.
pub fn preprocess(spec: &OpenAPI) -> OpenAPI {
    let mut spec = spec.clone();
    for (_, item) in spec.paths.paths.iter_mut() {
        if let ReferenceOr::Item(item) = item {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for op in ops.into_iter().flatten() {
                op.responses.default = None;
            }
        }
    }
    spec
}

/// The component schemas that are string enums; each becomes an open enum.
pub fn open_enums(spec: &OpenAPI) -> Result<Vec<OpenEnum>, Error> {
    let mut out = Vec::new();
    let Some(components) = &spec.components else {
        return Ok(out);
    };
    for (name, schema) in &components.schemas {
        let ReferenceOr::Item(schema) = schema else {
            continue;
        };
        if let SchemaKind::Type(Type::String(s)) = &schema.schema_kind {
            if s.enumeration.is_empty() {
                continue;
            }
            let values: Vec<String> = s.enumeration.iter().flatten().cloned().collect();
            let e = OpenEnum::new(name, schema.schema_data.description.clone(), values)?;
            out.push(e);
        }
    }
    Ok(out)
}

/// The query parameters of every operation (resolved), in spec order.
fn query_parameters(spec: &OpenAPI) -> Vec<openapiv3::ParameterData> {
    let resolve = |p: &ReferenceOr<Parameter>| -> Option<Parameter> {
        match p {
            ReferenceOr::Item(p) => Some(p.clone()),
            ReferenceOr::Reference { reference } => {
                let name = reference.strip_prefix("#/components/parameters/")?;
                match spec.components.as_ref()?.parameters.get(name)? {
                    ReferenceOr::Item(p) => Some(p.clone()),
                    ReferenceOr::Reference { .. } => None,
                }
            }
        }
    };
    let mut out = Vec::new();
    for (_, item) in spec.paths.iter() {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        let ops = item.iter().map(|(_, op)| &op.parameters);
        for p in ops.flatten().chain(item.parameters.iter()) {
            if let Some(Parameter::Query { parameter_data, .. }) = resolve(p) {
                out.push(parameter_data);
            }
        }
    }
    out
}

/// The inline schema of a parameter.
fn inline_schema(p: &openapiv3::ParameterData) -> Option<&openapiv3::Schema> {
    match &p.format {
        ParameterSchemaOrContent::Schema(ReferenceOr::Item(s)) => Some(s),
        _ => None,
    }
}

/// Query parameters of every operation that are arrays with `explode: false`.
pub fn comma_joined_query_params(spec: &OpenAPI) -> Vec<String> {
    let names: BTreeSet<String> = query_parameters(spec)
        .into_iter()
        .filter(|p| {
            p.explode == Some(false)
                && inline_schema(p)
                    .is_some_and(|s| matches!(s.schema_kind, SchemaKind::Type(Type::Array(_))))
        })
        .map(|p| p.name)
        .collect();
    names.into_iter().collect()
}

/// Query parameters whose values (or array items) are a string enum, with the values in
/// spec order.
pub fn query_enum_values(spec: &OpenAPI) -> Vec<(String, Vec<String>)> {
    let string_enum = |s: &openapiv3::Schema| -> Option<Vec<String>> {
        match &s.schema_kind {
            SchemaKind::Type(Type::String(st)) if !st.enumeration.is_empty() => {
                Some(st.enumeration.iter().flatten().cloned().collect())
            }
            _ => None,
        }
    };
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for p in query_parameters(spec) {
        let Some(schema) = inline_schema(&p) else {
            continue;
        };
        let values = match &schema.schema_kind {
            SchemaKind::Type(Type::Array(a)) => match &a.items {
                Some(ReferenceOr::Item(items)) => string_enum(items),
                _ => None,
            },
            _ => string_enum(schema),
        };
        if let Some(values) = values
            && !out.iter().any(|(n, _)| *n == p.name)
        {
            out.push((p.name, values));
        }
    }
    out
}

/// The schemars schema that typify sees for `type: number`.
fn number_schema() -> schemars::schema::SchemaObject {
    schemars::schema::SchemaObject {
        instance_type: Some(schemars::schema::InstanceType::Number.into()),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const SPEC: &str = include_str!("../../../openapi.yaml");

    #[test]
    fn the_spec_generates_and_names_its_comma_joined_params() {
        let g = generate(SPEC).unwrap();
        assert_eq!(g.comma_joined_query_params, ["fields", "fields:product"]);
        assert!(g.code.contains("pub const COMMA_JOINED_QUERY_PARAMS"));
        assert!(g.code.contains("pub const FIELDS_PRODUCT: &[&str]"));
        assert!(g.code.starts_with("// @generated"));
    }

    #[test]
    fn every_component_string_enum_is_open() {
        let g = generate(SPEC).unwrap();
        let names: Vec<_> = g.open_enums.iter().map(|e| e.name.as_str()).collect();
        for n in [
            "ObjectType",
            "GoodsType",
            "VirtualInventory",
            "ErrorType",
            "WeightUnit",
        ] {
            assert!(names.contains(&n), "{n} is not open: {names:?}");
            assert!(
                g.code.contains("Unknown(::std::string::String)"),
                "no Unknown variant"
            );
        }
    }

    #[test]
    fn generation_is_deterministic() {
        assert_eq!(generate(SPEC).unwrap().code, generate(SPEC).unwrap().code);
    }
}
