//! Tour stop: testing an actor without sleeping. A probe stands in for the
//! actor's collaborator, expectations are bounded and say what came
//! instead, and a manual clock moves a rate limiter's time by hand.
//!
//! In a project the kit is the facade's `testkit` feature, for
//! dev-dependencies (`foundation::testkit`); the tour reaches it as the
//! crate `foundation-testkit`, since the feature is off by default.

use std::time::Duration;

use foundation::{
    mailbox::{Actor, Context, ExitReason, Recipient, start},
    rate_limiter::{Config, DirectLimiter},
};
use foundation_testkit::{ManualClock, Probe};

const WITHIN: Duration = Duration::from_secs(1);

/// The actor under test: greets whoever it is told about, to a recipient it
/// was given (in production, another actor; in the test, a probe).
#[derive(Debug)]
struct Greeter {
    out: Recipient<String>,
}

impl Actor for Greeter {
    type Args = Recipient<String>;
    type Msg = &'static str;
    type Error = std::convert::Infallible;

    async fn init(out: Recipient<String>, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Greeter { out })
    }

    async fn handle(
        &mut self,
        name: &'static str,
        ctx: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        if self.out.send(format!("hello, {name}")).await.is_err() {
            ctx.stop(ExitReason::shutdown_because("nobody to greet to"));
        }
        Ok(())
    }
}

pub(crate) async fn run() -> Result<(), Box<dyn std::error::Error>> {
    println!("== Test kit: tests wait on something, never sleep");
    let mut probe = Probe::<String>::start().await?;
    let (greeter, _handle) = start::<Greeter>(probe.recipient()).await?;
    probe.watch(&greeter.process_ref());

    greeter.cast("ada").await?;
    println!("  the probe received: {}", probe.receive(WITHIN).await?);

    // A bounded expectation that fails says what it waited for and what came.
    greeter.cast("bob").await?;
    let missed = probe
        .expect(
            |greeting| greeting.contains("carol"),
            Duration::from_millis(50),
        )
        .await;
    if let Err(error) = missed {
        println!("  a failed expectation reads: {error}");
    }

    greeter.stop(ExitReason::Normal, WITHIN).await?;
    println!(
        "  the greeter's DOWN: {}",
        probe.expect_down(greeter.pid(), WITHIN).await?
    );

    // One manual clock drives the rate limiter, the circuit breaker and the
    // dead-letter queue; here, a limiter of one request per second.
    let clock = ManualClock::new();
    let limiter = DirectLimiter::with_clock(
        Config::fixed_window(1, Duration::from_secs(1)),
        clock.clone(),
    )?;
    let first = limiter.check().is_allowed();
    let second = limiter.check().is_allowed();
    clock.advance(Duration::from_secs(1));
    let after = limiter.check().is_allowed();
    println!("  manual clock: allowed {first}, then {second}; one second later {after}");
    Ok(())
}
