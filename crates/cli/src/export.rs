//! The `levels` command: build the request, walk the pages, write them, checkpoint.

use std::{
    io::{self, IsTerminal as _},
    path::{Path, PathBuf},
    pin::Pin,
};

use futures::{Stream, StreamExt as _};
use shipstream_inventory::{
    Client, ENV_API_VERSION, ENV_TOKEN, ENV_URL, Error, Filter, LevelField, Page, ProductField,
    RateLimits,
};
use shipstream_inventory_mock::MockServer;

use crate::{
    checkpoint::{CheckpointFile, QueryArgs},
    cli::{ConnectionArgs, Format, LevelsArgs},
    exit::{Code, Failure},
    format::{self, RecordWriter, Sink},
    mock,
    progress::Progress,
};

type Pages = Pin<Box<dyn Stream<Item = Result<Page, Error>> + Send>>;

/// Everything checked before anything is sent.
struct Plan {
    filters: Vec<Filter>,
    level_fields: Vec<LevelField>,
    product_fields: Vec<ProductField>,
    format: Format,
    query: QueryArgs,
}

fn plan(args: &LevelsArgs) -> Result<Plan, Failure> {
    let mut filters = Vec::with_capacity(args.filters.len());
    for expr in &args.filters {
        let filter = Filter::parse_validated(expr)
            .map_err(|e| Failure::usage(format!("invalid --filter: {e}")))?;
        filters.push(filter);
    }
    let format = args.format.unwrap_or_else(|| {
        if args.output.is_none() && io::stdout().is_terminal() {
            Format::Table
        } else {
            Format::Ndjson
        }
    });
    if args.checkpoint.is_some() && !matches!(format, Format::Ndjson | Format::Csv) {
        return Err(Failure::usage(format!(
            "--checkpoint works with --format ndjson or csv only (a {} cannot be appended to \
             when resuming)",
            if format == Format::Json {
                "JSON array"
            } else {
                "table"
            }
        )));
    }
    let level_fields = args
        .fields
        .iter()
        .map(|f| {
            f.parse::<LevelField>()
                .map_err(|_| Failure::usage(format!("unknown level field `{f}`")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let product_fields: Vec<ProductField> = args
        .product_fields
        .iter()
        .map(|f| ProductField::from(f.as_str()))
        .collect();
    for f in product_fields.iter().filter(|f| f.is_unknown()) {
        eprintln!("{}", unknown_product_field_warning(f.as_str()));
    }
    let query = QueryArgs {
        filters: filters.iter().map(Filter::render).collect(),
        sort: args.sort.as_ref().map(ToString::to_string),
        fields: args.fields.clone(),
        product_fields: args.product_fields.clone(),
        page_size: args.page_size,
        max_items: args.max_items,
        count: args.count,
        updated_since: args.updated_since.map(|t| t.to_rfc3339()),
        format: format.name().into(),
        parallel: args.parallel,
    };
    Ok(Plan {
        filters,
        level_fields,
        product_fields,
        format,
        query,
    })
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn read_token_file(path: &Path) -> Result<String, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::usage(format!(
            "cannot read the token file {}: {e}",
            path.display()
        ))
    })?;
    let token = text.trim().to_owned();
    if token.is_empty() {
        return Err(Failure::usage(format!(
            "the token file {} is empty",
            path.display()
        )));
    }
    Ok(token)
}

pub fn build_client(args: &ConnectionArgs, demo: Option<&MockServer>) -> Result<Client, Failure> {
    let limits = match args.rate_limit {
        None => RateLimits::default(),
        Some(0) => RateLimits::none(),
        Some(n) => RateLimits::default().per_second(n),
    };
    let builder = Client::builder()
        .user_agent(concat!(
            "shipstream-inventory-cli/",
            env!("CARGO_PKG_VERSION")
        ))
        .rate_limits(limits);
    if let Some(server) = demo {
        return Ok(builder
            .base_url(server.base_url())
            .token(server.token())
            .build()?);
    }
    let url = args
        .url
        .clone()
        .or_else(|| env_var(ENV_URL))
        .ok_or_else(|| {
            Failure::usage(format!(
                "no instance URL: pass --url or set {ENV_URL} (for example \
             https://acme.shipstream.app), or try --demo"
            ))
        })?;
    let token = match &args.token_file {
        Some(path) => read_token_file(path)?,
        None => env_var(ENV_TOKEN).ok_or_else(|| {
            Failure::usage(format!(
                "no token: set {ENV_TOKEN} or pass --token-file PATH (a token from a Custom \
                 Global Integration), or try --demo"
            ))
        })?,
    };
    let mut builder = builder.base_url(url).token(token);
    if let Some(version) = args
        .api_version
        .clone()
        .or_else(|| env_var(ENV_API_VERSION))
    {
        builder = builder.api_version(version);
    }
    Ok(builder.build()?)
}

/// The table's width limit: the terminal's when printing to one, else `COLUMNS`.
fn table_width(to_stdout: bool) -> Option<usize> {
    if to_stdout
        && io::stdout().is_terminal()
        && let Some((terminal_size::Width(w), _)) = terminal_size::terminal_size()
    {
        return Some(usize::from(w));
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|w| *w > 0)
}

fn describe(output: Option<&PathBuf>) -> String {
    output.map_or_else(|| "stdout".to_owned(), |p| p.display().to_string())
}

fn write_failure(e: &io::Error, output: Option<&PathBuf>) -> Failure {
    Failure::io(format!("cannot write to {}: {e}", describe(output)))
}

fn checkpoint_failure(e: &io::Error, path: &Path) -> Failure {
    Failure::io(format!(
        "cannot save the checkpoint {}: {e}",
        path.display()
    ))
}

/// `shipstream-inventory levels`.
pub async fn run(args: LevelsArgs, verbose: u8) -> Result<Code, Failure> {
    let plan = plan(&args)?;

    // A checkpoint decides between a fresh export, a resume, or nothing to do.
    let saved = match &args.checkpoint {
        Some(path) => CheckpointFile::load(path)?,
        None => None,
    };
    if let (Some(saved), Some(path)) = (&saved, &args.checkpoint) {
        let differences = saved.query.differences(&plan.query);
        if !differences.is_empty() {
            return Err(Failure::usage(format!(
                "the checkpoint {} belongs to an export started with other options (these \
                 differ: {}); rerun with the original options to resume, or pass another \
                 --checkpoint file (or delete this one) to start a new export",
                path.display(),
                differences.join(", ")
            )));
        }
        if saved.done {
            eprintln!(
                "the export in {} is already complete ({} levels written to {}); nothing to do. \
                 Delete the checkpoint to export again",
                path.display(),
                saved.items_written,
                describe(args.output.as_ref())
            );
            // The outcome of a finished export does not change by asking again.
            if saved.record_errors > 0 {
                eprintln!(
                    "error: {} record(s) of that export could not be decoded and are missing \
                     from the output",
                    saved.record_errors
                );
                return Ok(Code::Contract);
            }
            return Ok(Code::Ok);
        }
    }

    let demo = if args.connection.demo {
        Some(mock::start_demo().await?)
    } else {
        None
    };
    let result = export(&args, plan, saved, demo.as_ref(), verbose).await;
    if let Some(server) = demo {
        server.shutdown().await;
    }
    result
}

async fn export(
    args: &LevelsArgs,
    plan: Plan,
    saved: Option<CheckpointFile>,
    demo: Option<&MockServer>,
    verbose: u8,
) -> Result<Code, Failure> {
    let client = build_client(&args.connection, demo)?;
    let mut request = client.total_levels().prefetch(true);
    for filter in plan.filters {
        request = request.filter(filter);
    }
    if let Some(sort) = &args.sort {
        request = request.sort(sort.clone());
    }
    request = request
        .fields(plan.level_fields)
        .product_fields(plan.product_fields);
    if let Some(size) = args.page_size {
        request = request.page_size(size);
    }
    if let Some(max) = args.max_items {
        request = request.max_items(max);
    }
    if args.count {
        request = request.count(true);
    }
    if let Some(since) = args.updated_since {
        request = request.updated_since(since);
    }
    if let Some(n) = args.parallel {
        request = request.parallel(n as usize);
    }
    let first = request.checkpoint()?;
    tracing::info!(uri = %request.uri().unwrap_or_default(), "exporting levels");

    let columns = format::columns(&args.fields, &args.product_fields);
    let output = args.output.as_ref();
    let progress = Progress::new(verbose == 0 && io::stderr().is_terminal());

    // Open the output, fresh or resumed, and the stream of pages.
    let (mut writer, mut state, pages): (Box<dyn RecordWriter>, Option<CheckpointFile>, Pages) =
        match saved {
            Some(saved) => {
                let path = output.ok_or_else(|| Failure::usage("--checkpoint needs --output"))?;
                let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
                if len < saved.output_len {
                    return Err(Failure::usage(format!(
                        "{} holds {len} bytes but the checkpoint recorded {}: it was changed, \
                         moved or is another file. Delete the checkpoint to start over",
                        path.display(),
                        saved.output_len
                    )));
                }
                if len > saved.output_len {
                    tracing::info!(
                        cut = len - saved.output_len,
                        "dropping the partial page written after the last checkpoint"
                    );
                }
                let sink =
                    Sink::resume(path, saved.output_len).map_err(|e| write_failure(&e, output))?;
                let writer = format::writer(plan.format, sink, columns, true, None)
                    .map_err(|e| write_failure(&e, output))?;
                eprintln!(
                    "resuming: {} levels already written to {}, continuing after page {}",
                    saved.items_written,
                    path.display(),
                    saved.checkpoint.pages_delivered()
                );
                let mut resume = client.resume(saved.checkpoint.clone()).prefetch(true);
                if let Some(max) = args.max_items {
                    resume = resume.max_items(max);
                }
                progress.start_at(saved.items_written);
                (writer, Some(saved), Box::pin(resume.pages()))
            }
            None => {
                let sink = match output {
                    Some(path) => Sink::create(path).map_err(|e| write_failure(&e, output))?,
                    None => Sink::stdout(),
                };
                let width = if plan.format == Format::Table {
                    table_width(sink.is_stdout())
                } else {
                    None
                };
                let mut writer = format::writer(plan.format, sink, columns, false, width)
                    .map_err(|e| write_failure(&e, output))?;
                let state = match &args.checkpoint {
                    Some(path) => {
                        let len = writer.commit(true).map_err(|e| write_failure(&e, output))?;
                        let state = CheckpointFile::new(plan.query, first, len);
                        state.save(path).map_err(|e| checkpoint_failure(&e, path))?;
                        Some(state)
                    }
                    None => None,
                };
                (writer, state, Box::pin(request.pages()))
            }
        };

    let outcome = walk(args, &mut *writer, state.as_mut(), pages, &progress).await;
    progress.finish();
    let summary = match outcome {
        Ok(summary) => summary,
        Err(Stop::Failure(f)) => return Err(f),
        Err(Stop::BrokenPipe) => return Ok(Code::Ok),
    };
    writer
        .finish()
        .and_then(|()| writer.commit(state.is_some()))
        .map_err(|e| write_failure(&e, output))?;
    if let (Some(state), Some(path)) = (state.as_mut(), &args.checkpoint) {
        state.done = true;
        state.save(path).map_err(|e| checkpoint_failure(&e, path))?;
    }
    if io::stderr().is_terminal() {
        eprintln!("{} levels written to {}", summary.written, describe(output));
    }
    if summary.record_errors > 0 {
        eprintln!(
            "error: {} record(s) could not be decoded and are missing from the output (see \
             above)",
            summary.record_errors
        );
        return Ok(Code::Contract);
    }
    Ok(Code::Ok)
}

struct Summary {
    written: u64,
    record_errors: u64,
}

enum Stop {
    Failure(Failure),
    /// stdout was closed by its reader (`| head`): stop quietly.
    BrokenPipe,
}

impl From<Failure> for Stop {
    fn from(f: Failure) -> Self {
        Stop::Failure(f)
    }
}

/// Writes every page; after each one, commits the output and then saves the checkpoint.
async fn walk(
    args: &LevelsArgs,
    writer: &mut dyn RecordWriter,
    mut state: Option<&mut CheckpointFile>,
    mut pages: Pages,
    progress: &Progress,
) -> Result<Summary, Stop> {
    let output = args.output.as_ref();
    let io_stop = |e: io::Error, to_stdout: bool| {
        if to_stdout && e.kind() == io::ErrorKind::BrokenPipe {
            Stop::BrokenPipe
        } else {
            Stop::Failure(write_failure(&e, output))
        }
    };
    let mut written = state.as_ref().map_or(0, |s| s.items_written);
    let mut record_errors = state.as_ref().map_or(0, |s| s.record_errors);
    let max = args.max_items;
    let mut total_shown = false;
    while let Some(next) = pages.next().await {
        let page = next.map_err(Failure::from)?;
        if args.count && !total_shown {
            total_shown = true;
            match page.count() {
                Some(total) => {
                    let total = u64::try_from(total).unwrap_or(0);
                    progress.suspend(|| eprintln!("total: {total} levels match the query"));
                    progress.set_total(max.map_or(total, |m| m.min(total)));
                }
                None => progress.suspend(|| eprintln!("total: unknown (the server sent no count)")),
            }
        }
        let number = page.number();
        let checkpoint = page.checkpoint().clone();
        let to_stdout = writer.is_stdout();
        let durable = state.is_some();
        let len = progress
            .suspend(|| -> io::Result<u64> {
                for entry in page.into_items() {
                    match entry {
                        Ok(item) => {
                            if max.is_some_and(|m| written >= m) {
                                continue;
                            }
                            writer.write_item(&item)?;
                            written += 1;
                        }
                        Err(bad) => {
                            record_errors += 1;
                            eprintln!("error: page {number}: {bad}; the export goes on without it");
                        }
                    }
                }
                writer.end_page()?;
                // Inside the suspension, so the rows reach the terminal before the bar
                // is drawn again.
                writer.commit(durable)
            })
            .map_err(|e| io_stop(e, to_stdout))?;
        let reached_max = max.is_some_and(|m| written >= m);
        if let (Some(state), Some(path)) = (state.as_deref_mut(), &args.checkpoint) {
            state.done = checkpoint.is_done() || reached_max;
            state.checkpoint = checkpoint;
            state.items_written = written;
            state.record_errors = record_errors;
            state.output_len = len;
            state
                .save(path)
                .map_err(|e| Stop::Failure(checkpoint_failure(&e, path)))?;
        }
        tracing::debug!(page = number, written, "page written");
        progress.page(number, written);
        if reached_max {
            break;
        }
    }
    Ok(Summary {
        written,
        record_errors,
    })
}

/// The warning for a `--product-fields` name the spec does not list: it is sent anyway,
/// because the API's list is open (it selects fields of packaging objects too).
fn unknown_product_field_warning(name: &str) -> String {
    format!(
        "warning: `{name}` is not a product field this client's spec lists; it is sent as \
         given (the API also selects fields of packaging objects), and a field the API does \
         not know comes back absent or is refused with 400"
    )
}
