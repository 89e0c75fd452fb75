//! Failures: a failed append crashes the actor and writes nothing of its command; handler failures write nothing; a second incarnation, or one started from an out-of-date preloaded recovery, is fenced off.

use foundation_mailbox::ExitReason;
use foundation_persistence::{
    Journal, Journaling, MemoryStore, PersistentCallError, SnapshotPolicy, start_journaled,
};

use super::support::{Command, CountingJournal, Ledger, PATIENCE, post};

#[tokio::test]
async fn a_failed_append_fails_the_call_crashes_the_actor_and_writes_none_of_its_events() {
    let journal = CountingJournal::default();
    let journaling = || Journaling::new(journal.clone(), "l");
    let (ledger, _handle) = start_journaled::<Ledger>((), journaling()).await.unwrap();
    ledger.call(post(&[1]), PATIENCE).await.unwrap();
    journal.refuse_appends(true);
    let failed = ledger.call(post(&[2, 3]), PATIENCE).await;
    assert!(
        matches!(failed, Err(PersistentCallError::Save(_))),
        "{failed:?}"
    );
    let reason = ledger.wait_for_exit(PATIENCE).await.unwrap();
    assert!(matches!(reason, ExitReason::Error(_)), "{reason:?}");
    journal.refuse_appends(false);
    let (ledger, _handle) = start_journaled::<Ledger>((), journaling()).await.unwrap();
    assert_eq!(
        ledger.call(Command::Read, PATIENCE).await.unwrap().entries,
        [1]
    );
}

#[tokio::test]
async fn events_of_a_handler_that_fails_or_panics_are_not_written() {
    let store = MemoryStore::new();
    let journaling = || Journaling::new(store.clone(), "l");
    for command in [Command::PostThenFail(9), Command::PostThenPanic(9)] {
        let (ledger, _handle) = start_journaled::<Ledger>((), journaling()).await.unwrap();
        ledger.call(post(&[1]), PATIENCE).await.unwrap();
        ledger.cast(command).await.unwrap();
        ledger.wait_for_exit(PATIENCE).await.unwrap();
        let (ledger, _handle) = start_journaled::<Ledger>((), journaling()).await.unwrap();
        let entries = ledger.call(Command::Read, PATIENCE).await.unwrap().entries;
        assert!(entries.iter().all(|amount| *amount == 1), "{entries:?}");
        ledger.kill();
        ledger.wait_for_exit(PATIENCE).await.unwrap();
    }
    assert_eq!(store.read("l", 1).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_second_incarnation_on_the_same_journal_fences_the_first_off() {
    let store = MemoryStore::new();
    // Separate journalings: two processes that do not know of each other.
    let journaling = || Journaling::new(store.clone(), "l").snapshots(SnapshotPolicy::never());
    let (first, _handle) = start_journaled::<Ledger>((), journaling()).await.unwrap();
    let (second, _handle) = start_journaled::<Ledger>((), journaling()).await.unwrap();
    second.call(post(&[2]), PATIENCE).await.unwrap();
    let fenced = first.call(post(&[1]), PATIENCE).await;
    match fenced {
        Err(PersistentCallError::Save(error)) => assert!(error.is_conflict(), "{error}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let reason = first.wait_for_exit(PATIENCE).await.unwrap();
    assert!(reason.to_string().contains("fenced"), "{reason}");
    // The journal holds the second's event only, never interleaved.
    assert_eq!(
        second.call(Command::Read, PATIENCE).await.unwrap().entries,
        [2]
    );
    assert_eq!(store.read("l", 1).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_preloaded_recovery_is_used_once_and_an_out_of_date_one_is_fenced_off() {
    let store = MemoryStore::new();
    let journaling = || Journaling::new(store.clone(), "l").snapshots(SnapshotPolicy::never());
    let (ledger, _handle) = start_journaled::<Ledger>((), journaling()).await.unwrap();
    ledger.call(post(&[1, 2]), PATIENCE).await.unwrap();
    ledger.stop(ExitReason::Normal, PATIENCE).await.unwrap();
    let ids = ["l".to_owned()];
    let preloaded = store.recover_many(&ids).await.pop().unwrap().unwrap();

    // Used as read: the actor starts from it without reading the journal.
    let (ledger, _handle) =
        start_journaled::<Ledger>((), journaling().recovered(preloaded.clone()))
            .await
            .unwrap();
    assert_eq!(
        ledger.call(Command::Read, PATIENCE).await.unwrap().entries,
        [1, 2]
    );
    ledger.call(post(&[3]), PATIENCE).await.unwrap();
    ledger.stop(ExitReason::Normal, PATIENCE).await.unwrap();

    // Out of date (event 3 came after it): the first append is a
    // conflict and nothing is written; a restart reads the journal.
    let stale = journaling().recovered(preloaded);
    let (ledger, _handle) = start_journaled::<Ledger>((), stale.clone()).await.unwrap();
    assert_eq!(
        ledger.call(Command::Read, PATIENCE).await.unwrap().entries,
        [1, 2]
    );
    match ledger.call(post(&[4]), PATIENCE).await {
        Err(PersistentCallError::Save(error)) => assert!(error.is_conflict(), "{error}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    ledger.wait_for_exit(PATIENCE).await.unwrap();
    assert_eq!(store.read("l", 1).await.unwrap().len(), 3);
    let (ledger, _handle) = start_journaled::<Ledger>((), stale).await.unwrap();
    assert_eq!(
        ledger.call(Command::Read, PATIENCE).await.unwrap().entries,
        [1, 2, 3]
    );
}
