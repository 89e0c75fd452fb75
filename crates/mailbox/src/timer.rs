//! An actor's timers: `send_after`, `interval` and cancel, owned by the actor and gone with it.
//!
//! Shaped like Akka's `TimerScheduler`. Each timer has a key chosen by the
//! actor; starting a timer under a key that is in use replaces the old one.
//! The actor's *timer table* lives in its [`Context`] (and in its dormant
//! state between activations), so only the actor itself can start or
//! cancel its timers, and no lock guards them.
//!
//! Each start gives the timer a fresh id. The waiting is done by the
//! runtime's one [timer service](service), which knows ids and processes,
//! never messages: when a timer comes due it puts a tick carrying the id in
//! the actor's system lane, where it takes its place behind the user
//! messages already queued. The message loop asks the table for the id:
//! a cancelled or replaced timer is no longer there, so its tick is dropped
//! before any handler sees it, even if it was already queued. That is the
//! guarantee that a cancel is final.
//!
//! An interval is re-armed when its tick is handled, not when it is sent,
//! so a slow actor never has more than one tick of a timer queued, and the
//! ticks it is sent bypass the mailbox's bound without growing it.

use std::{
    any::Any,
    collections::HashMap,
    fmt,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::time::Instant;

pub(crate) use self::service::{TimerService, TimerTarget, TimerTick};
use crate::{Actor, Context, process::Process, system::Signal};

mod service;

// A plain std atomic, not the loom shim: it only hands out unique numbers.
static NEXT_TIMER: AtomicU64 = AtomicU64::new(1);

/// A timer key: any comparable value (a `&'static str`, an enum, an id).
trait TimerKey: Any + Send + fmt::Debug {
    fn same_as(&self, other: &dyn Any) -> bool;
}

impl<K: PartialEq + Any + Send + fmt::Debug> TimerKey for K {
    fn same_as(&self, other: &dyn Any) -> bool {
        other.downcast_ref::<K>() == Some(self)
    }
}

/// What a timer delivers when it comes due.
enum Payload<A: Actor> {
    Once(A::Msg),
    Every {
        period: Duration,
        message: Box<dyn Fn() -> A::Msg + Send>,
    },
}

struct Entry<A: Actor> {
    key: Box<dyn TimerKey>,
    due: Instant,
    payload: Payload<A>,
}

struct Table<A: Actor> {
    service: Arc<TimerService>,
    /// By timer id: the id a tick carries.
    entries: HashMap<u64, Entry<A>>,
}

/// An actor's timer table. Empty (one null pointer) until the first timer.
pub(crate) struct Timers<A: Actor> {
    // A `Mutex` only to make the table `Sync`, so a `&Context` may be held
    // across an await: it is reached through `get_mut` and never locked.
    table: Option<Box<Mutex<Table<A>>>>,
}

impl<A: Actor> Default for Timers<A> {
    fn default() -> Self {
        Self { table: None }
    }
}

impl<A: Actor> fmt::Debug for Timers<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let active = self
            .table
            .as_ref()
            .map_or(0, |table| lock(table).entries.len());
        f.debug_struct("Timers").field("active", &active).finish()
    }
}

/// `start + delay`, or about thirty years from `start` if that overflows
/// (as tokio does for a sleep of `Duration::MAX`): never a panic.
fn after(start: Instant, delay: Duration) -> Instant {
    const FAR: Duration = Duration::from_secs(86_400 * 365 * 30);
    start.checked_add(delay).unwrap_or_else(|| start + FAR)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn table_mut<T>(mutex: &mut Mutex<T>) -> &mut T {
    mutex.get_mut().unwrap_or_else(PoisonError::into_inner)
}

impl<A: Actor> Timers<A> {
    fn table(&mut self, process: &Arc<Process<A>>) -> &mut Table<A> {
        let table = self.table.get_or_insert_with(|| {
            Box::new(Mutex::new(Table {
                service: Arc::clone(process.host().timers()),
                entries: HashMap::new(),
            }))
        });
        table_mut(table)
    }

    fn start(
        &mut self,
        process: &Arc<Process<A>>,
        key: Box<dyn TimerKey>,
        delay: Duration,
        payload: Payload<A>,
    ) {
        self.cancel(&*key as &dyn Any);
        let id = NEXT_TIMER.fetch_add(1, Ordering::Relaxed);
        // The runtime's clock: tokio's, or a manual time a test installed.
        let due = after(process.host().clock().now(), delay);
        let table = self.table(process);
        table.entries.insert(id, Entry { key, due, payload });
        table.service.schedule(id, due, Arc::clone(process) as _);
    }

    fn find(&self, key: &dyn Any) -> Option<u64> {
        let table = self.table.as_ref()?;
        lock(table)
            .entries
            .iter()
            .find(|(_, entry)| entry.key.same_as(key))
            .map(|(id, _)| *id)
    }

    fn cancel(&mut self, key: &dyn Any) -> bool {
        let Some(id) = self.find(key) else {
            return false;
        };
        let Some(table) = self.table.as_mut() else {
            return false;
        };
        let table = table_mut(table);
        table.entries.remove(&id);
        table.service.cancel(id);
        true
    }

    #[cold]
    fn cancel_all(&mut self) {
        if let Some(table) = self.table.as_mut() {
            let table = table_mut(table);
            for (id, _) in table.entries.drain() {
                table.service.cancel(id);
            }
        }
    }

    /// The message for a tick, if its timer still stands; an interval is
    /// re-armed for its next period. `None` for the tick of a timer that
    /// was cancelled or replaced: the loop drops it unseen.
    pub(crate) fn fire(&mut self, tick: TimerTick, process: &Arc<Process<A>>) -> Option<A::Msg> {
        let table = table_mut(self.table.as_mut()?);
        let entry = table.entries.get_mut(&tick.0)?;
        match &entry.payload {
            Payload::Once(_) => match table.entries.remove(&tick.0)?.payload {
                Payload::Once(message) => Some(message),
                Payload::Every { .. } => None,
            },
            Payload::Every { period, message } => {
                // A tick handled late delays the next one; ticks never pile up.
                let now = process.host().clock().now();
                let mut next = after(entry.due, *period);
                if next <= now {
                    next = after(now, *period);
                }
                entry.due = next;
                let message = message();
                table
                    .service
                    .schedule(tick.0, next, Arc::clone(process) as _);
                Some(message)
            }
        }
    }
}

impl<A: Actor> Drop for Timers<A> {
    /// The actor is gone (or its state is): so are its timers. Most actors
    /// never start one, and their contexts are made and dropped on every
    /// start and stop: that case is one test, in line.
    #[inline]
    fn drop(&mut self) {
        if self.table.is_some() {
            self.cancel_all();
        }
    }
}

impl<A: Actor> TimerTarget for Process<A> {
    fn tick(&self, tick: TimerTick) {
        if self.signal(Signal::Timer(tick), false).is_err() {
            tracing::trace!(target: "foundation::mailbox", pid = %self.pid, "timer tick for an exited actor dropped");
        }
    }
}

/// Timers, owned by the actor: they live in its context and are cancelled
/// when it exits.
impl<A: Actor> Context<A> {
    /// Sends `message` to this actor once, after `delay`, as a cast handled
    /// in order with other messages. A timer already running under `key` is
    /// replaced: its tick, even one already queued, is never delivered.
    ///
    /// A key is any `PartialEq` value; keys match by type and value, so a
    /// timer started under a `String` is not found with a `&str`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use foundation::mailbox::{Actor, Context, Reply, start};
    ///
    /// #[derive(Debug)]
    /// struct Session { expired: bool }
    ///
    /// #[derive(Debug)]
    /// enum Msg { Touch, Expire, Expired(Reply<bool>) }
    ///
    /// impl Actor for Session {
    ///     type Args = ();
    ///     type Msg = Msg;
    ///     type Error = std::convert::Infallible;
    ///
    ///     async fn init((): (), ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
    ///         ctx.send_after("idle", Duration::from_secs(30), Msg::Expire);
    ///         Ok(Session { expired: false })
    ///     }
    ///
    ///     async fn handle(&mut self, msg: Msg, ctx: &mut Context<Self>) -> Result<(), Self::Error> {
    ///         match msg {
    ///             // Restarting the timer under the same key replaces it.
    ///             Msg::Touch => ctx.send_after("idle", Duration::from_secs(30), Msg::Expire),
    ///             Msg::Expire => self.expired = true,
    ///             Msg::Expired(reply) => reply.send(self.expired).unwrap_or_default(),
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let (session, _handle) = start::<Session>(()).await.unwrap();
    /// let expired = || session.call(Msg::Expired, Duration::from_secs(1));
    /// // On paused time (as in tests), a sleep moves the clock at once.
    /// tokio::time::sleep(Duration::from_secs(20)).await;
    /// session.cast(Msg::Touch).await.unwrap();
    /// tokio::time::sleep(Duration::from_secs(20)).await;
    /// assert!(!expired().await.unwrap());
    /// tokio::time::sleep(Duration::from_secs(11)).await;
    /// assert!(expired().await.unwrap());
    /// # }
    /// ```
    pub fn send_after<K, M>(&mut self, key: K, delay: Duration, message: M)
    where
        K: PartialEq + fmt::Debug + Send + 'static,
        M: Into<A::Msg>,
    {
        let process = Arc::clone(&self.myself().process);
        self.timers.start(
            &process,
            Box::new(key),
            delay,
            Payload::Once(message.into()),
        );
    }

    /// Sends `message` to this actor every `period`, the first time one
    /// `period` from now, until the timer is cancelled, replaced or the actor
    /// exits. The next tick is armed when a tick is handled, so a slow actor
    /// has at most one tick of this timer queued; a tick handled more than
    /// a period late delays the ones after it instead of bursting.
    ///
    /// A zero `period` is refused with [`TimerError::ZeroPeriod`](crate::TimerError::ZeroPeriod),
    /// and any timer already under `key` is left as it was.
    pub fn interval<K, M>(
        &mut self,
        key: K,
        period: Duration,
        message: M,
    ) -> Result<(), crate::TimerError>
    where
        K: PartialEq + fmt::Debug + Send + 'static,
        M: Into<A::Msg> + Clone + Send + 'static,
    {
        if period.is_zero() {
            return Err(crate::TimerError::ZeroPeriod);
        }
        let process = Arc::clone(&self.myself().process);
        let message = Box::new(move || message.clone().into());
        self.timers.start(
            &process,
            Box::new(key),
            period,
            Payload::Every { period, message },
        );
        Ok(())
    }

    /// Cancels the timer under `key`. Its tick is never delivered, even if
    /// it is already queued. Returns whether there was such a timer.
    pub fn cancel_timer<K>(&mut self, key: &K) -> bool
    where
        K: PartialEq + fmt::Debug + Send + 'static,
    {
        self.timers.cancel(key)
    }

    /// Cancels every timer of this actor.
    pub fn cancel_all_timers(&mut self) {
        self.timers.cancel_all();
    }

    /// Whether a timer runs under `key`: a single timer not yet handled,
    /// or an interval not cancelled.
    pub fn has_timer<K>(&self, key: &K) -> bool
    where
        K: PartialEq + fmt::Debug + Send + 'static,
    {
        self.timers.find(key).is_some()
    }
}

#[cfg(all(test, not(foundation_loom)))]
mod tests;
