//! Tour stop: a circuit breaker around an actor that starts failing: it
//! trips on the failure rate, refuses calls while open, keeps messages in a
//! bounded buffer, probes after the open period, and drains the buffer in
//! order once closed. A manual clock keeps the output the same on every run.

use std::time::Duration;

use foundation::{
    circuit_breaker::{CallError, CircuitBreaker, Clock, Config, Drain, ManualClock, Window},
    mailbox::{Actor, Context, Reply, start},
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

/// Four failed charges trip the breaker; buffered refunds drain after it closes.
pub(crate) async fn run() -> Result<(), Box<dyn std::error::Error>> {
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
    let breaker = CircuitBreaker::<&str>::new(config)?
        .named("payments")
        .with_clock(clock.clone());
    let mut changes = breaker.subscribe();

    // A call to an actor, wrapped: a mailbox error or the service's own
    // error both count as a failure.
    let charge = |amount: u32| {
        let (payments, breaker) = (&payments, &breaker);
        async move {
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
    };

    println!(
        "  charge 10 while the bank is up: receipt {}",
        charge(10).await.map_err(|e| e.to_string())?
    );
    payments.cast(PaymentMsg::SetUp(false)).await?;
    // 3 of 4 calls failed: over the 50% failure rate, with the minimum
    // of 4 calls in the window.
    for amount in [11, 12, 13] {
        if let Err(CallError::Failed(why)) = charge(amount).await {
            println!("  charge {amount}: {why}");
        }
    }
    if changes.has_changed()? {
        println!(
            "  state change seen by a subscriber: {}",
            *changes.borrow_and_update()
        );
    }
    if let Err(CallError::Rejected(refused)) = charge(14).await {
        println!("  charge 14 refused without calling the bank: {refused}");
    }

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

    payments.cast(PaymentMsg::SetUp(true)).await?;
    clock.advance(Duration::from_secs(2));
    println!(
        "  2 s later the breaker is {}; two probes go through",
        breaker.state()
    );
    for amount in [15, 16] {
        let receipt = charge(amount).await.map_err(|e| e.to_string())?;
        println!("  probe charge {amount}: receipt {receipt}");
    }
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
            Drain::Empty => break,
        }
    }
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
