//! System messages: the lane that bypasses the user bound and keeps Erlang's order of signals.

use crate::{ExitReason, Pid, Reference, timer::TimerTick};

/// A message from the runtime rather than from a user of the actor.
///
/// System messages travel in their own lane: they are never refused because
/// the user lane is full (those sent by hand with
/// [`ProcessRef::send_system`](crate::ProcessRef::send_system) have a bound
/// of their own). The actor handles one after the user messages that were
/// already queued when it arrived, and before any that arrive later, so a
/// DOWN never overtakes the dead process's last messages (Erlang's order of
/// signals between two processes). The actor sees them in
/// [`Actor::handle_system`](crate::Actor::handle_system).
#[derive(Clone, Debug, PartialEq)]
pub enum SystemMessage {
    /// A linked process exited and this actor traps exits, so the exit
    /// signal arrives as a message instead of ending this actor.
    Exit {
        /// The process that exited.
        from: Pid,
        /// Why it exited.
        reason: ExitReason,
    },
    /// A process this actor monitors exited.
    Down(Down),
}

/// A monitor's notification that its target exited (OTP's `'DOWN'` message).
#[derive(Clone, Debug, PartialEq)]
pub struct Down {
    /// The process that exited.
    pub pid: Pid,
    /// The monitor that fired, as returned when it was created.
    pub reference: Reference,
    /// Why the process exited; [`ExitReason::NoProcess`] when it was already
    /// gone when the monitor was created.
    pub reason: ExitReason,
}

/// What travels in the system lane: the public messages plus the runtime's
/// own control signals, which the actor never sees.
#[derive(Debug)]
pub(crate) enum Signal {
    /// Stop after the current message, run `terminate`, exit with this reason.
    Stop(ExitReason),
    /// An exit signal from a linked process (OTP semantics decide what it does).
    Exit { from: Pid, reason: ExitReason },
    /// Anything the actor handles itself.
    Message(SystemMessage),
    /// One of the actor's own timers came due. It takes its place behind
    /// the user messages already queued, like a DOWN, and bypasses the
    /// bound: each timer has at most one tick in flight.
    Timer(TimerTick),
}
