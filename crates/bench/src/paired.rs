//! Side-by-side measurement of two peers for the targets: the two run alternately (A B,
//! then B A, ...) in one process, so a machine that speeds up or slows down (a shared VM,
//! other builds) affects both alike. Criterion, which measures one peer after the other,
//! gives the tables; these pairs give the ratios the targets are judged on.
//!
//! Only runs when `SHIPSTREAM_BENCH_PAIRED` names a directory (as `cargo xtask bench`
//! sets it); each pair is written there as `<name>.json`.

use std::{path::PathBuf, time::Instant};

/// The environment variable naming the output directory.
pub const ENV: &str = "SHIPSTREAM_BENCH_PAIRED";

/// The output directory, when pairs are wanted.
pub fn dir() -> Option<PathBuf> {
    std::env::var_os(ENV).map(PathBuf::from)
}

/// Whether `--quick` was passed to the bench.
pub fn quick() -> bool {
    std::env::args().any(|a| a == "--quick")
}

/// Times `a` and `b` alternately for `rounds` rounds of `iters` calls each and writes the
/// seconds per call of every round to `<dir>/<name>.json` as `{"a": [...], "b": [...]}`.
pub fn measure(
    name: &str,
    rounds: usize,
    iters: usize,
    mut a: impl FnMut(),
    mut b: impl FnMut(),
) -> std::io::Result<()> {
    let Some(dir) = dir() else { return Ok(()) };
    let time = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        for _ in 0..iters {
            f();
        }
        t.elapsed().as_secs_f64() / iters as f64
    };
    // Warm both up once.
    a();
    b();
    let (mut ta, mut tb) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for round in 0..rounds {
        if round % 2 == 0 {
            ta.push(time(&mut a));
            tb.push(time(&mut b));
        } else {
            tb.push(time(&mut b));
            ta.push(time(&mut a));
        }
    }
    std::fs::create_dir_all(&dir)?;
    let json = serde_json::json!({ "a": ta, "b": tb });
    std::fs::write(dir.join(format!("{name}.json")), json.to_string())?;
    eprintln!("paired {name}: {rounds} rounds written");
    Ok(())
}
