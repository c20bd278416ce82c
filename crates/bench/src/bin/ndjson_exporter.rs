//! The independent hand-written exporter that `cargo xtask bench --only cli` runs
//! alternately with `shipstream-inventory levels --format ndjson`: a reqwest + serde_json
//! loop ([`shipstream_inventory_bench::export::handwritten`]) writing every level as one
//! NDJSON line to stdout.
//!
//! Usage: `ndjson-exporter BASE_URL TOKEN > levels.ndjson`

use std::io::{BufWriter, Write as _};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, token] = args.as_slice() else {
        anyhow::bail!("usage: ndjson-exporter BASE_URL TOKEN");
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let http = shipstream_inventory_bench::export::handwritten_client(base, token)?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(64 * 1024, stdout.lock());
    let n = runtime.block_on(shipstream_inventory_bench::export::handwritten(
        &http, base, &mut out,
    ))?;
    out.flush()?;
    eprintln!("{n} levels");
    Ok(())
}
