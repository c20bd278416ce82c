//! The CLI suite: the release `shipstream-inventory levels --format ndjson` and an
//! independent hand-written exporter, alternately, on the same mock process.

use super::*;

pub(super) fn cli_ndjson(ctx: &mut Ctx) -> Result<(String, Vec<String>)> {
    let cli = cli(ctx)?;
    let exporter = release_binary(ctx, PACKAGE, "ndjson-exporter")?;
    let server = MockProcess::start(&cli, OPENAPI_PRODUCTS, &[])?;
    let levels = server.count()?;
    let url = server.0.url.clone();
    let run = |cmd: &mut Command| -> Result<Duration> {
        let started = Instant::now();
        let status = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status()?;
        if !status.success() {
            bail!("{cmd:?} exited with {status}");
        }
        Ok(started.elapsed())
    };
    let ours = || {
        let mut c = Command::new(&cli);
        c.args([
            "levels",
            "--url",
            &url,
            "--rate-limit",
            "0",
            "--format",
            "ndjson",
        ])
        .args(["--page-size", "1000", "--sort", "product_id"])
        .env("SHIPSTREAM_TOKEN", TOKEN);
        c
    };
    let theirs = || {
        let mut c = Command::new(&exporter);
        c.args([&url, TOKEN]);
        c
    };
    // Both write every level, the same bytes: check the outputs once.
    let mut outputs = Vec::new();
    for mut cmd in [ours(), theirs()] {
        let out = cmd.stderr(Stdio::null()).output()?;
        if !out.status.success() {
            bail!("{cmd:?} exited with {}", out.status);
        }
        outputs.push(out.stdout);
    }
    same_ndjson(&outputs[0], &outputs[1], levels)?;
    let rounds = if ctx.quick { 3 } else { 9 };
    let (mut cli_s, mut hand_s, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (a, b) = if round % 2 == 0 {
            let a = run(&mut ours())?;
            (a, run(&mut theirs())?)
        } else {
            let b = run(&mut theirs())?;
            (run(&mut ours())?, b)
        };
        cli_s.push(a.as_secs_f64());
        hand_s.push(b.as_secs_f64());
        ratios.push(b.as_secs_f64() / a.as_secs_f64());
    }
    let pair = Pair::of(ratios);
    let (cli_m, hand_m) = (median(cli_s), median(hand_s));
    let mut md = String::new();
    writeln!(
        md,
        "Release `shipstream-inventory levels --url URL --rate-limit 0 --format ndjson \
         --page-size 1000 --sort product_id > /dev/null` and `ndjson-exporter URL TOKEN > \
         /dev/null` (`crates/bench/src/bin/ndjson_exporter.rs`: a reqwest + serde_json loop \
         over minimal structs), alternately, {rounds} rounds, against one `shipstream-inventory \
         mock --products {OPENAPI_PRODUCTS} --seed {SEED}` process ({levels} levels). Whole \
         processes, start-up included.\n"
    )?;
    writeln!(
        md,
        "| exporter | median | levels/s |\n| --- | --- | --- |\n\
         | `shipstream-inventory levels --format ndjson` | {cli_m:.3} s | {:.0} |\n\
         | hand-written exporter | {hand_m:.3} s | {:.0} |\n",
        levels as f64 / cli_m,
        levels as f64 / hand_m
    )?;
    let verdicts = throughput_goal(
        &mut md,
        "The CLI's",
        "the hand-written exporter's",
        "CLI NDJSON vs hand-written exporter",
        pair,
    )?;
    Ok((md, verdicts))
}

/// The CLI's NDJSON (`ours`) and the hand-written exporter's (`theirs`) are the same bytes,
/// `levels` lines; the error names the first line that differs.
fn same_ndjson(ours: &[u8], theirs: &[u8], levels: u64) -> Result<()> {
    let lines = ours.iter().filter(|b| **b == b'\n').count() as u64;
    if lines != levels {
        bail!("the CLI wrote {lines} levels, the mock serves {levels}");
    }
    if ours != theirs {
        let (n, (a, b)) = ours
            .split(|b| *b == b'\n')
            .zip(theirs.split(|b| *b == b'\n'))
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .unwrap_or((0, (b"(same lines)", b"(a different length)")));
        bail!(
            "the CLI and the hand-written exporter wrote different NDJSON; line {}:\n  CLI:          \
             {}\n  hand-written: {}",
            n + 1,
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(b)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_outputs_must_be_the_same_bytes_and_every_level() {
        let ours = b"{\"product\":{\"id\":1},\"qty_on_hand\":3}\n{\"product\":{\"id\":2}}\n";
        same_ndjson(ours, ours, 2).unwrap();
        let err = same_ndjson(ours, ours, 3).unwrap_err().to_string();
        assert!(err.contains("wrote 2 levels, the mock serves 3"), "{err}");
        // Same line count, one value different.
        let theirs = String::from_utf8_lossy(ours).replace(":3}", ":4}");
        let err = same_ndjson(ours, theirs.as_bytes(), 2)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1"), "{err}");
        // Same records, one line missing from theirs.
        let err = same_ndjson(ours, &ours[..ours.len() - 17], 2)
            .unwrap_err()
            .to_string();
        assert!(err.contains("different NDJSON"), "{err}");
    }
}
