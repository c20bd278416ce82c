//! Reading records (the NDJSON / JSON file format).

use super::*;

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
}

fn obj<'a>(v: &'a Json, what: &str, ctx: &Ctx) -> Result<&'a Map<String, Json>, DatasetError> {
    v.as_object()
        .ok_or_else(|| ctx.err(format!("{what} must be an object")))
}

/// `Some(value)` unless missing or null.
fn get<'a>(m: &'a Map<String, Json>, key: &str) -> Option<&'a Json> {
    m.get(key).filter(|v| !v.is_null())
}

fn string<'a>(
    m: &'a Map<String, Json>,
    key: &str,
    ctx: &Ctx,
) -> Result<Option<&'a str>, DatasetError> {
    match get(m, key) {
        None => Ok(None),
        Some(Json::String(s)) => Ok(Some(s)),
        Some(_) => Err(ctx.err(format!("`{key}` must be a string"))),
    }
}

fn int(m: &Map<String, Json>, key: &str, ctx: &Ctx) -> Result<Option<i64>, DatasetError> {
    match get(m, key) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| ctx.err(format!("`{key}` must be an integer"))),
    }
}

fn num(m: &Map<String, Json>, key: &str, ctx: &Ctx) -> Result<Option<f64>, DatasetError> {
    match get(m, key) {
        None => Ok(None),
        Some(v) => v
            .as_f64()
            .map(Some)
            .ok_or_else(|| ctx.err(format!("`{key}` must be a number"))),
    }
}

fn boolean(m: &Map<String, Json>, key: &str, ctx: &Ctx) -> Result<Option<bool>, DatasetError> {
    match get(m, key) {
        None => Ok(None),
        Some(v) => v
            .as_bool()
            .map(Some)
            .ok_or_else(|| ctx.err(format!("`{key}` must be a boolean"))),
    }
}

fn ts(m: &Map<String, Json>, key: &str, ctx: &Ctx) -> Result<Option<i64>, DatasetError> {
    match string(m, key, ctx)? {
        None => Ok(None),
        Some(s) => time::parse(s)
            .map(Some)
            .ok_or_else(|| ctx.err(format!("`{key}` is not an RFC 3339 timestamp: {s:?}"))),
    }
}

fn ref_id(m: &Map<String, Json>, key: &str, ctx: &Ctx) -> Result<Option<u32>, DatasetError> {
    match get(m, key) {
        None => Ok(None),
        Some(v) => {
            let o = obj(v, key, ctx)?;
            let id = int(o, "id", ctx)?.ok_or_else(|| ctx.err(format!("`{key}.id` is missing")))?;
            u32::try_from(id)
                .map(Some)
                .map_err(|_| ctx.err(format!("`{key}.id` must be in 0..=4294967295")))
        }
    }
}

impl Loader {
    pub(super) fn add(&mut self, v: &Json, record: usize) -> Result<(), DatasetError> {
        let ctx = Ctx { record };
        let level = obj(v, "a record", &ctx)?;
        let pv = level
            .get("product")
            .ok_or_else(|| ctx.err("`product` is missing"))?;
        let p = obj(pv, "`product`", &ctx)?;
        let id = int(p, "id", &ctx)?.ok_or_else(|| ctx.err("`product.id` is missing"))?;
        let id = u32::try_from(id)
            .ok()
            .filter(|&i| i > 0)
            .ok_or_else(|| ctx.err("`product.id` must be in 1..=4294967295"))?;
        let sku = string(p, "sku", &ctx)?.ok_or_else(|| ctx.err("`product.sku` is missing"))?;
        let b = &mut self.b;
        let sku = b.push(sku);
        let name = b.push(string(p, "name", &ctx)?.unwrap_or_default());
        let vendor_sku = b.opt_push(string(p, "vendor_sku", &ctx)?);
        let external_id = b.opt_push(string(p, "external_id", &ctx)?);
        let goods_type = b.intern(
            string(p, "goods_type", &ctx)?
                .unwrap_or(GoodsType::KNOWN.first().copied().unwrap_or_default()),
        );
        let barcodes = match get(p, "barcodes") {
            None => List::NULL,
            Some(Json::Array(items)) => {
                let mut spans = Vec::with_capacity(items.len());
                for item in items {
                    let s = item
                        .as_str()
                        .ok_or_else(|| ctx.err("`barcodes` must hold strings"))?;
                    spans.push(b.push(s));
                }
                b.list(spans)
            }
            Some(_) => return Err(ctx.err("`barcodes` must be an array")),
        };
        let product_type = match string(p, "product_type", &ctx)? {
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
        for (key, bit, default) in [
            ("is_enabled", flag::ENABLED, true),
            ("is_available", flag::AVAILABLE, true),
            ("is_visible", flag::VISIBLE, true),
        ] {
            if boolean(p, key, &ctx)?.unwrap_or(default) {
                flags |= bit;
            }
        }
        let mut product = Product {
            id,
            merchant_id: ref_id(p, "merchant", &ctx)?.unwrap_or(0),
            warehouse_id: ref_id(level, "warehouse", &ctx)?.unwrap_or(1),
            lot_type_id: ref_id(p, "lot_type", &ctx)?.unwrap_or(0),
            sku,
            name,
            vendor_sku,
            external_id,
            goods_type,
            barcodes,
            custom_fields: List::NULL,
            export: NONE,
            regulated: NONE,
            packaging: NONE,
            weight: 0.0,
            dims: [0.0; 3],
            volume: 0.0,
            weight_unit: Span::NULL,
            dims_unit: Span::NULL,
            volume_unit: Span::NULL,
            virtual_inventory: Span::NULL,
            flags,
            product_type,
            created_at: 0,
            updated_at: 0,
            level_updated_at: 0,
            qty: [0; 10],
        };
        if let Some(w) = get(p, "weight") {
            let w = obj(w, "`weight`", &ctx)?;
            product.flags |= flag::WEIGHT;
            product.weight = num(w, "value", &ctx)?.unwrap_or(0.0) as f32;
            product.weight_unit = self.b.opt_intern(string(w, "unit", &ctx)?);
        }
        if let Some(d) = get(p, "dimensions") {
            let d = obj(d, "`dimensions`", &ctx)?;
            product.flags |= flag::DIMENSIONS;
            for (i, k) in ["length", "width", "height"].iter().enumerate() {
                product.dims[i] = num(d, k, &ctx)?.unwrap_or(0.0) as f32;
            }
            product.dims_unit = self.b.opt_intern(string(d, "unit", &ctx)?);
        }
        if let Some(vol) = get(p, "volume") {
            let vol = obj(vol, "`volume`", &ctx)?;
            product.flags |= flag::VOLUME;
            product.volume = num(vol, "value", &ctx)?.unwrap_or(0.0) as f32;
            product.volume_unit = self.b.opt_intern(string(vol, "unit", &ctx)?);
        }
        if let Some(inv) = get(p, "inventory") {
            let inv = obj(inv, "`inventory`", &ctx)?;
            product.flags |= flag::INVENTORY;
            if boolean(inv, "backorders", &ctx)?.unwrap_or(false) {
                product.flags |= flag::BACKORDERS;
            }
            if boolean(inv, "dynamic_allocation", &ctx)?.unwrap_or(false) {
                product.flags |= flag::DYNAMIC_ALLOCATION;
            }
            product.virtual_inventory = self.b.opt_intern(string(inv, "virtual_inventory", &ctx)?);
        }
        if let Some(e) = get(p, "export") {
            product.export = self.export(e, &ctx)?;
        }
        if let Some(r) = get(p, "regulated_goods") {
            product.regulated = self.regulated(r, &ctx)?;
        }
        if let Some(pk) = get(p, "packaging") {
            product.packaging = self.packaging(pk, &ctx)?;
        }
        if let Some(cf) = get(p, "custom_fields") {
            product.custom_fields = self.custom_fields(cf, &ctx)?;
        }
        let level_updated = ts(level, "updated_at", &ctx)?;
        let created = ts(p, "created_at", &ctx)?;
        let updated = ts(p, "updated_at", &ctx)?;
        product.created_at = created.or(updated).or(level_updated).unwrap_or(0);
        product.updated_at = updated.unwrap_or(product.created_at);
        product.level_updated_at = level_updated.unwrap_or(product.updated_at);
        for (i, name) in QTY_NAMES.iter().enumerate() {
            let v = int(level, name, &ctx)?.unwrap_or(0);
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
        let e = obj(v, "`export`", ctx)?;
        let customs_value = match get(e, "customs_value") {
            None => None,
            Some(cv) => {
                let cv = obj(cv, "`customs_value`", ctx)?;
                Some((
                    num(cv, "amount", ctx)?.unwrap_or(0.0),
                    self.b.opt_intern(string(cv, "currency", ctx)?),
                ))
            }
        };
        let hs_country_extension = match get(e, "hs_country_extension") {
            None => List::NULL,
            Some(Json::Array(items)) => {
                let start = self.b.data.hs_ext.len();
                for item in items {
                    let o = obj(item, "`hs_country_extension[]`", ctx)?;
                    let c = self.b.opt_intern(string(o, "country_id", ctx)?);
                    let x = self.b.opt_intern(string(o, "extension", ctx)?);
                    self.b.data.hs_ext.push((c, x));
                }
                List {
                    start: start as u32,
                    len: items.len() as u32,
                }
            }
            Some(_) => return Err(ctx.err("`hs_country_extension` must be an array")),
        };
        let export = Export {
            description: self.b.opt_intern(string(e, "description", ctx)?),
            customs_value,
            country_of_manufacture: self.b.opt_intern(string(e, "country_of_manufacture", ctx)?),
            hs_base_code: self.b.opt_intern(string(e, "hs_base_code", ctx)?),
            hs_country_extension,
        };
        let i = self.b.data.exports.len() as u32;
        self.b.data.exports.push(export);
        self.exports.insert(key, i);
        Ok(i)
    }

    fn regulated(&mut self, v: &Json, ctx: &Ctx) -> Result<u32, DatasetError> {
        let key = v.to_string();
        if let Some(i) = self.regulated.get(&key) {
            return Ok(*i);
        }
        let r = obj(v, "`regulated_goods`", ctx)?;
        let net_weight = match get(r, "net_weight") {
            None => None,
            Some(w) => {
                let w = obj(w, "`net_weight`", ctx)?;
                Some((
                    num(w, "value", ctx)?.unwrap_or(0.0),
                    self.b.opt_intern(string(w, "unit", ctx)?),
                ))
            }
        };
        let reg = Regulated {
            regulation_id: ref_id(r, "regulation", ctx)?,
            technical_name: self.b.opt_intern(string(r, "technical_name", ctx)?),
            additional_information: self.b.opt_intern(string(r, "additional_information", ctx)?),
            net_weight,
            container_type: self.b.opt_intern(string(r, "container_type", ctx)?),
            container_meets_hazmat_specs: boolean(r, "container_meets_hazmat_specs", ctx)?,
            regulation_units: int(r, "regulation_units", ctx)?,
        };
        let i = self.b.data.regulated.len() as u32;
        self.b.data.regulated.push(reg);
        self.regulated.insert(key, i);
        Ok(i)
    }

    fn packaging(&mut self, v: &Json, ctx: &Ctx) -> Result<u32, DatasetError> {
        let key = v.to_string();
        if let Some(i) = self.packagings.get(&key) {
            return Ok(*i);
        }
        let p = obj(v, "`packaging`", ctx)?;
        let mut flags = 0u8;
        for (k, bit) in [
            ("require_packaging", pack::REQUIRE_PACKAGING),
            ("require_weight_check", pack::REQUIRE_WEIGHT_CHECK),
            (
                "require_confirmation_per_item",
                pack::REQUIRE_CONFIRMATION_PER_ITEM,
            ),
            ("is_ship_separately", pack::IS_SHIP_SEPARATELY),
            ("can_tip", pack::CAN_TIP),
            ("can_contain_other_items", pack::CAN_CONTAIN_OTHER_ITEMS),
            ("is_handling_surcharge", pack::IS_HANDLING_SURCHARGE),
        ] {
            if boolean(p, k, ctx)?.unwrap_or(false) {
                flags |= bit;
            }
        }
        let packaging = Packaging {
            flags,
            unit_quantity: int(p, "unit_quantity", ctx)?,
            bulk_quantity: int(p, "bulk_quantity", ctx)?,
            max_per_package: int(p, "max_per_package", ctx)?,
            ship_separately_tag: self.b.opt_intern(string(p, "ship_separately_tag", ctx)?),
        };
        let i = self.b.data.packagings.len() as u32;
        self.b.data.packagings.push(packaging);
        self.packagings.insert(key, i);
        Ok(i)
    }

    fn custom_fields(&mut self, v: &Json, ctx: &Ctx) -> Result<List, DatasetError> {
        let items = v
            .as_array()
            .ok_or_else(|| ctx.err("`custom_fields` must be an array"))?;
        let start = self.b.data.custom_fields.len();
        for item in items {
            let o = obj(item, "`custom_fields[]`", ctx)?;
            let code = string(o, "code", ctx)?
                .ok_or_else(|| ctx.err("`custom_fields[].code` is missing"))?;
            let code = self.b.intern(code);
            let label = self.b.opt_intern(string(o, "label", ctx)?);
            let value = match o.get("value") {
                None | Some(Json::Null) => CfValue::Null,
                Some(Json::Bool(b)) => CfValue::Bool(*b),
                Some(Json::Number(n)) => match n.as_i64() {
                    Some(i) => CfValue::Int(i),
                    None => CfValue::Float(n.as_f64().unwrap_or(0.0)),
                },
                Some(Json::String(s)) => CfValue::Str(self.b.intern(s)),
                Some(other) => CfValue::Json(self.b.intern(&other.to_string())),
            };
            self.b
                .data
                .custom_fields
                .push(CustomField { code, label, value });
        }
        Ok(List {
            start: start as u32,
            len: items.len() as u32,
        })
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
