//! The hand-written seam between the generated client and the transport.
//!
//! progenitor calls [`ClientHooks::pre`] and [`ClientHooks::exec`] around every request;
//! this module implements them for the generated [`Client`](crate::Client):
//! - `pre` rewrites array query parameters that the spec declares `explode: false`
//!   (`fields`, `fields:product`) from progenitor's repeated form into the comma-joined form
//!   the API documents (`fields:product=sku,name`);
//! - `exec` hands the request to an [`Exec`] when one is installed (the facade installs
//!   its retrying, tracing transport here), so retries see the raw status and body before
//!   any decoding.

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
        }
    }

    /// Hooks that send each request through a shared `exec`.
    pub fn with_shared_exec(exec: Arc<dyn Exec>) -> Self {
        Self { exec: Some(exec) }
    }
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("exec", &self.exec.as_ref().map(|_| "custom"))
            .finish()
    }
}

impl ClientHooks<Hooks> for crate::Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        join_comma_params(request.url_mut(), crate::COMMA_JOINED_QUERY_PARAMS);
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        match &self.inner().exec {
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
        let key = percent_encoding::percent_decode_str(raw_key).decode_utf8_lossy();
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
