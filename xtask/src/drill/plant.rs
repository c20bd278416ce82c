//! Planting API changes in the spec by its structure: a plant names where it goes by
//! component and parameter names ([`Target`]) and what it does there ([`Change`]); the
//! change is made on the parsed spec, then in the text with the fewest lines touched, and
//! the edited text must parse to exactly the structurally changed spec.

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;

/// Where a plant goes, named by the spec's structure (component and parameter names), so
/// that any valid edit of the spec around it leaves the plant working.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// The `properties` of a component schema.
    Properties(&'static str),
    /// The `schema.items.enum` of the component parameter with this `name` (a list of
    /// accepted values, such as `fields`).
    ParamValues(&'static str),
    /// The `x-filterable-fields` map of the component parameter with this `name`.
    FilterableFields(&'static str),
    /// The `schema.pattern` of the component parameter with this `name` (the `sort`
    /// pattern, whose last group lists the sort keys).
    SortPattern(&'static str),
    /// The `enum` of a component schema, or of the first `anyOf`/`oneOf` member that has one
    /// (an open enum).
    SchemaEnum(&'static str),
    /// A member of a component schema (`x-optional-fields`).
    SchemaMember(&'static str, &'static str),
    /// The `schema` of the component parameter with this `name`.
    ParamSchema(&'static str),
    /// The spec's `info`.
    Info,
    /// The whole spec (for [`Change::Rename`]).
    Everywhere,
}

/// What a plant does at its [`Target`].
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// A new map entry: its key and its value as YAML text.
    Entry(&'static str, &'static str),
    /// A new value at the end of a list (YAML text).
    Value(&'static str),
    /// A new key at the end of the `sort` pattern's list of keys.
    SortKey(&'static str),
    /// A new value (YAML text) for the map's existing key.
    Set(&'static str, &'static str),
    /// The map's entry with this key removed.
    Remove(&'static str),
    /// The list's item with this value (YAML text) removed.
    RemoveValue(&'static str),
    /// Every map key and every list value `from` under the target renamed `to`.
    Rename(&'static str, &'static str),
}

/// One planted change.
#[derive(Debug, Clone, Copy)]
pub struct Plant {
    /// What the change is.
    pub what: &'static str,
    /// Where it goes.
    pub target: Target,
    /// What it adds.
    pub change: Change,
}

/// `spec` with every plant applied. Each plant is found by structure (see [`Target`]) in
/// the parsed spec, and added there; the text is edited only by appending lines to the
/// block it names (or rewriting the one-line value it names), so the rest of the spec stays
/// as written. The result must parse to exactly the structurally edited spec; a target that
/// is missing, a value that is there already, or a layout the text edit cannot follow is
/// an error naming the plant.
pub fn planted(spec: &str, plants: &[Plant]) -> Result<String> {
    let mut out = spec.to_owned();
    for p in plants {
        out = plant(&out, p).with_context(|| format!("drill plant `{}`", p.what))?;
    }
    Ok(out)
}

/// One step of a path into the spec.
#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn key(k: &str) -> Seg {
    Seg::Key(k.to_owned())
}

fn get<'a>(mut v: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    for seg in path {
        v = match seg {
            Seg::Key(k) => v.get(k)?,
            Seg::Index(i) => v.get(*i)?,
        };
    }
    Some(v)
}

fn get_mut<'a>(mut v: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    for seg in path {
        v = match seg {
            Seg::Key(k) => v.get_mut(k)?,
            Seg::Index(i) => v.get_mut(*i)?,
        };
    }
    Some(v)
}

/// The path of a plant's target in `spec`.
fn target_path(spec: &Value, target: Target) -> Result<Vec<Seg>> {
    let param = |name: &str| -> Result<Vec<Seg>> {
        let params = spec
            .pointer("/components/parameters")
            .and_then(Value::as_object)
            .context("the spec has no components.parameters")?;
        let k = params
            .iter()
            .find(|(_, p)| p.get("name").and_then(Value::as_str) == Some(name))
            .map(|(k, _)| k)
            .with_context(|| format!("components.parameters has no parameter named `{name}`"))?;
        Ok(vec![key("components"), key("parameters"), key(k)])
    };
    let schema = |name: &str| vec![key("components"), key("schemas"), key(name)];
    let path = match target {
        Target::Properties(s) => [schema(s), vec![key("properties")]].concat(),
        Target::SchemaMember(s, k) => [schema(s), vec![key(k)]].concat(),
        Target::ParamSchema(p) => [param(p)?, vec![key("schema")]].concat(),
        Target::Info => vec![key("info")],
        Target::Everywhere => Vec::new(),
        Target::ParamValues(p) => {
            [param(p)?, vec![key("schema"), key("items"), key("enum")]].concat()
        }
        Target::FilterableFields(p) => [param(p)?, vec![key("x-filterable-fields")]].concat(),
        Target::SortPattern(p) => [param(p)?, vec![key("schema"), key("pattern")]].concat(),
        Target::SchemaEnum(s) => {
            let base = schema(s);
            let node = get(spec, &base).with_context(|| format!("no component schema `{s}`"))?;
            if node.get("enum").is_some() {
                [base, vec![key("enum")]].concat()
            } else {
                let (list, i) = ["anyOf", "oneOf"]
                    .iter()
                    .find_map(|list| {
                        let members = node.get(*list)?.as_array()?;
                        let i = members.iter().position(|m| m.get("enum").is_some())?;
                        Some((*list, i))
                    })
                    .with_context(|| {
                        format!("component schema `{s}` has no enum (nor an anyOf/oneOf member with one)")
                    })?;
                [base, vec![key(list), Seg::Index(i), key("enum")]].concat()
            }
        }
    };
    ensure!(
        get(spec, &path).is_some(),
        "the spec has nothing at {}",
        show(&path)
    );
    Ok(path)
}

fn show(path: &[Seg]) -> String {
    path.iter()
        .map(|s| match s {
            Seg::Key(k) => k.clone(),
            Seg::Index(i) => i.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The end of the sort pattern (codegen's `sort_keys` reads the keys before it).
const SORT_CLOSE: &str = ")(?:,(?!$)|$))+$";

/// Applies one plant to the spec text.
fn plant(text: &str, p: &Plant) -> Result<String> {
    let spec = crate::spec::parse(text)?;
    let path = target_path(&spec, p.target)?;
    let at = show(&path);
    fn at_path<'v>(v: &'v mut Value, path: &[Seg]) -> Result<&'v mut Value> {
        get_mut(v, path).context("unreachable: the path was found")
    }
    let yaml = |y: &str| crate::spec::parse(y);
    match p.change {
        Change::Entry(k, value) => {
            let value = yaml(value)?;
            let added = Value::Object([(k.to_owned(), value.clone())].into_iter().collect());
            edit(text, &path, Edit::Append(&added), |s| {
                let map = at_path(s, &path)?.as_object_mut().context("not a map")?;
                ensure!(!map.contains_key(k), "{at} has `{k}` already");
                map.insert(k.to_owned(), value);
                Ok(())
            })
        }
        Change::Value(value) => {
            let value = yaml(value)?;
            let added = Value::Array(vec![value.clone()]);
            edit(text, &path, Edit::Append(&added), |s| {
                let list = at_path(s, &path)?.as_array_mut().context("not a list")?;
                ensure!(!list.contains(&value), "{at} has {value} already");
                list.push(value);
                Ok(())
            })
        }
        Change::SortKey(k) => edit(text, &path, Edit::Rewrite, |s| {
            let node = at_path(s, &path)?;
            let pattern = node.as_str().context("not a string")?;
            let keys = shipstream_inventory_codegen::facts::sort_keys(pattern)?;
            ensure!(
                !keys.iter().any(|x| x == k),
                "{at} has the key `{k}` already"
            );
            let head = pattern
                .strip_suffix(SORT_CLOSE)
                .with_context(|| format!("{at} does not end in `{SORT_CLOSE}`"))?;
            let new = format!("{head}|{k}{SORT_CLOSE}");
            let new_keys = shipstream_inventory_codegen::facts::sort_keys(&new)?;
            ensure!(
                new_keys == [keys, vec![k.to_owned()]].concat(),
                "adding `{k}` to {at} did not give the keys expected: {new_keys:?}"
            );
            *node = Value::String(new);
            Ok(())
        }),
        Change::Set(k, value) => {
            let value = yaml(value)?;
            let at_key = [path.clone(), vec![key(k)]].concat();
            edit(text, &at_key, Edit::Rewrite, |s| {
                let slot = at_path(s, &path)?
                    .get_mut(k)
                    .with_context(|| format!("{at} has no `{k}`"))?;
                ensure!(*slot != value, "{at}.{k} is {value} already");
                *slot = value;
                Ok(())
            })
        }
        Change::Remove(k) => {
            let at_key = [path.clone(), vec![key(k)]].concat();
            edit(text, &at_key, Edit::Delete, |s| {
                let map = at_path(s, &path)?.as_object_mut().context("not a map")?;
                map.remove(k)
                    .with_context(|| format!("{at} has no `{k}`"))?;
                Ok(())
            })
        }
        Change::RemoveValue(value) => {
            let value = yaml(value)?;
            let i = get(&spec, &path)
                .and_then(Value::as_array)
                .and_then(|list| list.iter().position(|v| *v == value))
                .with_context(|| format!("{at} has no value {value}"))?;
            let item = [path.clone(), vec![Seg::Index(i)]].concat();
            edit(text, &item, Edit::Delete, |s| {
                at_path(s, &path)?
                    .as_array_mut()
                    .context("not a list")?
                    .remove(i);
                Ok(())
            })
        }
        Change::Rename(from, to) => {
            let mut out = text.to_owned();
            let mut renamed = 0;
            while let Some(found) = get(&crate::spec::parse(&out)?, &path)
                .and_then(|v| occurrence(v, from))
                .map(|rest| [path.clone(), rest].concat())
            {
                ensure!(renamed < 100, "`{from}` comes back after each rename");
                let (last, parent) = found.split_last().context("the target itself")?;
                out = edit(&out, &found, Edit::Rename(from, to), |s| {
                    match (get_mut(s, parent).context("unreachable")?, last) {
                        (Value::Object(map), Seg::Key(k)) => {
                            let v = map.remove(k).context("unreachable")?;
                            ensure!(!map.contains_key(to), "`{to}` is there already");
                            map.insert(to.to_owned(), v);
                        }
                        (Value::Array(list), Seg::Index(i)) => list[*i] = Value::String(to.into()),
                        _ => bail!("unreachable: {} is neither key nor item", show(&found)),
                    }
                    Ok(())
                })?;
                renamed += 1;
            }
            ensure!(renamed > 0, "`{from}` is nowhere in {at}");
            Ok(out)
        }
    }
}

/// The path (below `v`) of the first map key or list value `name`.
fn occurrence(v: &Value, name: &str) -> Option<Vec<Seg>> {
    let below = |seg: Seg, child: &Value, hit: bool| {
        if hit {
            Some(vec![seg])
        } else {
            occurrence(child, name).map(|rest| [vec![seg], rest].concat())
        }
    };
    match v {
        Value::Object(m) => m.iter().find_map(|(k, c)| below(key(k), c, k == name)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, c)| below(Seg::Index(i), c, c.as_str() == Some(name))),
        _ => None,
    }
}

/// How the text at a path changes.
#[derive(Debug, Clone, Copy)]
enum Edit<'a> {
    /// Lines appended to the block (a one-entry map or a one-item list).
    Append(&'a Value),
    /// The one-line value rewritten.
    Rewrite,
    /// The node's lines removed.
    Delete,
    /// The node's key, or its one-line value, renamed.
    Rename(&'a str, &'a str),
}

/// The text with `change` made to the parsed spec at `path`, by the edit `how`; the edited
/// text must parse to the changed spec.
fn edit(
    text: &str,
    path: &[Seg],
    how: Edit<'_>,
    change: impl FnOnce(&mut Value) -> Result<()>,
) -> Result<String> {
    let at = show(path);
    let mut expected = crate::spec::parse(text)?;
    change(&mut expected).with_context(|| format!("at {at}"))?;
    let out = edit_text(text, path, how, &expected)
        .with_context(|| format!("cannot edit the text at {at}"))?;
    ensure!(
        crate::spec::parse(&out).ok().as_ref() == Some(&expected),
        "the edited text at {at} does not parse to the planted spec (a layout the drill \
         cannot edit; see xtask/src/drill/plant.rs `edit_text`)"
    );
    Ok(out)
}

/// A node of the spec text: the line of its key (or list dash), where its value starts on
/// that line when it is written there (`key: value`, `key: {flow}`), and the lines of its
/// block.
#[derive(Debug)]
struct Found {
    line: usize,
    inline: Option<usize>,
    body: std::ops::Range<usize>,
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Neither blank nor a comment.
fn is_content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#')
}

/// The key of a `key: ...` line (plain, "double" or 'single' quoted) and the byte offset
/// just after its colon.
fn key_of(t: &str) -> Option<(String, usize)> {
    let (k, after) = if let Some(q @ ('"' | '\'')) = t.chars().next() {
        let close = t[1..].find(q)? + 1;
        (t[1..close].to_owned(), close + 1)
    } else {
        let colon = t.find(": ").or_else(|| t.strip_suffix(':').map(str::len))?;
        (t[..colon].trim_end().to_owned(), colon)
    };
    t[after..].starts_with(':').then_some((k, after + 1))
}

/// Finds `path` in block-style YAML `lines`, or the node written on one line that holds it;
/// returns the node and how many steps of `path` lead to it. Lists are entered by turning
/// an item's dash into a space in `lines` (a working copy), so its first key lines up with
/// the others.
fn locate(lines: &mut [String], path: &[Seg]) -> Result<(Found, usize)> {
    let mut found = Found {
        line: 0,
        inline: None,
        body: 0..lines.len(),
    };
    for (depth, seg) in path.iter().enumerate() {
        if found.inline.is_some() {
            return Ok((found, depth));
        }
        let body = found.body.clone();
        let first = body
            .clone()
            .find(|&i| is_content(&lines[i]))
            .context("an empty block")?;
        let ci = indent_of(&lines[first]);
        let at_ci = |l: &str| is_content(l) && indent_of(l) == ci;
        found = match seg {
            Seg::Key(k) => {
                let (line, after) = body
                    .clone()
                    .filter(|&i| at_ci(&lines[i]))
                    .find_map(|i| match key_of(&lines[i][ci..]) {
                        Some((key, after)) if key == *k => Some((i, ci + after)),
                        _ => None,
                    })
                    .with_context(|| format!("no line `{k}:`"))?;
                let rest = &lines[line][after..];
                let inline = (is_content(rest)).then(|| after + indent_of(rest));
                let next = (line + 1..body.end).find(|&i| is_content(&lines[i]));
                // A block list may stand at its key's own indent (`key:\n- a`).
                let same_indent_list = inline.is_none()
                    && next.is_some_and(|i| at_ci(&lines[i]) && lines[i][ci..].starts_with('-'));
                let end = (line + 1..body.end)
                    .find(|&i| {
                        is_content(&lines[i])
                            && (indent_of(&lines[i]) < ci
                                || (indent_of(&lines[i]) == ci
                                    && !(same_indent_list && lines[i][ci..].starts_with('-'))))
                    })
                    .unwrap_or(body.end);
                Found {
                    line,
                    inline,
                    body: line + 1..end,
                }
            }
            Seg::Index(n) => {
                let dashes: Vec<usize> = body
                    .clone()
                    .filter(|&i| at_ci(&lines[i]) && lines[i][ci..].starts_with('-'))
                    .collect();
                let &line = dashes.get(*n).with_context(|| format!("no item {n}"))?;
                let end = dashes.get(n + 1).copied().unwrap_or(body.end);
                lines[line].replace_range(ci..ci + 1, " ");
                Found {
                    line,
                    inline: None,
                    body: line..end,
                }
            }
        };
    }
    Ok((found, path.len()))
}

/// `text` with the edit `how` at `path`; where the node (or one holding it) is written on
/// one line and the edit is not of that line as a whole, that line's value is replaced by
/// its value in `expected` as JSON (which YAML reads as a flow value).
fn edit_text(text: &str, path: &[Seg], how: Edit<'_>, expected: &Value) -> Result<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut view = lines.clone();
    let (found, depth) = locate(&mut view, path)?;
    let whole = depth == path.len();
    match (how, found.inline) {
        (Edit::Delete, _) if whole => {
            lines.drain(found.line..found.body.end.max(found.line + 1));
        }
        (Edit::Rename(from, to), _) if whole => {
            let line = &mut lines[found.line];
            let at = line.find(from).context("the name is not on its line")?;
            line.replace_range(at..at + from.len(), to);
        }
        (Edit::Append(added), None) => {
            let content = |mut r: std::ops::Range<usize>, last: bool| {
                let f = |&i: &usize| is_content(&view[i]);
                if last { r.rev().find(f) } else { r.find(f) }.context("an empty block")
            };
            let last = content(found.body.clone(), true)?;
            let first = content(found.body.clone(), false)?;
            let mut new = Vec::new();
            render(added, indent_of(&view[first]), &mut new);
            lines.splice(last + 1..last + 1, new);
        }
        (_, Some(col)) => {
            let new = get(expected, &path[..depth]).context("unreachable: the path was found")?;
            lines[found.line].replace_range(col.., &serde_json::to_string(new)?);
        }
        (_, None) => bail!("a block where a one-line value was expected"),
    }
    let mut out = lines.join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// Block YAML for the entries of a map or the items of a list, at `indent`; scalars as
/// JSON (valid YAML).
fn render(value: &Value, indent: usize, out: &mut Vec<String>) {
    let pad = " ".repeat(indent);
    let nested = |v: &Value| match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    };
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let plain = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
                let k = if k.chars().all(plain) && !k.starts_with('-') {
                    k.clone()
                } else {
                    Value::String(k.clone()).to_string()
                };
                if nested(v) {
                    out.push(format!("{pad}{k}:"));
                    render(v, indent + 2, out);
                } else {
                    out.push(format!("{pad}{k}: {v}"));
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                if nested(v) {
                    out.push(format!("{pad}-"));
                    render(v, indent + 2, out);
                } else {
                    out.push(format!("{pad}- {v}"));
                }
            }
        }
        scalar => out.push(format!("{pad}{scalar}")),
    }
}
