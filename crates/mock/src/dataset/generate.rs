//! Deterministic generation of realistic products.

use super::catalogue::*;
use super::*;

fn weighted<'a, T>(rng: &mut SplitMix64, items: &'a [(T, u32)]) -> &'a T {
    let total: u32 = items.iter().map(|i| i.1).sum();
    let mut x = rng.below(u64::from(total)) as u32;
    for (item, w) in items {
        if x < *w {
            return item;
        }
        x -= w;
    }
    &items[0].0
}

/// Most products have the first goods type of the spec; one in ten has another one
/// the spec lists, chosen from the id (so the rest of the dataset does not depend on
/// how many goods types the spec has).
fn goods_type_for(types: &[Span], id: u32) -> Span {
    let h = SplitMix64::derive(u64::from(id), 0x600D5).next_u64();
    match types {
        [] => Span::NULL,
        [only] => *only,
        [first, rest @ ..] => {
            if h.is_multiple_of(10) {
                rest[(h / 10 % rest.len() as u64) as usize]
            } else {
                *first
            }
        }
    }
}

fn round2(x: f32) -> f32 {
    (x * 100.0).round() / 100.0
}

fn round1(x: f32) -> f32 {
    (x * 10.0).round() / 10.0
}

struct Templates {
    /// The spec's goods types (the first one, `NORMAL`, for most products).
    goods_types: Vec<Span>,
    optimistic: Span,
    weight_units: Vec<(Span, f32, u32)>,
    length_units: Vec<(Span, Span, f32, u32)>,
    /// Export record per (category, customs tier, currency).
    exports: HashMap<(usize, u32, usize), u32>,
    cf_codes: [Span; 6],
    cf_labels: Vec<Span>,
    seasons: Vec<Span>,
    cf_json: Vec<Span>,
    batch_times: Vec<i64>,
    packagings: u32,
    regulated: HashMap<usize, Vec<u32>>,
}

fn templates(b: &mut Builder, rng: &mut SplitMix64) -> Templates {
    let weight_units = WEIGHT_UNITS
        .iter()
        .map(|(u, f, w)| (b.intern(u), *f, *w))
        .collect();
    let length_units = LENGTH_UNITS
        .iter()
        .map(|(u, f, w)| {
            let vol = match *u {
                "in" => "in^3",
                "ft" => "ft^3",
                "m" => "m^3",
                _ => "cm^3",
            };
            (b.intern(u), b.intern(vol), *f, *w)
        })
        .collect();
    // 24 packaging profiles shared by all products.
    let mut packagings = 0;
    for i in 0..24u32 {
        let mut flags = 0u8;
        for (bit, p) in [
            (pack::REQUIRE_PACKAGING, 0.6),
            (pack::REQUIRE_WEIGHT_CHECK, 0.3),
            (pack::REQUIRE_CONFIRMATION_PER_ITEM, 0.2),
            (pack::IS_SHIP_SEPARATELY, 0.15),
            (pack::CAN_TIP, 0.7),
            (pack::CAN_CONTAIN_OTHER_ITEMS, 0.4),
            (pack::IS_HANDLING_SURCHARGE, 0.1),
        ] {
            if rng.chance(p) {
                flags |= bit;
            }
        }
        let tag = if flags & pack::IS_SHIP_SEPARATELY != 0 {
            let tag = rng.pick::<&str>(TAGS);
            b.intern(tag)
        } else {
            Span::NULL
        };
        let unit = (i % 3 != 0).then_some(1);
        let bulk = rng.chance(0.5).then(|| *rng.pick(&[6i64, 10, 12, 24, 48]));
        let max = rng.chance(0.4).then(|| rng.range(2, 50) as i64);
        b.data.packagings.push(Packaging {
            flags,
            unit_quantity: unit,
            bulk_quantity: bulk,
            max_per_package: max,
            ship_separately_tag: tag,
        });
        packagings += 1;
    }
    let mut regulated = HashMap::new();
    for (ci, c) in CATEGORIES.iter().enumerate() {
        if let Some(r) = c.regulation {
            let mut ids = Vec::new();
            for units in [1i64, 2, 5] {
                let idx = b.data.regulated.len() as u32;
                let technical_name = b.intern(r.technical_name);
                let info = b.intern(r.info);
                let container = b.intern(r.container);
                let lb = b.intern("lb");
                b.data.regulated.push(Regulated {
                    regulation_id: Some(r.id),
                    technical_name,
                    additional_information: if units == 5 { Span::NULL } else { info },
                    net_weight: Some((0.5 * units as f64, lb)),
                    container_type: container,
                    container_meets_hazmat_specs: Some(units != 2),
                    regulation_units: Some(units),
                });
                ids.push(idx);
            }
            regulated.insert(ci, ids);
        }
    }
    let cf_codes = [
        b.intern("color"),
        b.intern("cost_of_goods"),
        b.intern("allow_mailer"),
        b.intern("season"),
        b.intern("attributes"),
        b.intern("legacy_code"),
    ];
    let cf_labels = COLORS.iter().map(|(_, l)| b.intern(l)).collect();
    let seasons = SEASONS.iter().map(|s| b.intern(s)).collect();
    // Keys sorted, as the loader re-serialises object values.
    let cf_json = vec![
        b.intern(r#"{"material":"steel","recyclable":true}"#),
        b.intern(r#"{"care":["wash cold","tumble dry low"],"material":"cotton"}"#),
        b.intern(r#"["gift","fragile"]"#),
        b.intern(r#"{"organic":false,"origin":{"country":"IT","region":"Sicily"}}"#),
    ];
    let batch_times = (0..BATCH_TIMES)
        .map(|_| GENERATED_NOW - rng.range(0, 400 * 86_400) as i64 / 60 * 60)
        .collect();
    Templates {
        goods_types: GoodsType::KNOWN.iter().map(|g| b.intern(g)).collect(),
        optimistic: b.intern("optimistic"),
        weight_units,
        length_units,
        exports: HashMap::new(),
        cf_codes,
        cf_labels,
        seasons,
        cf_json,
        batch_times,
        packagings,
        regulated,
    }
}

fn export_for(b: &mut Builder, t: &mut Templates, rng: &mut SplitMix64, ci: usize) -> u32 {
    let tier = rng.range(1, 40) as u32;
    let currency = rng.below(CURRENCIES.len() as u64) as usize;
    if let Some(idx) = t.exports.get(&(ci, tier, currency)) {
        return *idx;
    }
    let c = &CATEGORIES[ci];
    let description = b.intern(c.description);
    let country = b.intern(COUNTRIES[(ci + tier as usize) % COUNTRIES.len()]);
    let hs = b.intern(c.hs);
    let ext_start = b.data.hs_ext.len();
    for k in 0..(tier % 3) {
        let cc = b.intern(COUNTRIES[(ci + k as usize) % COUNTRIES.len()]);
        let ext = b.push_fmt(format_args!("{:03}", (tier * 7 + k * 3) % 1000));
        b.data.hs_ext.push((cc, ext));
    }
    let hs_country_extension = if tier.is_multiple_of(5) {
        List::NULL
    } else {
        List {
            start: ext_start as u32,
            len: (b.data.hs_ext.len() - ext_start) as u32,
        }
    };
    let cur = b.intern(CURRENCIES[currency]);
    let idx = b.data.exports.len() as u32;
    b.data.exports.push(Export {
        description: if tier.is_multiple_of(11) {
            Span::NULL
        } else {
            description
        },
        customs_value: (!tier.is_multiple_of(13)).then_some((f64::from(tier) * 2.5 - 0.01, cur)),
        country_of_manufacture: country,
        hs_base_code: if tier.is_multiple_of(17) {
            Span::NULL
        } else {
            hs
        },
        hs_country_extension,
    });
    t.exports.insert((ci, tier, currency), idx);
    idx
}

fn digits(b: &mut Builder, rng: &mut SplitMix64, n: usize) -> Span {
    let start = b.data.text.len();
    for _ in 0..n {
        b.data.text.push(char::from(b'0' + rng.below(10) as u8));
    }
    b.span_from(start)
}

pub(super) fn generate(count: usize, seed: u64) -> Data {
    let mut b = Builder::default();
    let mut trng = SplitMix64::derive(seed, 1);
    let mut t = templates(&mut b, &mut trng);
    let mut rng = SplitMix64::derive(seed, 2);
    b.data.products.reserve_exact(count);
    b.data.text.reserve(count * 64);
    b.data.spans.reserve(count + count / 4);
    b.data.custom_fields.reserve(count * 3 / 2);
    let total_share: u32 = CATEGORIES.iter().map(|c| c.share).sum();
    let shares: Vec<(usize, u32)> = CATEGORIES
        .iter()
        .enumerate()
        .map(|(i, c)| (i, c.share))
        .collect();
    debug_assert!(total_share > 0);
    let mut id = 0u32;
    for _ in 0..count {
        id += 1;
        if rng.chance(0.02) {
            id += rng.range(1, 3) as u32;
        }
        let ci = *weighted(&mut rng, &shares);
        let c = &CATEGORIES[ci];

        let sku = sku_for(&mut b, &mut rng, c, id);
        let name = name_for(&mut b, &mut rng, c);
        let (vendor_sku, external_id, barcodes) = codes_for(&mut b, &mut rng);
        let merchant_id = *weighted(&mut rng, &[(1u32, 40), (2, 25), (3, 15), (4, 12), (5, 8)]);
        let warehouse_id = rng.range(1, 3) as u32;
        let lot_type_id = if rng.chance(0.15) {
            rng.range(1, 4) as u32
        } else {
            0
        };

        let mut flags = 0u16;
        if !rng.chance(0.03) {
            flags |= flag::ENABLED;
        }
        if rng.chance(0.92) {
            flags |= flag::AVAILABLE;
        }
        if !rng.chance(0.05) {
            flags |= flag::VISIBLE;
        }
        let Physical {
            weight,
            weight_unit,
            dims,
            dims_unit,
            volume,
            volume_unit,
        } = physical_for(&b, &mut rng, &t, c, &mut flags);
        let mut virtual_inventory = Span::NULL;
        if rng.chance(0.97) {
            flags |= flag::INVENTORY;
            if rng.chance(0.2) {
                flags |= flag::BACKORDERS;
            }
            if rng.chance(0.6) {
                flags |= flag::DYNAMIC_ALLOCATION;
            }
            if rng.chance(0.15) {
                virtual_inventory = t.optimistic;
            }
        }
        let export = if rng.chance(0.7) {
            export_for(&mut b, &mut t, &mut rng, ci)
        } else {
            NONE
        };
        let regulated = match t.regulated.get(&ci) {
            Some(ids) if rng.chance(0.9) => *rng.pick(ids),
            _ => NONE,
        };
        let packaging = if rng.chance(0.85) {
            rng.below(u64::from(t.packagings)) as u32
        } else {
            NONE
        };
        let custom_fields = custom_fields_for(&mut b, &mut rng, &t);
        let (created_at, updated_at, level_updated_at) = timestamps_for(&mut rng, &t);
        let q = quantities_for(&mut rng, flags, virtual_inventory);
        b.data.products.push(Product {
            id,
            merchant_id,
            warehouse_id,
            lot_type_id,
            sku,
            name,
            vendor_sku,
            external_id,
            goods_type: goods_type_for(&t.goods_types, id),
            barcodes,
            custom_fields,
            export,
            regulated,
            packaging,
            weight,
            dims,
            volume,
            weight_unit,
            dims_unit,
            volume_unit,
            virtual_inventory,
            flags,
            product_type: product_type_index(c.product_type),
            created_at,
            updated_at,
            level_updated_at,
            qty: q,
        });
    }
    b.data.seed = Some(seed);
    b.data.text.shrink_to_fit();
    b.data.spans.shrink_to_fit();
    b.data.custom_fields.shrink_to_fit();
    b.data
}

/// The SKU: unique through the id (a few lowercase, unpadded).
fn sku_for(b: &mut Builder, rng: &mut SplitMix64, c: &Category, id: u32) -> Span {
    let suffix = if rng.chance(0.3) {
        *rng.pick(SKU_SUFFIXES)
    } else {
        ""
    };
    if rng.chance(0.04) {
        b.push_fmt(format_args!(
            "{}-{id}{}",
            c.prefix.to_ascii_lowercase(),
            suffix.to_ascii_lowercase()
        ))
    } else {
        b.push_fmt(format_args!("{}-{id:06}{suffix}", c.prefix))
    }
}

/// The product name: noun and variant of the category, sometimes an adjective, "Box of
/// 12" or " CASE".
fn name_for(b: &mut Builder, rng: &mut SplitMix64, c: &Category) -> Span {
    let noun = *rng.pick(c.nouns);
    let variant = *rng.pick(c.variants);
    let adj = rng.chance(0.6).then(|| *rng.pick(ADJECTIVES));
    let box_of = c.prefix == "PEN" && rng.chance(0.3);
    let case = rng.chance(0.05);
    let start = b.data.text.len();
    if box_of {
        b.data.text.push_str("Box of 12 ");
    }
    if let Some(a) = adj {
        b.data.text.push_str(a);
        b.data.text.push(' ');
    }
    b.data.text.push_str(noun);
    b.data.text.push_str(" - ");
    b.data.text.push_str(variant);
    if case {
        b.data.text.push_str(" CASE");
    }
    b.span_from(start)
}

/// Vendor SKU, external id and barcodes (null, empty or set, in the crate docs' shares).
fn codes_for(b: &mut Builder, rng: &mut SplitMix64) -> (Span, Span, List) {
    let vendor_sku = {
        let x = rng.next_f64();
        if x < 0.65 {
            let v = *rng.pick(VENDORS);
            b.push_fmt(format_args!("{v}-{:06X}", rng.below(0x100_0000)))
        } else if x < 0.70 {
            b.push("")
        } else {
            Span::NULL
        }
    };
    let external_id = if rng.chance(0.55) {
        b.push_fmt(format_args!(
            "{:02}-{:03}-{:04}",
            rng.below(100),
            rng.below(1000),
            rng.below(10_000)
        ))
    } else {
        Span::NULL
    };
    let barcodes = {
        let x = rng.next_f64();
        if x < 0.08 {
            List::NULL
        } else if x < 0.15 {
            b.list([])
        } else {
            let upc = digits(b, rng, 12);
            if x < 0.75 {
                b.list([upc])
            } else {
                let ean = digits(b, rng, 13);
                b.list([upc, ean])
            }
        }
    };
    (vendor_sku, external_id, barcodes)
}

/// Weight, dimensions and volume (each sometimes missing), with their units.
struct Physical {
    weight: f32,
    weight_unit: Span,
    dims: [f32; 3],
    dims_unit: Span,
    volume: f32,
    volume_unit: Span,
}

/// The product's physical attributes; sets the matching flags.
fn physical_for(
    b: &Builder,
    rng: &mut SplitMix64,
    t: &Templates,
    c: &Category,
    flags: &mut u16,
) -> Physical {
    let (mut weight, mut weight_unit) = (0.0f32, Span::NULL);
    if rng.chance(0.95) {
        let (u, factor, _) = *weighted3(rng, &t.weight_units);
        let lb = c.weight.0 + (c.weight.1 - c.weight.0) * rng.next_f64() as f32;
        weight = round2(lb * factor).max(0.01);
        weight_unit = u;
        *flags |= flag::WEIGHT;
    }
    let (mut dims, mut dims_unit, mut volume, mut volume_unit) =
        ([0.0f32; 3], Span::NULL, 0.0f32, Span::NULL);
    if rng.chance(0.9) {
        let (u, vu, factor, _) = *weighted4(rng, &t.length_units);
        let inches = [
            2.0 + rng.next_f64() as f32 * 22.0,
            2.0 + rng.next_f64() as f32 * 16.0,
            0.5 + rng.next_f64() as f32 * 12.0,
        ];
        dims = inches.map(|x| round1(x * factor).max(0.1));
        dims_unit = u;
        *flags |= flag::DIMENSIONS;
        if rng.chance(0.85) {
            // Volume from the dimensions; millimetres become cm^3.
            let mm = b.data.str(u) == "mm";
            let k = if mm { 0.001 } else { 1.0 };
            volume = round2(dims[0] * dims[1] * dims[2] * k);
            volume_unit = vu;
            *flags |= flag::VOLUME;
        }
    }
    Physical {
        weight,
        weight_unit,
        dims,
        dims_unit,
        volume,
        volume_unit,
    }
}

/// Custom fields with varied JSON values (null, none, or one to four of six kinds).
fn custom_fields_for(b: &mut Builder, rng: &mut SplitMix64, t: &Templates) -> List {
    let x = rng.next_f64();
    if x < 0.10 {
        List::NULL
    } else if x < 0.25 {
        List {
            start: b.data.custom_fields.len() as u32,
            len: 0,
        }
    } else {
        let start = b.data.custom_fields.len();
        let n = rng.range(1, 4) as usize;
        let first = rng.below(6) as usize;
        for k in 0..n {
            let which = (first + k) % 6;
            let code = t.cf_codes[which];
            let (label, value) = match which {
                0 => {
                    let ci = rng.below(COLORS.len() as u64) as usize;
                    (t.cf_labels[ci], CfValue::Int(COLORS[ci].0))
                }
                1 => (
                    Span::NULL,
                    CfValue::Float((rng.range(50, 20_000) as f64) / 100.0),
                ),
                2 => (Span::NULL, CfValue::Bool(rng.chance(0.5))),
                3 => {
                    if rng.chance(0.2) {
                        (Span::NULL, CfValue::Null)
                    } else {
                        (Span::NULL, CfValue::Str(*rng.pick(&t.seasons)))
                    }
                }
                4 => (Span::NULL, CfValue::Json(*rng.pick(&t.cf_json))),
                _ => {
                    let s = b.push_fmt(format_args!("L{}", rng.below(100_000)));
                    (Span::NULL, CfValue::Str(s))
                }
            };
            b.data
                .custom_fields
                .push(CustomField { code, label, value });
        }
        List {
            start: start as u32,
            len: (b.data.custom_fields.len() - start) as u32,
        }
    }
}

/// Created, updated and level-updated times: whole seconds before [`GENERATED_NOW`], a
/// quarter of the levels at one of the shared "sync" instants.
fn timestamps_for(rng: &mut SplitMix64, t: &Templates) -> (i64, i64, i64) {
    let created_at = 1_483_228_800 + rng.below(270_000_000) as i64; // 2017-01-01 + ~8.5y
    let span = (GENERATED_NOW - created_at).max(0) as u64;
    let updated_at = created_at + rng.below(span + 1) as i64;
    let level_updated_at = {
        let batch = t.batch_times[rng.below(BATCH_TIMES as u64) as usize];
        if rng.chance(0.25) && batch >= created_at {
            batch
        } else {
            let t = created_at + rng.below(span + 1) as i64;
            (t / 60 * 60).max(created_at)
        }
    };
    (created_at, updated_at, level_updated_at)
}

/// The ten quantities, keeping the [invariants](crate#invariants).
fn quantities_for(rng: &mut SplitMix64, flags: u16, virtual_inventory: Span) -> [i32; 10] {
    let mut q = [0i32; 10];
    if rng.chance(0.10) {
        if flags & flag::BACKORDERS != 0 && rng.chance(0.5) {
            q[Q_BACKORDERED] = rng.range(1, 40) as i32;
        }
        if rng.chance(0.5) {
            q[Q_EXPECTED] = rng.range(10, 500) as i32;
        }
    } else {
        let on_hand = (5000f64.powf(rng.next_f64())).floor() as i32;
        let on_hand = on_hand.max(1);
        let picked = rng.below(on_hand as u64 / 10 + 1) as i32;
        let reserved = rng.below((on_hand - picked) as u64 / 8 + 1) as i32;
        let allocated = rng.below((on_hand - picked - reserved) as u64 / 5 + 1) as i32;
        q[Q_ON_HAND] = on_hand;
        q[Q_PICKED] = picked;
        q[Q_RESERVED] = reserved;
        q[Q_ALLOCATED] = allocated;
        q[Q_AVAILABLE] = on_hand - picked - reserved - allocated;
        if rng.chance(0.6) {
            q[Q_EXPECTED] = rng.range(1, 1000) as i32;
        }
        if rng.chance(0.2) {
            q[Q_PROCESSED] = rng.range(1, 50) as i32;
        }
        if rng.chance(0.2) {
            q[Q_PUTAWAY] = rng.range(1, 100) as i32;
        }
    }
    q[Q_ADVERTISED] = q[Q_AVAILABLE];
    if !virtual_inventory.is_null() && q[Q_ON_HAND] > 0 {
        q[Q_ADVERTISED] += rng.below(200) as i32;
    }
    q
}

fn weighted3<'a>(rng: &mut SplitMix64, items: &'a [(Span, f32, u32)]) -> &'a (Span, f32, u32) {
    let total: u32 = items.iter().map(|i| i.2).sum();
    let mut x = rng.below(u64::from(total)) as u32;
    for item in items {
        if x < item.2 {
            return item;
        }
        x -= item.2;
    }
    &items[0]
}

fn weighted4<'a>(
    rng: &mut SplitMix64,
    items: &'a [(Span, Span, f32, u32)],
) -> &'a (Span, Span, f32, u32) {
    let total: u32 = items.iter().map(|i| i.3).sum();
    let mut x = rng.below(u64::from(total)) as u32;
    for item in items {
        if x < item.3 {
            return item;
        }
        x -= item.3;
    }
    &items[0]
}
