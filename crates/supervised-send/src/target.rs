//! [`Target`]: whom a supervised send goes to, resolved again before every
//! attempt so a retry reaches a restarted incarnation.

use std::{borrow::Cow, fmt, hash::Hash, marker::PhantomData};

use foundation_mailbox::{Actor, ActorRef, LookupError, Pid, Recipient, Registry, SendError};
use foundation_supervisor::{ChildRef, ChildSendError};

use crate::{Failure, sync::Arc};

/// Finds where a target's messages go right now. Implement it for an
/// addressing scheme of your own; [`Target`] has constructors for the
/// common ones.
///
/// ```
/// use foundation_mailbox::Recipient;
/// use foundation_supervised_send::{Failure, Resolve, Target};
///
/// /// A target that is never there.
/// struct Nowhere;
///
/// impl Resolve<u32> for Nowhere {
///     fn resolve(&self) -> Result<Recipient<u32>, Failure> {
///         Err(Failure::NotRegistered)
///     }
///     fn describe(&self) -> String {
///         "nowhere".into()
///     }
/// }
///
/// let target = Target::resolver(Nowhere);
/// assert_eq!(target.describe(), "nowhere");
/// ```
pub trait Resolve<M>: Send + Sync + 'static {
    /// The recipient for the next attempt, or why there is none: a failure
    /// whose class is retryable ([`Failure::Restarting`],
    /// [`Failure::NotRegistered`]) makes the send try again after a
    /// backoff; [`Failure::Gone`] ends it.
    fn resolve(&self) -> Result<Recipient<M>, Failure>;

    /// How the target is named in spans, events and dead letters.
    fn describe(&self) -> String;
}

/// Whom a supervised send goes to: a fixed reference, a registered name, a
/// supervisor's child, or anything that implements [`Resolve`].
///
/// A fixed reference is one incarnation: once it exits, sends to it fail
/// with [`Failure::Gone`] and are not retried. A name or a child reference
/// is resolved before every attempt, so a retry after a restart reaches
/// the new incarnation.
pub struct Target<M> {
    pub(crate) kind: Kind<M>,
}

pub(crate) enum Kind<M> {
    /// One incarnation; with its typed reference when made from one, whose
    /// send takes the mailbox's lock once (a type-erased recipient reserves,
    /// converts outside the lock, then commits).
    Fixed(Recipient<M>, Option<Arc<dyn Direct<M>>>),
    Resolved(Arc<dyn Resolve<M>>),
}

/// A typed reference's send without waiting, erased over the actor type.
pub(crate) trait Direct<M>: Send + Sync {
    fn try_send(&self, message: M) -> Result<(), SendError<M>>;
}

impl<A, M> Direct<M> for ActorRef<A>
where
    A: Actor,
    M: Into<A::Msg> + Send + 'static,
{
    fn try_send(&self, message: M) -> Result<(), SendError<M>> {
        self.try_cast_from(message)
    }
}

impl<M> Clone for Target<M> {
    fn clone(&self) -> Self {
        Self {
            kind: match &self.kind {
                Kind::Fixed(recipient, direct) => Kind::Fixed(recipient.clone(), direct.clone()),
                Kind::Resolved(resolver) => Kind::Resolved(Arc::clone(resolver)),
            },
        }
    }
}

impl<M: 'static> fmt::Debug for Target<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Fixed(recipient, _) => f.debug_tuple("Target").field(recipient).finish(),
            Kind::Resolved(resolver) => {
                f.debug_tuple("Target").field(&resolver.describe()).finish()
            }
        }
    }
}

impl<M: Send + 'static> From<Recipient<M>> for Target<M> {
    fn from(recipient: Recipient<M>) -> Self {
        Self::recipient(recipient)
    }
}

impl<M: Send + 'static> Target<M> {
    /// One incarnation, by reference. Made once per call site (it holds a
    /// small allocation), it sends with the actor's own one-lock cast when
    /// the mailbox has room.
    pub fn actor<A>(actor: &ActorRef<A>) -> Self
    where
        A: Actor,
        M: Into<A::Msg>,
    {
        Self {
            kind: Kind::Fixed(actor.recipient(), Some(Arc::new(actor.clone()))),
        }
    }

    /// One incarnation, type-erased.
    pub fn recipient(recipient: Recipient<M>) -> Self {
        Self {
            kind: Kind::Fixed(recipient, None),
        }
    }

    /// Whoever holds `name` in `registry` at each attempt, if it is an `A`.
    pub fn named<A, K>(registry: &Registry<K>, name: K) -> Self
    where
        A: Actor,
        M: Into<A::Msg>,
        K: Hash + Eq + Clone + fmt::Debug + Send + Sync + 'static,
    {
        Self::resolver(Named::<A, K> {
            registry: registry.clone(),
            name,
            actor: PhantomData,
        })
    }

    /// A supervisor's child, at its current incarnation at each attempt.
    pub fn child<A>(child: ChildRef<A>) -> Self
    where
        A: Actor,
        M: Into<A::Msg>,
    {
        Self::resolver(Child { child })
    }

    /// Any addressing scheme.
    pub fn resolver(resolver: impl Resolve<M>) -> Self {
        Self {
            kind: Kind::Resolved(Arc::new(resolver)),
        }
    }

    /// Where the next attempt goes, or why nowhere.
    pub(crate) fn resolve(&self) -> Result<Recipient<M>, Failure> {
        match &self.kind {
            Kind::Fixed(recipient, _) if recipient.is_alive() => Ok(recipient.clone()),
            Kind::Fixed(..) => Err(gone_fixed()),
            Kind::Resolved(resolver) => resolver.resolve(),
        }
    }

    /// Sends at once to a fixed reference with room: `None` when queued,
    /// else the message back (a resolved target is not tried here).
    #[inline]
    pub(crate) fn try_fixed(&self, message: M) -> Option<M> {
        let sent = match &self.kind {
            Kind::Fixed(_, Some(direct)) => direct.try_send(message),
            Kind::Fixed(recipient, None) => recipient.try_send(message),
            Kind::Resolved(_) => return Some(message),
        };
        sent.err().map(SendError::into_inner)
    }

    /// A fixed reference's one-lock send, if it was made from an `ActorRef`.
    pub(crate) fn direct(&self) -> Option<&dyn Direct<M>> {
        match &self.kind {
            Kind::Fixed(_, Some(direct)) => Some(&**direct),
            _ => None,
        }
    }

    /// Whether a recipient that refused a message as exited may come back
    /// under this target.
    pub(crate) fn follows_restarts(&self) -> bool {
        matches!(self.kind, Kind::Resolved(_))
    }

    /// The fixed target's pid, if it is one.
    pub(crate) fn fixed_pid(&self) -> Option<Pid> {
        match &self.kind {
            Kind::Fixed(recipient, _) => Some(recipient.pid()),
            Kind::Resolved(_) => None,
        }
    }

    /// How the target is named in spans, events and dead letters.
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Fixed(recipient, _) => format!("{:?}", recipient.pid()),
            Kind::Resolved(resolver) => resolver.describe(),
        }
    }
}

pub(crate) fn gone_fixed() -> Failure {
    Failure::Gone(Cow::Borrowed("the referenced actor exited"))
}

struct Named<A, K> {
    registry: Registry<K>,
    name: K,
    actor: PhantomData<fn() -> A>,
}

impl<A, K, M> Resolve<M> for Named<A, K>
where
    A: Actor,
    M: Into<A::Msg> + Send + 'static,
    K: Hash + Eq + Clone + fmt::Debug + Send + Sync + 'static,
{
    fn resolve(&self) -> Result<Recipient<M>, Failure> {
        match self.registry.lookup::<A>(&self.name) {
            Ok(actor) => Ok(actor.recipient()),
            Err(LookupError::NotRegistered) => Err(Failure::NotRegistered),
            Err(LookupError::WrongType { .. }) => Err(Failure::Gone(Cow::Borrowed(
                "the name is held by an actor of another type",
            ))),
        }
    }

    fn describe(&self) -> String {
        format!("name {:?}", self.name)
    }
}

struct Child<A: Actor> {
    child: ChildRef<A>,
}

impl<A, M> Resolve<M> for Child<A>
where
    A: Actor,
    M: Into<A::Msg> + Send + 'static,
{
    fn resolve(&self) -> Result<Recipient<M>, Failure> {
        match self.child.resolve() {
            Ok(actor) => Ok(actor.recipient()),
            Err(ChildSendError::Restarting(()) | ChildSendError::Full(())) => {
                Err(Failure::Restarting)
            }
            Err(ChildSendError::NotRunning(())) => {
                Err(Failure::Gone(Cow::Borrowed("the child is stopped")))
            }
            Err(ChildSendError::Removed(())) => Err(Failure::Gone(Cow::Borrowed(
                "the child is no longer supervised",
            ))),
            Err(ChildSendError::WrongType(())) => Err(Failure::Gone(Cow::Borrowed(
                "the child is of another actor type",
            ))),
        }
    }

    fn describe(&self) -> String {
        format!("child {:?}", self.child.id())
    }
}
