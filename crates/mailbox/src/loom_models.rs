//! Loom models of the mailbox: every interleaving of the small cases.
//!
//! Run with `cargo xtask loom`. Each model drives [`Mailbox`] directly from
//! two or three loom threads, with loom's `block_on` standing in for the
//! runtime: a future that is never woken shows up as a deadlock.

use std::{collections::VecDeque, future::poll_fn, task::Poll};

use loom::{
    future::block_on,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
};

use crate::{
    ExitReason,
    mailbox::{Mailbox, Overflow, PushError, Received},
    system::Signal,
    waiters::WaiterKey,
};

/// Sends `value`, waiting for room. `Err` gives it back when the mailbox closed.
fn send(mailbox: &Mailbox<u32>, value: u32) -> Result<(), u32> {
    let mut slot = Some(value);
    let mut key = WaiterKey::default();
    let outcome = block_on(poll_fn(|cx| {
        mailbox.poll_push(Some(cx), &mut slot, &mut key, |value| value)
    }));
    match outcome {
        Ok(_) => Ok(()),
        Err(PushError::Closed(value) | PushError::Full(value)) => Err(value),
    }
}

fn receive(mailbox: &Mailbox<u32>, batch: &mut VecDeque<u32>) -> Received<u32> {
    block_on(poll_fn(|cx| mailbox.poll_recv(cx, batch)))
}

fn try_receive(mailbox: &Mailbox<u32>, batch: &mut VecDeque<u32>) -> Option<Received<u32>> {
    block_on(poll_fn(|cx| {
        Poll::Ready(match mailbox.poll_recv(cx, batch) {
            Poll::Ready(received) => Some(received),
            Poll::Pending => None,
        })
    }))
}

/// Two senders race a receiver that closes the mailbox after one message:
/// every message is received, handed back to its sender, or left over for
/// dead letters; none is lost or duplicated.
#[test]
fn concurrent_senders_with_the_receiver_closing() {
    loom::model(|| {
        let mailbox = Arc::new(Mailbox::<u32>::new(4, Overflow::Backpressure));
        let senders: Vec<_> = [1_u32, 2]
            .into_iter()
            .map(|value| {
                let mailbox = mailbox.clone();
                thread::spawn(move || send(&mailbox, value).err())
            })
            .collect();
        let mut batch = VecDeque::new();
        let mut seen = Vec::new();
        if let Received::User(value) = receive(&mailbox, &mut batch) {
            seen.push(value);
        }
        let leftovers = mailbox.close(ExitReason::Normal);
        seen.extend(batch.drain(..));
        seen.extend(leftovers.user);
        mailbox.finish_exit();
        for sender in senders {
            if let Some(refused) = sender.join().unwrap() {
                seen.push(refused);
            }
        }
        seen.sort_unstable();
        assert_eq!(seen, vec![1, 2]);
    });
}

/// A sender that fills a one-slot mailbox is woken when the receiver frees
/// room: no lost wakeup, and the order is kept.
#[test]
fn a_full_mailbox_wakes_its_waiting_sender() {
    loom::model(|| {
        let mailbox = Arc::new(Mailbox::<u32>::new(1, Overflow::Backpressure));
        let sender = {
            let mailbox = mailbox.clone();
            thread::spawn(move || {
                for value in 1..=3 {
                    assert_eq!(send(&mailbox, value), Ok(()));
                }
            })
        };
        let mut batch = VecDeque::new();
        let mut seen = Vec::new();
        while seen.len() < 3 {
            if let Received::User(value) = receive(&mailbox, &mut batch) {
                seen.push(value);
            }
        }
        sender.join().unwrap();
        assert_eq!(seen, vec![1, 2, 3]);
    });
}

/// Once a system message has been pushed (and the receiver knows it), the
/// receiver's next message is that system message, even with user messages
/// waiting in its batch.
#[test]
fn the_system_lane_comes_first() {
    loom::model(|| {
        let mailbox = Arc::new(Mailbox::<u32>::new(8, Overflow::Backpressure));
        for value in 1..=3 {
            assert_eq!(send(&mailbox, value), Ok(()));
        }
        let pushed = Arc::new(AtomicBool::new(false));
        let signaller = {
            let (mailbox, pushed) = (mailbox.clone(), pushed.clone());
            thread::spawn(move || {
                assert!(
                    mailbox
                        .push_signal(Signal::Stop(ExitReason::Normal))
                        .is_ok()
                );
                pushed.store(true, Ordering::Release);
            })
        };
        let mut batch = VecDeque::new();
        let mut system_seen = false;
        let mut users = 0;
        while !system_seen {
            let knew = pushed.load(Ordering::Acquire);
            match receive(&mailbox, &mut batch) {
                Received::System(_) => system_seen = true,
                Received::User(_) => {
                    assert!(!knew, "a user message overtook a pushed system message");
                    users += 1;
                }
            }
        }
        assert!(users <= 3);
        signaller.join().unwrap();
    });
}

/// Closing the mailbox wakes a sender waiting for room and gives it its
/// message back.
#[test]
fn close_while_a_sender_waits() {
    loom::model(|| {
        let mailbox = Arc::new(Mailbox::<u32>::new(1, Overflow::Backpressure));
        assert_eq!(send(&mailbox, 1), Ok(()));
        let sender = {
            let mailbox = mailbox.clone();
            thread::spawn(move || send(&mailbox, 2))
        };
        let leftovers = mailbox.close(ExitReason::Killed);
        mailbox.finish_exit();
        let refused = sender.join().unwrap();
        // The second message either got in before the close (and is a
        // leftover) or came back to its sender.
        let mut all: Vec<u32> = leftovers.user.into_iter().collect();
        if let Err(value) = refused {
            all.push(value);
        }
        all.sort_unstable();
        assert_eq!(all, vec![1, 2]);
    });
}

/// An exit watcher is woken with the reason, whichever runs first.
#[test]
fn an_exit_watcher_sees_the_reason() {
    loom::model(|| {
        let mailbox = Arc::new(Mailbox::<u32>::new(1, Overflow::Backpressure));
        let watcher = {
            let mailbox = mailbox.clone();
            thread::spawn(move || {
                let mut key = WaiterKey::default();
                block_on(poll_fn(|cx| mailbox.poll_exit(cx, &mut key)))
            })
        };
        let mut batch = VecDeque::new();
        assert!(try_receive(&mailbox, &mut batch).is_none());
        drop(mailbox.close(ExitReason::panic("boom")));
        mailbox.finish_exit();
        assert_eq!(watcher.join().unwrap(), ExitReason::panic("boom"));
    });
}
