//! What the tests of chains and pipelines of actors share: their actor,
//! letting it go dormant, counting tasks, and watching a long chain from
//! another task.

use std::{
    convert::Infallible,
    fmt,
    marker::PhantomData,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use foundation_mailbox::{Actor, ActorRef, Context, ProcessRef, Reply};
use tokio::sync::{Semaphore, mpsc};

use super::support::PATIENCE;

/// Which actor type a stage is, and the type of the stage it passes to.
pub(crate) trait Side: Send + Sync + 'static {
    type Other: Side<Other = Self>;
}

/// Stages of a chain of one type.
pub(crate) enum One {}
/// The even stages of a pipeline of two types taking turns.
pub(crate) enum Even {}
/// The odd stages.
pub(crate) enum Odd {}

impl Side for One {
    type Other = One;
}

impl Side for Even {
    type Other = Odd;
}

impl Side for Odd {
    type Other = Even;
}

/// One stage of a chain: `Stage<One>` passes to another of its type,
/// `Stage<Even>` to a `Stage<Odd>` and back. It records on the way how
/// many tasks the runtime has alive.
pub(crate) struct Stage<K: Side> {
    next: Option<ActorRef<Stage<K::Other>>>,
    /// Where a stage writes the hops left of the last token it passed.
    progress: Option<Arc<AtomicU64>>,
    /// Its state panics when dropped (user code failing in `Drop`).
    panics_on_drop: bool,
    side: PhantomData<K>,
}

impl<K: Side> Drop for Stage<K> {
    fn drop(&mut self) {
        if self.panics_on_drop && !std::thread::panicking() {
            panic!("a stage's state panics as it is dropped");
        }
    }
}

impl<K: Side> fmt::Debug for Stage<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stage")
            .field("type", &std::any::type_name::<K>())
            .finish_non_exhaustive()
    }
}

pub(crate) enum Msg<K: Side> {
    Link(ActorRef<Stage<K::Other>>),
    Watch(Arc<AtomicU64>),
    /// Hops left; the most tasks seen alive so far; whom to tell at zero.
    Token(u64, usize, Reply<usize>),
    /// Passes a token on, then waits for a permit on the gate.
    TokenThenBlock(Arc<Semaphore>, Reply<usize>),
    /// Panics after waking the next stage.
    TokenThenPanic(Reply<usize>),
    /// Passes `TokenThenBlock` on: the next stage blocks on the task that
    /// adopted it.
    PassBlock(Arc<Semaphore>, Reply<usize>),
    /// Passes `TokenThenPanic` on: the next stage panics on the task that
    /// adopted it.
    PassPanic(Reply<usize>),
    /// Wakes the next stage with a ping, then kills it before returning.
    WakeNextThenKill(ProcessRef, mpsc::UnboundedSender<()>),
    /// Wakes `own` (of this type) with `Blocked`, then each of `others`
    /// (of the other type) with a ping.
    WakeMany {
        own: ActorRef<Stage<K>>,
        others: Vec<ActorRef<Stage<K::Other>>>,
        gate: Arc<Semaphore>,
        alive: mpsc::UnboundedSender<usize>,
        seen: mpsc::UnboundedSender<()>,
    },
    /// Reports how many tasks are alive, then waits on the gate.
    Blocked(Arc<Semaphore>, mpsc::UnboundedSender<usize>),
    /// Reports being handled.
    Ping(mpsc::UnboundedSender<()>),
    /// Casts every value to the next stage, in order, as `Record`s.
    Burst(Vec<u32>, mpsc::UnboundedSender<u32>),
    /// Reports its value.
    Record(u32, mpsc::UnboundedSender<u32>),
    /// Does nothing: one more message handled in a row.
    Tick,
    /// Makes the stage's state panic when it is dropped.
    PanicOnDrop,
    /// Wakes the next stage with a ping, and tells the test it did.
    WakeNextThenTell(mpsc::UnboundedSender<()>, mpsc::UnboundedSender<()>),
}

impl<K: Side> fmt::Debug for Msg<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Msg")
    }
}

impl<K: Side> Actor for Stage<K> {
    type Args = ();
    type Msg = Msg<K>;
    type Error = Infallible;

    async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Self {
            next: None,
            progress: None,
            panics_on_drop: false,
            side: PhantomData,
        })
    }

    async fn handle(&mut self, msg: Msg<K>, _: &mut Context<Self>) -> Result<(), Self::Error> {
        let alive = alive();
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
                panic!("a stage panics after waking the next one");
            }
            Msg::PassBlock(gate, done) => self.pass(Msg::TokenThenBlock(gate, done)),
            Msg::PassPanic(done) => self.pass(Msg::TokenThenPanic(done)),
            Msg::WakeNextThenKill(next, seen) => {
                self.pass(Msg::Ping(seen));
                assert!(next.kill(), "the next stage was alive");
            }
            Msg::WakeMany {
                own,
                others,
                gate,
                alive,
                seen,
            } => {
                own.try_cast(Msg::Blocked(gate, alive)).expect("room");
                for other in others {
                    other.try_cast(Msg::Ping(seen.clone())).expect("room");
                }
            }
            Msg::Blocked(gate, tell) => {
                tell.send(alive).expect("the test waits");
                gate.acquire().await.expect("the gate stays open").forget();
            }
            Msg::Ping(seen) => seen.send(()).expect("the test waits for the ping"),
            Msg::Burst(values, seen) => {
                for value in values {
                    self.pass(Msg::Record(value, seen.clone()));
                }
            }
            Msg::Record(value, seen) => seen.send(value).expect("the test waits for the values"),
            Msg::Tick => {}
            Msg::PanicOnDrop => self.panics_on_drop = true,
            Msg::WakeNextThenTell(seen, told) => {
                self.pass(Msg::Ping(seen));
                told.send(()).expect("the test waits to hear it");
            }
        }
        Ok(())
    }
}

impl<K: Side> Stage<K> {
    fn pass(&self, msg: Msg<K::Other>) {
        let next = self.next.as_ref().expect("linked before the first token");
        next.try_cast(msg).expect("the next stage has room");
    }
}

/// Lets the actors' pending activations end (each is a poll to handle its
/// message and one to go dormant after lingering a turn), on a
/// current-thread runtime, so every actor is dormant.
pub(crate) async fn settle() {
    for _ in 0..4 {
        tokio::task::yield_now().await;
    }
}

/// How many tasks the runtime has alive.
pub(crate) fn alive() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

/// Sends a token `hops` hops along the chain `first` begins, from a task
/// of its own, while this task, the bystander, yields up to ten times until
/// it sees the chain's progress: each yield hands the thread to the chain,
/// which must hand it back long before its last hop (it yields every 128
/// messages, or 64 handoffs). Then waits for the token.
pub(crate) async fn a_bystander_runs_during_a_lap<K: Side>(
    first: ActorRef<Stage<K>>,
    progress: &AtomicU64,
    hops: u64,
) {
    // audit:allow(FND001) the lap's driver, awaited below
    let lap =
        tokio::spawn(async move { first.call(|done| Msg::Token(hops, 0, done), PATIENCE).await });
    let mut seen = u64::MAX;
    for _ in 0..10 {
        tokio::task::yield_now().await;
        seen = progress.load(Ordering::Relaxed);
        if seen != u64::MAX {
            break;
        }
    }
    // The scheduler polls this task within a few dozen task polls: far
    // sooner than half the lap.
    assert!(
        seen > hops / 2 && seen < hops,
        "the bystander ran when {seen} hops were left"
    );
    lap.await
        .expect("the driver finishes")
        .expect("the token comes back");
}

/// The first `count` values from `values`, each within [`PATIENCE`].
pub(crate) async fn receive(values: &mut mpsc::UnboundedReceiver<u32>, count: usize) -> Vec<u32> {
    let mut got = Vec::new();
    while got.len() < count {
        let value = tokio::time::timeout(PATIENCE, values.recv())
            .await
            .unwrap_or_else(|_| panic!("only {got:?} arrived"));
        got.push(value.expect("the sender is held until every value is sent"));
    }
    got
}
