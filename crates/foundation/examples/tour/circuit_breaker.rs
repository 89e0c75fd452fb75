//! Tour stop: a circuit breaker around an actor that starts failing: it
//! trips on the failure rate, refuses calls while open, keeps messages in a
//! bounded buffer, probes after the open period, and drains the buffer in
//! order once closed. A manual clock keeps the output the same on every run.

use std::time::Duration;

use foundation::{
    circuit_breaker::{CallError, CircuitBreaker, Clock, Config, Drain, ManualClock, Window},
    mailbox::{Actor, ActorRef, Context, Reply, start},
};

const TIMEOUT: Duration = Duration::from_secs(5);

/// What the payment service takes.
#[derive(Debug)]
enum PaymentMsg {
    /// Charge an amount; the answer is the receipt number or why not.
    Charge(u32, Reply<Result<u32, String>>),
    /// Whether the service is up.
    SetUp(bool),
}

/// A payment service that can be taken down.
#[derive(Debug)]
struct Payments {
    up: bool,
    receipts: u32,
}

impl Actor for Payments {
    type Args = ();
    type Msg = PaymentMsg;
    type Error = std::convert::Infallible;

    async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Payments {
            up: true,
            receipts: 0,
        })
    }

    async fn handle(&mut self, msg: PaymentMsg, _: &mut Context<Self>) -> Result<(), Self::Error> {
        match msg {
            PaymentMsg::Charge(amount, reply) => {
                let answer = if self.up {
                    self.receipts += 1;
                    Ok(self.receipts)
                } else {
                    Err(format!("bank unreachable for {amount}"))
                };
                reply.send(answer).unwrap_or_default();
            }
            PaymentMsg::SetUp(up) => self.up = up,
        }
        Ok(())
    }
}

type Breaker = CircuitBreaker<&'static str>;
type Outcome = Result<(), Box<dyn std::error::Error>>;

/// A call to an actor, wrapped: a mailbox error or the service's own error
/// both count as a failure.
async fn charge(
    breaker: &Breaker,
    payments: &ActorRef<Payments>,
    amount: u32,
) -> Result<u32, CallError<String>> {
    breaker
        .call(|| async move {
            match payments
                .call(|reply| PaymentMsg::Charge(amount, reply), TIMEOUT)
                .await
            {
                Ok(answer) => answer,
                Err(error) => Err(error.to_string()),
            }
        })
        .await
}

/// Four failed charges trip the breaker; buffered refunds drain after it closes.
pub(crate) async fn run() -> Outcome {
    println!("== Circuit breaker: trips on a failure rate, buffers while open, drains in order");
    let (payments, _handle) = start::<Payments>(()).await?;
    let clock = ManualClock::new();
    let config = Config {
        window: Window::Count(10),
        minimum_calls: 4,
        half_open_probes: 2,
        open_base: Duration::from_secs(2),
        jitter: 0.0,
        buffer_capacity: 2,
        drain_interval: Duration::from_millis(50),
        ..Config::default()
    };
    let breaker = CircuitBreaker::new(config)?
        .named("payments")
        .with_clock(clock.clone());
    trip(&breaker, &payments).await?;
    buffer_refunds(&breaker);
    payments.cast(PaymentMsg::SetUp(true)).await?;
    clock.advance(Duration::from_secs(2));
    recover(&breaker, &payments).await?;
    drain(&breaker, &clock)?;
    let stats = breaker.stats();
    println!(
        "  stats: {} calls, {} failures, {} rejected, {} trip(s), {} buffered, {} refused, {} drained",
        stats.calls,
        stats.failures,
        stats.rejected,
        stats.trips,
        stats.buffered,
        stats.refused,
        stats.drained
    );
    Ok(())
}

/// One good charge, then the bank goes down: 3 of 4 calls failed, over the
/// 50% failure rate with the minimum of 4 calls in the window.
async fn trip(breaker: &Breaker, payments: &ActorRef<Payments>) -> Outcome {
    let mut changes = breaker.subscribe();
    let receipt = charge(breaker, payments, 10)
        .await
        .map_err(|e| e.to_string())?;
    println!("  charge 10 while the bank is up: receipt {receipt}");
    payments.cast(PaymentMsg::SetUp(false)).await?;
    for amount in [11, 12, 13] {
        if let Err(CallError::Failed(why)) = charge(breaker, payments, amount).await {
            println!("  charge {amount}: {why}");
        }
    }
    if changes.has_changed()? {
        println!(
            "  state change seen by a subscriber: {}",
            *changes.borrow_and_update()
        );
    }
    if let Err(CallError::Rejected(refused)) = charge(breaker, payments, 14).await {
        println!("  charge 14 refused without calling the bank: {refused}");
    }
    Ok(())
}

/// Refunds offered while open: two kept, the third given back.
fn buffer_refunds(breaker: &Breaker) {
    for refund in ["refund #1", "refund #2", "refund #3"] {
        match breaker.offer(refund) {
            Ok(Some(_)) => println!("  {refund}: sent at once"),
            Ok(None) => println!("  {refund}: kept in the buffer"),
            Err(full) => println!(
                "  {refund}: buffer full (capacity 2), given back: {:?}",
                full.into_inner()
            ),
        }
    }
}

/// After the open period, two probes succeed and the breaker closes.
async fn recover(breaker: &Breaker, payments: &ActorRef<Payments>) -> Outcome {
    println!(
        "  2 s later the breaker is {}; two probes go through",
        breaker.state()
    );
    for amount in [15, 16] {
        let receipt = charge(breaker, payments, amount)
            .await
            .map_err(|e| e.to_string())?;
        println!("  probe charge {amount}: receipt {receipt}");
    }
    Ok(())
}

/// The buffer drains in order at one per 50 ms; a new refund queues behind it.
fn drain(breaker: &Breaker, clock: &ManualClock) -> Outcome {
    println!(
        "  the breaker is {}; the buffer drains at most one per 50 ms:",
        breaker.state()
    );
    if let Drain::Ready(refund) = breaker.poll_drain() {
        println!("    drained {refund} at {:?}", clock.now());
    }
    if let Ok(None) = breaker.offer("refund #4") {
        println!("  refund #4: queued behind the older refund, not sent ahead of it");
    }
    loop {
        match breaker.poll_drain() {
            Drain::Ready(refund) => println!("    drained {refund} at {:?}", clock.now()),
            Drain::Wait(wait) => clock.advance(wait),
            Drain::Held(state) => return Err(format!("a {state} breaker holds the buffer").into()),
            Drain::Empty => return Ok(()),
        }
    }
}
