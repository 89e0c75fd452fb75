//! The crash test: increments acknowledged under write-through survive a SIGKILL of the whole process.
//!
//! The test re-runs its own binary as a node (`support/node.rs`, also
//! `examples/node.rs`) on a redb file: the node starts [`COUNTERS`]
//! persistent counters under a supervisor, reports what it recovered, then
//! increments counters as the driver asks on stdin and acknowledges each
//! on stdout once the call returned. The driver sends a burst of
//! increments, and after a random number of acknowledgements kills the
//! node with SIGKILL while the rest are in flight. The next round's node
//! recovers from the same file; every acknowledged increment must be there
//! (lost = 0), and nothing that was never sent. `FOUNDATION_CRASH_ROUNDS`
//! sets the rounds (default 20), `FOUNDATION_CRASH_SEED` replays a seed.

#[path = "support/node.rs"]
mod node;
// Shared with the two-node test, which uses the parts this one does not.
#[allow(dead_code)]
#[path = "support/process.rs"]
mod process;

use std::path::Path;

use foundation_persistence::{RedbStore, StateStore, codec};

use self::node::{Backend, Counter, Settings, key};

const TEST_NAME: &str = "acknowledged_increments_survive_sigkill";
const COUNTERS: usize = 4;
/// Increments sent to the node per round; the kill lands among them.
const BURST: usize = 48;

#[test]
fn acknowledged_increments_survive_sigkill() {
    match Settings::from_env() {
        Some(settings) => node::run(&settings),
        None => driver(),
    }
}

fn driver() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.redb");
    let settings = Settings {
        backend: Backend::Redb(path.display().to_string()),
        name: "crash".to_owned(),
        counters: COUNTERS,
    };
    let run = process::crash_rounds(TEST_NAME, &settings, COUNTERS, BURST, "increments");
    // Read back once more without any actor, straight from the file.
    let lost = lost_in_file(&path, &run.acknowledged);
    println!(
        "crash test: {} rounds, {} acknowledged increments, lost = {lost} (seed {})",
        run.rounds, run.acks, run.seed
    );
    assert_eq!(lost, 0);
}

/// How many acknowledged increments the file does not hold.
fn lost_in_file(path: &Path, acknowledged: &[u64]) -> u64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = RedbStore::open(path).unwrap();
    let mut lost = 0;
    for (index, acked) in acknowledged.iter().enumerate() {
        let stored = runtime
            .block_on(store.get(&key(index)))
            .unwrap()
            .map_or(0, |entry| {
                let Counter(count) = codec::decode(&key(index), &entry.value, 1).unwrap();
                count
            });
        lost += acked.saturating_sub(stored);
    }
    lost
}
