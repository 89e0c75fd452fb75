//! `spawn`: owned fire-and-forget tasks.

use std::{
    io::Write,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use foundation_mailbox::ExitReason;
use tokio::sync::oneshot;

use crate::task::support::{Drops, WAIT, start};

#[tokio::test(start_paused = true)]
async fn a_spawned_task_runs_is_counted_and_leaves() {
    let (tasks, _handle) = start().await;
    let (release, released) = oneshot::channel::<u32>();
    let (report, reported) = oneshot::channel::<u32>();
    tasks
        .spawn(async move {
            let value = released.await.expect("released");
            report.send(value * 2).expect("test waits");
        })
        .expect("spawned");
    assert_eq!(tasks.active_tasks(), 1);
    release.send(21).expect("task waits");
    let doubled = tokio::time::timeout(WAIT, reported).await;
    assert_eq!(doubled, Ok(Ok(42)));
    assert_eq!(tasks.active_tasks(), 0);
}

/// Captures what tracing writes, to assert an event was emitted.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("not poisoned")
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_a_spawned_task_is_reported_and_harms_nothing_else() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let (tasks, handle) = start().await;
    let drops = Drops::default();
    let guard = drops.guard();
    tasks
        .spawn(async move {
            let _guard = guard;
            panic!("task blew up");
        })
        .expect("spawned");
    assert_eq!(drops.wait_for(1).await, 1, "the panicking task ended");

    assert!(
        !handle.is_finished(),
        "the task supervisor survives a task's panic"
    );
    let (report, reported) = oneshot::channel();
    tasks
        .spawn(async move { report.send(()).expect("test waits") })
        .expect("still accepts tasks");
    assert_eq!(tokio::time::timeout(WAIT, reported).await, Ok(Ok(())));

    let text = String::from_utf8(captured.0.lock().expect("not poisoned").clone()).expect("utf-8");
    assert!(text.contains("supervised task panicked"), "{text}");
    assert!(text.contains("task blew up"), "{text}");
    assert!(text.contains("foundation::supervisor"), "{text}");
}

#[tokio::test(start_paused = true)]
async fn spawning_after_the_supervisor_stopped_gives_the_future_back_unrun() {
    let (tasks, _handle) = start().await;
    tasks.stop(WAIT).await.expect("stops");
    let ran = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&ran);
    let refused = tasks
        .spawn(async move { flag.store(true, Ordering::SeqCst) })
        .expect_err("the supervisor has exited");
    assert_eq!(refused.reason(), &ExitReason::shutdown());
    assert!(refused.to_string().contains("has exited"));
    // The future comes back whole: running it now is the caller's choice.
    refused.into_inner().await;
    assert!(ran.load(Ordering::SeqCst));
    assert!(!tasks.is_alive());
    assert!(tasks.async_nolink(async { 1 }).is_err());
}

#[tokio::test(start_paused = true)]
async fn tasks_can_be_spawned_from_a_thread_outside_the_runtime() {
    let (tasks, _handle) = start().await;
    let (report, reported) = oneshot::channel();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            tasks
                .spawn(async move { report.send("from a plain thread").expect("test waits") })
                .expect("spawned");
        });
    });
    assert_eq!(
        tokio::time::timeout(WAIT, reported).await,
        Ok(Ok("from a plain thread"))
    );
}
