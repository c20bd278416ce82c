//! The progress bar on stderr (only when stderr is a terminal).

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Pages, levels and rate on stderr; hidden when disabled.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar drawn on stderr when `enabled`, else a hidden one.
    pub fn new(enabled: bool) -> Self {
        let bar = if enabled {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(spinner_style());
            bar.set_message("connecting");
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        } else {
            ProgressBar::hidden()
        };
        Self { bar }
    }

    /// Turns the spinner into a bar once the total is known.
    pub fn set_total(&self, total: u64) {
        if self.bar.is_hidden() {
            return;
        }
        self.bar.set_length(total);
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} [{bar:30}] {human_pos}/{human_len} levels, {msg} ({rate}, eta {eta})",
        ) {
            self.bar.set_style(with_rate(style).progress_chars("=> "));
        }
    }

    /// Starts counting from `items` (on resume).
    pub fn start_at(&self, items: u64) {
        self.bar.set_position(items);
        self.bar.reset_eta();
    }

    /// After a page.
    pub fn page(&self, page: u64, items: u64) {
        self.bar.set_position(items);
        self.bar.set_message(format!("page {page}"));
    }

    /// Runs `f` with the bar cleared (for printing to the terminal).
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {human_pos} levels, {msg} ({rate}, {elapsed})")
        .map(with_rate)
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// `{rate}`: levels per second, whole numbers.
fn with_rate(style: ProgressStyle) -> ProgressStyle {
    style.with_key(
        "rate",
        |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.0}/s", state.per_sec());
        },
    )
}
