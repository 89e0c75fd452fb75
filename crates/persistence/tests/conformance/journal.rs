//! The journal cases: numbering, conflicts, racing appends, snapshots with compaction, recovery (one and many), restarts, and an event-sourced actor's replay and corrupt-event error, each written once for every backend.

use std::{sync::Arc, time::Duration};

use foundation_mailbox::{Context, ExitReason, Reply, StartError};
use foundation_persistence::{
    DecodeError, Emitter, EventSourced, Journal, JournalEntry, Journaled, Journaling,
    PersistentError, RecoverError, SnapshotPolicy, StoreError, Version, codec, start_journaled,
};
use serde::{Deserialize, Serialize};

use super::backends::Backend;

const PATIENCE: Duration = Duration::from_secs(30);

fn bytes(entries: &[JournalEntry]) -> Vec<(u64, Vec<u8>)> {
    entries
        .iter()
        .map(|entry| (entry.sequence, entry.bytes.clone()))
        .collect()
}

fn conflict(error: &StoreError) -> (Option<Version>, Option<Version>) {
    match error {
        StoreError::Conflict {
            expected, found, ..
        } => (*expected, *found),
        other => panic!("expected a conflict, got {other}"),
    }
}

pub(crate) async fn appends_are_numbered_from_one_without_gaps<B: Backend>(backend: &mut B) {
    let store = backend.store();
    assert_eq!(
        store.append("j", 0, vec![vec![1], vec![2]]).await.unwrap(),
        2
    );
    assert_eq!(store.append("j", 2, vec![vec![3]]).await.unwrap(), 3);
    // An empty append checks and writes nothing.
    assert_eq!(store.append("j", 3, Vec::new()).await.unwrap(), 3);
    assert_eq!(
        bytes(&store.read("j", 1).await.unwrap()),
        [(1, vec![1]), (2, vec![2]), (3, vec![3])]
    );
    assert_eq!(bytes(&store.read("j", 3).await.unwrap()), [(3, vec![3])]);
    assert!(store.read("nobody", 1).await.unwrap().is_empty());
    let recovery = store.recover("nobody").await.unwrap();
    assert_eq!(
        (recovery.snapshot, recovery.events.len(), recovery.last),
        (None, 0, 0)
    );
}

pub(crate) async fn a_stale_append_is_a_conflict_naming_the_head<B: Backend>(backend: &mut B) {
    let store = backend.store();
    store.append("j", 0, vec![vec![1], vec![2]]).await.unwrap();
    for after in [0, 1, 5] {
        let error = store.append("j", after, vec![vec![9]]).await.unwrap_err();
        assert_eq!(
            conflict(&error),
            (
                (after > 0).then(|| Version::new(after)),
                Some(Version::new(2))
            ),
            "after {after}: {error}"
        );
    }
    let error = store.append("j", 1, Vec::new()).await.unwrap_err();
    assert!(error.is_conflict(), "{error}");
    // An append to a journal that does not exist yet must start at 0.
    let error = store.append("new", 3, vec![vec![1]]).await.unwrap_err();
    assert_eq!(conflict(&error), (Some(Version::new(3)), None));
    assert_eq!(
        store.read("j", 1).await.unwrap().len(),
        2,
        "nothing written"
    );
    assert!(store.read("new", 1).await.unwrap().is_empty());
}

pub(crate) async fn racing_appends_on_one_id_have_exactly_one_winner<B: Backend>(backend: &mut B) {
    const WRITERS: u8 = 8;
    let store = backend.store();
    for after in [0_u64, 2] {
        let id = if after == 0 { "fresh" } else { "taken" };
        if after > 0 {
            store.append(id, 0, vec![vec![0], vec![0]]).await.unwrap();
        }
        let barrier = Arc::new(tokio::sync::Barrier::new(usize::from(WRITERS)));
        let writers: Vec<_> = (1..=WRITERS)
            .map(|writer| {
                let store = store.clone();
                let barrier = Arc::clone(&barrier);
                // audit:allow(FND001) a test's writer, joined right below
                tokio::spawn(async move {
                    barrier.wait().await;
                    let events = vec![vec![writer]; usize::from(writer)];
                    (writer, store.append(id, after, events).await)
                })
            })
            .collect();
        let (mut winners, mut losers) = (Vec::new(), Vec::new());
        for writer in writers {
            match writer.await.unwrap() {
                (writer, Ok(last)) => winners.push((writer, last)),
                (_, Err(error)) => losers.push(error),
            }
        }
        assert_eq!(winners.len(), 1, "{id}: {winners:?} won, {losers:?}");
        let (winner, last) = winners[0];
        assert_eq!(last, after + u64::from(winner));
        for error in &losers {
            assert_eq!(
                conflict(error),
                (
                    (after > 0).then(|| Version::new(after)),
                    Some(Version::new(last))
                ),
                "{id}: {error}"
            );
        }
        // Only the winner's events, none of the losers'.
        let events = store.read(id, after + 1).await.unwrap();
        assert_eq!(events.len(), usize::from(winner));
        assert!(events.iter().all(|entry| entry.bytes == [winner]));
    }
}

pub(crate) async fn a_snapshot_compacts_and_recovery_is_snapshot_plus_tail<B: Backend>(
    backend: &mut B,
) {
    let store = backend.store();
    store
        .append("j", 0, vec![vec![1], vec![2], vec![3]])
        .await
        .unwrap();
    let error = store.snapshot("j", 4, vec![0]).await.unwrap_err();
    assert!(error.is_conflict(), "a snapshot past the head: {error}");
    store.snapshot("j", 2, b"two".to_vec()).await.unwrap();
    assert_eq!(
        bytes(&store.read("j", 1).await.unwrap()),
        [(3, vec![3])],
        "the events the snapshot covers are gone"
    );
    store.append("j", 3, vec![vec![4]]).await.unwrap();
    let recovery = store.recover("j").await.unwrap();
    let snapshot = recovery.snapshot.unwrap();
    assert_eq!((snapshot.sequence, snapshot.bytes), (2, b"two".to_vec()));
    assert_eq!(bytes(&recovery.events), [(3, vec![3]), (4, vec![4])]);
    assert_eq!(recovery.last, 4);
    // An older snapshot never replaces a newer one.
    store.snapshot("j", 4, b"four".to_vec()).await.unwrap();
    store.snapshot("j", 3, b"three".to_vec()).await.unwrap();
    let recovery = store.recover("j").await.unwrap();
    assert_eq!(recovery.snapshot.unwrap().bytes, b"four");
    assert!(recovery.events.is_empty());
    // Numbering goes on after compaction: the head is kept.
    assert!(
        store
            .append("j", 0, vec![vec![9]])
            .await
            .unwrap_err()
            .is_conflict()
    );
    assert_eq!(store.append("j", 4, vec![vec![5]]).await.unwrap(), 5);
}

pub(crate) async fn journals_survive_reopening<B: Backend>(backend: &mut B) {
    let store = backend.store();
    store.append("a", 0, vec![vec![1], vec![2]]).await.unwrap();
    store.snapshot("a", 1, vec![10]).await.unwrap();
    store.append("b", 0, vec![vec![3]]).await.unwrap();
    drop(store);
    backend.reopen().await;
    let store = backend.store();
    let recovery = store.recover("a").await.unwrap();
    assert_eq!(recovery.snapshot.unwrap().bytes, [10]);
    assert_eq!(bytes(&recovery.events), [(2, vec![2])]);
    assert_eq!(store.append("a", 2, vec![vec![4]]).await.unwrap(), 3);
    assert_eq!(store.recover("b").await.unwrap().last, 1);
}

pub(crate) async fn many_recoveries_at_once_each_get_their_own<B: Backend>(backend: &mut B) {
    let store = backend.store();
    let ids: Vec<String> = (0..50).map(|index| format!("many/{index}")).collect();
    for (index, id) in (0_u8..).zip(&ids) {
        store.append(id, 0, vec![vec![index]; 3]).await.unwrap();
        if index % 2 == 0 {
            store.snapshot(id, 2, vec![index, index]).await.unwrap();
        }
    }
    let mut asked = ids.clone();
    asked.push("many/none".to_owned());
    asked.push(String::new());
    let recoveries = store.recover_many(&asked).await;
    assert_eq!(recoveries.len(), asked.len());
    for (index, recovery) in (0_u8..).zip(&recoveries[..ids.len()]) {
        let recovery = recovery.as_ref().unwrap();
        assert_eq!(recovery.last, 3);
        if index % 2 == 0 {
            assert_eq!(recovery.snapshot.as_ref().unwrap().bytes, [index, index]);
            assert_eq!(bytes(&recovery.events), [(3, vec![index])]);
        } else {
            assert!(recovery.snapshot.is_none());
            assert_eq!(recovery.events.len(), 3);
        }
        assert_eq!(
            *recovery,
            store.recover(&ids[usize::from(index)]).await.unwrap()
        );
    }
    assert_eq!(recoveries[ids.len()].as_ref().unwrap().last, 0);
    assert!(matches!(
        recoveries[ids.len() + 1],
        Err(StoreError::InvalidKey { .. })
    ));
}

/// A bulk recovery equals each id's own, whatever the order, the
/// duplicates, the ids with no journal between stored ones, the ids that
/// share prefixes, and the spacing (a store that walks its tables in key
/// order must seek past long gaps and never stop at a neighbour's events).
pub(crate) async fn a_bulk_recovery_of_any_order_and_spacing_equals_each_recovery<B: Backend>(
    backend: &mut B,
) {
    let store = backend.store();
    let mut stored: Vec<String> = (0..120).map(|index| format!("walk/{index:03}")).collect();
    stored.extend(["walk/0", "walk/0/0", "walk/00", "walk/1200", "walk/"].map(String::from));
    for (index, id) in (0_u8..).zip(&stored) {
        let events = usize::from(index % 4);
        if events > 0 {
            store
                .append(id, 0, vec![vec![index]; events])
                .await
                .unwrap();
        }
        match index % 3 {
            // A snapshot with events after it.
            0 if events > 1 => store.snapshot(id, 1, vec![index, 0]).await.unwrap(),
            // A snapshot of everything: no events after it.
            1 if events > 0 => store
                .snapshot(id, events as u64, vec![index, 1])
                .await
                .unwrap(),
            _ => {}
        }
    }
    let missing = ["walk/0005", "walk/050a", "a", "zzz", "walk", "walk/119/"].map(String::from);
    // Every stored id backwards, with the missing ones between them.
    let mut dense: Vec<String> = stored.iter().rev().cloned().collect();
    for (at, id) in missing.iter().enumerate() {
        dense.insert(at * 20, id.clone());
    }
    // Every 37th id: gaps longer than any short walk.
    let sparse: Vec<String> = stored.iter().step_by(37).cloned().collect();
    // The same ids several times, in no order.
    let repeated: Vec<String> = [7, 3, 7, 120, 3, 0, 124, 7]
        .iter()
        .map(|&index| stored[index].clone())
        .collect();
    for asked in [dense, sparse, repeated] {
        let recoveries = store.recover_many(&asked).await;
        assert_eq!(recoveries.len(), asked.len());
        for (id, recovery) in asked.iter().zip(recoveries) {
            assert_eq!(recovery.unwrap(), store.recover(id).await.unwrap(), "{id}");
        }
    }
    // A spot check that the comparison compares something.
    let one = store.recover_many(&stored[1..2]).await.remove(0).unwrap();
    assert_eq!((one.last, one.snapshot.unwrap().bytes), (1, vec![1, 1]));
    assert!(one.events.is_empty());
}

pub(crate) async fn bad_ids_are_typed_errors<B: Backend>(backend: &mut B) {
    let store = backend.store();
    let long = "x".repeat(foundation_persistence::MAX_KEY_LEN + 1);
    for id in ["", long.as_str()] {
        let invalid = |error: StoreError| matches!(error, StoreError::InvalidKey { .. });
        assert!(invalid(
            store.append(id, 0, vec![vec![1]]).await.unwrap_err()
        ));
        assert!(invalid(store.read(id, 1).await.unwrap_err()));
        assert!(invalid(store.recover(id).await.unwrap_err()));
        assert!(invalid(store.snapshot(id, 0, vec![]).await.unwrap_err()));
    }
}

pub(crate) async fn concurrent_appends_to_many_journals_land_in_order<B: Backend>(backend: &mut B) {
    let store = backend.store();
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..16_u8 {
        let store = store.clone();
        writers.spawn(async move {
            let id = format!("w/{writer}");
            let mut last = 0;
            for round in 0..20_u8 {
                last = store
                    .append(&id, last, vec![vec![writer, round], vec![writer, round]])
                    .await
                    .unwrap();
            }
            last
        });
    }
    while let Some(last) = writers.join_next().await {
        assert_eq!(last.unwrap(), 40);
    }
    for writer in 0..16_u8 {
        let events = store.read(&format!("w/{writer}"), 1).await.unwrap();
        let rounds: Vec<u8> = events.iter().map(|entry| entry.bytes[1]).collect();
        let expected: Vec<u8> = (0..20).flat_map(|round| [round, round]).collect();
        assert_eq!(rounds, expected);
        assert!(events.iter().all(|entry| entry.bytes[0] == writer));
    }
}

/// A running total, event sourced.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Total {
    amounts: Vec<i64>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Posted(i64);

#[derive(Debug)]
enum TotalMsg {
    Post(Vec<i64>, Reply<i64>),
    Read(Reply<Vec<i64>>),
}

impl EventSourced for Total {
    type Args = ();
    type Msg = TotalMsg;
    type Event = Posted;
    type Error = std::convert::Infallible;

    async fn init(_: (), _: &mut Context<Journaled<Self>>) -> Result<Self, Self::Error> {
        Ok(Self::default())
    }

    fn apply(&mut self, Posted(amount): &Posted) {
        self.amounts.push(*amount);
    }

    async fn handle(
        state: &mut Emitter<'_, Self>,
        msg: TotalMsg,
        _: &mut Context<Journaled<Self>>,
    ) -> Result<(), Self::Error> {
        match msg {
            TotalMsg::Post(amounts, reply) => {
                for amount in amounts {
                    state.emit(Posted(amount));
                }
                reply.send(state.amounts.iter().sum()).unwrap_or_default();
            }
            TotalMsg::Read(reply) => reply.send(state.amounts.clone()).unwrap_or_default(),
        }
        Ok(())
    }
}

fn post(amounts: &[i64]) -> impl FnOnce(Reply<i64>) -> TotalMsg {
    let amounts = amounts.to_vec();
    move |reply| TotalMsg::Post(amounts, reply)
}

pub(crate) async fn an_actor_replays_snapshot_and_events_after_a_kill<B: Backend>(backend: &mut B) {
    let store = backend.store();
    let journaling = || {
        Journaling::new(store.clone(), "total").snapshots(SnapshotPolicy::never().every_events(4))
    };
    let (total, _handle) = start_journaled::<Total>((), journaling()).await.unwrap();
    for amounts in [&[1, 2][..], &[3, 4, 5], &[6], &[7, 8]] {
        total.call(post(amounts), PATIENCE).await.unwrap();
    }
    total.snapshot(PATIENCE).await.unwrap();
    total.call(post(&[9]), PATIENCE).await.unwrap();
    total.kill();
    total.wait_for_exit(PATIENCE).await.unwrap();
    let (total, _handle) = start_journaled::<Total>((), journaling()).await.unwrap();
    let amounts = total.call(TotalMsg::Read, PATIENCE).await.unwrap();
    assert_eq!(amounts, (1..=9).collect::<Vec<_>>());
    let recovery = store.recover("total").await.unwrap();
    assert_eq!(recovery.snapshot.unwrap().sequence, 8);
    assert_eq!(recovery.events.len(), 1);
}

pub(crate) async fn a_corrupt_event_is_a_typed_error_that_loses_nothing_before_it<B: Backend>(
    backend: &mut B,
) {
    let store = backend.store();
    let journaling = || Journaling::new(store.clone(), "total").snapshots(SnapshotPolicy::never());
    let (total, _handle) = start_journaled::<Total>((), journaling()).await.unwrap();
    total.call(post(&[1, 2, 3]), PATIENCE).await.unwrap();
    total.kill();
    total.wait_for_exit(PATIENCE).await.unwrap();
    // Event 4: the right header shape, a damaged payload.
    let mut damaged = codec::encode("total", 1, &Posted(4)).unwrap();
    *damaged.last_mut().unwrap() ^= 0xff;
    store.append("total", 3, vec![damaged]).await.unwrap();

    let error = start_journaled::<Total>((), journaling())
        .await
        .unwrap_err();
    let StartError::Init(ExitReason::Error(cause)) = error else {
        panic!("expected a failed init, got {error:?}");
    };
    let recovered = match cause.downcast_ref::<PersistentError<std::convert::Infallible>>() {
        Some(PersistentError::Recover(error)) => error.clone(),
        other => panic!("expected a recovery error, got {other:?}"),
    };
    assert!(
        matches!(&recovered, RecoverError::Decode(DecodeError::Checksum { key }) if key == "total#4"),
        "{recovered:?}"
    );
    let events = store.read("total", 1).await.unwrap();
    assert_eq!(events.len(), 4, "nothing was removed");
    for (entry, amount) in events.iter().take(3).zip(1..) {
        let event: Posted = codec::decode("total", &entry.bytes, 1).unwrap();
        assert_eq!(event, Posted(amount));
    }
}
