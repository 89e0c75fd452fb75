//! Dirty tracking: only a handler that changed the state causes a save; reads cost no I/O and are answered at once.

use std::future::Future;

use foundation_persistence::{
    Entry, Listed, OnSaveFailure, Persistence, PersistentCallError, StateStore, Store, StoreError,
    Version, start,
};

use super::support::{Call, Cast, Counter, CounterArgs, Msg, ObservedStore, PATIENCE, ask, saved};

#[tokio::test]
async fn a_read_only_call_writes_nothing_and_a_change_writes_once() {
    let (store, _writes) = ObservedStore::new();
    let (args, probe) = CounterArgs::new(0, "c");
    let (counter, _handle) =
        start::<Counter>(args, Persistence::new(Store::new(store.clone()), "c"))
            .await
            .unwrap();
    for _ in 0..10 {
        counter.call(ask(Call::Get), PATIENCE).await.unwrap();
    }
    assert_eq!(store.attempts(), 0, "reads must not write");
    assert_eq!(probe.before_saves(), 0, "reads must not even encode");

    counter.call(ask(Call::Add(2)), PATIENCE).await.unwrap();
    assert_eq!(store.attempts(), 1, "one change, one write");
    assert_eq!(saved(&store.inner, "c").await, Some((2, "c".to_owned())));

    for _ in 0..10 {
        assert_eq!(counter.call(ask(Call::Get), PATIENCE).await.unwrap().0, 2);
    }
    // A cast that changes the state is saved too, before the next message.
    counter.cast(Msg::from(Cast::Add(1))).await.unwrap();
    counter.call(ask(Call::Get), PATIENCE).await.unwrap();
    assert_eq!(store.attempts(), 2);
    assert_eq!(saved(&store.inner, "c").await, Some((3, "c".to_owned())));
}

/// A store whose writes never finish: any save would hang the actor.
#[derive(Debug, Clone)]
struct StuckWrites;

impl StateStore for StuckWrites {
    async fn get(&self, _: &str) -> Result<Option<Entry>, StoreError> {
        Ok(None)
    }

    fn put(&self, _: &str, _: Vec<u8>) -> impl Future<Output = Result<Version, StoreError>> + Send {
        std::future::pending()
    }

    fn compare_and_set(
        &self,
        _: &str,
        _: Option<Version>,
        _: Vec<u8>,
    ) -> impl Future<Output = Result<Version, StoreError>> + Send {
        std::future::pending()
    }

    async fn delete(&self, _: &str) -> Result<bool, StoreError> {
        Ok(false)
    }

    async fn list(&self, _: &str) -> Result<Vec<Listed>, StoreError> {
        Ok(Vec::new())
    }
}

#[tokio::test]
async fn a_read_only_call_is_answered_without_waiting_for_any_save() {
    let (args, _probe) = CounterArgs::new(7, "c");
    let (counter, _handle) = start::<Counter>(args, Persistence::new(Store::new(StuckWrites), "c"))
        .await
        .unwrap();
    // Before dirty tracking, this read encoded the fresh state, found it
    // unsaved and waited on the stuck write.
    let (count, _) = counter.call(ask(Call::Get), PATIENCE).await.unwrap();
    assert_eq!(count, 7);
}

#[tokio::test]
async fn a_crash_after_a_change_and_before_its_save_loses_only_that_change() {
    let (store, _writes) = ObservedStore::new();
    let (args, _probe) = CounterArgs::new(0, "c");
    let persistence = Persistence::new(Store::new(store.clone()), "c");
    let (counter, _handle) = start::<Counter>(args.clone(), persistence.clone())
        .await
        .unwrap();
    counter.call(ask(Call::Add(5)), PATIENCE).await.unwrap();
    counter
        .cast(Msg::from(Cast::AddThenPanic(3)))
        .await
        .unwrap();
    counter.wait_for_exit(PATIENCE).await.unwrap();
    assert_eq!(
        store.attempts(),
        1,
        "the panicking change was never written"
    );
    let (counter, _handle) = start::<Counter>(args, persistence).await.unwrap();
    assert_eq!(counter.call(ask(Call::Get), PATIENCE).await.unwrap().0, 5);
}

#[tokio::test]
async fn a_read_after_a_failed_save_saves_the_change_it_would_show() {
    let (store, _writes) = ObservedStore::new();
    let (args, _probe) = CounterArgs::new(0, "c");
    let persistence =
        Persistence::new(Store::new(store.clone()), "c").on_save_failure(OnSaveFailure::FailCall);
    let (counter, _handle) = start::<Counter>(args, persistence).await.unwrap();
    store.fail_writes(true);
    let failed = counter.call(ask(Call::Add(4)), PATIENCE).await;
    assert!(
        matches!(failed, Err(PersistentCallError::Save(_))),
        "{failed:?}"
    );
    store.fail_writes(false);
    // The read would show the unsaved 4: it is answered only once 4 is durable.
    assert_eq!(counter.call(ask(Call::Get), PATIENCE).await.unwrap().0, 4);
    assert_eq!(saved(&store.inner, "c").await, Some((4, "c".to_owned())));
    let attempts = store.attempts();
    counter.call(ask(Call::Get), PATIENCE).await.unwrap();
    assert_eq!(
        store.attempts(),
        attempts,
        "saved now: reads are free again"
    );
}
