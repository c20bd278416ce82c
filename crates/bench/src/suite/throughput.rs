//! The throughput suites: decoding (criterion), and exports paired with the hand-written
//! loop in one run (sequential, with prefetch, and the mock's own page rate).

use super::*;

pub(super) fn decode(ctx: &Ctx) -> Result<(String, Vec<String>)> {
    let home = criterion(ctx, "decode")?;
    let ids = [
        (
            "facade",
            "facade: `Page::from_json` (generated types, open enums, products by id)",
        ),
        (
            "generated",
            "generated types alone: `serde_json::from_slice::<TotalLevelsPage>`",
        ),
        (
            "minimal",
            "minimal hand-written struct, every field (`minimal::Page`)",
        ),
        (
            "minimal_subset",
            "minimal hand-written struct, sync fields only (`minimal::SyncPage`)",
        ),
        ("value", "`serde_json::Value`"),
    ];
    let bytes = fs::read_to_string(home.join("decode/facade/new/benchmark.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v["throughput"]["Bytes"].as_f64())
        .unwrap_or(0.0);
    let est = estimates(&home, "decode", &ids)?;
    let base = est["minimal"].median;
    let mut md = String::new();
    writeln!(
        md,
        "One page of 1000 levels and their 1000 included products ({:.2} MB of JSON, \
         `fields:product=all`, served by the mock), decoded from memory.\n",
        bytes / 1e6
    )?;
    table(
        &mut md,
        &["decoder", "median (95 % CI)", "MB/s", "× minimal"],
        ids.iter().map(|(id, label)| {
            let e = est[id];
            vec![
                (*label).to_owned(),
                e.with_ci(),
                format!("{:.0}", bytes / (e.median / 1e9) / 1e6),
                format!("{:.2}", e.median / base),
            ]
        }),
    )?;
    writeln!(md, "\nAn export's page (1000 levels, no products):\n")?;
    let levels_ids = [
        ("facade", "facade: `Page::from_json`"),
        ("generated", "generated types alone"),
        ("minimal", "minimal hand-written struct"),
    ];
    let levels_est = estimates(&home, "decode_levels", &levels_ids)?;
    let levels_base = levels_est["minimal"].median;
    table(
        &mut md,
        &["decoder", "median (95 % CI)", "× minimal"],
        levels_ids.iter().map(|(id, label)| {
            let e = levels_est[id];
            vec![
                (*label).to_owned(),
                e.with_ci(),
                format!("{:.2}", e.median / levels_base),
            ]
        }),
    )?;
    let p = pair(ctx, "decode")?;
    let ratio = p.ratio;
    let verdict = format!(
        "decode: facade {ratio:.2}× the minimal struct's time (target ≤ 1.30×): {}",
        holds(ratio <= 1.3)
    );
    writeln!(
        md,
        "\n**Target** facade ≤ 1.3× minimal: {ratio:.2}×, {} (side by side: the median of \
         {} alternating rounds of 5 decodes each, rounds from {:.2}× to {:.2}×; the tables \
         above measure one decoder after the other and drift with the machine).",
        holds(ratio <= 1.3),
        p.rounds,
        p.low,
        p.high
    )?;
    Ok((md, vec![verdict]))
}

pub(super) fn export(ctx: &Ctx) -> Result<(String, Vec<String>)> {
    let home = criterion(ctx, "export")?;
    let ids = [
        ("facade", "facade `items()`"),
        ("facade_pages", "facade `pages()` + `page.levels()`"),
        ("handwritten", "hand-written reqwest + serde_json loop"),
        (
            "generated",
            "raw generated client (`cursor_start` parsed from `next`)",
        ),
    ];
    let est = estimates(&home, "export", &ids)?;
    let base = est["handwritten"].median;
    let mut md = String::new();
    writeln!(
        md,
        "{EXPORT_LEVELS} levels (pages of 1000, `sort=product_id`) from the mock on its own \
         thread and runtime, over loopback, written as NDJSON into a counting 64 KiB-buffered \
         sink. Every peer writes byte-identical output (`cargo test -p {PACKAGE}` compares the \
         bytes of all four; `crates/bench/src/export.rs` says how the hand-written struct is \
         compared should the spec gain a level field).\n"
    )?;
    table(
        &mut md,
        &[
            "client",
            "median (95 % CI)",
            "levels/s",
            "throughput × hand-written",
        ],
        ids.iter().map(|(id, label)| {
            let e = est[id];
            vec![
                (*label).to_owned(),
                e.with_ci(),
                format!("{:.0}", EXPORT_LEVELS as f64 / (e.median / 1e9)),
                format!("{:.2}", base / e.median),
            ]
        }),
    )?;
    let p = pair(ctx, "export")?;
    // Throughput ratio = time(hand-written) / time(facade).
    let ratio = 1.0 / p.ratio;
    writeln!(
        md,
        "\n**Target** facade throughput ≥ 0.95× hand-written: {ratio:.2}×, {} (side by side: \
         the median of {} alternating rounds of one export each, rounds from {:.2}× to \
         {:.2}×).",
        holds(ratio >= 0.95),
        p.rounds,
        1.0 / p.high,
        1.0 / p.low
    )?;
    Ok((
        md,
        vec![format!(
            "export: facade throughput {ratio:.2}× the hand-written loop's (target ≥ 0.95×): {}",
            holds(ratio >= 0.95)
        )],
    ))
}

pub(super) fn prefetch(ctx: &Ctx) -> Result<(String, Vec<String>)> {
    let home = criterion(ctx, "prefetch")?;
    let off = estimate(&home, "prefetch", "off")?;
    let on = estimate(&home, "prefetch", "on")?;
    let chain = estimate(&home, "prefetch", "fetch_only")?;
    let fast = estimate(&home, "prefetch", "fetch_only_no_latency")?;
    let p = pair(ctx, "prefetch")?;
    let ratio = p.ratio;
    // N pages, L latency, W work: off ≈ N(L + W), on ≈ N·L + W.
    let (n, l, w) = (20.0, 20.0, 20.0);
    let ideal = n * (l + w) / (n * l + w);
    let mut md = String::new();
    writeln!(
        md,
        "20 pages of 1000 levels; the mock delays every response by 20 ms (`latency=20ms`) \
         and the consumer awaits `tokio::time::sleep(20 ms)` after each page. The \
         `fetch_only` rows walk the same pages without work and without prefetch: with the \
         latency that is the chain of requests prefetch cannot shorten (each page's cursor \
         comes in the previous page's body); without it, what transfer and decoding cost.\n"
    )?;
    writeln!(
        md,
        "| run | median (95 % CI) | per page |\n| --- | --- | --- |"
    )?;
    for (label, e) in [
        ("prefetch off", off),
        ("prefetch on", on),
        ("fetch_only (no work, no prefetch)", chain),
        ("fetch_only, mock without latency", fast),
    ] {
        writeln!(
            md,
            "| {label} | {} | {} |",
            e.with_ci(),
            fmt_ns(e.median / n),
        )?;
    }
    let latency = (chain.median - fast.median) / n;
    writeln!(
        md,
        "\n**Target** ≥ 1.8× faster with prefetch: {ratio:.2}×, {} (side by side: the median \
         of {} alternating rounds, from {:.2}× to {:.2}×). With free transfer and decoding \
         and an exact timer it would be N(L+W)/(N·L+W) = {ideal:.2}×; here a page takes {} \
         to transfer and decode, and the injected 20 ms take {} (tokio's timer has 1 ms \
         ticks).",
        holds(ratio >= 1.8),
        p.rounds,
        p.low,
        p.high,
        fmt_ns(fast.median / n),
        fmt_ns(latency),
    )?;
    Ok((
        md,
        vec![format!(
            "prefetch: {ratio:.2}× faster with prefetch (target ≥ 1.8×): {}",
            holds(ratio >= 1.8)
        )],
    ))
}

pub(super) fn mock(ctx: &Ctx) -> Result<(String, Vec<String>)> {
    let home = criterion(ctx, "mock")?;
    let ids = [
        ("product_id", "`sort=product_id`"),
        ("sku_desc", "`sort=-sku`"),
        ("updated_at_desc", "`sort=-updated_at`"),
        (
            "product_id_products_all",
            "`sort=product_id&fields:product=all`",
        ),
    ];
    let mut md = String::new();
    writeln!(
        md,
        "Pages of 1000 levels of a {EXPORT_LEVELS}-level dataset, every page of the export in \
         turn, fetched one at a time over loopback by a bare reqwest client that reads the \
         body without decoding it (so the client's HTTP work is included: a lower bound).\n"
    )?;
    writeln!(
        md,
        "| query | median per page | pages/s | levels/s |\n| --- | --- | --- | --- |"
    )?;
    let mut slowest = f64::INFINITY;
    for (id, label) in ids {
        let e = estimate(&home, "mock", id)?;
        let pps = 1e9 / e.median;
        if id != "product_id_products_all" {
            slowest = slowest.min(pps);
        }
        writeln!(
            md,
            "| {label} | {} | {pps:.0} | {:.0} |",
            fmt_ns(e.median),
            pps * 1000.0
        )?;
    }
    writeln!(
        md,
        "\nThe slowest plain sort serves {slowest:.0} pages/s = {:.0} levels/s; compare the \
         clients' export rates above.",
        slowest * 1000.0
    )?;
    Ok((
        md,
        vec![format!(
            "mock: at least {slowest:.0} pages/s of 1000 levels (informational)"
        )],
    ))
}
