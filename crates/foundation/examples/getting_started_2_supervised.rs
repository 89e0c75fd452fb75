//! Getting started, step 2: the counter under a supervisor, which restarts it
//! when it crashes (`docs/getting-started.md`).
//!
//! `cargo run -p foundation --example getting_started_2_supervised`

use std::time::Duration;

use foundation::{
    mailbox::{Actor, Context, Reply},
    supervisor::{ChildSpec, Ended, Root, Strategy, SupervisorSpec},
};

const TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Debug)]
struct Counter {
    hits: u64,
}

#[derive(Debug)]
enum CounterMsg {
    Hit,
    Get(Reply<u64>),
    /// A bug, on purpose: the handler panics.
    Crash,
}

impl Actor for Counter {
    type Args = u64;
    type Msg = CounterMsg;
    type Error = std::convert::Infallible;

    async fn init(start_at: u64, _ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Counter { hits: start_at })
    }

    async fn handle(
        &mut self,
        msg: CounterMsg,
        _ctx: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        match msg {
            CounterMsg::Hit => self.hits += 1,
            CounterMsg::Get(reply) => reply.send(self.hits).unwrap_or_default(),
            CounterMsg::Crash => panic!("the counter crashed on purpose"),
        }
        Ok(())
    }
}

/// The tree the service runs, in production and in its tests alike.
fn service_spec() -> SupervisorSpec {
    SupervisorSpec::new(Strategy::OneForOne).child(ChildSpec::actor::<Counter>("counter", 0))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Foundation reports through tracing: print its events, and report an
    // actor's panic as one ERROR event naming the actor.
    tracing_subscriber::fmt().with_target(true).init();
    foundation::mailbox::install_panic_hook();

    let root = Root::start(service_spec()).await?;
    // A typed reference that follows the child across its restarts.
    let counter = root.supervisor().child_ref::<Counter>("counter")?;

    counter.cast(CounterMsg::Hit).await?;
    println!(
        "hits before the crash: {}",
        counter.call(CounterMsg::Get, TIMEOUT).await?
    );

    // The panic ends only the counter; its supervisor starts a new one.
    // A call queued behind the crash is told why, instead of timing out.
    counter.cast(CounterMsg::Crash).await?;
    match counter.call(CounterMsg::Get, TIMEOUT).await {
        Ok(hits) => println!("answered by the new counter: {hits}"),
        Err(error) => println!("the call queued behind the crash: {error}"),
    }
    let hits = counter.call(CounterMsg::Get, TIMEOUT).await?;
    println!("hits after the restart: {hits} (the state was in memory: lost)");
    assert_eq!(hits, 0);

    // Children stop in reverse start order, within a budget.
    let ended = root.shutdown(Duration::from_secs(5)).await;
    assert!(matches!(ended, Ended::Shutdown(_)));
    Ok(())
}
