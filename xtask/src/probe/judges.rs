//! The judges of the probed notes: each reads the answers to its note's requests (and the
//! first page, or every page fetched) and says confirmed, refuted or not testable. What
//! refutes a note is named by JSON path and value (`$.meta.count = 1e+20`), a status or a
//! header.

use serde_json::{Value, json};

use super::{
    Evidence, Judged,
    Verdict::{Confirmed, Refuted},
    table::Ctx,
};
use crate::{
    live::{Answer, VERSION_HEADER},
    spec::JsonPath,
};

/// What the judges read off an answer.
impl Answer {
    /// The levels (`collection`).
    pub(super) fn rows(&self) -> &[Value] {
        let rows = self.body.get("collection").and_then(Value::as_array);
        rows.map_or(&[], Vec::as_slice)
    }

    /// The page's links and facts without its levels.
    fn frame(&self) -> Value {
        let keep = ["has_more", "next", "previous", "meta"];
        let frame = self.body.as_object().into_iter().flatten();
        let frame = frame.filter(|(k, _)| keep.contains(&k.as_str()));
        Value::Object(frame.map(|(k, v)| (k.clone(), v.clone())).collect())
    }

    /// This answer as evidence: what was `found`, and the part of it that shows it.
    fn evidence(&self, found: impl Into<String>, excerpt: Value) -> Evidence {
        let (request, status, found) = (self.request.clone(), self.status, found.into());
        Evidence {
            request,
            status,
            found,
            excerpt,
        }
    }

    /// Confirmed when `holds`, else refuted, for what was `found` (also the reason), with
    /// this answer as the evidence.
    fn judged(&self, holds: bool, found: impl Into<String>, excerpt: Value) -> Judged {
        let (found, verdict) = (found.into(), if holds { Confirmed } else { Refuted });
        Judged::new(verdict, found.clone(), vec![self.evidence(found, excerpt)])
    }

    /// Refuted for `reason`: the request got this status, not the answer meant.
    fn refused(&self, reason: impl Into<String>) -> Judged {
        let errors = self.body.get("errors");
        let excerpt = errors.map_or(self.body.clone(), |e| json!({ "errors": e }));
        let evidence = vec![self.evidence(format!("status {}", self.status), excerpt)];
        Judged::new(Refuted, reason, evidence)
    }
}

/// The names of a level's quantities, from the spec's `TotalLevel`.
pub(super) fn quantity_names(spec: &Value) -> Vec<String> {
    let properties = spec.pointer("/components/schemas/TotalLevel/properties");
    let names = properties.and_then(Value::as_object).into_iter().flatten();
    names
        .map(|(k, _)| k)
        .filter(|k| k.starts_with("qty_"))
        .cloned()
        .collect()
}

fn show(v: Option<&Value>) -> String {
    v.map_or_else(|| "(absent)".to_owned(), Value::to_string)
}

/// Whether `v` is an integer that fits 64 bits (signed).
fn int64(v: &Value) -> bool {
    v.as_i64().is_some()
}

/// The product ids of a page's levels.
pub(super) fn ids(page: &Answer) -> Vec<i64> {
    let ids = page.rows().iter();
    ids.filter_map(|r| r.pointer("/product/id").and_then(Value::as_i64))
        .collect()
}

/// The one answer of a probe, when it is a 200; else why nothing can be judged.
fn answered(answers: &[Answer]) -> Result<&Answer, Judged> {
    match answers {
        [page] if page.ok() => Ok(page),
        [page] => Err(Judged::untestable(format!(
            "{} answered {}",
            page.request, page.status
        ))),
        _ => Err(Judged::untestable("no answer")),
    }
}

/// The value at `pointer` of `page` (`/meta/count`, shown as `$.meta.count`), judged by
/// `holds`: `None` when the value settles nothing.
pub(super) fn at(
    page: &Answer,
    pointer: &str,
    holds: fn(Option<&Value>) -> Option<bool>,
) -> Judged {
    let v = page.body.pointer(pointer);
    let found = format!(
        "{} = {}",
        JsonPath::from_pointer(pointer, &page.body),
        show(v)
    );
    match holds(v) {
        Some(holds) => page.judged(holds, found, page.frame()),
        None => Judged::untestable(format!("nothing to judge: {found}")),
    }
}

/// The value at `pointer` of the one answer, judged by `holds` (see [`at`]).
pub(super) fn on(
    answers: &[Answer],
    pointer: &str,
    holds: fn(Option<&Value>) -> Option<bool>,
) -> Judged {
    match answered(answers) {
        Ok(page) => at(page, pointer, holds),
        Err(j) => j,
    }
}

/// A `{type, id}` stub (null: nothing to judge).
pub(super) fn stub(w: Option<&Value>) -> Option<bool> {
    match w {
        Some(Value::Null) => None,
        w => {
            Some(w.is_some_and(|w| {
                w.get("type").is_some_and(Value::is_string) && w.get("id").is_some()
            }))
        }
    }
}

/// A link that says "no page": absent, null or empty.
pub(super) fn no_link(v: Option<&Value>) -> Option<bool> {
    Some(matches!(v, None | Some(Value::Null)) || v.and_then(Value::as_str) == Some(""))
}

/// Null or absent.
pub(super) fn null(v: Option<&Value>) -> Option<bool> {
    Some(v.is_none_or(Value::is_null))
}

/// A 64-bit integer (absent: nothing to judge).
pub(super) fn int64_if_any(v: Option<&Value>) -> Option<bool> {
    v.map(int64)
}

/// One value a scan looks at: the answer, its JSON path, and the value (`None`: absent).
type Item<'a> = (&'a Answer, String, Option<Value>);

/// Every item `holds`: refuted at the first that does not, not testable when there is
/// none, else confirmed; `what` names the values (`quantities`).
fn every<'a>(
    items: impl IntoIterator<Item = Item<'a>>,
    what: &str,
    holds: impl Fn(&Value) -> bool,
) -> Judged {
    let mut seen = 0;
    for (page, path, v) in items {
        if !v.as_ref().is_some_and(&holds) {
            let found = format!("{path} = {}", show(v.as_ref()));
            return page.judged(false, found, json!({ path: v }));
        }
        seen += 1;
    }
    if seen == 0 {
        return Judged::untestable(format!("no {what} in the answers"));
    }
    Judged::new(
        Confirmed,
        format!("{seen} {what}, none against the note"),
        Vec::new(),
    )
}

/// Member `key` (a JSON pointer) of every level of `pages`, where it is present.
fn members<'a>(pages: &'a [Answer], key: &'a str) -> impl Iterator<Item = Item<'a>> {
    pages.iter().flat_map(move |page| {
        page.rows().iter().enumerate().filter_map(move |(i, row)| {
            let v = row.pointer(key)?.clone();
            let path = JsonPath::from_pointer(&format!("/collection/{i}{key}"), &page.body);
            Some((page, path.to_string(), Some(v)))
        })
    })
}

/// The first page's `next`, when its form is right (a path on the instance, or an
/// absolute URL on its origin), with that judgement; else the final judgement.
pub(super) fn next_form(base: &reqwest::Url, first: &Answer) -> Result<(String, Judged), Judged> {
    let next = first.body.get("next");
    let found = format!("$.next = {}", show(next));
    let Some(uri) = next.and_then(Value::as_str).filter(|s| !s.is_empty()) else {
        if first.body.get("has_more") == Some(&Value::Bool(true)) {
            let found = format!("$.has_more = true but {found}");
            return Err(first.judged(false, found, first.frame()));
        }
        return Err(Judged::untestable(
            "the first page has no `next` (it is the only page)",
        ));
    };
    let why = match reqwest::Url::parse(uri) {
        _ if uri.starts_with('/') && !uri.starts_with("//") => {
            format!("`next` is a host-relative path ({uri})")
        }
        Ok(url) if url.origin() == base.origin() => {
            format!("`next` is an absolute URL on the instance's origin ({uri})")
        }
        _ => {
            return Err(first.judged(
                false,
                format!("{found}: not a path on the instance, nor a URL on its origin"),
                first.frame(),
            ));
        }
    };
    let evidence = vec![first.evidence(found, first.frame())];
    Ok((uri.to_owned(), Judged::new(Confirmed, why, evidence)))
}

/// `next-link-form`: the first page's `next` has the right form, and following it gives
/// the levels after the first page.
pub(super) fn next_link_form(c: &Ctx<'_>, answers: &[Answer]) -> Judged {
    let (uri, form) = match next_form(&c.base, &c.first) {
        Ok(form) => form,
        Err(judged) => return judged,
    };
    let [_, second] = answers else { return form };
    if !second.ok() {
        return second.refused(format!(
            "following `next` ({uri}) answered {}",
            second.status
        ));
    }
    if let (Some(a), Some(b)) = (ids(&c.first).last(), ids(second).first())
        && b <= a
    {
        let found = format!("$.collection[0].product.id = {b}, not after {a}");
        return second.judged(false, found, second.frame());
    }
    let mut evidence = form.evidence;
    evidence.push(second.evidence("status 200, the following levels", second.frame()));
    let why = format!("{}; following it gave the following levels", form.reason);
    Judged::new(Confirmed, why, evidence)
}

/// `level-default-fields`: without `fields` a level has type, product, updated_at and
/// every quantity.
pub(super) fn default_fields(c: &Ctx<'_>, _: &[Answer]) -> Judged {
    let keys = ["type", "product", "updated_at"].map(String::from);
    let keys: Vec<String> = keys
        .into_iter()
        .chain(c.quantities.iter().cloned())
        .collect();
    let items = c.first.rows().iter().enumerate().flat_map(|(i, row)| {
        let first = &c.first;
        keys.iter()
            .map(move |k| (first, format!("$.collection[{i}].{k}"), row.get(k).cloned()))
    });
    every(items, "default members of levels", |_| true)
}

/// The first level's `updated_at`, which the timestamp filter compares with.
pub(super) fn first_updated_at(c: &Ctx<'_>) -> Option<String> {
    let row = c.first.rows().first()?;
    Some(row.get("updated_at")?.as_str()?.to_owned())
}

/// `timestamp-compared-as-string`: `updated_at{gt:"<t>"}` is accepted and lets only
/// later levels through.
pub(super) fn timestamp_filter(c: &Ctx<'_>, answers: &[Answer]) -> Judged {
    let (Some(t), [page]) = (first_updated_at(c), answers) else {
        return Judged::untestable("the first page has no level with `updated_at`");
    };
    if !page.ok() {
        return page.refused(format!(
            "`updated_at{{gt:{t:?}}}` was refused with {}",
            page.status
        ));
    }
    let later = |v: &Value| v.as_str().is_some_and(|at| at > t.as_str());
    every(
        members(std::slice::from_ref(page), "/updated_at"),
        "levels updated later",
        later,
    )
}

/// `sort-key-once`: a key named twice in `sort` is refused.
pub(super) fn sort_key_once(_: &Ctx<'_>, answers: &[Answer]) -> Judged {
    let Some(page) = answers.first() else {
        return Judged::untestable("no answer");
    };
    let refused = (400..500).contains(&page.status);
    page.judged(refused, format!("status {}", page.status), page.frame())
}

/// One assumed operator's probe: the operator, the filter on `product_id`, and what the
/// ids of the answer (sorted by product id) must be.
pub(super) type OperatorCase = (&'static str, String, Box<dyn Fn(&[i64]) -> bool>);

/// The operator probes of note `id`, on the first page's first three ids.
pub(super) fn operator_cases(c: &Ctx<'_>, id: &str) -> Result<Vec<OperatorCase>, String> {
    let &[a, b, cc, ..] = ids(&c.first).as_slice() else {
        return Err("the first page has fewer than three levels to filter by id".to_owned());
    };
    let not_a = move |got: &[i64]| !got.contains(&a) && got.first() == Some(&b);
    let filter = |op: &str, arg: String| format!("product_id{{{op}:{arg}}}");
    Ok(if id == "operators-neq-in-nin" {
        vec![
            ("neq", filter("neq", a.to_string()), Box::new(not_a)),
            (
                "in",
                filter("in", format!("[{a},{cc}]")),
                Box::new(move |g| g == [a, cc]),
            ),
            ("nin", filter("nin", format!("[{a}]")), Box::new(not_a)),
        ]
    } else {
        vec![
            (
                "gteq",
                filter("gteq", b.to_string()),
                Box::new(move |g| g.first() == Some(&b)),
            ),
            (
                "lteq",
                filter("lteq", b.to_string()),
                Box::new(move |g| g == [a, b]),
            ),
        ]
    })
}

/// `operators-neq-in-nin`, `operators-gteq-lteq`: each operator of the note is accepted
/// and filters as it means.
pub(super) fn operators(c: &Ctx<'_>, answers: &[Answer], id: &str) -> Judged {
    let cases = match operator_cases(c, id) {
        Ok(cases) if cases.len() == answers.len() => cases,
        Ok(_) => return Judged::untestable("no answer"),
        Err(why) => return Judged::untestable(why),
    };
    let mut evidence = Vec::new();
    let mut failure = None;
    for ((op, filter, holds), page) in cases.iter().zip(answers) {
        let got = ids(page);
        let found = format!("$.collection[*].product.id = {got:?}");
        if !page.ok() {
            failure.get_or_insert(format!("`{op}` was refused with {}", page.status));
            evidence.extend(page.refused("").evidence);
        } else if !holds(&got) {
            failure.get_or_insert(format!(
                "`{filter}` was accepted but did not filter as `{op}` means: {found}"
            ));
            evidence.push(page.evidence(found, json!({ "ids": got })));
        } else {
            evidence.push(page.evidence(format!("status 200, ids {got:?}"), json!({ "ids": got })));
        }
    }
    let ops: Vec<&str> = cases.iter().map(|(op, _, _)| *op).collect();
    match failure {
        Some(why) => Judged::new(Refuted, why, evidence),
        None => Judged::new(
            Confirmed,
            format!("{} filtered as meant", ops.join(", ")),
            evidence,
        ),
    }
}

/// `refused-parameter-400`: `limit=1001` gets a 400 whose `details[].key` names `limit`.
pub(super) fn refused_parameter(_: &Ctx<'_>, answers: &[Answer]) -> Judged {
    let Some(page) = answers.first().filter(|p| (400..500).contains(&p.status)) else {
        return Judged::untestable(
            "`limit=1001` was not refused: the documented maximum of 1000 did not hold",
        );
    };
    let errors = page
        .body
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    let details = errors
        .filter_map(|e| e.get("details").and_then(Value::as_array))
        .flatten();
    let keys: Vec<&str> = details
        .filter_map(|d| d.get("key").and_then(Value::as_str))
        .collect();
    let found = format!(
        "status {}, $.errors[*].details[*].key = {keys:?}",
        page.status
    );
    let holds = page.status == 400 && keys.contains(&"limit");
    page.judged(holds, found, page.body.clone())
}

/// `version-echo-on-error`, `version-error-header`: the one answer, when `refusal` covers
/// its status, carries header `name`.
pub(super) fn header_on(answers: &[Answer], refusal: fn(u16) -> bool, name: &str) -> Judged {
    let page = match answers {
        [page] if refusal(page.status) => page,
        [page] => return Judged::untestable(format!("{} answered {}", page.request, page.status)),
        _ => return Judged::untestable("no answer"),
    };
    let v = page.header(name);
    let found = format!(
        "status {}, {name}: {}",
        page.status,
        v.unwrap_or("(absent)")
    );
    page.judged(v.is_some(), found, json!({ name: v }))
}

/// The version the instance served the first page in (or the configured one).
pub(super) fn served_version(c: &Ctx<'_>) -> Option<String> {
    c.first
        .header(VERSION_HEADER)
        .map(str::to_owned)
        .or_else(|| c.version.clone())
}

/// `version-header-wins`: the header's version wins over a `version` query parameter.
pub(super) fn version_header_wins(c: &Ctx<'_>, answers: &[Answer]) -> Judged {
    let (Some(v), [page]) = (served_version(c), answers) else {
        return Judged::untestable("the first page named no version and none is configured");
    };
    let echoed = page.header(VERSION_HEADER);
    let found = format!(
        "status {}, {VERSION_HEADER}: {}",
        page.status,
        echoed.unwrap_or("(absent)")
    );
    let wins = page.ok() && echoed.is_none_or(|e| e == v);
    page.judged(wins, found, json!({ VERSION_HEADER: echoed }))
}

/// `product-basic-fields`, `product-basic-fields-param`: with `fields:product=basic` no
/// field the spec lists as optional (`x-optional-fields` of `Product`) comes, and every
/// other field comes in at least one product (a single product may leave out a field it
/// has no value for).
pub(super) fn basic_fields(c: &Ctx<'_>, answers: &[Answer]) -> Judged {
    let product = c.spec.pointer("/components/schemas/Product");
    let optional = product
        .and_then(|p| p.get("x-optional-fields"))
        .and_then(Value::as_array);
    let optional: Vec<&str> = optional
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let properties = product
        .and_then(|p| p.get("properties"))
        .and_then(Value::as_object);
    let basic = properties.into_iter().flatten().map(|(k, _)| k.as_str());
    let basic: Vec<&str> = basic.filter(|k| !optional.contains(k)).collect();
    match answers {
        [page] if !page.ok() => page.refused(format!(
            "`fields:product=basic` was refused with {}",
            page.status
        )),
        [page] => {
            let products = included(page, "Product");
            let present = |k: &str| {
                products
                    .iter()
                    .filter(|(_, p)| p.get(k).is_some())
                    .map(|(path, _)| path.clone())
                    .next()
            };
            if let Some((k, path)) = optional.iter().find_map(|k| Some((k, present(k)?))) {
                return page.judged(false, format!("{path}.{k} is present"), json!(k));
            }
            let never: Vec<&str> = basic
                .iter()
                .copied()
                .filter(|k| present(k).is_none())
                .collect();
            if products.is_empty() {
                return Judged::untestable("the answer had no `included.Product`");
            }
            if !never.is_empty() {
                let found = format!("$.included.Product[*] never has {}", never.join(", "));
                return page.judged(false, found, json!(never));
            }
            let why = format!(
                "{} product(s) with the {} basic fields and none of the {} optional ones",
                products.len(),
                basic.len(),
                optional.len()
            );
            Judged::new(Confirmed, why, Vec::new())
        }
        _ => Judged::untestable("no answer"),
    }
}

/// The included objects of `kind` (every kind when empty), each with its JSON path.
fn included<'a>(page: &'a Answer, kind: &str) -> Vec<(String, &'a Value)> {
    let kinds = page
        .body
        .get("included")
        .and_then(Value::as_object)
        .into_iter()
        .flatten();
    let kinds = kinds.filter(|(k, _)| kind.is_empty() || *k == kind);
    let objects = kinds.flat_map(|(k, objects)| {
        let objects = objects.as_array().into_iter().flatten().enumerate();
        objects.map(move |(i, o)| (format!("$.included.{k}[{i}]"), o))
    });
    objects.collect()
}

/// `included-object-type-id`: every included object has a `type` (a string) and an `id`
/// (a 64-bit integer).
pub(super) fn included_type_id(_: &Ctx<'_>, answers: &[Answer]) -> Judged {
    let Some(page) = answers.first() else {
        return Judged::untestable("no answer");
    };
    let member = |k: &'static str| {
        let objects = included(page, "").into_iter();
        objects.map(move |(path, o)| (page, format!("{path}.{k}"), o.get(k).cloned()))
    };
    let types = every(
        member("type"),
        "types of included objects",
        Value::is_string,
    );
    if types.verdict != Confirmed {
        return types;
    }
    every(member("id"), "ids of included objects", int64)
}

/// `product-id-int64`: every included product's id fits 64 bits.
pub(super) fn product_id_int64(_: &Ctx<'_>, answers: &[Answer]) -> Judged {
    let Some(page) = answers.first() else {
        return Judged::untestable("no answer");
    };
    let items = included(page, "Product").into_iter();
    let ids = items
        .filter_map(|(path, o)| Some((page, format!("{path}.id"), Some(o.get("id")?.clone()))));
    every(ids, "included product ids", int64)
}

/// `has-more-always`: every page fetched has a boolean `has_more`.
pub(super) fn has_more(c: &Ctx<'_>, _: &[Answer]) -> Judged {
    let items = c
        .pages
        .iter()
        .map(|p| (p, "$.has_more".to_owned(), p.body.get("has_more").cloned()));
    every(items, "pages", Value::is_boolean)
}

/// `quantities-never-null`: every quantity of every level fetched is an integer.
pub(super) fn quantities(c: &Ctx<'_>, _: &[Answer]) -> Judged {
    let keys: Vec<String> = c.quantities.iter().map(|q| format!("/{q}")).collect();
    every(
        keys.iter().flat_map(|k| members(&c.pages, k)),
        "quantities",
        int64,
    )
}

/// `updated-at-whole-seconds`: no `updated_at` has a fraction of a second (that a
/// quantity change stamps it is not probed: read-only requests change nothing).
pub(super) fn whole_seconds(c: &Ctx<'_>, _: &[Answer]) -> Judged {
    let whole = |v: &Value| {
        v.as_str().is_some_and(|at| {
            !at.split_once('T')
                .is_some_and(|(_, t)| t.contains(['.', ',']))
        })
    };
    every(
        members(&c.pages, "/updated_at"),
        "`updated_at` values",
        whole,
    )
}

/// `product-ref-id-int64`: every level's `product.id` fits 64 bits.
pub(super) fn product_ref_ids(c: &Ctx<'_>, _: &[Answer]) -> Judged {
    every(members(&c.pages, "/product/id"), "product ids", int64)
}

/// `*-members-never-null`: in every included product of every page fetched and of the
/// answers, each of `members` of the object at `object` (a JSON pointer under the product,
/// `*` for each item of a list; `""` for the product itself) is not null when it is sent.
pub(super) fn never_null(
    c: &Ctx<'_>,
    answers: &[Answer],
    object: &str,
    members: &[&str],
) -> Judged {
    let pages = c.pages.iter().chain(answers);
    let products = pages.flat_map(|p| included(p, "Product").into_iter().map(move |o| (p, o)));
    let objects = products.flat_map(|(page, (path, product))| {
        let mut found = vec![(path, product)];
        for step in object.split('/').skip(1) {
            found = found
                .into_iter()
                .flat_map(|(path, o)| match (step, o) {
                    ("*", Value::Array(items)) => items
                        .iter()
                        .enumerate()
                        .map(|(i, v)| (format!("{path}[{i}]"), v))
                        .collect(),
                    (_, o) => o
                        .get(step)
                        .map(|v| (format!("{path}.{step}"), v))
                        .into_iter()
                        .collect::<Vec<_>>(),
                })
                .collect();
        }
        found.into_iter().map(move |(path, o)| (page, path, o))
    });
    let values = objects.flat_map(|(page, path, o)| {
        let sent = members.iter().filter_map(move |m| Some((m, o.get(*m)?)));
        sent.map(move |(m, v)| (page, format!("{path}.{m}"), Some(v.clone())))
    });
    every(values, "members the note names", |v| !v.is_null())
}

/// `product-stub-sku`: the `product` stub of every level fetched has a string `sku`.
pub(super) fn product_stub_sku(c: &Ctx<'_>, _: &[Answer]) -> Judged {
    let stubs =
        members(&c.pages, "/product").filter(|(_, _, v)| v.as_ref().is_some_and(Value::is_object));
    let skus = stubs.map(|(p, path, v)| {
        let sku = v.and_then(|v| v.get("sku").cloned());
        (p, format!("{path}.sku"), sku)
    });
    every(skus, "product stubs' `sku`", Value::is_string)
}

/// `page-members-never-null`: `included` and `meta` of every page fetched are objects
/// when sent.
pub(super) fn page_members(c: &Ctx<'_>, _: &[Answer]) -> Judged {
    let items = c.pages.iter().flat_map(|p| {
        let sent = ["included", "meta"].into_iter();
        sent.filter_map(move |k| Some((p, format!("$.{k}"), Some(p.body.get(k)?.clone()))))
    });
    every(items, "`included` and `meta` members", Value::is_object)
}

/// `previous-link-form`: every `previous` link of the pages fetched is a URI reference
/// that resolves on the instance's origin.
pub(super) fn previous_link_form(c: &Ctx<'_>, _: &[Answer]) -> Judged {
    let links = c.pages.iter().filter_map(|p| {
        let v = p
            .body
            .get("previous")
            .filter(|v| no_link(Some(v)) != Some(true))?;
        Some((p, "$.previous".to_owned(), Some(v.clone())))
    });
    let on_origin = |v: &Value| {
        v.as_str()
            .and_then(|s| c.base.join(s).ok())
            .is_some_and(|u| u.origin() == c.base.origin())
    };
    every(links, "`previous` links", on_origin)
}

/// `meta-cursors-int64`: `meta.cursor_start` and `meta.cursor_end` (and the links' cursor
/// parameters) fit 64 bits.
pub(super) fn meta_cursors(c: &Ctx<'_>, _: &[Answer]) -> Judged {
    let start = cursor(c, "cursor_start", "next");
    if start.verdict != Confirmed {
        return start;
    }
    cursor(c, "cursor_end", "previous")
}

/// `cursor-start-int64`, `cursor-end-int64`: `meta.<key>` and the `<key>` parameter of
/// each page's `<link>` fit 64 bits.
pub(super) fn cursor(c: &Ctx<'_>, key: &str, link: &str) -> Judged {
    let items = c.pages.iter().flat_map(|page| {
        let meta = page
            .body
            .pointer(&format!("/meta/{key}"))
            .filter(|v| !v.is_null());
        let meta = meta.map(|v| (page, format!("$.meta.{key}"), Some(v.clone())));
        let uri = page.body.get(link).and_then(Value::as_str).unwrap_or("");
        let query = uri.split_once('?').map_or("", |(_, q)| q).split('&');
        let params = query
            .filter_map(|kv| kv.split_once('='))
            .filter(|(k, _)| *k == key);
        let params = params.map(move |(_, v)| {
            let v = serde_json::from_str(v).unwrap_or_else(|_| json!(v));
            (page, format!("$.{link} ({key})"), Some(v))
        });
        meta.into_iter().chain(params)
    });
    every(items, &format!("`{key}` values"), int64)
}

#[cfg(test)]
mod tests {
    //! One crafted answer per judge: each note refuted on a page that contradicts it and
    //! confirmed on one that does not. The verdicts are written out.
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeMap;

    use super::*;
    use crate::probe::{
        Verdict::{self, NotTestable},
        table::{How, NOTES, VERSION_ERROR_HEADER},
    };

    fn spec() -> Value {
        crate::spec::parse(include_str!("../../../openapi.yaml")).unwrap()
    }

    fn answer(status: u16, body: Value) -> Answer {
        Answer {
            request: "GET /api/global/v1/inventory/levels/total?limit=5".into(),
            status,
            headers: BTreeMap::new(),
            body,
        }
    }

    fn with_header(mut a: Answer, name: &str, value: &str) -> Answer {
        a.headers.insert(name.to_ascii_lowercase(), value.into());
        a
    }

    fn level(id: i64) -> Value {
        json!({"type": "TotalLevel", "product": {"type": "Product", "id": id, "sku": "S"},
            "qty_on_hand": 3, "updated_at": format!("2025-08-28T10:30:0{id}Z")})
    }

    /// A page of the levels of `ids`, with a next page.
    fn page(ids: &[i64]) -> Value {
        json!({"collection": ids.iter().map(|i| level(*i)).collect::<Vec<_>>(),
            "has_more": true, "next": "/api/global/v1/inventory/levels/total?cursor_start=9",
            "previous": null, "meta": {"count": 60, "cursor_start": 9, "cursor_end": 14}})
    }

    /// The last page: one level, no next.
    fn last_page() -> Value {
        json!({"collection": [level(1)], "has_more": false, "next": null, "previous": null,
            "meta": {"cursor_start": null, "cursor_end": null}})
    }

    fn ctx(spec: &Value, first: Value) -> Ctx<'_> {
        let first = answer(200, first);
        Ctx {
            base: reqwest::Url::parse("https://acme.shipstream.app/").unwrap(),
            pages: vec![first.clone()],
            first,
            spec,
            quantities: vec!["qty_on_hand".into()],
            version: Some("2025-08".into()),
        }
    }

    /// The verdict of note `id`'s judge, and what it found (or its reason).
    fn judge(id: &str, c: &Ctx<'_>, answers: &[Answer]) -> (Verdict, String) {
        let Some((_, How::Probe(_, judge))) = NOTES.iter().find(|(n, _)| *n == id) else {
            panic!("{id} is not probed");
        };
        let j = judge(c, answers);
        let shown = j
            .evidence
            .first()
            .map_or(j.reason.clone(), |e| e.found.clone());
        (j.verdict, shown)
    }

    fn edit(mut v: Value, f: impl FnOnce(&mut Value)) -> Value {
        f(&mut v);
        v
    }

    #[test]
    fn links_and_cursors_of_the_first_and_last_pages() {
        let spec = spec();
        let c = ctx(&spec, page(&[1, 2, 3]));
        let first = c.first.clone();
        let follow = |ids: &[i64]| [first.clone(), answer(200, page(ids))];
        assert_eq!(judge("next-link-form", &c, &follow(&[4, 5])).0, Confirmed);
        assert_eq!(
            judge("next-link-form", &c, &follow(&[1, 2])),
            (
                Refuted,
                "$.collection[0].product.id = 1, not after 3".into()
            )
        );
        let refused = [first.clone(), answer(404, json!({}))];
        assert_eq!(judge("next-link-form", &c, &refused).0, Refuted);
        for (next, verdict) in [
            (
                json!("https://acme.shipstream.app/api/x?cursor_start=9"),
                Confirmed,
            ),
            (json!("https://evil.example/api/x"), Refuted),
            (json!("//evil.example/api"), Refuted),
            (json!("cursor_start=9"), Refuted),
            (Value::Null, Refuted),
        ] {
            let c = ctx(&spec, edit(page(&[1]), |p| p["next"] = next.clone()));
            assert_eq!(judge("next-link-form", &c, &[]).0, verdict, "{next}");
        }
        let c = ctx(&spec, edit(last_page(), |_| ()));
        assert_eq!(judge("next-link-form", &c, &[]).0, NotTestable);

        let c = ctx(&spec, page(&[1, 2, 3]));
        assert_eq!(judge("no-previous-page-spelling", &c, &[]).0, Confirmed);
        assert_eq!(judge("count-int64", &c, &[]).0, Confirmed);
        assert_eq!(judge("level-default-fields", &c, &[]).0, Confirmed);
        let c = ctx(
            &spec,
            edit(page(&[1, 2]), |p| {
                p["previous"] = json!("/x?cursor_end=1");
                p["meta"]["count"] = json!(1e20);
                p["collection"][1]
                    .as_object_mut()
                    .unwrap()
                    .remove("qty_on_hand");
            }),
        );
        assert_eq!(
            judge("no-previous-page-spelling", &c, &[]),
            (Refuted, "$.previous = \"/x?cursor_end=1\"".into())
        );
        assert_eq!(
            judge("count-int64", &c, &[]),
            (Refuted, "$.meta.count = 1e+20".into())
        );
        assert_eq!(
            judge("level-default-fields", &c, &[]),
            (Refuted, "$.collection[1].qty_on_hand = (absent)".into())
        );

        let last = [answer(200, last_page())];
        let not_last = [answer(200, page(&[1]))];
        for id in [
            "no-next-page-spelling",
            "meta-cursor-start-null-at-end",
            "meta-cursor-end-null-at-end",
        ] {
            assert_eq!(judge(id, &c, &last).0, Confirmed, "{id}");
            assert_eq!(judge(id, &c, &not_last).0, Refuted, "{id}");
            assert_eq!(judge(id, &c, &[answer(400, json!({}))]).0, NotTestable);
        }
        assert_eq!(
            judge("meta-cursor-end-null-at-end", &c, &not_last).1,
            "$.meta.cursor_end = 14"
        );
    }

    #[test]
    fn filters_sorts_and_refused_parameters() {
        let spec = spec();
        let c = ctx(&spec, page(&[1, 2, 3]));
        let id = "timestamp-compared-as-string";
        assert_eq!(judge(id, &c, &[answer(200, page(&[2, 3]))]).0, Confirmed);
        assert_eq!(
            judge(id, &c, &[answer(200, page(&[2, 1]))]),
            (
                Refuted,
                "$.collection[1].updated_at = \"2025-08-28T10:30:01Z\"".into()
            )
        );
        assert_eq!(judge(id, &c, &[answer(400, json!({}))]).0, Refuted);

        assert_eq!(
            judge("sort-key-once", &c, &[answer(400, json!({}))]).0,
            Confirmed
        );
        assert_eq!(
            judge("sort-key-once", &c, &[answer(200, page(&[1]))]),
            (Refuted, "status 200".into())
        );

        // The operators, each on the first page's ids 1, 2, 3.
        let ids = |ids: &[i64]| answer(200, page(ids));
        let neq = "operators-neq-in-nin";
        assert_eq!(
            judge(neq, &c, &[ids(&[2, 3]), ids(&[1, 3]), ids(&[2, 3])]).0,
            Confirmed
        );
        // Accepted but not filtering: `neq` answered every level.
        assert_eq!(
            judge(neq, &c, &[ids(&[1, 2, 3]), ids(&[1, 3]), ids(&[2, 3])]),
            (Refuted, "$.collection[*].product.id = [1, 2, 3]".into())
        );
        let refused = answer(400, json!({}));
        assert_eq!(
            judge(neq, &c, &[ids(&[2, 3]), ids(&[1, 3]), refused.clone()]),
            (Refuted, "status 200, ids [2, 3]".into())
        );
        let range = "operators-gteq-lteq";
        assert_eq!(judge(range, &c, &[ids(&[2, 3]), ids(&[1, 2])]).0, Confirmed);
        assert_eq!(
            judge(range, &c, &[ids(&[1, 2, 3]), ids(&[1, 2])]),
            (Refuted, "$.collection[*].product.id = [1, 2, 3]".into())
        );
        assert_eq!(judge(range, &c, &[ids(&[2, 3]), refused]).0, Refuted);
        let few = ctx(&spec, page(&[1, 2]));
        assert_eq!(judge(range, &few, &[]).0, NotTestable);

        let error = |key: &str| json!({"errors": [{"type": "openapi", "details": [{"key": key}]}]});
        let id = "refused-parameter-400";
        assert_eq!(judge(id, &c, &[answer(400, error("limit"))]).0, Confirmed);
        assert_eq!(
            judge(id, &c, &[answer(400, error("filter"))]),
            (
                Refuted,
                "status 400, $.errors[*].details[*].key = [\"filter\"]".into()
            )
        );
        assert_eq!(judge(id, &c, &[answer(422, error("limit"))]).0, Refuted);
        assert_eq!(judge(id, &c, &[answer(200, page(&[1]))]).0, NotTestable);
    }

    #[test]
    fn version_headers() {
        let spec = spec();
        let c = ctx(&spec, page(&[1, 2, 3]));
        let echoed = with_header(answer(400, json!({})), VERSION_HEADER, "2025-08");
        let id = "version-echo-on-error";
        assert_eq!(judge(id, &c, &[echoed]).0, Confirmed);
        assert_eq!(
            judge(id, &c, &[answer(400, json!({}))]),
            (
                Refuted,
                "status 400, X-ShipStream-API-Version: (absent)".into()
            )
        );

        let id = "version-error-header";
        let why = with_header(answer(400, json!({})), VERSION_ERROR_HEADER, "not served");
        assert_eq!(judge(id, &c, &[why]).0, Confirmed);
        assert_eq!(judge(id, &c, &[answer(400, json!({}))]).0, Refuted);

        let id = "version-header-wins";
        let served = |v: &str| with_header(answer(200, page(&[1])), VERSION_HEADER, v);
        assert_eq!(judge(id, &c, &[served("2025-08")]).0, Confirmed);
        assert_eq!(
            judge(id, &c, &[served("2999-12")]),
            (
                Refuted,
                "status 200, X-ShipStream-API-Version: 2999-12".into()
            )
        );
        assert_eq!(judge(id, &c, &[answer(400, json!({}))]).0, Refuted);
    }

    #[test]
    fn warehouse_references_and_included_products() {
        let spec = spec();
        let c = ctx(&spec, page(&[1]));
        let with_warehouse = |w: Value| {
            answer(
                200,
                edit(page(&[1]), |p| p["collection"][0]["warehouse"] = w),
            )
        };
        let good = with_warehouse(json!({"type": "Warehouse", "id": 2}));
        assert_eq!(
            judge("warehouse-field-stub", &c, std::slice::from_ref(&good)).0,
            Confirmed
        );
        assert_eq!(judge("object-ref-id-int64", &c, &[good]).0, Confirmed);
        assert_eq!(
            judge("warehouse-field-stub", &c, &[answer(200, page(&[1]))]),
            (Refuted, "$.collection[0].warehouse = (absent)".into())
        );
        let bad = with_warehouse(json!({"id": "W2"}));
        assert_eq!(
            judge("warehouse-field-stub", &c, std::slice::from_ref(&bad)).0,
            Refuted
        );
        assert_eq!(
            judge("object-ref-id-int64", &c, &[bad]),
            (Refuted, "$.collection[0].warehouse.id = \"W2\"".into())
        );

        // A product with every basic field of the spec and none of its optional ones.
        let product = spec.pointer("/components/schemas/Product").unwrap();
        let optional: Vec<&str> = product["x-optional-fields"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(optional.contains(&"weight"));
        let mut basic: serde_json::Map<String, Value> = product["properties"]
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| !optional.contains(&k.as_str()))
            .map(|k| (k.clone(), json!(1)))
            .collect();
        basic.insert("type".into(), json!("Product"));
        let with = |f: &dyn Fn(&mut serde_json::Map<String, Value>)| {
            let mut p = basic.clone();
            f(&mut p);
            [answer(
                200,
                json!({"collection": [], "has_more": false,
                "included": {"Product": [p]}}),
            )]
        };
        let good = with(&|_| ());
        for id in [
            "product-basic-fields",
            "product-basic-fields-param",
            "included-object-type-id",
            "product-id-int64",
        ] {
            assert_eq!(judge(id, &c, &good).0, Confirmed, "{id}");
        }
        let extra = with(&|p| {
            p.insert("weight".into(), json!({"value": 1, "unit": "lb"}));
        });
        assert_eq!(
            judge("product-basic-fields", &c, &extra),
            (Refuted, "$.included.Product[0].weight is present".into())
        );
        let missing = with(&|p| {
            p.remove("barcodes");
        });
        assert_eq!(
            judge("product-basic-fields-param", &c, &missing),
            (Refuted, "$.included.Product[*] never has barcodes".into())
        );
        let huge = with(&|p| {
            p.insert("id".into(), json!(1e30));
        });
        assert_eq!(
            judge("product-id-int64", &c, &huge),
            (Refuted, "$.included.Product[0].id = 1e+30".into())
        );
        assert_eq!(judge("included-object-type-id", &c, &huge).0, Refuted);
        let untyped = with(&|p| {
            p.remove("type");
        });
        assert_eq!(
            judge("included-object-type-id", &c, &untyped),
            (Refuted, "$.included.Product[0].type = (absent)".into())
        );
        assert_eq!(judge("product-id-int64", &c, &untyped).0, Confirmed);
    }

    #[test]
    fn members_the_notes_say_are_never_null() {
        let spec = spec();
        let c = ctx(&spec, page(&[1]));
        let product = json!({"type": "Product", "id": 1, "sku": "S", "name": "N",
            "goods_type": "NORMAL", "is_enabled": true, "is_available": true,
            "is_visible": true, "created_at": "2025-01-01T00:00:00Z",
            "updated_at": "2025-01-01T00:00:00Z",
            "weight": {"value": 1, "unit": "lb"},
            "dimensions": {"length": 1, "width": 2, "height": 3, "unit": "in"},
            "volume": {"value": 1, "unit": "in^3"},
            "export": {"customs_value": {"amount": 1, "currency": "USD"},
                "hs_country_extension": [{"country_id": 1, "extension": "01"}]},
            "inventory": {"backorders": false, "dynamic_allocation": false,
                "virtual_inventory": null},
            "packaging": {"require_packaging": false, "require_weight_check": false,
                "require_confirmation_per_item": false, "is_ship_separately": false,
                "can_tip": true, "can_contain_other_items": false,
                "is_handling_surcharge": false}});
        let with = |pointer: &str, v: Value| {
            let mut p = product.clone();
            *p.pointer_mut(pointer).unwrap() = v;
            [answer(
                200,
                json!({"collection": [], "has_more": false, "included": {"Product": [p]}}),
            )]
        };
        let cases = [
            ("product-members-never-null", "/goods_type", "goods_type"),
            ("weight-members-never-null", "/weight/unit", "weight.unit"),
            (
                "dimensions-members-never-null",
                "/dimensions/height",
                "dimensions.height",
            ),
            ("volume-members-never-null", "/volume/value", "volume.value"),
            (
                "money-members-never-null",
                "/export/customs_value/currency",
                "export.customs_value.currency",
            ),
            (
                "hs-extension-members-never-null",
                "/export/hs_country_extension/0/extension",
                "export.hs_country_extension[0].extension",
            ),
            (
                "inventory-members-never-null",
                "/inventory/backorders",
                "inventory.backorders",
            ),
            (
                "packaging-flags-never-null",
                "/packaging/can_tip",
                "packaging.can_tip",
            ),
        ];
        let good = with("/sku", json!("S"));
        for (id, pointer, path) in cases {
            // virtual_inventory is null above: only non-null members pass, so the
            // inventory note is refuted there and confirmed once it is set.
            let good = if id == "inventory-members-never-null" {
                with("/inventory/virtual_inventory", json!({}))
            } else {
                good.clone()
            };
            assert_eq!(judge(id, &c, &good).0, Confirmed, "{id}");
            assert_eq!(
                judge(id, &c, &with(pointer, Value::Null)),
                (Refuted, format!("$.included.Product[0].{path} = null")),
                "{id}"
            );
        }
        // A null object is not a null member (the `*-nullable` notes allow it).
        assert_eq!(
            judge(
                "weight-members-never-null",
                &c,
                &with("/weight", Value::Null)
            )
            .0,
            NotTestable
        );
        assert_eq!(
            judge("product-type-id-always", &c, &with("/id", Value::Null)).0,
            Refuted
        );

        // The page scans: a stub without a sku, a null `meta`, a `previous` elsewhere, a
        // cursor beyond 64 bits.
        let scan = |id: &str, f: &dyn Fn(&mut Value)| {
            let mut c = ctx(&spec, page(&[1]));
            assert_ne!(judge(id, &c, &[]).0, Refuted, "{id}");
            c.pages.push(answer(200, edit(page(&[2]), f)));
            judge(id, &c, &[])
        };
        assert_eq!(
            scan(
                "product-stub-sku",
                &|p| p["collection"][0]["product"]["sku"] = Value::Null
            ),
            (Refuted, "$.collection[0].product.sku = null".into())
        );
        assert_eq!(
            scan("page-members-never-null", &|p| p["meta"] = Value::Null),
            (Refuted, "$.meta = null".into())
        );
        let mut c = ctx(&spec, page(&[1]));
        c.pages.push(answer(
            200,
            edit(page(&[2]), |p| p["previous"] = json!("/x?cursor_end=1")),
        ));
        assert_eq!(judge("previous-link-form", &c, &[]).0, Confirmed);
        assert_eq!(
            scan("previous-link-form", &|p| p["previous"] =
                json!("https://elsewhere.example/x")),
            (
                Refuted,
                "$.previous = \"https://elsewhere.example/x\"".into()
            )
        );
        assert_eq!(
            scan("meta-cursors-int64", &|p| p["meta"]["cursor_end"] =
                json!(1e30)),
            (Refuted, "$.meta.cursor_end = 1e+30".into())
        );
    }

    #[test]
    fn scans_of_every_page_fetched() {
        let spec = spec();
        let scans = [
            "has-more-always",
            "quantities-never-null",
            "updated-at-whole-seconds",
            "product-ref-id-int64",
            "cursor-start-int64",
            "cursor-end-int64",
        ];
        let mut c = ctx(&spec, page(&[1, 2]));
        c.pages.push(answer(
            200,
            edit(page(&[3]), |p| p["previous"] = json!("/x?cursor_end=3")),
        ));
        for id in scans {
            assert_eq!(judge(id, &c, &[]).0, Confirmed, "{id}");
        }
        let bad = edit(page(&[3]), |p| {
            p.as_object_mut().unwrap().remove("has_more");
            p["collection"][0]["qty_on_hand"] = Value::Null;
            p["collection"][0]["updated_at"] = json!("2025-08-28T10:30:00.123Z");
            p["collection"][0]["product"]["id"] = json!(18_446_744_073_709_551_615u64);
            p["next"] = json!("/x?cursor_start=99999999999999999999");
            p["previous"] = json!("/x?cursor_end=x");
        });
        c.pages.push(answer(200, bad));
        let found: Vec<(Verdict, String)> = scans.iter().map(|id| judge(id, &c, &[])).collect();
        assert_eq!(
            found,
            [
                (Refuted, "$.has_more = (absent)".into()),
                (Refuted, "$.collection[0].qty_on_hand = null".into()),
                (
                    Refuted,
                    "$.collection[0].updated_at = \"2025-08-28T10:30:00.123Z\"".into()
                ),
                (
                    Refuted,
                    "$.collection[0].product.id = 18446744073709551615".into()
                ),
                (Refuted, "$.next (cursor_start) = 1e+20".into()),
                (Refuted, "$.previous (cursor_end) = \"x\"".into()),
            ]
        );
    }
}
