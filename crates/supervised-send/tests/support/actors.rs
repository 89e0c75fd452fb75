//! The actor the tests send to: it records what it handled, can be held
//! in its handler, can panic on command, and admits ack-mode messages
//! with or without deduplication.

#![allow(dead_code)] // each test file uses a part of it

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use foundation_mailbox::{Actor, Context, Pid, Reply};
use foundation_supervised_send::{Ack, Acked, Dedup};
use tokio::sync::oneshot;

/// How the recorder treats ack-mode messages.
#[derive(Clone, Debug, Default)]
pub(crate) struct Behaviour {
    /// Panics in the handler of this many ack-mode messages, then stops.
    pub(crate) panics: Arc<AtomicU32>,
    /// Keeps the acknowledgement of this many admitted messages forever,
    /// as if the network had lost it.
    pub(crate) lose_acks: Arc<AtomicU32>,
    /// Admit through a `Dedup` (else `Acked::accept`).
    pub(crate) dedup: bool,
    /// Where every incarnation writes what it handled, with its pid.
    pub(crate) log: Arc<Mutex<Vec<(Pid, u64)>>>,
}

impl Behaviour {
    pub(crate) fn handled(&self) -> Vec<u64> {
        self.log.lock().unwrap().iter().map(|(_, n)| *n).collect()
    }

    pub(crate) fn handlers(&self) -> Vec<Pid> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .map(|(pid, _)| *pid)
            .collect()
    }
}

#[derive(Debug)]
pub(crate) enum Rec {
    Item(u64),
    Credit(Acked<u64>),
    /// Holds the handler until the sender fires or drops.
    Gate(oneshot::Receiver<()>),
    Handled(Reply<Vec<u64>>),
}

impl From<u64> for Rec {
    fn from(n: u64) -> Self {
        Rec::Item(n)
    }
}

impl From<Acked<u64>> for Rec {
    fn from(acked: Acked<u64>) -> Self {
        Rec::Credit(acked)
    }
}

#[derive(Debug)]
pub(crate) struct Recorder {
    behaviour: Behaviour,
    seen: Dedup,
    handled: Vec<u64>,
    lost: Vec<Ack>,
}

impl Recorder {
    fn record(&mut self, pid: Pid, n: u64) {
        self.handled.push(n);
        self.behaviour.log.lock().unwrap().push((pid, n));
    }
}

fn take_one(counter: &AtomicU32) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

impl Actor for Recorder {
    type Args = Behaviour;
    type Msg = Rec;
    type Error = std::convert::Infallible;

    async fn init(behaviour: Behaviour, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Recorder {
            behaviour,
            seen: Dedup::new(8, 4),
            handled: Vec::new(),
            lost: Vec::new(),
        })
    }

    async fn handle(&mut self, msg: Rec, ctx: &mut Context<Self>) -> Result<(), Self::Error> {
        match msg {
            Rec::Item(n) => self.record(ctx.pid(), n),
            Rec::Credit(acked) => {
                let handled = if self.behaviour.dedup {
                    self.seen.admit(acked)
                } else {
                    Some(acked.accept())
                };
                let Some(handled) = handled else {
                    return Ok(());
                };
                if take_one(&self.behaviour.panics) {
                    panic!("asked to panic while handling {}", *handled);
                }
                let (n, ack) = handled.into_parts();
                self.record(ctx.pid(), n);
                if take_one(&self.behaviour.lose_acks) {
                    self.lost.push(ack);
                }
            }
            Rec::Gate(open) => {
                let _ = tokio::time::timeout(Duration::from_secs(3600), open).await;
            }
            Rec::Handled(reply) => {
                let _ = reply.send(self.handled.clone());
            }
        }
        Ok(())
    }
}
