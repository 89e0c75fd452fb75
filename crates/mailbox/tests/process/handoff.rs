//! A chain of actors of one type runs on one task: an actor woken by a
//! handler of its type is run by that handler's task when it goes dormant,
//! and nothing deferred that way is lost, delayed behind other messages,
//! or killed on the wrong task.

use std::{
    convert::Infallible,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use foundation_mailbox::{
    Actor, ActorHandle, ActorOptions, ActorRef, Context, DeadLetterReason, ExitReason, ProcessRef,
    Reply, start, start_with,
};
use tokio::sync::{Semaphore, mpsc};

use super::support::{Collect, PATIENCE};

/// One actor of a ring: passes the token on, and records on the way how
/// many tasks the runtime has alive.
#[derive(Debug, Default)]
struct Hop {
    next: Option<ActorRef<Hop>>,
    /// Where a hop writes the hops left of the last token it passed.
    progress: Option<Arc<AtomicU64>>,
}

#[derive(Debug)]
enum Msg {
    Link(ActorRef<Hop>),
    Watch(Arc<AtomicU64>),
    /// Hops left; the most tasks seen alive so far; whom to tell at zero.
    Token(u64, usize, Reply<usize>),
    /// Passes a token on, then waits for a permit on the gate before
    /// returning: a handler still busy after it woke the next actor.
    TokenThenBlock(Arc<Semaphore>, Reply<usize>),
    /// Panics after waking the next actor.
    TokenThenPanic(Reply<usize>),
    /// Passes `TokenThenBlock` on: the next hop blocks on the task that
    /// took it over.
    PassBlock(Arc<Semaphore>, Reply<usize>),
    /// Wakes the next hop with a ping, then kills it before returning:
    /// the kill meets the activation while it waits in the slot.
    WakeNextThenKill(ProcessRef, mpsc::Sender<()>),
    /// Reports being handled.
    Ping(mpsc::Sender<()>),
    /// Casts every value to the next hop, in order, as `Record`s.
    Burst(Vec<u32>, mpsc::UnboundedSender<u32>),
    /// Reports its value.
    Record(u32, mpsc::UnboundedSender<u32>),
    /// Does nothing: one more message handled in a row.
    Tick,
    /// Wakes the next hop with a ping, and tells the test it did.
    WakeNextThenTell(mpsc::Sender<()>, mpsc::UnboundedSender<()>),
}

impl Actor for Hop {
    type Args = ();
    type Msg = Msg;
    type Error = Infallible;

    async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Self::default())
    }

    async fn handle(&mut self, msg: Msg, _: &mut Context<Self>) -> Result<(), Self::Error> {
        let alive = tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks();
        match msg {
            Msg::Link(next) => self.next = Some(next),
            Msg::Watch(progress) => self.progress = Some(progress),
            Msg::Token(0, most, done) => done.send(most.max(alive)).expect("the driver waits"),
            Msg::Token(left, most, done) => {
                if let Some(progress) = &self.progress {
                    progress.store(left, Ordering::Relaxed);
                }
                self.pass(Msg::Token(left - 1, most.max(alive), done));
            }
            Msg::TokenThenBlock(gate, done) => {
                self.pass(Msg::Token(0, 0, done));
                gate.acquire().await.expect("the gate stays open").forget();
            }
            Msg::TokenThenPanic(done) => {
                self.pass(Msg::Token(0, 0, done));
                panic!("a hop panics after waking the next one");
            }
            Msg::PassBlock(gate, done) => self.pass(Msg::TokenThenBlock(gate, done)),
            Msg::WakeNextThenKill(next, seen) => {
                self.pass(Msg::Ping(seen));
                assert!(next.kill(), "the next hop was alive");
            }
            Msg::Ping(seen) => seen.try_send(()).expect("the test waits for the ping"),
            Msg::Burst(values, seen) => {
                for value in values {
                    self.pass(Msg::Record(value, seen.clone()));
                }
            }
            Msg::Record(value, seen) => seen.send(value).expect("the test waits for the values"),
            Msg::Tick => {}
            Msg::WakeNextThenTell(seen, told) => {
                self.pass(Msg::Ping(seen));
                told.send(()).expect("the test waits to hear it");
            }
        }
        Ok(())
    }
}

impl Hop {
    fn pass(&self, token: Msg) {
        let next = self.next.as_ref().expect("linked before the first token");
        next.try_cast(token).expect("the next hop has room");
    }
}

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

/// Lets the hops' pending activations end (each is a poll to handle its
/// message and one to go dormant after lingering a turn), on a
/// current-thread runtime, so every hop is dormant.
async fn settle() {
    for _ in 0..4 {
        tokio::task::yield_now().await;
    }
}

fn alive() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
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
    let (seen, mut heard) = mpsc::channel(1);
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
        let (seen, mut heard) = mpsc::channel(1);
        hops[at].try_cast(Msg::Ping(seen)).expect("room");
        heard.recv().await.expect("the hop handles its ping");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_kill_of_an_actor_waiting_in_the_slot_is_carried_out() {
    let (hops, handles) = ring(3).await;
    let (seen, mut heard) = mpsc::channel(1);
    hops[0]
        .try_cast(Msg::WakeNextThenKill(hops[1].process_ref(), seen))
        .expect("room");
    let reason = handles[1].wait(PATIENCE).await;
    assert_eq!(reason.expect("hop 1 exits"), ExitReason::Killed);
    // Its ping was never handled: dead-lettered and dropped with its sender.
    assert_eq!(heard.recv().await, None);
    // Hop 0, whose task met the kill, lives on.
    let (seen, mut heard) = mpsc::channel(1);
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
    let first = hops[0].clone();
    // audit:allow(FND001) the lap's driver, awaited below
    let lap =
        tokio::spawn(async move { first.call(|done| Msg::Token(HOPS, 0, done), PATIENCE).await });
    // This test is the bystander: each yield hands the thread to the
    // chain, which must hand it back long before its last hop.
    let mut seen = u64::MAX;
    for _ in 0..10 {
        tokio::task::yield_now().await;
        seen = progress.load(Ordering::Relaxed);
        if seen != u64::MAX {
            break;
        }
    }
    // The chain yields every 128 hops, and the scheduler polls this test
    // within a few dozen task polls: far sooner than half the lap.
    assert!(
        seen > HOPS / 2 && seen < HOPS,
        "the bystander ran when {seen} hops were left"
    );
    lap.await
        .expect("the driver finishes")
        .expect("the token comes back");
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
    let mut got = Vec::new();
    while got.len() < 5 {
        let value = tokio::time::timeout(PATIENCE, values.recv())
            .await
            .unwrap_or_else(|_| panic!("only {got:?} arrived"));
        got.push(value.expect("the second hop reports"));
    }
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
    let (seen, mut heard) = mpsc::channel(1);
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
