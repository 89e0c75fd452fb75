//! Getting started, step 3: the counter keeps its state across crashes and
//! restarts of the program, in the embedded store (`docs/getting-started.md`).
//!
//! `cargo run -p foundation --example getting_started_3_persisted`

use std::{path::PathBuf, time::Duration};

use foundation::{
    mailbox::{Context, Reply},
    persistence::{Persistence, Persistent, PersistentActor, RedbStore, Tracked},
    supervisor::{ChildSpec, Root, Strategy, SupervisorSpec},
};
use serde::{Deserialize, Serialize};

const TIMEOUT: Duration = Duration::from_secs(1);

/// The whole struct is the saved state (serde), so it derives both ways.
#[derive(Debug, Serialize, Deserialize)]
struct Counter {
    hits: u64,
}

#[derive(Debug)]
enum CounterMsg {
    Hit,
    Get(Reply<u64>),
    Crash,
}

/// A `PersistentActor` is written like an `Actor`; Foundation loads its
/// saved state before the first message and saves it after each one
/// (write-through, the default policy).
impl PersistentActor for Counter {
    type Args = ();
    type Msg = CounterMsg;
    type Error = std::convert::Infallible;

    /// Runs only when nothing is saved yet.
    async fn init((): (), _ctx: &mut Context<Persistent<Self>>) -> Result<Self, Self::Error> {
        Ok(Counter { hits: 0 })
    }

    async fn handle(
        state: &mut Tracked<'_, Self>,
        msg: CounterMsg,
        _ctx: &mut Context<Persistent<Self>>,
    ) -> Result<(), Self::Error> {
        match msg {
            CounterMsg::Hit => state.hits += 1,
            CounterMsg::Get(reply) => reply.send(state.hits).unwrap_or_default(),
            CounterMsg::Crash => panic!("the counter crashed on purpose"),
        }
        Ok(())
    }
}

fn service_spec(store: &RedbStore) -> SupervisorSpec {
    // The persistence key names the entry; a restart reads it back.
    let persistence = Persistence::new(store.clone(), "counter");
    SupervisorSpec::new(Strategy::OneForOne).child(ChildSpec::persistent::<Counter>(
        "counter",
        (),
        persistence,
    ))
}

/// The store file for this run (a real service keeps one path, such as
/// `RedbStore::open_default()`'s).
fn store_path() -> PathBuf {
    std::env::temp_dir().join(format!("getting-started-{}.redb", std::process::id()))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = store_path();
    {
        let store = RedbStore::open(&path)?;
        let root = Root::start(service_spec(&store)).await?;
        let counter = root
            .supervisor()
            .child_ref::<Persistent<Counter>>("counter")?;

        counter.cast_from(CounterMsg::Hit).await?;
        counter.cast_from(CounterMsg::Hit).await?;
        println!("hits: {}", counter.call(CounterMsg::Get, TIMEOUT).await?);

        counter.cast_from(CounterMsg::Crash).await?;
        // The supervisor restarted it; the state came back from the store.
        let mut hits = counter.call(CounterMsg::Get, TIMEOUT).await;
        if hits.is_err() {
            // This call was queued behind the crash: ask the new counter.
            hits = counter.call(CounterMsg::Get, TIMEOUT).await;
        }
        println!("hits after a crash: {}", hits?);
        root.shutdown(Duration::from_secs(5)).await;
    }
    {
        // The program starts again, on the same file.
        let store = RedbStore::open(&path)?;
        let root = Root::start(service_spec(&store)).await?;
        let counter = root
            .supervisor()
            .child_ref::<Persistent<Counter>>("counter")?;
        let hits = counter.call(CounterMsg::Get, TIMEOUT).await?;
        println!("hits after the program restarted: {hits}");
        assert_eq!(hits, 2);
        root.shutdown(Duration::from_secs(5)).await;
    }
    tokio::fs::remove_file(&path).await?;
    Ok(())
}
