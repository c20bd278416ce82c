//! Command-line arguments (clap derive).

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{
    ArgAction, Args, Parser, Subcommand, ValueEnum,
    builder::{NonEmptyStringValueParser, PossibleValuesParser},
};
use shipstream_inventory::Sort;

use crate::exit::EXIT_CODES_HELP;

/// The optional level fields the API accepts for `--fields`, in the API's order.
pub use shipstream_inventory::LEVEL_FIELD_NAMES as LEVEL_FIELDS;
/// The product fields the spec lists for `--product-fields`, in the spec's order (others
/// pass with a warning: the list is open).
pub use shipstream_inventory::PRODUCT_FIELD_NAMES as PRODUCT_FIELDS;
use shipstream_inventory::api;

/// The smallest and largest page size (the spec's bounds of `limit`).
const PAGE_MIN: i64 = match api::params::LIMIT.minimum {
    Some(m) => m,
    None => 1,
};
const PAGE_MAX: i64 = match api::params::LIMIT.maximum {
    Some(m) => m,
    None => u32::MAX as i64,
};

fn page_size_help() -> String {
    format!(
        "Levels per request, {PAGE_MIN} to {PAGE_MAX} [API default: {}]",
        api::params::LIMIT.default.unwrap_or("none")
    )
}

/// The names, each deprecated one followed by `(deprecated: <the spec's note>)`.
fn names_with_deprecations(names: &[&str], deprecated: &[(&'static str, &'static str)]) -> String {
    names
        .iter()
        .map(|n| match api::deprecated::note(deprecated, n) {
            Some(note) => format!("{n} (deprecated: {note})"),
            None => (*n).to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn sort_help() -> String {
    format!(
        "Sort keys, comma separated, `-` for descending: {} [API default: {}]. Use \
         product_id for a complete, stable export",
        names_with_deprecations(api::SORT_KEYS, api::deprecated::SORT_KEYS),
        api::params::SORT.default.unwrap_or("none")
    )
}

fn fields_help() -> String {
    format!(
        "Optional level fields to add, comma separated: {}",
        names_with_deprecations(LEVEL_FIELDS, api::deprecated::LEVEL_FIELDS)
    )
}

fn product_fields_help() -> String {
    format!(
        "Product fields to include with each level, comma separated: {}\n\nThe list is \
         open: another name (a field of packaging objects, say) is sent as given, with a \
         warning.",
        names_with_deprecations(PRODUCT_FIELDS, api::deprecated::PRODUCT_FIELDS)
    )
}

/// Read ShipStream inventory levels from the command line.
#[derive(Debug, Parser)]
#[command(
    name = "shipstream-inventory",
    version,
    about = "Export ShipStream inventory levels (GET /api/global/v1/inventory/levels/total)",
    long_about = "Export ShipStream inventory levels (GET /api/global/v1/inventory/levels/total) \
                  as a table, JSON, NDJSON or CSV, with resumable checkpoints, and serve a mock \
                  of the API for tests and demos.\n\n\
                  Try it without credentials: shipstream-inventory levels --demo",
    after_help = EXIT_CODES_HELP,
    max_term_width = 100,
    propagate_version = true
)]
pub struct Cli {
    /// More logs on stderr: -v requests and retries, -vv debug, -vvv trace (RUST_LOG
    /// overrides). The token is never logged
    #[arg(short, long, action = ArgAction::Count, global = true, display_order = 900)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Export total inventory levels, following every page
    #[command(
        long_about = "Export total inventory levels, following every page (like the AWS CLI; \
                      stop early with --max-items).\n\n\
                      The connection comes from SHIPSTREAM_URL, SHIPSTREAM_TOKEN and \
                      SHIPSTREAM_API_VERSION (or --url, --token-file, --api-version). The token \
                      is read only from the environment or a file, never from a flag, and is \
                      never printed.\n\n\
                      Output streams page by page, so memory stays flat for any number of \
                      levels. A record that does not decode is reported on stderr (raw JSON and \
                      reason) and skipped; the export goes on and exits 6 at the end.",
        after_help = format!("{LEVELS_AFTER_HELP}\n\n{EXIT_CODES_HELP}")
    )]
    Levels(Box<LevelsArgs>),
    /// Keep a mirror of the levels current in SQLite or PostgreSQL (a full load, then only
    /// what changed; deleted products removed)
    #[command(
        long_about = "Keep a mirror of the levels current, in a SQLite file or a PostgreSQL \
                      database: the first run loads every level, later runs fetch only the \
                      levels (and products) that changed since the last complete run, by the \
                      server's clock. Disabled products are included.\n\n\
                      A listing of changes never shows a deleted product, so a run also \
                      reconciles (lists every product id and deletes the rows of products \
                      that no longer exist) when the last reconciliation is older than \
                      --reconcile-every (24h), or with --reconcile. It costs one request per \
                      page of the largest size the API serves (`limit`'s maximum).\n\n\
                      Each page is written in one transaction together with the bookmark that \
                      covers it: a run stopped at any point (Ctrl-C, SIGKILL) leaves a \
                      consistent database, and the next run carries on: it finishes the stopped \
                      run, then runs a new one. One run at a time per database: a second one \
                      stops before reading or writing (exit 1). When `sync` exits 0, every row is the level's \
                      state as of a server time after `sync` started, or later.\n\n\
                      The connection options are those of `levels`.",
        after_help = format!("{SYNC_AFTER_HELP}\n\n{EXIT_CODES_HELP}")
    )]
    Sync(Box<SyncArgs>),
    /// Serve the mock ShipStream API until interrupted (Ctrl-C or SIGTERM)
    #[command(
        long_about = "Serve the mock ShipStream API (a deterministic dataset, real filtering, \
                      sorting and paging, optional faults) until interrupted with Ctrl-C or \
                      SIGTERM.\n\n\
                      The first line on stdout is exactly `listening on http://HOST:PORT`; the \
                      token and an example command follow on the next lines.",
        after_help = MOCK_AFTER_HELP
    )]
    Mock(Box<MockArgs>),
}

const LEVELS_AFTER_HELP: &str = "\
Output formats:
  table   aligned columns fitted to the terminal width (COLUMNS when not a terminal);
          long cells end with …; widths are taken from the first page
  json    one JSON array, streamed item by item (left unclosed if the export fails)
  ndjson  one level per line as the API sends it; with --product-fields the product's
          fields are merged into `product`
  csv     a header row, then one row per level; the columns follow the API's level
          properties in the API's order: the product stub (product.id, product.sku)
          followed by the requested product fields (product.name, ...), optional
          references such as warehouse.id only when --fields asks for them, then every
          quantity and updated_at. Nested objects and arrays (barcodes, weight,
          merchant, ...) are written as compact JSON in one cell; nulls are empty

Checkpoints:
  --checkpoint FILE saves progress after every page (written atomically), after the
  page's levels are flushed and synced to --output. Rerun the same command to resume
  where it stopped: no level is written twice or lost. --checkpoint needs --output and
  the ndjson or csv format (JSON arrays and tables cannot be appended to). A finished
  export leaves the checkpoint marked done; rerunning then writes nothing and exits 0.
  Resuming with different query options is refused (exit 2). Sort by product_id for a
  stable export.

Examples:
  shipstream-inventory levels --demo
  shipstream-inventory levels --filter 'qty_available{lt:10}' --product-fields sku,name
  shipstream-inventory levels --sort product_id --format csv --output levels.csv \\
      --checkpoint levels.ckpt";

const SYNC_AFTER_HELP: &str = "\
Tables (the same in both databases):
  levels      product_id (primary key), sku, is_enabled, every qty_* quantity of the API,
              updated_at. SQLite: INTEGER, TEXT, 0/1 and RFC 3339 text; PostgreSQL: BIGINT,
              TEXT, BOOLEAN and TIMESTAMPTZ
  sync_state  one row: the bookmark (JSON), when it was saved and the rows the run deleted

Examples:
  shipstream-inventory sync --demo --db levels.sqlite
  shipstream-inventory sync --db levels.sqlite            # cron it, or run it in a loop
  sqlite3 levels.sqlite 'SELECT sku, qty_available FROM levels WHERE qty_available < 10'
  shipstream-inventory sync --db postgres://app@db.internal/inventory --parallel 5
  psql -d inventory -c 'SELECT sku, qty_available FROM levels WHERE qty_available < 10'
  shipstream-inventory sync --metrics-file /var/lib/node_exporter/textfile/sync.prom \\
      --db 'postgres://app@db.example.com/inventory?sslmode=verify-full&sslrootcert=ca.pem'
  shipstream-inventory sync --status --max-age 30m --db levels.sqlite   # a health check

PostgreSQL over TLS: libpq's sslmode (disable, allow, prefer (default), require, verify-ca,
verify-full) and sslrootcert (a PEM file, or system) in the URL, or PGSSLMODE and
PGSSLROOTCERT. Connecting is retried 5 times over 7.5 s while the server restarts.";

const MOCK_AFTER_HELP: &str = "\
Faults (--fault, repeatable; several rules may also be joined with `;`):
  latency=20ms | latency=10ms..50ms   delay responses
  status=429 | status=500|502|503     answer with that status and an error body
  drop                                cut the connection mid-body
  truncate                            a 200 whose JSON body is cut short
  repeat-next                         `next` repeats the page's own URI (a loop)
  offorigin-next                      `next` points to another origin
  unknown-enum                        values the API's open enums do not list yet (valid)
  forbidden-enum                      a level `type` the API description forbids
  extra-field                         members the API description does not list
  bad-record                          one level per page that does not decode
Options per rule: rate=P, nth=N, every=N (default: every request), retry-after=SECS.
Example: --fault 'status=429:rate=0.05' --fault 'drop:nth=3' --latency 20

Example:
  shipstream-inventory mock --port 8080 --products 10000
  SHIPSTREAM_URL=http://127.0.0.1:8080 SHIPSTREAM_TOKEN=mock-token \\
      shipstream-inventory levels --sort product_id

Exit codes:
  0  stopped by Ctrl-C or SIGTERM
  1  cannot bind the address
  2  bad option, fault or dataset";

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns fitted to the terminal (default when stdout is a terminal)
    Table,
    /// One JSON array, streamed
    Json,
    /// One level per line (default when stdout is not a terminal, or with --output)
    Ndjson,
    /// Header row and one row per level, product fields flattened
    Csv,
}

impl Format {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Csv => "csv",
        }
    }
}

/// Where the API is and how to authenticate (shared by `levels` and `sync`).
// The field docs are the command's help text, where a URL is plain text.
#[allow(rustdoc::bare_urls)]
#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// Instance URL, for example https://acme.shipstream.app [default: $SHIPSTREAM_URL]
    #[arg(long, value_name = "URL", help_heading = "Connection")]
    pub url: Option<String>,

    /// The API version sent with every request, YYYY-MM [default: $SHIPSTREAM_API_VERSION,
    /// else the version this release was generated for]
    #[arg(long, value_name = "YYYY-MM", help_heading = "Connection")]
    pub api_version: Option<String>,

    /// Read the bearer token from this file [default: $SHIPSTREAM_TOKEN]. The token is
    /// never accepted as a flag value and never printed
    #[arg(long, value_name = "PATH", help_heading = "Connection")]
    pub token_file: Option<PathBuf>,

    /// Requests a second this client sends at most [default: the API's assumed limit, with
    /// its burst and concurrency, adapting to the server's answers]; 0 turns the
    /// client-side limits off (the server's 429 and 409 answers are still retried)
    #[arg(long, value_name = "PER_SECOND", help_heading = "Connection")]
    pub rate_limit: Option<u32>,

    /// Run against an embedded mock server with a demo dataset (250 products, seed 42); no
    /// credentials needed
    #[arg(long, help_heading = "Connection", conflicts_with_all = ["url", "token_file", "api_version"])]
    pub demo: bool,
}

/// Arguments of `levels`.
// The field docs are the command's help text, where a URL is plain text.
#[allow(rustdoc::bare_urls)]
#[derive(Debug, Args)]
pub struct LevelsArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,

    /// Only levels matching EXPR, in the API's filter syntax; repeat for AND. Examples:
    /// 'qty_available{lt:10}', sku:ABC123, 'product_name{start:"Box of"}'
    #[arg(long = "filter", value_name = "EXPR", help_heading = "Query")]
    pub filters: Vec<String>,

    #[arg(long, value_name = "SPEC", value_parser = parse_sort, help_heading = "Query", help = sort_help())]
    pub sort: Option<Sort>,

    /// Fetch with N requests at once, splitting the product id range (the output is the
    /// same as with --sort product_id, the only sort it takes); the client keeps to the
    /// API's rate limits
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64), help_heading = "Query")]
    pub parallel: Option<u32>,

    /// Optional level fields to add, comma separated
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        value_parser = PossibleValuesParser::new(LEVEL_FIELDS),
        hide_possible_values = true,
        help_heading = "Query",
        long_help = fields_help()
    )]
    pub fields: Vec<String>,

    /// Product fields to include with each level, comma separated
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        value_parser = NonEmptyStringValueParser::new(),
        help_heading = "Query",
        long_help = product_fields_help()
    )]
    pub product_fields: Vec<String>,

    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(PAGE_MIN..=PAGE_MAX), help_heading = "Query", help = page_size_help())]
    pub page_size: Option<u32>,

    /// Stop after N levels
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Query")]
    pub max_items: Option<u64>,

    /// Ask for the total number of matching levels and print it on stderr
    #[arg(long, help_heading = "Query")]
    pub count: bool,

    /// Only levels updated after this instant (RFC 3339, e.g. 2025-08-28T10:30:00Z)
    #[arg(long, value_name = "RFC3339", value_parser = parse_time, help_heading = "Query")]
    pub updated_since: Option<DateTime<Utc>>,

    /// Output format [default: table when stdout is a terminal, else ndjson]
    #[arg(long, value_enum, value_name = "FORMAT", help_heading = "Output")]
    pub format: Option<Format>,

    /// Write to FILE instead of stdout
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,

    /// Save progress to FILE after each page and resume from it when it exists (needs
    /// --output and --format ndjson or csv)
    #[arg(
        long,
        value_name = "FILE",
        requires = "output",
        help_heading = "Output"
    )]
    pub checkpoint: Option<PathBuf>,
}

/// Arguments of `sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,

    /// The mirror: a SQLite file (created if missing), or a PostgreSQL database as
    /// postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=MODE&sslrootcert=FILE (password,
    /// port and TLS parameters optional; the database must exist; the password is never
    /// printed)
    #[arg(long, value_name = "PATH|URL", value_parser = crate::sync::Target::parse)]
    pub db: crate::sync::Target,

    /// Empty the mirror and load every level again
    #[arg(long)]
    pub full: bool,

    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(PAGE_MIN..=PAGE_MAX), help = page_size_help())]
    pub page_size: Option<u32>,

    /// Overlap window in seconds: changes stamped this long before the bookmark are
    /// asked for again (what is unchanged is not rewritten)
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub lookback: u64,

    /// Reconcile in this run: list every product id and delete the rows of products that
    /// no longer exist
    #[arg(long)]
    pub reconcile: bool,

    /// Reconcile when the last reconciliation started longer ago than this, on the
    /// server's clock (`30m`, `6h`, `7d`; `0s` = every run)
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = humantime::parse_duration)]
    pub reconcile_every: std::time::Duration,

    /// Walk the whole key space (a full load, a reconciliation) with N requests at once,
    /// splitting the product id range; the client keeps to the API's rate limits
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub parallel: Option<u32>,

    /// At the end of every run, success or failure, write its figures to PATH in the
    /// Prometheus text format (written beside, then renamed over it: node_exporter's
    /// textfile collector reads it)
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,

    /// Print the mirror's state (rows, current and reconciled as of, the last run's
    /// figures) instead of syncing; reads the database only, while a run may be writing
    #[arg(long)]
    pub status: bool,

    /// With --status: `human` (default) or `json`
    #[arg(long, value_name = "FORMAT", requires = "status", value_parser = ["human", "json"])]
    pub format: Option<String>,

    /// With --status: exit 1 when the mirror is not current as of this long ago (on this
    /// machine's clock against the server's), or was never synced (`15m`, `2h`)
    #[arg(long, value_name = "DURATION", requires = "status", value_parser = humantime::parse_duration)]
    pub max_age: Option<std::time::Duration>,
}

/// Arguments of `mock`.
#[derive(Debug, Args)]
pub struct MockArgs {
    /// Address to bind
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,

    /// Port to bind; 0 picks a free one (printed on the first line)
    #[arg(long, default_value_t = 0)]
    pub port: u16,

    /// Number of generated products
    #[arg(long, value_name = "N", default_value_t = 250)]
    pub products: usize,

    /// Seed of the generated dataset and of the fault generator
    #[arg(long, value_name = "N", default_value_t = 42)]
    pub seed: u64,

    /// Serve the records of this JSON or NDJSON file instead of generated ones
    #[arg(long, value_name = "FILE", conflicts_with = "products")]
    pub dataset: Option<PathBuf>,

    /// The bearer token the server accepts
    #[arg(long, value_name = "T", default_value = "mock-token")]
    pub token: String,

    /// Inject a fault (see below); repeatable
    #[arg(long = "fault", value_name = "SPEC")]
    pub faults: Vec<String>,

    /// Whether `next` links are host-relative paths or absolute URLs
    #[arg(long, value_enum, value_name = "STYLE", default_value_t = NextStyleArg::Relative)]
    pub next_style: NextStyleArg,

    /// Every answer of the endpoint takes at least MS milliseconds
    #[arg(long, value_name = "MS")]
    pub latency: Option<u64>,

    /// Milliseconds added per level on the page (fractions allowed: 0.4), so larger
    /// pages take longer as on a real server
    #[arg(long, value_name = "MS", default_value_t = 0.0)]
    pub latency_per_level: f64,

    /// Refuse requests beyond PER_SECOND a second with 429 and Retry-After (a token
    /// bucket of --burst requests)
    #[arg(long, value_name = "PER_SECOND")]
    pub rate_limit: Option<f64>,

    /// Requests that may arrive at once before --rate-limit applies [default: the
    /// spec's assumed burst]
    #[arg(long, value_name = "N", requires = "rate_limit")]
    pub burst: Option<u32>,

    /// Refuse requests beyond N running at once with 409
    #[arg(long, value_name = "N")]
    pub max_concurrent: Option<u32>,

    /// Send no rate-limit headers (RateLimit-Limit, RateLimit-Remaining,
    /// X-Concurrency-Limit, X-Concurrency-Current): a server that keeps its limits to
    /// itself. 429 still carries Retry-After
    #[arg(long)]
    pub no_limit_headers: bool,

    /// Live mode: change RATE levels a second (quantities, products disabled and enabled
    /// again, new products, deleted ones with --delete-share), drawn from --seed and
    /// stamped with the server's clock
    #[arg(long, value_name = "RATE")]
    pub mutate: Option<f64>,

    /// The share of the live mode's changes that delete a product (0 to 1): its level
    /// leaves every listing; new products never reuse its id or SKU
    #[arg(long, value_name = "SHARE", default_value_t = 0.0, requires = "mutate")]
    pub delete_share: f64,

    /// How long the live mode keeps changing levels, in seconds from the start
    #[arg(long, value_name = "SECS", default_value_t = 60, requires = "mutate")]
    pub mutate_for: u64,

    /// Seconds added to the server's clock (its Date header and the timestamps of live
    /// changes); negative for a clock behind
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 0,
        allow_hyphen_values = true
    )]
    pub clock_skew: i64,

    /// The API versions served, oldest first, comma-separated (`2025-08,2026-03`); the
    /// last is the latest, which answers a request that names none. Any other version
    /// (retired, unknown, in the future) gets a 400 whose version-error header names the
    /// latest [default: the spec's version]
    #[arg(long, value_name = "YYYY-MM,...", value_delimiter = ',')]
    pub api_versions: Vec<String>,
}

/// `--next-style` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum NextStyleArg {
    /// `/api/global/v1/...`
    Relative,
    /// `http://HOST:PORT/api/global/v1/...`
    Absolute,
}

fn parse_sort(s: &str) -> Result<Sort, String> {
    s.parse::<Sort>().map_err(|e| e.to_string())
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            format!("`{s}` is not an RFC 3339 timestamp such as 2025-08-28T10:30:00Z ({e})")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn the_command_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn field_lists_match_the_facade() {
        for f in LEVEL_FIELDS {
            assert!(f.parse::<shipstream_inventory::LevelField>().is_ok(), "{f}");
        }
        for f in PRODUCT_FIELDS {
            assert!(
                f.parse::<shipstream_inventory::ProductField>().is_ok(),
                "{f}"
            );
        }
    }

    #[test]
    fn help_marks_what_the_spec_deprecates() {
        assert_eq!(
            names_with_deprecations(&["product_id", "sku"], &[("sku", "sort by product_id")]),
            "product_id, sku (deprecated: sort by product_id)"
        );
        // Today's spec deprecates nothing: the help lists the plain names.
        assert_eq!(
            names_with_deprecations(api::SORT_KEYS, api::deprecated::SORT_KEYS),
            api::SORT_KEYS.join(", ")
        );
    }
}
