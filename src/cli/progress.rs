//! The command line's [`Events`] sink: progress bars on stderr.
//!
//! The library reports phases and counts ([`crate::events`]); this sink draws them
//! with indicatif. It draws nothing with `-q` or when stderr is not a terminal (a
//! pipe, a file, CI). A phase with a total is a bar with a count and, once a few
//! seconds of data make it meaningful, an ETA; a phase without one is a spinner
//! with what it has done so far and the time.

use crate::events::{Event, Events, Unit};
use indicatif::{HumanDuration, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// How long a bar runs before it shows an ETA: before that, the rate is a guess
/// (the first block of a build gave "5d").
const ETA_AFTER: Duration = Duration::from_secs(3);

/// Progress bars on stderr for the events of one long operation.
pub(crate) struct Bars {
    bar: Option<ProgressBar>,
}

impl Bars {
    /// Bars on stderr, or nothing with `-q` or when stderr is not a terminal.
    pub(crate) fn stderr() -> Bars {
        if super::out::quiet() || !std::io::stderr().is_terminal() {
            Bars { bar: None }
        } else {
            Bars::drawing(ProgressDrawTarget::stderr())
        }
    }

    /// Bars drawn on `target` (tests draw into memory).
    fn drawing(target: ProgressDrawTarget) -> Bars {
        Bars {
            bar: Some(ProgressBar::with_draw_target(None, target)),
        }
    }

    fn phase(bar: &ProgressBar, name: &str, total: Option<u64>, unit: Unit) {
        let count = match unit {
            Unit::Bytes => "{bytes}",
            _ => "{human_pos}",
        };
        let template = match total {
            Some(_) => {
                let len = match unit {
                    Unit::Bytes => "{total_bytes}",
                    _ => "{human_len}",
                };
                format!(
                    "{{msg}} [{{bar:30}}] {count}/{len} {} {{eta}}",
                    unit_name(unit)
                )
            }
            None => format!(
                "{{spinner}} {{msg}} {count} {} {{elapsed}}",
                unit_name(unit)
            ),
        };
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style.progress_chars("=> ").with_key(
                "eta",
                |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                    if let Some(t) = eta_text(s.elapsed(), s.pos(), s.eta()) {
                        let _ = w.write_str(&t);
                    }
                },
            ));
        }
        bar.reset();
        bar.set_length(total.unwrap_or(0));
        if total.is_none() {
            bar.unset_length();
            bar.enable_steady_tick(Duration::from_millis(120));
        } else {
            bar.disable_steady_tick();
        }
        bar.set_message(name.to_string());
    }
}

/// What a count is of, after the number (nothing for bytes: `{bytes}` says).
fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Bytes => "",
        Unit::Paths => "paths",
        Unit::Entries => "entries",
        Unit::Items => "items",
    }
}

/// The ETA to show: nothing until [`ETA_AFTER`] has passed and some work is done.
fn eta_text(elapsed: Duration, pos: u64, eta: Duration) -> Option<String> {
    (elapsed >= ETA_AFTER && pos > 0).then(|| format!("(ETA {})", HumanDuration(eta)))
}

impl Events for Bars {
    fn event(&self, event: &Event<'_>) {
        let Some(bar) = &self.bar else {
            return;
        };
        match *event {
            Event::Phase { name, total, unit } => Bars::phase(bar, name, total, unit),
            Event::Advance { amount } => bar.inc(amount),
            // Counting is the library's (Advance); a line per path would flood.
            Event::Path { .. } => {}
            Event::Warning { message } => bar.suspend(|| super::out::warning(message)),
            Event::Finished => bar.finish_and_clear(),
        }
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_eta_in_the_first_seconds() {
        // The first block of a build: tiny progress, a huge extrapolation.
        let five_days = Duration::from_secs(5 * 86_400);
        assert_eq!(eta_text(Duration::from_millis(200), 1, five_days), None);
        assert_eq!(eta_text(Duration::from_secs(10), 0, five_days), None);
        let t = eta_text(Duration::from_secs(4), 100, Duration::from_secs(30)).unwrap();
        assert!(t.contains("30 seconds"), "{t}");
    }

    #[test]
    fn every_event_is_taken_hidden_or_drawn() {
        for bars in [
            Bars { bar: None },
            Bars::drawing(ProgressDrawTarget::hidden()),
        ] {
            bars.event(&Event::Phase {
                name: "building",
                total: Some(10),
                unit: Unit::Bytes,
            });
            bars.event(&Event::Advance { amount: 4 });
            bars.event(&Event::Phase {
                name: "checking",
                total: None,
                unit: Unit::Paths,
            });
            bars.event(&Event::Path {
                action: 'A',
                path: "/a",
            });
            bars.event(&Event::Finished);
            if let Some(bar) = &bars.bar {
                assert!(bar.is_finished());
            }
        }
    }
}
