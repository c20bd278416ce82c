//! Editing `openapi.yaml` as text by its structure, so that its comments, order and
//! quoting stay as written: a change is made on the parsed spec, then in the text with the
//! fewest lines touched, and the edited text must parse to exactly the changed spec. The
//! drills' plants ([`crate::drill::plant`]) and `cargo xtask adopt` edit through it.

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;

/// One step of a path into the spec.
#[derive(Debug, Clone, PartialEq)]
pub enum Seg {
    /// A map key.
    Key(String),
    /// A list index.
    Index(usize),
}

pub(crate) fn key(k: &str) -> Seg {
    Seg::Key(k.to_owned())
}

pub(crate) fn get<'a>(mut v: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    for seg in path {
        v = match seg {
            Seg::Key(k) => v.get(k)?,
            Seg::Index(i) => v.get(*i)?,
        };
    }
    Some(v)
}

pub(crate) fn get_mut<'a>(mut v: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    for seg in path {
        v = match seg {
            Seg::Key(k) => v.get_mut(k)?,
            Seg::Index(i) => v.get_mut(*i)?,
        };
    }
    Some(v)
}

pub(crate) fn show(path: &[Seg]) -> String {
    path.iter()
        .map(|s| match s {
            Seg::Key(k) => k.clone(),
            Seg::Index(i) => i.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The path a JSON `pointer` names in `doc`.
pub fn path_of(doc: &Value, pointer: &str) -> Result<Vec<Seg>> {
    let mut at = doc;
    let mut path = Vec::new();
    for raw in pointer.split('/').skip(1) {
        let k = crate::spec::unescape(raw);
        let (seg, next) = match at {
            Value::Array(items) => {
                let i: usize = k.parse().with_context(|| format!("`{k}` is no index"))?;
                (Seg::Index(i), items.get(i))
            }
            _ => (Seg::Key(k.clone()), at.get(&k)),
        };
        at = next.with_context(|| format!("nothing at {pointer}"))?;
        path.push(seg);
    }
    Ok(path)
}

/// `text` with `value` added to the node at `pointer`: as the new entry `key` of the map
/// there, or (`key` `None`) as the last item of the list there.
pub fn add(text: &str, pointer: &str, key: Option<&str>, value: &Value) -> Result<String> {
    let path = path_of(&crate::spec::parse(text)?, pointer)?;
    let added = match key {
        Some(k) => Value::Object([(k.to_owned(), value.clone())].into_iter().collect()),
        None => Value::Array(vec![value.clone()]),
    };
    edit(text, &path, Edit::Append(&added), |s| {
        match (
            get_mut(s, &path).context("unreachable: the path was found")?,
            key,
        ) {
            (Value::Object(map), Some(k)) => {
                ensure!(!map.contains_key(k), "`{k}` is there already");
                map.insert(k.to_owned(), value.clone());
            }
            (Value::Array(list), None) => {
                ensure!(!list.contains(value), "{value} is there already");
                list.push(value.clone());
            }
            _ => bail!(
                "{pointer} is not a {}",
                if key.is_some() { "map" } else { "list" }
            ),
        }
        Ok(())
    })
}

/// `text` with the entry `key` of the map at `pointer` set to `value`: rewritten when the
/// map has it, added otherwise.
pub fn set(text: &str, pointer: &str, key: &str, value: &Value) -> Result<String> {
    let doc = crate::spec::parse(text)?;
    let path = path_of(&doc, pointer)?;
    if get(&doc, &path).and_then(|m| m.get(key)).is_none() {
        return add(text, pointer, Some(key), value);
    }
    let at_key = [path.clone(), vec![Seg::Key(key.to_owned())]].concat();
    edit(text, &at_key, Edit::Rewrite, |s| {
        *get_mut(s, &at_key).context("unreachable: the path was found")? = value.clone();
        Ok(())
    })
}

/// How the text at a path changes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Edit<'a> {
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
pub(crate) fn edit(
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
         cannot edit; see xtask/src/spec/edit.rs `edit_text`)"
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

/// The keys written first, in this order (as OpenAPI documents are usually written);
/// the others follow in their order, `x-` extensions last.
const FIRST: &[&str] = &[
    "$ref",
    "name",
    "in",
    "required",
    "type",
    "format",
    "nullable",
    "description",
];

/// Block YAML for the entries of a map or the items of a list, at `indent`: strings plain
/// where YAML reads them back as the same string, as a `|` block when they span lines,
/// else quoted as JSON (which YAML reads).
fn render(value: &Value, indent: usize, out: &mut Vec<String>) {
    let pad = " ".repeat(indent);
    let nested = |v: &Value| match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    };
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by_key(|(k, _)| {
                let first = FIRST.iter().position(|f| f == k);
                (k.starts_with("x-"), first.unwrap_or(FIRST.len()))
            });
            for (k, v) in entries {
                let k = scalar(&Value::String(k.clone()));
                if nested(v) {
                    out.push(format!("{pad}{k}:"));
                    render(v, indent + 2, out);
                } else if let Some((mark, lines)) = block(v) {
                    out.push(format!("{pad}{k}: {mark}"));
                    out.extend(lines.map(|l| match l {
                        "" => String::new(),
                        l => format!("{pad}  {l}"),
                    }));
                } else {
                    out.push(format!("{pad}{k}: {}", scalar(v)));
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                if nested(v) {
                    // The item's first line follows its dash (`- name: x`).
                    let first = out.len();
                    render(v, indent + 2, out);
                    out[first].replace_range(..indent + 2, &format!("{pad}- "));
                } else {
                    out.push(format!("{pad}- {}", scalar(v)));
                }
            }
        }
        other => out.push(format!("{pad}{}", scalar(other))),
    }
}

/// A scalar as YAML: a string plain when YAML reads it back as that string, else JSON.
fn scalar(v: &Value) -> String {
    let plain = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '$')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || " _-.,()/$".contains(c))
            && !s.ends_with(' ')
            && !["true", "false", "null", "yes", "no", "on", "off", "y", "n"]
                .contains(&s.to_ascii_lowercase().as_str())
    };
    match v.as_str() {
        Some(s) if plain(s) => s.to_owned(),
        _ => v.to_string(),
    }
}

/// A string of several lines as a literal block: its indicator and its lines.
fn block(v: &Value) -> Option<(&'static str, std::str::Lines<'_>)> {
    let s = v.as_str().filter(|s| s.contains('\n'))?;
    let (mark, body) = match s.strip_suffix('\n') {
        Some(b) if !b.ends_with('\n') => ("|", b),
        Some(_) => return None,
        None => ("|-", s),
    };
    let awkward = body.starts_with([' ', '\t']) || body.lines().any(|l| l.ends_with([' ', '\t']));
    (!awkward).then(|| (mark, body.lines()))
}
