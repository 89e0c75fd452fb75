//! An activation's message loop: `init` (for a spawned actor), then one
//! message at a time until the mailbox stays empty (dormant), something
//! ends the actor, or the loop takes over an actor its last handler woke.

use std::sync::Arc;

use super::{
    Begin, End, YIELD_EVERY, handoff,
    handoff::{Deferred, TakenOver},
    inline,
};
use crate::{
    Actor, ActorRef, Context, ExitReason,
    mailbox::{Batch, Hibernation, Received},
    observe::handled,
    process::{Dormant, Process},
    reply::{DropCause, dropping_with, settle_held},
    timer::TimerTick,
    wait::YieldOnce,
};

/// The receiver's batch, which gives back what it still holds when the
/// loop ends or is dropped, so the exit dead-letters it in order.
struct Inbox<A: Actor> {
    /// The context of the actor the loop runs (the one it began with, or
    /// the last one it took over), whose reference to the actor is also
    /// the loop's: one reference count per activation, not two.
    ctx: Context<A>,
    batch: Batch<A::Msg>,
    /// The request a call handed to the activation instead of queueing it
    /// (see `Begin::Called`). The loop's first look takes it, in the
    /// activation's first poll, before anything can await.
    first: Option<A::Msg>,
}

impl<A: Actor> Inbox<A> {
    fn new(process: Arc<Process<A>>) -> Self {
        Self {
            ctx: Context::new(ActorRef { process }),
            batch: Batch::default(),
            first: None,
        }
    }

    /// The actor the loop runs. The method borrows the whole inbox; where
    /// the batch is borrowed beside it, the path is written out instead.
    #[inline(always)]
    fn process(&self) -> &Arc<Process<A>> {
        &self.ctx.myself().process
    }

    /// The next message, if there is one. With nothing left in the batch
    /// and a woken actor waiting in the slot, or nothing new in the mailbox
    /// since the last look, none: the loop goes on to hibernating, which
    /// looks at the lanes under the same lock a receive would take.
    #[inline(always)]
    fn next(&mut self) -> Option<Received<A::Msg>> {
        if self.batch.is_empty() {
            if let Some(first) = self.first.take() {
                // A handed request is a queue of one, taken at once.
                #[cfg(feature = "metrics")]
                crate::metrics::depth::<A>(1);
                return Some(Received::User(first));
            }
            if handoff::pending() || self.process().mailbox.is_quiet() {
                return None;
            }
        }
        self.ctx.myself().process.mailbox.try_recv(&mut self.batch)
    }

    /// Reports the mailbox's depth when the last receive refilled the
    /// batch (with the `metrics` feature; nothing without it).
    #[inline(always)]
    fn report_depth(&mut self) {
        #[cfg(feature = "metrics")]
        match self.batch.take_refilled() {
            0 => {}
            queued => crate::metrics::depth::<A>(queued),
        }
    }

    /// Whether nothing is left to handle, as far as a look without the
    /// lock can tell.
    #[inline(always)]
    fn is_idle(&self) -> bool {
        self.batch.is_empty() && self.process().mailbox.is_quiet()
    }

    /// After a linger: what arrived meanwhile (a caller's next request),
    /// taken without parking the state.
    #[inline(always)]
    fn arrived(&mut self) -> Option<Received<A::Msg>> {
        if self.process().mailbox.is_quiet() {
            return None;
        }
        self.ctx.myself().process.mailbox.try_recv(&mut self.batch)
    }

    /// Parks the actor's state and timers in its mailbox, if nothing
    /// arrived (see [`Hibernation`]).
    #[inline(always)]
    fn hibernate(&mut self, actor: A) -> Hibernation<Dormant<A>, A::Msg> {
        let dormant = Dormant {
            actor,
            timers: std::mem::take(&mut self.ctx.timers),
        };
        self.ctx
            .myself()
            .process
            .mailbox
            .hibernate(&mut self.batch, dormant)
    }

    /// The state an attempt to go dormant gave back, with a message that
    /// arrived meanwhile: the actor and its timers, to go on with.
    #[inline(always)]
    fn resume(&mut self, dormant: Dormant<A>) -> A {
        self.ctx.timers = dormant.timers;
        dormant.actor
    }

    /// The message a timer's tick carries, if its timer still stands; the
    /// tick of a timer cancelled or replaced since is dropped here.
    fn fire(&mut self, tick: TimerTick) -> Option<A::Msg> {
        let (myself, timers) = self.ctx.myself_and_timers();
        let message = timers.fire(tick, &myself.process);
        if message.is_none() {
            tracing::trace!(target: "foundation::mailbox", pid = %self.process().pid, "tick of a cancelled timer dropped");
        }
        message
    }

    /// Makes the loop run `next`, an actor it took over: its context and
    /// timers, its scope for the panic hook; returns its state.
    fn switch_to(&mut self, next: Deferred<A>) -> A {
        // Ports the loop dropped since the last handler belong to the actor
        // just parked, which goes on: settle them before another actor's
        // handlers can decide otherwise.
        settle_held(|| true);
        let Deferred {
            process,
            activation,
        } = next;
        self.ctx = Context::new(ActorRef { process });
        self.ctx.timers = activation.state.timers;
        crate::observe::rescope::<A>(self.process().pid);
        activation.state.actor
    }
}

impl<A: Actor> Drop for Inbox<A> {
    fn drop(&mut self) {
        self.ctx.myself().process.mailbox.unreceive(&mut self.batch);
    }
}

/// `init` (for a spawned actor), then one message at a time until the
/// mailbox stays empty (dormant) or something ends the actor.
pub(super) async fn message_loop<A: Actor>(
    process: Arc<Process<A>>,
    begin: Begin<A>,
    traced: bool,
) -> End {
    let mut inbox = Inbox::new(process);
    let mut actor = match begin_activation(begin, &mut inbox, traced).await {
        Ok(actor) => actor,
        Err(error) => return End::Exit(ExitReason::error(error)),
    };
    let mut handled_in_a_row = 0_u32;
    // How many messages in a row before the loop yields. Run on a caller's
    // task (see `inline`): one, the caller's request, and then the loop
    // moves to a task of its own if there is more to do.
    let mut yield_every = if inline::inline() { 1 } else { YIELD_EVERY };
    let reason = 'handle: loop {
        if let Some(reason) = inbox.ctx.take_stop() {
            break terminate(&mut actor, reason, &mut inbox.ctx, traced).await;
        }
        let received = match inbox.next() {
            Some(received) => received,
            None => 'next: {
                // Linger for one turn: a sender on this thread may have
                // more. Not when this handler woke an actor of this type:
                // going dormant now lets this task run it. Nor on a
                // caller's task: the caller waits, and has its answer.
                if !handoff::pending() && !inline::inline() {
                    YieldOnce::new().await;
                    if let Some(received) = inbox.arrived() {
                        handled_in_a_row = 0;
                        break 'next received;
                    }
                }
                match inbox.hibernate(actor) {
                    // Untraced, the loop runs the actor its last handler
                    // woke itself (traced, its task does, with the woken
                    // actor's span): the same loop, batch and task.
                    Hibernation::Dormant(Some(abort)) if !traced && handoff::pending() => {
                        // A chain of actors yields to the scheduler as one
                        // busy actor does; here, where no woken actor waits
                        // in the slot, and before the next actor's first
                        // message is taken, so that the yield holds none.
                        // Otherwise that message comes in the lock that
                        // adopts the actor.
                        let yields = handled_in_a_row >= YIELD_EVERY;
                        let batch = (!yields).then_some(&mut inbox.batch);
                        match handoff::take_over::<A>(&inbox.ctx.myself().process, abort, batch) {
                            Ok(TakenOver { next, first }) => {
                                actor = inbox.switch_to(next);
                                if let Some(first) = first {
                                    break 'next first;
                                }
                                if yields {
                                    handled_in_a_row = 0;
                                    tokio::task::yield_now().await;
                                }
                                continue 'handle;
                            }
                            Err(abort) => return End::Dormant(Some(abort)),
                        }
                    }
                    Hibernation::Dormant(abort) => return End::Dormant(abort),
                    Hibernation::Refused(dormant, received) => {
                        handled_in_a_row = 0;
                        actor = inbox.resume(dormant);
                        received
                    }
                    Hibernation::Killed(dormant, reason) => {
                        dropping_with(DropCause::Exiting, || drop(dormant));
                        return End::Exit(reason);
                    }
                }
            }
        };
        // The loop goes on: an actor its last handler woke must not wait
        // for it, so it gets a task of its own.
        handoff::flush_if_pending::<A>();
        inbox.report_depth();
        let outcome = match received {
            Received::User(message) => {
                let outcome = handled!(traced, User, actor.handle(message, &mut inbox.ctx));
                settled(outcome, &inbox.ctx)
            }
            Received::Stop(reason) => {
                break terminate(&mut actor, reason, &mut inbox.ctx, traced).await;
            }
            Received::System(message) => {
                let outcome =
                    handled!(traced, System, actor.handle_system(message, &mut inbox.ctx));
                settled(outcome, &inbox.ctx)
            }
            // A tick whose timer was cancelled or replaced is dropped here,
            // before any handler sees it.
            Received::Timer(tick) => match inbox.fire(tick) {
                Some(message) => {
                    let outcome = handled!(traced, Timer, actor.handle(message, &mut inbox.ctx));
                    settled(outcome, &inbox.ctx)
                }
                None => Ok(()),
            },
        };
        if let Err(error) = outcome {
            let reason = ExitReason::error(error);
            break terminate(&mut actor, reason, &mut inbox.ctx, traced).await;
        }
        handled_in_a_row += 1;
        // Not while an actor this handler woke waits in the slot: the
        // yield would start it on a task of its own; the loop yields once
        // it has taken that actor over instead.
        if handled_in_a_row >= yield_every && !handoff::pending() {
            handled_in_a_row = 0;
            if yield_every == YIELD_EVERY {
                tokio::task::yield_now().await;
            } else if !inbox.is_idle() {
                // On a caller's task, with more than the caller's request
                // to handle: the caller must not wait for it. The yield
                // ends the caller's poll of this loop, which moves it to a
                // task of its own.
                yield_every = YIELD_EVERY;
                YieldOnce::new().await;
            }
        }
    };
    // The state goes before the exit is published; a reply port it kept
    // tells its caller to wait for that exit.
    dropping_with(DropCause::Exiting, || drop(actor));
    End::Exit(reason)
}

/// The actor an activation runs: the state the last one left, or what
/// `init` builds (for a spawned actor).
async fn begin_activation<A: Actor>(
    begin: Begin<A>,
    inbox: &mut Inbox<A>,
    traced: bool,
) -> Result<A, A::Error> {
    match begin {
        Begin::Resume(dormant) => {
            inbox.ctx.timers = dormant.timers;
            Ok(dormant.actor)
        }
        Begin::Init(args) => {
            let actor = handled!(traced, Init, A::init(args, &mut inbox.ctx))?;
            inbox.process().mailbox.set_running();
            Ok(actor)
        }
        // The loop's first look takes the request, from the inbox.
        Begin::Called(dormant, request) => {
            inbox.first = Some(request);
            inbox.ctx.timers = dormant.timers;
            Ok(dormant.actor)
        }
    }
}

/// Settles the reply ports a handler dropped, now that it has returned:
/// "no reply" if the actor goes on, the exit reason to come if it does not.
#[inline(always)]
fn settled<A: Actor>(outcome: Result<(), A::Error>, ctx: &Context<A>) -> Result<(), A::Error> {
    settle_held(|| outcome.is_ok() && !ctx.is_stopping());
    outcome
}

/// Runs `terminate` and returns the reason the actor exits with. Ports it
/// drops are held, and go unanswered with the state: their callers get the
/// exit reason.
async fn terminate<A: Actor>(
    actor: &mut A,
    reason: ExitReason,
    ctx: &mut Context<A>,
    traced: bool,
) -> ExitReason {
    handled!(traced, Stop, actor.terminate(&reason, ctx));
    reason
}
