//! Open enums: a Rust enum per spec enum, plus `Unknown(String)` for values the spec lacks.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::Error;

/// A string enum of the spec, generated as an open Rust enum.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenEnum {
    /// The component schema name, also the Rust type name.
    pub name: String,
    /// The schema's description, used as the type's docs.
    pub description: Option<String>,
    /// `(wire value, Rust variant name)` in spec order.
    pub variants: Vec<(String, String)>,
}

impl OpenEnum {
    /// Builds the enum, naming a variant for each value.
    pub fn new(
        name: &str,
        description: Option<String>,
        values: Vec<String>,
    ) -> Result<Self, Error> {
        let mut variants: Vec<(String, String)> = Vec::with_capacity(values.len());
        for value in values {
            let ident = variant_ident(&value);
            if ident == "Unknown" {
                return Err(Error::OpenEnum {
                    schema: name.to_owned(),
                    reason: format!("value `{value}` would collide with the Unknown variant"),
                });
            }
            if let Some((other, _)) = variants.iter().find(|(_, v)| *v == ident) {
                return Err(Error::OpenEnum {
                    schema: name.to_owned(),
                    reason: format!("values `{other}` and `{value}` both map to variant `{ident}`"),
                });
            }
            variants.push((value, ident));
        }
        Ok(Self {
            name: name.to_owned(),
            description,
            variants,
        })
    }

    /// The Rust items of the enum and its impls.
    pub fn tokens(&self) -> TokenStream {
        let name = format_ident!("{}", self.name);
        let doc = format!(
            "{}\n\nThis enum is open: a value the spec does not list decodes as `Unknown` and is \
             written back unchanged, so new API values never fail a page.",
            self.description.as_deref().unwrap_or("").trim_end()
        );
        let idents: Vec<_> = self
            .variants
            .iter()
            .map(|(_, v)| format_ident!("{}", v))
            .collect();
        let values: Vec<_> = self.variants.iter().map(|(w, _)| w.as_str()).collect();
        let variant_docs: Vec<_> = values.iter().map(|w| format!("`{w}`")).collect();
        let schema_name = self.name.as_str();
        quote! {
            #[doc = #doc]
            #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
            #[non_exhaustive]
            pub enum #name {
                #( #[doc = #variant_docs] #idents, )*
                /// A value this version of the client does not know, kept verbatim.
                Unknown(::std::string::String),
            }

            impl #name {
                /// Every value the spec lists, in spec order.
                pub const KNOWN: &'static [&'static str] = &[#(#values),*];

                /// The value as it appears on the wire.
                pub fn as_str(&self) -> &str {
                    match self {
                        #( Self::#idents => #values, )*
                        Self::Unknown(other) => other.as_str(),
                    }
                }

                /// True when the value is not one the spec lists.
                pub fn is_unknown(&self) -> bool {
                    matches!(self, Self::Unknown(_))
                }
            }

            impl ::std::convert::From<&str> for #name {
                fn from(value: &str) -> Self {
                    match value {
                        #( #values => Self::#idents, )*
                        other => Self::Unknown(other.to_owned()),
                    }
                }
            }

            impl ::std::convert::From<::std::string::String> for #name {
                fn from(value: ::std::string::String) -> Self {
                    match value.as_str() {
                        #( #values => Self::#idents, )*
                        _ => Self::Unknown(value),
                    }
                }
            }

            impl ::std::str::FromStr for #name {
                type Err = ::std::convert::Infallible;
                fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                    Ok(Self::from(value))
                }
            }

            impl ::std::fmt::Display for #name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(self.as_str())
                }
            }

            impl ::serde::Serialize for #name {
                fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                    serializer.serialize_str(self.as_str())
                }
            }

            impl<'de> ::serde::Deserialize<'de> for #name {
                fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                    let value = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(deserializer)?;
                    Ok(Self::from(value.as_ref()))
                }
            }

            impl ::schemars::JsonSchema for #name {
                fn schema_name() -> ::std::string::String {
                    #schema_name.to_owned()
                }
                fn json_schema(_: &mut ::schemars::r#gen::SchemaGenerator) -> ::schemars::schema::Schema {
                    // Open: any string is accepted; the known values are documented.
                    ::schemars::schema::SchemaObject {
                        instance_type: ::std::option::Option::Some(::schemars::schema::InstanceType::String.into()),
                        ..::std::default::Default::default()
                    }
                    .into()
                }
            }
        }
    }
}

/// `in^3` → `In3`, `NORMAL` → `Normal`, `TotalLevel` → `TotalLevel`.
pub(crate) fn variant_ident(value: &str) -> String {
    let mut out = String::new();
    for word in value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let all_upper = word.chars().all(|c| !c.is_ascii_lowercase());
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            if all_upper {
                out.extend(chars.map(|c| c.to_ascii_lowercase()));
            } else {
                out.extend(chars);
            }
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::variant_ident;

    #[test]
    fn variant_names() {
        assert_eq!(variant_ident("in^3"), "In3");
        assert_eq!(variant_ident("NORMAL"), "Normal");
        assert_eq!(variant_ident("TotalLevel"), "TotalLevel");
        assert_eq!(variant_ident("optimistic"), "Optimistic");
        assert_eq!(variant_ident("3d"), "V3d");
        assert_eq!(variant_ident("^^"), "V");
    }
}
