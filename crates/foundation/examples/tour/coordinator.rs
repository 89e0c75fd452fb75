//! Tour stop: a workflow per process, each step saved before the next; a
//! failing step is retried; a coordinator that goes down mid-workflow is
//! replaced by one that resumes it without rerunning what was saved.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use foundation::{
    coordinator::{Coordinator, Retry, Step, StepError, Workflow},
    persistence::{MemoryStore, Store},
};
use tokio::sync::{Semaphore, mpsc};

const TIMEOUT: Duration = Duration::from_secs(5);

/// A step that counts its runs and outputs its name.
fn step(name: &'static str, runs: &Arc<AtomicU32>) -> Step {
    let runs = Arc::clone(runs);
    Step::new(name, move |_| {
        runs.fetch_add(1, Ordering::SeqCst);
        async move { Ok(name.as_bytes().to_vec()) }
    })
}

pub(crate) async fn run() -> Result<(), Box<dyn std::error::Error>> {
    println!("== Coordinator: a durable process per workflow ==");
    let store = Store::new(MemoryStore::new());
    let reserved = Arc::new(AtomicU32::new(0));
    let (started, mut starts) = mpsc::channel(4);
    let gate = Arc::new(Semaphore::new(0));
    let order = Workflow::new("order")
        .step(step("reserve", &reserved))
        .step(
            Step::new("charge", |ctx| async move {
                if ctx.attempt() == 1 {
                    return Err(StepError::retryable("card network busy"));
                }
                Ok(b"paid".to_vec())
            })
            .retry(Retry::exponential(
                3,
                Duration::from_millis(10),
                Duration::from_millis(50),
            )),
        )
        .step({
            let gate = Arc::clone(&gate);
            Step::new("ship", move |ctx| {
                let gate = Arc::clone(&gate);
                let started = started.clone();
                async move {
                    // The second order waits here, for the tour to crash it.
                    if ctx.workflow_id() == "order-2" {
                        started
                            .send(ctx.attempt())
                            .await
                            .map_err(StepError::permanent)?;
                        gate.acquire().await.map_err(StepError::permanent)?.forget();
                    }
                    Ok(b"shipped".to_vec())
                }
            })
        });

    let coordinator = Coordinator::start(store.clone(), [order.clone()]).await?;
    coordinator
        .start_workflow("order", "order-1", b"book".to_vec())
        .await?;
    let done = coordinator.wait("order-1", TIMEOUT).await?;
    for step in &done.completed {
        println!(
            "  order-1: {} done on attempt {} -> {}",
            step.step,
            step.attempt,
            String::from_utf8_lossy(&step.output)
        );
    }
    for failure in &done.failures {
        println!(
            "  order-1: {} attempt {} failed: {}",
            failure.step, failure.attempt, failure.error
        );
    }
    println!("  order-1: {:?}", done.status);

    coordinator
        .start_workflow("order", "order-2", b"lamp".to_vec())
        .await?;
    starts.recv().await.ok_or("the ship step never started")?;
    println!("  order-2 is shipping; the coordinator goes down");
    coordinator.shutdown(TIMEOUT).await?;
    let saved = coordinator.status("order-2").await?;
    println!(
        "  saved: {:?}, steps done: {:?}",
        saved.status,
        saved
            .completed
            .iter()
            .map(|s| s.step.as_str())
            .collect::<Vec<_>>()
    );

    let replacement = Coordinator::start(store, [order]).await?;
    starts.recv().await.ok_or("the ship step never reran")?;
    gate.add_permits(1);
    let done = replacement.wait("order-2", TIMEOUT).await?;
    println!(
        "  a new coordinator resumed it: {:?}; `reserve` ran {} times for 2 orders",
        done.status,
        reserved.load(Ordering::SeqCst)
    );
    replacement.shutdown(TIMEOUT).await?;
    Ok(())
}
