//! Kills racing activations on a two-worker runtime, many times over: the
//! hostile loop the review ran ("cast to an idle actor, then kill it"), with
//! a fixed number of rounds. Every kill must land: the actor exits, as
//! killed, exactly once, and its message is handled or dead-lettered.
//! `FOUNDATION_STRESS_ROUNDS` sets the number of rounds (default 20,000).

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use foundation_mailbox::{
    Actor, ActorOptions, Context, DeadLetter, DeadLetterSink, ExitReason, start_with,
};

/// How long one killed actor may take to exit before its kill counts as lost.
const LOST_AFTER: Duration = Duration::from_secs(5);

#[derive(Debug)]
struct Idle(Arc<AtomicUsize>);

impl Actor for Idle {
    type Args = Arc<AtomicUsize>;
    type Msg = ();
    type Error = std::convert::Infallible;

    async fn init(handled: Self::Args, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Idle(handled))
    }

    async fn handle(&mut self, (): (), _: &mut Context<Self>) -> Result<(), Self::Error> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

#[derive(Debug, Default)]
struct Dead(AtomicUsize);

impl DeadLetterSink for Dead {
    fn dead_letter(&self, _: DeadLetter) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_kills_racing_activations_all_land() {
    let rounds: usize = std::env::var("FOUNDATION_STRESS_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(20_000);
    let handled = Arc::new(AtomicUsize::new(0));
    let dead = Arc::new(Dead::default());
    let mut sent = 0;
    let mut lost = 0;
    for round in 0..rounds {
        let options = ActorOptions::new().dead_letters(dead.clone());
        let (actor, handle) = start_with::<Idle>(handled.clone(), options).await.unwrap();
        // Half the rounds kill right after the send, from the same task (the
        // review's loop); half race the send from another task.
        let killed = if round % 2 == 0 {
            sent += usize::from(actor.try_cast(()).is_ok());
            actor.kill()
        } else {
            let sender = {
                let actor = actor.clone();
                tokio::spawn(async move { actor.try_cast(()).is_ok() })
            };
            let killer = tokio::spawn(async move { actor.kill() });
            sent += usize::from(sender.await.unwrap());
            killer.await.unwrap()
        };
        assert!(killed, "nothing else ended the actor");
        match handle.wait(LOST_AFTER).await {
            Ok(reason) => assert_eq!(reason, ExitReason::Killed),
            Err(_) => lost += 1,
        }
    }
    assert_eq!(lost, 0, "kills lost out of {rounds}");
    assert_eq!(
        handled.load(Ordering::Relaxed) + dead.0.load(Ordering::Relaxed),
        sent,
        "every accepted message was handled or dead-lettered"
    );
}
