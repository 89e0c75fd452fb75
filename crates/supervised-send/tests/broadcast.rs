//! Broadcast strategies, and what all-or-nothing does and does not promise.

#[path = "support/actors.rs"]
mod actors;

use std::{
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use actors::{Behaviour, Rec, Recorder};
use foundation_mailbox::{ActorOptions, ActorRef, ExitReason, Recipient, start_with};
use foundation_supervised_send::{
    ErrorClass, Failure, Outcome, Resolve, SendOptions, SendStats, Strategy, Target,
    broadcast_supervised,
};

async fn recorders(n: usize) -> Vec<(ActorRef<Recorder>, Behaviour)> {
    let mut all = Vec::new();
    for _ in 0..n {
        let behaviour = Behaviour::default();
        let (recorder, _handle) = start_with::<Recorder>(behaviour.clone(), ActorOptions::new())
            .await
            .unwrap();
        all.push((recorder, behaviour));
    }
    all
}

async fn handled(recorder: &ActorRef<Recorder>) -> Vec<u64> {
    if !recorder.is_alive() {
        return Vec::new();
    }
    recorder
        .call(Rec::Handled, Duration::from_secs(1))
        .await
        .unwrap()
}

fn options() -> SendOptions {
    SendOptions::new()
        .timeout(Duration::from_secs(2))
        .max_attempts(2)
        .jitter_seed(2)
}

#[tokio::test(start_paused = true)]
async fn all_or_nothing_sends_nothing_when_the_precheck_fails() {
    let all = recorders(3).await;
    all[1]
        .0
        .stop(ExitReason::Normal, Duration::from_secs(1))
        .await
        .unwrap();
    let targets: Vec<Target<u64>> = all.iter().map(|(r, _)| Target::actor(r)).collect();
    let report = broadcast_supervised(&targets, 1, Strategy::AllOrNothing, &options()).await;
    assert!(!report.succeeded);
    assert!(matches!(report.outcomes[0], Outcome::NotSent(None)));
    assert!(matches!(
        &report.outcomes[1],
        Outcome::NotSent(Some(Failure::Gone(_)))
    ));
    assert!(matches!(report.outcomes[2], Outcome::NotSent(None)));
    for (recorder, _) in &all {
        assert!(handled(recorder).await.is_empty());
    }
}

/// A target that passes the pre-check and dies right after it: the first
/// resolve (the check) finds it alive; the second kills it first.
struct DiesAfterTheCheck {
    actor: ActorRef<Recorder>,
    resolves: AtomicU32,
}

impl Resolve<u64> for DiesAfterTheCheck {
    fn resolve(&self) -> Result<Recipient<u64>, Failure> {
        if self.resolves.fetch_add(1, Ordering::SeqCst) == 1 {
            assert!(self.actor.kill());
        }
        if self.actor.is_alive() {
            Ok(self.actor.recipient())
        } else {
            Err(Failure::Gone("killed after the check".into()))
        }
    }

    fn describe(&self) -> String {
        "dies after the check".into()
    }
}

#[tokio::test(start_paused = true)]
async fn all_or_nothing_is_not_a_two_phase_commit() {
    let all = recorders(3).await;
    let mut targets: Vec<Target<u64>> = all.iter().map(|(r, _)| Target::actor(r)).collect();
    targets[1] = Target::resolver(DiesAfterTheCheck {
        actor: all[1].0.clone(),
        resolves: AtomicU32::new(0),
    });
    let stats = SendStats::new();
    let options = options().tagged(stats.tag("aon"));
    let report = broadcast_supervised(&targets, 5, Strategy::AllOrNothing, &options).await;
    assert!(
        !report.succeeded,
        "a recipient died between the check and the send"
    );
    assert_eq!(report.delivered(), 2, "the others keep their copies");
    match &report.outcomes[1] {
        Outcome::Failed(failure) => {
            assert_eq!(failure.last.class(), ErrorClass::Gone);
            assert_eq!(failure.message, Some(5), "its copy comes back");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(handled(&all[0].0).await, vec![5]);
    assert_eq!(handled(&all[2].0).await, vec![5]);
    let counts = stats.snapshot().total;
    assert_eq!((counts.sent, counts.delivered, counts.failed), (3, 2, 1));
}

#[tokio::test(start_paused = true)]
async fn best_effort_and_at_least_one_report_every_recipient() {
    let all = recorders(3).await;
    all[0]
        .0
        .stop(ExitReason::Normal, Duration::from_secs(1))
        .await
        .unwrap();
    let targets: Vec<Target<u64>> = all.iter().map(|(r, _)| Target::actor(r)).collect();
    let best = broadcast_supervised(&targets, 2, Strategy::BestEffort, &options()).await;
    assert!(!best.succeeded);
    assert_eq!(best.delivered(), 2);
    assert!(matches!(&best.outcomes[0], Outcome::Failed(f) if f.attempts == 1));
    let one = broadcast_supervised(&targets, 3, Strategy::AtLeastOne, &options()).await;
    assert!(one.succeeded);
    assert_eq!(handled(&all[1].0).await, vec![2, 3]);

    all[1]
        .0
        .stop(ExitReason::Normal, Duration::from_secs(1))
        .await
        .unwrap();
    all[2]
        .0
        .stop(ExitReason::Normal, Duration::from_secs(1))
        .await
        .unwrap();
    let none = broadcast_supervised(&targets, 4, Strategy::AtLeastOne, &options()).await;
    assert!(!none.succeeded);
}

#[tokio::test(start_paused = true)]
async fn a_thousand_recipients_each_get_one_copy() {
    let all = recorders(1_000).await;
    let targets: Vec<Target<u64>> = all.iter().map(|(r, _)| Target::actor(r)).collect();
    let report = broadcast_supervised(&targets, 7, Strategy::AllOrNothing, &options()).await;
    assert!(report.succeeded);
    assert_eq!(report.delivered(), 1_000);
    for (recorder, _) in all.iter().step_by(97) {
        assert_eq!(handled(recorder).await, vec![7]);
    }
}
