//! Actors that keep their state across crashes.
//!
//! In the system Foundation replaces, agents lost their state on every
//! crash, and the partial fix merged saved fields into fresh defaults. Here
//! a restarted actor gets back exactly the state it last saved, and under
//! write-through a change its caller was told about survives even a SIGKILL
//! of the whole program. The crate has three parts:
//!
//! - **The store** (no actor runtime needed): the [`StateStore`] trait, a
//!   map from string keys to versioned bytes with compare-and-set; the
//!   [`MemoryStore`] for tests; the embedded durable default [`RedbStore`]
//!   (one crash-safe file, no server); with the `postgres` feature,
//!   `PostgresStore`, the state of actors on several machines in one
//!   PostgreSQL database; [`Store`] to hold any of them; and
//!   the [`codec`]: serde into postcard behind a header with a schema
//!   version and a checksum, whose every failure is a typed error naming
//!   the key.
//! - **Persistent actors**: implement [`PersistentActor`] (an actor that is
//!   its own serializable state), run it with [`start`] as a
//!   [`Persistent`] actor, talk to it through a [`PersistentRef`]. Its
//!   state is recovered whole before its first message after every start
//!   and restart, and saved by a [`SavePolicy`]: write-through, batched, or
//!   on terminate. Only a handler that changed the state causes a save:
//!   it gets the state behind a [`Tracked`] guard that notices mutable
//!   access, so read-only requests cost no I/O. A failed save is never
//!   ignored ([`OnSaveFailure`]).
//! - **Event-sourced actors**, for state that is large or grows: implement
//!   [`EventSourced`] (a handler emits events through an [`Emitter`],
//!   [`apply`](EventSourced::apply) folds them into the state), run it
//!   with [`start_journaled`] as a [`Journaled`] actor. Each command costs
//!   one atomic append of its events to a per-actor [`Journal`], whatever
//!   the size of the state; a [`SnapshotPolicy`] snapshots the state and
//!   compacts the journal behind it; recovery is the latest snapshot plus
//!   the events after it. A caller that starts many actors at once reads
//!   their journals in one go with [`Journal::recover_many`] and hands each
//!   its recovery with [`Journaling::recovered`].
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use foundation_mailbox::{Context, Reply};
//! use foundation_persistence::{Persistence, Persistent, PersistentActor, RedbStore, Tracked, start};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, Default, Serialize, Deserialize)]
//! struct Visits(u64);
//!
//! /// Counts a visit and answers with the total.
//! #[derive(Debug)]
//! struct Visit(Reply<u64>);
//!
//! impl PersistentActor for Visits {
//!     type Args = ();
//!     type Msg = Visit;
//!     type Error = std::convert::Infallible;
//!
//!     async fn init(_: (), _: &mut Context<Persistent<Self>>) -> Result<Self, Self::Error> {
//!         Ok(Visits(0))
//!     }
//!     async fn handle(visits: &mut Tracked<'_, Self>, Visit(reply): Visit, _: &mut Context<Persistent<Self>>) -> Result<(), Self::Error> {
//!         visits.0 += 1;
//!         reply.send(visits.0).unwrap_or_default();
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("state.redb");
//! let timeout = Duration::from_secs(5);
//! {
//!     let store = RedbStore::open(&path)?;
//!     let (visits, _handle) = start::<Visits>((), Persistence::new(store, "visits")).await?;
//!     assert_eq!(visits.call(Visit, timeout).await?, 1);
//!     assert_eq!(visits.call(Visit, timeout).await?, 2); // durable before this reply
//!     visits.kill();
//!     visits.wait_for_exit(timeout).await?;
//! }
//! // A new store on the same file, as after a restart of the program.
//! let store = RedbStore::open(&path)?;
//! let (visits, _handle) = start::<Visits>((), Persistence::new(store, "visits")).await?;
//! assert_eq!(visits.call(Visit, timeout).await?, 3);
//! # Ok(())
//! # }
//! ```
//!
//! # What each save policy can lose
//!
//! | policy | saved | a crash loses |
//! | --- | --- | --- |
//! | [`SavePolicy::WriteThrough`] | after each changing message, durable before its reply | nothing a caller was told about |
//! | [`SavePolicy::Batched`] | every N messages or T after the first unsaved one, in the background; at stop | the changes since the last completed write |
//! | [`SavePolicy::OnTerminate`] | at stop | everything since start or the last explicit save |
//!
//! `docs/persistence.md` has the design: the entry format, how redb is
//! used, how PostgreSQL maps onto [`StateStore`], the journal, when to
//! choose durable state or event sourcing, and fencing: an actor
//! whose save loses a compare-and-set to another incarnation (another
//! node) stops instead of overwriting.
//!
//! # Loom
//!
//! The in-memory store's compare-and-set goes through a private `sync`
//! shim and is model-checked with loom under `--cfg foundation_loom`
//! (`cargo xtask loom`).

#![forbid(unsafe_code)]

pub mod codec;
mod error;
mod event_sourced;
mod journal;
mod journaled;
mod journaled_ref;
mod journaling;
mod memory;
mod message;
mod metrics;
mod persistent;
mod persistent_actor;
mod persistent_ref;
mod policy;
#[cfg(feature = "postgres")]
pub mod postgres;
mod redb_store;
mod saver;
mod store;
mod sync;
mod tracked;

#[cfg(all(test, foundation_loom))]
mod loom_models;

#[cfg(feature = "postgres")]
pub use crate::{
    error::PostgresOpenError,
    postgres::{PostgresConfig, PostgresStore},
};
pub use crate::{
    error::{
        BackendError, DecodeError, EncodeError, MigrationError, OpenError, PersistentCallError,
        PersistentError, RecoverError, SaveError, StoreError,
    },
    event_sourced::{Emitter, EventSourced},
    journal::{Journal, JournalEntry, Recovery, Snapshot},
    journaled::{Journaled, JournaledArgs},
    journaled_ref::{JournaledRef, start_journaled},
    journaling::{Journaling, SnapshotPolicy},
    memory::MemoryStore,
    message::PersistentMsg,
    persistent::{Persistent, PersistentArgs},
    persistent_actor::PersistentActor,
    persistent_ref::{PersistentRef, start},
    policy::{OnSaveFailure, Persistence, SavePolicy},
    redb_store::{DEFAULT_PATH, RedbStore},
    store::{BoxFuture, Entry, Listed, MAX_KEY_LEN, StateStore, Store, Version},
    tracked::Tracked,
};
