//! The gateway: starts, inspects, signals and cancels workflows, each in a
//! process of its own under a dynamic supervisor, found by id in a
//! registry. It keeps no workflow in memory: the store is the truth.

use std::{
    collections::HashMap,
    hash::{BuildHasher, Hasher},
    sync::Arc,
    time::Duration,
};

use foundation_mailbox::{ActorRef, ExitReason, ProcessRef, Registry, start};
use foundation_persistence::{StateStore, Store, StoreError, Version};
use foundation_supervisor::{
    DynamicSpec, DynamicSupervisorRef, Restart, TaskSupervisorOptions, TaskSupervisorRef,
};
use tokio::sync::Notify;

use crate::{
    CoordinatorError, RecordError, Signal, StatusKind, Workflow, WorkflowRecord,
    process::{WorkflowMsg, WorkflowProcess},
    waker::{Waker, WakerMsg},
};

/// Where workflow records live in the store: a record's key is this
/// prefix and the workflow's id.
pub const RECORD_PREFIX: &str = "coordinator/workflow/";
const PREFIX: &str = RECORD_PREFIX;

/// Whether a new workflow may take the id of an old one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IdReuse {
    /// An id is used once, ever (the default).
    #[default]
    Reject,
    /// A finished workflow's id may start a new one, which replaces its
    /// record; a running workflow's id may not.
    AllowAfterFinish,
}

/// How long a gateway call to a workflow's process may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// What the processes share with the gateway.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) store: Store,
    definitions: HashMap<String, Workflow>,
    pub(crate) tasks: TaskSupervisorRef,
    pub(crate) names: Registry<String>,
    /// Woken whenever a workflow finishes, for [`Coordinator::wait`].
    pub(crate) changed: Notify,
    seeds: std::collections::hash_map::RandomState,
    /// A workflow whose next attempt is at least this far off stops its
    /// process until then (passivation); `None`: never.
    pub(crate) passivate_after: Option<Duration>,
    waker: std::sync::OnceLock<ActorRef<Waker>>,
}

impl Inner {
    pub(crate) fn key(&self, id: &str) -> String {
        format!("{PREFIX}{id}")
    }

    pub(crate) fn definition(&self, name: &str) -> Result<&Workflow, CoordinatorError> {
        self.definitions
            .get(name)
            .ok_or_else(|| CoordinatorError::UnknownWorkflow(name.to_owned()))
    }

    pub(crate) async fn load(
        &self,
        id: &str,
    ) -> Result<Option<(WorkflowRecord, Version)>, CoordinatorError> {
        match self.store.get(&self.key(id)).await? {
            Some(entry) => Ok(Some((WorkflowRecord::decode(&entry.value)?, entry.version))),
            None => Ok(None),
        }
    }

    /// Every workflow's id and record (or why it cannot be read), in byte
    /// order of the ids.
    pub(crate) async fn records(
        &self,
    ) -> Result<Vec<(String, Result<WorkflowRecord, RecordError>)>, StoreError> {
        let mut records = Vec::new();
        for listed in self.store.list(PREFIX).await? {
            let Some(id) = listed.key.strip_prefix(PREFIX) else {
                continue;
            };
            // Deleted since it was listed: nothing to report.
            if let Some(entry) = self.store.get(&listed.key).await? {
                records.push((id.to_owned(), WorkflowRecord::decode(&entry.value)));
            }
        }
        Ok(records)
    }

    /// Asks the waker to start workflow `id` again after `delay`. If the
    /// waker is gone, a coordinator started later resumes the workflow.
    pub(crate) async fn wake_after(&self, id: &str, delay: Duration) {
        if let Some(waker) = self.waker.get()
            && waker
                .cast(WakerMsg::WakeAfter(id.to_owned(), delay))
                .await
                .is_err()
        {
            tracing::warn!(target: "foundation::coordinator", %id, "the waker is gone; the workflow resumes when a coordinator starts");
        }
    }

    /// A per-workflow number for retry jitter.
    pub(crate) fn seed(&self, id: &str) -> u64 {
        let mut hasher = self.seeds.build_hasher();
        hasher.write(id.as_bytes());
        hasher.finish()
    }
}

/// The coordinator: start one with the store and the workflow definitions,
/// then start workflows by id. See the crate docs.
#[derive(Clone, Debug)]
pub struct Coordinator {
    inner: Arc<Inner>,
    workflows: DynamicSupervisorRef<(Arc<Inner>, String)>,
    id_reuse: IdReuse,
}

impl Coordinator {
    /// Starts a coordinator over `store` for `definitions`, and resumes
    /// every workflow the store says is running, each at its last recorded
    /// step (after a crash of the program, this is the recovery).
    ///
    /// # Errors
    ///
    /// A definition that is invalid, two with one name, an unreadable
    /// store, or supervisors that cannot start.
    pub async fn start(
        store: impl StateStore,
        definitions: impl IntoIterator<Item = Workflow>,
    ) -> Result<Self, CoordinatorError> {
        Self::start_with(store, definitions, None).await
    }

    /// [`start`](Self::start), with passivation: a workflow whose next
    /// attempt (a retry's backoff) is `passivate_after` or more away saves
    /// when it is due, and its process stops until then. The coordinator's
    /// waker starts it again at that time, or a signal or cancel does
    /// earlier (the attempt still waits its time). A passivated workflow
    /// costs its record and one timer entry: no process, no task.
    ///
    /// # Errors
    ///
    /// As for [`start`](Self::start).
    pub async fn start_with(
        store: impl StateStore,
        definitions: impl IntoIterator<Item = Workflow>,
        passivate_after: Option<Duration>,
    ) -> Result<Self, CoordinatorError> {
        let mut by_name = HashMap::new();
        for workflow in definitions {
            workflow.check()?;
            let name = workflow.name().to_owned();
            if by_name.insert(name.clone(), workflow).is_some() {
                return Err(crate::DefinitionError::DuplicateWorkflow(name).into());
            }
        }
        let (tasks, _tasks_handle) = TaskSupervisorRef::start(TaskSupervisorOptions::new())
            .await
            .map_err(|error| CoordinatorError::Process(error.to_string()))?;
        let inner = Arc::new(Inner {
            store: Store::new(store),
            definitions: by_name,
            tasks,
            names: Registry::new(),
            changed: Notify::new(),
            seeds: std::collections::hash_map::RandomState::new(),
            passivate_after,
            waker: std::sync::OnceLock::new(),
        });
        // Restarted only after a crash: a workflow that finished (normal
        // exit) stays down.
        let spec = DynamicSpec::actor::<WorkflowProcess>().restart(Restart::Transient);
        let workflows = DynamicSupervisorRef::start(spec)
            .await
            .map_err(|error| CoordinatorError::Process(error.to_string()))?;
        let (waker, _waker_handle) = start::<Waker>((Arc::clone(&inner), workflows.clone()))
            .await
            .map_err(|error| CoordinatorError::Process(error.to_string()))?;
        // The one place it is set: a new `Inner` was made just above.
        inner
            .waker
            .set(waker)
            .map_err(|_| CoordinatorError::Process("the waker was set twice".into()))?;
        let coordinator = Self {
            inner,
            workflows,
            id_reuse: IdReuse::default(),
        };
        coordinator.resume().await?;
        Ok(coordinator)
    }

    /// Sets the id-reuse policy (the default is [`IdReuse::Reject`]).
    pub fn id_reuse(mut self, policy: IdReuse) -> Self {
        self.id_reuse = policy;
        self
    }

    /// Starts a process for every running workflow (or, for a passivated
    /// one, a timer). One unreadable record or one process that fails to
    /// start is logged and left: it never keeps the others down.
    async fn resume(&self) -> Result<(), CoordinatorError> {
        let (mut resumed, mut failed) = (0_usize, 0_usize);
        for (id, record) in self.inner.records().await? {
            let record = match record {
                Ok(record) => record,
                Err(error) => {
                    tracing::error!(target: "foundation::coordinator", %id, %error, "workflow record unreadable; not resumed");
                    failed += 1;
                    continue;
                }
            };
            if record.status.is_finished() {
                continue;
            }
            match record.wakes_in() {
                Some(wait) if !wait.is_zero() => self.inner.wake_after(&id, wait).await,
                _ => {
                    if let Err(error) = self.launch(&id).await {
                        tracing::error!(target: "foundation::coordinator", %id, %error, "workflow not resumed; a later start of the coordinator tries again");
                        failed += 1;
                        continue;
                    }
                }
            }
            resumed += 1;
        }
        if resumed + failed > 0 {
            tracing::info!(target: "foundation::coordinator", resumed, failed, "running workflows resumed");
        }
        Ok(())
    }

    async fn launch(&self, id: &str) -> Result<(), CoordinatorError> {
        self.workflows
            .start_child((Arc::clone(&self.inner), id.to_owned()))
            .await
            .map(drop)
            .map_err(|error| CoordinatorError::Process(error.to_string()))
    }

    /// Starts workflow `workflow` under `id` with `input`: its record is
    /// saved, then its process started. Under [`IdReuse::Reject`] an id
    /// that was ever used is refused; under
    /// [`IdReuse::AllowAfterFinish`] a finished workflow's id is reused.
    ///
    /// # Errors
    ///
    /// An unknown workflow, an invalid or taken id, or a store failure.
    pub async fn start_workflow(
        &self,
        workflow: &str,
        id: &str,
        input: Vec<u8>,
    ) -> Result<(), CoordinatorError> {
        self.inner.definition(workflow)?;
        if id.is_empty() || id.len() > 256 || id.contains('/') {
            return Err(CoordinatorError::InvalidId(id.to_owned()));
        }
        let expected = match self.inner.load(id).await? {
            None => None,
            Some((record, _)) if !record.status.is_finished() => {
                return Err(CoordinatorError::IdTaken {
                    id: id.to_owned(),
                    reason: "a workflow with it is running",
                });
            }
            Some(_) if self.id_reuse == IdReuse::Reject => {
                return Err(CoordinatorError::IdTaken {
                    id: id.to_owned(),
                    reason: "it was used before, and ids are not reused",
                });
            }
            Some((_, version)) => Some(version),
        };
        let record = WorkflowRecord::new(id, workflow, input);
        // Fenced: two starts of one id race here, and one loses.
        match self
            .inner
            .store
            .compare_and_set(&self.inner.key(id), expected, record.encode()?)
            .await
        {
            Ok(_) => {}
            Err(StoreError::Conflict { .. }) => {
                return Err(CoordinatorError::IdTaken {
                    id: id.to_owned(),
                    reason: "another start took it first",
                });
            }
            Err(error) => return Err(error.into()),
        }
        tracing::info!(target: "foundation::coordinator", workflow, id, "workflow started");
        self.launch(id).await
    }

    /// The workflow's record: its status, the outputs of its completed
    /// steps and every failed attempt (a failure names its step).
    ///
    /// # Errors
    ///
    /// [`CoordinatorError::NotFound`], or a store failure.
    pub async fn status(&self, id: &str) -> Result<WorkflowRecord, CoordinatorError> {
        self.inner
            .load(id)
            .await?
            .map(|(record, _)| record)
            .ok_or_else(|| CoordinatorError::NotFound(id.to_owned()))
    }

    /// The ids of the workflows with status `kind`, in byte order.
    ///
    /// # Errors
    ///
    /// A store failure or an unreadable record.
    pub async fn list(&self, kind: StatusKind) -> Result<Vec<String>, CoordinatorError> {
        let mut ids = Vec::new();
        for (id, record) in self.inner.records().await? {
            match record {
                Ok(record) if record.status.kind() == kind => ids.push(id),
                Ok(_) => {}
                // Its status is unknown; `status(id)` says why.
                Err(error) => {
                    tracing::warn!(target: "foundation::coordinator", %id, %error, "workflow record unreadable; left out of the list");
                }
            }
        }
        Ok(ids)
    }

    /// Waits until the workflow has finished, at most `timeout`, and
    /// returns its record. Cancel-safe: dropping the future changes nothing.
    ///
    /// # Errors
    ///
    /// [`CoordinatorError::Timeout`], [`CoordinatorError::NotFound`], or a
    /// store failure.
    pub async fn wait(
        &self,
        id: &str,
        timeout: Duration,
    ) -> Result<WorkflowRecord, CoordinatorError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.inner.changed.notified();
            let mut changed = std::pin::pin!(changed);
            changed.as_mut().enable();
            let record = self.status(id).await?;
            if record.status.is_finished() {
                return Ok(record);
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return Err(CoordinatorError::Timeout {
                    id: id.to_owned(),
                    waited: timeout,
                });
            }
        }
    }

    /// Cancels a running workflow: its running step's task is aborted and
    /// it is saved as cancelled. Returns `false` if it had finished.
    ///
    /// # Errors
    ///
    /// [`CoordinatorError::NotFound`], or a process that did not answer.
    pub async fn cancel(&self, id: &str) -> Result<bool, CoordinatorError> {
        if self.status(id).await?.status.is_finished() {
            return Ok(false);
        }
        self.wake(id).await?;
        self.inner
            .names
            .call::<WorkflowProcess, bool>(id, WorkflowMsg::Cancel, CALL_TIMEOUT)
            .await
            .map_err(|error| CoordinatorError::Process(error.to_string()))
    }

    /// Sends the running workflow a signal, saved before this returns;
    /// steps that start afterwards see it in [`StepContext::signals`](crate::StepContext::signals).
    ///
    /// # Errors
    ///
    /// A workflow that is not running, or a process that did not answer.
    pub async fn signal(
        &self,
        id: &str,
        name: &str,
        payload: Vec<u8>,
    ) -> Result<(), CoordinatorError> {
        let signal = Signal {
            name: name.to_owned(),
            payload,
        };
        if !self.status(id).await?.status.is_finished() {
            self.wake(id).await?;
        }
        self.inner
            .names
            .call::<WorkflowProcess, ()>(
                id,
                |reply| WorkflowMsg::Signal(signal, reply),
                CALL_TIMEOUT,
            )
            .await
            .map_err(|error| CoordinatorError::Process(error.to_string()))
    }

    /// Starts a passivated workflow's process, so a message can reach it.
    async fn wake(&self, id: &str) -> Result<(), CoordinatorError> {
        if self.inner.names.whereis(id).is_some() {
            return Ok(());
        }
        match self.launch(id).await {
            // Woken by its waker meanwhile: the name is taken by the live one.
            Err(_) if self.inner.names.whereis(id).is_some() => Ok(()),
            other => other,
        }
    }

    /// The process running workflow `id`, if one is.
    pub fn process_of(&self, id: &str) -> Option<ProcessRef> {
        self.inner.names.whereis(id)
    }

    /// How many workflow processes are alive.
    pub fn running_processes(&self) -> usize {
        self.workflows.count_children().active
    }

    /// Stops every workflow process (their records stay: a coordinator
    /// started later on the same store resumes them) and the coordinator's
    /// supervisors, within `timeout` each.
    ///
    /// # Errors
    ///
    /// A supervisor that did not stop in time (it was killed).
    pub async fn shutdown(&self, timeout: Duration) -> Result<(), CoordinatorError> {
        self.workflows
            .shutdown(timeout)
            .await
            .map_err(|error| CoordinatorError::Process(error.to_string()))?;
        self.inner
            .tasks
            .stop(timeout)
            .await
            .map(|_: ExitReason| ())
            .map_err(|error| CoordinatorError::Process(error.to_string()))
    }
}
