//! Recovery: replay after a kill, on both stores; no write for a command that emitted nothing; corrupt events; migrations.

use foundation_mailbox::{ExitReason, StartError};
use foundation_persistence::{
    DecodeError, Journal, Journaling, MemoryStore, PersistentError, RecoverError, RedbStore,
    SnapshotPolicy, codec, start_journaled,
};

use super::support::{Command, CountingJournal, Event, Ledger, PATIENCE, Refused, post};

/// The exit reason's cause when recovery failed.
pub(crate) fn recover_error<E: std::error::Error + 'static>(error: StartError) -> RecoverError {
    let StartError::Init(ExitReason::Error(cause)) = error else {
        panic!("expected a failed init, got {error:?}");
    };
    match cause.downcast_ref::<PersistentError<E>>() {
        Some(PersistentError::Recover(error)) => error.clone(),
        other => panic!("expected a recovery error, got {other:?}"),
    }
}

async fn replays_after_a_kill(journaling: impl Fn() -> Journaling) {
    let (ledger, _handle) = start_journaled::<Ledger>((), journaling()).await.unwrap();
    assert_eq!(ledger.call(post(&[5, 7]), PATIENCE).await.unwrap(), 12);
    assert_eq!(ledger.call(post(&[-2]), PATIENCE).await.unwrap(), 10);
    ledger.kill();
    ledger.wait_for_exit(PATIENCE).await.unwrap();
    let (ledger, _handle) = start_journaled::<Ledger>((), journaling()).await.unwrap();
    let state = ledger.call(Command::Read, PATIENCE).await.unwrap();
    assert_eq!(state.entries, [5, 7, -2]);
    assert_eq!(state.sum, 10);
}

#[tokio::test]
async fn acknowledged_events_are_replayed_after_a_kill_in_memory() {
    let store = MemoryStore::new();
    replays_after_a_kill(|| Journaling::new(store.clone(), "ledger")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_events_are_replayed_after_a_kill_on_redb() {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(dir.path().join("journal.redb")).unwrap();
    replays_after_a_kill(|| Journaling::new(store.clone(), "ledger")).await;
}

#[tokio::test]
async fn a_command_that_emits_nothing_writes_nothing() {
    let journal = CountingJournal::default();
    let (ledger, _handle) = start_journaled::<Ledger>((), Journaling::new(journal.clone(), "l"))
        .await
        .unwrap();
    for _ in 0..10 {
        ledger.call(Command::Read, PATIENCE).await.unwrap();
    }
    assert_eq!(journal.appends(), 0);
    // Three events from one command: one append.
    ledger.call(post(&[1, 2, 3]), PATIENCE).await.unwrap();
    assert_eq!(journal.appends(), 1);
    assert_eq!(journal.inner.read("l", 1).await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_corrupt_event_is_a_typed_error_naming_it_and_loses_nothing_before_it() {
    let store = MemoryStore::new();
    let journaling = || Journaling::new(store.clone(), "ledger").snapshots(SnapshotPolicy::never());
    let (ledger, _handle) = start_journaled::<Ledger>((), journaling()).await.unwrap();
    ledger.call(post(&[1, 2, 3, 4, 5]), PATIENCE).await.unwrap();
    ledger.kill();
    ledger.wait_for_exit(PATIENCE).await.unwrap();
    // Event 6: the right header shape, damaged payload.
    let mut damaged = codec::encode("ledger", 1, &Event::Posted(6)).unwrap();
    *damaged.last_mut().unwrap() ^= 0xff;
    store.append("ledger", 5, vec![damaged]).await.unwrap();

    let error = start_journaled::<Ledger>((), journaling())
        .await
        .unwrap_err();
    let recovered = recover_error::<Refused>(error);
    assert!(
        matches!(&recovered, RecoverError::Decode(DecodeError::Checksum { key }) if key == "ledger#6"),
        "{recovered:?}"
    );
    assert_eq!(
        recovered.to_string(),
        "the saved state does not decode: entry `ledger#6` is corrupt: checksum mismatch"
    );
    // Nothing before it was touched: the five good events still decode.
    let events = store.read("ledger", 1).await.unwrap();
    assert_eq!(events.len(), 6);
    for (entry, amount) in events.iter().take(5).zip(1..) {
        let event: Event = codec::decode("ledger", &entry.bytes, 1).unwrap();
        assert_eq!(event, Event::Posted(amount));
    }
}

/// Recovery decodes entries under no name and names one only when it
/// fails: a damaged snapshot is reported under the snapshot's own
/// sequence number, and the journal behind it is left as it was.
#[tokio::test]
async fn a_corrupt_snapshot_is_a_typed_error_naming_its_sequence() {
    let store = MemoryStore::new();
    let journaling = || Journaling::new(store.clone(), "ledger").snapshots(SnapshotPolicy::never());
    let (ledger, _handle) = start_journaled::<Ledger>((), journaling()).await.unwrap();
    ledger.call(post(&[1, 2, 3]), PATIENCE).await.unwrap();
    ledger.kill();
    ledger.wait_for_exit(PATIENCE).await.unwrap();
    let mut damaged = codec::encode("ledger", 1, &6_i64).unwrap();
    *damaged.last_mut().unwrap() ^= 0xff;
    store.snapshot("ledger", 3, damaged).await.unwrap();

    let error = start_journaled::<Ledger>((), journaling())
        .await
        .unwrap_err();
    let recovered = recover_error::<Refused>(error);
    assert!(
        matches!(&recovered, RecoverError::Decode(DecodeError::Checksum { key }) if key == "ledger#3"),
        "{recovered:?}"
    );
    assert_eq!(store.recover("ledger").await.unwrap().last, 3);
}

/// The ledger as it was before its events carried amounts as `i64`.
mod v1 {
    use foundation_mailbox::{Context, Reply};
    use foundation_persistence::{Emitter, EventSourced, Journaled};
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Default, Serialize, Deserialize)]
    pub(crate) struct Ledger {
        pub(crate) sum: i64,
    }

    #[derive(Debug, Serialize, Deserialize)]
    pub(crate) enum Event {
        Posted(u8),
    }

    impl EventSourced for Ledger {
        type Args = ();
        type Msg = (u8, Reply<()>);
        type Event = Event;
        type Error = std::convert::Infallible;

        async fn init(_: (), _: &mut Context<Journaled<Self>>) -> Result<Self, Self::Error> {
            Ok(Ledger::default())
        }

        fn apply(&mut self, Event::Posted(amount): &Event) {
            self.sum += i64::from(*amount);
        }

        async fn handle(
            ledger: &mut Emitter<'_, Self>,
            (amount, reply): (u8, Reply<()>),
            _: &mut Context<Journaled<Self>>,
        ) -> Result<(), Self::Error> {
            ledger.emit(Event::Posted(amount));
            reply.send(()).unwrap_or_default();
            Ok(())
        }
    }
}

/// Version 2 of the same events: `i64` amounts, with a migration from 1.
mod v2 {
    use foundation_mailbox::{Context, Reply};
    use foundation_persistence::{Emitter, EventSourced, Journaled, MigrationError, codec::Legacy};
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Default, Serialize, Deserialize)]
    pub(crate) struct Ledger {
        pub(crate) sum: i64,
    }

    #[derive(Debug, Serialize, Deserialize)]
    pub(crate) enum Event {
        Posted(i64),
    }

    impl EventSourced for Ledger {
        type Args = ();
        type Msg = Reply<i64>;
        type Event = Event;
        type Error = std::convert::Infallible;
        const EVENT_SCHEMA_VERSION: u32 = 2;

        async fn init(_: (), _: &mut Context<Journaled<Self>>) -> Result<Self, Self::Error> {
            Ok(Ledger::default())
        }

        fn apply(&mut self, Event::Posted(amount): &Event) {
            self.sum += amount;
        }

        async fn handle(
            ledger: &mut Emitter<'_, Self>,
            reply: Reply<i64>,
            _: &mut Context<Journaled<Self>>,
        ) -> Result<(), Self::Error> {
            reply.send(ledger.sum).unwrap_or_default();
            Ok(())
        }

        fn migrate_event(old: Legacy<'_>) -> Result<Event, MigrationError> {
            match old.schema() {
                1 => match old.decode::<super::v1::Event>()? {
                    super::v1::Event::Posted(amount) => Ok(Event::Posted(i64::from(amount))),
                },
                other => Err(MigrationError::Unsupported(other)),
            }
        }
    }
}

#[tokio::test]
async fn older_events_are_migrated_and_newer_ones_refused() {
    let store = MemoryStore::new();
    let journaling = || Journaling::new(store.clone(), "ledger");
    let (old, _handle) = start_journaled::<v1::Ledger>((), journaling())
        .await
        .unwrap();
    old.call(|reply| (40, reply), PATIENCE).await.unwrap();
    old.call(|reply| (2, reply), PATIENCE).await.unwrap();
    old.stop(ExitReason::shutdown(), PATIENCE).await.unwrap();
    let (new, _handle) = start_journaled::<v2::Ledger>((), journaling())
        .await
        .unwrap();
    assert_eq!(new.call(|reply| reply, PATIENCE).await.unwrap(), 42);
    new.kill();
    new.wait_for_exit(PATIENCE).await.unwrap();

    // A version-2 event is refused by the version-1 reader, by type.
    let newer = codec::encode("ledger", 2, &v2::Event::Posted(1)).unwrap();
    store.append("ledger", 2, vec![newer]).await.unwrap();
    let error = start_journaled::<v1::Ledger>((), journaling())
        .await
        .unwrap_err();
    let recovered = recover_error::<std::convert::Infallible>(error);
    assert!(
        matches!(&recovered, RecoverError::Decode(DecodeError::NewerSchema { key, found: 2, supported: 1 }) if key == "ledger#3"),
        "{recovered:?}"
    );
}
