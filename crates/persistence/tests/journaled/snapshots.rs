//! Snapshots: snapshot + replay equals full replay; the journal is compacted behind each snapshot; by events and by bytes.

use foundation_persistence::{
    Journal, Journaling, MemoryStore, RedbStore, SnapshotPolicy, start_journaled,
};

use super::support::{Command, CountingJournal, Ledger, PATIENCE, post};

/// A fixed, varied command stream: posts of one to four events, and clears.
fn commands() -> Vec<Option<Vec<i64>>> {
    let mut seed = 0x9e37_79b9_u64;
    (0..120)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            match seed % 10 {
                0 => None,
                n => Some(
                    (0..(n % 4 + 1))
                        .map(|i| (seed % 97) as i64 - 40 + i as i64)
                        .collect(),
                ),
            }
        })
        .collect()
}

async fn run_and_recover(journaling: impl Fn() -> Journaling) -> Ledger {
    let (ledger, _handle) = start_journaled::<Ledger>((), journaling()).await.unwrap();
    for command in commands() {
        match command {
            Some(amounts) => ledger.call(post(&amounts), PATIENCE).await.unwrap(),
            None => ledger.call(Command::Clear, PATIENCE).await.unwrap(),
        };
    }
    let live = ledger.call(Command::Read, PATIENCE).await.unwrap();
    ledger.kill();
    ledger.wait_for_exit(PATIENCE).await.unwrap();
    let (ledger, _handle) = start_journaled::<Ledger>((), journaling()).await.unwrap();
    let recovered = ledger.call(Command::Read, PATIENCE).await.unwrap();
    assert_eq!(recovered, live, "recovery gives back the live state");
    recovered
}

#[tokio::test]
async fn snapshot_and_replay_equals_full_replay() {
    let full = MemoryStore::new();
    let snapshotted = CountingJournal::default();
    let replayed = run_and_recover(|| {
        Journaling::new(full.clone(), "ledger").snapshots(SnapshotPolicy::never())
    })
    .await;
    let from_snapshot = run_and_recover(|| {
        Journaling::new(snapshotted.clone(), "ledger").snapshots(
            SnapshotPolicy::default()
                .every_events(7)
                .proportional(false),
        )
    })
    .await;
    assert_eq!(from_snapshot, replayed);
    assert!(snapshotted.snapshots() > 10, "{}", snapshotted.snapshots());

    // Compaction: only the events after the latest snapshot remain.
    let recovery = snapshotted.inner.recover("ledger").await.unwrap();
    let snapshot = recovery.snapshot.expect("a snapshot was taken");
    assert_eq!(
        snapshotted.inner.read("ledger", 1).await.unwrap(),
        recovery.events
    );
    assert!(
        recovery
            .events
            .iter()
            .all(|entry| entry.sequence > snapshot.sequence)
    );
    assert!(recovery.events.len() < 7 + 4);
    assert_eq!(recovery.last, full.recover("ledger").await.unwrap().last);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_by_bytes_compact_the_redb_journal() {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(dir.path().join("journal.redb")).unwrap();
    let journaling = || {
        Journaling::new(store.clone(), "ledger")
            .snapshots(SnapshotPolicy::never().every_bytes(200).proportional(false))
    };
    let recovered = run_and_recover(journaling).await;
    let recovery = store.recover("ledger").await.unwrap();
    let snapshot = recovery.snapshot.expect("a snapshot was taken");
    let bytes: usize = recovery.events.iter().map(|entry| entry.bytes.len()).sum();
    assert!(
        bytes < 200 + 4 * 40,
        "{bytes} bytes left behind the snapshot"
    );
    assert!(snapshot.sequence > 0);
    assert_eq!(recovered.sum, recovered.entries.iter().sum::<i64>());
}

#[tokio::test]
async fn an_explicit_snapshot_compacts_the_journal() {
    let store = MemoryStore::new();
    let journaling = || Journaling::new(store.clone(), "l").snapshots(SnapshotPolicy::never());
    let (ledger, _handle) = start_journaled::<Ledger>((), journaling()).await.unwrap();
    ledger.call(post(&[1, 2, 3]), PATIENCE).await.unwrap();
    ledger.snapshot(PATIENCE).await.unwrap();
    assert!(store.read("l", 1).await.unwrap().is_empty());
    ledger.call(post(&[4]), PATIENCE).await.unwrap();
    ledger.kill();
    ledger.wait_for_exit(PATIENCE).await.unwrap();
    let (ledger, _handle) = start_journaled::<Ledger>((), journaling()).await.unwrap();
    assert_eq!(
        ledger.call(Command::Read, PATIENCE).await.unwrap().entries,
        [1, 2, 3, 4]
    );
}

#[tokio::test]
async fn a_large_state_is_snapshotted_only_once_its_events_weigh_as_much() {
    let journal = CountingJournal::default();
    let journaling = || {
        Journaling::new(journal.clone(), "l").snapshots(SnapshotPolicy::default().every_events(10))
    };
    let (ledger, _handle) = start_journaled::<Ledger>((), journaling()).await.unwrap();
    // 400 entries in one command: the first snapshot holds them all.
    let many: Vec<i64> = (0..400).collect();
    ledger.call(post(&many), PATIENCE).await.unwrap();
    assert_eq!(journal.snapshots(), 1);
    let snapshot = journal.inner.recover("l").await.unwrap().snapshot.unwrap();
    // Ten one-entry commands weigh far less than the snapshot: no new one.
    for amount in 0..10 {
        ledger.call(post(&[amount]), PATIENCE).await.unwrap();
    }
    assert_eq!(
        journal.snapshots(),
        1,
        "snapshot {} bytes",
        snapshot.bytes.len()
    );
    // Once the events since weigh as much as the snapshot, the next is taken.
    let mut commands = 0;
    while journal.snapshots() == 1 {
        ledger.call(post(&[1]), PATIENCE).await.unwrap();
        commands += 1;
        assert!(commands < 10_000, "no second snapshot");
    }
    let tail: usize = 10 + commands;
    assert!(
        tail * 20 >= snapshot.bytes.len(),
        "{tail} events, {} bytes",
        snapshot.bytes.len()
    );
}
