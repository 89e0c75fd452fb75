//! Loom models of the mailbox: every interleaving of the small cases.
//!
//! Run with `cargo xtask loom`. Each model drives [`Mailbox`] directly from
//! two or three loom threads. An actor here is whoever holds its
//! activation: the push that finds the mailbox dormant gets it and must
//! drain the mailbox until [`Mailbox::hibernate`] succeeds. A future that is
//! never woken, or a message left behind in a dormant mailbox, fails a model.

use std::future::poll_fn;

use loom::{
    future::block_on,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    thread,
};

use crate::{
    ExitReason,
    mailbox::{
        Activation, Batch, Hibernation, Kill, Mailbox, Overflow, PushError, Received, Signaled,
    },
    system::Signal,
    waiters::WaiterKey,
};

type Cell = Mailbox<u32, ()>;

/// Sends `value`, marked or not, without waiting: the activation if it
/// woke the actor, or the value back.
fn try_send(mailbox: &Cell, value: u32, marked: bool) -> Result<Option<Activation<()>>, u32> {
    match mailbox.try_push(value, |value| value, marked) {
        Ok((_, activation)) => Ok(activation),
        Err(PushError::Closed(value) | PushError::Full(value)) => Err(value),
    }
}

/// Sends `value`, waiting for room. `Err` gives it back when the mailbox
/// closed; `Ok` carries the activation if the push woke a dormant actor.
fn send(mailbox: &Cell, value: u32) -> Result<Option<Activation<()>>, u32> {
    let mut slot = Some(value);
    let mut key = WaiterKey::default();
    let outcome = block_on(poll_fn(|cx| {
        mailbox.poll_push(Some(cx), &mut slot, &mut key, |value| value, false)
    }));
    match outcome {
        Ok((_, activation)) => Ok(activation),
        Err(PushError::Closed(value) | PushError::Full(value)) => Err(value),
    }
}

/// Runs an activation as the message loop does: handles user messages,
/// skipping the look when its batch is out and the mailbox's quiet hint is
/// set; after its linger, looks again if the hint says something arrived,
/// and otherwise hibernates; until the mailbox is dormant.
fn drain(mailbox: &Cell, seen: &mut Vec<u32>) {
    let mut batch = Batch::default();
    loop {
        while !(batch.is_empty() && mailbox.is_quiet())
            && let Some(received) = mailbox.try_recv(&mut batch)
        {
            if let Received::User(value) = received {
                seen.push(value);
            }
        }
        if !mailbox.is_quiet()
            && let Some(received) = mailbox.try_recv(&mut batch)
        {
            if let Received::User(value) = received {
                seen.push(value);
            }
            continue;
        }
        match mailbox.hibernate(&mut batch, ()) {
            Hibernation::Dormant(_) | Hibernation::Killed((), _) => return,
            Hibernation::Refused((), Received::User(value)) => seen.push(value),
            Hibernation::Refused((), _) => {}
        }
    }
}

fn dormant_mailbox(capacity: u32) -> Arc<Cell> {
    let mailbox = Arc::new(Cell::new(capacity, Overflow::Backpressure));
    assert!(matches!(mailbox.start_dormant(()), Ok(None)));
    mailbox
}

/// Two senders push while whichever of them woke the actor runs it: every
/// message is handled exactly once and none is left in a dormant mailbox,
/// however a push races the receiver's hibernation.
#[test]
fn a_push_racing_hibernation_never_strands_a_message() {
    loom::model(|| {
        let mailbox = dormant_mailbox(4);
        let senders: Vec<_> = [1_u32, 2]
            .into_iter()
            .map(|value| {
                let mailbox = mailbox.clone();
                thread::spawn(move || {
                    let mut seen = Vec::new();
                    if let Ok(Some(_activation)) = send(&mailbox, value) {
                        drain(&mailbox, &mut seen);
                    }
                    seen
                })
            })
            .collect();
        let mut seen: Vec<u32> = senders
            .into_iter()
            .flat_map(|s| s.join().unwrap())
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, vec![1, 2]);
        assert!(
            mailbox.is_dormant(),
            "the actor ended dormant with nothing queued"
        );
    });
}

/// A sender that fills a one-slot mailbox is woken when the actor frees
/// room: no lost wakeup, order kept, across activations.
#[test]
fn a_full_mailbox_wakes_its_waiting_sender() {
    loom::model(|| {
        let mailbox = dormant_mailbox(1);
        let (activations, woken) = mpsc::channel();
        let sender = {
            let mailbox = mailbox.clone();
            thread::spawn(move || {
                for value in 1..=2 {
                    if let Some(activation) = send(&mailbox, value).unwrap() {
                        activations.send(activation).unwrap();
                    }
                }
            })
        };
        let mut seen = Vec::new();
        while seen.len() < 2 {
            let _activation = woken.recv().unwrap();
            drain(&mailbox, &mut seen);
        }
        sender.join().unwrap();
        assert_eq!(seen, vec![1, 2]);
    });
}

/// Once a system message has been pushed (and the actor knows it), the
/// actor's next message is that system message, even with user messages
/// waiting in its batch; if the actor went dormant first, the push woke it.
#[test]
fn the_system_lane_comes_first() {
    loom::model(|| {
        let mailbox = dormant_mailbox(8);
        assert!(send(&mailbox, 1).unwrap().is_some());
        assert!(send(&mailbox, 2).unwrap().is_none());
        let pushed = Arc::new(AtomicBool::new(false));
        let signaller = {
            let (mailbox, pushed) = (mailbox.clone(), pushed.clone());
            thread::spawn(move || {
                let Ok(Signaled::Queued(activation)) =
                    mailbox.push_signal(Signal::Stop(ExitReason::Normal), false)
                else {
                    panic!("a stop request to an open mailbox is queued");
                };
                pushed.store(true, Ordering::Release);
                // If the actor had gone dormant, this push woke it: its next
                // message must be the signal.
                activation.map(|_| {
                    let mut batch = Batch::default();
                    matches!(mailbox.try_recv(&mut batch), Some(Received::Stop(_)))
                })
            })
        };
        let mut batch = Batch::default();
        let mut system_seen = false;
        loop {
            let knew = pushed.load(Ordering::Acquire);
            let received = match mailbox.try_recv(&mut batch) {
                Some(received) => received,
                None => match mailbox.hibernate(&mut batch, ()) {
                    Hibernation::Refused((), received) => received,
                    Hibernation::Dormant(_) | Hibernation::Killed((), _) => break,
                },
            };
            match received {
                Received::Stop(_) => {
                    system_seen = true;
                    break;
                }
                Received::System(_) | Received::Timer(_) => panic!("no system message was sent"),
                Received::User(_) => {
                    assert!(!knew, "a user message overtook a pushed system message")
                }
            }
        }
        match signaller.join().unwrap() {
            Some(first_was_system) => assert!(first_was_system && !system_seen),
            None => assert!(
                system_seen,
                "the signal was neither handled nor woke the actor"
            ),
        }
    });
}

/// Closing the mailbox wakes a sender waiting for room and gives it its
/// message back.
#[test]
fn close_while_a_sender_waits() {
    loom::model(|| {
        let mailbox = dormant_mailbox(1);
        assert!(send(&mailbox, 1).unwrap().is_some());
        let sender = {
            let mailbox = mailbox.clone();
            thread::spawn(move || send(&mailbox, 2))
        };
        let leftovers = mailbox
            .close(ExitReason::Killed, false, false)
            .leftovers
            .expect("a close that does not publish hands back the lanes");
        mailbox.finish_exit();
        let refused = sender.join().unwrap();
        // The second message either got in before the close (and is a
        // leftover) or came back to its sender.
        let mut all: Vec<u32> = leftovers.map(|left| left.item).collect();
        if let Err(value) = refused {
            all.push(value);
        }
        all.sort_unstable();
        assert_eq!(all, vec![1, 2]);
    });
}

/// A kill racing the actor's hibernation ends the actor exactly once:
/// either the actor sees the kill, or the killer finds it dormant.
#[test]
fn a_kill_racing_hibernation_ends_the_actor_once() {
    loom::model(|| {
        let mailbox = dormant_mailbox(2);
        assert!(send(&mailbox, 1).unwrap().is_some());
        let killer = {
            let mailbox = mailbox.clone();
            thread::spawn(move || mailbox.kill(ExitReason::Killed))
        };
        let mut batch = Batch::default();
        while mailbox.try_recv(&mut batch).is_some() {}
        let actor_saw_kill = matches!(
            mailbox.hibernate(&mut batch, ()),
            Hibernation::Killed((), _)
        );
        let killer_found_dormant = match killer.join().unwrap() {
            Kill::Dormant((), _) => true,
            Kill::Pending => false,
            Kill::Aborted | Kill::AlreadyExiting => panic!("no task handle and not exiting"),
        };
        assert!(
            actor_saw_kill != killer_found_dormant,
            "the kill must land exactly once"
        );
    });
}

/// A stop that claims a dormant actor's state races a push. The pushed
/// message is handled by the activation the push started, or dead-lettered
/// by the stop's close, or refused because the mailbox had closed: exactly
/// one of the three. A claim only ever finds the state while no activation
/// holds it, so if both the push and the stop got the state, the activation
/// had already handled the message and gone dormant.
#[test]
fn an_inline_stop_racing_a_push_accounts_for_the_message_once() {
    loom::model(|| {
        let mailbox = dormant_mailbox(2);
        let pusher = {
            let mailbox = mailbox.clone();
            thread::spawn(move || match send(&mailbox, 1) {
                Ok(Some(_activation)) => {
                    let mut seen = Vec::new();
                    drain(&mailbox, &mut seen);
                    (true, seen, false)
                }
                Ok(None) => (false, Vec::new(), false),
                Err(_) => (false, Vec::new(), true),
            })
        };
        let stopper_claimed = matches!(mailbox.claim_for_stop(), Ok(Some(())));
        let mut dead_letters = Vec::new();
        if stopper_claimed
            && let Some(leftovers) = mailbox.close(ExitReason::Normal, false, false).leftovers
        {
            dead_letters.extend(leftovers.map(|left| left.item));
            mailbox.finish_exit();
        }
        let (activated, handled, refused) = pusher.join().unwrap();
        assert_eq!(
            handled.len() + dead_letters.len() + usize::from(refused),
            1,
            "the message is handled, dead-lettered or refused, once"
        );
        if activated && stopper_claimed {
            assert_eq!(
                handled,
                vec![1],
                "the claim came after the activation went dormant"
            );
        }
        if !stopper_claimed {
            assert!(
                activated,
                "a stop that finds no dormant state left it with an activation"
            );
        }
    });
}

/// An exit watcher is woken with the reason, whichever runs first.
#[test]
fn an_exit_watcher_sees_the_reason() {
    loom::model(|| {
        let mailbox = dormant_mailbox(1);
        let watcher = {
            let mailbox = mailbox.clone();
            thread::spawn(move || {
                let mut key = WaiterKey::default();
                block_on(poll_fn(|cx| mailbox.poll_exit(cx, &mut key)))
            })
        };
        if mailbox
            .close(ExitReason::panic("boom"), false, true)
            .leftovers
            .is_some()
        {
            mailbox.finish_exit();
        }
        assert_eq!(watcher.join().unwrap(), ExitReason::panic("boom"));
    });
}

/// A marked push (a call) racing a receiver that takes one message and
/// exits: whatever is left over carries its own mark, so a call is never
/// dead-lettered as a cast nor a cast as a call.
#[test]
fn a_leftover_keeps_its_mark_whatever_the_race() {
    loom::model(|| {
        let mailbox = dormant_mailbox(4);
        assert!(try_send(&mailbox, 1, false).unwrap().is_some());
        let sender = {
            let mailbox = mailbox.clone();
            thread::spawn(move || {
                let call = try_send(&mailbox, 2, true).is_ok();
                let cast = try_send(&mailbox, 3, false).is_ok();
                (call, cast)
            })
        };
        let mut batch = Batch::default();
        let first = mailbox.try_recv(&mut batch);
        assert!(matches!(first, Some(Received::User(1))));
        mailbox.unreceive(&mut batch);
        let leftovers: Vec<(u32, bool)> = mailbox
            .close(ExitReason::Normal, false, false)
            .leftovers
            .expect("the first close hands back the lane")
            .map(|left| (left.item, left.marked))
            .collect();
        mailbox.finish_exit();
        let (call, cast) = sender.join().unwrap();
        let mut expected = Vec::new();
        if call {
            expected.push((2, true));
        }
        if cast {
            expected.push((3, false));
        }
        assert_eq!(leftovers, expected, "each leftover with its own mark");
    });
}

/// A dead-letter sink that counts what it gets, for the models that drive
/// whole actors.
#[derive(Debug)]
struct Dead(Arc<loom::sync::atomic::AtomicUsize>);

impl crate::DeadLetterSink for Dead {
    fn dead_letter(&self, _: crate::DeadLetter) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

mod activation;
mod called;
mod exit_handoff;
mod handoff;
