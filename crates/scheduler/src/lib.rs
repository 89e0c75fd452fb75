//! A scheduler for Foundation: send a message after a delay, at a fixed
//! rate, with a fixed delay between runs, or at the times a cron
//! expression names, through supervised send (retries with backoff, a dead
//! letter after the last attempt), with jobs that survive a restart.
//!
//! - **Jobs survive a restart.** Given a
//!   [`StateStore`](foundation_persistence::StateStore), every job is saved
//!   when it is scheduled and its next due time each time it fires; a
//!   scheduler started on the same store fires the ticks that came due
//!   while it was down by each job's [`Misfire`] policy: fire once, fire
//!   all missed (up to a cap), or skip.
//! - **Overlap.** A periodic job's tick that comes while its previous
//!   delivery is still going follows its [`Overlap`] policy: skip, buffer
//!   one, allow all (Temporal's names).
//! - **Cancel is final.** When [`Scheduler::cancel`] returns, no message
//!   of that job will be delivered, not even a tick already due or a send
//!   waiting in a retry's backoff.
//! - **Cheap jobs.** One actor, one min-heap and one timer for the
//!   earliest due job, not a task per job.
//! - **Injectable time.** Time comes from a [`Clock`]: the
//!   [`SystemClock`], the [`TokioClock`] for tests under tokio's paused
//!   time, or the test kit's manual clock.
//!
//! It is a crate of its own, beside the circuit breaker, because it
//! depends on persistence and supervised send, which a breaker does not
//! need: a user of one does not compile the other.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use foundation::mailbox::{Actor, Context, Reply, start};
//! use foundation::persistence::{MemoryStore, Store};
//! use foundation::scheduler::{Config, Job, Misfire, Overlap, Scheduler, TokioClock};
//! use foundation::supervised_send::Target;
//!
//! #[derive(Debug, Default)]
//! struct Pings(u32);
//!
//! #[derive(Debug)]
//! enum Msg { Ping, Count(Reply<u32>) }
//!
//! impl From<()> for Msg { fn from((): ()) -> Self { Msg::Ping } }
//!
//! impl Actor for Pings {
//!     type Args = ();
//!     type Msg = Msg;
//!     type Error = std::convert::Infallible;
//!     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Pings(0)) }
//!     async fn handle(&mut self, msg: Msg, _: &mut Context<Self>) -> Result<(), Self::Error> {
//!         match msg {
//!             Msg::Ping => self.0 += 1,
//!             Msg::Count(reply) => reply.send(self.0).unwrap_or_default(),
//!         }
//!         Ok(())
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap().block_on(async {
//! let (pings, _handle) = start::<Pings>(()).await.unwrap();
//! let config = Config::new(Target::recipient(pings.recipient::<()>()))
//!     .store(Store::new(MemoryStore::new()), "jobs/")
//!     .clock(TokioClock::new());
//! let (scheduler, _actor) = Scheduler::start(config).await.unwrap();
//!
//! let every_second = Job::fixed_rate("ping", Duration::from_secs(1), ())
//!     .overlap(Overlap::Skip)
//!     .misfire(Misfire::FireOnce);
//! scheduler.schedule(every_second).await.unwrap();
//! tokio::time::sleep(Duration::from_millis(3_500)).await; // paused: instant
//! # for _ in 0..10 { tokio::task::yield_now().await; }
//! assert_eq!(pings.call(Msg::Count, Duration::from_secs(1)).await.unwrap(), 3);
//!
//! assert!(scheduler.cancel("ping").await.unwrap());
//! # });
//! ```
//!
//! Design, guarantees and numbers: `docs/scheduler.md`.

#![forbid(unsafe_code)]

mod actor;
mod clock;
mod config;
mod deliver;
mod error;
mod job;
mod record;
mod scheduler;
mod sync;
mod table;
mod ticker;

/// The tracing target of the scheduler's events.
pub const TARGET: &str = "foundation::scheduler";

pub use crate::{
    actor::{Command, SchedulerActor},
    clock::{Clock, Sleep, SystemClock, TokioClock},
    config::Config,
    error::{CancelError, LoadError, ScheduleError, StartError, Unreachable},
    job::{Job, Misfire, Overlap, Payload},
    scheduler::{JobInfo, Scheduler, Stats},
};

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
