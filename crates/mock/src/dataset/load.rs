//! Reading records (the NDJSON / JSON file format): each record is deserialised into the
//! structs below (serde derive; `null` reads as absent), then stored compactly.

use serde::Deserialize;

use super::*;

/// A record: a level with its full product.
#[derive(Deserialize)]
struct RecordIn {
    product: ProductIn,
    warehouse: Option<RefIn>,
    updated_at: Option<String>,
    /// The quantities, read by [`QTY_NAMES`], and anything else (ignored).
    #[serde(flatten)]
    rest: Map<String, Json>,
}

#[derive(Deserialize)]
struct ProductIn {
    id: i64,
    sku: String,
    name: Option<String>,
    vendor_sku: Option<String>,
    external_id: Option<String>,
    goods_type: Option<String>,
    barcodes: Option<Vec<String>>,
    product_type: Option<String>,
    is_enabled: Option<bool>,
    is_available: Option<bool>,
    is_visible: Option<bool>,
    merchant: Option<RefIn>,
    lot_type: Option<RefIn>,
    weight: Option<MeasureIn>,
    dimensions: Option<DimensionsIn>,
    volume: Option<MeasureIn>,
    inventory: Option<InventoryIn>,
    /// Kept as JSON: equal objects are stored once (keyed by their text).
    export: Option<Json>,
    regulated_goods: Option<Json>,
    packaging: Option<Json>,
    custom_fields: Option<Vec<CustomFieldIn>>,
    created_at: Option<String>,
    updated_at: Option<String>,
}

#[derive(Deserialize)]
struct RefIn {
    id: i64,
}

#[derive(Deserialize)]
struct MeasureIn {
    value: Option<f64>,
    unit: Option<String>,
}

#[derive(Deserialize)]
struct DimensionsIn {
    length: Option<f64>,
    width: Option<f64>,
    height: Option<f64>,
    unit: Option<String>,
}

#[derive(Deserialize)]
struct InventoryIn {
    backorders: Option<bool>,
    dynamic_allocation: Option<bool>,
    virtual_inventory: Option<String>,
}

#[derive(Deserialize)]
struct ExportIn {
    description: Option<String>,
    customs_value: Option<MoneyIn>,
    country_of_manufacture: Option<String>,
    hs_base_code: Option<String>,
    hs_country_extension: Option<Vec<HsExtensionIn>>,
}

#[derive(Deserialize)]
struct MoneyIn {
    amount: Option<f64>,
    currency: Option<String>,
}

#[derive(Deserialize)]
struct HsExtensionIn {
    country_id: Option<String>,
    extension: Option<String>,
}

#[derive(Deserialize)]
struct RegulatedIn {
    regulation: Option<RefIn>,
    technical_name: Option<String>,
    additional_information: Option<String>,
    net_weight: Option<MeasureIn>,
    container_type: Option<String>,
    container_meets_hazmat_specs: Option<bool>,
    regulation_units: Option<i64>,
}

#[derive(Deserialize)]
struct PackagingIn {
    require_packaging: Option<bool>,
    require_weight_check: Option<bool>,
    require_confirmation_per_item: Option<bool>,
    is_ship_separately: Option<bool>,
    can_tip: Option<bool>,
    can_contain_other_items: Option<bool>,
    is_handling_surcharge: Option<bool>,
    unit_quantity: Option<i64>,
    bulk_quantity: Option<i64>,
    max_per_package: Option<i64>,
    ship_separately_tag: Option<String>,
}

#[derive(Deserialize)]
struct CustomFieldIn {
    code: String,
    label: Option<String>,
    #[serde(default)]
    value: Json,
}

/// Collects records into a [`Data`].
#[derive(Default)]
pub(super) struct Loader {
    b: Builder,
    exports: HashMap<String, u32>,
    regulated: HashMap<String, u32>,
    packagings: HashMap<String, u32>,
}

struct Ctx {
    record: usize,
}

impl Ctx {
    fn err(&self, message: impl Into<String>) -> DatasetError {
        DatasetError::Invalid {
            record: self.record,
            message: message.into(),
        }
    }

    /// Deserialises `v` as `T`, naming the member at fault (`product.id`) in the error.
    fn read<'de, T: Deserialize<'de>>(&self, v: &'de Json, at: &str) -> Result<T, DatasetError> {
        serde_path_to_error::deserialize(v).map_err(|e| {
            let mut path = e.path().to_string();
            if path == "." {
                path = String::new();
            }
            let inner = e.into_inner().to_string();
            // "missing field `id`" names the member below the path.
            let (path, message) = match inner
                .strip_prefix("missing field `")
                .and_then(|r| r.split_once('`'))
            {
                Some((field, _)) => (join(&join(at, &path), field), "is missing".to_owned()),
                None => (join(at, &path), inner),
            };
            if path.is_empty() {
                self.err(message)
            } else {
                self.err(format!("`{path}` {message}"))
            }
        })
    }
}

fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_owned(),
        (_, true) => a.to_owned(),
        _ => format!("{a}.{b}"),
    }
}

fn ref_id(r: Option<&RefIn>, key: &str, ctx: &Ctx) -> Result<Option<u32>, DatasetError> {
    r.map(|r| {
        u32::try_from(r.id).map_err(|_| ctx.err(format!("`{key}.id` must be in 0..=4294967295")))
    })
    .transpose()
}

fn ts(text: Option<&str>, key: &str, ctx: &Ctx) -> Result<Option<i64>, DatasetError> {
    text.map(|s| {
        time::parse(s)
            .ok_or_else(|| ctx.err(format!("`{key}` is not an RFC 3339 timestamp: {s:?}")))
    })
    .transpose()
}

impl Loader {
    pub(super) fn add(&mut self, v: &Json, record: usize) -> Result<(), DatasetError> {
        let ctx = Ctx { record };
        if !v.is_object() {
            return Err(ctx.err("a record must be an object"));
        }
        let r: RecordIn = ctx.read(v, "")?;
        let p = r.product;
        let id = u32::try_from(p.id)
            .ok()
            .filter(|&i| i > 0)
            .ok_or_else(|| ctx.err("`product.id` must be in 1..=4294967295"))?;
        let b = &mut self.b;
        let sku = b.push(&p.sku);
        let name = b.push(p.name.as_deref().unwrap_or_default());
        let vendor_sku = b.opt_push(p.vendor_sku.as_deref());
        let external_id = b.opt_push(p.external_id.as_deref());
        let goods_type = b.intern(
            p.goods_type
                .as_deref()
                .unwrap_or(GoodsType::KNOWN.first().copied().unwrap_or_default()),
        );
        let barcodes = match &p.barcodes {
            None => List::NULL,
            Some(items) => {
                let spans: Vec<Span> = items.iter().map(|s| b.push(s)).collect();
                b.list(spans)
            }
        };
        let product_type = match p.product_type.as_deref() {
            None => 0,
            Some(t) => product_type_index(t.parse::<ProductType>().map_err(|_| {
                ctx.err(format!(
                    "unknown product_type {t:?}; the spec lists {}",
                    ProductType::ALL
                        .iter()
                        .map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?),
        };
        let mut flags = 0u16;
        for (value, bit) in [
            (p.is_enabled, flag::ENABLED),
            (p.is_available, flag::AVAILABLE),
            (p.is_visible, flag::VISIBLE),
        ] {
            if value.unwrap_or(true) {
                flags |= bit;
            }
        }
        let mut product = Product {
            id,
            merchant_id: ref_id(p.merchant.as_ref(), "merchant", &ctx)?.unwrap_or(0),
            warehouse_id: ref_id(r.warehouse.as_ref(), "warehouse", &ctx)?.unwrap_or(1),
            lot_type_id: ref_id(p.lot_type.as_ref(), "lot_type", &ctx)?.unwrap_or(0),
            sku,
            name,
            vendor_sku,
            external_id,
            goods_type,
            barcodes,
            flags,
            product_type,
            ..Product::BLANK
        };
        if let Some(w) = &p.weight {
            product.flags |= flag::WEIGHT;
            product.weight = w.value.unwrap_or(0.0) as f32;
            product.weight_unit = self.b.opt_intern(w.unit.as_deref());
        }
        if let Some(d) = &p.dimensions {
            product.flags |= flag::DIMENSIONS;
            product.dims = [d.length, d.width, d.height].map(|x| x.unwrap_or(0.0) as f32);
            product.dims_unit = self.b.opt_intern(d.unit.as_deref());
        }
        if let Some(vol) = &p.volume {
            product.flags |= flag::VOLUME;
            product.volume = vol.value.unwrap_or(0.0) as f32;
            product.volume_unit = self.b.opt_intern(vol.unit.as_deref());
        }
        if let Some(inv) = &p.inventory {
            product.flags |= flag::INVENTORY;
            if inv.backorders.unwrap_or(false) {
                product.flags |= flag::BACKORDERS;
            }
            if inv.dynamic_allocation.unwrap_or(false) {
                product.flags |= flag::DYNAMIC_ALLOCATION;
            }
            product.virtual_inventory = self.b.opt_intern(inv.virtual_inventory.as_deref());
        }
        if let Some(e) = &p.export {
            product.export = self.export(e, &ctx)?;
        }
        if let Some(rg) = &p.regulated_goods {
            product.regulated = self.regulated(rg, &ctx)?;
        }
        if let Some(pk) = &p.packaging {
            product.packaging = self.packaging(pk, &ctx)?;
        }
        if let Some(cf) = &p.custom_fields {
            product.custom_fields = self.custom_fields(cf);
        }
        let level_updated = ts(r.updated_at.as_deref(), "updated_at", &ctx)?;
        let created = ts(p.created_at.as_deref(), "created_at", &ctx)?;
        let updated = ts(p.updated_at.as_deref(), "updated_at", &ctx)?;
        product.created_at = created.or(updated).or(level_updated).unwrap_or(0);
        product.updated_at = updated.unwrap_or(product.created_at);
        product.level_updated_at = level_updated.unwrap_or(product.updated_at);
        for (i, name) in QTY_NAMES.iter().enumerate() {
            let v = match r.rest.get(*name) {
                None | Some(Json::Null) => 0,
                Some(v) => v
                    .as_i64()
                    .ok_or_else(|| ctx.err(format!("`{name}` must be an integer")))?,
            };
            product.qty[i] = i32::try_from(v)
                .map_err(|_| ctx.err(format!("`{name}` does not fit in 32 bits")))?;
        }
        self.b.data.products.push(product);
        Ok(())
    }

    fn export(&mut self, v: &Json, ctx: &Ctx) -> Result<u32, DatasetError> {
        let key = v.to_string();
        if let Some(i) = self.exports.get(&key) {
            return Ok(*i);
        }
        let e: ExportIn = ctx.read(v, "product.export")?;
        let b = &mut self.b;
        let customs_value = e.customs_value.map(|cv| {
            (
                cv.amount.unwrap_or(0.0),
                b.opt_intern(cv.currency.as_deref()),
            )
        });
        let hs_country_extension = match &e.hs_country_extension {
            None => List::NULL,
            Some(items) => {
                let start = b.data.hs_ext.len();
                for item in items {
                    let c = b.opt_intern(item.country_id.as_deref());
                    let x = b.opt_intern(item.extension.as_deref());
                    b.data.hs_ext.push((c, x));
                }
                List {
                    start: start as u32,
                    len: items.len() as u32,
                }
            }
        };
        let export = Export {
            description: b.opt_intern(e.description.as_deref()),
            customs_value,
            country_of_manufacture: b.opt_intern(e.country_of_manufacture.as_deref()),
            hs_base_code: b.opt_intern(e.hs_base_code.as_deref()),
            hs_country_extension,
        };
        let i = b.data.exports.len() as u32;
        b.data.exports.push(export);
        self.exports.insert(key, i);
        Ok(i)
    }

    fn regulated(&mut self, v: &Json, ctx: &Ctx) -> Result<u32, DatasetError> {
        let key = v.to_string();
        if let Some(i) = self.regulated.get(&key) {
            return Ok(*i);
        }
        let r: RegulatedIn = ctx.read(v, "product.regulated_goods")?;
        let b = &mut self.b;
        let net_weight = r
            .net_weight
            .map(|w| (w.value.unwrap_or(0.0), b.opt_intern(w.unit.as_deref())));
        let reg = Regulated {
            regulation_id: ref_id(r.regulation.as_ref(), "regulation", ctx)?,
            technical_name: b.opt_intern(r.technical_name.as_deref()),
            additional_information: b.opt_intern(r.additional_information.as_deref()),
            net_weight,
            container_type: b.opt_intern(r.container_type.as_deref()),
            container_meets_hazmat_specs: r.container_meets_hazmat_specs,
            regulation_units: r.regulation_units,
        };
        let i = b.data.regulated.len() as u32;
        b.data.regulated.push(reg);
        self.regulated.insert(key, i);
        Ok(i)
    }

    fn packaging(&mut self, v: &Json, ctx: &Ctx) -> Result<u32, DatasetError> {
        let key = v.to_string();
        if let Some(i) = self.packagings.get(&key) {
            return Ok(*i);
        }
        let p: PackagingIn = ctx.read(v, "product.packaging")?;
        let mut flags = 0u8;
        for (value, bit) in [
            (p.require_packaging, pack::REQUIRE_PACKAGING),
            (p.require_weight_check, pack::REQUIRE_WEIGHT_CHECK),
            (
                p.require_confirmation_per_item,
                pack::REQUIRE_CONFIRMATION_PER_ITEM,
            ),
            (p.is_ship_separately, pack::IS_SHIP_SEPARATELY),
            (p.can_tip, pack::CAN_TIP),
            (p.can_contain_other_items, pack::CAN_CONTAIN_OTHER_ITEMS),
            (p.is_handling_surcharge, pack::IS_HANDLING_SURCHARGE),
        ] {
            if value.unwrap_or(false) {
                flags |= bit;
            }
        }
        let packaging = Packaging {
            flags,
            unit_quantity: p.unit_quantity,
            bulk_quantity: p.bulk_quantity,
            max_per_package: p.max_per_package,
            ship_separately_tag: self.b.opt_intern(p.ship_separately_tag.as_deref()),
        };
        let i = self.b.data.packagings.len() as u32;
        self.b.data.packagings.push(packaging);
        self.packagings.insert(key, i);
        Ok(i)
    }

    fn custom_fields(&mut self, items: &[CustomFieldIn]) -> List {
        let start = self.b.data.custom_fields.len();
        for item in items {
            let code = self.b.intern(&item.code);
            let label = self.b.opt_intern(item.label.as_deref());
            let value = match &item.value {
                Json::Null => CfValue::Null,
                Json::Bool(b) => CfValue::Bool(*b),
                Json::Number(n) => match n.as_i64() {
                    Some(i) => CfValue::Int(i),
                    None => CfValue::Float(n.as_f64().unwrap_or(0.0)),
                },
                Json::String(s) => CfValue::Str(self.b.intern(s)),
                other => CfValue::Json(self.b.intern(&other.to_string())),
            };
            self.b
                .data
                .custom_fields
                .push(CustomField { code, label, value });
        }
        List {
            start: start as u32,
            len: items.len() as u32,
        }
    }

    pub(super) fn finish(self) -> Result<Dataset, DatasetError> {
        let mut data = self.b.data;
        data.products.sort_by_key(|p| p.id);
        for (n, w) in data.products.windows(2).enumerate() {
            if w[0].id == w[1].id {
                return Err(DatasetError::Invalid {
                    record: n + 2,
                    message: format!("duplicate product id {}", w[0].id),
                });
            }
        }
        let mut skus = std::collections::HashSet::with_capacity(data.products.len());
        for p in &data.products {
            if !skus.insert(data.str(p.sku)) {
                return Err(DatasetError::Invalid {
                    record: 0,
                    message: format!("duplicate sku {:?} (product {})", data.str(p.sku), p.id),
                });
            }
        }
        data.products.shrink_to_fit();
        data.text.shrink_to_fit();
        Ok(Dataset {
            data: Arc::new(data),
        })
    }
}
