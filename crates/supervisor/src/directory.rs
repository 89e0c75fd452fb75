//! A supervisor's children as callers see them without a round trip: for
//! each child, a slot holding its current incarnation that the supervisor
//! updates the moment it changes, and that readers can wait on.
//!
//! Each slot is a `tokio::sync::watch` channel. The supervisor holds the
//! sending end beside the child; the [`Directory`] and every
//! [`ChildRef`](crate::ChildRef) hold receiving ends. A child deleted from
//! its supervisor, or a supervisor that exits in any way (a kill included,
//! which drops its state), drops the sending end, and every reader sees the
//! slot closed.

use std::{
    any::TypeId,
    sync::{Arc, Mutex, PoisonError},
};

use foundation_mailbox::ProcessRef;
use tokio::sync::watch;

/// A child's current incarnation, as its supervisor last published it.
#[derive(Clone, Debug)]
pub(crate) enum Incarnation {
    /// Running as this process.
    Running(ProcessRef),
    /// Exited, or taken down with a sibling, and about to be started again,
    /// or its restart failed and is being retried.
    Restarting,
    /// Not running and not coming back by itself: terminated, or exited and
    /// not restarted by its restart type.
    Stopped,
}

impl Incarnation {
    fn same_as(&self, other: &Incarnation) -> bool {
        match (self, other) {
            (Self::Running(mine), Self::Running(theirs)) => mine.pid() == theirs.pid(),
            (Self::Restarting, Self::Restarting) | (Self::Stopped, Self::Stopped) => true,
            _ => false,
        }
    }
}

/// The actor type a child spec starts, when the spec says (an actor spec
/// does; a custom start function returning a bare process does not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ActorType {
    id: TypeId,
    pub(crate) name: &'static str,
}

impl ActorType {
    pub(crate) fn of<A: 'static>() -> Self {
        Self {
            id: TypeId::of::<A>(),
            name: std::any::type_name::<A>(),
        }
    }
}

/// The supervisor's end of one child's slot.
#[derive(Debug)]
pub(crate) struct Publisher(watch::Sender<Incarnation>);

impl Publisher {
    pub(crate) fn new() -> Self {
        Self(watch::Sender::new(Incarnation::Stopped))
    }

    /// Publishes `incarnation`, waking the readers waiting for a change
    /// only if it is one.
    pub(crate) fn set(&self, incarnation: Incarnation) {
        self.0.send_if_modified(|current| {
            if current.same_as(&incarnation) {
                return false;
            }
            *current = incarnation;
            true
        });
    }

    fn subscribe(&self) -> watch::Receiver<Incarnation> {
        self.0.subscribe()
    }
}

/// One child in the directory.
#[derive(Debug)]
struct Entry {
    id: Arc<str>,
    actor_type: Option<ActorType>,
    incarnation: watch::Receiver<Incarnation>,
}

/// A supervisor's children by id, each with the slot holding its current
/// incarnation, so [`SupervisorRef::whereis`](crate::SupervisorRef::whereis)
/// and [`SupervisorRef::child_ref`](crate::SupervisorRef::child_ref) read
/// them without a round trip (Erlang's registered names, scoped to one
/// supervisor). Opaque.
#[derive(Debug, Default)]
pub struct Directory(Mutex<Vec<Entry>>);

impl Directory {
    /// The running process of child `id`: `None` once its supervisor has
    /// seen it exit, or once the supervisor is gone.
    pub(crate) fn whereis(&self, id: &str) -> Option<ProcessRef> {
        let (_, incarnation) = self.slot(id)?;
        if incarnation.has_changed().is_err() {
            return None;
        }
        match &*incarnation.borrow() {
            Incarnation::Running(process) => Some(process.clone()),
            Incarnation::Restarting | Incarnation::Stopped => None,
        }
    }

    /// Child `id`'s declared actor type and its slot.
    pub(crate) fn slot(
        &self,
        id: &str,
    ) -> Option<(Option<ActorType>, watch::Receiver<Incarnation>)> {
        let entries = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.iter().find(|entry| &*entry.id == id)?;
        Some((entry.actor_type, entry.incarnation.clone()))
    }

    /// Lists the children (id, declared type, publisher), in start order,
    /// after children were added or removed.
    pub(crate) fn list<'a>(
        &self,
        children: impl Iterator<Item = (Arc<str>, Option<ActorType>, &'a Publisher)>,
    ) {
        let mut entries = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        entries.clear();
        entries.extend(children.map(|(id, actor_type, publisher)| Entry {
            id,
            actor_type,
            incarnation: publisher.subscribe(),
        }));
    }
}
