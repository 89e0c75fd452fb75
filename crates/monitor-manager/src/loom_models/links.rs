//! Loom models of the link protocol: the shipped `link_sides` and `unlink_sides` on stand-in processes.

use foundation_mailbox::ExitReason;
use loom::thread;

use super::stand_in::StandIn;
use crate::{
    LinkError,
    exits::Exits,
    link::{is_linked, link_sides, unlink_sides},
};

fn pair() -> [StandIn; 2] {
    [StandIn::new(), StandIn::new()]
}

/// Exits `process` with `Killed` on a thread of its own.
fn spawn_exit(process: &StandIn) -> thread::JoinHandle<()> {
    let process = process.clone();
    thread::spawn(move || process.exit(ExitReason::Killed))
}

/// A link made while one side exits either fails with that side's
/// `NoProcess` and leaves nothing on the other, or succeeds and the other
/// side gets exactly one exit signal; either way no hook is left on the
/// live side.
#[test]
fn a_link_made_while_a_side_exits_signals_once_or_fails_cleanly() {
    loom::model(|| {
        let sides = pair();
        let [a, b] = &sides;
        let exiting = spawn_exit(a);
        let linked = link_sides(&sides);
        exiting.join().unwrap();
        match &linked {
            Ok(shared) => {
                assert_eq!(b.signals(), vec![(a.pid(), ExitReason::Killed, true)]);
                assert!(!is_linked(shared), "the exit ended the link");
            }
            Err(error) => {
                assert_eq!(*error, LinkError::NoProcess(a.pid()));
                assert_eq!(b.signals(), vec![]);
            }
        }
        assert_eq!(b.hooks_left(), 0, "a hook left on the live side");
    });
}

/// An unlink racing one side's exit: exactly one of them wins (the unlink
/// returns `true`, or the other side is signalled), and no hook is left on
/// the live side.
#[test]
fn an_unlink_racing_an_exit_either_unlinks_or_signals() {
    loom::model(|| {
        let sides = pair();
        let [a, b] = &sides;
        let shared = link_sides(&sides).expect("both sides live");
        let exiting = spawn_exit(a);
        let unlinked = unlink_sides(&sides, &shared);
        exiting.join().unwrap();
        let signalled = b.signals().len();
        assert_eq!(
            usize::from(unlinked) + signalled,
            1,
            "unlinked: {unlinked}, signals: {signalled}"
        );
        assert_eq!(b.hooks_left(), 0, "a hook left on the live side");
        assert!(!is_linked(&shared));
    });
}

/// Both sides exiting at once: the link fires once, whichever side is
/// first, even when both hooks already run and neither can cancel the other.
#[test]
fn both_sides_exiting_together_fire_the_link_once() {
    loom::model(|| {
        let sides = pair();
        let [a, b] = &sides;
        let shared = link_sides(&sides).expect("both sides live");
        let a_exits = spawn_exit(a);
        let b_exits = spawn_exit(b);
        a_exits.join().unwrap();
        b_exits.join().unwrap();
        let sent = a.signals().len() + b.signals().len();
        assert_eq!(sent, 1, "the link fired {sent} times");
        assert!(!is_linked(&shared));
        assert_eq!(a.hooks_left() + b.hooks_left(), 0);
    });
}
