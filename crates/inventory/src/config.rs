//! Client configuration: base URL, token, API version, timeouts, retry policy.

use std::{fmt, net::IpAddr, sync::Arc, time::Duration};

use base64::Engine as _;
use url::Url;

use crate::{Client, Error, RetryPolicy, client::Inner};

/// The environment variable holding the instance URL.
pub const ENV_URL: &str = "SHIPSTREAM_URL";
/// The environment variable holding the bearer token.
pub const ENV_TOKEN: &str = "SHIPSTREAM_TOKEN";
/// The environment variable holding the API version (`YYYY-MM`), optional.
pub const ENV_API_VERSION: &str = "SHIPSTREAM_API_VERSION";

/// The bearer token: a secret. Its `Debug` output never shows it, and neither does any
/// error or log line of this crate.
#[derive(Clone)]
pub struct Token {
    secret: Arc<str>,
    expires_at: Option<i64>,
}

impl Token {
    /// Wraps a token. Leading and trailing whitespace and a leading `Bearer ` are removed.
    pub fn new(token: impl AsRef<str>) -> Self {
        let t = token.as_ref().trim();
        let t = t
            .strip_prefix("Bearer ")
            .or_else(|| t.strip_prefix("bearer "))
            .unwrap_or(t)
            .trim();
        Self {
            secret: Arc::from(t),
            expires_at: jwt_exp(t),
        }
    }

    /// When the token expires (its JWT `exp` claim, seconds since the epoch), if it says.
    /// The signature is not checked: this is only used to fail early with a clear message.
    pub fn expires_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.expires_at
            .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
    }

    /// True when the token's `exp` claim lies in the past.
    pub fn is_expired(&self) -> bool {
        self.expires_at
            .is_some_and(|exp| exp <= chrono::Utc::now().timestamp())
    }

    /// The token text, for building the `Authorization` header.
    pub(crate) fn expose(&self) -> &str {
        &self.secret
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("secret", &"<redacted>")
            .field("expires_at", &self.expires_at())
            .finish()
    }
}

/// Reads the `exp` claim of a JWT without checking its signature.
fn jwt_exp(token: &str) -> Option<i64> {
    let mut parts = token.split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = &claims["exp"];
    exp.as_i64().or_else(|| exp.as_f64().map(|f| f as i64))
}

/// A minor API version, `YYYY-MM`, sent as `X-ShipStream-API-Version`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ApiVersion(String);

impl ApiVersion {
    /// Validates the version against the spec's pattern for the version header
    /// (`YYYY-MM`, month 01 to 12).
    pub fn new(version: impl AsRef<str>) -> Result<Self, Error> {
        let v = version.as_ref().trim();
        let checked = shipstream_inventory_generated::types::ApiVersion::try_from(v);
        if checked.is_ok() {
            Ok(Self(v.to_owned()))
        } else {
            Err(Error::config(format!(
                "API version `{v}` is not of the form YYYY-MM (for example 2025-08); fix \
                 {ENV_API_VERSION} or the value passed to api_version()"
            )))
        }
    }

    /// The version this crate was generated for: the spec's `info.version`, what a client
    /// sends unless told otherwise.
    pub fn generated() -> Self {
        Self(shipstream_inventory_generated::api::API_VERSION.to_owned())
    }

    /// The version text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Builds a [`Client`]. Start with [`Client::builder`] or [`Client::from_env`].
#[derive(Clone)]
pub struct ClientBuilder {
    base_url: Option<String>,
    token: Option<Token>,
    api_version: Option<String>,
    user_agent: String,
    connect_timeout: Option<Duration>,
    request_timeout: Option<Duration>,
    retry: RetryPolicy,
    rate_limits: crate::RateLimits,
    proxies: Vec<reqwest::Proxy>,
    no_proxy: bool,
    root_certificates: Vec<reqwest::Certificate>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("token", &self.token)
            .field("api_version", &self.api_version)
            .field("user_agent", &self.user_agent)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("retry", &self.retry)
            .field("rate_limits", &self.rate_limits)
            .field("proxies", &self.proxies.len())
            .field("no_proxy", &self.no_proxy)
            .field("root_certificates", &self.root_certificates.len())
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            base_url: None,
            token: None,
            api_version: None,
            user_agent: concat!("shipstream-inventory-rust/", env!("CARGO_PKG_VERSION")).into(),
            connect_timeout: Some(Duration::from_secs(10)),
            request_timeout: Some(Duration::from_secs(60)),
            retry: RetryPolicy::default(),
            rate_limits: crate::RateLimits::default(),
            proxies: Vec::new(),
            no_proxy: false,
            root_certificates: Vec::new(),
        }
    }
}

impl ClientBuilder {
    /// Sends requests through this proxy (repeatable; the first that matches a request is
    /// used), instead of the `HTTP(S)_PROXY` environment variables. The token still goes
    /// only to the instance's origin, and redirects still stay on it.
    ///
    /// ```
    /// let client = shipstream_inventory::Client::builder()
    ///     .base_url("https://acme.shipstream.app")
    ///     .token("t")
    ///     .proxy(shipstream_inventory::reqwest::Proxy::https("http://proxy.internal:3128").unwrap())
    ///     .build();
    /// assert!(client.is_ok());
    /// ```
    pub fn proxy(mut self, proxy: reqwest::Proxy) -> Self {
        self.proxies.push(proxy);
        self
    }

    /// Ignores the proxy environment variables (and any [`proxy`](Self::proxy)): connect
    /// directly.
    pub fn no_proxy(mut self) -> Self {
        self.no_proxy = true;
        self
    }

    /// Trusts this certificate authority too (a corporate TLS-inspecting proxy, a private
    /// instance), beside the platform's roots.
    pub fn add_root_certificate(mut self, certificate: reqwest::Certificate) -> Self {
        self.root_certificates.push(certificate);
        self
    }

    /// The instance URL: `https://acme.shipstream.app`, with or without a trailing
    /// `/api/global`. Plain `http://` is accepted only for loopback hosts.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The bearer token (a JWT from a Custom Global Integration).
    pub fn token(mut self, token: impl AsRef<str>) -> Self {
        self.token = Some(Token::new(token));
        self
    }

    /// The API version (`YYYY-MM`) every request sends, validated by
    /// [`build`](Self::build). Without it the client sends the version it was generated
    /// for, [`ApiVersion::generated`]: the server would otherwise answer with its latest
    /// version, which may not be the API this crate decodes.
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = Some(version.into());
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// How long to wait for a connection (default 10 s; `None` waits forever).
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.connect_timeout = timeout.into();
        self
    }

    /// How long one attempt may take, body included (default 60 s; `None` waits forever).
    pub fn request_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.request_timeout = timeout.into();
        self
    }

    /// The client-side limits every request of the client keeps to (default
    /// [`RateLimits::default`](crate::RateLimits::default): the limits the spec assumes,
    /// adapting to the server's answers).
    pub fn rate_limits(mut self, limits: crate::RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    /// How failed requests are retried (default [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Reads [`ENV_URL`], [`ENV_TOKEN`] and, when set, [`ENV_API_VERSION`] into this
    /// builder. Missing variables are reported by [`build`](Self::build).
    pub fn from_env(self) -> Self {
        self.from_vars(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading the same names from `lookup` (a config
    /// map, a secrets manager, a test).
    pub fn from_vars(mut self, lookup: impl Fn(&str) -> Option<String>) -> Self {
        if let Some(url) = lookup(ENV_URL) {
            self.base_url = Some(url);
        }
        if let Some(token) = lookup(ENV_TOKEN) {
            self.token = Some(Token::new(token));
        }
        if let Some(v) = lookup(ENV_API_VERSION)
            && !v.trim().is_empty()
        {
            self.api_version = Some(v);
        }
        self
    }

    /// Checks the configuration and builds the client. Nothing is sent.
    pub fn build(self) -> Result<Client, Error> {
        let raw = self.base_url.as_deref().ok_or_else(|| {
            Error::config(format!(
                "no instance URL: call base_url() or set {ENV_URL} (for example \
                 https://acme.shipstream.app)"
            ))
        })?;
        let base = normalize_base_url(raw)?;
        let token = self.token.ok_or_else(|| {
            Error::config(format!(
                "no token: call token() or set {ENV_TOKEN} to a token from a Custom Global \
                 Integration"
            ))
        })?;
        if token.expose().is_empty() {
            return Err(Error::config(format!(
                "the token is empty; set {ENV_TOKEN}"
            )));
        }
        if token.is_expired() {
            return Err(Error::token_expired(token.expires_at()));
        }
        let api_version = match self.api_version {
            Some(v) => ApiVersion::new(v)?,
            None => ApiVersion::generated(),
        };
        self.retry.validate()?;
        self.rate_limits.validate()?;

        let mut headers = reqwest::header::HeaderMap::new();
        let mut auth =
            reqwest::header::HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(
                |_| Error::config("the token contains characters that cannot go in an HTTP header"),
            )?;
        auth.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, auth);
        let value = reqwest::header::HeaderValue::from_str(api_version.as_str())
            .map_err(|_| Error::config("invalid API version header"))?;
        let name = reqwest::header::HeaderName::from_bytes(
            shipstream_inventory_generated::api::params::X_SHIP_STREAM_API_VERSION
                .name
                .as_bytes(),
        )
        .map_err(|_| Error::config("the spec's API version header is not a header name"))?;
        headers.insert(name, value);
        let origin = base.origin();
        let http = {
            let mut b = reqwest::Client::builder()
                .default_headers(headers)
                .user_agent(self.user_agent.clone())
                .redirect(same_origin_redirects(origin));
            if let Some(t) = self.connect_timeout {
                b = b.connect_timeout(t);
            }
            if let Some(t) = self.request_timeout {
                b = b.timeout(t);
            }
            if self.no_proxy {
                b = b.no_proxy();
            } else {
                for p in self.proxies {
                    b = b.proxy(p);
                }
            }
            for c in self.root_certificates {
                b = b.add_root_certificate(c);
            }
            b.build()
                .map_err(|e| Error::config(format!("could not build the HTTP client: {e}")))?
        };
        Ok(Client {
            inner: Arc::new(Inner::new(
                base,
                token,
                api_version,
                self.user_agent,
                self.retry,
                &self.rate_limits,
                http,
            )?),
        })
    }
}

/// Redirects are followed only within the configured origin (at most 5), so the
/// `Authorization` header never travels to another host.
fn same_origin_redirects(origin: url::Origin) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= 5 {
            attempt.stop()
        } else if attempt.url().origin() == origin {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// Accepts `https://acme.shipstream.app`, `https://acme.shipstream.app/` and
/// `https://acme.shipstream.app/api/global[/]`; returns the URL without `/api/global`.
pub(crate) fn normalize_base_url(raw: &str) -> Result<Url, Error> {
    let trimmed = raw.trim();
    let mut url = Url::parse(trimmed).map_err(|e| {
        Error::config(format!(
            "instance URL `{trimmed}` is not a URL ({e}); use the form https://acme.shipstream.app"
        ))
    })?;
    if url.cannot_be_a_base() || url.host_str().is_none() {
        return Err(Error::config(format!(
            "instance URL `{trimmed}` has no host; use the form https://acme.shipstream.app"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config(
            "the instance URL must not carry credentials; pass the token with token() or SHIPSTREAM_TOKEN",
        ));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(Error::config(format!(
                "refusing plain http:// for `{}`: the token would travel unencrypted; use \
                 https:// (http:// is allowed only for loopback hosts such as 127.0.0.1)",
                url.host_str().unwrap_or_default()
            )));
        }
        other => {
            return Err(Error::config(format!(
                "instance URL scheme `{other}` is not supported; use https://"
            )));
        }
    }
    url.set_query(None);
    url.set_fragment(None);
    let mut path = url.path().trim_end_matches('/').to_owned();
    if let Some(stripped) = path.strip_suffix("/api/global") {
        path = stripped.to_owned();
    }
    url.set_path(&path);
    Ok(url)
}

/// 127.0.0.0/8, ::1 and `localhost`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn jwt(exp: i64) -> String {
        let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            enc.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
            enc.encode(format!(
                r#"{{"aud":"https://acme.shipstream.app","exp":{exp}}}"#
            ))
        )
    }

    #[test]
    fn base_urls_are_normalised() {
        for (raw, want) in [
            (
                "https://acme.shipstream.app",
                "https://acme.shipstream.app/",
            ),
            (
                "https://acme.shipstream.app/",
                "https://acme.shipstream.app/",
            ),
            (
                "https://acme.shipstream.app/api/global",
                "https://acme.shipstream.app/",
            ),
            (
                "https://acme.shipstream.app/api/global/",
                "https://acme.shipstream.app/",
            ),
            (
                "https://proxy.example/sub/api/global",
                "https://proxy.example/sub",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080/"),
            ("http://localhost:1", "http://localhost:1/"),
            ("http://[::1]:1/", "http://[::1]:1/"),
        ] {
            assert_eq!(normalize_base_url(raw).unwrap().as_str(), want, "{raw}");
        }
    }

    #[test]
    fn plain_http_is_refused_off_loopback() {
        for raw in [
            "http://acme.shipstream.app",
            "http://10.0.0.1",
            "ftp://x",
            "nonsense",
            "https://u:p@acme.shipstream.app",
        ] {
            let err = normalize_base_url(raw).unwrap_err();
            assert!(err.is_config(), "{raw}: {err}");
        }
        let err = normalize_base_url("http://acme.shipstream.app").unwrap_err();
        assert!(err.to_string().contains("https://"), "{err}");
    }

    #[test]
    fn api_versions_are_validated() {
        assert!(ApiVersion::new("2025-08").is_ok());
        for bad in ["2025-13", "2025-00", "25-08", "2025/08", "2025-8", ""] {
            assert!(ApiVersion::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn expired_jwts_are_refused_before_sending() {
        let err = Client::builder()
            .base_url("https://acme.shipstream.app")
            .token(jwt(1_600_000_000))
            .build()
            .unwrap_err();
        assert!(err.is_unauthorized());
        assert!(err.to_string().contains("expired"), "{err}");
        assert!(err.to_string().contains("2020-09-13"), "{err}");
        let ok = Client::builder()
            .base_url("https://acme.shipstream.app")
            .token(jwt(4_000_000_000))
            .build();
        assert!(ok.is_ok());
    }

    #[test]
    fn debug_never_shows_the_token() {
        let secret = jwt(4_000_000_000);
        let builder = Client::builder()
            .base_url("https://acme.shipstream.app")
            .token(&secret);
        assert!(!format!("{builder:?}").contains(&secret));
        let client = builder.build().unwrap();
        let shown = format!("{client:?} {client:#?}");
        assert!(!shown.contains(&secret), "{shown}");
        assert!(shown.contains("<redacted>"));
        assert!(!format!("{:?}", Token::new(&secret)).contains("sig"));
    }
}
