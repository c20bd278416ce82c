//! The endpoint: authentication, version negotiation, query validation, the page and its
//! links, and the error bodies.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use shipstream_filter::Expr;

use shipstream_inventory_generated::{api, types};

use crate::config::{LastPageNext, MockConfig, NextStyle};
use crate::faults::{Plan, deliver, fault_status_response};
use crate::query::{self, Detail, Kind, ListQuery};
use crate::render::{Mutation, PageOut, ProductFields, Style};
use crate::server::{LEVELS_PATH, MockState, OFF_ORIGIN, VERSION_HEADER};

/// Whether `v` is a version by the spec's pattern (`YYYY-MM`).
pub(crate) fn valid_version(v: &str) -> bool {
    types::ApiVersion::try_from(v).is_ok()
}

/// The version header's name as a `HeaderName` (lowercase).
fn version_header_name() -> axum::http::HeaderName {
    axum::http::HeaderName::from_bytes(VERSION_HEADER.as_bytes()).unwrap_or(
        axum::http::HeaderName::from_static("x-shipstream-api-version"),
    )
}

/// An error response with the API's error body. Details of both kinds become two errors.
pub(crate) fn error_response(
    status: StatusCode,
    kind: Kind,
    message: &str,
    details: &[Detail],
) -> Response {
    let detail_json = |d: &Detail| json!({"key": d.key, "message": d.message});
    let type_name = |k: Kind| match k {
        Kind::Schema => "openapi",
        Kind::Meaning => "application",
    };
    let mut errors = Vec::new();
    if details.is_empty() {
        errors.push(json!({"type": type_name(kind), "message": message}));
    } else {
        for k in [Kind::Meaning, Kind::Schema] {
            let ds: Vec<_> = details
                .iter()
                .filter(|d| d.kind == k)
                .map(detail_json)
                .collect();
            if !ds.is_empty() {
                let msg = match k {
                    Kind::Schema => "The request does not match the API description.",
                    Kind::Meaning => message,
                };
                errors.push(json!({"type": type_name(k), "message": msg, "details": ds}));
            }
        }
    }
    let body = json!({ "errors": errors }).to_string();
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

pub(crate) async fn method_not_allowed(method: Method) -> Response {
    let mut r = error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        Kind::Meaning,
        &format!("Method {method} is not allowed on {LEVELS_PATH}; use GET."),
        &[],
    );
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET"));
    r
}

pub(crate) async fn not_found(uri: axum::http::Uri) -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        Kind::Meaning,
        &format!(
            "No route for {}; this mock serves GET {LEVELS_PATH} only.",
            query::clip(uri.path())
        ),
        &[],
    )
}

/// The 401 response for a request without the right bearer token, if it has not.
fn auth_failure(headers: &HeaderMap, token: &str) -> Option<Response> {
    let unauthorized = |msg: &str| {
        let mut r = error_response(StatusCode::UNAUTHORIZED, Kind::Meaning, msg, &[]);
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        r
    };
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Some(unauthorized(
            "Missing access token: send `Authorization: Bearer <token>`.",
        ));
    };
    let value = value.to_str().unwrap_or_default();
    let ok = value
        .split_once(' ')
        .is_some_and(|(scheme, t)| scheme.eq_ignore_ascii_case("bearer") && t == token);
    (!ok).then(|| unauthorized("Invalid or expired access token."))
}

/// The version that serves the request, or the 400 detail.
fn negotiate_version(
    headers: &HeaderMap,
    pairs: &[(String, String)],
    config: &MockConfig,
) -> Result<String, Detail> {
    let (served, latest) = (&config.api_versions, config.latest_version());
    let query_name = api::params::VERSION.name;
    let (key, requested) = match headers.get(VERSION_HEADER) {
        Some(v) => (
            VERSION_HEADER,
            Some(String::from_utf8_lossy(v.as_bytes()).into_owned()),
        ),
        None => (
            query_name,
            pairs
                .iter()
                .rev()
                .find(|(k, _)| k == query_name)
                .map(|(_, v)| v.clone()),
        ),
    };
    let Some(v) = requested else {
        return Ok(latest.to_owned());
    };
    let v = v.trim();
    if !valid_version(v) {
        return Err(Detail::schema(
            key,
            format!(
                "{:?} is not a version; write YYYY-MM, e.g. {latest}",
                query::clip(v)
            ),
        ));
    }
    if v > latest {
        return Err(Detail::meaning(
            key,
            format!("version {v} is in the future; the latest version is {latest}"),
        ));
    }
    if !served.iter().any(|s| s == v) {
        return Err(Detail::meaning(
            key,
            format!(
                "version {v} is not served (retired or unknown); the latest version is {latest}"
            ),
        ));
    }
    Ok(v.to_owned())
}

/// The 400 details of filters that name a field or an operator the configuration refuses
/// ([`MockConfig::refused_filter_fields`], [`MockConfig::refused_operators`]), if any.
fn refusals(q: &ListQuery, config: &MockConfig) -> Option<Vec<Detail>> {
    let mut details = Vec::new();
    for (_, f) in &q.filters {
        if config.refused_filter_fields.contains(&f.field) {
            details.push(Detail::meaning(
                "filter",
                format!(
                    "unknown filter field `{}` at column 1",
                    query::clip(&f.field)
                ),
            ));
            continue;
        }
        if let Some(op) = operators(f)
            .into_iter()
            .find(|op| config.refused_operators.iter().any(|r| r == op))
        {
            details.push(Detail::meaning(
                "filter",
                format!("unknown condition `{op}` in the filter on `{}`", f.field),
            ));
        }
    }
    (!details.is_empty()).then_some(details)
}

/// The condition operators of filter `f`.
fn operators(f: &shipstream_filter::Filter) -> Vec<&str> {
    match &f.expr {
        Expr::Equals(_) => Vec::new(),
        Expr::All(conds) => conds.iter().map(|c| c.op.as_str()).collect(),
        Expr::Any(alts) => alts.iter().flatten().map(|c| c.op.as_str()).collect(),
    }
}

/// `q` without the filters that use an operator the configuration accepts but does not
/// apply ([`MockConfig::ignored_operators`]).
fn ignore_operators(mut q: ListQuery, config: &MockConfig) -> ListQuery {
    if config.ignored_operators.is_empty() {
        return q;
    }
    q.filters.retain(|(_, f)| {
        !operators(f)
            .iter()
            .any(|op| config.ignored_operators.iter().any(|i| i == op))
    });
    q.filter_key = q
        .filters
        .iter()
        .map(|(_, f)| f.render())
        .collect::<Vec<_>>()
        .join("\u{1}");
    q
}

fn host_origin(headers: &HeaderMap, config: &MockConfig) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b))
        });
    match host {
        Some(h) => format!("http://{h}"),
        None if config.host.contains(':') => format!("http://[{}]:{}", config.host, config.port),
        None => format!("http://{}:{}", config.host, config.port),
    }
}

pub(crate) async fn levels(State(state): State<MockState>, req: Request) -> Response {
    let inner = &state.inner;
    let plan = inner.faults.plan();
    if !plan.latency.is_zero() {
        tokio::time::sleep(plan.latency).await;
    }
    let started = Instant::now();
    if let Some((code, retry)) = plan.status {
        return fault_status_response(code, retry);
    }
    let headers = req.headers();
    if let Some(r) = auth_failure(headers, &inner.config.token) {
        return r;
    }
    let raw_query = req.uri().query().unwrap_or_default().to_owned();
    let pairs = query::pairs(&raw_query);
    if let Some(gate) = &inner.config.gate {
        gate.pass(&pairs).await;
    }
    let version = match negotiate_version(headers, &pairs, &inner.config) {
        Ok(v) => v,
        Err(d) => {
            let why = HeaderValue::from_str(&d.message)
                .unwrap_or_else(|_| HeaderValue::from_static("unsupported API version"));
            let mut r = error_response(
                StatusCode::BAD_REQUEST,
                d.kind,
                "Unsupported API version.",
                &[d],
            );
            // The spec's name (`HeaderName` lowercases it); a name the spec could make
            // invalid leaves the header out rather than failing the response.
            if let Ok(name) =
                axum::http::HeaderName::from_bytes(api::versions::ERROR_HEADER.as_bytes())
            {
                r.headers_mut().insert(name, why);
            }
            return r;
        }
    };
    let version_header = HeaderValue::from_str(&version)
        .unwrap_or_else(|_| HeaderValue::from_static(api::API_VERSION));
    let with_version = |mut r: Response| {
        r.headers_mut()
            .insert(version_header_name(), version_header.clone());
        r
    };
    let pairs = if inner.config.repeated_sort_keys {
        query::first_sort_keys(pairs)
    } else {
        pairs
    };
    let q = match ListQuery::from_pairs(&pairs)
        .and_then(|q| refusals(&q, &inner.config).map_or(Ok(q), Err))
    {
        Ok(q) => ignore_operators(q, &inner.config),
        Err(details) => {
            return with_version(error_response(
                StatusCode::BAD_REQUEST,
                Kind::Meaning,
                "The request's parameters are invalid.",
                &details,
            ));
        }
    };
    let origin = host_origin(headers, &inner.config);
    let this_uri = req
        .uri()
        .path_and_query()
        .map_or_else(|| LEVELS_PATH.to_owned(), |pq| pq.as_str().to_owned());

    let st = state.clone();
    let job = tokio::task::spawn_blocking(move || {
        build_page(&st, &q, &raw_query, &origin, &this_uri, &plan, started)
    });
    let (body, applied, levels_on_page) = match job.await {
        Ok(Ok(done)) => done,
        Ok(Err(detail)) => {
            return with_version(error_response(
                StatusCode::BAD_REQUEST,
                detail.kind,
                "The request's parameters are invalid.",
                &[detail],
            ));
        }
        Err(e) => {
            tracing::error!("page task failed: {e}");
            return with_version(error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                Kind::Meaning,
                "The mock failed to build the page.",
                &[],
            ));
        }
    };
    inner.faults.record(&applied);
    let cost = inner.config.latency
        + inner
            .config
            .latency_per_level
            .saturating_mul(u32::try_from(levels_on_page).unwrap_or(u32::MAX));
    if let Some(wait) = cost.checked_sub(started.elapsed()) {
        tokio::time::sleep(wait).await;
    }
    with_version(deliver(body, &applied))
}

fn build_page(
    state: &MockState,
    q: &ListQuery,
    raw_query: &str,
    origin: &str,
    this_uri: &str,
    plan: &Plan,
    started: Instant,
) -> Result<(Vec<u8>, Plan, usize), Detail> {
    let inner = &state.inner;
    let (result, snapshot) = inner.engine.page(q)?;
    let absolute = inner.config.next_style == NextStyle::Absolute;
    let styled = |path: String| {
        if absolute {
            format!("{origin}{path}")
        } else {
            path
        }
    };
    let link = |param: &str, id: i64| {
        format!(
            "{LEVELS_PATH}?{}",
            query::with_cursor(raw_query, &format!("{param}={id}"))
        )
    };
    let mut applied = Plan {
        drop: plan.drop,
        truncate: plan.truncate && !plan.drop,
        ..Plan::default()
    };
    let follows = result.next_start.is_some();
    // `has_more` looks the way the request went: after following `previous` (a
    // `cursor_end` alone) it says whether more previous pages exist, as the vendor
    // documents it.
    let backward = q.cursor_start.is_none() && q.cursor_end.is_some();
    let has_more = if backward {
        result.prev_end.is_some()
    } else {
        follows
    };
    let mut next = result
        .next_start
        .map(|id| link("cursor_start", i64::from(id)));
    if follows && plan.repeat_next {
        next = Some(this_uri.to_owned());
        applied.repeat_next = true;
    }
    let mut next = next.map(styled);
    if follows && plan.offorigin_next {
        let path = result
            .next_start
            .map(|id| link("cursor_start", i64::from(id)))
            .unwrap_or_default();
        next = Some(format!("{OFF_ORIGIN}{path}"));
        applied.offorigin_next = true;
    }
    let previous = result.prev_end.map(|id| styled(link("cursor_end", id)));
    // How the last page says that no page follows (`MockConfig::last_page_next`).
    let mut omit_next = false;
    if !follows {
        match inner.config.last_page_next {
            LastPageNext::Absent => omit_next = true,
            LastPageNext::Empty => next = Some(String::new()),
            LastPageNext::SelfLink => next = Some(styled(this_uri.to_owned())),
            _ => {}
        }
    }

    let mut style = Style {
        mutation: Mutation::None,
        forbidden_type: false,
        extra: plan.extra_field && !result.items.is_empty(),
        bad_qty: false,
        null_qty: inner.config.null_quantities,
    };
    applied.extra_field = style.extra;
    let bad_record =
        (plan.bad_record && !result.items.is_empty()).then_some(result.items.len() / 2);
    applied.bad_record = bad_record.is_some();
    let forbidden_type = (plan.forbidden_enum && !result.items.is_empty()).then_some(0);
    applied.forbidden_enum = forbidden_type.is_some();
    if plan.unknown_enum && !result.items.is_empty() {
        let pf = q.product_fields.unwrap_or(ProductFields(0));
        let mut visible = vec![Mutation::StubType];
        if pf.has("goods_type") {
            visible.push(Mutation::GoodsType);
        }
        if pf.has("inventory") {
            visible.push(Mutation::VirtualInventory);
        }
        if pf.has("weight") {
            visible.push(Mutation::WeightUnit);
        }
        let k = inner.faults.unknown_enum_sent() as usize % visible.len();
        style.mutation = visible[k];
        applied.unknown_enum = true;
    }

    let page = PageOut {
        data: &snapshot.data,
        items: &result.items,
        style,
        bad_record,
        forbidden_type,
        level_fields: q.level_fields,
        product_fields: q.product_fields,
        has_more,
        omit_has_more: inner.config.omit_has_more,
        next: next.as_deref(),
        omit_next,
        previous: previous.as_deref(),
        processing_time: started.elapsed().as_secs_f64(),
        cursor_start: result.next_start,
        cursor_end: result.next_end,
        count: result.count,
    };
    let body = serde_json::to_vec(&page)
        .map_err(|e| Detail::meaning("collection", format!("serialisation failed: {e}")))?;
    Ok((body, applied, result.items.len()))
}
