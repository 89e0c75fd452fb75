//! Getting started, step 4: a rate limit per client in front of the counter
//! (`docs/getting-started.md`).
//!
//! `cargo run -p foundation --example getting_started_4_rate_limit`

use std::time::Duration;

use foundation::{
    mailbox::{Actor, ActorRef, Context, Reply, start},
    rate_limiter::{Config, Decision, RateLimiter},
};

#[derive(Debug)]
struct Counter {
    hits: u64,
}

#[derive(Debug)]
enum CounterMsg {
    Hit,
    Get(Reply<u64>),
}

impl Actor for Counter {
    type Args = ();
    type Msg = CounterMsg;
    type Error = std::convert::Infallible;

    async fn init((): (), _ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Counter { hits: 0 })
    }

    async fn handle(
        &mut self,
        msg: CounterMsg,
        _ctx: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        match msg {
            CounterMsg::Hit => self.hits += 1,
            CounterMsg::Get(reply) => reply.send(self.hits).unwrap_or_default(),
        }
        Ok(())
    }
}

/// Counts a hit for `client` if its limit allows; says when to retry if not.
async fn hit(
    limiter: &RateLimiter<String>,
    counter: &ActorRef<Counter>,
    client: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    // The check is exact under any concurrency: never one more than the limit.
    match limiter.check(client) {
        Decision::Allowed { .. } => {
            counter.cast(CounterMsg::Hit).await?;
            println!("{client}: counted");
        }
        Decision::Denied { retry_after } => println!("{client}: limited, retry in {retry_after:?}"),
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Three hits per client per second, in fixed windows; keys are any
    // hashable type (a client's IP address in the service of step 5).
    let limiter = RateLimiter::<String>::new(Config::fixed_window(3, Duration::from_secs(1)))?;
    let (counter, _handle) = start::<Counter>(()).await?;

    for _ in 0..5 {
        hit(&limiter, &counter, "alice").await?;
    }
    hit(&limiter, &counter, "bob").await?; // a limit of his own

    let hits = counter
        .call(CounterMsg::Get, Duration::from_secs(1))
        .await?;
    println!("hits counted: {hits}");
    assert_eq!(hits, 4);
    Ok(())
}
