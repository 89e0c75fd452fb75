//! A circuit breaker in front of a supervised send to a named actor.
//!
//! The breaker counts the send's failures, trips, and refuses sends while
//! open. A caller that keeps its messages (the send's failure gives the
//! message back; a refused send never took it) parks them in the breaker's
//! buffer. After a probe reaches the actor's next incarnation, they drain
//! through the same send, in order. Nothing is lost on the way.

use std::{cell::Cell, time::Duration};

use foundation::{
    circuit_breaker::{CallError, CircuitBreaker, Config, Drain, ManualClock, State, Window},
    mailbox::{Actor, ActorRef, Context, ExitReason, Registry, start},
    supervised_send::{ErrorClass, SendFailure, SendOptions, Target, send_supervised},
};
use tokio::sync::mpsc;

const STOP: Duration = Duration::from_secs(5);
const OPEN: Duration = Duration::from_secs(1);

/// Reports every number it is sent, in the order it handles them.
#[derive(Debug)]
struct Sink {
    seen: mpsc::Sender<u32>,
}

impl Actor for Sink {
    type Args = mpsc::Sender<u32>;
    type Msg = u32;
    type Error = std::convert::Infallible;

    async fn init(seen: Self::Args, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Self { seen })
    }

    async fn handle(&mut self, n: u32, _: &mut Context<Self>) -> Result<(), Self::Error> {
        self.seen.send(n).await.expect("the test keeps listening");
        Ok(())
    }
}

/// Starts a `Sink` and registers it as "sink".
async fn incarnation(
    registry: &Registry<&'static str>,
    seen: &mpsc::Sender<u32>,
) -> ActorRef<Sink> {
    let (sink, _handle) = start::<Sink>(seen.clone()).await.expect("a sink starts");
    registry.register("sink", &sink).expect("the name is free");
    sink
}

type Sent = Result<foundation::supervised_send::Delivered, CallError<SendFailure<u32>>>;

#[tokio::test]
async fn a_breaker_around_a_supervised_send_trips_parks_and_drains_in_order() {
    let registry = Registry::new();
    let (seen_tx, mut seen) = mpsc::channel(16);
    let first = incarnation(&registry, &seen_tx).await;
    let target = Target::named::<Sink, _>(&registry, "sink");
    // One attempt: the breaker, not the send's own retries, decides when to
    // try again.
    let options = SendOptions::new().max_attempts(1);
    let clock = ManualClock::new();
    let config = Config {
        window: Window::Count(2),
        minimum_calls: 2,
        failure_rate: 0.5,
        half_open_probes: 1,
        open_base: OPEN,
        open_max: OPEN,
        jitter: 0.0,
        ..Config::default()
    };
    let breaker = CircuitBreaker::<u32>::new(config)
        .expect("a valid config")
        .with_clock(clock.clone());
    let ran = Cell::new(0);
    let send = |n: u32| {
        let (target, options, ran) = (&target, &options, &ran);
        breaker.call(move || {
            ran.set(ran.get() + 1);
            send_supervised(target, n, options)
        })
    };

    send(1).await.expect("the sink is up");
    assert_eq!(seen.recv().await, Some(1));

    first
        .stop(ExitReason::Normal, STOP)
        .await
        .expect("the sink stops");
    let failed: Sent = send(2).await;
    let Err(CallError::Failed(failure)) = failed else {
        panic!("a send to a stopped sink fails: {failed:?}");
    };
    assert!(
        matches!(
            failure.last.class(),
            ErrorClass::NotRegistered | ErrorClass::Gone
        ),
        "{failure:?}"
    );
    assert_eq!(
        breaker.state(),
        State::Open,
        "1 failure in 2 calls is the 50 % rate"
    );
    // The failed send gives its message back; parked, it waits for recovery.
    let two = failure
        .into_inner()
        .expect("a failed send gives its message back");
    assert_eq!(breaker.offer(two).expect("room"), None);

    // While open, a send is refused before it runs; its message never left
    // the caller, who parks it too.
    for n in [3, 4] {
        let refused: Sent = send(n).await;
        assert!(
            matches!(refused, Err(CallError::Rejected(_))),
            "{refused:?}"
        );
        assert_eq!(breaker.offer(n).expect("room"), None);
    }
    assert_eq!(ran.get(), 2, "the refused sends never ran");
    assert_eq!(breaker.poll_drain(), Drain::Held(State::Open));

    // The next incarnation takes the name; after the open period one probe
    // reaches it and closes the breaker.
    let _second = incarnation(&registry, &seen_tx).await;
    clock.advance(OPEN);
    send(100).await.expect("the probe reaches the new sink");
    assert_eq!(seen.recv().await, Some(100));
    assert_eq!(breaker.state(), State::Closed);

    // A message offered now queues behind the parked ones.
    assert_eq!(breaker.offer(5).expect("room"), None);
    let mut drained = Vec::new();
    loop {
        match breaker.poll_drain() {
            Drain::Ready(n) => {
                send(n).await.expect("the new sink is up");
                drained.push(n);
            }
            Drain::Wait(wait) => clock.advance(wait),
            Drain::Held(state) => panic!("a {state} breaker holds the buffer"),
            Drain::Empty => break,
        }
    }
    assert_eq!(drained, [2, 3, 4, 5]);
    for n in drained {
        assert_eq!(
            seen.recv().await,
            Some(n),
            "delivered in the buffer's order"
        );
    }
    let stats = breaker.stats();
    assert_eq!((stats.failures, stats.rejected, stats.trips), (1, 2, 1));
    assert_eq!((stats.buffered, stats.drained, stats.dropped), (4, 4, 0));
}
