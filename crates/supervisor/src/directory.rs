//! A supervisor's children as callers see them without a round trip: for
//! each child, a slot holding its current incarnation that the supervisor
//! updates the moment it changes, and that readers can wait on.
//!
//! The supervisor holds each slot's [`Publisher`] beside the child; the
//! [`Directory`] and every [`ChildRef`](crate::ChildRef) hold
//! [`Subscriber`]s. A child deleted from its supervisor, or a supervisor
//! that exits in any way (a kill included, which drops its state), drops
//! the publisher, and every reader sees the slot closed.
//!
//! A slot is one lock around the incarnation and a [`Notify`] for the
//! readers waiting on a change. It was a `tokio::sync::watch` channel,
//! whose sender wakes eight notifier shards on every change and whose
//! readers are cloned for each look: most of a restart's atomic operations
//! (`docs/supervision.md`, "A restart at about 0.6 ×").

use std::{
    any::TypeId,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use foundation_mailbox::ProcessRef;
use tokio::sync::Notify;

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

/// One child's slot.
#[derive(Debug)]
struct Slot {
    state: Mutex<SlotState>,
    /// Woken after every change, and when the publisher goes.
    changed: Notify,
}

#[derive(Debug)]
struct SlotState {
    incarnation: Incarnation,
    /// How many changes were published: a reader compares it with the last
    /// it saw.
    version: u64,
    /// The publisher is gone: no change will come.
    closed: bool,
}

impl Slot {
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The supervisor's end of one child's slot.
#[derive(Debug)]
pub(crate) struct Publisher(Arc<Slot>);

impl Publisher {
    pub(crate) fn new() -> Self {
        Self(Arc::new(Slot {
            state: Mutex::new(SlotState {
                incarnation: Incarnation::Stopped,
                version: 0,
                closed: false,
            }),
            changed: Notify::new(),
        }))
    }

    /// Publishes `incarnation`, waking the readers waiting for a change
    /// only if it is one.
    pub(crate) fn set(&self, incarnation: Incarnation) {
        let previous = {
            let mut state = self.0.lock();
            if state.incarnation.same_as(&incarnation) {
                return;
            }
            state.version += 1;
            std::mem::replace(&mut state.incarnation, incarnation)
        };
        drop(previous);
        self.0.changed.notify_waiters();
    }

    /// A reader that has seen the current incarnation.
    pub(crate) fn subscribe(&self) -> Subscriber {
        let seen = self.0.lock().version;
        Subscriber {
            slot: Arc::clone(&self.0),
            seen,
        }
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.0.lock().closed = true;
        self.0.changed.notify_waiters();
    }
}

/// A reader of one child's slot: reads the incarnation, and waits for the
/// next change after the last one it marked seen.
#[derive(Clone, Debug)]
pub(crate) struct Subscriber {
    slot: Arc<Slot>,
    seen: u64,
}

/// The slot's publisher is gone: the child was deleted, or its supervisor
/// exited.
#[derive(Debug)]
pub(crate) struct Closed;

impl Subscriber {
    /// Reads the incarnation (`None` once the slot is closed) without
    /// marking it seen.
    pub(crate) fn read<R>(&self, read: impl FnOnce(Option<&Incarnation>) -> R) -> R {
        let state = self.slot.lock();
        read((!state.closed).then_some(&state.incarnation))
    }

    /// Reads the incarnation as [`read`](Self::read) does, and marks it
    /// seen: the next [`changed`](Self::changed) waits for the one after.
    pub(crate) fn read_and_mark<R>(&mut self, read: impl FnOnce(Option<&Incarnation>) -> R) -> R {
        let state = self.slot.lock();
        self.seen = state.version;
        read((!state.closed).then_some(&state.incarnation))
    }

    /// Waits until an incarnation this reader has not marked seen is
    /// published (`Ok`), or the slot closes. Cancel-safe: a dropped wait
    /// leaves nothing registered.
    pub(crate) async fn changed(&mut self) -> Result<(), Closed> {
        loop {
            // Created before the look, so a change published after the look
            // wakes it.
            let notified = self.slot.changed.notified();
            {
                let state = self.slot.lock();
                if state.closed {
                    return Err(Closed);
                }
                if state.version != self.seen {
                    self.seen = state.version;
                    return Ok(());
                }
            }
            notified.await;
        }
    }
}

/// One child in the directory.
#[derive(Debug)]
struct Entry {
    id: Arc<str>,
    actor_type: Option<ActorType>,
    incarnation: Subscriber,
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
    /// seen it exit, or once the supervisor is gone. Read in place: no
    /// reader is cloned for the look.
    pub(crate) fn whereis(&self, id: &str) -> Option<ProcessRef> {
        let entries = self.entries();
        let entry = entries.iter().find(|entry| &*entry.id == id)?;
        entry.incarnation.read(|incarnation| match incarnation {
            Some(Incarnation::Running(process)) => Some(process.clone()),
            Some(Incarnation::Restarting | Incarnation::Stopped) | None => None,
        })
    }

    /// Child `id`'s declared actor type and a reader of its slot.
    pub(crate) fn slot(&self, id: &str) -> Option<(Option<ActorType>, Subscriber)> {
        let entries = self.entries();
        let entry = entries.iter().find(|entry| &*entry.id == id)?;
        Some((entry.actor_type, entry.incarnation.clone()))
    }

    fn entries(&self) -> MutexGuard<'_, Vec<Entry>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Lists the children (id, declared type, publisher), in start order,
    /// after children were added or removed.
    pub(crate) fn list<'a>(
        &self,
        children: impl Iterator<Item = (Arc<str>, Option<ActorType>, &'a Publisher)>,
    ) {
        let mut entries = self.entries();
        entries.clear();
        entries.extend(children.map(|(id, actor_type, publisher)| Entry {
            id,
            actor_type,
            incarnation: publisher.subscribe(),
        }));
    }
}

#[cfg(all(test, not(foundation_loom)))]
mod tests {
    use std::{
        sync::{
            Arc,
            atomic::{AtomicUsize, Ordering},
        },
        task::{Context, Poll, Wake, Waker},
        time::Duration,
    };

    use foundation_mailbox::start;
    use futures::FutureExt;

    use super::{Incarnation, Publisher};
    use crate::dynamic::tests::Crasher;

    /// A waker that counts its wakes.
    fn counting_waker() -> (Arc<AtomicUsize>, Waker) {
        struct Count(Arc<AtomicUsize>);
        impl Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let count = Arc::new(AtomicUsize::new(0));
        (Arc::clone(&count), Waker::from(Arc::new(Count(count))))
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_reader_waits_for_the_change_after_the_one_it_marked_seen() {
        let (actor, _handle) = start::<Crasher>(()).await.expect("starts");
        let publisher = Publisher::new();
        let mut reader = publisher.subscribe();
        assert!(reader.changed().now_or_never().is_none(), "nothing new yet");
        publisher.set(Incarnation::Running(actor.process_ref()));
        // The same incarnation again is no change.
        publisher.set(Incarnation::Running(actor.process_ref()));
        assert!(matches!(reader.changed().now_or_never(), Some(Ok(()))));
        assert!(reader.changed().now_or_never().is_none(), "marked seen");
        publisher.set(Incarnation::Restarting);
        let restarting = reader.read_and_mark(|seen| matches!(seen, Some(Incarnation::Restarting)));
        assert!(restarting);
        assert!(
            reader.changed().now_or_never().is_none(),
            "marked by the read"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_publisher_that_goes_closes_the_slot_for_waiting_readers() {
        let publisher = Publisher::new();
        let mut reader = publisher.subscribe();
        let mut waiting = Box::pin(reader.changed());
        assert!((&mut waiting).now_or_never().is_none());
        drop(publisher);
        let woken = tokio::time::timeout(Duration::from_secs(10), waiting).await;
        assert!(matches!(woken, Ok(Err(super::Closed))), "{woken:?}");
        assert!(reader.read(|seen| seen.is_none()), "closed");
    }

    /// A reader parked on the slot is woken by the next change, and only
    /// then finds it.
    #[test]
    fn a_change_wakes_the_reader_parked_on_the_slot() {
        let (count, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let publisher = Publisher::new();
        let mut reader = publisher.subscribe();
        let mut waiting = Box::pin(reader.changed());
        assert!(waiting.as_mut().poll(&mut cx).is_pending());
        assert_eq!(count.load(Ordering::SeqCst), 0);
        publisher.set(Incarnation::Restarting);
        assert_eq!(count.load(Ordering::SeqCst), 1, "woken");
        assert!(matches!(
            waiting.as_mut().poll(&mut cx),
            Poll::Ready(Ok(()))
        ));
    }

    /// A wait dropped while parked (a `ChildRef` call that timed out
    /// during a restart) leaves no waker behind for the next change to
    /// wake, and the reader's next wait still sees that change.
    #[test]
    fn a_dropped_wait_leaves_nothing_for_the_next_change_to_wake() {
        let (count, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let publisher = Publisher::new();
        let mut reader = publisher.subscribe();
        {
            let mut waiting = Box::pin(reader.changed());
            assert!(waiting.as_mut().poll(&mut cx).is_pending());
        }
        publisher.set(Incarnation::Restarting);
        assert_eq!(
            count.load(Ordering::SeqCst),
            0,
            "the dropped wait was woken"
        );
        assert!(matches!(reader.changed().now_or_never(), Some(Ok(()))));
    }

    /// A change published between a reader's look and its wait wakes it:
    /// 2,000 changes, each raced by the reader's next wait on another
    /// worker, each seen within the patience.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_change_slips_between_a_readers_look_and_its_wait() {
        let publisher = Arc::new(Publisher::new());
        let mut reader = publisher.subscribe();
        let (ready, mut readied) = tokio::sync::mpsc::unbounded_channel();
        let writer = {
            let publisher = Arc::clone(&publisher);
            tokio::spawn(async move {
                for round in 0..2_000u32 {
                    readied.recv().await.expect("the reader goes on");
                    publisher.set(if round % 2 == 0 {
                        Incarnation::Restarting
                    } else {
                        Incarnation::Stopped
                    });
                }
            })
        };
        for _ in 0..2_000 {
            ready.send(()).expect("the writer goes on");
            tokio::time::timeout(Duration::from_secs(10), reader.changed())
                .await
                .expect("the change wakes the reader")
                .expect("open");
        }
        writer.await.expect("the writer ends");
    }
}
