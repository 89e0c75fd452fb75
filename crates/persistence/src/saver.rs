//! [`Saver`]: one persistent actor's saving machinery: versions, dirty count, flush timer, background writes.

use std::{sync::Arc, time::Duration};

use foundation_mailbox::ActorRef;
use futures::FutureExt;
use tokio::{
    sync::{Mutex, OwnedMutexGuard},
    task::{AbortHandle, JoinHandle},
};

use crate::{
    PersistentActor, SaveError, SavePolicy, StateStore, Store, StoreError, Version, codec,
    message::PersistentMsg, persistent::Persistent,
};

/// Orders the saves of one [`Persistence`](crate::Persistence) across the
/// incarnations of its actor: every write holds it until the store has
/// answered, even when the actor that started it crashed or was killed
/// meanwhile, and recovery waits until it is free before reading. Without
/// it a restart could load the version before a save still in flight, and
/// then fail its own first save on a version conflict.
#[derive(Clone, Debug, Default)]
pub(crate) struct SaveGate(Arc<Mutex<()>>);

impl SaveGate {
    /// Waits until no write started through this gate is in flight.
    pub(crate) async fn wait_clear(&self) {
        drop(self.0.lock().await);
    }

    /// Takes the gate for a write about to start: at once when it is free
    /// (always, for a single incarnation, since each actor has at most one
    /// write in flight and waits for it before the next), else inside the
    /// write, after the other incarnation's.
    pub(crate) fn hold(&self) -> Result<OwnedMutexGuard<()>, Arc<Mutex<()>>> {
        Arc::clone(&self.0)
            .try_lock_owned()
            .map_err(|_| Arc::clone(&self.0))
    }
}

/// What a persistent actor knows about its entry and its unsaved changes.
pub(crate) struct Saver {
    pub(crate) store: Store,
    pub(crate) key: Arc<str>,
    pub(crate) policy: SavePolicy,
    gate: SaveGate,
    /// The entry's version as last read or written: every save is a
    /// compare-and-set against it, so a second incarnation is caught.
    version: Option<Version>,
    /// The bytes last saved (or loaded): a save that would write the same
    /// bytes writes nothing.
    last_saved: Vec<u8>,
    /// Where the state is encoded; reused between saves.
    buffer: Vec<u8>,
    /// Changing messages handled since the last save began.
    dirty: u32,
    /// The pending flush timer of a batched policy.
    timer: Option<AbortHandle>,
    /// The background write of a batched save.
    in_flight: Option<JoinHandle<Result<Version, StoreError>>>,
    /// Set when a save failed and crashes the actor: `terminate` must not
    /// write the state the failure was about.
    pub(crate) failed: bool,
}

impl Saver {
    pub(crate) fn new(
        store: Store,
        key: Arc<str>,
        policy: SavePolicy,
        gate: SaveGate,
        version: Option<Version>,
        last_saved: Vec<u8>,
    ) -> Self {
        Self {
            store,
            key,
            policy,
            gate,
            version,
            last_saved,
            buffer: Vec::new(),
            dirty: 0,
            timer: None,
            in_flight: None,
            failed: false,
        }
    }

    pub(crate) fn is_dirty(&self) -> bool {
        self.dirty > 0
    }

    /// Whether a write-through save failed (failing its call) and left a
    /// change unsaved: the next message saves it, changed or not.
    pub(crate) fn owes_write_through(&self) -> bool {
        self.policy == SavePolicy::WriteThrough && self.dirty > 0
    }

    /// Records that a message changed the state and saves as the policy says.
    pub(crate) async fn changed<P: PersistentActor>(
        &mut self,
        actor: &mut P,
        myself: &ActorRef<Persistent<P>>,
    ) -> Result<(), SaveError> {
        if self.note_change(actor, myself)? {
            // Boxed: a durable write is rare next to the messages of the
            // other policies, whose per-message future stays small.
            Box::pin(self.save_now(actor)).await?;
        }
        Ok(())
    }

    /// The synchronous part of [`changed`](Self::changed): counts the
    /// change, starts a batched save or arms its timer; returns whether a
    /// write-through save must follow.
    fn note_change<P: PersistentActor>(
        &mut self,
        actor: &mut P,
        myself: &ActorRef<Persistent<P>>,
    ) -> Result<bool, SaveError> {
        self.dirty = self.dirty.saturating_add(1);
        match self.policy {
            SavePolicy::WriteThrough => Ok(true),
            SavePolicy::Batched { every, within } => {
                if self.dirty >= every && self.try_flush(actor)? {
                    return Ok(false);
                }
                if self.timer.is_none() {
                    self.arm_timer(myself, within);
                }
                Ok(false)
            }
            SavePolicy::OnTerminate => Ok(false),
        }
    }

    /// The batched flush timer fired.
    pub(crate) async fn timer_fired<P: PersistentActor>(
        &mut self,
        actor: &mut P,
    ) -> Result<(), SaveError> {
        self.timer = None;
        if self.dirty == 0 {
            return Ok(());
        }
        self.finish_in_flight().await?;
        self.start_background(actor)
    }

    /// Saves now and waits until the state is durable.
    pub(crate) async fn save_now<P: PersistentActor>(
        &mut self,
        actor: &mut P,
    ) -> Result<(), SaveError> {
        self.finish_in_flight().await?;
        if !self.encode(actor)? {
            return Ok(());
        }
        // Spawned like a background save, so that a kill while it is in
        // flight leaves it holding the gate until the store answers.
        let outcome = self.spawn_write(self.buffer.clone(), false).await;
        self.settle(outcome)?;
        std::mem::swap(&mut self.last_saved, &mut self.buffer);
        self.dirty = 0;
        Ok(())
    }

    /// Starts a background save unless one is still in flight; returns
    /// whether it started (or nothing needed saving).
    fn try_flush<P: PersistentActor>(&mut self, actor: &mut P) -> Result<bool, SaveError> {
        if let Some(task) = &mut self.in_flight {
            if !task.is_finished() {
                return Ok(false);
            }
            // Finished, so its output is ready without waiting.
            let Some(outcome) = task.now_or_never() else {
                return Ok(false);
            };
            self.in_flight = None;
            self.settle(outcome)?;
        }
        self.start_background(actor)?;
        Ok(true)
    }

    fn start_background<P: PersistentActor>(&mut self, actor: &mut P) -> Result<(), SaveError> {
        if !self.encode(actor)? {
            return Ok(());
        }
        let bytes = self.buffer.clone();
        std::mem::swap(&mut self.last_saved, &mut self.buffer);
        self.dirty = 0;
        self.in_flight = Some(self.spawn_write(bytes, true));
        Ok(())
    }

    /// Starts writing `bytes` as the next version of the entry, holding the
    /// gate until the store answers; `background` writes log their failure,
    /// since no caller is waiting to hear of it.
    fn spawn_write(
        &self,
        bytes: Vec<u8>,
        background: bool,
    ) -> JoinHandle<Result<Version, StoreError>> {
        let store = self.store.clone();
        let key = Arc::clone(&self.key);
        let expected = self.version;
        let held = self.gate.hold();
        // audit:allow(FND001) the write is owned by its actor, which awaits it before its next save and at terminate; an actor that dies first leaves it to finish, and its next incarnation waits for it through the save gate
        tokio::spawn(async move {
            let _held = match held {
                Ok(held) => held,
                Err(gate) => gate.lock_owned().await,
            };
            let started = tokio::time::Instant::now();
            let outcome = store.compare_and_set(&key, expected, bytes).await;
            crate::metrics::saved(started.elapsed(), outcome.is_ok());
            if let (true, Err(error)) = (background, &outcome) {
                tracing::error!(target: "foundation::persistence", key = %key, %error, "background save failed; the actor crashes at its next message");
            }
            outcome
        })
    }

    /// Waits for the background write, if any, and takes its outcome.
    pub(crate) async fn finish_in_flight(&mut self) -> Result<(), SaveError> {
        match self.in_flight.take() {
            Some(task) => self.settle(task.await),
            None => Ok(()),
        }
    }

    fn settle(
        &mut self,
        outcome: Result<Result<Version, StoreError>, tokio::task::JoinError>,
    ) -> Result<(), SaveError> {
        match outcome {
            Ok(Ok(version)) => {
                self.version = Some(version);
                Ok(())
            }
            Ok(Err(source)) => Err(SaveError::Store {
                key: self.key.to_string(),
                source,
            }),
            Err(error) => Err(SaveError::Abandoned {
                key: self.key.to_string(),
                reason: error.to_string(),
            }),
        }
    }

    /// Encodes the state into the buffer; returns whether it differs from
    /// what was last saved (if not, the state counts as saved).
    fn encode<P: PersistentActor>(&mut self, actor: &mut P) -> Result<bool, SaveError> {
        actor.before_save();
        codec::encode_into(&self.key, P::SCHEMA_VERSION, actor, &mut self.buffer)?;
        if self.buffer == self.last_saved {
            self.dirty = 0;
            return Ok(false);
        }
        Ok(true)
    }

    fn arm_timer<P: PersistentActor>(
        &mut self,
        myself: &ActorRef<Persistent<P>>,
        within: Duration,
    ) {
        let myself = myself.clone();
        // audit:allow(FND001) the flush timer is owned by its actor: it holds only a reference, ends when it fires, and is aborted when the actor goes
        let task = tokio::spawn(async move {
            tokio::time::sleep(within).await;
            if myself.cast(PersistentMsg::flush()).await.is_err() {
                tracing::trace!(target: "foundation::persistence", pid = %myself.pid(), "actor exited before its flush timer fired");
            }
        });
        self.timer = Some(task.abort_handle());
    }
}

impl Drop for Saver {
    fn drop(&mut self) {
        if let Some(timer) = self.timer.take() {
            timer.abort();
        }
    }
}
