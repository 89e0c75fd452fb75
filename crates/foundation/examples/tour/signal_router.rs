//! Tour stop: wildcard pub/sub that says who got a signal, drops for the slow subscriber only, and outlives its own crash.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use foundation::{
    mailbox::{
        Actor, ActorOptions, ActorRef, Context, DeadLetter, DeadLetterSink, Reply, start_with,
    },
    monitor_manager::MonitorManager,
    signal_router::{Outcome, RouterOptions, Signal, SignalRouter, SubscribeOptions, Subscription},
    supervisor::{Strategy, Supervisor, SupervisorRef, SupervisorSpec},
};

const TIMEOUT: Duration = Duration::from_secs(5);

/// Counts the signals it handles; answers a call with the count.
#[derive(Debug)]
struct Listener {
    handled: u64,
}

/// A reading routed to a listener, or a question: how many so far?
#[derive(Debug)]
enum Heard {
    Reading(Signal<f32>),
    Count(Reply<u64>),
}

impl From<Signal<f32>> for Heard {
    fn from(reading: Signal<f32>) -> Self {
        Heard::Reading(reading)
    }
}

impl Actor for Listener {
    type Args = ();
    type Msg = Heard;
    type Error = std::convert::Infallible;

    async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Listener { handled: 0 })
    }

    async fn handle(&mut self, heard: Heard, _: &mut Context<Self>) -> Result<(), Self::Error> {
        match heard {
            Heard::Reading(_reading) => self.handled += 1,
            Heard::Count(reply) => reply.send(self.handled).unwrap_or_default(),
        }
        Ok(())
    }
}

/// Counts the dead letters of the slow listener.
#[derive(Debug, Default)]
struct CountLetters(AtomicU64);

impl DeadLetterSink for CountLetters {
    fn dead_letter(&self, _: DeadLetter) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

async fn listener(options: ActorOptions) -> Result<ActorRef<Listener>, Box<dyn std::error::Error>> {
    let (listener, _handle) = start_with::<Listener>((), options).await?;
    Ok(listener)
}

/// Yields to the runtime until `condition` holds (bounded by `TIMEOUT`).
async fn until(
    what: &str,
    mut condition: impl FnMut() -> bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let waited = tokio::time::timeout(TIMEOUT, async {
        while !condition() {
            tokio::task::yield_now().await;
        }
    })
    .await;
    waited.map_err(|_| format!("{what}: not within {TIMEOUT:?}").into())
}

fn reading(topic: &str, value: f32) -> Result<Signal<f32>, Box<dyn std::error::Error>> {
    Ok(Signal::parse(topic, value)?)
}

/// Subscribers on patterns; a delivery count; a queue group; a slow
/// subscriber's drops; a dead subscriber removed by its monitor; the router
/// process crashing and coming back with every subscription.
pub(crate) async fn run() -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "== Signal router: wildcards, delivery counts, queue groups, slow subscribers, restarts"
    );
    let monitors = MonitorManager::new();
    let router: SignalRouter<f32> =
        SignalRouter::with_options(RouterOptions::new().monitors(monitors.clone()));
    let tree = Supervisor::start(
        SupervisorSpec::new(Strategy::OneForOne).child(router.child_spec("router")),
    )
    .await?;

    let dashboard = listener(ActorOptions::new()).await?;
    let kitchen = listener(ActorOptions::new()).await?;
    let audit = listener(ActorOptions::new()).await?;
    let _dashboard = router.subscribe("sensors.>", dashboard.recipient())?;
    let _kitchen = router.subscribe("sensors.kitchen.*", kitchen.recipient())?;
    let _audit = router.subscribe(">", audit.recipient())?;
    println!("  dashboard on `sensors.>`, kitchen on `sensors.kitchen.*`, audit on `>`");

    wildcards(&router, &audit).await?;
    let _billing = queue_group(&router, &audit).await?;
    let _slow = slow_subscriber(&router).await?;

    // Per-subscriber outcomes, on request.
    let names = [
        (dashboard.pid(), "dashboard"),
        (kitchen.pid(), "kitchen"),
        (audit.pid(), "audit"),
    ];
    let report = router
        .route_sync_report(reading("sensors.kitchen.door", 1.0)?, TIMEOUT)
        .await;
    let outcomes: Vec<String> = names
        .iter()
        .map(|(pid, name)| {
            let outcome = report.outcome_for(*pid).unwrap_or(Outcome::NoProcess);
            format!("{name}: {outcome:?}")
        })
        .collect();
    println!(
        "  route_sync_report(sensors.kitchen.door): {}",
        outcomes.join(", ")
    );

    exits_and_restart(&router, &monitors, &tree, &kitchen).await?;
    tree.shutdown(TIMEOUT).await?;
    Ok(())
}

/// Delivery counts for topics the patterns do and do not match, and a
/// pattern refused with its reason.
async fn wildcards(
    router: &SignalRouter<f32>,
    audit: &ActorRef<Listener>,
) -> Result<(), Box<dyn std::error::Error>> {
    for (topic, value) in [
        ("sensors.kitchen.temperature", 21.5),
        ("sensors.hall.humidity", 40.0),
    ] {
        let count = router.route_sync(reading(topic, value)?, TIMEOUT).await;
        println!("  route_sync({topic}) -> delivered to {count}");
    }
    let count = router
        .route_sync(reading("$sys.router.audit", 1.0)?, TIMEOUT)
        .await;
    println!(
        "  route_sync($sys.router.audit) -> delivered to {count} (wildcards never match `$` topics)"
    );
    match router.subscribe("sensors.>.temperature", audit.recipient()) {
        Err(error) => println!("  subscribe(\"sensors.>.temperature\") refused: {error}"),
        Ok(_) => return Err("a `>` in the middle was accepted".into()),
    }
    Ok(())
}

/// Each order goes to one of the two billing workers.
async fn queue_group(
    router: &SignalRouter<f32>,
    audit: &ActorRef<Listener>,
) -> Result<Vec<Subscription>, Box<dyn std::error::Error>> {
    let billing_a = listener(ActorOptions::new()).await?;
    let billing_b = listener(ActorOptions::new()).await?;
    let billing = SubscribeOptions::new().queue("billing");
    let subscriptions = vec![
        router.subscribe_with("orders.>", billing_a.recipient(), billing.clone())?,
        router.subscribe_with("orders.>", billing_b.recipient(), billing)?,
    ];
    for order in 0..4 {
        let topic = format!("orders.eu.{order}");
        router.route_sync(reading(&topic, 9.99)?, TIMEOUT).await;
    }
    println!(
        "  4 orders to queue group `billing`: worker a handled {}, worker b {} (audit, on `>`, has seen {} signals)",
        billing_a.call(Heard::Count, TIMEOUT).await?,
        billing_b.call(Heard::Count, TIMEOUT).await?,
        audit.call(Heard::Count, TIMEOUT).await?
    );
    Ok(subscriptions)
}

/// A mailbox of 2, and 5 signals routed before its actor runs.
async fn slow_subscriber(
    router: &SignalRouter<f32>,
) -> Result<Subscription, Box<dyn std::error::Error>> {
    let letters = Arc::new(CountLetters::default());
    let slow = listener(
        ActorOptions::new()
            .capacity(2)
            .dead_letters(letters.clone()),
    )
    .await?;
    let subscription = router.subscribe("ticks", slow.recipient())?;
    let mut dropped = 0;
    for tick in 0..5u8 {
        dropped += router.route(reading("ticks", f32::from(tick))?).dropped;
    }
    println!(
        "  5 ticks routed best effort to a mailbox of 2: {dropped} dropped for it (counted {}, dead-lettered {}), the publisher never waited",
        subscription.dropped(),
        letters.0.load(Ordering::Relaxed)
    );
    Ok(subscription)
}

/// A subscriber that exits is removed through its monitor; the router
/// process crashes and its subscriptions, which live outside it, stay.
async fn exits_and_restart(
    router: &SignalRouter<f32>,
    monitors: &MonitorManager,
    tree: &SupervisorRef,
    kitchen: &ActorRef<Listener>,
) -> Result<(), Box<dyn std::error::Error>> {
    let before = router.stats().subscriptions;
    kitchen.kill();
    until("the dead subscriber is removed", || {
        router.stats().subscriptions == before - 1
    })
    .await?;
    println!(
        "  kitchen exits: subscriptions {before} -> {}, monitors active {}",
        router.stats().subscriptions,
        monitors.stats().active
    );

    let first = router.stats().janitor;
    if let Some(process) = tree.whereis("router") {
        process.kill();
    }
    until("the router process restarts", || {
        let janitor = router.stats().janitor;
        janitor.is_some() && janitor != first
    })
    .await?;
    let stats = router.stats();
    println!(
        "  router process killed and restarted: {} subscriptions kept, {} monitored again",
        stats.subscriptions, stats.monitored
    );
    let count = router
        .route_sync(reading("sensors.hall.temperature", 19.0)?, TIMEOUT)
        .await;
    println!("  route_sync(sensors.hall.temperature) after the restart -> delivered to {count}");
    Ok(())
}
