//! Emitting the facts as Rust tokens (the generated `api` module's tables and enums).

use super::*;

pub(super) fn opt_str(v: &Option<String>) -> TokenStream {
    match v {
        Some(s) => quote!(Some(#s)),
        None => quote!(None),
    }
}

pub(super) fn opt_i64(v: Option<i64>) -> TokenStream {
    match v {
        Some(n) => quote!(Some(#n)),
        None => quote!(None),
    }
}

pub(super) fn param_tokens(p: &Param) -> TokenStream {
    let konst = format_ident!("{}", p.const_name());
    let name = &p.name;
    let doc = format!("`{}`: {}", p.name, p.description);
    let location = match p.location {
        Location::Query => quote!(Location::Query),
        Location::Header => quote!(Location::Header),
    };
    let description = &p.description;
    let required = p.required;
    let ty = p.ty.ident();
    let item_type = match p.item_type {
        Some(t) => {
            let t = t.ident();
            quote!(Some(JsonType::#t))
        }
        None => quote!(None),
    };
    let comma_joined = p.comma_joined;
    let repeated = p.repeated;
    let minimum = opt_i64(p.minimum);
    let maximum = opt_i64(p.maximum);
    let min_length = match p.min_length {
        Some(n) => quote!(Some(#n)),
        None => quote!(None),
    };
    let default = opt_str(&p.default);
    let values = &p.values;
    let open = p.open;
    let pattern = opt_str(&p.pattern);
    quote! {
        #[doc = #doc]
        pub const #konst: Parameter = Parameter {
            name: #name,
            location: #location,
            description: #description,
            required: #required,
            ty: JsonType::#ty,
            item_type: #item_type,
            comma_joined: #comma_joined,
            repeated: #repeated,
            minimum: #minimum,
            maximum: #maximum,
            min_length: #min_length,
            default: #default,
            values: &[#(#values),*],
            open: #open,
            pattern: #pattern,
        };
    }
}

pub(super) fn filter_field_tokens(f: &FilterField) -> TokenStream {
    let name = &f.name;
    let description = &f.description;
    let sortable = f.sortable;
    let group = if f.group == "product" {
        quote!(FieldGroup::Product)
    } else {
        quote!(FieldGroup::Inventory)
    };
    let kind = match &f.kind {
        FieldKind::Integer => quote!(FieldKind::Integer),
        FieldKind::String => quote!(FieldKind::String),
        FieldKind::Boolean => quote!(FieldKind::Boolean),
        FieldKind::Timestamp => quote!(FieldKind::Timestamp),
        FieldKind::Enum(values) => quote!(FieldKind::Enum(&[#(#values),*])),
    };
    quote! {
        FilterableField {
            name: #name,
            kind: #kind,
            group: #group,
            description: #description,
            sortable: #sortable,
        }
    }
}

pub(super) fn property_tokens(p: &Property) -> TokenStream {
    let name = &p.name;
    let description = &p.description;
    let ty = p.ty.ident();
    let format = opt_str(&p.format);
    let nullable = p.nullable;
    let optional_field = p.optional_field;
    let required = p.required;
    let reference = opt_str(&p.reference);
    let members = &p.members;
    let values = &p.values;
    let open = p.open;
    let pointer = &p.pointer;
    quote! {
        Property {
            name: #name,
            description: #description,
            ty: JsonType::#ty,
            format: #format,
            nullable: #nullable,
            optional_field: #optional_field,
            required: #required,
            reference: #reference,
            members: &[#(#members),*],
            values: &[#(#values),*],
            open: #open,
            pointer: #pointer,
        }
    }
}

/// A closed enum of the given wire values, with `ALL`, `as_str`, `Display` and `FromStr`.
pub(super) fn value_enum_tokens(type_name: &str, doc: &str, values: &[String]) -> TokenStream {
    value_enum_tokens_with_docs(
        type_name,
        doc,
        &values
            .iter()
            .map(|v| (v.clone(), format!("`{v}`")))
            .collect::<Vec<_>>(),
        &std::collections::BTreeMap::new(),
    )
}

/// A closed enum of wire values with a doc line each; values in `deprecated` get
/// `#[deprecated]` with their note (the enum's own impls allow them).
pub(super) fn value_enum_tokens_with_docs(
    type_name: &str,
    doc: &str,
    values: &[(String, String)],
    deprecated: &std::collections::BTreeMap<String, String>,
) -> TokenStream {
    let marks: Vec<TokenStream> = values
        .iter()
        .map(|(v, _)| match deprecated.get(v) {
            Some(note) => quote!(#[deprecated(note = #note)]),
            None => quote!(),
        })
        .collect();
    let ty = format_ident!("{}", type_name);
    let idents: Vec<_> = values
        .iter()
        .map(|(v, _)| format_ident!("{}", pascal(v)))
        .collect();
    let wire: Vec<_> = values.iter().map(|(v, _)| v.as_str()).collect();
    let docs: Vec<_> = values.iter().map(|(_, d)| d.as_str()).collect();
    let list = wire.join(", ");
    let unknown = format!("`{{}}` is not one of: {list}");
    quote! {
        #[doc = #doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum #ty {
            #( #[doc = #docs] #marks #idents, )*
        }

        #[allow(deprecated)]
        impl #ty {
            /// Every value, in spec order.
            pub const ALL: &'static [#ty] = &[#(Self::#idents),*];

            /// The value as the wire spells it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    #( Self::#idents => #wire, )*
                }
            }
        }

        #[allow(deprecated)]
        impl Enumeration for #ty {
            const ALL: &'static [Self] = #ty::ALL;
            fn as_str(self) -> &'static str {
                #ty::as_str(self)
            }
        }

        impl ::std::fmt::Display for #ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #[allow(deprecated)]
        impl ::std::str::FromStr for #ty {
            type Err = UnknownValue;
            fn from_str(value: &str) -> ::std::result::Result<Self, UnknownValue> {
                match value {
                    #( #wire => Ok(Self::#idents), )*
                    other => Err(UnknownValue(format!(#unknown, other))),
                }
            }
        }
    }
}

pub(super) fn sort_field_tokens(f: &Facts) -> TokenStream {
    let values: Vec<(String, String)> = f
        .sort_keys
        .iter()
        .map(|k| {
            let doc = f
                .filterable
                .iter()
                .find(|ff| ff.name == *k)
                .map(|ff| format!("`{k}`: {}", ff.description))
                .unwrap_or_else(|| format!("`{k}`"));
            (k.clone(), doc)
        })
        .collect();
    value_enum_tokens_with_docs(
        "SortField",
        "A key of `sort`. Prefix `-` (see the facade's `Sort`) sorts it descending.",
        &values,
        &f.deprecations.sort_keys,
    )
}

/// The Rust name typify gives a property's field and builder method (`fields:product` →
/// `fields_product`, `type` → `type_`).
pub fn field_ident(name: &str) -> String {
    let snake = name.replace([':', '-', '.'], "_").to_lowercase();
    match snake.as_str() {
        "type" | "ref" | "match" | "move" | "use" | "self" | "crate" | "mod" | "fn" | "impl" => {
            format!("{snake}_")
        }
        _ => snake,
    }
}

/// `fields:product` → `FIELDS_PRODUCT`.
pub fn screaming(name: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_uppercase());
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    let out = out.trim_end_matches('_').to_owned();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("P_{out}")
    } else {
        out
    }
}

/// `product_type` → `ProductType`, `in^3` → `In3`.
pub fn pascal(value: &str) -> String {
    crate::open_enum::variant_ident(value)
}
