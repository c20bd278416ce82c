//! Serialising levels, products and pages straight from the compact dataset (no
//! intermediate `serde_json::Value`s).
//!
//! Why one file of this length: the level, product and page serialisers share the field
//! masks and the fault mutations, and are read together when a page's bytes are in question.

use serde::Serialize;
use serde::ser::{Error as _, SerializeMap, SerializeSeq, Serializer};
use shipstream_inventory_generated::api;

use crate::dataset::{CfValue, Data, NONE, Product, QTY_NAMES, QTY_PREFIX, Span, flag, pack};
use crate::{synth, time};

/// A set of properties of an object, as bits over its generated property table (bit `i`
/// = the `i`-th property of the spec, so up to 64 properties).
macro_rules! field_set {
    ($(#[$m:meta])* $name:ident, $table:expr) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
        pub(crate) struct $name(pub(crate) u64);

        // Not every set needs every helper (levels have no `basic`).
        #[allow(dead_code)]
        impl $name {
            /// The bit of the property `name`.
            pub(crate) fn bit(name: &str) -> Option<u64> {
                $table
                    .iter()
                    .position(|p| p.name == name)
                    .filter(|i| *i < 64)
                    .map(|i| 1u64 << i)
            }

            /// Every property.
            pub(crate) fn all() -> Self {
                Self(Self::mask(|_| true))
            }

            /// The properties that are not optional (`basic`).
            pub(crate) fn basic() -> Self {
                Self(Self::mask(|p| !p.optional_field))
            }

            fn mask(keep: impl Fn(&api::Property) -> bool) -> u64 {
                $table
                    .iter()
                    .take(64)
                    .enumerate()
                    .filter(|(_, p)| keep(p))
                    .fold(0, |m, (i, _)| m | 1u64 << i)
            }

            /// Whether the set holds the property `name`.
            pub(crate) fn has(self, name: &str) -> bool {
                Self::bit(name).is_some_and(|b| self.0 & b != 0)
            }

            /// Whether the set holds the `i`-th property of the table.
            pub(crate) fn has_index(self, i: usize) -> bool {
                i < 64 && self.0 & (1u64 << i) != 0
            }
        }
    };
}

field_set!(
    /// Product properties to send (`type`, `id` and the other required ones always are).
    ProductFields,
    api::PRODUCT_PROPERTIES
);
field_set!(
    /// Optional level properties asked for with `fields` (the others always come).
    LevelFields,
    api::LEVEL_PROPERTIES
);

/// Which enum a fault replaces with a value the description does not list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum Mutation {
    #[default]
    None,
    /// The product stub's `type` (an open enum: valid).
    StubType,
    /// The product's `goods_type` (open: valid).
    GoodsType,
    /// The product's `inventory.virtual_inventory` (open: valid).
    VirtualInventory,
    /// The product's `weight.unit` (open: valid).
    WeightUnit,
}

/// Values the open enums of the description do not list yet (see `unknown-enum`).
pub(crate) const UNKNOWN_OBJECT_TYPE: &str = "Bundle";
pub(crate) const UNKNOWN_GOODS_TYPE: &str = "LITHIUM_BATTERY";
pub(crate) const UNKNOWN_VIRTUAL_INVENTORY: &str = "pessimistic";
pub(crate) const UNKNOWN_WEIGHT_UNIT: &str = "mg";
/// A level `type` the description forbids (see `forbidden-enum`).
pub(crate) const FORBIDDEN_LEVEL_TYPE: &str = "TotalLevelV2";
/// The member added to levels and products by the `extra-field` fault.
pub(crate) const EXTRA_FIELD: &str = "mock_extra_field";
/// The `qty_on_hand` of the level spoilt by the `bad-record` fault (a string where the
/// description says integer).
pub(crate) const BAD_QTY: &str = "many";

/// Options shared by every record of a response.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Style {
    pub(crate) mutation: Mutation,
    /// This level's `type` is [`FORBIDDEN_LEVEL_TYPE`] (set per record by the
    /// `forbidden-enum` fault).
    pub(crate) forbidden_type: bool,
    pub(crate) extra: bool,
    /// This level's `qty_on_hand` is [`BAD_QTY`] (set per record by the `bad-record`
    /// fault, never for a whole page).
    pub(crate) bad_qty: bool,
    /// Every quantity is `null` ([`MockConfig::null_quantities`](crate::MockConfig)).
    pub(crate) null_qty: bool,
}

/// One `TotalLevel`. With `product: Some(fields)` the `product` member is the full product
/// object (plus `product_type`): the dataset file format.
pub(crate) struct LevelOut<'a> {
    pub(crate) data: &'a Data,
    pub(crate) idx: usize,
    /// The optional properties asked for.
    pub(crate) fields: LevelFields,
    pub(crate) product: Option<ProductFields>,
    pub(crate) style: Style,
}

impl<'a> LevelOut<'a> {
    pub(crate) fn new(data: &'a Data, idx: usize) -> Self {
        LevelOut {
            data,
            idx,
            fields: LevelFields::default(),
            product: None,
            style: Style::default(),
        }
    }
}

struct Ts(i64);

impl Serialize for Ts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let buf = time::format_rfc3339(self.0);
        s.serialize_str(std::str::from_utf8(&buf).map_err(S::Error::custom)?)
    }
}

struct Ref<'a> {
    ty: &'a str,
    id: u32,
}

impl Serialize for Ref<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("type", self.ty)?;
        m.serialize_entry("id", &self.id)?;
        m.end()
    }
}

fn opt_ref(ty: &str, id: u32) -> Option<Ref<'_>> {
    (id != 0).then_some(Ref { ty, id })
}

impl Serialize for LevelOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.data;
        let p = product(d, self.idx).map_err(S::Error::custom)?;
        let mut m = s.serialize_map(None)?;
        // The spec's properties in the spec's order: the modelled ones from the dataset,
        // the others made up from their schema.
        for (i, prop) in api::LEVEL_PROPERTIES.iter().enumerate() {
            if prop.optional_field && !self.fields.has_index(i) {
                continue;
            }
            match prop.name {
                "type" => {
                    let ty = if self.style.forbidden_type {
                        FORBIDDEN_LEVEL_TYPE
                    } else {
                        "TotalLevel"
                    };
                    m.serialize_entry("type", ty)?;
                }
                "product" => match self.product {
                    Some(fields) => m.serialize_entry(
                        "product",
                        &ProductOut {
                            data: d,
                            idx: self.idx,
                            fields,
                            product_type: true,
                            style: self.style,
                        },
                    )?,
                    None => m.serialize_entry(
                        "product",
                        &ProductStub {
                            ty: if self.style.mutation == Mutation::StubType {
                                UNKNOWN_OBJECT_TYPE
                            } else {
                                "Product"
                            },
                            id: p.id,
                            sku: d.str(p.sku),
                        },
                    )?,
                },
                "warehouse" => m.serialize_entry(
                    "warehouse",
                    &Ref {
                        ty: "Warehouse",
                        id: p.warehouse_id,
                    },
                )?,
                "updated_at" => m.serialize_entry("updated_at", &Ts(p.level_updated_at))?,
                name => match QTY_NAMES.iter().position(|q| *q == name) {
                    Some(_) if self.style.bad_qty && name == "qty_on_hand" => {
                        m.serialize_entry(name, BAD_QTY)?
                    }
                    // Every quantity the spec lists, the dataset's and any other.
                    _ if self.style.null_qty && name.starts_with(QTY_PREFIX) => {
                        m.serialize_entry(name, &())?
                    }
                    Some(q) => m.serialize_entry(name, &p.qty[q])?,
                    None => m.serialize_entry(name, &synth::property(prop, p.id))?,
                },
            }
        }
        if self.style.extra {
            m.serialize_entry(
                EXTRA_FIELD,
                &serde_json::json!({"note": "a member this API description does not list", "n": 1}),
            )?;
        }
        m.end()
    }
}

fn product(d: &Data, idx: usize) -> Result<&Product, &'static str> {
    d.products.get(idx).ok_or("product index out of range")
}

struct ProductStub<'a> {
    ty: &'a str,
    id: u32,
    sku: &'a str,
}

impl Serialize for ProductStub<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("type", self.ty)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("sku", self.sku)?;
        m.end()
    }
}

/// A `Product` with the selected fields.
pub(crate) struct ProductOut<'a> {
    pub(crate) data: &'a Data,
    pub(crate) idx: usize,
    pub(crate) fields: ProductFields,
    /// Also write `product_type` (file format only).
    pub(crate) product_type: bool,
    pub(crate) style: Style,
}

struct Str<'a>(&'a Data, Span);

impl Serialize for Str<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.opt_str(self.1) {
            Some(t) => s.serialize_str(t),
            None => s.serialize_none(),
        }
    }
}

struct Measure<'a> {
    value: f64,
    unit: Option<&'a str>,
    as_f32: bool,
}

impl Serialize for Measure<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if self.as_f32 {
            m.serialize_entry("value", &(self.value as f32))?;
        } else {
            m.serialize_entry("value", &self.value)?;
        }
        if let Some(u) = self.unit {
            m.serialize_entry("unit", u)?;
        }
        m.end()
    }
}

impl Serialize for ProductOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.data;
        let p = product(d, self.idx).map_err(S::Error::custom)?;
        let f = self.fields;
        let mutation = self.style.mutation;
        let mut m = s.serialize_map(None)?;
        for (i, prop) in api::PRODUCT_PROPERTIES.iter().enumerate() {
            if !prop.required && !f.has_index(i) {
                continue;
            }
            let name = prop.name;
            match name {
                "type" => m.serialize_entry(name, "Product")?,
                "id" => m.serialize_entry(name, &p.id)?,
                "sku" => m.serialize_entry(name, d.str(p.sku))?,
                "name" => m.serialize_entry(name, d.str(p.name))?,
                "vendor_sku" => m.serialize_entry(name, &Str(d, p.vendor_sku))?,
                "external_id" => m.serialize_entry(name, &Str(d, p.external_id))?,
                "barcodes" => m.serialize_entry(name, &Barcodes(d, p))?,
                "goods_type" => {
                    let g = if mutation == Mutation::GoodsType {
                        UNKNOWN_GOODS_TYPE
                    } else {
                        d.str(p.goods_type)
                    };
                    m.serialize_entry(name, g)?;
                }
                "is_enabled" => m.serialize_entry(name, &p.has(flag::ENABLED))?,
                "is_available" => m.serialize_entry(name, &p.has(flag::AVAILABLE))?,
                "is_visible" => m.serialize_entry(name, &p.has(flag::VISIBLE))?,
                "lot_type" => m.serialize_entry(name, &opt_ref("LotType", p.lot_type_id))?,
                "weight" => {
                    let w = p.has(flag::WEIGHT).then(|| Measure {
                        value: f64::from(p.weight),
                        unit: if mutation == Mutation::WeightUnit {
                            Some(UNKNOWN_WEIGHT_UNIT)
                        } else {
                            d.opt_str(p.weight_unit)
                        },
                        as_f32: true,
                    });
                    m.serialize_entry(name, &w)?;
                }
                "dimensions" => {
                    m.serialize_entry(name, &p.has(flag::DIMENSIONS).then_some(Dims(d, p)))?
                }
                "volume" => {
                    let v = p.has(flag::VOLUME).then(|| Measure {
                        value: f64::from(p.volume),
                        unit: d.opt_str(p.volume_unit),
                        as_f32: true,
                    });
                    m.serialize_entry(name, &v)?;
                }
                "inventory" => {
                    let inv = p.has(flag::INVENTORY).then_some(Inventory(d, p, mutation));
                    m.serialize_entry(name, &inv)?;
                }
                "export" => {
                    m.serialize_entry(name, &(p.export != NONE).then_some(ExportOut(d, p.export)))?
                }
                "regulated_goods" => {
                    let r = (p.regulated != NONE).then_some(RegulatedOut(d, p.regulated));
                    m.serialize_entry(name, &r)?;
                }
                "packaging" => {
                    let pk = (p.packaging != NONE).then_some(PackagingOut(d, p.packaging));
                    m.serialize_entry(name, &pk)?;
                }
                "custom_fields" => m.serialize_entry(
                    name,
                    &(!p.custom_fields.is_null()).then_some(CustomFields(d, p)),
                )?,
                "merchant" => m.serialize_entry(name, &opt_ref("Merchant", p.merchant_id))?,
                "created_at" => m.serialize_entry(name, &Ts(p.created_at))?,
                "updated_at" => m.serialize_entry(name, &Ts(p.updated_at))?,
                _ => m.serialize_entry(name, &synth::property(prop, p.id))?,
            }
        }
        if self.product_type {
            m.serialize_entry(
                "product_type",
                crate::dataset::product_type_name(p.product_type),
            )?;
        }
        if self.style.extra {
            m.serialize_entry(EXTRA_FIELD, "a member this API description does not list")?;
        }
        m.end()
    }
}

struct Barcodes<'a>(&'a Data, &'a Product);

impl Serialize for Barcodes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (d, p) = (self.0, self.1);
        if p.barcodes.is_null() {
            return s.serialize_none();
        }
        let spans = d.spans.get(p.barcodes.range()).unwrap_or_default();
        let mut seq = s.serialize_seq(Some(spans.len()))?;
        for span in spans {
            seq.serialize_element(d.str(*span))?;
        }
        seq.end()
    }
}

struct Dims<'a>(&'a Data, &'a Product);

impl Serialize for Dims<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (d, p) = (self.0, self.1);
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("length", &p.dims[0])?;
        m.serialize_entry("width", &p.dims[1])?;
        m.serialize_entry("height", &p.dims[2])?;
        if let Some(u) = d.opt_str(p.dims_unit) {
            m.serialize_entry("unit", u)?;
        }
        m.end()
    }
}

struct Inventory<'a>(&'a Data, &'a Product, Mutation);

impl Serialize for Inventory<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (d, p) = (self.0, self.1);
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("backorders", &p.has(flag::BACKORDERS))?;
        m.serialize_entry("dynamic_allocation", &p.has(flag::DYNAMIC_ALLOCATION))?;
        if self.2 == Mutation::VirtualInventory {
            m.serialize_entry("virtual_inventory", UNKNOWN_VIRTUAL_INVENTORY)?;
        } else if let Some(v) = d.opt_str(p.virtual_inventory) {
            m.serialize_entry("virtual_inventory", v)?;
        }
        m.end()
    }
}

struct ExportOut<'a>(&'a Data, u32);

impl Serialize for ExportOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let e = d
            .exports
            .get(self.1 as usize)
            .ok_or_else(|| S::Error::custom("export index out of range"))?;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("description", &Str(d, e.description))?;
        m.serialize_entry(
            "customs_value",
            &e.customs_value
                .map(|(amount, cur)| Money(amount, d.opt_str(cur))),
        )?;
        m.serialize_entry("country_of_manufacture", &Str(d, e.country_of_manufacture))?;
        m.serialize_entry("hs_base_code", &Str(d, e.hs_base_code))?;
        let ext = (!e.hs_country_extension.is_null()).then_some(HsExt(d, e.hs_country_extension));
        m.serialize_entry("hs_country_extension", &ext)?;
        m.end()
    }
}

struct Money<'a>(f64, Option<&'a str>);

impl Serialize for Money<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("amount", &self.0)?;
        if let Some(c) = self.1 {
            m.serialize_entry("currency", c)?;
        }
        m.end()
    }
}

struct HsExt<'a>(&'a Data, crate::dataset::List);

impl Serialize for HsExt<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let items = d.hs_ext.get(self.1.range()).unwrap_or_default();
        let mut seq = s.serialize_seq(Some(items.len()))?;
        for (c, x) in items {
            seq.serialize_element(&HsExtItem(d, *c, *x))?;
        }
        seq.end()
    }
}

struct HsExtItem<'a>(&'a Data, Span, Span);

impl Serialize for HsExtItem<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let mut m = s.serialize_map(None)?;
        if let Some(c) = d.opt_str(self.1) {
            m.serialize_entry("country_id", c)?;
        }
        if let Some(x) = d.opt_str(self.2) {
            m.serialize_entry("extension", x)?;
        }
        m.end()
    }
}

struct RegulatedOut<'a>(&'a Data, u32);

impl Serialize for RegulatedOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let r = d
            .regulated
            .get(self.1 as usize)
            .ok_or_else(|| S::Error::custom("regulated index out of range"))?;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry(
            "regulation",
            &r.regulation_id.map(|id| Ref {
                ty: "Regulation",
                id,
            }),
        )?;
        m.serialize_entry("technical_name", &Str(d, r.technical_name))?;
        m.serialize_entry("additional_information", &Str(d, r.additional_information))?;
        m.serialize_entry(
            "net_weight",
            &r.net_weight.map(|(value, unit)| Measure {
                value,
                unit: d.opt_str(unit),
                as_f32: false,
            }),
        )?;
        m.serialize_entry("container_type", &Str(d, r.container_type))?;
        m.serialize_entry(
            "container_meets_hazmat_specs",
            &r.container_meets_hazmat_specs,
        )?;
        m.serialize_entry("regulation_units", &r.regulation_units)?;
        m.end()
    }
}

struct PackagingOut<'a>(&'a Data, u32);

impl Serialize for PackagingOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let p = d
            .packagings
            .get(self.1 as usize)
            .ok_or_else(|| S::Error::custom("packaging index out of range"))?;
        let b = |bit: u8| p.flags & bit != 0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("require_packaging", &b(pack::REQUIRE_PACKAGING))?;
        m.serialize_entry("require_weight_check", &b(pack::REQUIRE_WEIGHT_CHECK))?;
        m.serialize_entry(
            "require_confirmation_per_item",
            &b(pack::REQUIRE_CONFIRMATION_PER_ITEM),
        )?;
        m.serialize_entry("unit_quantity", &p.unit_quantity)?;
        m.serialize_entry("bulk_quantity", &p.bulk_quantity)?;
        m.serialize_entry("max_per_package", &p.max_per_package)?;
        m.serialize_entry("is_ship_separately", &b(pack::IS_SHIP_SEPARATELY))?;
        m.serialize_entry("ship_separately_tag", &Str(d, p.ship_separately_tag))?;
        m.serialize_entry("can_tip", &b(pack::CAN_TIP))?;
        m.serialize_entry("can_contain_other_items", &b(pack::CAN_CONTAIN_OTHER_ITEMS))?;
        m.serialize_entry("is_handling_surcharge", &b(pack::IS_HANDLING_SURCHARGE))?;
        m.end()
    }
}

struct CustomFields<'a>(&'a Data, &'a Product);

impl Serialize for CustomFields<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let items = d
            .custom_fields
            .get(self.1.custom_fields.range())
            .unwrap_or_default();
        let mut seq = s.serialize_seq(Some(items.len()))?;
        for cf in items {
            seq.serialize_element(&CustomFieldOut(d, cf))?;
        }
        seq.end()
    }
}

struct CustomFieldOut<'a>(&'a Data, &'a crate::dataset::CustomField);

impl Serialize for CustomFieldOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (d, cf) = (self.0, self.1);
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("code", d.str(cf.code))?;
        match &cf.value {
            CfValue::Null => m.serialize_entry("value", &())?,
            CfValue::Bool(b) => m.serialize_entry("value", b)?,
            CfValue::Int(i) => m.serialize_entry("value", i)?,
            CfValue::Float(f) => m.serialize_entry("value", f)?,
            CfValue::Str(span) => m.serialize_entry("value", d.str(*span))?,
            CfValue::Json(span) => {
                let raw: &serde_json::value::RawValue =
                    serde_json::from_str(d.str(*span)).map_err(S::Error::custom)?;
                m.serialize_entry("value", raw)?;
            }
        }
        if let Some(l) = d.opt_str(cf.label) {
            m.serialize_entry("label", l)?;
        }
        m.end()
    }
}

/// A page of levels (`TotalLevelsPage`).
pub(crate) struct PageOut<'a> {
    pub(crate) data: &'a Data,
    pub(crate) items: &'a [u32],
    pub(crate) style: Style,
    /// The position in `items` of the level spoilt by the `bad-record` fault.
    pub(crate) bad_record: Option<usize>,
    /// The position in `items` of the level whose `type` the `forbidden-enum` fault
    /// changes.
    pub(crate) forbidden_type: Option<usize>,
    pub(crate) level_fields: LevelFields,
    pub(crate) product_fields: Option<ProductFields>,
    pub(crate) has_more: bool,
    /// Leave `has_more` out ([`MockConfig::omit_has_more`](crate::MockConfig)).
    pub(crate) omit_has_more: bool,
    pub(crate) next: Option<&'a str>,
    /// Leave `next` out rather than send it null.
    pub(crate) omit_next: bool,
    pub(crate) previous: Option<&'a str>,
    pub(crate) processing_time: f64,
    pub(crate) cursor_start: Option<u32>,
    pub(crate) cursor_end: Option<u32>,
    pub(crate) count: Option<u64>,
}

struct Collection<'a>(&'a PageOut<'a>);

impl Serialize for Collection<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let page = self.0;
        let mut seq = s.serialize_seq(Some(page.items.len()))?;
        for (i, &idx) in page.items.iter().enumerate() {
            seq.serialize_element(&LevelOut {
                data: page.data,
                idx: idx as usize,
                fields: page.level_fields,
                product: None,
                style: Style {
                    bad_qty: page.bad_record == Some(i),
                    forbidden_type: page.forbidden_type == Some(i),
                    ..page.style
                },
            })?;
        }
        seq.end()
    }
}

struct Included<'a>(&'a PageOut<'a>, ProductFields);

impl Serialize for Included<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("Product", &IncludedProducts(self.0, self.1))?;
        m.end()
    }
}

struct IncludedProducts<'a>(&'a PageOut<'a>, ProductFields);

impl Serialize for IncludedProducts<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let page = self.0;
        let mut seq = s.serialize_seq(Some(page.items.len()))?;
        for &idx in page.items {
            seq.serialize_element(&ProductOut {
                data: page.data,
                idx: idx as usize,
                fields: self.1,
                product_type: false,
                style: page.style,
            })?;
        }
        seq.end()
    }
}

struct Meta<'a>(&'a PageOut<'a>);

impl Serialize for Meta<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let page = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("processing_time", &page.processing_time)?;
        m.serialize_entry("cursor_start", &page.cursor_start)?;
        m.serialize_entry("cursor_end", &page.cursor_end)?;
        if let Some(c) = page.count {
            m.serialize_entry("count", &c)?;
        }
        m.end()
    }
}

impl Serialize for PageOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("collection", &Collection(self))?;
        if let Some(f) = self.product_fields {
            m.serialize_entry("included", &Included(self, f))?;
        }
        if !self.omit_has_more {
            m.serialize_entry("has_more", &self.has_more)?;
        }
        if !(self.omit_next && self.next.is_none()) {
            m.serialize_entry("next", &self.next)?;
        }
        m.serialize_entry("previous", &self.previous)?;
        m.serialize_entry("meta", &Meta(self))?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_sets_follow_the_spec() {
        for (i, prop) in api::PRODUCT_PROPERTIES.iter().enumerate() {
            assert_eq!(ProductFields::bit(prop.name), Some(1 << i));
            assert!(ProductFields::all().has(prop.name));
            assert_eq!(ProductFields::basic().has(prop.name), !prop.optional_field);
        }
        assert_eq!(ProductFields::bit("nope"), None);
        for prop in api::LEVEL_PROPERTIES {
            assert!(LevelFields::all().has(prop.name));
        }
    }
}
