//! The catalogue the generator draws from: product categories with their names,
//! weights and regulations, and the lists of units, countries, vendors and colours.

use super::ProductType;

pub(super) struct Category {
    pub(super) prefix: &'static str,
    pub(super) nouns: &'static [&'static str],
    pub(super) variants: &'static [&'static str],
    pub(super) description: &'static str,
    pub(super) hs: &'static str,
    /// Weight range in pounds.
    pub(super) weight: (f32, f32),
    pub(super) product_type: ProductType,
    /// Relative frequency.
    pub(super) share: u32,
    pub(super) regulation: Option<RegulationTemplate>,
}

#[derive(Clone, Copy)]
pub(super) struct RegulationTemplate {
    pub(super) id: u32,
    pub(super) technical_name: &'static str,
    pub(super) info: &'static str,
    pub(super) container: &'static str,
}

pub(super) const CATEGORIES: &[Category] = &[
    Category {
        prefix: "SPC",
        nouns: &[
            "Oregano",
            "Basil",
            "Smoked Paprika",
            "Cumin",
            "Thyme",
            "Cinnamon",
            "Turmeric",
            "Black Pepper",
        ],
        variants: &[
            "Jar 50g",
            "Jar 250g",
            "Refill Bag 1kg",
            "Grinder",
            "Sachet 10g",
        ],
        description: "Dried culinary herbs and spices",
        hs: "0910.99",
        weight: (0.1, 2.5),
        product_type: ProductType::Normal,
        share: 14,
        regulation: None,
    },
    Category {
        prefix: "TEA",
        nouns: &[
            "Earl Grey",
            "Sencha",
            "Rooibos",
            "Chai",
            "Peppermint",
            "Oolong",
        ],
        variants: &["Tin 100g", "20 Bags", "Loose Leaf 500g", "Sampler"],
        description: "Tea, whether or not flavoured",
        hs: "0902.30",
        weight: (0.1, 1.5),
        product_type: ProductType::Normal,
        share: 10,
        regulation: None,
    },
    Category {
        prefix: "MUG",
        nouns: &[
            "Café Mug",
            "Espresso Cup",
            "Teapot",
            "French Press",
            "Travel Tumbler",
        ],
        variants: &["White", "Black", "Speckled", "350ml", "1L"],
        description: "Ceramic tableware and kitchenware",
        hs: "6912.00",
        weight: (0.4, 3.0),
        product_type: ProductType::Normal,
        share: 9,
        regulation: None,
    },
    Category {
        prefix: "TOY",
        nouns: &[
            "Spinning Top",
            "Marble Run",
            "Stacking Blocks",
            "Yo-Yo",
            "Puzzle Cube",
        ],
        variants: &["Red", "Blue", "Wooden", "Deluxe Edition", "Starter Set"],
        description: "Plastic children's toy with steel weights and ball bearings",
        hs: "9503.00",
        weight: (0.2, 5.0),
        product_type: ProductType::Normal,
        share: 9,
        regulation: None,
    },
    Category {
        prefix: "PEN",
        nouns: &["Gel Pen", "Fountain Pen", "Marker", "Highlighter", "Pencil"],
        variants: &["Black", "Blue", "Assorted", "Fine", "Bold"],
        description: "Pens, markers and pencils",
        hs: "9608.10",
        weight: (0.05, 1.0),
        product_type: ProductType::Normal,
        share: 9,
        regulation: None,
    },
    Category {
        prefix: "AUD",
        nouns: &[
            "Headphones",
            "Earbuds",
            "Bluetooth Speaker",
            "USB Microphone",
        ],
        variants: &["Matte Black", "Silver", "Pro", "Lite", "Gen 2"],
        description: "Headphones and earphones",
        hs: "8518.30",
        weight: (0.2, 4.0),
        product_type: ProductType::Normal,
        share: 7,
        regulation: None,
    },
    Category {
        prefix: "TSH",
        nouns: &["T-Shirt", "Hoodie", "Beanie", "Socks 3-Pack"],
        variants: &["S", "M", "L", "XL", "Heather Grey", "Navy"],
        description: "Cotton garments, knitted",
        hs: "6109.10",
        weight: (0.2, 1.8),
        product_type: ProductType::Normal,
        share: 10,
        regulation: None,
    },
    Category {
        prefix: "KIT",
        nouns: &[
            "Salt & Pepper \"Classic\" Set",
            "Crème Brûlée Kit",
            "Gift Box, Assorted",
            "Über Grill Set",
            "50% Off Bundle",
        ],
        variants: &["Holiday", "Small", "Large", "Édition Spéciale"],
        description: "Gift sets of assorted goods",
        hs: "9505.90",
        weight: (0.5, 8.0),
        product_type: ProductType::Normal,
        share: 5,
        regulation: None,
    },
    Category {
        prefix: "BAT",
        nouns: &[
            "Lithium Battery Pack",
            "Power Bank",
            "Rechargeable AA Cells",
        ],
        variants: &["10000mAh", "20000mAh", "4-Pack", "8-Pack"],
        description: "Lithium-ion accumulators",
        hs: "8507.60",
        weight: (0.2, 2.0),
        product_type: ProductType::Normal,
        share: 1,
        regulation: Some(RegulationTemplate {
            id: 3480,
            technical_name: "Lithium ion batteries",
            info: "Class 9 miscellaneous dangerous goods",
            container: "Fibreboard Box",
        }),
    },
    Category {
        prefix: "AER",
        nouns: &["Spray Paint", "Dry Shampoo", "Air Freshener"],
        variants: &["400ml", "200ml", "Matte", "Gloss"],
        description: "Aerosol cans",
        hs: "3208.20",
        weight: (0.3, 1.2),
        product_type: ProductType::Normal,
        share: 1,
        regulation: Some(RegulationTemplate {
            id: 1950,
            technical_name: "Aerosols, flammable",
            info: "Flammable gas, limited quantity",
            container: "Metal Can",
        }),
    },
    Category {
        prefix: "BOX",
        nouns: &["Shipping Box", "Mailer Envelope", "Poly Mailer"],
        variants: &["12x9x4", "6x6x6", "18x12x8", "Padded", "Large"],
        description: "Cartons and boxes of corrugated paper",
        hs: "4819.10",
        weight: (0.05, 1.5),
        product_type: ProductType::Packaging,
        share: 4,
        regulation: None,
    },
    Category {
        prefix: "PAL",
        nouns: &["Pallet", "Stacking Tote", "Bin"],
        variants: &["48x40", "Euro", "Small", "Large"],
        description: "Pallets and load boards",
        hs: "4415.20",
        weight: (2.0, 40.0),
        product_type: ProductType::Containers,
        share: 2,
        regulation: None,
    },
    Category {
        prefix: "SUP",
        nouns: &["Packing Tape", "Shipping Labels", "Stretch Wrap"],
        variants: &["Roll", "6-Pack", "500 Count", "Clear"],
        description: "Self-adhesive tapes and labels",
        hs: "3919.10",
        weight: (0.1, 6.0),
        product_type: ProductType::Supplies,
        share: 3,
        regulation: None,
    },
    Category {
        prefix: "FIL",
        nouns: &["Air Pillows", "Packing Peanuts", "Kraft Paper Fill"],
        variants: &["Bag", "Roll", "Bulk"],
        description: "Packing and cushioning material",
        hs: "3923.90",
        weight: (0.1, 4.0),
        product_type: ProductType::Infill,
        share: 2,
        regulation: None,
    },
];

pub(super) const ADJECTIVES: &[&str] = &[
    "Organic", "Classic", "Premium", "Eco", "Deluxe", "Mini", "Travel", "Vintage", "Everyday",
    "Studio",
];
pub(super) const SKU_SUFFIXES: &[&str] = &["-BLK", "-RED", "-S", "-M", "-L", "-XL", "-V2", "-2PK"];
pub(super) const VENDORS: &[&str] = &[
    "ACME", "GLOBEX", "INITECH", "UMBRELLA", "HOOLI", "STARK", "WAYNE",
];
pub(super) const WEIGHT_UNITS: &[(&str, f32, u32)] = &[
    ("lb", 1.0, 50),
    ("oz", 16.0, 20),
    ("kg", 0.453_592, 20),
    ("g", 453.592, 10),
];
pub(super) const LENGTH_UNITS: &[(&str, f32, u32)] = &[
    ("in", 1.0, 60),
    ("cm", 2.54, 30),
    ("mm", 25.4, 5),
    ("ft", 1.0 / 12.0, 3),
    ("m", 0.0254, 2),
];
pub(super) const COUNTRIES: &[&str] = &["TW", "CN", "US", "DE", "MX", "VN", "IN", "IT"];
pub(super) const CURRENCIES: &[&str] = &["USD", "USD", "USD", "EUR", "CAD"];
pub(super) const COLORS: &[(i64, &str)] = &[
    (13, "Red and Black"),
    (4, "Blue"),
    (7, "Forest Green"),
    (21, "Natural"),
    (2, "White"),
];
pub(super) const SEASONS: &[&str] = &["spring", "summer", "autumn", "winter", "all-year"];
pub(super) const TAGS: &[&str] = &["PVC", "GLASS", "FRAGILE", "OVERSIZE"];
pub(super) const BATCH_TIMES: usize = 12;
