//! [`CircuitBreaker`]: the state machine behind one lock, with a clock,
//! state-change events, calls, permits and the message buffer.

use std::{any::Any, fmt, future::Future, mem::ManuallyDrop, sync::Arc, time::Duration};

use foundation_mailbox::{DeadLetter, DeadLetterReason, DeadLetterSink, MessageKind, Pid};
use tokio::sync::watch;

use crate::{
    clock::{BreakerClock, Clock, MonotonicClock},
    config::Config,
    core::{Core, Drain, Offered, State, Ticket},
    error::{BufferFull, CallError, ConfigError, Rejected},
    stats::Stats,
    sync::{AtomicBool, AtomicU64, Mutex, MutexGuard, Ordering, PoisonError},
};

type DropSink<M> = Arc<dyn Fn(M) + Send + Sync>;

/// A circuit breaker: stops calling a dependency that keeps failing or
/// answering slowly, probes it after a growing pause, and keeps messages
/// meant for it in a bounded buffer that drains in order once it recovers.
///
/// `M` is the type of message [`offer`](Self::offer) buffers; use `()` when
/// only [`call`](Self::call) is needed.
///
/// ```
/// use foundation::circuit_breaker::{CallError, CircuitBreaker, Config};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let breaker = CircuitBreaker::<()>::new(Config::default()).unwrap();
/// let answer = breaker.call(|| async { Ok::<_, std::io::Error>(42) }).await;
/// assert_eq!(answer.unwrap(), 42);
/// # });
/// ```
pub struct CircuitBreaker<M = ()> {
    core: Mutex<Core<M>>,
    /// The core's [`admission`](Core::admission) word, republished under
    /// the lock after every change, so a closed breaker admits a call
    /// with one atomic load instead of a lock.
    admission: AtomicU64,
    /// The core's [`quiet`](Core::quiet) flag, republished under the lock
    /// after every operation on the core: while it is set, a success that
    /// is not slow changes nothing but the call count, so it is counted in
    /// `quiet_calls` without the lock.
    quiet: AtomicBool,
    /// Successes counted through the quiet flag (added to `Stats::calls`).
    quiet_calls: AtomicU64,
    /// The slow-call threshold in nanoseconds: [`report`](Self::report)
    /// decides slowness, with or without the lock.
    slow_nanos: u64,
    clock: BreakerClock,
    events: watch::Sender<State>,
    drop_sink: Option<DropSink<M>>,
    name: Arc<str>,
}

impl<M> fmt::Debug for CircuitBreaker<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("name", &self.name)
            .field("state", &*self.events.borrow())
            .finish_non_exhaustive()
    }
}

impl<M> CircuitBreaker<M> {
    /// A closed breaker, or the first field of `config` out of range.
    ///
    /// The buffer rejects new messages when full; see
    /// [`drop_oldest`](Self::drop_oldest) for the other policy.
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        config.validate()?;
        let slow_nanos = config.slow_call_nanos();
        let core = Core::new(config);
        Ok(Self {
            admission: AtomicU64::new(core.admission()),
            quiet: AtomicBool::new(false),
            quiet_calls: AtomicU64::new(0),
            slow_nanos,
            core: Mutex::new(core),
            clock: BreakerClock::Monotonic(MonotonicClock::new()),
            events: watch::Sender::new(State::Closed),
            drop_sink: None,
            name: Arc::from("circuit-breaker"),
        })
    }

    /// Reads time from `clock` (a [`ManualClock`](crate::ManualClock) or
    /// [`TokioClock`](crate::TokioClock) in tests).
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = BreakerClock::Custom(Arc::new(clock));
        self
    }

    /// Names the breaker in its tracing events.
    pub fn named(mut self, name: &str) -> Self {
        self.name = Arc::from(name);
        self
    }

    /// When the buffer is full, drop its oldest message into `sink` to make
    /// room (counted in [`Stats::dropped`]), instead of giving the new one back.
    pub fn drop_oldest(mut self, sink: impl Fn(M) + Send + Sync + 'static) -> Self {
        self.drop_sink = Some(Arc::new(sink));
        self
    }

    fn lock(&self) -> MutexGuard<'_, Core<M>> {
        // No user code runs under the lock, so a poisoned lock still holds a
        // consistent state machine.
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the core under the lock. A transition is published to
    /// subscribers under the lock (so they see changes in order) and traced
    /// after it (a tracing subscriber is user code).
    ///
    /// Every transition bumps the core's epoch, so an operation that leaves
    /// the epoch alone (a call counted in a closed window, the common case)
    /// skips the publishing.
    #[inline]
    fn with_core<R>(&self, f: impl FnOnce(&mut Core<M>, Duration) -> R) -> R {
        let now = Duration::from_nanos(self.clock.now_nanos());
        self.locked(|core| f(core, now))
    }

    /// [`with_core`](Self::with_core) for an operation that has read the
    /// clock itself, or needs no time.
    #[inline]
    fn locked<R>(&self, f: impl FnOnce(&mut Core<M>) -> R) -> R {
        let (result, change) = {
            let mut core = self.lock();
            let epoch = core.epoch();
            let result = f(&mut core);
            // An outcome or a transition may have changed whether the
            // window is quiet; either happens only under this lock.
            let quiet = core.quiet();
            if self.quiet.load(Ordering::Relaxed) != quiet {
                self.quiet.store(quiet, Ordering::Release);
            }
            let change = (core.epoch() != epoch)
                .then(|| self.publish(&mut core))
                .flatten();
            (result, change)
        };
        if let Some((from, to)) = change {
            tracing::info!(
                target: "foundation::circuit_breaker",
                breaker = %self.name,
                %from,
                %to,
                "circuit breaker changed state"
            );
        }
        result
    }

    /// After a transition, under the lock: republishes the admission word
    /// and sends the new state to subscribers if it differs from the last
    /// one sent. Returns that change, to be traced outside the lock.
    #[cold]
    fn publish(&self, core: &mut Core<M>) -> Option<(State, State)> {
        self.admission.store(core.admission(), Ordering::Release);
        let after = core.state_now();
        (core.published != after).then(|| {
            let before = std::mem::replace(&mut core.published, after);
            self.events.send_replace(after);
            (before, after)
        })
    }

    /// The state now (an ended open period reads as half-open).
    pub fn state(&self) -> State {
        self.with_core(|core, now| core.state(now))
    }

    /// Counters since creation.
    pub fn stats(&self) -> Stats {
        let mut stats = self.lock().stats;
        stats.calls += self.quiet_calls.load(Ordering::Relaxed);
        stats
    }

    /// Counts the outcome of a call admitted with `ticket` that ended at
    /// `end` after `elapsed` (clock nanoseconds).
    ///
    /// A success that is not slow, reported while the window is quiet (a
    /// full count window of successes), would only replace a success with
    /// a success: it is counted without the lock. The flag is read once;
    /// a failure racing it is a concurrent outcome, and either order is
    /// one the breaker could have seen.
    #[inline(always)]
    fn report(&self, ticket: Ticket, failure: bool, end: u64, elapsed: u64) {
        let slow = elapsed >= self.slow_nanos;
        if !failure && !slow && self.quiet.load(Ordering::Acquire) {
            self.quiet_calls.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.locked(|core| core.record(end, ticket, failure, slow));
    }

    /// Messages waiting in the buffer.
    pub fn buffered(&self) -> usize {
        self.lock().buffered()
    }

    /// A receiver of state changes. It holds only the latest state (a
    /// `tokio::sync::watch`), so a slow subscriber never holds memory or the
    /// breaker back; it sees every change it is awake for.
    ///
    /// ```
    /// use foundation::circuit_breaker::{CircuitBreaker, Config, State};
    ///
    /// let breaker = CircuitBreaker::<()>::new(Config::default()).unwrap();
    /// let mut changes = breaker.subscribe();
    /// breaker.force_open();
    /// assert!(changes.has_changed().unwrap());
    /// assert_eq!(*changes.borrow_and_update(), State::ForcedOpen);
    /// ```
    pub fn subscribe(&self) -> watch::Receiver<State> {
        self.events.subscribe()
    }

    /// Admits one call, or says why not. Report its outcome on the
    /// [`Permit`]; a permit dropped without one gives its slot back.
    ///
    /// ```
    /// use foundation::circuit_breaker::{CircuitBreaker, Config};
    ///
    /// let breaker = CircuitBreaker::<()>::new(Config::default()).unwrap();
    /// let permit = breaker.try_acquire().unwrap();
    /// permit.success();
    /// assert_eq!(breaker.stats().calls, 1);
    /// ```
    #[inline(always)]
    pub fn try_acquire(&self) -> Result<Permit<'_, M>, Rejected> {
        // Closed or disabled: admitted from the published word, no lock.
        // A transition racing this load bumps the epoch, and the outcome
        // of a ticket from an older epoch counts in no later phase.
        if let Some(ticket) = Ticket::from_admission(self.admission.load(Ordering::Acquire)) {
            return Ok(Permit {
                breaker: self,
                ticket,
                start: self.clock.now_nanos(),
            });
        }
        self.acquire_locked()
    }

    /// Open, half-open or forced open: the core decides, under the lock.
    #[inline(never)]
    fn acquire_locked(&self) -> Result<Permit<'_, M>, Rejected> {
        let now = self.clock.now_nanos();
        let ticket = self.locked(|core| core.acquire(Duration::from_nanos(now)))?;
        Ok(Permit {
            breaker: self,
            ticket,
            start: now,
        })
    }

    /// Runs `operation` if the breaker admits it; every `Err` counts as a
    /// failure. Use [`call_with`](Self::call_with) to choose which do.
    ///
    /// Cancel-safe: dropping the future before it ends (or a panic in
    /// `operation`) counts no outcome and gives a half-open probe slot back.
    pub async fn call<F, Fut, T, E>(&self, operation: F) -> Result<T, CallError<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        // Not `call_with(operation, |_| true)`: one future fewer around the
        // operation is a measurable part of the closed path's cost.
        let permit = self.try_acquire()?;
        let result = operation().await;
        permit.record(result.is_err());
        result.map_err(CallError::Failed)
    }

    /// Runs `operation` if the breaker admits it; `is_failure` decides which
    /// errors count against the dependency (an error it rejects counts as a
    /// success, as resilience4j's `recordExceptions` does).
    ///
    /// Cancel-safe, as [`call`](Self::call).
    ///
    /// ```
    /// use std::io;
    /// use foundation::circuit_breaker::{CircuitBreaker, Config};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let breaker = CircuitBreaker::<()>::new(Config::default()).unwrap();
    /// // A "not found" is the caller's problem, not the dependency's.
    /// let result = breaker
    ///     .call_with(
    ///         || async { Err::<(), _>(io::Error::from(io::ErrorKind::NotFound)) },
    ///         |error| error.kind() != io::ErrorKind::NotFound,
    ///     )
    ///     .await;
    /// assert!(result.is_err());
    /// assert_eq!(breaker.stats().failures, 0);
    /// # });
    /// ```
    pub async fn call_with<F, Fut, T, E, P>(
        &self,
        operation: F,
        is_failure: P,
    ) -> Result<T, CallError<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        P: FnOnce(&E) -> bool,
    {
        let permit = self.try_acquire()?;
        let result = operation().await;
        permit.record(result.as_ref().is_err_and(is_failure));
        result.map_err(CallError::Failed)
    }

    /// Offers a message for the protected dependency.
    ///
    /// `Ok(Some(message))`: deliver it now (the breaker drains and nothing
    /// older waits). `Ok(None)`: buffered, to come out of
    /// [`poll_drain`](Self::poll_drain) in order. `Err(BufferFull)`: the
    /// buffer is full and rejects; the message is given back. With
    /// [`drop_oldest`](Self::drop_oldest), a full buffer drops its oldest
    /// message into the sink instead, outside the lock.
    ///
    /// ```
    /// use foundation::circuit_breaker::{CircuitBreaker, Config};
    ///
    /// let breaker = CircuitBreaker::<u32>::new(Config::default()).unwrap();
    /// assert_eq!(breaker.offer(1).unwrap(), Some(1)); // closed: deliver now
    /// breaker.force_open();
    /// assert_eq!(breaker.offer(2).unwrap(), None); // kept for later
    /// ```
    pub fn offer(&self, message: M) -> Result<Option<M>, BufferFull<M>> {
        let drop_oldest = self.drop_sink.is_some();
        match self.with_core(|core, now| core.offer(now, message, drop_oldest)) {
            Offered::Deliver(message) => Ok(Some(message)),
            Offered::Buffered { dropped } => {
                if let (Some(dropped), Some(sink)) = (dropped, &self.drop_sink) {
                    tracing::debug!(
                        target: "foundation::circuit_breaker",
                        breaker = %self.name,
                        "buffer full: oldest message dropped"
                    );
                    sink(dropped);
                }
                Ok(None)
            }
            Offered::Full(message) => Err(BufferFull(message)),
        }
    }

    /// The next buffered message once the breaker is closed (or disabled),
    /// oldest first, at most one per `drain_interval`. While the buffer is
    /// not empty, [`offer`](Self::offer) queues new messages behind it, so
    /// they never overtake it.
    ///
    /// ```
    /// use foundation::circuit_breaker::{CircuitBreaker, Config, Drain, State};
    ///
    /// let breaker = CircuitBreaker::<u32>::new(Config::default()).unwrap();
    /// breaker.force_open();
    /// breaker.offer(7).unwrap();
    /// assert_eq!(breaker.poll_drain(), Drain::Held(State::ForcedOpen));
    /// breaker.reset();
    /// assert_eq!(breaker.poll_drain(), Drain::Ready(7));
    /// ```
    pub fn poll_drain(&self) -> Drain<M> {
        self.with_core(|core, now| core.poll_drain(now))
    }

    /// Operator: hold the breaker open until [`reset`](Self::reset) or
    /// [`disable`](Self::disable).
    pub fn force_open(&self) {
        self.with_core(|core, _| core.force_open());
    }

    /// Operator: let every call through uncounted; the buffer drains.
    pub fn disable(&self) {
        self.with_core(|core, now| core.disable(now));
    }

    /// Operator: closed, with an empty window and no trip history; the
    /// buffer drains.
    pub fn reset(&self) {
        self.with_core(|core, now| core.reset(now));
    }

    /// Operator: open now, as a trip would (the open period grows).
    pub fn trip(&self) {
        self.with_core(|core, now| core.trip_now(now));
    }

    /// The configuration the breaker runs with.
    pub fn config(&self) -> Config {
        self.lock().config().clone()
    }
}

impl<M: Any + Send> CircuitBreaker<M> {
    /// [`drop_oldest`](Self::drop_oldest) into a mailbox
    /// [`DeadLetterSink`], as an overflow dead letter for `recipient`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use foundation::circuit_breaker::{CircuitBreaker, Config};
    /// use foundation::mailbox::{DefaultDeadLetterSink, Pid};
    ///
    /// let breaker = CircuitBreaker::<String>::new(Config::default())
    ///     .unwrap()
    ///     .dead_letter_oldest(Arc::new(DefaultDeadLetterSink), Pid::new());
    /// # let _ = breaker;
    /// ```
    pub fn dead_letter_oldest(self, sink: Arc<dyn DeadLetterSink>, recipient: Pid) -> Self {
        self.drop_oldest(move |message: M| {
            sink.dead_letter(DeadLetter {
                recipient,
                reason: DeadLetterReason::Overflow,
                kind: MessageKind::Cast,
                type_name: std::any::type_name::<M>(),
                message: Box::new(message),
            });
        })
    }
}

/// One admitted call. Report its outcome with [`success`](Self::success),
/// [`failure`](Self::failure) or [`record`](Self::record); dropping it
/// unreported (a cancelled or panicked call) counts nothing and gives a
/// half-open probe slot back.
#[must_use = "a permit reports the call's outcome; dropping it counts nothing"]
pub struct Permit<'a, M> {
    breaker: &'a CircuitBreaker<M>,
    ticket: Ticket,
    /// The breaker's clock when the call was admitted, in nanoseconds.
    start: u64,
}

impl<M> fmt::Debug for Permit<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("start", &Duration::from_nanos(self.start))
            .finish_non_exhaustive()
    }
}

impl<M> Permit<'_, M> {
    /// The call succeeded.
    #[inline]
    pub fn success(self) {
        self.record(false);
    }

    /// The call failed in a way that counts against the dependency.
    #[inline]
    pub fn failure(self) {
        self.record(true);
    }

    /// The call ended; `failure` says whether it counts as one. Its duration
    /// (from the permit) decides whether it was slow.
    // Always inlined: a permit is three words, passed by pointer to a call,
    // and copying it through memory in 16-byte moves stalls store
    // forwarding for more time than the rest of the update takes.
    #[inline(always)]
    pub fn record(self, failure: bool) {
        // Reported: the outcome is counted here, so `Drop` (which counts
        // an abandoned call) must not run.
        let this = ManuallyDrop::new(self);
        let (breaker, ticket, start) = (this.breaker, this.ticket, this.start);
        let end = breaker.clock.now_nanos();
        breaker.report(ticket, failure, end, end.saturating_sub(start));
    }
}

impl<M> Drop for Permit<'_, M> {
    fn drop(&mut self) {
        let ticket = self.ticket;
        self.breaker.locked(|core| core.abandon(ticket));
    }
}
