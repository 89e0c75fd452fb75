//! The recipient's side of ack mode: the [`Acked`] envelope, the
//! [`Handled`] guard that acknowledges, and [`Dedup`], the bounded memory
//! that recognises a resend after a lost acknowledgement.

use std::{
    collections::{VecDeque, hash_map::Entry},
    fmt,
    ops::{Deref, DerefMut},
};

use ahash::{AHashMap, AHashSet};
use foundation_mailbox::Reply;

use crate::sync::{Arc, AtomicU64, Ordering};

/// A message's identity across its resends: the producer that sent it and
/// its sequence number there. Every attempt of one ack-mode send carries
/// the same id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeliveryId {
    /// The producer's id, unique in the process.
    pub producer: u64,
    /// The message's number at its producer, from 1.
    pub seq: u64,
}

/// Numbers the messages of ack-mode sends, as Akka's reliable delivery
/// numbers a producer's messages: each send takes the next number and
/// keeps it across its resends. Sends use a process-wide producer unless
/// their options name one; a recipient's [`Dedup`] remembers a window of
/// numbers per producer, so a producer per stream of messages keeps the
/// windows dense.
///
/// ```
/// use foundation_supervised_send::Producer;
///
/// let orders = Producer::new();
/// assert_ne!(orders.id(), Producer::new().id());
/// ```
#[derive(Clone)]
pub struct Producer {
    inner: Arc<ProducerInner>,
}

struct ProducerInner {
    id: u64,
    next: AtomicU64,
}

impl fmt::Debug for Producer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("id", &self.inner.id)
            .field("next", &self.inner.next.load(Ordering::Relaxed))
            .finish()
    }
}

impl Default for Producer {
    fn default() -> Self {
        Self::new()
    }
}

impl Producer {
    /// A producer with an id no other producer in the process has.
    pub fn new() -> Self {
        static IDS: AtomicU64 = AtomicU64::new(1);
        Self {
            inner: Arc::new(ProducerInner {
                id: IDS.fetch_add(1, Ordering::Relaxed),
                next: AtomicU64::new(1),
            }),
        }
    }

    /// The producer's id.
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// The process-wide producer.
    pub(crate) fn shared() -> &'static Producer {
        static SHARED: std::sync::OnceLock<Producer> = std::sync::OnceLock::new();
        SHARED.get_or_init(Producer::new)
    }

    pub(crate) fn next_id(&self) -> DeliveryId {
        DeliveryId {
            producer: self.inner.id,
            seq: self.inner.next.fetch_add(1, Ordering::Relaxed),
        }
    }
}

/// What a recipient answers an ack-mode send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Receipt {
    /// The handler admitted the message and finished with it.
    Handled,
    /// The message was handled before (its acknowledgement was lost or
    /// late) and was not handled again.
    Duplicate,
    /// The recipient's [`Dedup`] window has moved past this message: it
    /// cannot tell whether it handled it, so it did not.
    Stale,
}

/// An ack-mode message as the recipient gets it: the message, its
/// [`DeliveryId`] and the port its acknowledgement goes back on.
///
/// The recipient's message type converts from it (`impl From<Acked<Charge>>
/// for Msg`), and its handler either passes it to [`Dedup::admit`]
/// (handled at most once however often it is resent) or calls
/// [`accept`](Self::accept) (at least once). Either gives a [`Handled`]
/// guard that acknowledges when the handler is done with it. Dropping an
/// `Acked` unadmitted acknowledges nothing: the sender sees
/// [`Failure::NoAck`](crate::Failure::NoAck) and may send it again.
pub struct Acked<M> {
    pub(crate) message: M,
    pub(crate) id: DeliveryId,
    pub(crate) port: Reply<Receipt>,
}

impl<M> fmt::Debug for Acked<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acked")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl<M> Acked<M> {
    /// The message's id.
    pub fn id(&self) -> DeliveryId {
        self.id
    }

    /// The message, to look at before admitting it.
    pub fn message(&self) -> &M {
        &self.message
    }

    /// Handles the message without deduplication: at least once, so a
    /// resend after a lost acknowledgement is handled again.
    pub fn accept(self) -> Handled<M> {
        Handled {
            message: self.message,
            ack: Ack {
                port: Some(self.port),
            },
        }
    }
}

/// An admitted message. Dereferences to it; acknowledges it as handled
/// when dropped, unless dropped by a panic's unwinding (then the sender
/// sees the recipient exit and may resend it).
#[must_use = "dropping it at once acknowledges a message the handler did not handle"]
pub struct Handled<M> {
    message: M,
    ack: Ack,
}

impl<M> fmt::Debug for Handled<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handled").finish_non_exhaustive()
    }
}

impl<M> Deref for Handled<M> {
    type Target = M;
    fn deref(&self) -> &M {
        &self.message
    }
}

impl<M> DerefMut for Handled<M> {
    fn deref_mut(&mut self) -> &mut M {
        &mut self.message
    }
}

impl<M> Handled<M> {
    /// The message, and the acknowledgement to drop once it is handled:
    /// for a handler that moves the message into its state or forwards it.
    pub fn into_parts(self) -> (M, Ack) {
        (self.message, self.ack)
    }
}

/// An acknowledgement waiting to be sent: it goes when dropped, unless a
/// panic is unwinding.
#[must_use = "dropped at once, it acknowledges before the work is done"]
pub struct Ack {
    port: Option<Reply<Receipt>>,
}

impl fmt::Debug for Ack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ack").finish_non_exhaustive()
    }
}

impl Drop for Ack {
    fn drop(&mut self) {
        let Some(port) = self.port.take() else {
            return;
        };
        if std::thread::panicking() {
            // Unanswered, the port tells the sender the actor is exiting.
            drop(port);
        } else {
            let _unheard = port.send(Receipt::Handled);
        }
    }
}

/// A recipient's memory of the messages it handled, per producer: what
/// makes ack mode's resends harmless.
///
/// It keeps, per producer, the last `window` sequence numbers it admitted
/// (in any order), and for at most `producers` producers, forgetting the
/// one heard from longest ago. A number at or below the highest number it
/// forgot, and not remembered, is answered
/// [`Receipt::Stale`] and not handled: the sender gets
/// [`Failure::Stale`](crate::Failure::Stale), a failure it can
/// dead-letter, never a silent second handling. The memory lives in the
/// actor's state, so it goes with a crash: a resend that reaches a
/// restarted incarnation is handled again (at least once).
///
/// ```
/// use foundation_supervised_send::Dedup;
///
/// let seen = Dedup::new(1024, 64);
/// assert_eq!(seen.len(), 0);
/// ```
#[derive(Debug)]
pub struct Dedup {
    window: usize,
    max_producers: usize,
    producers: AHashMap<u64, Seen>,
    clock: u64,
}

#[derive(Debug, Default)]
struct Seen {
    /// Numbers at or below this and not in `recent` were forgotten (or
    /// never came).
    floor: u64,
    /// The numbers remembered, for lookups...
    recent: AHashSet<u64>,
    /// ...and in the order they came, to forget the oldest first.
    order: VecDeque<u64>,
    last_heard: u64,
}

impl Default for Dedup {
    /// 1,024 numbers for each of up to 1,024 producers.
    fn default() -> Self {
        Self::new(1024, 1024)
    }
}

impl Dedup {
    /// A memory of `window` numbers for each of up to `producers`
    /// producers (each at least 1).
    pub fn new(window: usize, producers: usize) -> Self {
        Self {
            window: window.max(1),
            max_producers: producers.max(1),
            producers: AHashMap::new(),
            clock: 0,
        }
    }

    /// How many numbers it remembers, over all producers.
    pub fn len(&self) -> usize {
        self.producers.values().map(|seen| seen.recent.len()).sum()
    }

    /// Whether it remembers nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Admits a message seen for the first time, remembering its id, and
    /// gives it to the handler as a [`Handled`] guard; a message seen
    /// before is acknowledged as [`Receipt::Duplicate`] (or
    /// [`Receipt::Stale`]) here and `None` comes back.
    ///
    /// Admitting is handling: the id is remembered at once, so call it
    /// where the handler starts the work, and let the guard drop where the
    /// work ends.
    pub fn admit<M>(&mut self, acked: Acked<M>) -> Option<Handled<M>> {
        let Acked { message, id, port } = acked;
        match self.record(id) {
            None => Some(Handled {
                message,
                ack: Ack { port: Some(port) },
            }),
            Some(receipt) => {
                let _unheard = port.send(receipt);
                None
            }
        }
    }

    /// Remembers `id`; `None` if it is new, else what to answer.
    fn record(&mut self, id: DeliveryId) -> Option<Receipt> {
        self.clock += 1;
        let clock = self.clock;
        if !self.producers.contains_key(&id.producer) && self.producers.len() >= self.max_producers
        {
            self.forget_oldest_producer();
        }
        let seen = match self.producers.entry(id.producer) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert(Seen::default()),
        };
        seen.last_heard = clock;
        if seen.recent.contains(&id.seq) {
            return Some(Receipt::Duplicate);
        }
        if id.seq <= seen.floor {
            return Some(Receipt::Stale);
        }
        seen.recent.insert(id.seq);
        seen.order.push_back(id.seq);
        if seen.order.len() > self.window
            && let Some(oldest) = seen.order.pop_front()
        {
            seen.recent.remove(&oldest);
            // Forgetting a number forgets every number below it that has not
            // come: one that comes later is stale, never handled unknowingly
            // twice.
            seen.floor = seen.floor.max(oldest);
        }
        None
    }

    fn forget_oldest_producer(&mut self) {
        let oldest = self
            .producers
            .iter()
            .min_by_key(|(_, seen)| seen.last_heard)
            .map(|(producer, _)| *producer);
        if let Some(producer) = oldest {
            self.producers.remove(&producer);
        }
    }
}

#[cfg(test)]
mod tests;
