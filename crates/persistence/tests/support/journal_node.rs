//! A node of event-sourced counters on a redb journal, driven line by line on stdin, for the journal's SIGKILL test.
//!
//! Each counter is a [`Journaled`] actor whose increment emits two events
//! (`Added`, then `Noted` with the new total), appended in one write, and
//! which snapshots every few events so that kills land around compaction
//! too. At start the node recovers every counter and checks that no
//! increment is half there (as many notes as additions); it prints
//! `ready <count> ...`, or `error ...` if one is. Then `inc <i>` answers
//! `ack <i> <value>` once both events are durable.

use std::{
    io::{BufRead, Write},
    time::Duration,
};

use foundation_mailbox::{Context, Reply};
use foundation_persistence::{
    Emitter, EventSourced, Journaled, JournaledRef, Journaling, RedbStore, SnapshotPolicy,
    start_journaled,
};
use serde::{Deserialize, Serialize};

/// The redb file the node's journal lives in.
pub(crate) const STORE_VAR: &str = "FOUNDATION_JOURNAL_NODE_STORE";
/// How many counters.
pub(crate) const COUNTERS_VAR: &str = "FOUNDATION_JOURNAL_NODE_COUNTERS";

const PATIENCE: Duration = Duration::from_secs(30);
/// Small, so that snapshots (and compaction) happen often under the kills.
pub(crate) const SNAPSHOT_EVERY: u64 = 5;

/// A counter rebuilt from its events.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Tally {
    pub(crate) total: u64,
    /// How many `Noted` events were applied: equal to `total` unless an
    /// increment was half written.
    pub(crate) notes: u64,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) enum Event {
    Added(u64),
    Noted(u64),
}

#[derive(Debug)]
pub(crate) enum Command {
    Increment(Reply<u64>),
    /// The total and the number of notes.
    Read(Reply<(u64, u64)>),
}

impl EventSourced for Tally {
    type Args = ();
    type Msg = Command;
    type Event = Event;
    type Error = std::convert::Infallible;

    async fn init(_: (), _: &mut Context<Journaled<Self>>) -> Result<Self, Self::Error> {
        Ok(Tally::default())
    }

    fn apply(&mut self, event: &Event) {
        match event {
            Event::Added(amount) => self.total += amount,
            Event::Noted(_) => self.notes += 1,
        }
    }

    async fn handle(
        tally: &mut Emitter<'_, Self>,
        command: Command,
        _: &mut Context<Journaled<Self>>,
    ) -> Result<(), Self::Error> {
        match command {
            Command::Increment(reply) => {
                tally.emit(Event::Added(1));
                let total = tally.total;
                tally.emit(Event::Noted(total));
                reply.send(tally.total).unwrap_or_default();
            }
            Command::Read(reply) => reply.send((tally.total, tally.notes)).unwrap_or_default(),
        }
        Ok(())
    }
}

/// The journal id of counter `index`.
pub(crate) fn id(index: usize) -> String {
    format!("tally/{index}")
}

/// How the node is set up.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) path: String,
    pub(crate) name: String,
    pub(crate) counters: usize,
}

impl Settings {
    /// The settings a driver passed in the environment; `None` when this
    /// process is not a node.
    pub(crate) fn from_env() -> Option<Self> {
        Some(Self {
            path: std::env::var(STORE_VAR).ok()?,
            name: "journal-node".to_owned(),
            counters: std::env::var(COUNTERS_VAR)
                .ok()
                .and_then(|count| count.parse().ok())
                .unwrap_or(4),
        })
    }

    /// The environment that makes a re-run of a test binary this node.
    pub(crate) fn to_env(&self) -> Vec<(&'static str, String)> {
        vec![
            (STORE_VAR, self.path.clone()),
            (COUNTERS_VAR, self.counters.to_string()),
        ]
    }
}

/// Runs the node until stdin closes.
pub(crate) fn run(settings: &Settings) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let store = RedbStore::open(&settings.path).expect("open the redb store");
        let mut counters = Vec::new();
        let mut counts = Vec::new();
        for index in 0..settings.counters {
            let journaling = Journaling::new(store.clone(), id(index))
                .snapshots(SnapshotPolicy::default().every_events(SNAPSHOT_EVERY));
            let (counter, _handle) = start_journaled::<Tally>((), journaling)
                .await
                .expect("the counter recovers");
            let (total, notes) = counter
                .call(Command::Read, PATIENCE)
                .await
                .expect("the counter answers");
            if total != notes {
                say(&format!(
                    "error {index} half-applied increment: total {total}, notes {notes}"
                ));
                return;
            }
            counters.push(counter);
            counts.push(total.to_string());
        }
        say(&format!("ready {}", counts.join(" ")));
        let (lines, mut incoming) = tokio::sync::mpsc::channel::<String>(64);
        // stdin blocks: it is read on a thread of its own, which ends with it.
        // audit:allow(FND001) the node's stdin reader ends when stdin closes or the node's loop is gone
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                if lines.blocking_send(line).is_err() {
                    break;
                }
            }
        });
        // Increments to different counters run concurrently, so their
        // appends meet in the store's group commit.
        let mut running = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                line = incoming.recv() => {
                    let Some(line) = line else { break };
                    let parsed = line
                        .strip_prefix("inc ")
                        .and_then(|index| index.trim().parse::<usize>().ok())
                        .filter(|index| *index < counters.len());
                    let Some(index) = parsed else {
                        say(&format!("error - cannot read `{line}`"));
                        continue;
                    };
                    let counter: JournaledRef<Tally> = counters[index].clone();
                    running.spawn(async move {
                        match counter.call(Command::Increment, PATIENCE).await {
                            // Written only once the call returned: both events are durable.
                            Ok(value) => say(&format!("ack {index} {value}")),
                            Err(error) => say(&format!("error {index} {error}")),
                        }
                    });
                }
                Some(_) = running.join_next(), if !running.is_empty() => {}
            }
        }
        while running.join_next().await.is_some() {}
    });
}

/// One line on stdout, flushed at once (the driver waits for it).
fn say(line: &str) {
    let mut stdout = std::io::stdout().lock();
    // A driver that stopped listening has finished with this node.
    let _unheard = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
}
