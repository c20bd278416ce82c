//! Following `next` safely: origin checks, loop detection, checkpoints, prefetch.

use std::collections::HashSet;

use futures::{Stream, StreamExt as _};
use tokio::task::JoinHandle;
use url::Url;

use crate::{Checkpoint, Client, Error, Item, Page, page::Decoded};

/// Walks the pages of one request.
pub(crate) struct Pager {
    client: Client,
    /// The next page to fetch (already resolved and checked), with its raw URI.
    next: Option<(Url, String)>,
    /// Every page URL fetched or scheduled in this run.
    seen: HashSet<String>,
    pages: u64,
    items: u64,
    max_items: Option<u64>,
    prefetch: bool,
    inflight: Option<JoinHandle<Result<Decoded, Error>>>,
    /// An error to yield after the page that revealed it.
    pending: Option<Error>,
    finished: bool,
}

impl Drop for Pager {
    fn drop(&mut self) {
        if let Some(handle) = self.inflight.take() {
            handle.abort();
        }
    }
}

impl Pager {
    pub(crate) fn new(
        client: Client,
        checkpoint: Checkpoint,
        max_items: Option<u64>,
        prefetch: bool,
    ) -> Self {
        let mut pager = Self {
            next: None,
            seen: HashSet::new(),
            pages: checkpoint.pages,
            items: checkpoint.items,
            max_items,
            prefetch,
            inflight: None,
            pending: None,
            finished: false,
            client,
        };
        if max_items.is_some_and(|m| checkpoint.items >= m) {
            pager.finished = true;
        } else if let Some(reason) = checkpoint.stopped {
            pager.pending = Some(Error::pagination(format!(
                "the export stopped after page {} because {reason}; it cannot be resumed past \
                 that page: start it again",
                checkpoint.pages
            )));
        } else if let Some(raw) = checkpoint.next {
            let endpoint = pager.client.inner.endpoint.clone();
            match pager.client.resolve_next(&endpoint, &raw) {
                Ok(url) => {
                    pager.seen.insert(url.as_str().to_owned());
                    pager.next = Some((url, raw));
                }
                Err(e) => pager.pending = Some(e),
            }
        } else {
            pager.finished = true;
        }
        pager
    }

    pub(crate) fn into_stream(self) -> impl Stream<Item = Result<Page, Error>> + Send + 'static {
        futures::stream::unfold(self, |mut pager| async move {
            let item = pager.next_page().await?;
            Some((item, pager))
        })
    }

    /// The next page, or `None` when done. After an error, always `None`.
    pub(crate) async fn next_page(&mut self) -> Option<Result<Page, Error>> {
        if let Some(e) = self.pending.take() {
            self.finished = true;
            self.next = None;
            return Some(Err(e));
        }
        if self.finished {
            return None;
        }
        let (url, _) = self.next.take()?;
        let fetched = match self.inflight.take() {
            Some(handle) => match handle.await {
                Ok(r) => r,
                Err(e) => Err(Error::pagination(format!("the prefetch task failed: {e}"))),
            },
            None => self.client.fetch(&url).await,
        };
        let decoded = match fetched {
            Ok(d) => d,
            Err(e) => {
                self.finished = true;
                return Some(Err(e));
            }
        };
        self.pages += 1;
        self.items += decoded.entries.iter().filter(|e| e.is_ok()).count() as u64;

        // Where to go next.
        let reached_max = self.max_items.is_some_and(|m| self.items >= m);
        if decoded.has_more && !reached_max {
            let raw = next_link(&decoded);
            match self
                .client
                .follow_next(&url, raw, &mut self.seen, std::convert::identity)
            {
                Ok(next) => self.next = raw.map(|raw| (next, raw.to_owned())),
                Err(e) => self.pending = Some(e),
            }
        }
        if self.next.is_none() && self.pending.is_none() {
            self.finished = true;
        }
        if self.prefetch
            && let Some((next, _)) = &self.next
        {
            let client = self.client.clone();
            let next = next.clone();
            self.inflight = Some(tokio::spawn(async move { client.fetch(&next).await }));
        }
        let checkpoint = match &self.pending {
            // The server said more pages follow, but `next` cannot be followed.
            Some(e) => Checkpoint::stopped(self.pages, self.items, e.to_string()),
            None => Checkpoint::new(
                self.next.as_ref().map(|(_, raw)| raw.clone()),
                self.pages,
                self.items,
            ),
        };
        Some(Ok(decoded.into_page(self.pages, checkpoint)))
    }
}

/// Flattens pages into items, stopping after `max` levels.
pub(crate) fn items(
    pages: impl Stream<Item = Result<Page, Error>> + Send + 'static,
    max: Option<u64>,
) -> impl Stream<Item = Result<Item, Error>> + Send + 'static {
    let flat = pages.flat_map(|page| match page {
        Ok(page) => futures::stream::iter(
            page.into_items()
                .map(|r| r.map_err(Error::record))
                .collect::<Vec<_>>(),
        )
        .left_stream(),
        Err(e) => futures::stream::iter(vec![Err(e)]).right_stream(),
    });
    let limit = max.unwrap_or(u64::MAX);
    flat.scan(0u64, move |delivered, item| {
        if *delivered >= limit {
            return futures::future::ready(None);
        }
        if item.is_ok() {
            *delivered += 1;
        }
        futures::future::ready(Some(item))
    })
}

/// The page's `next` link, when it is not blank.
pub(crate) fn next_link(decoded: &Decoded) -> Option<&str> {
    decoded
        .next
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

impl Client {
    /// The page after one whose `has_more` is true: its `next` link `raw` resolved
    /// against `current` (same origin only), passed through `adjust`, and recorded in
    /// `seen`. A missing link, or one that repeats a page already fetched, is a
    /// pagination error.
    pub(crate) fn follow_next(
        &self,
        current: &Url,
        raw: Option<&str>,
        seen: &mut HashSet<String>,
        adjust: impl FnOnce(Url) -> Url,
    ) -> Result<Url, Error> {
        let Some(raw) = raw else {
            return Err(Error::pagination(
                "the server said more pages follow (has_more: true) but gave no next-page \
                 link; the export cannot continue. Resume later from the last checkpoint",
            ));
        };
        let next = adjust(self.resolve_next(current, raw)?);
        if !seen.insert(next.as_str().to_owned()) {
            return Err(Error::pagination(format!(
                "the server's next-page link `{}` repeats a page already fetched; stopping \
                 instead of looping forever",
                shorten(raw)
            )));
        }
        Ok(next)
    }

    /// Resolves a `next` URI against the client's origin; refuses any other origin.
    pub(crate) fn resolve_next(&self, current: &Url, next: &str) -> Result<Url, Error> {
        let mut url = match Url::parse(next) {
            Ok(abs) => abs,
            Err(url::ParseError::RelativeUrlWithoutBase) => current.join(next).map_err(|e| {
                Error::pagination(format!(
                    "the server's next-page link `{}` is not a valid URI ({e}); the export \
                     cannot continue",
                    shorten(next)
                ))
            })?,
            Err(e) => {
                return Err(Error::pagination(format!(
                    "the server's next-page link `{}` is not a valid URI ({e}); the export \
                     cannot continue",
                    shorten(next)
                )));
            }
        };
        if url.origin() != self.inner.base.origin() {
            return Err(Error::pagination(format!(
                "the server's next-page link points to another origin ({}); it was not \
                 followed so the token stays on {}. Report this to the instance's operator",
                url.origin().ascii_serialization(),
                self.inner.base.origin().ascii_serialization()
            )));
        }
        // A fragment is never sent: `page#x` is the page itself (and a repeat of it).
        url.set_fragment(None);
        Ok(url)
    }
}

pub(crate) fn shorten(s: &str) -> String {
    const MAX: usize = 120;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(MAX).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use proptest::prelude::*;

    use super::*;

    /// Building a client loads the TLS roots; do it once for all the cases.
    static CLIENT: std::sync::LazyLock<Client> = std::sync::LazyLock::new(|| {
        Client::builder()
            .base_url("https://acme.shipstream.app")
            .token("t")
            .build()
            .unwrap()
    });

    fn client() -> Client {
        CLIENT.clone()
    }

    fn current() -> Url {
        Url::parse("https://acme.shipstream.app/api/global/v1/inventory/levels/total?limit=5")
            .unwrap()
    }

    #[test]
    fn next_links_resolve_like_a_browser_would() {
        let c = client();
        for (next, want) in [
            (
                "/api/global/v1/inventory/levels/total?cursor_start=9",
                "https://acme.shipstream.app/api/global/v1/inventory/levels/total?cursor_start=9",
            ),
            (
                "https://acme.shipstream.app/api/global/v1/inventory/levels/total?cursor_start=9",
                "https://acme.shipstream.app/api/global/v1/inventory/levels/total?cursor_start=9",
            ),
            (
                "HTTPS://ACME.shipstream.app:443/x",
                "https://acme.shipstream.app/x",
            ),
            (
                "?cursor_start=9",
                "https://acme.shipstream.app/api/global/v1/inventory/levels/total?cursor_start=9",
            ),
            (
                "total?cursor_start=9",
                "https://acme.shipstream.app/api/global/v1/inventory/levels/total?cursor_start=9",
            ),
            (
                "#page-2",
                "https://acme.shipstream.app/api/global/v1/inventory/levels/total?limit=5",
            ),
            (
                "?cursor_start=9#top",
                "https://acme.shipstream.app/api/global/v1/inventory/levels/total?cursor_start=9",
            ),
        ] {
            assert_eq!(
                c.resolve_next(&current(), next).unwrap().as_str(),
                want,
                "{next}"
            );
        }
        for bad in [
            "https://evil.example/api",
            "http://acme.shipstream.app/api",
            "https://acme.shipstream.app:8443/api",
            "//evil.example/api",
            "https://acme.shipstream.app.evil.example/api",
            "https://user@evil.example/",
            "javascript:alert(1)",
            "http://[::1/",
        ] {
            let err = c.resolve_next(&current(), bad).unwrap_err();
            assert!(err.is_pagination(), "{bad}: {err}");
        }
    }

    proptest! {
        #[test]
        fn any_next_either_stays_on_the_origin_or_is_refused(next in ".{0,80}") {
            let c = client();
            if let Ok(url) = c.resolve_next(&current(), &next) {
                prop_assert_eq!(url.origin(), c.base_url().origin());
            }
        }

        #[test]
        fn host_relative_links_always_resolve(path in "/[a-z0-9_.-][a-z0-9/_.-]{0,40}", query in "[a-z0-9=&_:%,-]{0,40}") {
            let c = client();
            let next = format!("{path}?{query}");
            let url = c.resolve_next(&current(), &next).unwrap();
            prop_assert_eq!(url.host_str(), Some("acme.shipstream.app"));
        }

        #[test]
        fn other_hosts_are_always_refused(host in "[a-z]{1,12}\\.(com|net|app)", port in proptest::option::of(1u16..)) {
            prop_assume!(host != "shipstream.app");
            let c = client();
            let next = match port {
                Some(p) => format!("https://{host}:{p}/api"),
                None => format!("https://{host}/api"),
            };
            prop_assert!(c.resolve_next(&current(), &next).unwrap_err().is_pagination());
        }
    }
}
