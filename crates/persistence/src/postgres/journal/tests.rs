//! Unit tests of the PostgreSQL journal: a transaction killed before its commit leaves none of its appends; appends queued together commit in one transaction, a conflict among them failing only itself; two nodes racing on one journal.
//!
//! What every journal promises is in the conformance suite
//! (`tests/conformance/journal.rs`). These skip without
//! `FOUNDATION_TEST_POSTGRES_URL` (and fail under
//! `FOUNDATION_REQUIRE_POSTGRES=1`); run them with
//! `bash .ci/postgres cargo test -p foundation-persistence`.

use std::{sync::atomic::Ordering, time::Duration};

use super::super::{PostgresStore, testing::TestSchema};
use crate::{Journal, StoreError};

const PATIENCE: Duration = Duration::from_secs(30);

async fn open(test: &str) -> Option<(TestSchema, PostgresStore)> {
    let schema = TestSchema::create(test)?;
    let store = PostgresStore::open(schema.config()).await.unwrap();
    Some((schema, store))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_killed_before_its_commit_leaves_none_of_its_appends() {
    let Some((schema, store)) = open("postgres::journal::killed_before_commit").await else {
        return;
    };
    store.append("a", 0, vec![vec![1], vec![2]]).await.unwrap();

    // What a group commit sends, in a transaction whose backend is killed
    // before it commits: the server aborts it, as it would after a crash
    // of the node or of the server.
    let mut doomed = store.database.client("doomed").await.unwrap();
    let transaction = doomed.transaction().await.unwrap();
    let pid: i32 = transaction
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    let three: Vec<&[u8]> = vec![&[3], &[4], &[5]];
    let next = transaction
        .query_opt(
            &store.journal.sql.append_next,
            &[&"a".as_bytes(), &2_i64, &three],
        )
        .await
        .unwrap();
    assert_eq!(next.map(|row| row.get::<_, i64>(0)), Some(5));
    let first = transaction
        .query_opt(&store.journal.sql.append_first, &[&"b".as_bytes(), &three])
        .await
        .unwrap();
    assert!(first.is_some());

    let killer = store.database.client("killer").await.unwrap();
    let killed: bool = killer
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .unwrap()
        .get(0);
    assert!(killed);
    let error = transaction.commit().await.unwrap_err();
    assert!(error.is_closed() || error.code().is_some(), "{error}");
    // Out of the pool: its socket may not be seen closed yet.
    drop(deadpool_postgres::Object::take(doomed));

    let recovery = store.recover("a").await.unwrap();
    assert_eq!(recovery.last, 2, "none of the killed append's events");
    assert_eq!(recovery.events.len(), 2);
    assert_eq!(store.recover("b").await.unwrap().last, 0);
    assert!(store.read("b", 1).await.unwrap().is_empty());
    // Both journals go on from where they durably were.
    assert_eq!(store.append("a", 2, vec![vec![3]]).await.unwrap(), 3);
    assert_eq!(store.append("b", 0, vec![vec![1]]).await.unwrap(), 1);
    drop((killer, store));
    schema.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_queued_together_commit_in_one_transaction_and_a_conflict_fails_only_itself() {
    let Some((schema, store)) = open("postgres::journal::one_transaction").await else {
        return;
    };
    const APPENDS: u8 = 32;
    let before = store.journal.commits.load(Ordering::Relaxed);
    // Hold the committer lock, as a commit in flight would, while the
    // appends queue up behind it.
    let held = store.journal.committer.lock().await;
    let mut appends = tokio::task::JoinSet::new();
    for index in 0..APPENDS {
        let store = store.clone();
        appends.spawn(async move {
            // Two appends to `same` expect an empty journal: the first
            // queued wins, the second is a conflict.
            let id = if index < 2 {
                "same".to_owned()
            } else {
                format!("many/{index}")
            };
            (index, store.append(&id, 0, vec![vec![index]; 2]).await)
        });
    }
    tokio::time::timeout(PATIENCE, async {
        while store.journal.queued() < usize::from(APPENDS) {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the appends queue up");
    drop(held);
    let mut conflicts = 0;
    while let Some(joined) = appends.join_next().await {
        match joined.unwrap() {
            (_, Ok(last)) => assert_eq!(last, 2),
            (index, Err(error)) => {
                assert!(index < 2 && error.is_conflict(), "{index}: {error}");
                conflicts += 1;
            }
        }
    }
    assert_eq!(conflicts, 1, "one of the two appends to `same` lost");
    assert_eq!(
        store.journal.commits.load(Ordering::Relaxed) - before,
        1,
        "one transaction for all of them"
    );
    for index in 2..APPENDS {
        let events = store.read(&format!("many/{index}"), 1).await.unwrap();
        assert_eq!(events.len(), 2);
    }
    let same = store.read("same", 1).await.unwrap();
    assert_eq!(same.len(), 2);
    assert_eq!(same[0].bytes, same[1].bytes, "only the winner's events");
    drop(store);
    schema.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_racing_on_one_journal_have_one_winner() {
    let Some((schema, first)) = open("postgres::journal::two_nodes").await else {
        return;
    };
    let second = PostgresStore::open(schema.config()).await.unwrap();
    for round in 0..10_u64 {
        let after = round * 2;
        let (left, right) = tokio::join!(
            first.append("shared", after, vec![vec![1], vec![1]]),
            second.append("shared", after, vec![vec![2], vec![2]]),
        );
        let (winner, loser) = match (left, right) {
            (Ok(last), Err(error)) | (Err(error), Ok(last)) => (last, error),
            other => panic!("round {round}: exactly one must win, got {other:?}"),
        };
        assert_eq!(winner, after + 2);
        assert!(
            matches!(&loser, StoreError::Conflict { found: Some(found), .. } if found.get() == after + 2),
            "{loser}"
        );
    }
    let events = first.read("shared", 1).await.unwrap();
    assert_eq!(events.len(), 20);
    for pair in events.chunks(2) {
        assert_eq!(pair[0].bytes, pair[1].bytes, "no append interleaved");
    }
    drop((first, second));
    schema.drop_schema().await;
}
