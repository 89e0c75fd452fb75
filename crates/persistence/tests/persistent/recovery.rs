//! Recovery: the whole saved state, before the first message, after every start; migrations and damaged entries.

use foundation_mailbox::{ActorOptions, ExitReason, StartError, spawn_with};
use foundation_persistence::{
    DecodeError, MemoryStore, MigrationError, Persistence, Persistent, PersistentActor,
    PersistentArgs, PersistentError, PersistentRef, RecoverError, StateStore, Tracked, codec,
    start,
};
use serde::{Deserialize, Serialize};

use super::support::{Call, Cast, Counter, CounterArgs, Msg, PATIENCE, ask, saved};

#[tokio::test]
async fn a_restart_gets_back_the_whole_saved_state_not_fresh_defaults() {
    let store = MemoryStore::new();
    let (args, first) = CounterArgs::new(0, "fresh");
    let (counter, _handle) = start::<Counter>(args, Persistence::new(store.clone(), "c"))
        .await
        .unwrap();
    counter.call(ask(Call::Add(5)), PATIENCE).await.unwrap();
    counter
        .call(ask(Call::Label("renamed")), PATIENCE)
        .await
        .unwrap();
    assert_eq!(first.inits(), 1);
    counter.kill();
    counter.wait_for_exit(PATIENCE).await.unwrap();

    // Arguments that `init` would turn into other values: they must not leak in.
    let (args, second) = CounterArgs::new(100, "defaults");
    let (counter, _handle) = start::<Counter>(args, Persistence::new(store.clone(), "c"))
        .await
        .unwrap();
    assert_eq!(
        counter.call(ask(Call::Get), PATIENCE).await.unwrap(),
        (5, "renamed".to_owned())
    );
    assert_eq!(second.inits(), 0, "init must not run when state was saved");
    assert_eq!(
        second.loads(),
        1,
        "after_load runs once, with the new arguments"
    );
}

#[tokio::test]
async fn messages_sent_before_recovery_finishes_see_the_recovered_state() {
    let store = MemoryStore::new();
    let state = Counter {
        count: 41,
        label: "saved".to_owned(),
        probe: Default::default(),
    };
    store
        .put("c", codec::encode("c", 1, &state).unwrap())
        .await
        .unwrap();
    let (args, _probe) = CounterArgs::new(0, "fresh");
    // `spawn` returns before init runs; the cast is queued behind recovery.
    let (actor, _handle) = spawn_with::<Persistent<Counter>>(
        PersistentArgs::new(args, Persistence::new(store.clone(), "c")),
        ActorOptions::new(),
    )
    .unwrap();
    let counter = PersistentRef::from(actor);
    counter.cast(Msg::from(Cast::Add(1))).await.unwrap();
    assert_eq!(
        counter.call(ask(Call::Get), PATIENCE).await.unwrap(),
        (42, "saved".to_owned())
    );
}

#[tokio::test]
async fn each_incarnation_recovers_what_the_previous_one_saved() {
    let store = MemoryStore::new();
    for round in 1..=5_u64 {
        let (args, _probe) = CounterArgs::new(0, "c");
        let (counter, _handle) = start::<Counter>(args, Persistence::new(store.clone(), "c"))
            .await
            .unwrap();
        let (count, _) = counter.call(ask(Call::Add(1)), PATIENCE).await.unwrap();
        assert_eq!(count, round);
        counter.kill();
        counter.wait_for_exit(PATIENCE).await.unwrap();
    }
    assert_eq!(saved(&store, "c").await, Some((5, "c".to_owned())));
}

/// Version 2 of the counter's state: the count became a pair of totals.
#[derive(Debug, Serialize, Deserialize)]
struct CounterV2 {
    ups: u64,
    downs: u64,
}

/// What version 1 stored.
#[derive(Debug, Serialize, Deserialize)]
struct CounterV1 {
    count: u64,
    label: String,
}

/// Counts a down and answers with both counts.
#[derive(Debug)]
struct Down(foundation_mailbox::Reply<(u64, u64)>);

impl PersistentActor for CounterV2 {
    type Args = ();
    type Msg = Down;
    type Error = std::convert::Infallible;
    const SCHEMA_VERSION: u32 = 2;

    async fn init(
        _: (),
        _: &mut foundation_mailbox::Context<Persistent<Self>>,
    ) -> Result<Self, Self::Error> {
        Ok(CounterV2 { ups: 0, downs: 0 })
    }

    fn migrate(old: codec::Legacy<'_>) -> Result<Self, MigrationError> {
        match old.schema() {
            1 => {
                let v1: CounterV1 = old.decode()?;
                Ok(CounterV2 {
                    ups: v1.count,
                    downs: 0,
                })
            }
            other => Err(MigrationError::Unsupported(other)),
        }
    }

    async fn handle(
        state: &mut Tracked<'_, Self>,
        Down(reply): Down,
        _: &mut foundation_mailbox::Context<Persistent<Self>>,
    ) -> Result<(), Self::Error> {
        state.downs += 1;
        reply.send((state.ups, state.downs)).unwrap_or_default();
        Ok(())
    }
}

#[tokio::test]
async fn an_older_schema_is_migrated_and_saved_in_the_new_one() {
    let store = MemoryStore::new();
    let v1 = CounterV1 {
        count: 9,
        label: "old".into(),
    };
    store
        .put("c", codec::encode("c", 1, &v1).unwrap())
        .await
        .unwrap();
    let (counter, _handle) = start::<CounterV2>((), Persistence::new(store.clone(), "c"))
        .await
        .unwrap();
    assert_eq!(counter.call(Down, PATIENCE).await.unwrap(), (9, 1));
    let entry = store.get("c").await.unwrap().unwrap();
    assert_eq!(codec::check("c", &entry.value).unwrap().schema, 2);
}

/// The exit reason's cause when recovery failed.
fn recover_error(error: StartError) -> RecoverError {
    let StartError::Init(ExitReason::Error(cause)) = error else {
        panic!("expected a failed init, got {error:?}");
    };
    match cause.downcast_ref::<PersistentError<super::support::CounterFailed>>() {
        Some(PersistentError::Recover(error)) => error.clone(),
        other => panic!("expected a recovery error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_newer_schema_or_a_corrupt_entry_refuses_to_start_naming_the_key() {
    let store = MemoryStore::new();
    let (args, probe) = CounterArgs::new(0, "c");
    store
        .put("newer", codec::encode("newer", 7, &1_u8).unwrap())
        .await
        .unwrap();
    let error = start::<Counter>(args.clone(), Persistence::new(store.clone(), "newer"))
        .await
        .unwrap_err();
    let error = recover_error(error);
    assert!(
        matches!(&error, RecoverError::Decode(DecodeError::NewerSchema { key, found: 7, supported: 1 }) if key == "newer"),
        "{error}"
    );

    let mut bytes = codec::encode(
        "bad",
        1,
        &Counter {
            count: 1,
            label: "x".into(),
            probe: Default::default(),
        },
    )
    .unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    store.put("bad", bytes).await.unwrap();
    let error = recover_error(
        start::<Counter>(args, Persistence::new(store.clone(), "bad"))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        error.to_string(),
        "the saved state does not decode: entry `bad` is corrupt: checksum mismatch"
    );
    assert_eq!(
        probe.inits(),
        0,
        "a damaged entry is never replaced by a fresh state"
    );
    // Nothing was overwritten.
    assert_eq!(store.get("bad").await.unwrap().unwrap().version.get(), 2);
}

#[tokio::test]
async fn an_invalid_policy_is_refused_at_start() {
    let (args, _probe) = CounterArgs::new(0, "c");
    let persistence = Persistence::new(MemoryStore::new(), "c").policy(
        foundation_persistence::SavePolicy::Batched {
            every: 0,
            within: PATIENCE,
        },
    );
    assert!(matches!(
        start::<Counter>(args, persistence).await,
        Err(StartError::InvalidOptions(_))
    ));
}
