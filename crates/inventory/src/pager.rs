//! Following `next` safely: origin checks, loop detection, checkpoints, prefetch.

use std::collections::HashSet;

use futures::{Stream, StreamExt as _};
use tokio::task::JoinHandle;
use url::Url;

use crate::{Checkpoint, Client, Error, Item, Page, client::shorten, page::Decoded};

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
        let next_raw = decoded
            .next
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        if decoded.has_more && !reached_max {
            match next_raw.as_deref() {
                None => {
                    self.pending = Some(Error::pagination(
                        "the server said more pages follow (has_more: true) but gave no next-page \
                         link; the export cannot continue. Resume later from the last checkpoint",
                    ));
                }
                Some(raw) => match self.client.resolve_next(&url, raw) {
                    Ok(next) => {
                        if self.seen.insert(next.as_str().to_owned()) {
                            self.next = Some((next, raw.to_owned()));
                        } else {
                            self.pending = Some(Error::pagination(format!(
                                "the server's next-page link `{}` repeats a page already \
                                 fetched; stopping instead of looping forever",
                                shorten(raw)
                            )));
                        }
                    }
                    Err(e) => self.pending = Some(e),
                },
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
        let checkpoint = Checkpoint::new(
            self.next.as_ref().map(|(_, raw)| raw.clone()),
            self.pages,
            self.items,
        );
        Some(Ok(Page {
            entries: decoded.entries,
            included: decoded.included,
            included_errors: decoded.included_errors,
            has_more: decoded.has_more,
            next: decoded.next,
            previous: decoded.previous,
            meta: decoded.meta,
            number: self.pages,
            checkpoint,
            server_date: decoded.server_date,
        }))
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
