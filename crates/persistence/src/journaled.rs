//! [`Journaled`]: the actor that runs an [`EventSourced`] one, recovering it from snapshot + events and appending what its handler emits.

use std::{fmt, sync::Arc};

use foundation_mailbox::{Actor, Context, ExitReason, Reply, SystemMessage};

use crate::{
    Emitter, EventSourced, Journal, Journaling, PersistentError, RecoverError, SaveError,
    SnapshotPolicy, StoreError, codec,
    message::{Inner, PersistentMsg, Request, Saved},
    saver::SaveGate,
};

/// The key a journal entry's decode errors name: the actor's id and the
/// event's sequence number, as `<id>#<sequence>`.
pub(crate) fn event_key(id: &str, sequence: u64) -> String {
    format!("{id}#{sequence}")
}

/// Runs an [`EventSourced`] actor as an [`Actor`]: recovers it before the
/// first message (latest snapshot, then the events after it), appends the
/// events each handler emitted before its caller is answered and before
/// the next message, and snapshots by its [`SnapshotPolicy`].
///
/// A failed append crashes the actor (its state already holds the events
/// that were not written; the restart goes back to what is durable), and a
/// conflicting one (another incarnation appended) fences it off: it stops
/// with a shutdown reason and writes nothing more.
///
/// Start it with [`start_journaled`](crate::start_journaled), or as
/// `Journaled<MyActor>` with [`JournaledArgs`] where an actor type and
/// its `Args` are needed (a supervisor's child spec).
pub struct Journaled<A: EventSourced> {
    state: A,
    /// Boxed, as for [`Persistent`](crate::Persistent): the actor moves in
    /// and out of its process cell between activations.
    writer: Box<Writer>,
    /// The events the running handler emitted; reused between messages.
    emitted: Vec<A::Event>,
}

/// What an event-sourced actor knows about its journal.
struct Writer {
    journal: Arc<dyn Journal>,
    id: Arc<str>,
    policy: SnapshotPolicy,
    gate: SaveGate,
    /// The last sequence number in the journal, as this incarnation wrote it.
    last: u64,
    /// Events and their encoded bytes since the last snapshot.
    since_events: u64,
    since_bytes: u64,
    /// The size of the last snapshot, for the proportional rule.
    snapshot_bytes: u64,
    /// Set when a write failed or the actor was fenced off: nothing more is written.
    failed: bool,
}

impl<A: EventSourced> fmt::Debug for Journaled<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journaled")
            .field("id", &self.writer.id)
            .field("last", &self.writer.last)
            .finish_non_exhaustive()
    }
}

/// What [`Journaled`] starts from: the actor's own arguments and its
/// [`Journaling`].
pub struct JournaledArgs<A: EventSourced> {
    /// The actor's arguments, for `init` or `after_load`.
    pub args: A::Args,
    /// Where its events go.
    pub journaling: Journaling,
}

impl<A: EventSourced> JournaledArgs<A> {
    /// Pairs the actor's arguments with its journaling.
    pub fn new(args: A::Args, journaling: Journaling) -> Self {
        Self { args, journaling }
    }
}

impl<A: EventSourced> Clone for JournaledArgs<A>
where
    A::Args: Clone,
{
    fn clone(&self) -> Self {
        Self {
            args: self.args.clone(),
            journaling: self.journaling.clone(),
        }
    }
}

impl<A: EventSourced> fmt::Debug for JournaledArgs<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JournaledArgs")
            .field("journaling", &self.journaling)
            .finish_non_exhaustive()
    }
}

impl<A: EventSourced> Journaled<A> {
    /// The state as it is in memory now.
    pub fn state(&self) -> &A {
        &self.state
    }

    /// The actor's id in its journal.
    pub fn id(&self) -> &str {
        &self.writer.id
    }

    /// The sequence number of the last event written.
    pub fn last_sequence(&self) -> u64 {
        self.writer.last
    }

    async fn recover(
        args: JournaledArgs<A>,
        ctx: &mut Context<Self>,
    ) -> Result<Self, PersistentError<A::Error>> {
        let JournaledArgs { args, journaling } = args;
        journaling
            .snapshots
            .check()
            .map_err(PersistentError::InvalidPolicy)?;
        let preloaded = journaling.take_recovered();
        let Journaling {
            journal,
            id,
            snapshots: policy,
            writes: gate,
            ..
        } = journaling;
        // A write the previous incarnation started may still be in flight.
        gate.wait_clear().await;
        let recovery = match preloaded {
            Some(recovery) => recovery,
            None => journal.recover(&id).await.map_err(RecoverError::from)?,
        };
        let (mut state, mut expected) = match &recovery.snapshot {
            Some(snapshot) => {
                // Decoded under no name: a key is formatted only for an error.
                let mut state =
                    codec::decode_or_migrate("", &snapshot.bytes, A::SCHEMA_VERSION, A::migrate)
                        .map_err(|error| {
                            RecoverError::from(error.named(|| event_key(&id, snapshot.sequence)))
                        })?;
                A::after_load(&mut state, args, ctx)
                    .await
                    .map_err(PersistentError::Actor)?;
                (state, snapshot.sequence + 1)
            }
            None => (A::init(args, ctx).await.map_err(PersistentError::Actor)?, 1),
        };
        let mut since_bytes = 0_u64;
        for entry in &recovery.events {
            if entry.sequence != expected {
                return Err(RecoverError::from(StoreError::Corrupt {
                    key: event_key(&id, expected),
                    detail: format!(
                        "the journal skips from event {expected} to {}",
                        entry.sequence
                    ),
                })
                .into());
            }
            let event = codec::decode_or_migrate(
                "",
                &entry.bytes,
                A::EVENT_SCHEMA_VERSION,
                A::migrate_event,
            )
            .map_err(|error| RecoverError::from(error.named(|| event_key(&id, entry.sequence))))?;
            state.apply(&event);
            since_bytes += entry.bytes.len() as u64;
            expected += 1;
        }
        if expected - 1 != recovery.last {
            return Err(RecoverError::from(StoreError::Corrupt {
                key: event_key(&id, expected),
                detail: format!(
                    "the journal's head says event {} is the last, but its events end at {}",
                    recovery.last,
                    expected - 1
                ),
            })
            .into());
        }
        tracing::debug!(target: "foundation::persistence", id = %id, last = recovery.last, replayed = recovery.events.len(), "event-sourced state recovered");
        Ok(Self {
            state,
            writer: Box::new(Writer {
                journal,
                id,
                policy,
                gate,
                last: recovery.last,
                since_events: recovery.events.len() as u64,
                since_bytes,
                snapshot_bytes: recovery
                    .snapshot
                    .as_ref()
                    .map_or(0, |snapshot| snapshot.bytes.len() as u64),
                failed: false,
            }),
            emitted: Vec::new(),
        })
    }

    /// Appends what the handler emitted, if anything, and waits until it
    /// is durable.
    async fn append_emitted(&mut self) -> Saved {
        if self.emitted.is_empty() {
            return Ok(());
        }
        let id = Arc::clone(&self.writer.id);
        let mut events = Vec::with_capacity(self.emitted.len());
        let mut bytes = 0_u64;
        for event in self.emitted.drain(..) {
            let encoded = codec::encode(&id, A::EVENT_SCHEMA_VERSION, &event)?;
            bytes += encoded.len() as u64;
            events.push(encoded);
        }
        let count = events.len() as u64;
        let journal = Arc::clone(&self.writer.journal);
        let after = self.writer.last;
        let task_id = Arc::clone(&id);
        let last = self
            .writer
            .spawn_write(async move { journal.append(&task_id, after, events).await })
            .await?;
        self.writer.last = last;
        self.writer.since_events += count;
        self.writer.since_bytes += bytes;
        Ok(())
    }

    /// Writes a snapshot of the state as of the last event, compacting the
    /// journal behind it.
    async fn snapshot_now(&mut self) -> Saved {
        if self.writer.since_events == 0 {
            return Ok(());
        }
        let bytes = codec::encode(&self.writer.id, A::SCHEMA_VERSION, &self.state)?;
        let size = bytes.len() as u64;
        let journal = Arc::clone(&self.writer.journal);
        let id = Arc::clone(&self.writer.id);
        let sequence = self.writer.last;
        self.writer
            .spawn_write(async move { journal.snapshot(&id, sequence, bytes).await })
            .await?;
        self.writer.since_events = 0;
        self.writer.since_bytes = 0;
        self.writer.snapshot_bytes = size;
        Ok(())
    }

    /// Snapshots if the policy says it is time. A failed snapshot loses
    /// nothing (every event is in the journal): it is logged and retried
    /// after as many events again; a conflict fences the actor off.
    async fn snapshot_if_due(&mut self, ctx: &mut Context<Self>) {
        let writer = &self.writer;
        let due = writer.policy.due(
            writer.since_events,
            writer.since_bytes,
            writer.snapshot_bytes,
        );
        if writer.failed || !due {
            return;
        }
        match Box::pin(self.snapshot_now()).await {
            Ok(()) => {}
            Err(error) if error.is_conflict() => self.fence(&error, ctx),
            Err(error) => {
                tracing::warn!(target: "foundation::persistence", id = %self.writer.id, %error, "snapshot failed; the journal still holds every event");
                self.writer.since_events = 0;
                self.writer.since_bytes = 0;
            }
        }
    }

    /// After a write: tell the caller (if any), fence on a conflict, crash
    /// on anything else.
    fn settle(
        &mut self,
        outcome: Saved,
        saved: Option<Reply<Saved>>,
        ctx: &mut Context<Self>,
    ) -> Result<(), PersistentError<A::Error>> {
        let told = match (outcome, saved) {
            (Ok(()), Some(saved)) => saved.send(Ok(())),
            (Ok(()), None) => Ok(()),
            (Err(error), saved) if error.is_conflict() => {
                self.fence(&error, ctx);
                match saved {
                    Some(saved) => saved.send(Err(error)),
                    None => Ok(()),
                }
            }
            // The state holds events that are not durable: only a restart
            // from the journal makes it true again. The caller hears the
            // exit reason.
            (Err(error), _) => {
                self.writer.failed = true;
                return Err(PersistentError::Save(error));
            }
        };
        if told.is_err() {
            tracing::trace!(target: "foundation::persistence", id = %self.writer.id, "caller gave up before its events were written");
        }
        Ok(())
    }

    fn fence(&mut self, error: &SaveError, ctx: &mut Context<Self>) {
        self.writer.failed = true;
        tracing::warn!(target: "foundation::persistence", id = %self.writer.id, %error, "fenced: another incarnation appended to this journal; stopping");
        ctx.stop(ExitReason::shutdown_because(format!("fenced: {error}")));
    }

    /// Runs the handler for one command, then writes what it emitted.
    async fn command(
        &mut self,
        message: A::Msg,
        saved: Option<Reply<Saved>>,
        ctx: &mut Context<Self>,
    ) -> Result<(), PersistentError<A::Error>> {
        self.emitted.clear();
        let mut state = Emitter::new(&mut self.state, &mut self.emitted);
        A::handle(&mut state, message, ctx)
            .await
            .map_err(PersistentError::Actor)?;
        let outcome = Box::pin(self.append_emitted()).await;
        self.settle(outcome, saved, ctx)?;
        self.snapshot_if_due(ctx).await;
        Ok(())
    }
}

impl Writer {
    /// Runs one journal write as its own task holding the write gate, so
    /// that a kill while it is in flight leaves it to finish and the next
    /// incarnation recovers only after it landed.
    async fn spawn_write<T: Send + 'static>(
        &self,
        write: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, SaveError> {
        let held = self.gate.hold();
        // audit:allow(FND001) the write is owned by its actor, which awaits it right here; an actor killed meanwhile leaves it to finish, and its next incarnation waits for it through the write gate
        let task = tokio::spawn(async move {
            let _held = match held {
                Ok(held) => held,
                Err(gate) => gate.lock_owned().await,
            };
            write.await
        });
        match task.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(source)) => Err(SaveError::Store {
                key: self.id.to_string(),
                source,
            }),
            Err(error) => Err(SaveError::Abandoned {
                key: self.id.to_string(),
                reason: error.to_string(),
            }),
        }
    }
}

impl<A: EventSourced> Actor for Journaled<A> {
    type Args = JournaledArgs<A>;
    type Msg = PersistentMsg<A::Msg>;
    type Error = PersistentError<A::Error>;

    /// The user's message type, not the `PersistentMsg` around it.
    fn message_type_name() -> &'static str {
        std::any::type_name::<A::Msg>()
    }

    async fn init(args: Self::Args, ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        Box::pin(Self::recover(args, ctx)).await
    }

    async fn handle(
        &mut self,
        message: Self::Msg,
        ctx: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        match message.0 {
            Inner::Cast(message) => self.command(message, None, ctx).await,
            Inner::Request(Request { message, saved }) => {
                self.command(message, Some(saved), ctx).await
            }
            // Journaled actors arm no flush timer.
            Inner::Flush => Ok(()),
            Inner::Save(saved) => match Box::pin(self.snapshot_now()).await {
                // A failed snapshot loses nothing: the caller hears of it
                // and the actor goes on.
                Err(error) if !error.is_conflict() => {
                    if saved.send(Err(error)).is_err() {
                        tracing::trace!(target: "foundation::persistence", id = %self.writer.id, "caller gave up before its snapshot failed");
                    }
                    Ok(())
                }
                outcome => self.settle(outcome, Some(saved), ctx),
            },
        }
    }

    async fn handle_system(
        &mut self,
        message: SystemMessage,
        ctx: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        self.emitted.clear();
        let mut state = Emitter::new(&mut self.state, &mut self.emitted);
        A::handle_system(&mut state, message, ctx)
            .await
            .map_err(PersistentError::Actor)?;
        let outcome = Box::pin(self.append_emitted()).await;
        self.settle(outcome, None, ctx)?;
        self.snapshot_if_due(ctx).await;
        Ok(())
    }

    async fn terminate(&mut self, reason: &ExitReason, ctx: &mut Context<Self>) {
        self.state.terminate(reason, ctx).await;
    }
}
