//! The breaker's state machine, without locks or clocks: every operation
//! takes `now`, so it is exact and testable on its own.

use std::{collections::VecDeque, fmt, time::Duration};

use crate::{
    config::Config,
    error::Rejected,
    stats::Stats,
    window::{Sliding, Totals},
};

/// Where a breaker is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Calls run; their outcomes are counted in the window.
    Closed,
    /// Calls are refused until the open period ends.
    Open,
    /// A few probe calls run; their rates decide closed or open.
    HalfOpen,
    /// An operator holds the breaker open: calls are refused, messages kept.
    ForcedOpen,
    /// An operator switched the breaker off: every call runs, nothing is counted.
    Disabled,
}

impl State {
    /// Whether buffered messages may drain in this state.
    pub fn drains(self) -> bool {
        matches!(self, Self::Closed | Self::Disabled)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half-open",
            Self::ForcedOpen => "forced open",
            Self::Disabled => "disabled",
        })
    }
}

#[derive(Debug)]
enum Phase {
    Closed,
    Open { until: Duration },
    HalfOpen { admitted: u32, totals: Totals },
    ForcedOpen,
    Disabled,
}

/// A ticket for one admitted call: which phase admitted it, as an
/// admission word (the epoch, and whether its outcome counts). One word, so
/// a permit held across an `.await` is three plain words.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ticket(u64);

/// The admission word's low bits: the phases that admit every call
/// without looking at anything else, so a call can be admitted from the
/// word alone, without the lock.
const ADMIT_COUNTED: u64 = 1;
const ADMIT_UNCOUNTED: u64 = 2;

impl Ticket {
    /// A half-open probe's ticket: counted, in phase `epoch`.
    fn probe(epoch: u64) -> Self {
        Self((epoch << 2) | ADMIT_COUNTED)
    }

    /// The ticket the word `admission` grants, if its phase admits every
    /// call (closed or disabled); `None` means "ask the core".
    #[inline]
    pub(crate) fn from_admission(admission: u64) -> Option<Self> {
        (admission & 3 != 0).then_some(Self(admission))
    }

    /// The epoch of the phase that admitted the call.
    fn epoch(self) -> u64 {
        self.0 >> 2
    }

    /// Whether the call's outcome counts toward the phase's rates.
    fn counted(self) -> bool {
        self.0 & ADMIT_COUNTED != 0
    }
}

/// What happened to an offered message.
pub(crate) enum Offered<M> {
    Deliver(M),
    Buffered { dropped: Option<M> },
    Full(M),
}

/// What [`CircuitBreaker::poll_drain`](crate::CircuitBreaker::poll_drain) gives.
#[derive(Debug, PartialEq, Eq)]
pub enum Drain<M> {
    /// The next buffered message, oldest first: deliver it now.
    Ready(M),
    /// The rate limit: ask again after this long.
    Wait(Duration),
    /// The breaker is in this state, which holds the buffer.
    Held(State),
    /// Nothing is buffered.
    Empty,
}

pub(crate) struct Core<M> {
    config: Config,
    phase: Phase,
    window: Sliding,
    epoch: u64,
    consecutive_trips: u32,
    rng: u64,
    buffer: VecDeque<M>,
    next_drain: Duration,
    pub(crate) stats: Stats,
    /// The last state sent to subscribers.
    pub(crate) published: State,
    failure_ppm: u64,
    slow_ppm: u64,
}

/// A rate in (0, 1] as parts per million, rounded up so a threshold is never
/// loosened by rounding.
fn rate_ppm(rate: f64) -> u64 {
    (rate * 1_000_000.0).ceil() as u64
}

impl<M> Core<M> {
    pub(crate) fn new(config: Config) -> Self {
        let config_rates = (config.failure_rate, config.slow_call_rate);
        Self {
            window: Sliding::new(config.window),
            rng: config.jitter_seed | 1,
            buffer: VecDeque::with_capacity(config.buffer_capacity.min(1024)),
            config,
            phase: Phase::Closed,
            epoch: 0,
            consecutive_trips: 0,
            next_drain: Duration::ZERO,
            stats: Stats::default(),
            published: State::Closed,
            failure_ppm: rate_ppm(config_rates.0),
            slow_ppm: rate_ppm(config_rates.1),
        }
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    /// The admission word: the epoch and whether this phase admits every
    /// call ([`Ticket::from_admission`]). Closed and disabled admit without
    /// a condition and change only by a transition, which bumps the epoch;
    /// so a ticket taken from a word published under the lock is the one
    /// [`acquire`](Self::acquire) would have given at that moment.
    pub(crate) fn admission(&self) -> u64 {
        let kind = match self.phase {
            Phase::Closed => ADMIT_COUNTED,
            Phase::Disabled => ADMIT_UNCOUNTED,
            Phase::Open { .. } | Phase::HalfOpen { .. } | Phase::ForcedOpen => 0,
        };
        (self.epoch << 2) | kind
    }

    /// The state at `now`: an open period that has ended reads as half-open.
    pub(crate) fn state(&mut self, now: Duration) -> State {
        self.refresh(now);
        self.state_now()
    }

    pub(crate) fn state_now(&self) -> State {
        match self.phase {
            Phase::Closed => State::Closed,
            Phase::Open { .. } => State::Open,
            Phase::HalfOpen { .. } => State::HalfOpen,
            Phase::ForcedOpen => State::ForcedOpen,
            Phase::Disabled => State::Disabled,
        }
    }

    /// Bumped by every transition.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Whether a success that is not slow would change nothing but
    /// `stats.calls`: closed, with a full count window of successes. Every
    /// outcome recorded then replaces a success with a success; any other
    /// phase counts it (a probe, say) or a stale ticket's outcome is
    /// ignored anyway.
    pub(crate) fn quiet(&self) -> bool {
        matches!(self.phase, Phase::Closed) && self.window.is_quiet()
    }

    pub(crate) fn buffered(&self) -> usize {
        self.buffer.len()
    }

    fn refresh(&mut self, now: Duration) {
        if let Phase::Open { until } = self.phase
            && now >= until
        {
            self.enter(Phase::HalfOpen {
                admitted: 0,
                totals: Totals::default(),
            });
        }
    }

    fn enter(&mut self, phase: Phase) {
        self.phase = phase;
        self.epoch += 1;
        self.window.reset();
    }

    /// Admits a call or says why not.
    pub(crate) fn acquire(&mut self, now: Duration) -> Result<Ticket, Rejected> {
        match &mut self.phase {
            // The word a closed or disabled breaker publishes is its ticket.
            Phase::Closed | Phase::Disabled => return Ok(Ticket(self.admission())),
            Phase::ForcedOpen => {
                self.stats.rejected += 1;
                return Err(Rejected {
                    state: State::ForcedOpen,
                    retry_after: None,
                });
            }
            Phase::Open { .. } | Phase::HalfOpen { .. } => {}
        }
        self.refresh(now);
        let epoch = self.epoch;
        match &mut self.phase {
            Phase::Open { until } => {
                let retry_after = Some(until.saturating_sub(now));
                self.stats.rejected += 1;
                Err(Rejected {
                    state: State::Open,
                    retry_after,
                })
            }
            Phase::HalfOpen { admitted, .. } if *admitted < self.config.half_open_probes => {
                *admitted += 1;
                Ok(Ticket::probe(epoch))
            }
            _ => {
                self.stats.rejected += 1;
                Err(Rejected {
                    state: State::HalfOpen,
                    retry_after: Some(Duration::ZERO),
                })
            }
        }
    }

    /// Counts the outcome of an admitted call that ended at `now_nanos`
    /// (the clock's nanoseconds); the caller decided whether it was slow,
    /// so the closed path does no `Duration` arithmetic.
    #[inline]
    pub(crate) fn record(&mut self, now_nanos: u64, ticket: Ticket, failure: bool, slow: bool) {
        self.stats.calls += 1;
        self.stats.failures += u64::from(failure);
        self.stats.slow += u64::from(slow);
        if !ticket.counted() || ticket.epoch() != self.epoch {
            return;
        }
        match &mut self.phase {
            Phase::Closed => {
                let totals = self.window.record(now_nanos, failure, slow);
                if totals.calls >= self.config.minimum_calls && self.exceeds(totals) {
                    self.trip(Duration::from_nanos(now_nanos));
                }
            }
            Phase::HalfOpen { totals, .. } => {
                totals.calls += 1;
                totals.failures += u32::from(failure);
                totals.slow += u32::from(slow);
                let totals = *totals;
                if totals.calls >= self.config.half_open_probes {
                    let now = Duration::from_nanos(now_nanos);
                    if self.exceeds(totals) {
                        self.trip(now);
                    } else {
                        self.close(now);
                    }
                }
            }
            Phase::Open { .. } | Phase::ForcedOpen | Phase::Disabled => {}
        }
    }

    /// An admitted call that ended without an outcome (cancelled, or its
    /// future panicked): a probe slot is given back, nothing is counted.
    pub(crate) fn abandon(&mut self, ticket: Ticket) {
        self.stats.abandoned += 1;
        if ticket.epoch() == self.epoch
            && let Phase::HalfOpen { admitted, .. } = &mut self.phase
        {
            *admitted -= 1;
        }
    }

    /// Whether a rate reached its threshold, in integers (rates as parts
    /// per million): no float division on the closed path.
    fn exceeds(&self, totals: Totals) -> bool {
        let calls = u64::from(totals.calls.max(1));
        u64::from(totals.failures) * 1_000_000 >= self.failure_ppm * calls
            || u64::from(totals.slow) * 1_000_000 >= self.slow_ppm * calls
    }

    fn trip(&mut self, now: Duration) {
        self.consecutive_trips = self.consecutive_trips.saturating_add(1);
        self.stats.trips += 1;
        let period = self.open_period();
        self.enter(Phase::Open {
            until: now.saturating_add(period),
        });
    }

    /// base × multiplier^(trips − 1), capped at max, then scaled by a
    /// jitter factor in [1 − jitter, 1 + jitter].
    fn open_period(&mut self) -> Duration {
        let config = &self.config;
        let exponent = self.consecutive_trips.saturating_sub(1).min(64);
        let growth = config.open_multiplier.saturating_pow(exponent);
        let period = config.open_base.saturating_mul(growth).min(config.open_max);
        // xorshift64: deterministic per seed, good enough to spread probes.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let unit = (self.rng >> 11) as f64 / (1u64 << 53) as f64;
        let factor = 1.0 - config.jitter + 2.0 * config.jitter * unit;
        period.mul_f64(factor).max(Duration::from_nanos(1))
    }

    fn close(&mut self, now: Duration) {
        self.consecutive_trips = 0;
        self.enter(Phase::Closed);
        // Draining starts at once: a closed breaker with a buffer always
        // has a drain due within one interval.
        self.next_drain = now;
    }

    /// Operator: hold the breaker open until [`reset`](Self::reset).
    pub(crate) fn force_open(&mut self) {
        self.enter(Phase::ForcedOpen);
    }

    /// Operator: switch counting off; every call runs, the buffer drains.
    pub(crate) fn disable(&mut self, now: Duration) {
        self.enter(Phase::Disabled);
        self.next_drain = now;
    }

    /// Operator: back to closed with an empty window and no trip history.
    pub(crate) fn reset(&mut self, now: Duration) {
        self.close(now);
    }

    /// Operator: trip now, as if the window had exceeded a rate.
    pub(crate) fn trip_now(&mut self, now: Duration) {
        self.trip(now);
    }

    /// A message goes straight through only when the breaker drains and
    /// nothing older is waiting; otherwise it queues behind the buffer.
    pub(crate) fn offer(&mut self, now: Duration, message: M, drop_oldest: bool) -> Offered<M> {
        self.refresh(now);
        if self.buffer.is_empty() && self.state_now().drains() {
            return Offered::Deliver(message);
        }
        if self.buffer.len() < self.config.buffer_capacity {
            self.buffer.push_back(message);
            self.stats.buffered += 1;
            return Offered::Buffered { dropped: None };
        }
        if drop_oldest {
            let dropped = self.buffer.pop_front();
            self.buffer.push_back(message);
            self.stats.buffered += 1;
            self.stats.dropped += 1;
            Offered::Buffered { dropped }
        } else {
            self.stats.refused += 1;
            Offered::Full(message)
        }
    }

    pub(crate) fn poll_drain(&mut self, now: Duration) -> Drain<M> {
        self.refresh(now);
        if self.buffer.is_empty() {
            return Drain::Empty;
        }
        let state = self.state_now();
        if !state.drains() {
            return Drain::Held(state);
        }
        if now < self.next_drain {
            return Drain::Wait(self.next_drain - now);
        }
        self.next_drain = now.saturating_add(self.config.drain_interval);
        match self.buffer.pop_front() {
            Some(message) => {
                self.stats.drained += 1;
                Drain::Ready(message)
            }
            None => Drain::Empty,
        }
    }
}
