//! What the process core reports to a [`metrics`](https://docs.rs/metrics)
//! recorder, behind the `metrics` feature; without it every function here
//! is empty and inlined away.
//!
//! | metric | kind | labels | when |
//! | --- | --- | --- | --- |
//! | `foundation_mailbox_depth` | histogram (messages) | `actor` | each time an actor takes the user messages waiting for it |
//! | `foundation_mailbox_dropped_total` | counter | `actor` | an overflow policy dropped a message |
//! | `foundation_dead_letters_total` | counter | `reason` (`exited`, `overflow`), `kind` (`cast`, `call`, `system`) | a message became a dead letter |
//! | `foundation_actor_exits_total` | counter | `actor`, `reason` (`normal`, `shutdown`, `killed`, `panic`, `error`, `noproc`) | an actor's exit was published |
//!
//! `actor` is the actor's Rust type name: bounded by the program's types,
//! never by how many processes run.

#[cfg(feature = "metrics")]
mod enabled {
    use crate::{DeadLetterReason, ExitReason, MessageKind};

    pub(crate) fn depth<A>(queued: usize) {
        #[expect(clippy::cast_precision_loss, reason = "a queue length far below 2^52")]
        metrics::histogram!("foundation_mailbox_depth", "actor" => std::any::type_name::<A>())
            .record(queued as f64);
    }

    pub(crate) fn dropped<A>() {
        metrics::counter!("foundation_mailbox_dropped_total", "actor" => std::any::type_name::<A>())
            .increment(1);
    }

    pub(crate) fn dead_letter(reason: &DeadLetterReason, kind: MessageKind) {
        let reason = match reason {
            DeadLetterReason::Exited(_) => "exited",
            DeadLetterReason::Overflow => "overflow",
        };
        let kind = match kind {
            MessageKind::Cast => "cast",
            MessageKind::Call => "call",
            MessageKind::System => "system",
        };
        metrics::counter!("foundation_dead_letters_total", "reason" => reason, "kind" => kind)
            .increment(1);
    }

    pub(crate) fn exit<A>(reason: &ExitReason) {
        let reason = match reason {
            ExitReason::Normal => "normal",
            ExitReason::Shutdown(_) => "shutdown",
            ExitReason::Killed => "killed",
            ExitReason::Panic(_) => "panic",
            ExitReason::Error(_) => "error",
            ExitReason::NoProcess => "noproc",
        };
        metrics::counter!("foundation_actor_exits_total", "actor" => std::any::type_name::<A>(), "reason" => reason)
            .increment(1);
    }
}

#[cfg(not(feature = "metrics"))]
mod enabled {
    use crate::{DeadLetterReason, ExitReason, MessageKind};

    #[inline(always)]
    pub(crate) fn dropped<A>() {}

    #[inline(always)]
    pub(crate) fn dead_letter(_: &DeadLetterReason, _: MessageKind) {}

    #[inline(always)]
    pub(crate) fn exit<A>(_: &ExitReason) {}
}

// The receiver counts its refills only with the feature: no stub for `depth`.
#[cfg(feature = "metrics")]
pub(crate) use enabled::depth;
pub(crate) use enabled::{dead_letter, dropped, exit};
