//! The journal's crash test: events acknowledged to callers survive a SIGKILL of the whole process, and no command is ever half in the journal.
//!
//! As `tests/crash.rs` does for durable state, the test re-runs its own
//! binary as a node (`support/journal_node.rs`) on a redb file: event-
//! sourced counters whose every increment appends two events in one
//! write, snapshotting every few events. The driver sends a burst of
//! increments across the counters (so appends meet in the store's group
//! commit), kills the node with SIGKILL after a random number of
//! acknowledgements, and starts the next round on the same file. Every
//! acknowledged increment must be recovered (lost = 0), nothing that was
//! never sent, and no increment half there. `FOUNDATION_CRASH_ROUNDS` sets
//! the rounds (default 20), `FOUNDATION_CRASH_SEED` replays a seed.

#[path = "support/journal_node.rs"]
mod node;
// Shared with the other node tests, which use the parts this one does not.
#[allow(dead_code)]
#[path = "support/process.rs"]
mod process;

use std::path::Path;

use foundation_persistence::{Journal, RedbStore, codec};

use self::node::{Event, Settings, Tally, id};

const TEST_NAME: &str = "acknowledged_events_survive_sigkill";
const COUNTERS: usize = 4;
/// Increments sent to the node per round; the kill lands among them.
const BURST: usize = 48;

#[test]
fn acknowledged_events_survive_sigkill() {
    match Settings::from_env() {
        Some(settings) => node::run(&settings),
        None => driver(),
    }
}

fn driver() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.redb");
    let settings = Settings {
        path: path.display().to_string(),
        name: "journal-crash".to_owned(),
        counters: COUNTERS,
    };
    let run = process::crash_rounds(TEST_NAME, &settings, COUNTERS, BURST, "events");
    let lost = lost_in_file(&path, &run.acknowledged);
    println!(
        "journal crash test: {} rounds, {} acknowledged increments, lost = {lost} (seed {})",
        run.rounds, run.acks, run.seed
    );
    assert_eq!(lost, 0);
}

/// How many acknowledged increments the file does not hold, read straight
/// from the journal without any actor; also checks that every increment
/// after the snapshot is whole (an `Added` followed by its `Noted`).
fn lost_in_file(path: &Path, acknowledged: &[u64]) -> u64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = RedbStore::open(path).unwrap();
    let mut lost = 0;
    for (index, acked) in acknowledged.iter().enumerate() {
        let id = id(index);
        let recovery = runtime.block_on(store.recover(&id)).unwrap();
        let mut total = recovery.snapshot.map_or(0, |snapshot| {
            let tally: Tally = codec::decode(&id, &snapshot.bytes, 1).unwrap();
            assert_eq!(
                tally.total, tally.notes,
                "{id}: the snapshot holds a half increment"
            );
            tally.total
        });
        let events: Vec<Event> = recovery
            .events
            .iter()
            .map(|entry| codec::decode(&id, &entry.bytes, 1).unwrap())
            .collect();
        for pair in events.chunks(2) {
            match pair {
                [Event::Added(amount), Event::Noted(noted)] => {
                    total += amount;
                    assert_eq!(
                        *noted, total,
                        "{id}: a note that does not follow its addition"
                    );
                }
                other => panic!("{id}: a half-written increment in the journal: {other:?}"),
            }
        }
        lost += acked.saturating_sub(total);
    }
    lost
}
