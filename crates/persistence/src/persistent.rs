//! [`Persistent`]: the actor that runs a [`PersistentActor`], recovering its state at start and saving it by policy.

use std::fmt;

use foundation_mailbox::{Actor, Context, ExitReason, Reply, SystemMessage};

use crate::{
    OnSaveFailure, Persistence, PersistentActor, PersistentError, RecoverError, SaveError,
    SavePolicy, StateStore, Tracked, codec,
    message::{Inner, PersistentMsg, Request, Saved},
    saver::Saver,
};

/// Runs a [`PersistentActor`] as an [`Actor`]: recovers its state before
/// the first message, saves it by its [`SavePolicy`](crate::SavePolicy),
/// and surfaces failed saves.
///
/// Start it with [`start`](crate::start), which hands back a
/// [`PersistentRef`](crate::PersistentRef); or, where an `ActorRef` and
/// `Args` are needed (a supervisor's child spec), as
/// `Persistent<MyActor>` with [`PersistentArgs`].
pub struct Persistent<P: PersistentActor> {
    actor: P,
    /// Boxed: the actor's state moves into its process cell whenever it
    /// goes idle and back out at its next message, so it is kept small.
    saver: Box<Saver>,
    on_failure: OnSaveFailure,
}

impl<P: PersistentActor> fmt::Debug for Persistent<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Persistent")
            .field("key", &self.saver.key)
            .field("policy", &self.saver.policy)
            .field("dirty", &self.saver.is_dirty())
            .finish_non_exhaustive()
    }
}

impl<P: PersistentActor> Persistent<P> {
    /// The actor's state as it is in memory now.
    pub fn state(&self) -> &P {
        &self.actor
    }

    /// The key the state is saved under.
    pub fn key(&self) -> &str {
        &self.saver.key
    }

    /// Reads the saved state (or builds a fresh one) and the saver around it.
    async fn recover(
        args: PersistentArgs<P>,
        ctx: &mut Context<Self>,
    ) -> Result<Self, PersistentError<P::Error>> {
        let PersistentArgs { args, persistence } = args;
        persistence
            .policy
            .check()
            .map_err(PersistentError::InvalidPolicy)?;
        let key = persistence.key;
        // A save the previous incarnation started may still be in flight
        // (it crashed or was killed meanwhile): reading before it lands
        // would load an older version.
        persistence.saves.wait_clear().await;
        let entry = persistence
            .store
            .get(&key)
            .await
            .map_err(RecoverError::from)?;
        let (actor, version, last_saved) = match entry {
            Some(entry) => {
                // The decoded value is the whole state: nothing from a
                // fresh `init` is mixed in.
                let mut actor =
                    codec::decode_or_migrate(&key, &entry.value, P::SCHEMA_VERSION, P::migrate)
                        .map_err(RecoverError::from)?;
                P::after_load(&mut actor, args, ctx)
                    .await
                    .map_err(PersistentError::Actor)?;
                tracing::debug!(target: "foundation::persistence", key = %key, version = %entry.version, "state recovered");
                (actor, Some(entry.version), entry.value)
            }
            None => {
                let actor = P::init(args, ctx).await.map_err(PersistentError::Actor)?;
                (actor, None, Vec::new())
            }
        };
        Ok(Self {
            actor,
            saver: Box::new(Saver::new(
                persistence.store,
                key,
                persistence.policy,
                persistence.saves,
                version,
                last_saved,
            )),
            on_failure: persistence.on_failure,
        })
    }

    /// Saves after a handler, if there is anything to save: the handler
    /// changed the state, or (under write-through) an earlier change is
    /// still unsaved because its save failed the call. A handler that only
    /// read the state costs nothing here, and its caller is answered at
    /// once; but it is never answered from a change that is not yet
    /// durable under write-through, so that change is retried first.
    async fn after_handler(&mut self, changed: bool, ctx: &mut Context<Self>) -> Saved {
        if changed || self.saver.owes_write_through() {
            self.saver.changed(&mut self.actor, ctx.myself()).await
        } else {
            Ok(())
        }
    }

    fn crash(&mut self, error: SaveError) -> PersistentError<P::Error> {
        self.saver.failed = true;
        PersistentError::Save(error)
    }

    /// Tells a request's caller how the save it waits on went. A failed
    /// save the caller waits on (its own write-through, or the save it asked
    /// for) may fail just the call; a batched write's failure has no caller
    /// of its own and always crashes, and the caller then gets the crash.
    fn report(
        &mut self,
        outcome: Saved,
        saved: Reply<Saved>,
        callers_save: bool,
        ctx: &mut Context<Self>,
    ) -> Result<(), PersistentError<P::Error>> {
        let told = match outcome {
            Ok(()) => saved.send(Ok(())),
            // The caller hears of the conflict; the actor stops after this
            // message.
            Err(error) if error.is_conflict() => {
                self.fence(&error, ctx);
                saved.send(Err(error))
            }
            Err(error) if callers_save && self.on_failure == OnSaveFailure::FailCall => {
                tracing::warn!(target: "foundation::persistence", key = %self.saver.key, %error, "save failed; the call fails and the actor goes on");
                saved.send(Err(error))
            }
            Err(error) => return Err(self.crash(error)),
        };
        if told.is_err() {
            tracing::trace!(target: "foundation::persistence", key = %self.saver.key, "caller gave up before its save finished");
        }
        Ok(())
    }

    /// What a failed save with no caller to tell does: a conflict fences
    /// the actor off, anything else crashes it.
    fn save_failed(
        &mut self,
        outcome: Result<(), SaveError>,
        ctx: &mut Context<Self>,
    ) -> Result<(), PersistentError<P::Error>> {
        match outcome {
            Ok(()) => Ok(()),
            Err(error) if error.is_conflict() => {
                self.fence(&error, ctx);
                Ok(())
            }
            Err(error) => Err(self.crash(error)),
        }
    }

    /// Another incarnation (here or on another node) wrote the key since
    /// this one read it: it owns the state now. This one stops with a
    /// shutdown reason, so a transient child is not restarted, and writes
    /// nothing more (not even at `terminate`): fencing by version.
    fn fence(&mut self, error: &SaveError, ctx: &mut Context<Self>) {
        self.saver.failed = true;
        tracing::warn!(target: "foundation::persistence", key = %self.saver.key, %error, "fenced: another incarnation owns this key; stopping");
        ctx.stop(ExitReason::shutdown_because(format!("fenced: {error}")));
    }
}

/// What [`Persistent`] starts from: the actor's own arguments and its
/// [`Persistence`].
pub struct PersistentArgs<P: PersistentActor> {
    /// The actor's arguments, for `init` or `after_load`.
    pub args: P::Args,
    /// Where and how the state is saved.
    pub persistence: Persistence,
}

impl<P: PersistentActor> PersistentArgs<P> {
    /// Pairs the actor's arguments with its persistence.
    pub fn new(args: P::Args, persistence: Persistence) -> Self {
        Self { args, persistence }
    }
}

impl<P: PersistentActor> Clone for PersistentArgs<P>
where
    P::Args: Clone,
{
    fn clone(&self) -> Self {
        Self {
            args: self.args.clone(),
            persistence: self.persistence.clone(),
        }
    }
}

impl<P: PersistentActor> fmt::Debug for PersistentArgs<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersistentArgs")
            .field("persistence", &self.persistence)
            .finish_non_exhaustive()
    }
}

impl<P: PersistentActor> Actor for Persistent<P> {
    type Args = PersistentArgs<P>;
    type Msg = PersistentMsg<P::Msg>;
    type Error = PersistentError<P::Error>;

    /// The user's message type, not the `PersistentMsg` around it.
    fn message_type_name() -> &'static str {
        std::any::type_name::<P::Msg>()
    }

    async fn init(args: Self::Args, ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        // Boxed: recovery runs once per start, but every activation's task
        // is sized by the largest future the message loop can hold, and an
        // idle actor's next message spawns a new task.
        Box::pin(Self::recover(args, ctx)).await
    }

    async fn handle(
        &mut self,
        message: Self::Msg,
        ctx: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        match message.0 {
            Inner::Cast(message) => {
                let mut state = Tracked::new(&mut self.actor);
                P::handle(&mut state, message, ctx)
                    .await
                    .map_err(PersistentError::Actor)?;
                let changed = state.is_changed();
                // No caller to tell: a failed save crashes the actor (or,
                // on a conflict, fences it off).
                let saved = self.after_handler(changed, ctx).await;
                self.save_failed(saved, ctx)
            }
            Inner::Request(Request { message, saved }) => {
                // If the handler fails, `saved` is dropped with it and the
                // caller gets the exit reason.
                let mut state = Tracked::new(&mut self.actor);
                P::handle(&mut state, message, ctx)
                    .await
                    .map_err(PersistentError::Actor)?;
                let changed = state.is_changed();
                let outcome = self.after_handler(changed, ctx).await;
                let write_through = self.saver.policy == SavePolicy::WriteThrough;
                self.report(outcome, saved, write_through, ctx)
            }
            // Boxed, so the future of every ordinary message does not carry
            // the saving path's state.
            Inner::Flush => {
                let saved = Box::pin(self.saver.timer_fired(&mut self.actor)).await;
                self.save_failed(saved, ctx)
            }
            Inner::Save(saved) => {
                let outcome = Box::pin(self.saver.save_now(&mut self.actor)).await;
                self.report(outcome, saved, true, ctx)
            }
        }
    }

    async fn handle_system(
        &mut self,
        message: SystemMessage,
        ctx: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        let mut state = Tracked::new(&mut self.actor);
        P::handle_system(&mut state, message, ctx)
            .await
            .map_err(PersistentError::Actor)?;
        let changed = state.is_changed();
        let saved = self.after_handler(changed, ctx).await;
        self.save_failed(saved, ctx)
    }

    async fn terminate(&mut self, reason: &ExitReason, ctx: &mut Context<Self>) {
        self.actor.terminate(reason, ctx).await;
        if self.saver.failed {
            // The state holds a change whose save failed and crashed the
            // actor (the restart goes back to the last durable state), or
            // the actor was fenced off (another incarnation owns the key).
            return;
        }
        // Boxed, so the message loop does not carry the last save's state.
        if let Err(error) = Box::pin(self.saver.save_now(&mut self.actor)).await {
            tracing::error!(target: "foundation::persistence", key = %self.saver.key, %error, %reason, "the last save at terminate failed; changes since the previous save are lost");
        }
    }
}
