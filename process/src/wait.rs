//! Polling a condition until it holds or a deadline passes: the one wait helper of the
//! workspace (the demo, the end-to-end harness, the reliability bench, the node's tests).

use std::time::{Duration, Instant};

/// The longest pause between two polls of [`wait_for`]: the pause starts at 1 ms and doubles up
/// to this, so a quick condition is seen at once and a slow one costs few probes (a probe is
/// often an HTTP request to a node).
pub const POLL_PAUSE_MAX: Duration = Duration::from_millis(50);

/// The pause before the second poll.
const POLL_PAUSE_FIRST: Duration = Duration::from_millis(1);

/// A condition that did not hold before its deadline.
#[derive(Debug, thiserror::Error)]
#[error("timed out after {timeout:?} waiting for {what}")]
pub struct TimedOut {
    /// How long was waited.
    pub timeout: Duration,
    /// What was awaited, in words ("the node to start").
    pub what: String,
}

/// Polls `probe` until it yields a value, or fails once `timeout` has passed. `what` names the
/// awaited thing for the error.
pub fn wait_for<T>(
    timeout: Duration,
    what: &str,
    probe: impl FnMut() -> Option<T>,
) -> Result<T, TimedOut> {
    wait_for_polling(timeout, what, POLL_PAUSE_MAX, probe)
}

/// Polls `condition` until it holds, or fails once `timeout` has passed.
pub fn wait_until(
    timeout: Duration,
    what: &str,
    mut condition: impl FnMut() -> bool,
) -> Result<(), TimedOut> {
    wait_for(timeout, what, || condition().then_some(()))
}

/// [`wait_for`] with another longest pause between polls: a benchmark that measures how long
/// a condition took needs a finer step than [`POLL_PAUSE_MAX`].
pub fn wait_for_polling<T>(
    timeout: Duration,
    what: &str,
    pause_max: Duration,
    mut probe: impl FnMut() -> Option<T>,
) -> Result<T, TimedOut> {
    let deadline = Instant::now() + timeout;
    let mut pause = POLL_PAUSE_FIRST.min(pause_max);
    loop {
        if let Some(value) = probe() {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            return Err(TimedOut {
                timeout,
                what: what.to_owned(),
            });
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(pause_max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yields_the_first_value_the_probe_gives() {
        let mut polls = 0;
        let value = wait_for(Duration::from_secs(5), "the third poll", || {
            polls += 1;
            (polls == 3).then_some(polls)
        });
        assert_eq!(value.unwrap(), 3);
    }

    #[test]
    fn times_out_naming_what_it_waited_for() {
        let error = wait_until(Duration::from_millis(20), "never", || false).unwrap_err();
        assert_eq!(error.what, "never");
        assert!(error.to_string().contains("waiting for never"), "{error}");
    }
}
