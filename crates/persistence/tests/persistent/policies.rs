//! Save policies: what is durable when, and what each one loses at a crash.

use std::time::Duration;

use foundation_mailbox::ExitReason;
use foundation_persistence::{MemoryStore, Persistence, SavePolicy, StateStore, Store, start};

use super::support::{
    Call, Cast, Counter, CounterArgs, Msg, ObservedStore, PATIENCE, ask, next_write, saved,
};

#[tokio::test]
async fn write_through_is_durable_before_the_reply_and_reads_write_nothing() {
    let store = MemoryStore::new();
    let (args, probe) = CounterArgs::new(0, "c");
    let (counter, _handle) = start::<Counter>(args, Persistence::new(store.clone(), "c"))
        .await
        .unwrap();
    for expected in 1..=3 {
        counter.call(ask(Call::Add(1)), PATIENCE).await.unwrap();
        assert_eq!(saved(&store, "c").await, Some((expected, "c".to_owned())));
    }
    let version = store.get("c").await.unwrap().unwrap().version;
    counter.call(ask(Call::Get), PATIENCE).await.unwrap();
    assert_eq!(
        store.get("c").await.unwrap().unwrap().version,
        version,
        "a read must not write"
    );
    assert_eq!(
        probe.before_saves(),
        3,
        "before_save runs before every save attempt, and a read attempts none"
    );
    // Casts are written through too, before the next message.
    counter.cast(Msg::from(Cast::Add(10))).await.unwrap();
    counter.call(ask(Call::Get), PATIENCE).await.unwrap();
    assert_eq!(saved(&store, "c").await, Some((13, "c".to_owned())));
}

#[tokio::test(start_paused = true)]
async fn batched_saves_every_n_changes_in_the_background() {
    let (store, mut writes) = ObservedStore::new();
    let policy = SavePolicy::Batched {
        every: 3,
        within: Duration::from_secs(3600),
    };
    let (args, _probe) = CounterArgs::new(0, "c");
    let (counter, _handle) = start::<Counter>(
        args,
        Persistence::new(Store::new(store.clone()), "c").policy(policy),
    )
    .await
    .unwrap();
    counter.cast(Msg::from(Cast::Add(1))).await.unwrap();
    counter.cast(Msg::from(Cast::Add(1))).await.unwrap();
    // Reads change nothing, so they do not count towards the batch.
    counter.call(ask(Call::Get), PATIENCE).await.unwrap();
    assert!(
        writes.try_recv().is_err(),
        "two changes are below the batch size"
    );
    counter.call(ask(Call::Add(1)), PATIENCE).await.unwrap();
    // Three changes handled: the third started the write.
    let (key, _) = next_write(&mut writes).await;
    assert_eq!(key, "c");
    assert_eq!(saved(&store.inner, "c").await, Some((3, "c".to_owned())));
    counter.cast(Msg::from(Cast::Add(1))).await.unwrap();
    assert!(
        writes.try_recv().is_err(),
        "one change is below the batch size"
    );
}

#[tokio::test(start_paused = true)]
async fn batched_saves_within_t_of_the_first_unsaved_change() {
    let (store, mut writes) = ObservedStore::new();
    let within = Duration::from_millis(250);
    let policy = SavePolicy::Batched {
        every: 1000,
        within,
    };
    let (args, _probe) = CounterArgs::new(0, "c");
    let (counter, _handle) = start::<Counter>(
        args,
        Persistence::new(Store::new(store.clone()), "c").policy(policy),
    )
    .await
    .unwrap();
    let began = tokio::time::Instant::now();
    counter.cast(Msg::from(Cast::Add(7))).await.unwrap();
    next_write(&mut writes).await;
    assert_eq!(
        began.elapsed(),
        within,
        "the timer, not the batch size, saved it"
    );
    assert_eq!(saved(&store.inner, "c").await, Some((7, "c".to_owned())));
    // Clean again: no timer, no write, however long it waits.
    tokio::time::advance(within * 4).await;
    assert!(writes.try_recv().is_err());
}

#[tokio::test(start_paused = true)]
async fn batched_and_on_terminate_save_at_stop_and_lose_their_window_at_a_kill() {
    for policy in [
        SavePolicy::Batched {
            every: 100,
            within: Duration::from_secs(3600),
        },
        SavePolicy::OnTerminate,
    ] {
        let store = MemoryStore::new();
        let persistence = || Persistence::new(store.clone(), "c").policy(policy);
        let (args, _probe) = CounterArgs::new(0, "c");
        let (counter, _handle) = start::<Counter>(args.clone(), persistence()).await.unwrap();
        counter.call(ask(Call::Add(3)), PATIENCE).await.unwrap();
        assert_eq!(
            saved(&store, "c").await,
            None,
            "{policy:?}: nothing saved yet"
        );
        counter
            .stop(ExitReason::shutdown(), PATIENCE)
            .await
            .unwrap();
        assert_eq!(
            saved(&store, "c").await,
            Some((3, "c".to_owned())),
            "{policy:?}: saved at stop"
        );

        // The documented loss window: a kill skips terminate.
        let (counter, _handle) = start::<Counter>(args.clone(), persistence()).await.unwrap();
        counter.call(ask(Call::Add(4)), PATIENCE).await.unwrap();
        counter.kill();
        counter.wait_for_exit(PATIENCE).await.unwrap();
        let (counter, _handle) = start::<Counter>(args, persistence()).await.unwrap();
        assert_eq!(
            counter.call(ask(Call::Get), PATIENCE).await.unwrap().0,
            3,
            "{policy:?}"
        );
    }
}

#[tokio::test]
async fn an_explicit_save_is_durable_whatever_the_policy() {
    let store = MemoryStore::new();
    let (args, _probe) = CounterArgs::new(0, "c");
    let persistence = Persistence::new(store.clone(), "c").policy(SavePolicy::OnTerminate);
    let (counter, _handle) = start::<Counter>(args, persistence).await.unwrap();
    counter.cast(Msg::from(Cast::Add(2))).await.unwrap();
    counter.save(PATIENCE).await.unwrap();
    assert_eq!(saved(&store, "c").await, Some((2, "c".to_owned())));
}
