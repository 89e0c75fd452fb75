//! A walk through what Foundation does today: `cargo run --example tour`.
//!
//! Each stop is a module of its own, in the order a user meets the crates:
//! a process, its supervisor, monitors, names and timers, state that
//! survives crashes, then the rate limiter, circuit breaker, signal router,
//! dead-letter queue, supervised sends, the coordinator and the scheduler,
//! and last how to test it all.

mod circuit_breaker;
mod coordinator;
mod dead_letter;
mod monitors;
mod names_timers;
mod persistence;
mod process;
mod rate_limiter;
mod scheduler;
mod signal_router;
mod supervised_send;
mod supervision;
mod testkit;

// One thread keeps the tour's output in the same order on every run.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Actor panics are part of the tour; print them on one line instead of
    // the default hook's multi-line report.
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("non-string panic payload");
        println!("    (an actor panicked: {message})");
    }));
    // `TOUR_LOG=1` shows Foundation's tracing: events inside handlers carry
    // the actor's span, and an actor's panic is one ERROR event (the hook
    // above still takes panics outside actors).
    if std::env::var_os("TOUR_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .without_time()
            .init();
        foundation::mailbox::install_panic_hook();
    }
    process::run().await?;
    println!();
    supervision::run().await?;
    println!();
    monitors::run().await?;
    println!();
    names_timers::run().await?;
    println!();
    persistence::run().await?;
    println!();
    rate_limiter::run();
    println!();
    circuit_breaker::run().await?;
    println!();
    signal_router::run().await?;
    println!();
    dead_letter::run().await?;
    println!();
    supervised_send::run().await?;
    println!();
    coordinator::run().await?;
    println!();
    scheduler::run().await?;
    println!();
    testkit::run().await?;
    Ok(())
}
