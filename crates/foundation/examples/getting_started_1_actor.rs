//! Getting started, step 1: an actor, a cast and a call (`docs/getting-started.md`).
//!
//! `cargo run -p foundation --example getting_started_1_actor`

use std::time::Duration;

use foundation::mailbox::{Actor, Context, Reply, start};

/// The actor's state: a count of hits.
#[derive(Debug)]
struct Counter {
    hits: u64,
}

/// Everything a counter is told or asked. A request carries a `Reply`
/// port whose type is the answer's type, checked at compile time.
#[derive(Debug)]
enum CounterMsg {
    /// Count one more hit; nobody waits for an answer (a cast).
    Hit,
    /// Answer the count (a call).
    Get(Reply<u64>),
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
            // The caller may have given up (its timeout passed): nothing to do then.
            CounterMsg::Get(reply) => reply.send(self.hits).unwrap_or_default(),
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (counter, _handle) = start::<Counter>(0).await?;

    // A cast waits only for room in the bounded mailbox (backpressure).
    counter.cast(CounterMsg::Hit).await?;
    counter.cast(CounterMsg::Hit).await?;

    // Every call has a timeout; there is no call without one.
    let hits = counter
        .call(CounterMsg::Get, Duration::from_secs(1))
        .await?;
    println!("hits: {hits}");
    assert_eq!(hits, 2);
    Ok(())
}
