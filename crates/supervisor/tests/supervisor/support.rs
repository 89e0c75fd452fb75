//! A worker that reports its starts and stops, and a journal to read them.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use foundation_mailbox::{Actor, ActorRef, Context, ExitReason, ProcessRef, Reply};
use foundation_supervisor::{ChildSpec, SupervisorRef};
use thiserror::Error;
use tokio::sync::mpsc;

/// How long a test waits for something that should happen promptly.
pub(crate) const PATIENCE: Duration = Duration::from_secs(10);

/// What a worker reports.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Event {
    Started(&'static str),
    Stopped(&'static str),
}

/// Receives the workers' events in the order they happened.
#[derive(Debug)]
pub(crate) struct Journal {
    events: mpsc::UnboundedReceiver<Event>,
    sender: mpsc::UnboundedSender<Event>,
}

impl Journal {
    pub(crate) fn new() -> Self {
        let (sender, events) = mpsc::unbounded_channel();
        Self { events, sender }
    }

    /// A worker spec reporting to this journal.
    pub(crate) fn worker(&self, id: &'static str) -> ChildSpec {
        ChildSpec::actor::<Worker>(id, self.args(id))
    }

    pub(crate) fn args(&self, id: &'static str) -> Args {
        Args {
            id,
            journal: self.sender.clone(),
            failures: Arc::new(AtomicU32::new(0)),
            ignore_stop: false,
        }
    }

    /// The next `count` events.
    pub(crate) async fn next(&mut self, count: usize) -> Vec<Event> {
        let mut events = Vec::with_capacity(count);
        while events.len() < count {
            match tokio::time::timeout(PATIENCE, self.events.recv()).await {
                Ok(Some(event)) => events.push(event),
                Ok(None) => panic!("journal closed"),
                Err(_) => panic!("only {events:?} within {PATIENCE:?}, wanted {count}"),
            }
        }
        events
    }

    /// Asserts nothing more was reported (everything reported is in the
    /// channel by the time the operation that caused it returned).
    pub(crate) fn assert_quiet(&mut self) {
        if let Ok(event) = self.events.try_recv() {
            panic!("unexpected event {event:?}");
        }
    }
}

pub(crate) fn started(ids: &[&'static str]) -> Vec<Event> {
    ids.iter().map(|id| Event::Started(id)).collect()
}

pub(crate) fn stopped(ids: &[&'static str]) -> Vec<Event> {
    ids.iter().map(|id| Event::Stopped(id)).collect()
}

#[derive(Clone, Debug)]
pub(crate) struct Args {
    pub(crate) id: &'static str,
    journal: mpsc::UnboundedSender<Event>,
    /// The next this many starts fail.
    pub(crate) failures: Arc<AtomicU32>,
    /// Whether `terminate` hangs, so a stop must end in a kill.
    pub(crate) ignore_stop: bool,
}

#[derive(Debug)]
pub(crate) struct Worker {
    args: Args,
}

/// What a worker is asked; each answers with the worker's id.
#[derive(Debug)]
pub(crate) enum Ask {
    Ping(Reply<&'static str>),
    /// Never answered: the port makes the crash a call, whose caller gets
    /// the exit reason.
    Crash(#[expect(dead_code, reason = "dropped by the crash")] Reply<&'static str>),
    Exit(ExitReason, Reply<&'static str>),
    /// Drops the port unanswered and goes on.
    Ignore(Reply<&'static str>),
}

#[derive(Debug, Error)]
#[error("worker {0} failed to start on purpose")]
pub(crate) struct StartFailed(&'static str);

impl Actor for Worker {
    type Args = Args;
    type Msg = Ask;
    type Error = StartFailed;

    async fn init(args: Args, _: &mut Context<Self>) -> Result<Self, StartFailed> {
        let failing = args
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        if failing {
            return Err(StartFailed(args.id));
        }
        let _ = args.journal.send(Event::Started(args.id));
        Ok(Worker { args })
    }

    async fn handle(&mut self, ask: Ask, ctx: &mut Context<Self>) -> Result<(), StartFailed> {
        let reply = match ask {
            Ask::Ping(reply) => reply,
            Ask::Crash(_) => panic!("worker {} crashed on purpose", self.args.id),
            Ask::Exit(reason, reply) => {
                ctx.stop(reason);
                reply
            }
            Ask::Ignore(reply) => {
                drop(reply);
                return Ok(());
            }
        };
        reply.send(self.args.id).unwrap_or_default();
        Ok(())
    }

    async fn terminate(&mut self, _: &ExitReason, _: &mut Context<Self>) {
        if self.args.ignore_stop {
            std::future::pending::<()>().await;
        }
        let _ = self.args.journal.send(Event::Stopped(self.args.id));
    }
}

/// The running worker `id` under `supervisor`.
pub(crate) async fn worker(supervisor: &SupervisorRef, id: &str) -> ActorRef<Worker> {
    process(supervisor, id)
        .await
        .downcast::<Worker>()
        .expect("child is a Worker")
}

/// The ids of `supervisor`'s children, in start order.
pub(crate) async fn ids(supervisor: &SupervisorRef) -> Vec<String> {
    let children = supervisor
        .which_children()
        .await
        .expect("supervisor answers");
    children.iter().map(|child| child.id.to_string()).collect()
}

/// The running process of child `id`.
pub(crate) async fn process(supervisor: &SupervisorRef, id: &str) -> ProcessRef {
    supervisor
        .child(id)
        .await
        .expect("supervisor answers")
        .unwrap_or_else(|| panic!("child {id} is not running"))
}

/// Crashes worker `id` and waits for it to be gone.
pub(crate) async fn crash(supervisor: &SupervisorRef, id: &str) {
    let worker = worker(supervisor, id).await;
    assert!(worker.call(Ask::Crash, PATIENCE).await.is_err());
    let reason = worker
        .wait_for_exit(PATIENCE)
        .await
        .expect("crashed worker exits");
    assert!(reason.is_panic(), "{reason:?}");
}

/// Makes worker `id` exit with `reason` by itself.
pub(crate) async fn exit(supervisor: &SupervisorRef, id: &str, reason: ExitReason) {
    let worker = worker(supervisor, id).await;
    worker
        .call(|reply| Ask::Exit(reason.clone(), reply), PATIENCE)
        .await
        .expect("exit request answered");
    assert_eq!(
        worker.wait_for_exit(PATIENCE).await.expect("worker exits"),
        reason
    );
}

/// Waits until `condition` holds, yielding to the runtime between checks:
/// for state another task updates right after the event a test saw.
pub(crate) async fn until(mut condition: impl FnMut() -> bool) {
    let wait = async {
        while !condition() {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(PATIENCE, wait)
        .await
        .expect("condition did not hold in time");
}
