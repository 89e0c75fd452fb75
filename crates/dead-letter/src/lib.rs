#![forbid(unsafe_code)]
//! Where undeliverable messages land: a bounded, listable, purgeable and
//! redrivable dead-letter queue, durable when given a store.
//!
//! Foundation loses nothing silently: a message a mailbox accepted but no
//! handler ran (its process exited, or an overflow policy dropped it) goes
//! to the mailbox's [`DeadLetterSink`](foundation_mailbox::DeadLetterSink).
//! A [`DeadLetterQueue`] is such a sink that keeps them, so an operator can
//! [list](DeadLetterQueue::list) what failed and why,
//! [purge](DeadLetterQueue::purge) it, or [redrive](DeadLetterQueue::redrive)
//! it to wherever its recipient lives now. Other producers (a supervised
//! send out of retries) [append](DeadLetterQueue::append) with their
//! metadata and attempts.
//!
//! # Example
//!
//! ```
//! use foundation::dead_letter::{
//!     Config, DeadLetterQueue, Filter, Letter, Reason, RedriveOptions, Undelivered, typed,
//! };
//! use foundation::mailbox::Pid;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let queue = DeadLetterQueue::new(Config::default().max_attempts(3))?;
//! // A mailbox feeds it through `ActorOptions::new().dead_letters(queue.sink())`;
//! // any other producer appends.
//! let order = Letter::new(Pid::new(), 42_u64, Reason::Undeliverable("timed out".into()))
//!     .metadata("tag", "billing");
//! let id = queue.append(order).await?;
//! assert_eq!(queue.list(&Filter::all(), 10)[0].id, id);
//!
//! // Redrive to wherever orders go now; the first try fails and is recorded.
//! let broken = typed(|_entry, order: u64| Err(Undelivered::new(order, "still down")));
//! let report = queue.redrive(&broken, &RedriveOptions::default());
//! assert_eq!(report.failed, 1);
//! assert_eq!(queue.get(id).unwrap().history.len(), 2);
//!
//! let working = typed(|_entry, order: u64| { assert_eq!(order, 42); Ok(()) });
//! assert_eq!(queue.redrive(&working, &RedriveOptions::default()).delivered, 1);
//! assert!(queue.is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! # Bounds
//!
//! The queue holds at most [`Config::capacity`] entries; a full queue drops
//! its oldest entry ([`Overflow::DropOldest`], counted) or refuses the new
//! one ([`Overflow::Reject`]). Entries older than [`Config::max_age`] are
//! pruned. Every count is in [`Stats`].
//!
//! # Redrive
//!
//! A [`Resolver`] gets each entry and its message and delivers it: the
//! original pid may be dead, so it finds the current incarnation (by
//! registered name, by a supervisor's child reference). A run is manual
//! ([`DeadLetterQueue::redrive`]) or periodic
//! ([`DeadLetterQueue::spawn_redrive`], listed by
//! [`redrive_tasks`](DeadLetterQueue::redrive_tasks), cancelled by its
//! [`RedriveHandle`]); every run shares the queue's [redrive
//! rate](Config::redrive_rate). A failure is recorded in the entry's history,
//! never appended as a new entry, and an entry out of attempts is
//! [exhausted](Status::Exhausted): kept and listable, not retried.
//!
//! # Durability
//!
//! [`DeadLetterQueue::open`] on a `StateStore` (the embedded `RedbStore` is
//! the default choice) writes every entry whose message type has a
//! [codec](Config::codec), and loads them again at the next open. Messages
//! of other types stay in memory, are lost with the program, and are
//! counted as such ([`Stats::in_memory`]). See `docs/dead-letter.md` for
//! the guarantees.
//!
//! With the `postgres` feature, `DeadLetterQueue::open_postgres` keeps the
//! entries in one PostgreSQL table shared by every node: a node's
//! `redrive_claimed` locks the rows it delivers (`FOR UPDATE SKIP
//! LOCKED`), so two nodes never deliver the same entry at once, and a
//! periodic redrive is woken by a `NOTIFY` when any node appends.
//!
//! # Noise
//!
//! A [`Suppress`]ed class (by type name and reason) is counted and dropped;
//! `warn` events for new entries are capped per interval
//! ([`Config::warnings`]), and the next one says how many were held back.

mod clock;
mod config;
mod durable;
mod entry;
mod error;
mod filter;
mod noise;
mod queue;
mod redrive;
mod sync;
#[cfg(test)]
mod test_support;

#[cfg(feature = "postgres")]
pub use crate::error::ClaimError;
pub use crate::{
    clock::{Clock, ManualClock, TokioClock},
    config::{Config, Overflow, Suppress},
    entry::{
        Attempt, Entry, EntryId, Kind, Letter, Message, Metadata, Reason, ReasonClass, Status,
        Storage,
    },
    error::{AppendError, ConfigError, FlushError, OpenError},
    filter::Filter,
    queue::{DeadLetterQueue, Stats},
    redrive::{
        RedriveHandle, RedriveId, RedriveOptions, RedriveReport, RedriveTaskInfo, Resolver, Typed,
        Undelivered, typed,
    },
};

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
