//! Tour stop: a counter's state survives a crash of the actor and a restart
//! of the program (the store is closed and reopened from its file), and a
//! damaged store file is refused with a clear error instead of a panic.

use std::{path::PathBuf, time::Duration};

use foundation::{
    mailbox::{Context, Reply},
    persistence::{OpenError, Persistence, Persistent, PersistentActor, RedbStore, Tracked, start},
};
use serde::{Deserialize, Serialize};

const TIMEOUT: Duration = Duration::from_secs(5);

/// A visit counter; the whole struct is its saved state.
#[derive(Debug, Serialize, Deserialize)]
struct Visits {
    count: u64,
}

/// Each answers with the count.
#[derive(Debug)]
enum Request {
    Visit(Reply<u64>),
    Crash(Reply<u64>),
}

impl PersistentActor for Visits {
    type Args = ();
    type Msg = Request;
    type Error = std::convert::Infallible;

    async fn init((): (), _: &mut Context<Persistent<Self>>) -> Result<Self, Self::Error> {
        println!("    no saved state: starting from 0");
        Ok(Visits { count: 0 })
    }

    async fn after_load(
        &mut self,
        (): (),
        _: &mut Context<Persistent<Self>>,
    ) -> Result<(), Self::Error> {
        println!("    recovered count = {}", self.count);
        Ok(())
    }

    async fn handle(
        state: &mut Tracked<'_, Self>,
        request: Request,
        _: &mut Context<Persistent<Self>>,
    ) -> Result<(), Self::Error> {
        match request {
            Request::Visit(reply) => {
                state.count += 1;
                reply.send(state.count).unwrap_or_default();
            }
            Request::Crash(_reply) => panic!("visits crashed on purpose"),
        }
        Ok(())
    }
}

/// A directory of the tour's own under the system's temp dir, removed when dropped.
struct TourDir(PathBuf);

impl Drop for TourDir {
    fn drop(&mut self) {
        if let Err(error) = std::fs::remove_dir_all(&self.0) {
            println!("    (could not remove the tour's data: {error})");
        }
    }
}

/// Overwrites the start of the file, where redb keeps its header. A small
/// synchronous write, done before the store is opened again.
fn damage_header(path: &std::path::Path) -> std::io::Result<()> {
    let mut bytes = std::fs::read(path)?;
    bytes[..64].fill(0xFF);
    std::fs::write(path, &bytes)
}

pub(crate) async fn run() -> Result<(), Box<dyn std::error::Error>> {
    println!("== persistence: state that survives crashes");
    let dir = TourDir(std::env::temp_dir().join(format!("foundation-tour-{}", std::process::id())));
    let path = dir.0.join("state.redb");
    {
        let store = RedbStore::open(&path)?;
        let (visits, _handle) =
            start::<Visits>((), Persistence::new(store.clone(), "visits")).await?;
        for _ in 0..3 {
            let count = visits.call(Request::Visit, TIMEOUT).await?;
            println!("  visit -> {count} (durable before this reply: write-through)");
        }
        println!("  the counter crashes:");
        let crashed = visits.call(Request::Crash, TIMEOUT).await;
        println!(
            "  the caller is told: {}",
            crashed.map_or_else(|error| error.to_string(), |count| count.to_string())
        );
        println!("  started again (as its supervisor would):");
        let (visits, _handle) = start::<Visits>((), Persistence::new(store, "visits")).await?;
        println!("  visit -> {}", visits.call(Request::Visit, TIMEOUT).await?);
        // The program "ends" without a goodbye: no stop, no last save.
        visits.kill();
        visits.wait_for_exit(TIMEOUT).await?;
    }
    println!("  the program restarts and reopens the store file:");
    {
        let store = RedbStore::open(&path)?;
        let (visits, _handle) = start::<Visits>((), Persistence::new(store, "visits")).await?;
        println!("  visit -> {}", visits.call(Request::Visit, TIMEOUT).await?);
    }
    println!("  the file's header is overwritten with garbage:");
    damage_header(&path)?;
    match RedbStore::open(&path) {
        Err(OpenError::Corrupt { .. }) => {
            println!("  opening it is refused: corrupt or truncated, nothing changed")
        }
        Err(other) => println!("  opening it is refused: {other}"),
        Ok(_) => println!("  opening it unexpectedly worked"),
    }
    Ok(())
}
