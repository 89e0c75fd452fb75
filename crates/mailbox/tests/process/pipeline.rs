//! A pipeline through actors of different types runs on one task: an actor
//! woken by a handler of another type is run, boxed, by that handler's task
//! when the handler's actor goes dormant, and nothing handed over that way
//! is lost, delayed behind other messages, or killed on the wrong task.
//! (`handoff.rs` holds the same promises for a chain of one type.)

use std::sync::{Arc, atomic::AtomicU64};

use foundation_mailbox::{
    ActorHandle, ActorOptions, ActorRef, DeadLetterReason, ExitReason, start, start_with,
};
use tokio::sync::{Semaphore, mpsc};

use super::{
    chains::{Even, Msg, Odd, Side, Stage, a_bystander_runs_during_a_lap, alive, receive, settle},
    support::{Collect, PATIENCE},
};

/// A pipeline closed into a ring of `2 × pairs` stages: even stage `i`
/// passes to odd stage `i`, which passes to even stage `i + 1`.
struct Ring {
    evens: Vec<ActorRef<Stage<Even>>>,
    odds: Vec<ActorRef<Stage<Odd>>>,
    even_handles: Vec<ActorHandle>,
    odd_handles: Vec<ActorHandle>,
}

impl Ring {
    /// Makes even 0's task adopt odd 0, which wakes even 1 (which answers)
    /// and then blocks, on even 0's task, on the gate returned.
    async fn block_odd_0_on_the_task_of_even_0(&self) -> Arc<Semaphore> {
        let gate = Arc::new(Semaphore::new(0));
        self.evens[0]
            .call(|done| Msg::PassBlock(Arc::clone(&gate), done), PATIENCE)
            .await
            .expect("even 1 answers");
        gate
    }

    /// Pings the even and odd stages at these indexes and waits for every
    /// answer: each is alive and handling messages.
    async fn answer(&self, evens: &[usize], odds: &[usize]) {
        let (seen, mut heard) = mpsc::unbounded_channel();
        for &at in evens {
            let ping = Msg::Ping(seen.clone());
            self.evens[at].try_cast(ping).expect("room");
        }
        for &at in odds {
            let ping = Msg::Ping(seen.clone());
            self.odds[at].try_cast(ping).expect("room");
        }
        for _ in 0..evens.len() + odds.len() {
            heard.recv().await.expect("the stage answers");
        }
    }
}

async fn stages<K: Side>(count: usize) -> (Vec<ActorRef<Stage<K>>>, Vec<ActorHandle>) {
    let mut stages = Vec::new();
    let mut handles = Vec::new();
    for _ in 0..count {
        let (stage, handle) = start::<Stage<K>>(()).await.expect("a stage starts");
        stages.push(stage);
        handles.push(handle);
    }
    (stages, handles)
}

async fn ring(pairs: usize) -> Ring {
    let (evens, even_handles) = stages::<Even>(pairs).await;
    let (odds, odd_handles) = stages::<Odd>(pairs).await;
    for at in 0..pairs {
        evens[at]
            .try_cast(Msg::Link(odds[at].clone()))
            .expect("room for the link");
        odds[at]
            .try_cast(Msg::Link(evens[(at + 1) % pairs].clone()))
            .expect("room for the link");
    }
    settle().await;
    Ring {
        evens,
        odds,
        even_handles,
        odd_handles,
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_token_through_a_pipeline_of_two_types_runs_on_one_task() {
    let ring = ring(50).await;
    let before = alive();
    let most = ring.evens[0]
        .call(|done| Msg::Token(1_000, 0, done), PATIENCE)
        .await
        .expect("the token comes back");
    // What ran before, plus the one task the call to the first stage
    // started. A task per hop would show two: the next stage's, started
    // while the last one's lingered.
    assert_eq!(before + 1, most, "tasks alive while the token travelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_through_a_pipeline_of_two_types_on_two_workers_arrives() {
    let ring = ring(50).await;
    for lap in 0..20 {
        ring.evens[lap % 50]
            .call(|done| Msg::Token(1_000, 0, done), PATIENCE)
            .await
            .expect("the token comes back");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_stage_woken_by_a_handler_of_another_type_that_goes_on_waiting_is_not_held_back() {
    let ring = ring(1).await;
    let gate = Arc::new(Semaphore::new(0));
    // The even stage wakes the odd one and then blocks on the gate: the
    // odd one must run (and answer) while the even one still waits.
    ring.evens[0]
        .call(
            |done| Msg::TokenThenBlock(Arc::clone(&gate), done),
            PATIENCE,
        )
        .await
        .expect("the odd stage answers while the even one waits");
    gate.add_permits(1);
}

#[tokio::test(flavor = "current_thread")]
async fn a_stage_woken_by_a_handler_of_another_type_that_panics_still_runs() {
    let ring = ring(1).await;
    ring.evens[0]
        .call(Msg::TokenThenPanic, PATIENCE)
        .await
        .expect("the woken stage answers");
    let reason = ring.even_handles[0].wait(PATIENCE).await;
    assert!(matches!(reason, Ok(ExitReason::Panic(_))), "{reason:?}");
    ring.answer(&[], &[0]).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_panic_of_an_adopted_stage_ends_that_stage_only() {
    let ring = ring(2).await;
    // Even 0's task adopts odd 0, which wakes even 1 (which answers) and
    // panics there.
    ring.evens[0]
        .call(Msg::PassPanic, PATIENCE)
        .await
        .expect("even 1 answers");
    let reason = ring.odd_handles[0].wait(PATIENCE).await;
    assert!(matches!(reason, Ok(ExitReason::Panic(_))), "{reason:?}");
    ring.answer(&[0, 1], &[]).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_kill_of_the_stage_a_task_adopted_ends_that_stage_only() {
    let ring = ring(2).await;
    // The kill must abort odd 0 on even 0's task, through the abort handle
    // the task registered for odd 0.
    let _gate = ring.block_odd_0_on_the_task_of_even_0().await;
    assert!(ring.odd_handles[0].kill());
    let reason = ring.odd_handles[0].wait(PATIENCE).await;
    assert_eq!(reason.expect("odd 0 exits"), ExitReason::Killed);
    ring.answer(&[0, 1], &[1]).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_killed_adopted_stage_whose_state_panics_in_drop_ends_alone() {
    let ring = ring(2).await;
    ring.odds[0].try_cast(Msg::PanicOnDrop).expect("room");
    settle().await;
    // The kill aborts even 0's task, where odd 0 runs, and dropping odd 0's
    // state there panics.
    let _gate = ring.block_odd_0_on_the_task_of_even_0().await;
    assert!(ring.odd_handles[0].kill());
    let reason = ring.odd_handles[0].wait(PATIENCE).await;
    assert!(matches!(reason, Ok(ExitReason::Panic(_))), "{reason:?}");
    // The panic reached neither the task's first actor nor anyone else.
    ring.answer(&[0, 1], &[1]).await;
}

/// A runtime shutting down while a stage runs, blocked, on the task of a
/// stage of another type ends every stage, the adopted one included.
#[test]
fn a_runtime_shutting_down_ends_a_stage_running_on_a_task_of_another_type() {
    let actors = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (handles, gate) = actors.block_on(async {
        let ring = ring(2).await;
        let gate = ring.block_odd_0_on_the_task_of_even_0().await;
        assert!(ring.odds[0].is_alive(), "odd 0 waits on the gate");
        let mut handles = ring.even_handles;
        handles.extend(ring.odd_handles);
        (handles, gate)
    });
    drop(actors);
    for handle in &handles {
        assert_eq!(
            handle.process().exit_reason(),
            Some(ExitReason::Killed),
            "{:?} outlived its runtime",
            handle.pid()
        );
    }
    drop(gate);
}

#[tokio::test(flavor = "current_thread")]
async fn a_kill_of_a_stage_waiting_to_be_adopted_is_carried_out_and_its_message_dead_lettered() {
    let letters = Arc::new(Collect::default());
    let (even, _even_handle) = start::<Stage<Even>>(()).await.expect("a stage starts");
    let (odd, odd_handle) =
        start_with::<Stage<Odd>>((), ActorOptions::new().dead_letters(letters.clone()))
            .await
            .expect("a stage starts");
    even.try_cast(Msg::Link(odd.clone())).expect("room");
    settle().await;
    let (seen, mut heard) = mpsc::unbounded_channel();
    even.try_cast(Msg::WakeNextThenKill(odd.process_ref(), seen))
        .expect("room");
    let reason = odd_handle.wait(PATIENCE).await;
    assert_eq!(reason.expect("the odd stage exits"), ExitReason::Killed);
    assert_eq!(heard.recv().await, None, "the ping was never handled");
    let letters = letters.letters();
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].0, odd.pid());
    assert_eq!(letters[0].1, DeadLetterReason::Exited(ExitReason::Killed));
    // The stage whose task met the kill lives on.
    let (seen, mut heard) = mpsc::unbounded_channel();
    even.try_cast(Msg::Ping(seen)).expect("room");
    heard.recv().await.expect("the even stage handles its ping");
}

#[tokio::test(flavor = "current_thread")]
async fn stages_of_another_type_woken_beside_one_of_the_same_type_do_not_wait_for_it() {
    let ring = ring(3).await;
    let gate = Arc::new(Semaphore::new(0));
    let (alive_at, mut told) = mpsc::unbounded_channel();
    let (seen, mut heard) = mpsc::unbounded_channel();
    let before = alive();
    // Even 0 wakes even 1 (its own type, which its task takes over) and
    // two odd stages: the first waits beside the slot, the second gets a
    // task at once. When the task takes even 1 over, the odd stage beside
    // the slot must get a task of its own before even 1's handler runs,
    // not wait for even 1 to finish.
    ring.evens[0]
        .try_cast(Msg::WakeMany {
            own: ring.evens[1].clone(),
            others: vec![ring.odds[1].clone(), ring.odds[2].clone()],
            gate: Arc::clone(&gate),
            alive: alive_at,
            seen,
        })
        .expect("room");
    let during = told.recv().await.expect("even 1 reports");
    assert_eq!(
        during,
        before + 3,
        "tasks alive as even 1 ran: its own, and one per odd stage"
    );
    for _ in 0..2 {
        heard
            .recv()
            .await
            .expect("an odd stage answers while even 1 blocks");
    }
    gate.add_permits(1);
}

#[tokio::test(flavor = "current_thread")]
async fn a_pipeline_of_two_types_on_one_task_lets_other_tasks_run() {
    const HOPS: u64 = 100_000;
    let ring = ring(5).await;
    let progress = Arc::new(AtomicU64::new(u64::MAX));
    for at in 0..5 {
        let watch = Msg::Watch(Arc::clone(&progress));
        ring.evens[at].try_cast(watch).expect("room");
        let watch = Msg::Watch(Arc::clone(&progress));
        ring.odds[at].try_cast(watch).expect("room");
    }
    settle().await;
    a_bystander_runs_during_a_lap(ring.evens[0].clone(), &progress, HOPS).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_stage_of_another_type_gets_every_message_its_waker_sent_in_order() {
    let ring = ring(1).await;
    let (seen, mut values) = mpsc::unbounded_channel();
    ring.evens[0]
        .try_cast(Msg::Burst((1..=5).collect(), seen))
        .expect("room for the burst");
    let got = receive(&mut values, 5).await;
    assert_eq!(got, [1, 2, 3, 4, 5]);
}
