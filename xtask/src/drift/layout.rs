//! Our description written out as the vendor lays its own out (a release's files): every
//! schema in a file of its own, parameters, responses and headers in shared files (headers
//! as JSON), the path item in a file, `ObjectType` under `components` of a `common.yaml`,
//! with cross-file `$ref`s, the server `https://{instance}.shipstream.app/api/global`, the
//! path `/v1/inventory/levels/total` and one more endpoint of the vendor's. The tests of
//! `drift --vendor` and `adopt`, and the drill's vendor release, read it as a release.

use std::{
    collections::BTreeMap,
    fs,
    io::{BufRead as _, BufReader, Write as _},
    net::{TcpListener, TcpStream},
    path::Path,
};

use anyhow::{Context, Result};
use serde_json::{Value, json};

/// The vendor's server URL; its paths are relative to it.
const SERVER: &str = "https://{instance}.shipstream.app/api/global";
/// The file of our operation's path item.
const PATH_FILE: &str = "paths/inventory-levels-total.yaml";

/// The file (relative to the layout's root) and the JSON pointer in it where a component of
/// ours lives in the vendor layout.
fn home(kind: &str, name: &str) -> (String, String) {
    match (kind, name) {
        ("schemas", "ObjectType") => (
            "common.yaml".into(),
            "/components/schemas/ObjectType".into(),
        ),
        ("schemas", n) => (format!("components/schemas/{n}.yaml"), String::new()),
        ("parameters", n) => ("components/parameters.yaml".into(), format!("/{n}")),
        ("responses", n) => ("components/responses.yaml".into(), format!("/{n}")),
        // JSON, to read both formats.
        ("headers", n) => ("components/headers.json".into(), format!("/{n}")),
        ("examples", n) => (format!("components/examples/{n}.yaml"), String::new()),
        (k, n) => (format!("components/{k}/{n}.yaml"), String::new()),
    }
}

/// The path of `to` relative to the folder of `from` (both relative to the layout's root).
fn relative(from: &str, to: &str) -> String {
    let mut from_dir: Vec<&str> = from.split('/').collect();
    from_dir.pop();
    let to: Vec<&str> = to.split('/').collect();
    let common = from_dir
        .iter()
        .zip(&to[..to.len() - 1])
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = "../".repeat(from_dir.len() - common);
    if out.is_empty() {
        out.push_str("./");
    }
    out + &to[common..].join("/")
}

/// `value`, which lives in `file`, with each `#/components/<kind>/<name>` pointing at the
/// file of the layout that holds it.
fn externalize(value: &Value, file: &str) -> Value {
    match value {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| {
                    let component = v
                        .as_str()
                        .and_then(|r| r.strip_prefix("#/components/")?.split_once('/'));
                    let v = match (k.as_str(), component) {
                        ("$ref", Some((kind, name))) => {
                            let (target, pointer) = home(kind, name);
                            Value::String(match (target == file, pointer.is_empty()) {
                                (true, _) => format!("#{pointer}"),
                                (false, true) => relative(file, &target),
                                (false, false) => format!("{}#{pointer}", relative(file, &target)),
                            })
                        }
                        _ => externalize(v, file),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| externalize(v, file)).collect()),
        other => other.clone(),
    }
}

/// Sets `pointer` (of object keys) in `doc`, making the objects on the way.
fn set(doc: &mut Value, pointer: &str, value: Value) -> Result<()> {
    let mut at = doc;
    for segment in pointer.split('/').skip(1) {
        at = at
            .as_object_mut()
            .context("the layout's documents are maps")?
            .entry(segment)
            .or_insert_with(|| json!({}));
    }
    *at = value;
    Ok(())
}

/// Writes `spec` (our description, possibly with planted changes) into `dir` as the vendor
/// lays its description out.
pub fn write(spec: &Value, dir: &Path) -> Result<()> {
    let mut files: BTreeMap<String, Value> = BTreeMap::new();
    let components = spec["components"]
        .as_object()
        .context("the spec has no components")?;
    for (kind, entries) in components {
        if kind == "securitySchemes" {
            continue;
        }
        for (name, value) in entries.as_object().into_iter().flatten() {
            let (file, pointer) = home(kind, name);
            let value = externalize(value, &file);
            let doc = files.entry(file).or_insert_with(|| json!({}));
            set(doc, &pointer, value)?;
        }
    }
    // Our operation's path, relative to the vendor's server URL.
    let id = crate::check::DEFAULT_OPERATION;
    let ours = crate::spec::operation(spec, id)
        .with_context(|| format!("the spec has no operation `{id}`"))?
        .path;
    let server_path = super::vendor::server_path(&json!({"url": SERVER}))?;
    let path = ours
        .strip_prefix(&server_path)
        .with_context(|| format!("{ours} does not start with the vendor's {server_path}"))?;
    files.insert(
        PATH_FILE.into(),
        externalize(&spec["paths"][ours], PATH_FILE),
    );
    // The vendor's other endpoint, with a schema of its own that reaches ours.
    files.insert(
        "components/schemas/WarehouseLevel.yaml".into(),
        json!({"allOf": [
            {"$ref": "./TotalLevel.yaml"},
            {"type": "object", "properties": {"warehouse_id": {"type": "integer"}}},
        ]}),
    );
    let mut root = spec.clone();
    let object = root.as_object_mut().context("the spec is not a map")?;
    object.insert("openapi".into(), json!("3.0.4"));
    object.insert(
        "servers".into(),
        json!([{
            "url": SERVER,
            "variables": {"instance": {"default": "example"}},
        }]),
    );
    object.insert(
        "paths".into(),
        json!({
            path: {"$ref": PATH_FILE},
            "/v1/inventory/levels/warehouse": {"get": {
                "operationId": "list_warehouse_inventory_levels",
                "responses": {
                    "200": {"description": "A page.", "content": {"application/json": {"schema": {
                        "type": "object",
                        "properties": {"collection": {
                            "type": "array",
                            "items": {"$ref": "components/schemas/WarehouseLevel.yaml"},
                        }},
                    }}}},
                    "400": {"$ref": "components/responses.yaml#/BadRequest"},
                },
            }},
        }),
    );
    object.insert(
        "components".into(),
        json!({"securitySchemes": spec["components"]["securitySchemes"]}),
    );
    files.insert("openapi.yaml".into(), root);
    for (file, value) in files {
        let path = dir.join(&file);
        fs::create_dir_all(path.parent().context("a file without a folder")?)?;
        let text = if file.ends_with(".json") {
            serde_json::to_string_pretty(&value)?
        } else {
            serde_yaml::to_string(&value)?
        };
        fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Serves the files under `dir` over HTTP on 127.0.0.1 (GET; 404 for anything else) from a
/// thread, for as long as the process runs; returns the base URL, ending in `/`.
pub fn serve(dir: &Path) -> Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot listen on 127.0.0.1")?;
    let base = format!("http://{}/", listener.local_addr()?);
    let dir = dir.to_owned();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            // A client that hangs up early is its own affair.
            let _ = answer(&dir, stream);
        }
    });
    Ok(base)
}

/// Answers one request with the file it names under `dir`.
fn answer(dir: &Path, mut stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    let mut header = String::new();
    while reader.read_line(&mut header)? > 2 {
        header.clear();
    }
    let target = request.split(' ').nth(1).unwrap_or("/");
    // The layout's names need no percent-decoding.
    let rel = target.trim_start_matches('/');
    let body = (!rel.split('/').any(|s| s == ".."))
        .then(|| fs::read(dir.join(rel)).ok())
        .flatten();
    let (status, body) = match body {
        Some(b) => ("200 OK", b),
        None => ("404 Not Found", Vec::new()),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(&body)
}
