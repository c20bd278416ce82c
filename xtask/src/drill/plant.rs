//! Planting API changes in the spec by its structure: a plant names where it goes by
//! component and parameter names ([`Target`]) and what it does there ([`Change`]), and
//! [`crate::spec::edit`] makes the change in the text.

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;

use crate::spec::edit::{Edit, Seg, edit, get, get_mut, key, show};

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
    /// The component parameter with this `name`.
    Param(&'static str),
    /// The node at these keys below the operation the workspace serves
    /// ([`DEFAULT_OPERATION`](crate::check::DEFAULT_OPERATION)).
    Operation(&'static [&'static str]),
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
        Target::Param(p) => param(p)?,
        Target::Operation(keys) => {
            let id = crate::check::DEFAULT_OPERATION;
            let op = crate::spec::operation(spec, id)
                .with_context(|| format!("the spec has no operation `{id}`"))?;
            let below = keys.iter().map(|k| key(k));
            [key("paths"), key(op.path), key(op.method)]
                .into_iter()
                .chain(below)
                .collect()
        }
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
