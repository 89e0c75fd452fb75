//! Unit tests of the redb journal: an append cut off by a failing disk leaves none of its events; a read failing mid-batch gives no wrong recovery; concurrent appends share commits and stay in order.

use std::{path::PathBuf, sync::Arc};

use super::super::{Backing, RedbStore, faulty::Faults};
use crate::{Journal, Recovery, StoreError};

fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.redb");
    (dir, path)
}

#[tokio::test]
async fn an_append_cut_off_by_the_disk_leaves_none_of_its_events() {
    let (_dir, path) = temp();
    let faults = Arc::new(Faults::default());
    let store = RedbStore::open_with(&path, Backing::Faulty(Arc::clone(&faults))).unwrap();
    store.append("a", 0, vec![vec![1], vec![2]]).await.unwrap();

    faults.fail_writes(true);
    let error = store
        .append("a", 2, vec![vec![3], vec![4], vec![5]])
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Backend { .. }), "{error}");
    faults.fail_writes(false);

    let recovery = store.recover("a").await.unwrap();
    assert_eq!(recovery.last, 2, "the failed append left no trace");
    assert_eq!(recovery.events.len(), 2);
    // The journal goes on from where it durably was.
    assert_eq!(store.append("a", 2, vec![vec![3]]).await.unwrap(), 3);
    drop(store);
    let reopened = RedbStore::open(&path).unwrap();
    let bytes: Vec<Vec<u8>> = reopened
        .read("a", 1)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.bytes)
        .collect();
    assert_eq!(bytes, [vec![1], vec![2], vec![3]]);
}

/// A bulk recovery walks the tables across many pages; a read that fails
/// anywhere in it (on a cold cache, at every third page read) fails the
/// recoveries from there on (redb fails the rest of that read
/// transaction) with errors naming their own ids, and never gives any id
/// a wrong or shortened recovery. The store then reads everything again.
/// Without the walk being dropped at its error, the next id read on from
/// the failed iterator and got a short recovery.
#[tokio::test]
async fn a_read_failing_anywhere_in_a_bulk_recovery_gives_no_wrong_recovery() {
    let (_dir, path) = temp();
    let ids: Vec<String> = (0..300).map(|index| format!("r/{index:03}")).collect();
    let store = RedbStore::open(&path).unwrap();
    // 200-byte events: the events table spans many pages. Appends made
    // together share a commit, which keeps the seeding quick.
    let appends = ids.iter().enumerate().map(|(index, id)| {
        let store = store.clone();
        async move {
            store
                .append(id, 0, vec![vec![index as u8; 200]; 3])
                .await
                .unwrap();
            if index % 2 == 0 {
                store.snapshot(id, 1, vec![index as u8]).await.unwrap();
            }
        }
    });
    futures::future::join_all(appends).await;
    let expected: Vec<Recovery> = store
        .recover_many(&ids)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    drop(store);
    let mut failures = 0;
    // About 95 pages are read on a cold cache; every third position, and
    // some past the end, where nothing fails.
    for reads in (0..110).step_by(3) {
        let faults = Arc::new(Faults::default());
        let store = RedbStore::open_with(&path, Backing::Faulty(Arc::clone(&faults))).unwrap();
        faults.fail_one_read_after(reads);
        let answers = store.recover_many(&ids).await;
        for ((id, answer), expected) in ids.iter().zip(answers).zip(&expected) {
            match answer {
                Ok(recovery) => assert_eq!(&recovery, expected, "{id} after {reads} reads"),
                Err(error) => {
                    failures += 1;
                    assert!(error.to_string().contains(id.as_str()), "{error}");
                }
            }
        }
        let again: Vec<Recovery> = store
            .recover_many(&ids)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(again, expected, "after {reads} reads");
    }
    assert!(failures > 0, "no read ever failed: the test tests nothing");
}

#[tokio::test]
async fn a_stale_append_and_a_snapshot_past_the_end_are_conflicts() {
    let (_dir, path) = temp();
    let store = RedbStore::open(&path).unwrap();
    store.append("a", 0, vec![vec![1]]).await.unwrap();
    assert!(
        store
            .append("a", 0, vec![vec![9]])
            .await
            .unwrap_err()
            .is_conflict()
    );
    assert!(
        store
            .snapshot("a", 2, vec![0])
            .await
            .unwrap_err()
            .is_conflict()
    );
    store.snapshot("a", 1, vec![7]).await.unwrap();
    // An older snapshot never replaces a newer one.
    store.append("a", 1, vec![vec![2]]).await.unwrap();
    store.snapshot("a", 2, vec![8]).await.unwrap();
    store.snapshot("a", 1, vec![6]).await.unwrap();
    let recovery = store.recover("a").await.unwrap();
    assert_eq!(recovery.snapshot.unwrap().bytes, [8]);
    assert!(recovery.events.is_empty());
    assert_eq!(recovery.last, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recoveries_asked_at_once_each_get_their_own_journal_and_free_the_file() {
    let (_dir, path) = temp();
    let store = RedbStore::open(&path).unwrap();
    for index in 0..200_u8 {
        let id = format!("r/{index}");
        store.append(&id, 0, vec![vec![index]; 3]).await.unwrap();
        if index % 2 == 0 {
            store.snapshot(&id, 2, vec![index, index]).await.unwrap();
        }
    }
    let recoveries = (0..200_u8).map(|index| {
        let store = store.clone();
        async move { (index, store.recover(&format!("r/{index}")).await.unwrap()) }
    });
    for (index, recovery) in futures::future::join_all(recoveries).await {
        assert_eq!(recovery.last, 3);
        if index % 2 == 0 {
            assert_eq!(recovery.snapshot.unwrap().bytes, [index, index]);
            assert_eq!(recovery.events.len(), 1);
        } else {
            assert!(recovery.snapshot.is_none());
            assert_eq!(recovery.events.len(), 3);
        }
        assert!(recovery.events.iter().all(|entry| entry.bytes == [index]));
    }
    drop(store);
    // No reader task still holds the database.
    RedbStore::open(&path).unwrap();
}
