//! [`Scheduler`]: the handle users hold, with [`JobInfo`] and [`Stats`].

use std::{
    fmt,
    time::{Duration, SystemTime},
};

use foundation_mailbox::{ActorHandle, ActorRef, Reply, start};
use foundation_supervisor::ChildRef;

use crate::{
    CancelError, Config, Job, Payload, ScheduleError, StartError, Unreachable,
    actor::{Command, Msg, SchedulerActor},
};

/// One job as the scheduler sees it now, from [`Scheduler::job`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobInfo {
    /// Its key.
    pub key: String,
    /// When its next tick is due; `None` while a one-shot or fixed-delay
    /// job's delivery runs.
    pub next_due: Option<SystemTime>,
    /// Its deliveries that have not finished.
    pub running: u32,
    /// Whether a tick waits for the running delivery
    /// ([`Overlap::BufferOne`](crate::Overlap::BufferOne)).
    pub buffered: bool,
}

/// What a scheduler has done since it started, from [`Scheduler::stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Jobs scheduled now.
    pub jobs: usize,
    /// Jobs read back from the store at start.
    pub loaded: u64,
    /// Jobs accepted by [`Scheduler::schedule`].
    pub scheduled: u64,
    /// Jobs cancelled.
    pub cancelled: u64,
    /// Messages handed to supervised send.
    pub fired: u64,
    /// Messages delivered.
    pub delivered: u64,
    /// Messages whose send failed for good (and went to the on-error
    /// policy: a dead letter, a log line).
    pub failed: u64,
    /// Ticks never delivered: misfired and skipped, past a fire-all cap,
    /// or dropped by an overlap policy.
    pub skipped: u64,
    /// Ticks found late by more than the misfire threshold.
    pub misfired: u64,
    /// Ticks that came while a delivery of their job was still going.
    pub overlapped: u64,
}

/// A handle on a running scheduler: schedule, cancel, inspect. Cheap to
/// clone; every clone talks to the same actor.
///
/// ```
/// use std::time::Duration;
/// use foundation::mailbox::{Actor, Context, Reply, start};
/// use foundation::scheduler::{Config, Job, Scheduler, TokioClock};
/// use foundation::supervised_send::Target;
///
/// #[derive(Debug, Default)]
/// struct Inbox(Vec<String>);
///
/// #[derive(Debug)]
/// enum Msg { Note(String), Read(Reply<Vec<String>>) }
///
/// impl From<String> for Msg { fn from(note: String) -> Self { Msg::Note(note) } }
///
/// impl Actor for Inbox {
///     type Args = ();
///     type Msg = Msg;
///     type Error = std::convert::Infallible;
///     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Inbox::default()) }
///     async fn handle(&mut self, msg: Msg, _: &mut Context<Self>) -> Result<(), Self::Error> {
///         match msg {
///             Msg::Note(note) => self.0.push(note),
///             Msg::Read(reply) => reply.send(self.0.clone()).unwrap_or_default(),
///         }
///         Ok(())
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap().block_on(async {
/// let (inbox, _handle) = start::<Inbox>(()).await.unwrap();
/// let target = Target::recipient(inbox.recipient::<String>());
/// let config = Config::new(target).clock(TokioClock::new());
/// let (scheduler, _actor) = Scheduler::start(config).await.unwrap();
///
/// scheduler.schedule(Job::after("hello", Duration::from_secs(5), "hello".to_string())).await.unwrap();
/// tokio::time::sleep(Duration::from_secs(6)).await; // paused time: instant
/// # for _ in 0..10 { tokio::task::yield_now().await; }
/// assert_eq!(inbox.call(Msg::Read, Duration::from_secs(1)).await.unwrap(), ["hello"]);
/// # });
/// ```
pub struct Scheduler<M: Payload> {
    actor: Via<M>,
    timeout: Duration,
}

/// How the handle reaches the actor.
enum Via<M: Payload> {
    /// One incarnation, started by [`Scheduler::start`].
    Actor(ActorRef<SchedulerActor<M>>),
    /// Whichever incarnation a supervisor runs now.
    Child(ChildRef<SchedulerActor<M>>),
}

impl<M: Payload> Clone for Via<M> {
    fn clone(&self) -> Self {
        match self {
            Via::Actor(actor) => Via::Actor(actor.clone()),
            Via::Child(child) => Via::Child(child.clone()),
        }
    }
}

impl<M: Payload> Clone for Scheduler<M> {
    fn clone(&self) -> Self {
        Self {
            actor: self.actor.clone(),
            timeout: self.timeout,
        }
    }
}

impl<M: Payload> fmt::Debug for Scheduler<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pid = self.actor().map(|actor| actor.pid());
        f.debug_struct("Scheduler").field("pid", &pid).finish()
    }
}

fn unreachable(error: impl fmt::Display) -> Unreachable {
    Unreachable {
        reason: error.to_string(),
    }
}

impl<M: Payload> Scheduler<M> {
    /// Starts a scheduler actor with `config`: it loads the jobs saved in
    /// the config's store (if any) before it answers, then fires what is
    /// due. Returns the handle and the actor's owner handle.
    ///
    /// Cancel-safe: the actor's `init` (the loading) runs on the caller's
    /// task, so dropping this future before it returns abandons the start;
    /// no scheduler runs and the store is only read.
    ///
    /// # Errors
    ///
    /// Invalid send options, or a store whose jobs could not be listed.
    pub async fn start(config: Config<M>) -> Result<(Self, ActorHandle), StartError> {
        config.options.validate()?;
        let timeout = config.call_timeout;
        let (actor, handle) = start::<SchedulerActor<M>>(config).await?;
        let actor = Via::Actor(actor);
        Ok((Self { actor, timeout }, handle))
    }

    /// A handle on a scheduler its supervisor runs
    /// (`ChildSpec::actor::<SchedulerActor<M>>(id, config)`), that follows
    /// its restarts: each incarnation reloads the jobs from the store, so a
    /// scheduler that crashed loses none of its saved jobs. `timeout`
    /// bounds each call, a wait for a restarting child included.
    pub fn supervised(child: ChildRef<SchedulerActor<M>>, timeout: Duration) -> Self {
        Self {
            actor: Via::Child(child),
            timeout,
        }
    }

    /// The scheduler's actor now (`None` while a supervised one restarts),
    /// to monitor or stop it.
    pub fn actor(&self) -> Option<ActorRef<SchedulerActor<M>>> {
        match &self.actor {
            Via::Actor(actor) => Some(actor.clone()),
            Via::Child(child) => child.current(),
        }
    }

    /// Sends a request and waits for its answer.
    async fn ask<R: Send + 'static>(
        &self,
        request: impl FnOnce(Reply<R>) -> Msg<M>,
    ) -> Result<R, Unreachable> {
        let request = |reply| Command(request(reply));
        match &self.actor {
            Via::Actor(actor) => actor.call(request, self.timeout).await.map_err(unreachable),
            Via::Child(child) => child.call(request, self.timeout).await.map_err(unreachable),
        }
    }

    /// Schedules `job`. When this returns `Ok`, the job is saved (with a
    /// store) and its first tick is armed.
    ///
    /// Cancel-safe: dropped before the request was queued, nothing is
    /// scheduled; after, the job is scheduled and only the answer is lost.
    ///
    /// # Errors
    ///
    /// Bad input ([`ScheduleError::ZeroPeriod`],
    /// [`InvalidCron`](ScheduleError::InvalidCron),
    /// [`DuplicateKey`](ScheduleError::DuplicateKey), …), a store that
    /// refused the record, or a scheduler that did not answer.
    pub async fn schedule(&self, job: Job<M>) -> Result<(), ScheduleError> {
        self.ask(|reply| Msg::Schedule(job, reply)).await?
    }

    /// Cancels the job under `key`; returns whether there was one. When
    /// this returns, no message of the job will be delivered: not a tick
    /// already due, not one waiting in a retry's backoff or for room in a
    /// full mailbox (it is withdrawn). A delivery that completed before the
    /// cancel took effect stays delivered.
    ///
    /// Cancel-safe: dropped before the request was queued, nothing is
    /// cancelled; after, the cancel happens and only the answer is lost.
    ///
    /// # Errors
    ///
    /// [`CancelError::Store`] if the record could not be deleted (the job
    /// is cancelled here, but would come back after a restart), or a
    /// scheduler that did not answer.
    pub async fn cancel(&self, key: &str) -> Result<bool, CancelError> {
        self.ask(|reply| Msg::Cancel(key.to_owned(), reply)).await?
    }

    /// The job under `key`, if it is scheduled. Cancel-safe.
    ///
    /// # Errors
    ///
    /// A scheduler that did not answer.
    pub async fn job(&self, key: &str) -> Result<Option<JobInfo>, Unreachable> {
        self.ask(|reply| Msg::Job(key.to_owned(), reply)).await
    }

    /// The keys of every scheduled job, in no order. Cancel-safe.
    ///
    /// # Errors
    ///
    /// A scheduler that did not answer.
    pub async fn keys(&self) -> Result<Vec<String>, Unreachable> {
        self.ask(Msg::Keys).await
    }

    /// What the scheduler has done since it started. Cancel-safe.
    ///
    /// # Errors
    ///
    /// A scheduler that did not answer.
    pub async fn stats(&self) -> Result<Stats, Unreachable> {
        self.ask(Msg::Stats).await
    }
}
