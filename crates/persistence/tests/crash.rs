//! The crash test: increments acknowledged under write-through survive a SIGKILL of the whole process.
//!
//! The test re-runs its own binary as the child (selected by an environment
//! variable): the child opens the redb store, starts [`COUNTERS`] persistent
//! counters, reports what it recovered, then increments counters as the
//! driver asks on stdin and acknowledges each on stdout once the call
//! returned. The driver sends a burst of increments, and after a random
//! number of acknowledgements kills the child with SIGKILL while the rest
//! are in flight. The next round's child recovers from the same file; every
//! acknowledged increment must be there (lost = 0), and nothing that was
//! never sent. `FOUNDATION_CRASH_ROUNDS` sets the rounds (default 20),
//! `FOUNDATION_CRASH_SEED` replays a seed.

use std::{
    collections::hash_map::RandomState,
    hash::BuildHasher,
    io::{BufRead, BufReader, Write},
    path::Path,
    process::{Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use foundation_mailbox::{Context, Reply};
use foundation_persistence::{
    Persistence, Persistent, PersistentActor, RedbStore, StateStore, codec, start,
};
use serde::{Deserialize, Serialize};

const CHILD_ENV: &str = "FOUNDATION_PERSISTENCE_CRASH_CHILD";
const ROUNDS_ENV: &str = "FOUNDATION_CRASH_ROUNDS";
const SEED_ENV: &str = "FOUNDATION_CRASH_SEED";
const TEST_NAME: &str = "acknowledged_increments_survive_sigkill";
const COUNTERS: usize = 4;
/// Increments sent to the child per round; the kill lands among them.
const BURST: usize = 48;
const PATIENCE: Duration = Duration::from_secs(30);

#[derive(Debug, Serialize, Deserialize)]
struct Counter(u64);

/// Each answers with the count.
#[derive(Debug)]
enum Call {
    Get(Reply<u64>),
    Increment(Reply<u64>),
}

impl PersistentActor for Counter {
    type Args = ();
    type Msg = Call;
    type Error = std::convert::Infallible;

    async fn init(_: (), _: &mut Context<Persistent<Self>>) -> Result<Self, Self::Error> {
        Ok(Counter(0))
    }

    async fn handle(
        &mut self,
        call: Call,
        _: &mut Context<Persistent<Self>>,
    ) -> Result<(), Self::Error> {
        let reply = match call {
            Call::Get(reply) => reply,
            Call::Increment(reply) => {
                self.0 += 1;
                reply
            }
        };
        reply.send(self.0).unwrap_or_default();
        Ok(())
    }
}

fn key(index: usize) -> String {
    format!("counter/{index}")
}

#[test]
fn acknowledged_increments_survive_sigkill() {
    match std::env::var_os(CHILD_ENV) {
        Some(path) => child(Path::new(&path)),
        None => driver(),
    }
}

/// The child: report the recovered counts, then serve increments until
/// killed (or until stdin closes).
fn child(path: &Path) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = RedbStore::open(path).unwrap();
    let counters: Vec<_> = (0..COUNTERS)
        .map(|index| {
            runtime
                .block_on(start::<Counter>(
                    (),
                    Persistence::new(store.clone(), key(index)),
                ))
                .unwrap()
        })
        .collect();
    let recovered: Vec<String> = counters
        .iter()
        .map(|(counter, _)| {
            runtime
                .block_on(counter.call(Call::Get, PATIENCE))
                .unwrap()
                .to_string()
        })
        .collect();
    println!("ready {}", recovered.join(" "));
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let index: usize = line.trim().parse().unwrap();
        let value = runtime
            .block_on(counters[index].0.call(Call::Increment, PATIENCE))
            .unwrap();
        // Printed (and flushed, stdout is line-buffered) only once durable.
        println!("ack {index} {value}");
    }
}

/// What the driver hears from the child.
enum Heard {
    Ready(Vec<u64>),
    Ack(usize, u64),
}

/// A small xorshift generator: the test needs varied kill moments, not quality.
struct Rng(u64);

impl Rng {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

fn driver() {
    let rounds: usize = std::env::var(ROUNDS_ENV)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var(SEED_ENV)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| RandomState::new().hash_one(0_u8) | 1);
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.redb");
    // The highest value acknowledged, and the most that was ever asked, per counter.
    let mut acknowledged = [0_u64; COUNTERS];
    let mut asked = [0_u64; COUNTERS];
    let mut acks = 0_u64;
    let mut lost = 0_u64;
    for round in 0..rounds {
        let recovered = run_round(&path, &mut rng, &mut acknowledged, &mut asked, &mut acks);
        lost += recovered.lost;
        assert_eq!(lost, 0, "round {round} (seed {seed}): {}", recovered.detail);
    }
    // Read back once more without any actor, straight from the file.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = RedbStore::open(&path).unwrap();
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
    println!(
        "crash test: {rounds} rounds, {acks} acknowledged increments, lost = {lost} (seed {seed})"
    );
    assert_eq!(lost, 0);
}

/// One child's life: start, check what it recovered, send a burst, kill it
/// after a random number of acknowledgements.
fn run_round(
    path: &Path,
    rng: &mut Rng,
    acknowledged: &mut [u64; COUNTERS],
    asked: &mut [u64; COUNTERS],
    acks: &mut u64,
) -> Checked {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            TEST_NAME,
            "--exact",
            "--nocapture",
            "--test-threads=1",
            "--quiet",
        ])
        .env(CHILD_ENV, path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (heard, hear) = mpsc::sync_channel(BURST * 2);
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let words: Vec<&str> = line.split_whitespace().collect();
            let message = match words.as_slice() {
                ["ready", counts @ ..] => {
                    Heard::Ready(counts.iter().map(|count| count.parse().unwrap()).collect())
                }
                ["ack", index, value] => Heard::Ack(index.parse().unwrap(), value.parse().unwrap()),
                // The test harness's own lines.
                _ => continue,
            };
            if heard.send(message).is_err() {
                break;
            }
        }
    });
    let recovered = match hear.recv_timeout(PATIENCE) {
        Ok(Heard::Ready(counts)) => counts,
        Ok(Heard::Ack(..)) => panic!("an ack before ready"),
        Err(error) => panic!("the child never reported ready: {error}"),
    };
    // Every increment acknowledged by an earlier child must be there, and
    // nothing beyond what was ever sent.
    let mut checked = Checked {
        lost: 0,
        detail: format!("acknowledged {acknowledged:?}, recovered {recovered:?}"),
    };
    for index in 0..COUNTERS {
        checked.lost += acknowledged[index].saturating_sub(recovered[index]);
        assert!(
            recovered[index] <= asked[index],
            "phantom increments: {}",
            checked.detail
        );
    }
    // The counters now hold what was recovered; later acks count from there.
    let mut stdin = child.stdin.take().unwrap();
    let mut burst = String::new();
    for _ in 0..BURST {
        let index = rng.below(COUNTERS as u64) as usize;
        asked[index] = asked[index].max(recovered[index]) + 1;
        burst.push_str(&format!("{index}\n"));
    }
    stdin.write_all(burst.as_bytes()).unwrap();
    stdin.flush().unwrap();
    let kill_after = 1 + rng.below(BURST as u64 - 1);
    let mut heard_acks = 0;
    let mut record = |index: usize, value: u64, acks: &mut u64| {
        acknowledged[index] = acknowledged[index].max(value);
        *acks += 1;
    };
    while heard_acks < kill_after {
        match hear.recv_timeout(PATIENCE) {
            Ok(Heard::Ack(index, value)) => {
                record(index, value, acks);
                heard_acks += 1;
            }
            Ok(Heard::Ready(_)) => panic!("a second ready"),
            Err(error) => panic!("no ack from the child: {error}"),
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    drop(stdin);
    // Acks the child printed before it died were acknowledged too.
    while let Ok(message) = hear.recv_timeout(PATIENCE) {
        if let Heard::Ack(index, value) = message {
            record(index, value, acks);
        }
    }
    reader.join().unwrap();
    checked
}

/// What one round found at its start.
struct Checked {
    lost: u64,
    detail: String,
}
