//! Loom models of names and groups racing exits: every interleaving of a
//! registration (or a join) with the kill that ends its process.
//!
//! The actor starts dormant, so the kill finishes its exit on the killing
//! thread: by the time the killer is joined, the exit is published and
//! every exit hook has run. Whatever the interleaving, no name or
//! membership may outlive the process.

use loom::{future::block_on, thread};

use crate::{Actor, ActorRef, Context, ExitReason, ProcessGroups, RegisterError, Registry, start};

#[derive(Debug)]
struct Idle;

impl Actor for Idle {
    type Args = ();
    type Msg = ();
    type Error = std::convert::Infallible;

    async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Idle)
    }

    async fn handle(&mut self, (): (), _: &mut Context<Self>) -> Result<(), Self::Error> {
        Ok(())
    }
}

fn idle() -> ActorRef<Idle> {
    block_on(start::<Idle>(())).unwrap().0
}

fn kill_on_another_thread(actor: &ActorRef<Idle>) -> thread::JoinHandle<bool> {
    let actor = actor.clone();
    thread::spawn(move || actor.kill())
}

/// A registration racing the process's exit: the exit hook runs and
/// removes the name, or the registration fails because the process is
/// gone. Never a stale name.
#[test]
fn a_registration_racing_an_exit_leaves_no_stale_name() {
    loom::model(|| {
        let actor = idle();
        let names = Registry::new();
        let killer = kill_on_another_thread(&actor);
        let registered = names.register("name", &actor);
        assert!(killer.join().unwrap(), "the kill lands");
        assert_eq!(actor.exit_reason(), Some(ExitReason::Killed));
        assert!(
            matches!(registered, Ok(()) | Err(RegisterError::NoProcess("name"))),
            "{registered:?}"
        );
        assert_eq!(names.whereis("name"), None);
        assert!(names.is_empty(), "a name outlived its process");
    });
}

/// The same race for a group: the member is removed or never joins.
#[test]
fn a_join_racing_an_exit_leaves_no_stale_member() {
    loom::model(|| {
        let actor = idle();
        let groups: ProcessGroups<&str, ()> = ProcessGroups::new();
        let killer = kill_on_another_thread(&actor);
        let _joined = groups.join("group", &actor);
        assert!(killer.join().unwrap(), "the kill lands");
        assert!(groups.members("group").is_empty());
        assert!(groups.is_empty(), "a membership outlived its process");
    });
}

/// A name taken over from a holder that is exiting: the old holder's exit
/// hook, running after the takeover, must leave the new holder's name.
#[test]
fn an_exiting_holders_hook_leaves_its_successors_name() {
    loom::model(|| {
        let old = idle();
        let new = idle();
        let names = Registry::new();
        names.register("name", &old).unwrap();
        let killer = kill_on_another_thread(&old);
        let taken_over = names.register("name", &new);
        assert!(killer.join().unwrap(), "the kill lands");
        match taken_over {
            Ok(()) => assert_eq!(names.whereis("name"), Some(new.process_ref())),
            Err(RegisterError::Taken { holder, .. }) => {
                assert_eq!(holder, old.pid());
                assert!(names.is_empty(), "the old holder's name went with it");
            }
            Err(other) => panic!("{other:?}"),
        }
    });
}
