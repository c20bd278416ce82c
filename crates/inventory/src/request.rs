//! The request builders: [`TotalLevelsRequest`] (a new listing) and [`Resume`] (from a
//! checkpoint).

use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt as _};
use shipstream_filter::Filter;

use crate::{
    Checkpoint, Client, Error, Item, LevelField, Page, ProductField, Sort, pager::Pager,
    parallel::Sharded, query::Query,
};

impl Client {
    /// A request for total inventory levels; shape it, then `send()`, `pages()` or
    /// `items()`.
    pub fn total_levels(&self) -> TotalLevelsRequest {
        TotalLevelsRequest {
            client: self.clone(),
            query: Query::default(),
            page_size: None,
            max_items: None,
            prefetch: false,
            parallel: None,
            invalid: Vec::new(),
        }
    }

    /// Continues an export from a [`Checkpoint`] (see [`Page::checkpoint`]).
    pub fn resume(&self, checkpoint: Checkpoint) -> Resume {
        Resume {
            client: self.clone(),
            checkpoint,
            max_items: None,
            prefetch: false,
        }
    }
}

/// The bounds of `limit`, from the spec.
pub(crate) fn page_size_range() -> (i64, i64) {
    let limit = &shipstream_inventory_generated::api::params::LIMIT;
    (
        limit.minimum.unwrap_or(1),
        limit.maximum.unwrap_or(i64::MAX),
    )
}

/// A request for total inventory levels. Built by [`Client::total_levels`].
///
/// Every setting is checked before anything is sent: an invalid page size or filter makes
/// `send()` fail (and `pages()`/`items()` yield that error first) without a request.
#[derive(Clone, Debug)]
#[must_use = "a request does nothing until sent"]
pub struct TotalLevelsRequest {
    client: Client,
    query: Query,
    page_size: Option<u32>,
    max_items: Option<u64>,
    prefetch: bool,
    parallel: Option<usize>,
    invalid: Vec<String>,
}

impl TotalLevelsRequest {
    /// Adds a filter; several filters must all hold (AND).
    /// Build them with [`fields`](crate::fields): `fields::QTY_AVAILABLE.lt(10)`.
    pub fn filter(mut self, filter: Filter) -> Self {
        if let Err(e) = filter.validate() {
            self.invalid
                .push(format!("filter `{}`: {e}", filter.render()));
        }
        self.query.filters.push(filter);
        self
    }

    /// Adds a filter written in the API's syntax (`qty_available{lt:10}`), checked by the
    /// same parser and field catalogue as the typed filters.
    pub fn filter_raw(mut self, filter: &str) -> Self {
        match Filter::parse_validated(filter) {
            Ok(f) => self.query.filters.push(f),
            Err(e) => self.invalid.push(format!("filter: {e}")),
        }
        self
    }

    /// The sort order (the API's default is `-updated_at`; a full, stable export should
    /// sort by `product_id`).
    pub fn sort(mut self, sort: Sort) -> Self {
        let keys = sort.keys();
        if let Some((field, _)) = keys
            .iter()
            .enumerate()
            .find(|(i, (f, _))| keys[..*i].iter().any(|(g, _)| g == f))
            .map(|(_, k)| *k)
        {
            self.invalid.push(format!(
                "sort `{sort}`: `{}` appears twice; name each key once",
                field.as_str()
            ));
        }
        self.query.sort = Some(sort);
        self
    }

    /// Optional fields to add to each level.
    pub fn fields(mut self, fields: impl IntoIterator<Item = LevelField>) -> Self {
        for f in fields {
            if !self.query.fields.contains(&f) {
                self.query.fields.push(f);
            }
        }
        self
    }

    /// Product fields to include; each level's product then comes with it
    /// ([`Item::product`], [`Page::product_of`]).
    pub fn product_fields(mut self, fields: impl IntoIterator<Item = ProductField>) -> Self {
        for f in fields {
            if !self.query.product_fields.contains(&f) {
                self.query.product_fields.push(f);
            }
        }
        self
    }

    /// Levels per page, within the spec's bounds of `limit` (1 to 1000; the API's default
    /// is 100).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Stops after this many levels.
    pub fn max_items(mut self, max: u64) -> Self {
        self.max_items = Some(max);
        self
    }

    /// Whether to ask for the total number of matches ([`Page::count`]); off by default
    /// because it costs the server time.
    pub fn count(mut self, count: bool) -> Self {
        self.query.count = count;
        self
    }

    /// Only levels updated after `since` (the documented `gt` operator on `updated_at`).
    ///
    /// For keeping a copy current use [`Client::sync`] instead: timestamps have
    /// whole-second precision, so a level changed again within the second of `since` is
    /// not after it, and a `since` from the caller's clock drifts from the server's;
    /// `sync` handles both (and products disabled or enabled, which keep their level's
    /// `updated_at`).
    pub fn updated_since(self, since: DateTime<Utc>) -> Self {
        self.filter(crate::fields::UPDATED_AT.gt(since))
    }

    /// Fetches the next page while the current one is being consumed (`pages()` and
    /// `items()`); items and their order are the same either way.
    pub fn prefetch(mut self, prefetch: bool) -> Self {
        self.prefetch = prefetch;
        self
    }

    /// Fetches with `n` requests at once by splitting the `product_id` key space into
    /// ranges (`pages()` and `items()`; `send()` fetches the first page as usual).
    ///
    /// Levels come exactly once and in `product_id` order, as with
    /// `.sort(Sort::asc(SortField::ProductId))`, which is the only sort a parallel export
    /// takes (none given means that one). At most 4 x `n` pages are held, fetched and not
    /// yet consumed. Each page's [checkpoint](Page::checkpoint) covers every range, and
    /// [`Client::resume`] carries on in parallel. Requests still go through the client's
    /// [limits](crate::RateLimits), which cap what `n` can gain.
    ///
    /// Refused (with an [invalid request](Error::is_invalid_request) error, before
    /// anything is sent): another sort, `count(true)` (each range would count its own),
    /// `fields` without `product` or `all` (ranges need each level's id), `n` = 0.
    ///
    /// ```no_run
    /// # async fn run(client: shipstream_inventory::Client) -> Result<(), shipstream_inventory::Error> {
    /// use futures::TryStreamExt as _;
    /// let levels: Vec<_> = client.total_levels().page_size(1000).parallel(5).items().try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn parallel(mut self, n: usize) -> Self {
        self.parallel = Some(n);
        self
    }

    /// The first page's URL of a parallel export, after the checks it needs.
    fn parallel_template(&self, n: usize) -> Result<url::Url, Error> {
        let refuse = |why: String| Err(Error::invalid_request(format!("{why}; nothing was sent")));
        if n == 0 {
            return refuse("parallel(0): a parallel export needs at least 1 worker".into());
        }
        let by_id = Sort::asc(crate::SortField::ProductId);
        let mut query = self.checked_query()?;
        match &query.sort {
            Some(sort) if *sort != by_id => {
                return refuse(format!(
                    "a parallel export is sharded by product id and delivered in that order, \
                     so it cannot be sorted by `{sort}`: sort by `{by_id}` or leave the sort \
                     unset"
                ));
            }
            _ => query.sort = Some(by_id),
        }
        if query.count {
            return refuse(
                "count(true) cannot be combined with parallel(): each range would count \
                     only its own levels"
                    .into(),
            );
        }
        // `all` adds every optional field, `product` among them.
        if !query.fields.is_empty()
            && !query.fields.contains(&LevelField::Product)
            && !query.fields.contains(&LevelField::All)
        {
            return refuse(
                "a parallel export needs each level's product id: add LevelField::Product \
                     to fields"
                    .into(),
            );
        }
        query.prepare(&self.client.inner.preparer)
    }

    fn checked_query(&self) -> Result<Query, Error> {
        if let Some(problem) = self.invalid.first() {
            return Err(Error::invalid_request(format!(
                "{problem}; nothing was sent"
            )));
        }
        let mut query = self.query.clone();
        let limit = &shipstream_inventory_generated::api::params::LIMIT;
        if let Some(size) = self.page_size {
            let (min, max) = page_size_range();
            if !(min..=max).contains(&i64::from(size)) {
                return Err(Error::invalid_request(format!(
                    "page size {size} is out of range: the API accepts {min} to {max}; nothing \
                     was sent"
                )));
            }
            query.limit = Some(size);
        }
        if let Some(max) = self.max_items {
            if max == 0 {
                return Err(Error::invalid_request("max_items must be at least 1"));
            }
            let default = limit
                .default
                .and_then(|d| d.parse::<u32>().ok())
                .unwrap_or(u32::MAX);
            let size = u64::from(query.limit.unwrap_or(default));
            if max < size {
                query.limit = u32::try_from(max).ok();
            }
        }
        Ok(query)
    }

    /// The absolute URL of the first page, for logs and checkpoints. The generated
    /// operation builds it (parameter names, encoding, the spec's value checks).
    pub fn uri(&self) -> Result<String, Error> {
        let url = self.checked_query()?.prepare(&self.client.inner.preparer)?;
        Ok(url.into())
    }

    /// A checkpoint from which [`Client::resume`] runs this whole request (in parallel
    /// when [`parallel`](Self::parallel) is set).
    pub fn checkpoint(&self) -> Result<Checkpoint, Error> {
        if let Some(n) = self.parallel {
            let template = self.parallel_template(n)?;
            return Ok(crate::parallel::fresh_checkpoint(&template, n));
        }
        Ok(Checkpoint::new(Some(self.uri()?), 0, 0))
    }

    /// Fetches the first page.
    pub async fn send(self) -> Result<Page, Error> {
        let mut pages = self.pages_inner()?;
        match pages.next_page().await {
            Some(result) => result,
            None => Err(Error::pagination("the server returned no page")),
        }
    }

    fn pages_inner(self) -> Result<Pager, Error> {
        let uri = self.uri()?;
        Ok(Pager::new(
            self.client,
            Checkpoint::new(Some(uri), 0, 0),
            self.max_items,
            self.prefetch,
        ))
    }

    /// Every page, following `next` until the end. A fatal error is yielded once and
    /// ends the stream.
    pub fn pages(self) -> impl Stream<Item = Result<Page, Error>> + Send + 'static {
        if let Some(n) = self.parallel {
            return match self.parallel_template(n) {
                Ok(template) => Sharded::new(self.client, template, n, self.max_items)
                    .into_stream()
                    .boxed(),
                Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
            };
        }
        match self.pages_inner() {
            Ok(pager) => pager.into_stream().boxed(),
            Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
        }
    }

    /// Every level (with its product when asked for), page after page. A record that
    /// does not decode is yielded as an error for which [`Error::is_record`] is true, and
    /// the stream goes on; any other error is yielded once and ends the stream.
    pub fn items(self) -> impl Stream<Item = Result<Item, Error>> + Send + 'static {
        let max = self.max_items;
        crate::pager::items(self.pages(), max)
    }
}

/// Continues an export from a [`Checkpoint`]. Built by [`Client::resume`].
#[derive(Clone, Debug)]
#[must_use = "a resume does nothing until its stream is polled"]
pub struct Resume {
    client: Client,
    checkpoint: Checkpoint,
    max_items: Option<u64>,
    prefetch: bool,
}

impl Resume {
    /// Stops once this many levels have been delivered in total, counting those before
    /// the checkpoint.
    pub fn max_items(mut self, max: u64) -> Self {
        self.max_items = Some(max);
        self
    }

    /// See [`TotalLevelsRequest::prefetch`].
    pub fn prefetch(mut self, prefetch: bool) -> Self {
        self.prefetch = prefetch;
        self
    }

    /// The remaining pages.
    pub fn pages(self) -> impl Stream<Item = Result<Page, Error>> + Send + 'static {
        match &self.checkpoint.parallel {
            Some(shards) => Sharded::resume(self.client, &self.checkpoint, shards, self.max_items)
                .into_stream()
                .boxed(),
            None => Pager::new(self.client, self.checkpoint, self.max_items, self.prefetch)
                .into_stream()
                .boxed(),
        }
    }

    /// The remaining levels.
    pub fn items(self) -> impl Stream<Item = Result<Item, Error>> + Send + 'static {
        let remaining = self
            .max_items
            .map(|m| m.saturating_sub(self.checkpoint.items_delivered()));
        crate::pager::items(self.pages(), remaining)
    }
}
