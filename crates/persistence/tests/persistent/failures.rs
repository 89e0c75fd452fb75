//! Failed saves surface: a typed error to the caller, or a crash, never silence.

use foundation_mailbox::ExitReason;
use foundation_persistence::{
    MemoryStore, OnSaveFailure, Persistence, PersistentCallError, PersistentError, SaveError,
    Store, StoreError, start,
};

use super::support::{
    Call, Cast, Counter, CounterArgs, CounterFailed, Msg, ObservedStore, PATIENCE, ask, saved,
};

#[tokio::test]
async fn fail_call_fails_the_call_with_the_key_and_keeps_the_actor() {
    let (store, _writes) = ObservedStore::new();
    let (args, _probe) = CounterArgs::new(0, "c");
    let persistence =
        Persistence::new(Store::new(store.clone()), "c/1").on_save_failure(OnSaveFailure::FailCall);
    let (counter, _handle) = start::<Counter>(args, persistence).await.unwrap();
    counter.call(ask(Call::Add(1)), PATIENCE).await.unwrap();

    store.fail_writes(true);
    let error = counter.call(ask(Call::Add(1)), PATIENCE).await.unwrap_err();
    let PersistentCallError::Save(SaveError::Store { key, source }) = &error else {
        panic!("expected a save error, got {error:?}");
    };
    assert_eq!(key, "c/1");
    assert!(matches!(source, StoreError::Backend { .. }));
    assert_eq!(
        error.to_string(),
        "saving key `c/1` failed: store backend failed on key `c/1`: disk full (simulated)"
    );
    assert!(counter.is_alive());
    assert_eq!(
        saved(&store.inner, "c/1").await.unwrap().0,
        1,
        "the failed change is not durable"
    );

    // The unsaved change is retried with the next save.
    store.fail_writes(false);
    counter.call(ask(Call::Add(1)), PATIENCE).await.unwrap();
    assert_eq!(saved(&store.inner, "c/1").await.unwrap().0, 3);
}

#[tokio::test]
async fn crash_fails_the_call_and_ends_the_actor_without_saving_the_change() {
    let (store, _writes) = ObservedStore::new();
    let (args, _probe) = CounterArgs::new(0, "c");
    let (counter, _handle) =
        start::<Counter>(args, Persistence::new(Store::new(store.clone()), "c"))
            .await
            .unwrap();
    counter.call(ask(Call::Add(1)), PATIENCE).await.unwrap();
    store.fail_writes(true);
    let error = counter.call(ask(Call::Add(1)), PATIENCE).await.unwrap_err();
    assert!(
        matches!(error, PersistentCallError::Save(SaveError::Store { .. })),
        "{error:?}"
    );
    let reason = counter.wait_for_exit(PATIENCE).await.unwrap();
    let ExitReason::Error(cause) = reason else {
        panic!("expected an error exit, got {reason:?}");
    };
    assert!(matches!(
        cause.downcast_ref::<PersistentError<CounterFailed>>(),
        Some(PersistentError::Save(_))
    ));
    store.fail_writes(false);
    assert_eq!(saved(&store.inner, "c").await.unwrap().0, 1);
}

#[tokio::test]
async fn a_failed_save_after_a_cast_crashes_the_actor_even_under_fail_call() {
    let (store, _writes) = ObservedStore::new();
    let (args, _probe) = CounterArgs::new(0, "c");
    let persistence =
        Persistence::new(Store::new(store.clone()), "c").on_save_failure(OnSaveFailure::FailCall);
    let (counter, _handle) = start::<Counter>(args, persistence).await.unwrap();
    store.fail_writes(true);
    counter.cast(Msg::from(Cast::Add(1))).await.unwrap();
    let reason = counter.wait_for_exit(PATIENCE).await.unwrap();
    assert!(matches!(reason, ExitReason::Error(_)), "{reason:?}");
}

#[tokio::test]
async fn a_second_incarnation_on_the_same_key_is_caught_by_compare_and_set() {
    let store = MemoryStore::new();
    let (args, _probe) = CounterArgs::new(0, "c");
    let fail_call = || {
        Persistence::new(Store::new(store.clone()), "c").on_save_failure(OnSaveFailure::FailCall)
    };
    let (first, _first) = start::<Counter>(args.clone(), fail_call()).await.unwrap();
    first.call(ask(Call::Add(1)), PATIENCE).await.unwrap();
    let (second, _second) = start::<Counter>(args, fail_call()).await.unwrap();
    second.call(ask(Call::Add(10)), PATIENCE).await.unwrap();
    // The first one's version is stale now: its write must not clobber the second's.
    let error = first.call(ask(Call::Add(1)), PATIENCE).await.unwrap_err();
    assert!(
        matches!(&error, PersistentCallError::Save(SaveError::Store { source, .. }) if source.is_conflict()),
        "{error:?}"
    );
    // Fenced off: it stops (a shutdown, so a transient child stays down)
    // and writes nothing more, not even at terminate.
    let reason = first.wait_for_exit(PATIENCE).await.unwrap();
    assert!(
        matches!(&reason, ExitReason::Shutdown(Some(why)) if why.contains("fenced")),
        "{reason:?}"
    );
    assert_eq!(saved(&store, "c").await.unwrap().0, 11);
    assert_eq!(
        second.call(ask(Call::Add(1)), PATIENCE).await.unwrap().0,
        12
    );
}

#[tokio::test]
async fn a_conflict_after_a_cast_fences_the_actor_off_too() {
    let store = MemoryStore::new();
    let (args, _probe) = CounterArgs::new(0, "c");
    let (first, _first) = start::<Counter>(args.clone(), Persistence::new(store.clone(), "c"))
        .await
        .unwrap();
    first.call(ask(Call::Add(1)), PATIENCE).await.unwrap();
    let (second, _second) = start::<Counter>(args, Persistence::new(store.clone(), "c"))
        .await
        .unwrap();
    second.call(ask(Call::Add(10)), PATIENCE).await.unwrap();
    first.cast(Msg::from(Cast::Add(100))).await.unwrap();
    let reason = first.wait_for_exit(PATIENCE).await.unwrap();
    assert!(
        matches!(&reason, ExitReason::Shutdown(Some(why)) if why.contains("fenced") && why.contains("conflict")),
        "{reason:?}"
    );
    assert_eq!(saved(&store, "c").await.unwrap().0, 11);
}

#[tokio::test]
async fn a_handler_panic_loses_nothing_acknowledged_under_write_through() {
    let store = MemoryStore::new();
    let (args, _probe) = CounterArgs::new(0, "c");
    let (counter, _handle) = start::<Counter>(
        args.clone(),
        Persistence::new(Store::new(store.clone()), "c"),
    )
    .await
    .unwrap();
    counter.call(ask(Call::Add(2)), PATIENCE).await.unwrap();
    counter.cast(Msg::from(Cast::Panic)).await.unwrap();
    assert!(counter.wait_for_exit(PATIENCE).await.unwrap().is_panic());
    let (counter, _handle) = start::<Counter>(args, Persistence::new(store, "c"))
        .await
        .unwrap();
    assert_eq!(counter.call(ask(Call::Get), PATIENCE).await.unwrap().0, 2);
}

#[tokio::test]
async fn a_handler_error_is_the_actors_own_error() {
    let store = MemoryStore::new();
    let (args, _probe) = CounterArgs::new(0, "c");
    let (counter, _handle) = start::<Counter>(args, Persistence::new(store, "c"))
        .await
        .unwrap();
    let error = counter.call(ask(Call::Fail), PATIENCE).await.unwrap_err();
    let PersistentCallError::Call(foundation_mailbox::CallError::Exited(ExitReason::Error(cause))) =
        error
    else {
        panic!("expected the actor's error exit, got {error:?}");
    };
    assert!(matches!(
        cause.downcast_ref::<PersistentError<CounterFailed>>(),
        Some(PersistentError::Actor(CounterFailed))
    ));
}

#[test]
fn a_dead_call_names_the_actors_own_message_type_not_the_wrapper() {
    use foundation_mailbox::Actor;
    use foundation_persistence::Persistent;

    assert_eq!(
        <Persistent<Counter> as Actor>::message_type_name(),
        std::any::type_name::<Msg>()
    );
}
