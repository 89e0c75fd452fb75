//! The two things a breaker wraps: any async function, and a call to an
//! actor (`ActorRef::call`). `cargo run -p foundation-circuit-breaker --example wrap`

use std::time::Duration;

use foundation_circuit_breaker::{CallError, CircuitBreaker, Config};
use foundation_mailbox::{Actor, CallError as MailboxCallError, Context, Reply, start};

/// A price lookup that answers with a price or an error.
#[derive(Debug)]
struct Prices;

#[derive(Debug)]
enum PricesMsg {
    Quote(String, Reply<Result<u32, String>>),
}

impl Actor for Prices {
    type Args = ();
    type Msg = PricesMsg;
    type Error = std::convert::Infallible;

    async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Prices)
    }

    async fn handle(&mut self, msg: PricesMsg, _: &mut Context<Self>) -> Result<(), Self::Error> {
        let PricesMsg::Quote(item, reply) = msg;
        let answer = if item == "tea" {
            Ok(3)
        } else {
            Err(format!("no price for {item}"))
        };
        reply.send(answer).unwrap_or_default();
        Ok(())
    }
}

/// Why a quote failed: the actor could not be reached, or it said no.
// The fields are read only through Debug when printed, which the lint ignores.
#[allow(dead_code)]
#[derive(Debug)]
enum QuoteError {
    Unreachable(MailboxCallError<PricesMsg>),
    Refused(String),
}

async fn fetch(url: &str) -> Result<String, std::io::Error> {
    Ok(format!("contents of {url}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Any async function.
    let http = CircuitBreaker::<()>::new(Config::default())?;
    let page = http.call(|| fetch("https://example.invalid/")).await;
    println!("async fn: {:?}", page.map_err(|e| e.to_string()));

    // A call to an actor. Only an unreachable actor counts against it: a
    // refusal is the caller's problem (the predicate decides).
    let (prices, _handle) = start::<Prices>(()).await?;
    let quotes = CircuitBreaker::<()>::new(Config::default())?;
    for item in ["tea", "gold"] {
        let quote = quotes
            .call_with(
                || async {
                    match prices
                        .call(
                            |reply| PricesMsg::Quote(item.to_owned(), reply),
                            Duration::from_secs(1),
                        )
                        .await
                    {
                        Ok(Ok(price)) => Ok(price),
                        Ok(Err(why)) => Err(QuoteError::Refused(why)),
                        Err(error) => Err(QuoteError::Unreachable(error)),
                    }
                },
                |error| matches!(error, QuoteError::Unreachable(_)),
            )
            .await;
        match quote {
            Ok(price) => println!("actor call: {item} costs {price}"),
            Err(CallError::Failed(why)) => println!("actor call: {item}: {why:?}"),
            Err(CallError::Rejected(refused)) => println!("actor call: {item}: {refused}"),
        }
    }
    println!("failures counted: {}", quotes.stats().failures);
    Ok(())
}
