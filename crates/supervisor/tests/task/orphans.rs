//! No orphans: whatever ends the task supervisor ends every task it owns,
//! counted by the tasks' dropped futures and by the runtime's live tasks.

use std::{
    num::NonZeroUsize,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use foundation_mailbox::ExitReason;
use foundation_supervisor::{
    AsyncStreamOptions, TaskError, TaskSupervisorOptions, start_task_supervisor,
};

use crate::task::support::{Drops, WAIT, never, poll_once, start};

fn alive() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

#[tokio::test(start_paused = true)]
async fn stopping_the_supervisor_drops_every_task_future() {
    const SPAWNED: usize = 100;
    const NOLINK: usize = 10;
    const STREAMED: usize = 10;
    let token = Arc::new(());
    let (tasks, process) = start_task_supervisor(TaskSupervisorOptions::new())
        .await
        .expect("starts");
    // After the start: the runtime's first process also starts its reaper
    // (one task per runtime, which ends its processes at shutdown).
    let baseline = alive();
    let drops = Drops::default();
    let mut keep = Vec::new();
    for _ in 0..SPAWNED {
        let (sender, forever) = never(drops.guard());
        let token = Arc::clone(&token);
        keep.push(sender);
        tasks
            .spawn(async move {
                let _token = token;
                forever.await;
            })
            .expect("spawned");
    }
    let mut handles = Vec::new();
    for _ in 0..NOLINK {
        let (sender, forever) = never(drops.guard());
        keep.push(sender);
        handles.push(tasks.async_nolink(forever).expect("spawned"));
    }
    let options =
        AsyncStreamOptions::new().max_concurrency(NonZeroUsize::new(STREAMED).expect("non-zero"));
    let mut stream = tasks.async_stream(
        0..1_000,
        |_| {
            let (sender, forever) = never(drops.guard());
            keep.push(sender);
            forever
        },
        options,
    );
    assert!(poll_once(&mut stream).await.is_pending());

    let total = SPAWNED + NOLINK + STREAMED;
    assert_eq!(tasks.active_tasks(), total);
    assert_eq!(alive(), baseline + total);
    assert_eq!(Arc::strong_count(&token), 1 + SPAWNED);

    let stopped = process.stop(ExitReason::shutdown(), WAIT).await;
    assert_eq!(stopped, Ok(ExitReason::shutdown()));
    assert_eq!(drops.count(), total, "every task's future was dropped");
    assert_eq!(tasks.active_tasks(), 0);
    assert_eq!(Arc::strong_count(&token), 1);
    assert_eq!(alive(), baseline, "no task is left on the runtime");
    drop(stream);
    drop(keep);
}

#[tokio::test(start_paused = true)]
async fn killing_the_supervisor_aborts_every_task() {
    const SPAWNED: usize = 50;
    let (tasks, handle) = start().await;
    let baseline = alive();
    let drops = Drops::default();
    let mut keep = Vec::new();
    for _ in 0..SPAWNED {
        let (sender, forever) = never(drops.guard());
        keep.push(sender);
        tasks.spawn(forever).expect("spawned");
    }
    tokio::task::yield_now().await;
    assert_eq!(alive(), baseline + SPAWNED);
    assert!(handle.kill());
    assert_eq!(handle.wait(WAIT).await, Ok(ExitReason::Killed));
    assert_eq!(drops.wait_for(SPAWNED).await, SPAWNED);
    assert_eq!(tasks.active_tasks(), 0);
    assert_eq!(alive(), baseline);
}

#[tokio::test(start_paused = true)]
async fn dropping_every_reference_to_the_supervisor_aborts_its_tasks() {
    let (tasks, handle) = start().await;
    let drops = Drops::default();
    let (_keep, forever) = never(drops.guard());
    tasks.spawn(forever).expect("spawned");
    drop(tasks);
    drop(handle);
    assert_eq!(drops.wait_for(1).await, 1);
}

#[tokio::test(start_paused = true)]
async fn a_task_future_is_dropped_before_it_stops_being_counted() {
    // Whether the task is aborted before its first poll or while it waits,
    // its future is dropped while the supervisor still counts it, so
    // `active_tasks() == 0` means every future is gone.
    let (tasks, _handle) = start().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    struct Record(
        foundation_supervisor::TaskSupervisorRef,
        Arc<Mutex<Vec<usize>>>,
    );
    impl Drop for Record {
        fn drop(&mut self) {
            self.1
                .lock()
                .expect("not poisoned")
                .push(self.0.active_tasks());
        }
    }
    // One task at a time, so the count seen is that task's own.
    let record = Record(tasks.clone(), Arc::clone(&seen));
    let mut unpolled = tasks
        .async_nolink(async move {
            let _record = record;
        })
        .expect("spawned");
    unpolled.abort();
    assert_eq!(unpolled.await_timeout(WAIT).await, Err(TaskError::Killed));
    assert_eq!(tasks.active_tasks(), 0);

    let record = Record(tasks.clone(), Arc::clone(&seen));
    let (_keep, forever) = never(Drops::default().guard());
    let waiting = tasks
        .async_nolink(async move {
            let _record = record;
            forever.await;
        })
        .expect("spawned");
    tokio::task::yield_now().await;
    assert_eq!(waiting.shutdown(WAIT).await, Err(TaskError::Killed));
    assert_eq!(tasks.active_tasks(), 0);

    let seen = seen.lock().expect("not poisoned").clone();
    assert_eq!(
        seen,
        vec![1, 1],
        "each future was dropped while still counted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawns_racing_a_stop_are_either_refused_or_ended() {
    let (tasks, _handle) = start().await;
    let drops = Drops::default();
    let accepted = AtomicUsize::new(0);
    let refused = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                for _ in 0..5_000 {
                    let (keep, forever) = never(drops.guard());
                    match tasks.spawn(async move {
                        let _keep = keep;
                        forever.await;
                    }) {
                        Ok(()) => accepted.fetch_add(1, Ordering::SeqCst),
                        Err(error) => {
                            drop(error.into_inner());
                            refused.fetch_add(1, Ordering::SeqCst)
                        }
                    };
                }
            });
        }
        let runtime = tokio::runtime::Handle::current();
        let tasks = &tasks;
        scope.spawn(move || {
            std::thread::yield_now();
            runtime.block_on(async {
                tasks.stop(Duration::from_secs(30)).await.expect("stops");
            });
        });
    });
    assert_eq!(
        accepted.load(Ordering::SeqCst) + refused.load(Ordering::SeqCst),
        10_000
    );
    assert_eq!(
        drops.wait_for(10_000).await,
        10_000,
        "every future dropped, run or not"
    );
    assert_eq!(tasks.active_tasks(), 0);
}
