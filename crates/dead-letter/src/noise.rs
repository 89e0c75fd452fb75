//! Noise control: the cap on warnings per interval, counting what it holds back.

use crate::{
    ConfigError,
    clock::{Clock, LimiterClock},
    sync::{Arc, Mutex, lock},
};
use foundation_rate_limiter::DirectLimiter;

/// Decides which new entries are logged.
pub(crate) struct Noise {
    limiter: Option<DirectLimiter<LimiterClock>>,
    /// Warnings held back since the last one emitted.
    held_back: Mutex<u64>,
}

impl Noise {
    pub(crate) fn new(
        cap: Option<foundation_rate_limiter::Config>,
        clock: &Arc<dyn Clock>,
    ) -> Result<Self, ConfigError> {
        let limiter = cap
            .map(|cap| DirectLimiter::with_clock(cap, LimiterClock::new(Arc::clone(clock))))
            .transpose()?;
        Ok(Self {
            limiter,
            held_back: Mutex::new(0),
        })
    }

    /// `Some(held back since the last warning)` if this entry may be
    /// logged, `None` if the cap holds it back.
    pub(crate) fn admit(&self) -> Option<u64> {
        let mut held_back = lock(&self.held_back);
        if self
            .limiter
            .as_ref()
            .is_none_or(|limiter| limiter.check().is_allowed())
        {
            Some(std::mem::take(&mut *held_back))
        } else {
            *held_back += 1;
            None
        }
    }
}
