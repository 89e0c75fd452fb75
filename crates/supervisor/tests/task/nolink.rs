//! `async_nolink`: tasks whose result the caller awaits with a timeout.

use std::time::Duration;

use foundation_mailbox::ExitReason;
use foundation_supervisor::{TaskError, Yielded};
use tokio::sync::oneshot;

use crate::task::support::{Drops, WAIT, never, start};

#[tokio::test(start_paused = true)]
async fn the_value_comes_back_and_the_task_has_left() {
    let (tasks, _handle) = start().await;
    let task = tasks.async_nolink(async { "value" }).expect("spawned");
    assert_eq!(task.await_timeout(WAIT).await, Ok("value"));
    // The task leaves the supervisor before its result is delivered.
    assert_eq!(tasks.active_tasks(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_panic_comes_back_as_an_error_value() {
    let (tasks, handle) = start().await;
    let task = tasks
        .async_nolink(async {
            panic!("bad input: {}", 7);
        })
        .expect("spawned");
    let result: Result<(), TaskError> = task.await_timeout(WAIT).await;
    assert_eq!(result, Err(TaskError::Panicked("bad input: 7".into())));
    assert!(!handle.is_finished(), "the task supervisor survives");
    assert_eq!(tasks.active_tasks(), 0);
}

#[tokio::test(start_paused = true)]
async fn await_timeout_ends_a_task_that_runs_too_long() {
    let (tasks, _handle) = start().await;
    let drops = Drops::default();
    let (_keep, forever) = never(drops.guard());
    let task = tasks.async_nolink(forever).expect("spawned");
    let timeout = Duration::from_millis(250);
    assert_eq!(
        task.await_timeout(timeout).await,
        Err(TaskError::Timeout(timeout))
    );
    assert_eq!(drops.wait_for(1).await, 1, "the task's future was dropped");
    assert_eq!(tasks.active_tasks(), 0);
}

#[tokio::test(start_paused = true)]
async fn yield_timeout_leaves_the_task_running() {
    let (tasks, _handle) = start().await;
    let (release, released) = oneshot::channel::<u8>();
    let task = tasks
        .async_nolink(async move { released.await.expect("released") })
        .expect("spawned");
    let Yielded::Running(task) = task.yield_timeout(Duration::from_secs(1)).await else {
        panic!("the task waits for its release");
    };
    assert_eq!(tasks.active_tasks(), 1);
    release.send(9).expect("task waits");
    assert!(matches!(
        task.yield_timeout(WAIT).await,
        Yielded::Done(Ok(9))
    ));
}

#[tokio::test(start_paused = true)]
async fn abort_and_shutdown_end_the_task_as_killed() {
    let (tasks, _handle) = start().await;
    let drops = Drops::default();
    let (_keep, forever) = never(drops.guard());
    let mut aborted = tasks.async_nolink(forever).expect("spawned");
    aborted.abort();
    assert_eq!(aborted.await_timeout(WAIT).await, Err(TaskError::Killed));

    let (_keep_too, forever) = never(drops.guard());
    let running = tasks.async_nolink(forever).expect("spawned");
    tokio::task::yield_now().await;
    assert_eq!(running.shutdown(WAIT).await, Err(TaskError::Killed));
    assert_eq!(drops.count(), 2);
    assert_eq!(tasks.active_tasks(), 0);
}

#[tokio::test(start_paused = true)]
async fn shutdown_of_a_finished_task_returns_its_value() {
    let (tasks, _handle) = start().await;
    let task = tasks.async_nolink(async { 5 }).expect("spawned");
    tokio::task::yield_now().await;
    assert!(task.is_finished());
    assert_eq!(task.shutdown(WAIT).await, Ok(5));
}

#[tokio::test(start_paused = true)]
async fn stopping_the_supervisor_ends_the_task_with_shutdown() {
    let (tasks, _handle) = start().await;
    let (_keep, forever) = never(Drops::default().guard());
    let task = tasks.async_nolink(forever).expect("spawned");
    tasks.stop(WAIT).await.expect("stops");
    assert_eq!(
        task.await_timeout(WAIT).await,
        Err(TaskError::Shutdown(ExitReason::shutdown()))
    );
}

#[tokio::test(start_paused = true)]
async fn killing_the_supervisor_ends_the_task_too() {
    let (tasks, handle) = start().await;
    let drops = Drops::default();
    let (_keep, forever) = never(drops.guard());
    let task = tasks.async_nolink(forever).expect("spawned");
    tokio::task::yield_now().await;
    assert!(handle.kill());
    assert_eq!(handle.wait(WAIT).await, Ok(ExitReason::Killed));
    assert_eq!(
        task.await_timeout(WAIT).await,
        Err(TaskError::Shutdown(ExitReason::Killed))
    );
    assert_eq!(drops.count(), 1);
    assert_eq!(tasks.active_tasks(), 0);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_handle_leaves_the_task_running_to_its_end() {
    let (tasks, _handle) = start().await;
    let (release, released) = oneshot::channel::<()>();
    let (report, reported) = oneshot::channel();
    let task = tasks
        .async_nolink(async move {
            released.await.expect("released");
            report.send("finished").expect("test waits");
        })
        .expect("spawned");
    drop(task);
    assert_eq!(tasks.active_tasks(), 1);
    release.send(()).expect("task waits");
    assert_eq!(
        tokio::time::timeout(WAIT, reported).await,
        Ok(Ok("finished"))
    );
}
