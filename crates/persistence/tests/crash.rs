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

use self::{
    node::{Backend, Counter, Settings, key},
    process::{Heard, NodeProcess, Rng, count_from},
};

const ROUNDS_VAR: &str = "FOUNDATION_CRASH_ROUNDS";
const SEED_VAR: &str = "FOUNDATION_CRASH_SEED";
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
    let rounds = count_from(ROUNDS_VAR, 20);
    let (mut rng, seed) = Rng::seeded(SEED_VAR);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.redb");
    let settings = Settings {
        backend: Backend::Redb(path.display().to_string()),
        name: "crash".to_owned(),
        counters: COUNTERS,
    };
    // The highest value acknowledged, and the most that was ever asked, per counter.
    let mut acknowledged = [0_u64; COUNTERS];
    let mut asked = [0_u64; COUNTERS];
    let mut acks = 0_u64;
    for round in 0..rounds {
        let (mut node, recovered) = NodeProcess::start(TEST_NAME, &settings);
        // Every increment acknowledged by an earlier node must be there, and
        // nothing beyond what was ever sent.
        let detail = format!("acknowledged {acknowledged:?}, recovered {recovered:?}");
        for index in 0..COUNTERS {
            assert!(
                recovered[index] >= acknowledged[index],
                "round {round} (seed {seed}): lost increments: {detail}"
            );
            assert!(
                recovered[index] <= asked[index],
                "round {round} (seed {seed}): phantom increments: {detail}"
            );
        }
        // The counters now hold what was recovered; later acks count from there.
        let mut burst = String::new();
        for _ in 0..BURST {
            let index = rng.below(COUNTERS as u64) as usize;
            asked[index] = asked[index].max(recovered[index]) + 1;
            burst.push_str(&format!("inc {index}\n"));
        }
        node.send(&burst);
        let kill_after = 1 + rng.below(BURST as u64 - 1);
        let mut record = |heard: Heard, acks: &mut u64| match heard {
            Heard::Ack(index, value) => {
                acknowledged[index] = acknowledged[index].max(value);
                *acks += 1;
            }
            other => panic!("round {round}: expected an ack, heard {other:?}"),
        };
        for _ in 0..kill_after {
            let heard = node.next();
            record(heard, &mut acks);
        }
        // Acks the node printed before it died were acknowledged too.
        for heard in node.kill() {
            record(heard, &mut acks);
        }
    }
    // Read back once more without any actor, straight from the file.
    let lost = lost_in_file(&path, &acknowledged);
    println!(
        "crash test: {rounds} rounds, {acks} acknowledged increments, lost = {lost} (seed {seed})"
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
