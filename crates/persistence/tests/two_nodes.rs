//! Two nodes on one PostgreSQL database: a node SIGKILLed mid-stream loses no acknowledged write to the node that takes over, and when it comes back it is fenced off, not allowed to overwrite.
//!
//! Each node is this test binary re-run as `support/node.rs` (also
//! `examples/node.rs`): [`COUNTERS`] write-through persistent counters,
//! each a transient child of the node's supervisor, on one
//! `PostgresStore`. Every round:
//!
//! 1. The owner gets a burst of increments and is SIGKILLed after a random
//!    number of acknowledgements, the rest in flight.
//! 2. Once the server has ended the dead node's sessions (a failure
//!    detector's verdict), the other node starts and recovers: every
//!    acknowledged increment must be there, and nothing never sent.
//! 3. The killed node comes back while the other owns the counters: it
//!    recovers the same values. The owner increments each counter; then
//!    the returning node's first save of each fails with a version
//!    conflict, and its supervisor stops that counter instead of
//!    restarting it.
//! 4. The owner carries on: its next increments land on its own values,
//!    so none of its writes was overwritten. The nodes swap roles.
//!
//! 20 rounds by default (`FOUNDATION_TWO_NODES_ROUNDS`),
//! `FOUNDATION_TWO_NODES_SEED` replays a seed. Needs
//! `FOUNDATION_TEST_POSTGRES_URL`: `bash .ci/postgres cargo test -p
//! foundation-persistence --test two_nodes` starts a local server.

#[path = "support/node.rs"]
mod node;
// Shared with the crash test, which uses the parts this one does not.
#[allow(dead_code)]
#[path = "support/process.rs"]
mod process;

use std::time::Instant;

use foundation_persistence::{
    PostgresStore, StateStore, codec, postgres::Postgres, postgres::testing::TestSchema,
};

use self::{
    node::{Backend, Counter, Settings, key},
    process::{Heard, NodeProcess, PATIENCE, Rng, count_from},
};

const ROUNDS_VAR: &str = "FOUNDATION_TWO_NODES_ROUNDS";
const SEED_VAR: &str = "FOUNDATION_TWO_NODES_SEED";
const TEST_NAME: &str = "two_nodes_on_one_database_lose_no_acknowledged_write";
const COUNTERS: usize = 2;
/// Increments sent to the owner per round; the kill lands among them.
const BURST: usize = 32;

#[test]
fn two_nodes_on_one_database_lose_no_acknowledged_write() {
    if let Some(settings) = Settings::from_env() {
        node::run(&settings);
        return;
    }
    let Some(schema) = TestSchema::create(TEST_NAME) else {
        return;
    };
    driver(&schema);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(schema.drop_schema());
}

/// What the driver knows of the counters.
struct Ledger {
    /// The highest value acknowledged to a caller, per counter.
    acknowledged: [u64; COUNTERS],
    /// The most any counter could hold: every increment ever sent.
    asked: [u64; COUNTERS],
    acks: u64,
}

impl Ledger {
    fn record(&mut self, heard: &Heard, context: &str) {
        match heard {
            Heard::Ack(index, value) => {
                self.acknowledged[*index] = self.acknowledged[*index].max(*value);
                self.asked[*index] = self.asked[*index].max(*value);
                self.acks += 1;
            }
            other => panic!("{context}: expected an ack, heard {other:?}"),
        }
    }

    /// Checks what a node recovered: lost nothing acknowledged, invented nothing.
    fn check(&self, recovered: &[u64], context: &str) {
        let detail = format!(
            "{context}: acknowledged {:?}, asked {:?}, recovered {recovered:?}",
            self.acknowledged, self.asked
        );
        for (index, recovered) in recovered.iter().enumerate() {
            assert!(*recovered >= self.acknowledged[index], "lost: {detail}");
            assert!(*recovered <= self.asked[index], "phantom: {detail}");
        }
    }
}

/// What the rounds add up to.
#[derive(Default)]
struct Figures {
    /// Increments sent to a node but not acknowledged when it was killed.
    unacknowledged_at_kill: u64,
    /// Of those, the ones that had committed (the next node recovered them).
    landed_unacknowledged: u64,
    /// Saves of a returning node that lost to the owner.
    fenced: u64,
    /// From SIGKILL to the other node's recovered counters, summed.
    takeover: std::time::Duration,
}

/// One run of the test: the driver's state between rounds.
struct Run<'a> {
    schema: &'a TestSchema,
    runtime: tokio::runtime::Runtime,
    store: PostgresStore,
    rng: Rng,
    seed: u64,
    ledger: Ledger,
    figures: Figures,
}

fn driver(schema: &TestSchema) {
    let rounds = count_from(ROUNDS_VAR, 20);
    let (rng, seed) = Rng::seeded(SEED_VAR);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = runtime
        .block_on(PostgresStore::open(schema.config()))
        .unwrap();
    let mut run = Run {
        schema,
        runtime,
        store,
        rng,
        seed,
        ledger: Ledger {
            acknowledged: [0; COUNTERS],
            asked: [0; COUNTERS],
            acks: 0,
        },
        figures: Figures::default(),
    };
    let (mut owner, recovered) = run.start("node-a-0".to_owned());
    run.ledger.check(&recovered, "first start");
    let mut names = ["a", "b"];
    let started = Instant::now();
    for round in 1..=rounds {
        owner = run.round(round, owner, names);
        names.swap(0, 1);
    }
    let elapsed = started.elapsed();
    assert!(owner.close().is_empty());

    // Straight from the database, without any actor.
    let mut lost = 0;
    for (index, acked) in run.ledger.acknowledged.iter().enumerate() {
        let entry = run
            .runtime
            .block_on(run.store.get(&key(index)))
            .unwrap()
            .unwrap();
        let Counter(stored) = codec::decode(&key(index), &entry.value, 1).unwrap();
        assert_eq!(stored, *acked, "the last owner's last acknowledged value");
        lost += acked.saturating_sub(stored);
    }
    let figures = &run.figures;
    println!(
        "two nodes: {rounds} rounds, {} acknowledged writes, lost = {lost}; at the kills {} sent but unacknowledged, of which {} had committed; {} fenced saves (all stopped); mean takeover {:?} (kill to recovered); {elapsed:?} in all (seed {seed})",
        run.ledger.acks,
        figures.unacknowledged_at_kill,
        figures.landed_unacknowledged,
        figures.fenced,
        figures.takeover / rounds.max(1) as u32,
    );
    assert_eq!(lost, 0);
}

impl Run<'_> {
    /// Starts a node named `name` and waits for what it recovered.
    fn start(&self, name: String) -> (NodeProcess, Vec<u64>) {
        let settings = Settings {
            backend: backend(self.schema),
            name,
            counters: COUNTERS,
        };
        NodeProcess::start(TEST_NAME, &settings)
    }

    /// One round: `owner` is killed mid-stream, the node named
    /// `names[1]` takes over, the one named `names[0]` comes back and is
    /// fenced off. Returns the new owner.
    fn round(&mut self, round: usize, owner: NodeProcess, names: [&str; 2]) -> NodeProcess {
        let context = format!("round {round} (seed {})", self.seed);
        let killed = self.kill_mid_stream(owner, &context);

        // 2. The other node takes over and recovers every acknowledged write.
        let (mut taker, taken) = self.start(format!("node-{}-{round}", names[1]));
        self.figures.takeover += killed.elapsed();
        self.ledger.check(&taken, &format!("{context}, takeover"));
        // Writes that committed but whose acknowledgement died with the node.
        self.figures.landed_unacknowledged += taken
            .iter()
            .zip(self.ledger.acknowledged)
            .map(|(taken, acknowledged)| taken - acknowledged)
            .sum::<u64>();
        // What the in-flight writes left is the counters' value now.
        self.ledger.asked = std::array::from_fn(|index| taken[index]);

        // 3. The killed node comes back while the other owns the counters.
        let (mut returning, returned) = self.start(format!("node-{}-{round}", names[0]));
        assert_eq!(returned, taken, "{context}: both recover the same values");
        for (index, value) in taken.iter().enumerate() {
            let heard = taker.ask(&format!("inc {index}"));
            assert_eq!(heard, Heard::Ack(index, value + 1), "{context}");
            self.ledger.record(&heard, &context);
        }
        for index in 0..COUNTERS {
            let heard = returning.ask(&format!("inc {index}"));
            assert_eq!(
                heard,
                Heard::Fenced(index, "stopped".to_owned()),
                "{context}: the returning node's first save must lose, and its supervisor stop the counter"
            );
            self.figures.fenced += 1;
            let heard = returning.ask(&format!("get {index}"));
            let stopped = Heard::Value(index, "stopped".to_owned());
            assert_eq!(heard, stopped, "{context}");
        }

        // 4. The owner carries on from its own values: nothing it wrote was overwritten.
        for (index, value) in taken.iter().enumerate() {
            let heard = taker.ask(&format!("inc {index}"));
            assert_eq!(heard, Heard::Ack(index, value + 2), "{context}");
            self.ledger.record(&heard, &context);
        }
        assert!(returning.close().is_empty(), "{context}");
        taker
    }

    /// Step 1: a burst to the owner, SIGKILLed among the acknowledgements;
    /// returns once the server has ended its sessions, with the moment of
    /// the kill.
    fn kill_mid_stream(&mut self, mut owner: NodeProcess, context: &str) -> Instant {
        let mut burst = String::new();
        for _ in 0..BURST {
            let index = self.rng.below(COUNTERS as u64) as usize;
            self.ledger.asked[index] += 1;
            burst.push_str(&format!("inc {index}\n"));
        }
        owner.send(&burst);
        let kill_after = 1 + self.rng.below(BURST as u64 - 1);
        for _ in 0..kill_after {
            let heard = owner.next();
            self.ledger.record(&heard, context);
        }
        let dead = owner.name.clone();
        let killed = Instant::now();
        let printed = owner.kill();
        for heard in &printed {
            self.ledger.record(heard, context);
        }
        self.figures.unacknowledged_at_kill += BURST as u64 - kill_after - printed.len() as u64;
        self.runtime
            .block_on(wait_until_gone(self.store.database(), &dead));
        killed
    }
}

/// The node settings' backend for the test's schema.
fn backend(schema: &TestSchema) -> Backend {
    Backend::Postgres {
        url: std::env::var(foundation_persistence::postgres::testing::URL_VAR).unwrap(),
        schema: schema.config().schema_name().to_owned(),
    }
}

/// Waits until the server has no session left of the node `name`: its
/// last write either committed or never will. (Without this, a write the
/// server was still committing when the node died could land after the
/// other node recovered, and fence that one off instead.)
async fn wait_until_gone(database: &Postgres, name: &str) {
    let client = database.client("pg_stat_activity").await.unwrap();
    let deadline = Instant::now() + PATIENCE;
    loop {
        let sessions: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                &[&name],
            )
            .await
            .unwrap()
            .get(0);
        if sessions == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the server kept {sessions} sessions of the killed node {name}"
        );
        tokio::task::yield_now().await;
    }
}
