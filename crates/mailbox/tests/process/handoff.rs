//! A chain of actors of one type runs on one task: an actor woken by a
//! handler of its type is run by that handler's task when it goes dormant,
//! and nothing deferred that way is lost, delayed behind other messages,
//! or killed on the wrong task.

use std::sync::{Arc, atomic::AtomicU64};

use foundation_mailbox::{
    ActorHandle, ActorOptions, ActorRef, DeadLetterReason, ExitReason, start, start_with,
};
use tokio::sync::{Semaphore, mpsc};

use super::{
    chains::{Msg, One, Stage, a_bystander_runs_during_a_lap, alive, receive, settle},
    support::{Collect, PATIENCE},
};

/// One actor of a ring of one type.
type Hop = Stage<One>;

/// `size` linked hops; the handles keep the ring's owners alive.
async fn ring(size: usize) -> (Vec<ActorRef<Hop>>, Vec<ActorHandle>) {
    let mut hops = Vec::new();
    let mut handles = Vec::new();
    for _ in 0..size {
        let (hop, handle) = start::<Hop>(()).await.expect("a hop starts");
        hops.push(hop);
        handles.push(handle);
    }
    for (at, hop) in hops.iter().enumerate() {
        hop.try_cast(Msg::Link(hops[(at + 1) % size].clone()))
            .expect("room for the link");
    }
    settle().await;
    (hops, handles)
}

#[tokio::test(flavor = "current_thread")]
async fn a_token_around_a_ring_runs_on_one_task() {
    let (hops, _handles) = ring(100).await;
    let before = alive();
    let most = hops[0]
        .call(|done| Msg::Token(1_000, 0, done), PATIENCE)
        .await
        .expect("the token comes back");
    // What ran before (the runtime's reaper), plus the one task the call
    // to the first hop started: never a task per hop.
    assert_eq!(before + 1, most, "tasks alive while the token travelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_around_a_ring_on_two_workers_arrives() {
    let (hops, _handles) = ring(100).await;
    for lap in 0..20 {
        hops[lap % 100]
            .call(|done| Msg::Token(1_000, 0, done), PATIENCE)
            .await
            .expect("the token comes back");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn an_actor_woken_by_a_handler_that_goes_on_waiting_is_not_held_back() {
    let (hops, _handles) = ring(2).await;
    let gate = Arc::new(Semaphore::new(0));
    // The first hop wakes the second and then blocks on the gate: the
    // second must run (and answer) while the first still waits.
    let reached = hops[0]
        .call(
            |done| Msg::TokenThenBlock(Arc::clone(&gate), done),
            PATIENCE,
        )
        .await;
    reached.expect("the second hop answers while the first waits");
    gate.add_permits(1);
}

#[tokio::test(flavor = "current_thread")]
async fn an_actor_woken_by_a_handler_that_panics_still_runs() {
    let (hops, handles) = ring(2).await;
    let answered = hops[0].call(Msg::TokenThenPanic, PATIENCE).await;
    answered.expect("the woken hop answers");
    let reason = handles[0].wait(PATIENCE).await;
    assert!(matches!(reason, Ok(ExitReason::Panic(_))), "{reason:?}");
    // The woken hop lives on, on a task of its own.
    let (seen, mut heard) = mpsc::unbounded_channel();
    hops[1].try_cast(Msg::Ping(seen)).expect("room");
    heard.recv().await.expect("the second hop handles its ping");
}

#[tokio::test(flavor = "current_thread")]
async fn a_kill_of_the_actor_a_task_took_over_ends_that_actor_only() {
    let (hops, handles) = ring(3).await;
    let gate = Arc::new(Semaphore::new(0));
    // Hop 0's task takes hop 1 over; hop 1 wakes hop 2 (which answers) and
    // blocks on the gate, on hop 0's task. The kill must abort it there,
    // through the abort handle the task registered for hop 1.
    hops[0]
        .call(|done| Msg::PassBlock(Arc::clone(&gate), done), PATIENCE)
        .await
        .expect("hop 2 answers");
    assert!(handles[1].kill());
    let reason = handles[1].wait(PATIENCE).await;
    assert_eq!(reason.expect("hop 1 exits"), ExitReason::Killed);
    // The others live on.
    for at in [0, 2] {
        let (seen, mut heard) = mpsc::unbounded_channel();
        hops[at].try_cast(Msg::Ping(seen)).expect("room");
        heard.recv().await.expect("the hop handles its ping");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_kill_of_an_actor_waiting_in_the_slot_is_carried_out() {
    let (hops, handles) = ring(3).await;
    let (seen, mut heard) = mpsc::unbounded_channel();
    hops[0]
        .try_cast(Msg::WakeNextThenKill(hops[1].process_ref(), seen))
        .expect("room");
    let reason = handles[1].wait(PATIENCE).await;
    assert_eq!(reason.expect("hop 1 exits"), ExitReason::Killed);
    // Its ping was never handled: dead-lettered and dropped with its sender.
    assert_eq!(heard.recv().await, None);
    // Hop 0, whose task met the kill, lives on.
    let (seen, mut heard) = mpsc::unbounded_channel();
    hops[0].try_cast(Msg::Ping(seen)).expect("room");
    heard.recv().await.expect("hop 0 handles its ping");
}

#[tokio::test(flavor = "current_thread")]
async fn a_chain_of_actors_on_one_task_lets_other_tasks_run() {
    const HOPS: u64 = 100_000;
    let (hops, _handles) = ring(10).await;
    let progress = Arc::new(AtomicU64::new(u64::MAX));
    for hop in &hops {
        hop.try_cast(Msg::Watch(Arc::clone(&progress)))
            .expect("room");
    }
    settle().await;
    a_bystander_runs_during_a_lap(hops[0].clone(), &progress, HOPS).await;
}

#[tokio::test(flavor = "current_thread")]
async fn an_actor_taken_over_gets_every_message_its_waker_sent_in_order() {
    let (hops, _handles) = ring(2).await;
    let (seen, mut values) = mpsc::unbounded_channel();
    // The first cast wakes the second hop into the slot, the others queue
    // behind it; when the first hop goes dormant its task takes the second
    // over, with the first of those messages handed over in the same lock
    // and the rest as its batch.
    hops[0]
        .try_cast(Msg::Burst((1..=5).collect(), seen))
        .expect("room for the burst");
    let got = receive(&mut values, 5).await;
    assert_eq!(got, [1, 2, 3, 4, 5]);
}

#[tokio::test(flavor = "current_thread")]
async fn a_kill_while_a_chain_yields_after_a_takeover_dead_letters_the_message_it_was_woken_for() {
    let letters = Arc::new(Collect::default());
    let (first, _first) = start::<Hop>(()).await.expect("a hop starts");
    let (second, second_handle) =
        start_with::<Hop>((), ActorOptions::new().dead_letters(letters.clone()))
            .await
            .expect("a hop starts");
    first
        .try_cast(Msg::Link(second.clone()))
        .expect("room for the link");
    settle().await;
    // 128 messages in a row, the last waking the second hop: the chain is
    // due to yield (every 128 handled) when its task takes that hop over,
    // so it yields with the hop taken over and its ping still queued.
    for _ in 0..127 {
        first.try_cast(Msg::Tick).expect("room for a tick");
    }
    let (seen, mut heard) = mpsc::unbounded_channel();
    let (told, mut woke) = mpsc::unbounded_channel();
    first
        .try_cast(Msg::WakeNextThenTell(seen, told))
        .expect("room for the wake");
    woke.recv().await.expect("the first hop woke the second");
    // Here the task that took the second hop over is yielding.
    assert!(second_handle.kill());
    let reason = second_handle.wait(PATIENCE).await;
    assert_eq!(reason.expect("the second hop exits"), ExitReason::Killed);
    assert_eq!(heard.recv().await, None, "the ping was never handled");
    // Nothing held across the yield: the ping is a dead letter.
    let letters = letters.letters();
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].0, second.pid());
    assert_eq!(letters[0].1, DeadLetterReason::Exited(ExitReason::Killed));
}
