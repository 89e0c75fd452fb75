//! The scheduler's actor: the jobs, one timer for the earliest of them,
//! and the handlers that schedule, fire, finish and cancel.

use std::{collections::VecDeque, sync::Arc};

use foundation_mailbox::{Actor, Context, Reply};
use foundation_persistence::StateStore;

use tokio::{sync::watch, task::JoinSet};

use crate::{
    Config, Job, JobInfo, LoadError, Overlap, Payload, ScheduleError, Stats,
    clock::{duration_nanos, to_nanos},
    deliver::{Gate, Outcome, Run},
    job::{Compiled, Plan, due_time},
    record::{Record, RecordRef},
    table::{Handle, Slot, Table, fire},
    ticker,
};

/// A request to the scheduler's actor. Built by
/// [`Scheduler`](crate::Scheduler)'s methods; its contents are private.
pub struct Command<M>(pub(crate) Msg<M>);

impl<M> std::fmt::Debug for Command<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match &self.0 {
            Msg::Schedule(..) => "Schedule",
            Msg::Cancel(..) => "Cancel",
            Msg::Job(..) => "Job",
            Msg::Keys(..) => "Keys",
            Msg::Stats(..) => "Stats",
            Msg::Wake => "Wake",
            Msg::Finished(..) => "Finished",
        };
        f.debug_tuple("Command").field(&name).finish()
    }
}

pub(crate) enum Msg<M> {
    Schedule(Job<M>, Reply<Result<(), ScheduleError>>),
    Cancel(String, Reply<Result<bool, crate::CancelError>>),
    Job(String, Reply<Option<JobInfo>>),
    Keys(Reply<Vec<String>>),
    Stats(Reply<Stats>),
    /// The timer: the earliest job may be due.
    Wake,
    /// A run ended.
    Finished(Handle, Outcome),
}

impl<M> Command<M> {
    pub(crate) fn wake() -> Self {
        Self(Msg::Wake)
    }

    pub(crate) fn finished(handle: Handle, outcome: Outcome) -> Self {
        Self(Msg::Finished(handle, outcome))
    }
}

/// The scheduler's actor, for supervising it: start it with a
/// [`Config`] as its arguments (a supervisor's restart reloads the jobs
/// from the store) and talk to it through
/// [`Scheduler::supervised`](crate::Scheduler::supervised).
pub struct SchedulerActor<M: Payload> {
    config: Config<M>,
    jobs: Table<M>,
    runs: JoinSet<()>,
    /// Runs started and not yet reported back.
    in_flight: usize,
    /// Runs waiting for one of the `max_in_flight` places.
    queued: VecDeque<(Handle, u32)>,
    deadline: watch::Sender<Option<u64>>,
    published: Option<u64>,
    stats: Stats,
}

impl<M: Payload> std::fmt::Debug for SchedulerActor<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchedulerActor")
            .field("jobs", &self.jobs.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl<M> Actor for SchedulerActor<M>
where
    M: Payload,
{
    type Args = Config<M>;
    type Msg = Command<M>;
    type Error = LoadError;

    async fn init(config: Config<M>, ctx: &mut Context<Self>) -> Result<Self, LoadError> {
        let (deadline, watched) = watch::channel(None);
        let mut actor = Self {
            config,
            jobs: Table::default(),
            runs: JoinSet::new(),
            in_flight: 0,
            queued: VecDeque::new(),
            deadline,
            published: None,
            stats: Stats::default(),
        };
        actor.load().await?;
        let clock = Arc::clone(&actor.config.clock);
        ctx.attach_stream(ticker::ticks(clock, watched), Command::wake());
        actor.publish(false);
        Ok(actor)
    }

    async fn handle(
        &mut self,
        Command(msg): Command<M>,
        ctx: &mut Context<Self>,
    ) -> Result<(), LoadError> {
        match msg {
            Msg::Schedule(job, reply) => {
                let result = self.schedule(job).await;
                self.publish(false);
                reply.send(result).unwrap_or_default();
            }
            Msg::Cancel(key, reply) => {
                let result = self.cancel(&key).await;
                reply.send(result).unwrap_or_default();
            }
            Msg::Job(key, reply) => reply.send(self.info(&key)).unwrap_or_default(),
            Msg::Keys(reply) => {
                let keys = self.jobs.keys().map(|key| key.to_string()).collect();
                reply.send(keys).unwrap_or_default();
            }
            Msg::Stats(reply) => {
                let mut stats = self.stats;
                stats.jobs = self.jobs.len();
                reply.send(stats).unwrap_or_default();
            }
            Msg::Wake => {
                self.wake(ctx).await;
                self.publish(true);
            }
            Msg::Finished(handle, outcome) => {
                self.finished(handle, outcome, ctx).await;
                self.publish(false);
            }
        }
        Ok(())
    }
}

impl<M> SchedulerActor<M>
where
    M: Payload,
{
    fn now(&self) -> u64 {
        to_nanos(self.config.clock.now())
    }

    /// Tells the timer the earliest due time; after a wake, always (the
    /// timer waits for this answer before it sleeps again).
    fn publish(&mut self, always: bool) {
        let earliest = self.jobs.earliest();
        if always || earliest != self.published {
            self.published = earliest;
            self.deadline.send_replace(earliest);
        }
    }

    /// Reads every saved job back into the table.
    async fn load(&mut self) -> Result<(), LoadError> {
        let Some((store, prefix)) = self.config.store.clone() else {
            return Ok(());
        };
        let listed = store.list(&prefix).await.map_err(|source| LoadError {
            prefix: prefix.clone(),
            source,
        })?;
        for entry in listed {
            let loaded = match store.get(&entry.key).await {
                Ok(Some(loaded)) => loaded,
                Ok(None) => continue,
                Err(error) => {
                    tracing::error!(target: crate::TARGET, key = entry.key, %error, "a saved job could not be read; it stays in the store and does not run");
                    continue;
                }
            };
            let record = match Record::<M>::decode(&entry.key, &loaded.value) {
                Ok(record) => record,
                Err(error) => {
                    tracing::error!(target: crate::TARGET, key = entry.key, %error, "a saved job does not decode; it stays in the store and does not run");
                    continue;
                }
            };
            let compiled = match record.plan.compile(&record.key) {
                Ok(compiled) => compiled,
                Err(error) => {
                    tracing::error!(target: crate::TARGET, key = entry.key, %error, "a saved job's schedule is invalid; it does not run");
                    continue;
                }
            };
            if self.jobs.contains(&record.key) {
                continue;
            }
            self.jobs.insert(Slot {
                key: Arc::from(record.key),
                message: record.message,
                compiled,
                next_due: Some(record.next_due),
                misfire: record.misfire,
                overlap: record.overlap,
                version: Some(loaded.version),
                running: 0,
                buffered: false,
                gate: None,
            });
            self.stats.loaded += 1;
        }
        Ok(())
    }

    fn store_key(prefix: &str, key: &str) -> String {
        let mut store_key = String::with_capacity(prefix.len() + key.len());
        store_key.push_str(prefix);
        store_key.push_str(key);
        store_key
    }

    async fn schedule(&mut self, job: Job<M>) -> Result<(), ScheduleError> {
        let (plan, compiled, first) = Plan::check(&job, self.now())?;
        if self.jobs.contains(&job.key) {
            return Err(ScheduleError::DuplicateKey { key: job.key });
        }
        let mut version = None;
        if let Some((store, prefix)) = &self.config.store {
            let store_key = Self::store_key(prefix, &job.key);
            let record = RecordRef {
                key: &job.key,
                plan: &plan,
                next_due: first,
                misfire: job.misfire,
                overlap: job.overlap,
                message: &job.message,
            };
            let bytes = record
                .encode(&store_key)
                .map_err(|source| ScheduleError::Encode {
                    key: job.key.clone(),
                    source,
                })?;
            version = Some(
                store
                    .compare_and_set(&store_key, None, bytes)
                    .await
                    .map_err(|source| ScheduleError::Store {
                        key: job.key.clone(),
                        source,
                    })?,
            );
        }
        self.jobs.insert(Slot {
            key: Arc::from(job.key),
            message: job.message,
            compiled,
            next_due: Some(first),
            misfire: job.misfire,
            overlap: job.overlap,
            version,
            running: 0,
            buffered: false,
            gate: None,
        });
        self.stats.scheduled += 1;
        Ok(())
    }

    async fn cancel(&mut self, key: &str) -> Result<bool, crate::CancelError> {
        let found = match self.jobs.remove(key) {
            Some(slot) => {
                if let Some(gate) = slot.gate {
                    gate.close().await;
                }
                self.stats.cancelled += 1;
                true
            }
            None => false,
        };
        if let Some((store, prefix)) = &self.config.store {
            store
                .delete(&Self::store_key(prefix, key))
                .await
                .map_err(|source| crate::CancelError::Store {
                    key: key.to_owned(),
                    source,
                })?;
        }
        self.publish(false);
        Ok(found)
    }

    fn info(&self, key: &str) -> Option<JobInfo> {
        let (_, slot) = self.jobs.find(key)?;
        Some(JobInfo {
            key: slot.key.to_string(),
            next_due: slot.next_due.map(due_time),
            running: slot.running,
            buffered: slot.buffered,
        })
    }

    /// Fires every job due by the clock now.
    async fn wake(&mut self, ctx: &mut Context<Self>) {
        let now = self.now();
        let threshold = duration_nanos(self.config.misfire_threshold);
        while let Some((handle, due)) = self.jobs.pop_due(now) {
            let Some(slot) = self.jobs.get_mut(handle) else {
                continue;
            };
            let firing = fire(&slot.compiled, slot.misfire, due, now, threshold);
            self.stats.skipped += firing.skipped;
            if firing.misfired {
                self.stats.misfired += 1;
            }
            let once = matches!(slot.compiled, Compiled::Once);
            match (once, firing.next) {
                (true, _) => self.forget(handle).await,
                (false, Some(next)) => {
                    self.jobs.arm(handle, next);
                    self.save(handle, next).await;
                }
                // A fixed-delay job: saved as due one delay from now, in
                // case the program stops before its delivery ends.
                (false, None) => {
                    if let Some(Slot {
                        compiled: Compiled::FixedDelay(delay),
                        ..
                    }) = self.jobs.get_mut(handle)
                    {
                        let provisional = now.saturating_add(*delay);
                        self.save(handle, provisional).await;
                    }
                }
            }
            self.start_run(handle, firing.deliveries, ctx);
            if once && firing.deliveries == 0 {
                self.drop_finished_once(handle);
            }
        }
    }

    /// Deletes a one-shot job's record as it fires: at most once across a
    /// crash (see `docs/scheduler.md`).
    async fn forget(&mut self, handle: Handle) {
        let Some((store, prefix)) = &self.config.store else {
            return;
        };
        let Some(slot) = self.jobs.get_mut(handle) else {
            return;
        };
        let store_key = Self::store_key(prefix, &slot.key);
        if let Err(error) = store.delete(&store_key).await {
            tracing::error!(target: crate::TARGET, key = store_key, %error, "a fired one-shot job's record could not be deleted; it may fire again after a restart");
        }
    }

    /// Saves a job's next due time.
    async fn save(&mut self, handle: Handle, next_due: u64) {
        let Some((store, prefix)) = &self.config.store else {
            return;
        };
        let Some(slot) = self.jobs.get_mut(handle) else {
            return;
        };
        let store_key = Self::store_key(prefix, &slot.key);
        let plan = match &slot.compiled {
            Compiled::Once => Plan::Once,
            Compiled::FixedRate(period) => Plan::FixedRate { period: *period },
            Compiled::FixedDelay(delay) => Plan::FixedDelay { delay: *delay },
            Compiled::Cron(cron) => Plan::Cron {
                expression: cron.pattern.to_string(),
            },
        };
        let record = RecordRef {
            key: &slot.key,
            plan: &plan,
            next_due,
            misfire: slot.misfire,
            overlap: slot.overlap,
            message: &slot.message,
        };
        let saved = match record.encode(&store_key) {
            Ok(bytes) => store
                .compare_and_set(&store_key, slot.version, bytes)
                .await
                .map_err(|error| error.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match saved {
            Ok(version) => slot.version = Some(version),
            Err(error) => {
                tracing::error!(target: crate::TARGET, key = store_key, %error, "a job's next due time could not be saved; after a restart it fires by its older record");
            }
        }
    }

    /// Starts a run of `count` messages, by the job's overlap policy.
    fn start_run(&mut self, handle: Handle, count: u32, ctx: &mut Context<Self>) {
        if count == 0 {
            return;
        }
        let Some(slot) = self.jobs.get_mut(handle) else {
            return;
        };
        let periodic = matches!(slot.compiled, Compiled::FixedRate(_) | Compiled::Cron(_));
        if periodic && slot.running > 0 {
            match slot.overlap {
                Overlap::Skip => {
                    self.stats.skipped += u64::from(count);
                    self.stats.overlapped += 1;
                    return;
                }
                Overlap::BufferOne => {
                    let kept = u64::from(!slot.buffered);
                    slot.buffered = true;
                    self.stats.skipped += u64::from(count) - kept;
                    self.stats.overlapped += 1;
                    return;
                }
                Overlap::AllowAll => {}
            }
        }
        slot.running += 1;
        self.stats.fired += u64::from(count);
        self.queued.push_back((handle, count));
        self.launch(ctx);
    }

    /// Starts queued runs while fewer than the configured number are in
    /// flight. A queued run of a job cancelled meanwhile is dropped.
    fn launch(&mut self, ctx: &mut Context<Self>) {
        while self.in_flight < self.config.max_in_flight {
            let Some((handle, count)) = self.queued.pop_front() else {
                return;
            };
            if let Some(run) = self.prepare(handle, count, ctx) {
                self.in_flight += 1;
                // Owned by the actor's join set: aborted with the actor,
                // reaped as each run reports back.
                self.runs.spawn(run.go());
            }
        }
    }

    fn prepare(&mut self, handle: Handle, count: u32, ctx: &mut Context<Self>) -> Option<Run<M>> {
        let slot = self.jobs.get_mut(handle)?;
        let gate = Arc::clone(slot.gate.get_or_insert_with(|| Arc::new(Gate::default())));
        Some(Run {
            gate,
            deliver: Arc::clone(&self.config.deliver),
            options: self
                .config
                .options
                .clone()
                .metadata("job", slot.key.as_ref()),
            message: slot.message.clone(),
            count,
            scheduler: ctx.myself().clone(),
            handle,
        })
    }

    /// A one-shot job whose tick needs no run (or whose run ended) leaves.
    fn drop_finished_once(&mut self, handle: Handle) {
        let key = match self.jobs.get_mut(handle) {
            Some(slot) if slot.running == 0 => Arc::clone(&slot.key),
            _ => return,
        };
        self.jobs.remove(&key);
    }

    async fn finished(&mut self, handle: Handle, outcome: Outcome, ctx: &mut Context<Self>) {
        while self.runs.try_join_next().is_some() {}
        self.in_flight = self.in_flight.saturating_sub(1);
        self.launch(ctx);
        self.stats.delivered += u64::from(outcome.delivered);
        self.stats.failed += u64::from(outcome.failed);
        let Some(slot) = self.jobs.get_mut(handle) else {
            return;
        };
        slot.running = slot.running.saturating_sub(1);
        if slot.running == 0 {
            slot.gate = None;
        }
        match slot.compiled {
            Compiled::Once => self.drop_finished_once(handle),
            Compiled::FixedDelay(delay) => {
                let next = self.now().saturating_add(delay);
                self.jobs.arm(handle, next);
                self.save(handle, next).await;
            }
            Compiled::FixedRate(_) | Compiled::Cron(_) => {
                if slot.buffered && slot.running == 0 {
                    slot.buffered = false;
                    self.start_run(handle, 1, ctx);
                }
            }
        }
    }
}
