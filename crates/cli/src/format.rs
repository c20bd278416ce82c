//! Output writers: table, JSON array, NDJSON and CSV, all streaming.
//!
//! Every level is first turned into one JSON object (the level as the API sends it, with
//! the included product's fields merged into `product`); each writer renders that.

use std::{
    fs::File,
    io::{self, BufWriter, Seek as _, SeekFrom, Stdout, Write},
    path::Path,
};

use serde_json::Value;
use shipstream_inventory::Item;

use shipstream_inventory::api;

use crate::cli::Format;

/// Where the output goes.
#[derive(Debug)]
pub enum Sink {
    /// Standard output.
    Stdout(BufWriter<Stdout>),
    /// A file (created, or appended to on resume).
    File(BufWriter<File>),
}

impl Sink {
    /// Standard output.
    pub fn stdout() -> Self {
        Sink::Stdout(BufWriter::with_capacity(64 * 1024, io::stdout()))
    }

    /// Creates (truncates) `path`.
    pub fn create(path: &Path) -> io::Result<Self> {
        let file = File::create(path)?;
        Ok(Sink::File(BufWriter::with_capacity(64 * 1024, file)))
    }

    /// Opens `path` for appending after its first `len` bytes; anything after them (a page
    /// that was being written when the previous run stopped) is cut off.
    pub fn resume(path: &Path, len: u64) -> io::Result<Self> {
        let mut file = std::fs::OpenOptions::new().write(true).open(path)?;
        file.set_len(len)?;
        file.seek(SeekFrom::Start(len))?;
        Ok(Sink::File(BufWriter::with_capacity(64 * 1024, file)))
    }

    /// Whether this is standard output.
    pub fn is_stdout(&self) -> bool {
        matches!(self, Sink::Stdout(_))
    }

    /// Flushes; for a file with `durable`, also syncs it to disk. Returns the file's length
    /// (0 for stdout).
    pub fn commit(&mut self, durable: bool) -> io::Result<u64> {
        self.flush()?;
        self.synced(durable)
    }

    /// After a flush: syncs a file to disk when `durable`; returns its length (0 for
    /// stdout).
    fn synced(&self, durable: bool) -> io::Result<u64> {
        match self {
            Sink::Stdout(_) => Ok(0),
            Sink::File(writer) => {
                let mut file: &File = writer.get_ref();
                if durable {
                    file.sync_data()?;
                }
                file.stream_position()
            }
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stdout(w) => w.write(buf),
            Sink::File(writer) => writer.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Sink::Stdout(w) => w.write_all(buf),
            Sink::File(writer) => writer.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(w) => w.flush(),
            Sink::File(writer) => writer.flush(),
        }
    }
}

/// One level as a JSON object: the level as the API sends it; the included product's
/// fields, when products were asked for, merged into `product`. Keys are sorted so the
/// output does not depend on serde_json's features.
pub fn record(item: &Item) -> Value {
    let mut value = serde_json::to_value(&item.level).unwrap_or(Value::Null);
    if let Some(product) = &item.product
        && let Ok(Value::Object(fields)) = serde_json::to_value(&**product)
    {
        match value.get_mut("product").and_then(Value::as_object_mut) {
            Some(stub) => stub.extend(fields),
            None => {
                if let Value::Object(level) = &mut value {
                    level.insert("product".into(), Value::Object(fields));
                }
            }
        }
    }
    value.sort_all_objects();
    value
}

/// The columns of the CSV and table formats, fixed by the query (not by the data) so a
/// resumed export keeps the header it started with, and derived from the spec's properties
/// of a level, in the spec's order: a reference (`product`, `warehouse`) becomes its stub's
/// members (`product.id`, `product.sku`), followed for `product` by the product fields
/// asked for (every basic one for `basic`, every one for `all`); a level property the spec
/// marks optional (`warehouse`) only when `--fields` names it or `all`.
pub fn columns(fields: &[String], product_fields: &[String]) -> Vec<String> {
    let asked = |list: &[String], name: &str| list.iter().any(|f| f == name);
    let all_level = asked(fields, "all");
    let mut cols = Vec::new();
    for prop in api::LEVEL_PROPERTIES {
        if prop.required && prop.ty != api::JsonType::Object {
            // `type`: the same on every level.
            continue;
        }
        if prop.optional_field && !all_level && !asked(fields, prop.name) {
            continue;
        }
        if prop.ty != api::JsonType::Object {
            cols.push(prop.name.to_owned());
            continue;
        }
        let stub: Vec<&str> = if prop.members.is_empty() {
            vec!["id"]
        } else {
            prop.members.to_vec()
        };
        cols.extend(stub.iter().map(|m| format!("{}.{m}", prop.name)));
        if prop.name == "product" {
            let all = asked(product_fields, "all");
            let basic = asked(product_fields, "basic");
            for p in api::PRODUCT_PROPERTIES {
                if p.required || stub.contains(&p.name) {
                    continue;
                }
                if all || (basic && !p.optional_field) || asked(product_fields, p.name) {
                    cols.push(format!("product.{}", p.name));
                }
            }
        }
    }
    cols
}

/// Whether the column at `path` holds numbers (right-aligned in tables), from the spec's
/// types.
pub fn is_numeric(path: &str) -> bool {
    let numeric = |t: api::JsonType| matches!(t, api::JsonType::Integer | api::JsonType::Number);
    match path.split_once('.') {
        None => api::level_property(path).is_some_and(|p| numeric(p.ty)),
        Some(("product", member)) => {
            member == "id" || api::product_property(member).is_some_and(|p| numeric(p.ty))
        }
        Some((_, member)) => member == "id",
    }
}

/// The table header of the column at `path`: a stub's id is named after its reference
/// (`warehouse`; `product_id` for the product), other product members after themselves
/// (`sku`, `name`), and quantities without their `qty_` prefix.
pub fn header(path: &str) -> String {
    match path.split_once('.') {
        Some(("product", "id")) => "product_id".to_owned(),
        Some(("product", member)) => member.to_owned(),
        Some((reference, "id")) => reference.to_owned(),
        Some(_) => path.to_owned(),
        None => path.strip_prefix("qty_").unwrap_or(path).to_owned(),
    }
}

/// The text of one cell: strings as they are, numbers and booleans as JSON, null or
/// missing as empty, objects and arrays as compact JSON.
pub fn cell(record: &Value, path: &str) -> String {
    let mut v = record;
    for key in path.split('.') {
        match v.get(key) {
            Some(next) => v = next,
            None => return String::new(),
        }
    }
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// Writes records in one format.
pub trait RecordWriter {
    /// Writes one record.
    fn write(&mut self, record: &Value) -> io::Result<()>;
    /// Writes one level: its [`record`] by default.
    fn write_item(&mut self, item: &Item) -> io::Result<()> {
        self.write(&record(item))
    }
    /// Called after each page's records.
    fn end_page(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// Called once after the last record of a complete export.
    fn finish(&mut self) -> io::Result<()>;
    /// Flushes (and syncs when `durable`) everything written so far; returns the output
    /// file's length.
    fn commit(&mut self, durable: bool) -> io::Result<u64>;
    /// Whether the output is standard output.
    fn is_stdout(&self) -> bool;
}

/// Builds the writer of `format`. `resumed` suppresses the CSV header; `width` limits
/// table rows.
pub fn writer(
    format: Format,
    sink: Sink,
    columns: Vec<String>,
    resumed: bool,
    width: Option<usize>,
) -> io::Result<Box<dyn RecordWriter>> {
    Ok(match format {
        Format::Ndjson => Box::new(Ndjson { sink }),
        Format::Json => Box::new(JsonArray { sink, first: true }),
        Format::Csv => Box::new(Csv::new(sink, columns, !resumed)?),
        Format::Table => Box::new(Table::new(sink, columns, width)),
    })
}

struct Ndjson {
    sink: Sink,
}

impl RecordWriter for Ndjson {
    fn write(&mut self, record: &Value) -> io::Result<()> {
        serde_json::to_writer(&mut self.sink, record)?;
        self.sink.write_all(b"\n")
    }

    /// A level without an included product is written straight from its struct, whose
    /// fields the generator orders by name (as [`record`] sorts them; a test checks the
    /// two agree byte for byte), without building a `Value`.
    fn write_item(&mut self, item: &Item) -> io::Result<()> {
        match item.product {
            None => serde_json::to_writer(&mut self.sink, &item.level)?,
            Some(_) => serde_json::to_writer(&mut self.sink, &record(item))?,
        }
        self.sink.write_all(b"\n")
    }

    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn commit(&mut self, durable: bool) -> io::Result<u64> {
        self.sink.commit(durable)
    }

    fn is_stdout(&self) -> bool {
        self.sink.is_stdout()
    }
}

struct JsonArray {
    sink: Sink,
    first: bool,
}

impl RecordWriter for JsonArray {
    fn write(&mut self, record: &Value) -> io::Result<()> {
        self.sink
            .write_all(if self.first { b"[\n" } else { b",\n" })?;
        self.first = false;
        serde_json::to_writer(&mut self.sink, record)?;
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.sink
            .write_all(if self.first { b"[]\n" } else { b"\n]\n" })
    }

    fn commit(&mut self, durable: bool) -> io::Result<u64> {
        self.sink.commit(durable)
    }

    fn is_stdout(&self) -> bool {
        self.sink.is_stdout()
    }
}

struct Csv {
    out: csv::Writer<Sink>,
    columns: Vec<String>,
    is_stdout: bool,
}

impl Csv {
    fn new(sink: Sink, columns: Vec<String>, header: bool) -> io::Result<Self> {
        let is_stdout = sink.is_stdout();
        let mut out = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(sink);
        if header {
            out.write_record(&columns).map_err(io::Error::other)?;
        }
        Ok(Self {
            out,
            columns,
            is_stdout,
        })
    }
}

impl RecordWriter for Csv {
    fn write(&mut self, record: &Value) -> io::Result<()> {
        let row = self.columns.iter().map(|c| cell(record, c));
        self.out.write_record(row).map_err(io::Error::other)
    }

    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn commit(&mut self, durable: bool) -> io::Result<u64> {
        self.out.flush()?;
        self.out.get_ref().synced(durable)
    }

    fn is_stdout(&self) -> bool {
        self.is_stdout
    }
}

/// A column of the table.
struct Column {
    path: String,
    header: String,
    numeric: bool,
}

struct Table {
    sink: Sink,
    columns: Vec<Column>,
    width: Option<usize>,
    /// The first page's rows, held until its end to size the columns.
    pending: Option<Vec<Vec<String>>>,
    widths: Vec<usize>,
    /// How many columns (from the left) fit.
    shown: usize,
}

/// Text columns are not narrowed below this many characters.
const MIN_TEXT_WIDTH: usize = 14;
const GAP: &str = "  ";

impl Table {
    fn new(sink: Sink, paths: Vec<String>, width: Option<usize>) -> Self {
        let columns = paths
            .into_iter()
            .map(|path| Column {
                header: header(&path),
                numeric: is_numeric(&path),
                path,
            })
            .collect();
        Self {
            sink,
            columns,
            width,
            pending: Some(Vec::new()),
            widths: Vec::new(),
            shown: 0,
        }
    }

    /// Sizes the columns from the held rows, prints the header and the held rows.
    fn lay_out(&mut self) -> io::Result<()> {
        let Some(rows) = self.pending.take() else {
            return Ok(());
        };
        let mut widths: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                rows.iter()
                    .map(|r| r.get(i).map_or(0, |s| s.chars().count()))
                    .chain([c.header.chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        self.shown = widths.len();
        if let Some(limit) = self.width {
            let numeric: Vec<bool> = self.columns.iter().map(|c| c.numeric).collect();
            self.shown = fit(&mut widths, &numeric, limit);
            let hidden = &self.columns[self.shown..];
            if !hidden.is_empty() {
                let names: Vec<&str> = hidden.iter().map(|c| c.header.as_str()).collect();
                eprintln!(
                    "note: {} column(s) do not fit the width of {limit} and are left out ({}); \
                     use --format csv or ndjson for every field",
                    hidden.len(),
                    names.join(", ")
                );
            }
        }
        self.widths = widths;
        let header: Vec<String> = self.columns.iter().map(|c| c.header.clone()).collect();
        self.print_row(&header)?;
        let rule: Vec<String> = self.widths.iter().map(|w| "-".repeat(*w)).collect();
        self.print_row(&rule)?;
        for row in &rows {
            self.print_row(row)?;
        }
        Ok(())
    }

    fn print_row(&mut self, cells: &[String]) -> io::Result<()> {
        let mut line = String::new();
        let shown = self.columns.iter().zip(&self.widths).take(self.shown);
        for (i, (col, width)) in shown.enumerate() {
            if i > 0 {
                line.push_str(GAP);
            }
            let text = truncate(cells.get(i).map_or("", String::as_str), *width);
            let pad = width.saturating_sub(text.chars().count());
            if col.numeric {
                line.extend(std::iter::repeat_n(' ', pad));
                line.push_str(&text);
            } else {
                line.push_str(&text);
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        let line = line.trim_end();
        self.sink.write_all(line.as_bytes())?;
        self.sink.write_all(b"\n")
    }
}

/// Fits a row into `limit` characters: first narrows the widest text columns (not below
/// [`MIN_TEXT_WIDTH`]), then leaves out columns from the right. Returns how many columns
/// are shown (at least one).
fn fit(widths: &mut [usize], numeric: &[bool], limit: usize) -> usize {
    let total = |w: &[usize]| w.iter().sum::<usize>() + GAP.len() * w.len().saturating_sub(1);
    while total(widths) > limit {
        let widest = widths
            .iter()
            .copied()
            .enumerate()
            .filter(|(i, w)| !numeric.get(*i).copied().unwrap_or(false) && *w > MIN_TEXT_WIDTH)
            .max_by_key(|(i, w)| (*w, usize::MAX - i));
        match widest {
            Some((i, w)) => widths[i] = w - 1,
            None => break,
        }
    }
    let mut shown = widths.len();
    while shown > 1 && total(&widths[..shown]) > limit {
        shown -= 1;
    }
    if shown == 1 {
        widths[0] = widths[0].min(limit.max(1));
    }
    shown
}

/// `s` cut to `width` characters, ending with `…` when cut.
fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_owned()
    } else if width == 0 {
        String::new()
    } else {
        let mut out: String = s.chars().take(width - 1).collect();
        out.push('…');
        out
    }
}

impl RecordWriter for Table {
    fn write(&mut self, record: &Value) -> io::Result<()> {
        let row: Vec<String> = self
            .columns
            .iter()
            .map(|c| cell(record, &c.path).replace(['\n', '\r', '\t'], " "))
            .collect();
        match &mut self.pending {
            Some(rows) => {
                rows.push(row);
                Ok(())
            }
            None => self.print_row(&row),
        }
    }

    fn end_page(&mut self) -> io::Result<()> {
        self.lay_out()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.lay_out()
    }

    fn commit(&mut self, durable: bool) -> io::Result<u64> {
        self.sink.commit(durable)
    }

    fn is_stdout(&self) -> bool {
        self.sink.is_stdout()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The NDJSON fast path writes a level from its struct; it must be the bytes of the
    /// sorted `record` for every property the spec gives a level (a new one included).
    #[test]
    fn a_level_written_from_its_struct_equals_its_sorted_record() {
        let mut level = serde_json::Map::new();
        for p in api::LEVEL_PROPERTIES {
            let v = match (p.ty, p.name, p.format) {
                (_, "type", _) => Value::from("TotalLevel"),
                (api::JsonType::Object, "product", _) => {
                    serde_json::json!({"type": "Product", "id": 12, "sku": "SKU-12"})
                }
                (api::JsonType::Object, _, _) => serde_json::json!({"type": "Warehouse", "id": 3}),
                (_, _, Some("date-time")) => Value::from("2025-08-28T10:30:00Z"),
                (api::JsonType::Integer | api::JsonType::Number, _, _) => Value::from(7),
                (api::JsonType::Boolean, _, _) => Value::from(true),
                _ => Value::from("x"),
            };
            level.insert(p.name.to_owned(), v);
        }
        let level: shipstream_inventory::Level =
            serde_json::from_value(Value::Object(level.clone())).unwrap_or_else(|e| {
                panic!("{e}: {level:?}");
            });
        let item = shipstream_inventory::Item::new(level, None);
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let write = |name: &str, fast: bool| {
            let path = dir.path().join(name);
            let mut w = Ndjson {
                sink: Sink::create(&path).unwrap_or_else(|e| panic!("{e}")),
            };
            let done = if fast {
                w.write_item(&item)
            } else {
                w.write(&record(&item))
            };
            done.and_then(|()| w.commit(false).map(|_| ()))
                .unwrap_or_else(|e| panic!("{e}"));
            std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"))
        };
        let (fast, slow) = (write("fast", true), write("slow", false));
        assert!(fast.len() > 200, "{}", String::from_utf8_lossy(&fast));
        assert_eq!(
            String::from_utf8_lossy(&fast),
            String::from_utf8_lossy(&slow)
        );
    }

    #[test]
    fn columns_follow_the_query_and_the_spec() {
        let cols = columns(&[], &[]);
        assert_eq!(cols[..2], ["product.id", "product.sku"]);
        // Every scalar level property of the spec is a column, in the spec's order.
        let scalars: Vec<&str> = api::LEVEL_PROPERTIES
            .iter()
            .filter(|p| p.ty != api::JsonType::Object && !p.required && !p.optional_field)
            .map(|p| p.name)
            .collect();
        assert_eq!(cols[2..], scalars);
        assert!(!cols.contains(&"warehouse.id".to_owned()), "optional");
        let cols = columns(&["warehouse".into()], &["name".into(), "sku".into()]);
        assert_eq!(
            cols[..4],
            ["product.id", "product.sku", "product.name", "warehouse.id"]
        );
        let basic = columns(&[], &["basic".into()]);
        assert!(basic.contains(&"product.name".to_owned()));
        assert!(
            !basic.contains(&"product.custom_fields".to_owned()),
            "optional"
        );
        let all = columns(&["all".into()], &["all".into()]);
        assert!(all.contains(&"product.custom_fields".to_owned()));
        assert!(all.contains(&"warehouse.id".to_owned()));
        assert!(!all.contains(&"product.basic".to_owned()));
        assert!(!all.contains(&"product.type".to_owned()));
    }

    #[test]
    fn headers_and_alignment_come_from_the_spec() {
        assert_eq!(header("product.id"), "product_id");
        assert_eq!(header("product.sku"), "sku");
        assert_eq!(header("warehouse.id"), "warehouse");
        assert_eq!(header("qty_on_hand"), "on_hand");
        assert!(
            is_numeric("qty_on_hand") && is_numeric("product.id") && is_numeric("warehouse.id")
        );
        assert!(!is_numeric("updated_at") && !is_numeric("product.sku"));
    }

    #[test]
    fn cells_flatten_paths_and_serialise_objects() {
        let v = serde_json::json!({"product": {"id": 5, "sku": "A,B", "weight": {"value": 1.5, "unit": "kg"}, "name": null}, "qty_on_hand": 3});
        assert_eq!(cell(&v, "product.id"), "5");
        assert_eq!(cell(&v, "product.sku"), "A,B");
        assert_eq!(cell(&v, "product.name"), "");
        assert_eq!(cell(&v, "product.missing"), "");
        assert_eq!(cell(&v, "product.weight"), r#"{"unit":"kg","value":1.5}"#);
    }

    #[test]
    fn tables_fit_the_width() {
        let numeric = [true, false, true, true];
        let mut w = vec![10, 40, 5, 5];
        assert_eq!(fit(&mut w, &numeric, 40), 4);
        assert_eq!(w, [10, MIN_TEXT_WIDTH, 5, 5]);
        let mut w = vec![10, 40, 5, 5];
        assert_eq!(fit(&mut w, &numeric, 35), 3);
        assert_eq!(w[..3], [10, MIN_TEXT_WIDTH, 5]);
        let mut w = vec![10, 40];
        assert_eq!(fit(&mut w, &numeric, 3), 1);
        assert_eq!(w[0], 3);
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
