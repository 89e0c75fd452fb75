//! A node: write-through persistent counters under a supervisor, on redb or PostgreSQL, driven line by line on stdin.
//!
//! The crash test and the two-node test run it as a child process (their
//! own binary, re-run with `FOUNDATION_NODE_STORE` set); `examples/node.rs`
//! runs it by hand. Each counter is a transient child of one supervisor,
//! saved write-through under `counter/<index>`.
//!
//! Protocol, one line each way:
//!
//! | in | out |
//! | --- | --- |
//! | (at start) | `ready <count 0> <count 1> ...`: what was recovered |
//! | `inc <i>` | `ack <i> <value>` once the increment is durable; `fenced <i> stopped` (or `restarted`) when the save lost to another node |
//! | `get <i>` | `value <i> <value>`, or `value <i> stopped` |
//!
//! Anything else, or a failure, is `error <i> <why>`. The node ends when
//! stdin closes.

use std::{
    io::{BufRead, Write},
    sync::Arc,
    time::Duration,
};

use foundation_mailbox::{Context, Reply};
use foundation_persistence::{
    Persistence, Persistent, PersistentActor, PersistentCallError, PersistentRef, PostgresConfig,
    PostgresStore, RedbStore, Store, Tracked,
};
use foundation_supervisor::{
    ChildSpec, Restart, Strategy, Supervisor, SupervisorRef, SupervisorSpec,
};
use serde::{Deserialize, Serialize};

/// Where the node keeps its counters: `redb:<path>` or `postgres:<url>`.
pub(crate) const STORE_VAR: &str = "FOUNDATION_NODE_STORE";
/// The PostgreSQL schema (default `foundation`).
pub(crate) const SCHEMA_VAR: &str = "FOUNDATION_NODE_SCHEMA";
/// The name the node gives its PostgreSQL connections.
pub(crate) const NAME_VAR: &str = "FOUNDATION_NODE_NAME";
/// How many counters (default 4).
pub(crate) const COUNTERS_VAR: &str = "FOUNDATION_NODE_COUNTERS";

const PATIENCE: Duration = Duration::from_secs(30);

/// The node's persistent counter.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Counter(pub(crate) u64);

/// Each answers with the count.
#[derive(Debug)]
pub(crate) enum Request {
    Get(Reply<u64>),
    Increment(Reply<u64>),
}

impl PersistentActor for Counter {
    type Args = ();
    type Msg = Request;
    type Error = std::convert::Infallible;

    async fn init((): (), _: &mut Context<Persistent<Self>>) -> Result<Self, Self::Error> {
        Ok(Counter(0))
    }

    async fn handle(
        state: &mut Tracked<'_, Self>,
        request: Request,
        _: &mut Context<Persistent<Self>>,
    ) -> Result<(), Self::Error> {
        let reply = match request {
            Request::Get(reply) => reply,
            Request::Increment(reply) => {
                state.0 += 1;
                reply
            }
        };
        reply.send(state.0).unwrap_or_default();
        Ok(())
    }
}

/// The key of counter `index`.
pub(crate) fn key(index: usize) -> String {
    format!("counter/{index}")
}

/// What the node runs on.
#[derive(Debug, Clone)]
pub(crate) enum Backend {
    Redb(String),
    Postgres { url: String, schema: String },
}

/// How the node is set up.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) backend: Backend,
    pub(crate) name: String,
    pub(crate) counters: usize,
}

impl Settings {
    /// The settings a driver passed in the environment; `None` when this
    /// process is not a node.
    pub(crate) fn from_env() -> Option<Self> {
        let store = std::env::var(STORE_VAR).ok()?;
        let backend = match store.split_once(':') {
            Some(("redb", path)) => Backend::Redb(path.to_owned()),
            Some(("postgres", url)) => Backend::Postgres {
                url: url.to_owned(),
                schema: std::env::var(SCHEMA_VAR).unwrap_or_else(|_| "foundation".to_owned()),
            },
            _ => panic!("{STORE_VAR} must be redb:<path> or postgres:<url>, not {store}"),
        };
        Some(Self {
            backend,
            name: std::env::var(NAME_VAR).unwrap_or_else(|_| "node".to_owned()),
            counters: std::env::var(COUNTERS_VAR)
                .ok()
                .and_then(|count| count.parse().ok())
                .unwrap_or(4),
        })
    }

    /// The environment that makes a re-run of a test binary this node.
    pub(crate) fn to_env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            (NAME_VAR, self.name.clone()),
            (COUNTERS_VAR, self.counters.to_string()),
        ];
        match &self.backend {
            Backend::Redb(path) => env.push((STORE_VAR, format!("redb:{path}"))),
            Backend::Postgres { url, schema } => {
                env.push((STORE_VAR, format!("postgres:{url}")));
                env.push((SCHEMA_VAR, schema.clone()));
            }
        }
        env
    }
}

/// Opens the store the settings name.
async fn open(settings: &Settings) -> Store {
    match &settings.backend {
        Backend::Redb(path) => Store::new(RedbStore::open(path).expect("open the redb store")),
        Backend::Postgres { url, schema } => {
            let config = PostgresConfig::new(url)
                .expect("a valid PostgreSQL URL")
                .schema(schema.clone())
                .application_name(&settings.name)
                .timeout(PATIENCE);
            Store::new(
                PostgresStore::open(config)
                    .await
                    .expect("open the PostgreSQL store"),
            )
        }
    }
}

/// The running counter `index`, if its supervisor has one.
async fn counter(tree: &SupervisorRef, index: usize) -> Option<PersistentRef<Counter>> {
    let process = tree
        .child(&key(index))
        .await
        .expect("the supervisor answers")?;
    Some(PersistentRef::from(
        process
            .downcast::<Persistent<Counter>>()
            .expect("the child is a counter"),
    ))
}

/// Answers one line of the protocol.
async fn answer(tree: &SupervisorRef, line: &str) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    let (command, index) = match words.as_slice() {
        [command, index] => match index.parse::<usize>() {
            Ok(index) => (*command, index),
            Err(_) => return format!("error {index} not a counter index"),
        },
        _ => return format!("error - cannot read `{line}`"),
    };
    let Some(current) = counter(tree, index).await else {
        return match command {
            "get" => format!("value {index} stopped"),
            _ => format!("error {index} the counter is not running"),
        };
    };
    match command {
        "get" => match current.call(Request::Get, PATIENCE).await {
            Ok(value) => format!("value {index} {value}"),
            Err(error) => format!("error {index} {error}"),
        },
        "inc" => match current.call(Request::Increment, PATIENCE).await {
            // Written only once the call returned: the increment is durable.
            Ok(value) => format!("ack {index} {value}"),
            Err(PersistentCallError::Save(error)) if error.is_conflict() => {
                // Another node owns the counter: this one stops, and its
                // supervisor must not bring it back.
                let reason = current.wait_for_exit(PATIENCE).await;
                let fate = match counter(tree, index).await {
                    None => "stopped",
                    Some(_) => "restarted",
                };
                tracing::info!(?reason, "counter {index} fenced");
                format!("fenced {index} {fate}")
            }
            Err(error) => format!("error {index} {error}"),
        },
        other => format!("error {index} unknown command `{other}`"),
    }
}

/// Runs the node until stdin closes.
pub(crate) fn run(settings: &Settings) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let store = open(settings).await;
        let spec =
            (0..settings.counters).fold(SupervisorSpec::new(Strategy::OneForOne), |spec, index| {
                let persistence = Persistence::new(store.clone(), Arc::<str>::from(key(index)));
                spec.child(
                    ChildSpec::persistent::<Counter>(key(index), (), persistence)
                        .restart(Restart::Transient),
                )
            });
        let tree = Supervisor::start(spec).await.expect("the counters start");
        let mut recovered = Vec::new();
        for index in 0..settings.counters {
            recovered.push(answer(&tree, &format!("get {index}")).await);
        }
        let counts: Vec<&str> = recovered
            .iter()
            .map(|line| line.rsplit(' ').next().unwrap_or("?"))
            .collect();
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
        while let Some(line) = incoming.recv().await {
            say(&answer(&tree, &line).await);
        }
        let _stopped = tree.shutdown(PATIENCE).await;
    });
}

/// One line on stdout, flushed at once (the driver waits for it).
fn say(line: &str) {
    let mut stdout = std::io::stdout().lock();
    // A driver that stopped listening has finished with this node.
    let _unheard = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
}
