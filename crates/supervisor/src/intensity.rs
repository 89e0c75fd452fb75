//! Restart intensity: the sliding window of recent restarts (OTP's
//! `add_restart`).

use std::collections::VecDeque;

use foundation_mailbox::{ExitReason, Pid};
use tokio::time::Instant;

use crate::{INTENSITY_REACHED, Intensity};

/// The times of the restarts still inside the intensity period.
#[derive(Debug)]
pub(crate) struct RestartLog {
    intensity: Intensity,
    restarts: VecDeque<Instant>,
}

impl RestartLog {
    pub(crate) fn new(intensity: Intensity) -> Self {
        Self {
            intensity,
            restarts: VecDeque::new(),
        }
    }

    /// Records a restart by `supervisor` now, on its runtime's clock (a
    /// manual time a test installed there moves it). When it is one more than the
    /// intensity allows, reports it and returns the reason the supervisor
    /// must exit with.
    pub(crate) fn add(&mut self, supervisor: Pid) -> Result<(), ExitReason> {
        if self.add_at(foundation_mailbox::time::now()) {
            return Ok(());
        }
        crate::metrics::intensity_reached();
        tracing::error!(target: "foundation::supervisor", %supervisor, "reached maximum restart intensity: shutting down");
        Err(ExitReason::shutdown_because(INTENSITY_REACHED))
    }

    /// Records a restart at `now`; `false` when it is one too many.
    fn add_at(&mut self, now: Instant) -> bool {
        self.restarts.push_back(now);
        // OTP keeps a restart while `now - then <= period`.
        while let Some(&oldest) = self.restarts.front() {
            if now.duration_since(oldest) > self.intensity.period {
                self.restarts.pop_front();
            } else {
                break;
            }
        }
        self.restarts.len() <= self.intensity.max_restarts as usize
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_restart_past_the_limit_within_the_period_trips() {
        let start = Instant::now();
        let mut log = RestartLog::new(Intensity::new(3, Duration::from_secs(5)));
        assert!(log.add_at(start));
        assert!(log.add_at(start + Duration::from_secs(1)));
        assert!(log.add_at(start + Duration::from_secs(2)));
        assert!(!log.add_at(start + Duration::from_secs(5)), "4 in 5 s");
    }

    #[test]
    fn restarts_older_than_the_period_no_longer_count() {
        let start = Instant::now();
        let mut log = RestartLog::new(Intensity::new(3, Duration::from_secs(5)));
        for second in 0..3 {
            assert!(log.add_at(start + Duration::from_secs(second)));
        }
        // The first restart is 5.5 s old now: out of the window.
        assert!(log.add_at(start + Duration::from_millis(5_500)));
    }

    #[test]
    fn zero_intensity_allows_no_restart() {
        let mut log = RestartLog::new(Intensity::new(0, Duration::from_secs(5)));
        assert!(!log.add_at(Instant::now()));
    }
}
