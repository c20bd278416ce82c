//! The hand-written seam between the generated client and the transport.
//!
//! progenitor calls [`ClientHooks::pre`] and [`ClientHooks::exec`] around every request;
//! this module implements them for the generated [`Client`](crate::Client):
//! - `pre` rewrites array query parameters that the spec declares `explode: false`
//!   (`fields`, `fields:product`) from progenitor's repeated form into the comma-joined form
//!   the API documents (`fields:product=sku,name`);
//! - `exec` hands the request to an [`Exec`] when one is installed (the facade installs
//!   its retrying, tracing transport here), so retries see the raw status and body before
//!   any decoding; with [`Hooks::preparing`] it sends nothing and hands the request back
//!   instead ([`prepared`]), so a caller can have the generated operation build a request
//!   (parameter names, encoding, value checks) and send it its own way.

use std::{fmt, future::Future, pin::Pin, sync::Arc};

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};

/// A boxed future of an HTTP exchange.
pub type ExecFuture<'a> =
    Pin<Box<dyn Future<Output = reqwest::Result<reqwest::Response>> + Send + 'a>>;

/// Executes one prepared request, for example with retries and tracing.
///
/// ```
/// use shipstream_inventory_generated::{Exec, ExecFuture, Hooks};
///
/// struct Plain;
/// impl Exec for Plain {
///     fn exec<'a>(&'a self, client: &'a reqwest::Client, request: reqwest::Request) -> ExecFuture<'a> {
///         Box::pin(client.execute(request))
///     }
/// }
/// let client = shipstream_inventory_generated::Client::new(
///     "https://acme.shipstream.app",
///     Hooks::with_exec(Plain),
/// );
/// # let _ = client;
/// ```
pub trait Exec: Send + Sync + 'static {
    /// Sends `request` with `client` and returns the final response.
    fn exec<'a>(&'a self, client: &'a reqwest::Client, request: reqwest::Request)
    -> ExecFuture<'a>;
}

/// The generated client's inner state: the optional transport.
#[derive(Clone, Default)]
pub struct Hooks {
    exec: Option<Arc<dyn Exec>>,
    prepare: bool,
}

impl Hooks {
    /// Hooks that send each request once with the `reqwest::Client` as it is.
    pub fn new() -> Self {
        Self::default()
    }

    /// Hooks that send each request through `exec`.
    pub fn with_exec(exec: impl Exec) -> Self {
        Self {
            exec: Some(Arc::new(exec)),
            prepare: false,
        }
    }

    /// Hooks that send each request through a shared `exec`.
    pub fn with_shared_exec(exec: Arc<dyn Exec>) -> Self {
        Self {
            exec: Some(exec),
            prepare: false,
        }
    }

    /// Hooks that send nothing: every operation ends with the request it would have sent,
    /// which [`prepared`] takes out of the result.
    ///
    /// ```
    /// use futures::FutureExt as _;
    /// use shipstream_inventory_generated::{Client, Hooks, prepared, types};
    ///
    /// let client = Client::new("https://acme.shipstream.app", Hooks::preparing());
    /// let result = client
    ///     .list_total_inventory_levels()
    ///     .fields(vec![types::ListTotalInventoryLevelsFieldsItem::QtyOnHand, types::ListTotalInventoryLevelsFieldsItem::UpdatedAt])
    ///     .limit(std::num::NonZeroU64::MIN)
    ///     .send()
    ///     .now_or_never()
    ///     .expect("a prepared operation completes at once");
    /// let request = prepared(result).unwrap();
    /// assert_eq!(request.url.query(), Some("fields=qty_on_hand,updated_at&limit=1"));
    /// ```
    pub fn preparing() -> Self {
        Self {
            exec: None,
            prepare: true,
        }
    }
}

/// A request that a generated operation built but did not send (see [`Hooks::preparing`]).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PreparedRequest {
    /// The method.
    pub method: reqwest::Method,
    /// The full URL, query string encoded as the spec describes.
    pub url: url::Url,
    /// The headers the operation sets (the API version pin among them).
    pub headers: reqwest::header::HeaderMap,
}

/// The status of the stand-in response a preparing client answers with.
const PREPARED_STATUS: u16 = 599;

/// Takes the [`PreparedRequest`] out of the result of an operation run on a client with
/// [`Hooks::preparing`]. An operation that refused its input before building a request
/// (a value that breaks the spec) returns that error.
pub fn prepared<T, E>(
    result: Result<progenitor_client::ResponseValue<T>, progenitor_client::Error<E>>,
) -> Result<PreparedRequest, Box<progenitor_client::Error<E>>> {
    match result {
        Err(progenitor_client::Error::UnexpectedResponse(mut response))
            if response.status().as_u16() == PREPARED_STATUS =>
        {
            response
                .extensions_mut()
                .remove::<PreparedRequest>()
                .ok_or_else(|| {
                    Box::new(progenitor_client::Error::InvalidRequest(
                        "the stand-in response carries no prepared request".into(),
                    ))
                })
        }
        Err(other) => Err(Box::new(other)),
        Ok(_) => Err(Box::new(progenitor_client::Error::InvalidRequest(
            "the operation was sent: the client was not made with Hooks::preparing".into(),
        ))),
    }
}

fn stand_in(request: &reqwest::Request) -> reqwest::Result<reqwest::Response> {
    let prepared = PreparedRequest {
        method: request.method().clone(),
        url: request.url().clone(),
        headers: request.headers().clone(),
    };
    let mut response = http::Response::new(Vec::<u8>::new());
    // 599 is a valid status code; `from_u16` only fails outside 100..=999.
    if let Ok(status) = http::StatusCode::from_u16(PREPARED_STATUS) {
        *response.status_mut() = status;
    }
    response.extensions_mut().insert(prepared);
    Ok(reqwest::Response::from(response))
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("exec", &self.exec.as_ref().map(|_| "custom"))
            .field("prepare", &self.prepare)
            .finish()
    }
}

impl ClientHooks<Hooks> for crate::Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        let names: Vec<&str> = crate::api::comma_joined_params().collect();
        join_comma_params(request.url_mut(), &names);
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let hooks = self.inner();
        if hooks.prepare {
            return stand_in(&request);
        }
        match &hooks.exec {
            Some(exec) => exec.exec(self.client(), request).await,
            None => self.client().execute(request).await,
        }
    }
}

/// Rewrites repeated query parameters named in `names` into one comma-joined parameter at
/// the place of the first occurrence: `fields%3Aproduct=sku&fields%3Aproduct=name` becomes
/// `fields:product=sku,name`. Every other parameter is left byte for byte as it was.
///
/// ```
/// let mut url = url::Url::parse("http://h/p?fields=a&limit=5&fields=b&fields%3Aproduct=sku").unwrap();
/// shipstream_inventory_generated::join_comma_params(&mut url, &["fields", "fields:product"]);
/// assert_eq!(url.query(), Some("fields=a,b&limit=5&fields:product=sku"));
/// ```
pub fn join_comma_params(url: &mut url::Url, names: &[&str]) {
    let Some(query) = url.query() else {
        return;
    };
    let mut out: Vec<(Option<usize>, String)> = Vec::new();
    let mut joined: Vec<Vec<String>> = vec![Vec::new(); names.len()];
    for pair in query.split('&') {
        let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = form_urlencoded::parse(raw_key.as_bytes())
            .next()
            .map(|(k, _)| k)
            .unwrap_or_default();
        match names.iter().position(|n| *n == key) {
            Some(i) => {
                if joined[i].is_empty() {
                    out.push((Some(i), String::new()));
                }
                joined[i].push(raw_value.to_owned());
            }
            None => out.push((None, pair.to_owned())),
        }
    }
    let rebuilt = out
        .into_iter()
        .map(|(slot, pair)| match slot {
            Some(i) => format!("{}={}", names[i], joined[i].join(",")),
            None => pair,
        })
        .collect::<Vec<_>>()
        .join("&");
    url.set_query(Some(&rebuilt));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::join_comma_params;

    fn join(q: &str) -> String {
        let mut url = url::Url::parse(&format!("http://h/p?{q}")).unwrap();
        join_comma_params(&mut url, &["fields", "fields:product"]);
        url.query().unwrap_or_default().to_owned()
    }

    #[test]
    fn repeated_values_are_comma_joined_in_place() {
        assert_eq!(
            join("filter=a&fields=x&filter=b&fields=y&fields%3Aproduct=sku&fields%3Aproduct=name"),
            "filter=a&fields=x,y&filter=b&fields:product=sku,name"
        );
    }

    #[test]
    fn other_parameters_keep_their_encoding() {
        assert_eq!(
            join("filter=sku%7Bin%3A%5B%22a%2Cb%22%5D%7D&limit=10"),
            "filter=sku%7Bin%3A%5B%22a%2Cb%22%5D%7D&limit=10"
        );
    }
}
