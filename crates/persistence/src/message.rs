//! [`PersistentMsg`]: what a [`Persistent`](crate::Persistent) actor's mailbox holds.

use std::fmt;

use foundation_mailbox::Reply;

use crate::SaveError;

/// Whether a save is durable: what a request's save port is answered with.
pub(crate) type Saved = Result<(), SaveError>;

/// The message type of a [`Persistent`](crate::Persistent) actor: the
/// actor's own messages, plus the requests and timers of its persistence.
///
/// Talk to the actor through a [`PersistentRef`](crate::PersistentRef),
/// which builds these. An `ActorRef<Persistent<P>>` (from a supervisor, say)
/// takes the actor's own messages directly with
/// [`cast_from`](foundation_mailbox::ActorRef::cast_from), or becomes a
/// `PersistentRef` with `PersistentRef::from`.
pub struct PersistentMsg<M>(pub(crate) Inner<M>);

pub(crate) enum Inner<M> {
    /// One of the actor's own messages, cast.
    Cast(M),
    /// One of the actor's own messages, sent by `PersistentRef::call`.
    Request(Request<M>),
    /// A batched policy's timer: save what is unsaved.
    Flush,
    /// Save now, and answer once the state is durable.
    Save(Reply<Saved>),
}

/// A request sent by [`PersistentRef::call`](crate::PersistentRef::call):
/// the actor's own message, whose reply port the handler answers, and the
/// port that tells the caller whether the change is durable. The caller
/// releases the handler's answer only after that.
pub(crate) struct Request<M> {
    pub(crate) message: M,
    pub(crate) saved: Reply<Saved>,
}

impl<M> PersistentMsg<M> {
    pub(crate) fn flush() -> Self {
        Self(Inner::Flush)
    }

    pub(crate) fn save(saved: Reply<Saved>) -> Self {
        Self(Inner::Save(saved))
    }
}

impl<M> From<M> for PersistentMsg<M> {
    fn from(message: M) -> Self {
        Self(Inner::Cast(message))
    }
}

impl<M> From<Request<M>> for PersistentMsg<M> {
    fn from(request: Request<M>) -> Self {
        Self(Inner::Request(request))
    }
}

impl<M> fmt::Debug for PersistentMsg<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Inner::Cast(_) => "Cast(..)",
            Inner::Request(_) => "Request(..)",
            Inner::Flush => "Flush",
            Inner::Save(_) => "Save(..)",
        })
    }
}
