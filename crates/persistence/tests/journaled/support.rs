//! An event-sourced test ledger, and a journal wrapper that counts and can refuse appends.

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

use foundation_mailbox::{Context, Reply};
use foundation_persistence::{
    BoxFuture, Emitter, EventSourced, Journal, JournalEntry, Journaled, MemoryStore, Recovery,
    StoreError,
};
use serde::{Deserialize, Serialize};

pub(crate) use std::time::Duration;

/// Long enough never to fire in a passing test.
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
#[error("ledger refused on purpose")]
pub(crate) struct Refused;

/// A ledger: the entries in order and their sum.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Ledger {
    pub(crate) entries: Vec<i64>,
    pub(crate) sum: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Event {
    Posted(i64),
    Cleared,
}

#[derive(Debug)]
pub(crate) enum Command {
    /// Posts each amount as its own event, in one append; answers the sum.
    Post(Vec<i64>, Reply<i64>),
    Clear(Reply<i64>),
    Read(Reply<Ledger>),
    /// Emits an event, then fails: nothing may be written.
    PostThenFail(i64),
    /// Emits an event, then panics.
    PostThenPanic(i64),
}

impl EventSourced for Ledger {
    type Args = ();
    type Msg = Command;
    type Event = Event;
    type Error = Refused;

    async fn init(_: (), _: &mut Context<Journaled<Self>>) -> Result<Self, Refused> {
        Ok(Ledger::default())
    }

    fn apply(&mut self, event: &Event) {
        match event {
            Event::Posted(amount) => {
                self.entries.push(*amount);
                self.sum += amount;
            }
            Event::Cleared => {
                self.entries.clear();
                self.sum = 0;
            }
        }
    }

    async fn handle(
        ledger: &mut Emitter<'_, Self>,
        command: Command,
        _: &mut Context<Journaled<Self>>,
    ) -> Result<(), Refused> {
        match command {
            Command::Post(amounts, reply) => {
                for amount in amounts {
                    ledger.emit(Event::Posted(amount));
                }
                reply.send(ledger.sum).unwrap_or_default();
            }
            Command::Clear(reply) => {
                ledger.emit(Event::Cleared);
                reply.send(ledger.sum).unwrap_or_default();
            }
            Command::Read(reply) => reply.send((**ledger).clone()).unwrap_or_default(),
            Command::PostThenFail(amount) => {
                ledger.emit(Event::Posted(amount));
                return Err(Refused);
            }
            Command::PostThenPanic(amount) => {
                ledger.emit(Event::Posted(amount));
                panic!("ledger panicked on purpose after emitting");
            }
        }
        Ok(())
    }
}

/// The request for posting: `ledger.call(post(&[1, 2]), timeout)`.
pub(crate) fn post(amounts: &[i64]) -> impl FnOnce(Reply<i64>) -> Command {
    let amounts = amounts.to_vec();
    move |reply| Command::Post(amounts, reply)
}

/// A memory journal that counts appends and snapshots, and refuses appends on demand.
#[derive(Debug, Clone, Default)]
pub(crate) struct CountingJournal {
    pub(crate) inner: MemoryStore,
    appends: Arc<AtomicUsize>,
    snapshots: Arc<AtomicUsize>,
    refuse: Arc<AtomicBool>,
}

impl CountingJournal {
    pub(crate) fn appends(&self) -> usize {
        self.appends.load(Ordering::SeqCst)
    }

    pub(crate) fn snapshots(&self) -> usize {
        self.snapshots.load(Ordering::SeqCst)
    }

    pub(crate) fn refuse_appends(&self, refuse: bool) {
        self.refuse.store(refuse, Ordering::SeqCst);
    }
}

impl Journal for CountingJournal {
    fn append<'a>(
        &'a self,
        id: &'a str,
        after: u64,
        events: Vec<Vec<u8>>,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        self.appends.fetch_add(1, Ordering::SeqCst);
        if self.refuse.load(Ordering::SeqCst) {
            return Box::pin(std::future::ready(Err(StoreError::backend(
                id,
                "disk full (simulated)",
            ))));
        }
        self.inner.append(id, after, events)
    }

    fn read<'a>(
        &'a self,
        id: &'a str,
        from: u64,
    ) -> BoxFuture<'a, Result<Vec<JournalEntry>, StoreError>> {
        self.inner.read(id, from)
    }

    fn recover<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Recovery, StoreError>> {
        self.inner.recover(id)
    }

    fn snapshot<'a>(
        &'a self,
        id: &'a str,
        sequence: u64,
        state: Vec<u8>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.snapshots.fetch_add(1, Ordering::SeqCst);
        self.inner.snapshot(id, sequence, state)
    }
}
