//! Ack mode's promises: a lost acknowledgement's resend is handled once; a
//! handler's panic is a failure the sender sees, never a panic of its own;
//! a retry after a restart reaches the new incarnation.

#[path = "support/actors.rs"]
mod actors;

use std::{sync::atomic::Ordering, time::Duration};

use actors::{Behaviour, Rec, Recorder};
use foundation_mailbox::{ActorOptions, CallError, ExitReason, start_with};
use foundation_supervised_send::{
    Backoff, ErrorClass, Failure, GaveUp, Receipt, SendOptions, Target, send_supervised_acked,
};
use foundation_supervisor::{ChildSpec, Strategy, Supervisor, SupervisorSpec};

fn options() -> SendOptions {
    SendOptions::new()
        .timeout(Duration::from_secs(5))
        .attempt_timeout(Duration::from_millis(200))
        .max_attempts(5)
        .backoff(Backoff {
            initial: Duration::from_millis(10),
            ..Backoff::default()
        })
        .jitter_seed(1)
}

async fn handled_by(actor: &foundation_mailbox::ActorRef<Recorder>) -> Vec<u64> {
    let handled: Result<Vec<u64>, CallError<Rec>> =
        actor.call(Rec::Handled, Duration::from_secs(1)).await;
    handled.unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_resend_after_a_lost_ack_is_handled_once() {
    let behaviour = Behaviour {
        dedup: true,
        ..Behaviour::default()
    };
    behaviour.lose_acks.store(1, Ordering::SeqCst);
    let (recorder, _handle) = start_with::<Recorder>(behaviour.clone(), ActorOptions::new())
        .await
        .unwrap();
    let delivered = send_supervised_acked(&Target::actor(&recorder), 11, &options())
        .await
        .unwrap();
    assert_eq!(
        delivered.attempts, 2,
        "the first ack was lost, so it was resent"
    );
    assert_eq!(delivered.receipt, Some(Receipt::Duplicate));
    assert_eq!(handled_by(&recorder).await, vec![11], "handled once");

    // The next message is new, and handled.
    let delivered = send_supervised_acked(&Target::actor(&recorder), 12, &options())
        .await
        .unwrap();
    assert_eq!(delivered.receipt, Some(Receipt::Handled));
    assert_eq!(handled_by(&recorder).await, vec![11, 12]);
}

#[tokio::test(start_paused = true)]
async fn without_dedup_a_resend_after_a_lost_ack_is_handled_again() {
    let behaviour = Behaviour::default();
    behaviour.lose_acks.store(1, Ordering::SeqCst);
    let (recorder, _handle) = start_with::<Recorder>(behaviour.clone(), ActorOptions::new())
        .await
        .unwrap();
    let delivered = send_supervised_acked(&Target::actor(&recorder), 11, &options())
        .await
        .unwrap();
    assert_eq!(delivered.receipt, Some(Receipt::Handled));
    assert_eq!(handled_by(&recorder).await, vec![11, 11], "at least once");
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_the_handler_is_the_senders_failure_not_its_panic() {
    std::panic::set_hook(Box::new(|_| {}));
    let behaviour = Behaviour::default();
    behaviour.panics.store(1, Ordering::SeqCst);
    let (recorder, _handle) = start_with::<Recorder>(behaviour.clone(), ActorOptions::new())
        .await
        .unwrap();
    let failure = send_supervised_acked(&Target::actor(&recorder), 5, &options())
        .await
        .unwrap_err();
    assert!(
        matches!(&failure.last, Failure::Exited(ExitReason::Panic(_))),
        "{failure:?}"
    );
    assert_eq!(failure.attempts, 1, "that incarnation is gone for good");
    assert_eq!(failure.gave_up, GaveUp::Fatal);
    assert_eq!(failure.into_inner(), Some(5));
    assert!(behaviour.handled().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_a_restart_reaches_the_new_incarnation() {
    std::panic::set_hook(Box::new(|_| {}));
    let behaviour = Behaviour {
        dedup: true,
        ..Behaviour::default()
    };
    // The first incarnation panics on the message; its supervisor restarts it.
    behaviour.panics.store(1, Ordering::SeqCst);
    let tree = Supervisor::start(
        SupervisorSpec::new(Strategy::OneForOne)
            .child(ChildSpec::actor::<Recorder>("recorder", behaviour.clone())),
    )
    .await
    .unwrap();
    let child = tree.child_ref::<Recorder>("recorder").unwrap();
    let first = child.current().unwrap().pid();
    let delivered = send_supervised_acked(&Target::child(child.clone()), 21, &options())
        .await
        .unwrap();
    assert!(delivered.attempts >= 2, "{delivered:?}");
    assert_eq!(delivered.receipt, Some(Receipt::Handled));
    let handlers = behaviour.handlers();
    assert_eq!(behaviour.handled(), vec![21]);
    assert_ne!(handlers[0], first, "handled by the restarted incarnation");
    assert_eq!(Some(handlers[0]), child.current().map(|actor| actor.pid()));
}

#[tokio::test(start_paused = true)]
async fn a_poison_message_is_not_retried_past_the_attempts() {
    std::panic::set_hook(Box::new(|_| {}));
    let behaviour = Behaviour::default();
    behaviour.panics.store(u32::MAX, Ordering::SeqCst);
    let tree = Supervisor::start(
        SupervisorSpec::new(Strategy::OneForOne)
            .child(ChildSpec::actor::<Recorder>("recorder", behaviour.clone())),
    )
    .await
    .unwrap();
    let child = tree.child_ref::<Recorder>("recorder").unwrap();
    let options = options().max_attempts(2);
    let failure = send_supervised_acked(&Target::child(child), 13, &options)
        .await
        .unwrap_err();
    assert_eq!(failure.attempts, 2);
    assert_eq!(failure.gave_up, GaveUp::OutOfAttempts);
    assert_eq!(failure.last.class(), ErrorClass::Exited);
}

#[tokio::test(start_paused = true)]
async fn a_message_dropped_unadmitted_is_not_acknowledged() {
    use foundation_mailbox::{Actor, Context, start};
    use foundation_supervised_send::Acked;

    #[derive(Debug)]
    struct Careless;
    impl Actor for Careless {
        type Args = ();
        type Msg = Acked<u64>;
        type Error = std::convert::Infallible;
        async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
            Ok(Careless)
        }
        async fn handle(
            &mut self,
            _: Acked<u64>,
            _: &mut Context<Self>,
        ) -> Result<(), Self::Error> {
            Ok(())
        }
    }

    let (careless, _handle) = start::<Careless>(()).await.unwrap();
    let failure = send_supervised_acked(&Target::actor(&careless), 1, &options().max_attempts(2))
        .await
        .unwrap_err();
    assert_eq!(failure.last.class(), ErrorClass::NoAck);
    assert_eq!(failure.attempts, 2);
}

#[tokio::test(start_paused = true)]
async fn a_copy_kept_by_a_dead_letter_queue_does_not_leave_the_sender_waiting() {
    use foundation_dead_letter::{Config, DeadLetterQueue};
    use tokio::time::Instant;

    // The queue keeps the queued copy, its acknowledgement port included:
    // the port never answers, so the sender must notice the exit itself.
    let queue = DeadLetterQueue::new(Config::default()).unwrap();
    let behaviour = Behaviour::default();
    let mailbox = ActorOptions::new().dead_letters(queue.sink());
    let (recorder, _handle) = start_with::<Recorder>(behaviour.clone(), mailbox)
        .await
        .unwrap();
    let (_open, gate) = tokio::sync::oneshot::channel();
    recorder.cast(Rec::Gate(gate)).await.unwrap();
    tokio::task::yield_now().await;

    let target = Target::actor(&recorder);
    let options = options().attempt_timeout(Duration::from_secs(60));
    let start = Instant::now();
    let send = send_supervised_acked(&target, 3, &options);
    let kill = async {
        tokio::task::yield_now().await; // the copy is queued by now
        assert_eq!(recorder.mailbox_stats().queued, 1);
        assert!(recorder.kill());
    };
    let (failure, ()) = tokio::join!(send, kill);
    let failure = failure.unwrap_err();
    assert!(
        matches!(failure.last, Failure::Exited(ExitReason::Killed)),
        "{failure:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(queue.len(), 1, "the copy is a dead letter");
}

#[tokio::test(start_paused = true)]
async fn producers_number_their_sends_apart() {
    use foundation_supervised_send::Producer;

    let behaviour = Behaviour {
        dedup: true,
        ..Behaviour::default()
    };
    let (recorder, _handle) = start_with::<Recorder>(behaviour.clone(), ActorOptions::new())
        .await
        .unwrap();
    let target = Target::actor(&recorder);
    // Two producers both start at sequence number 1: the recipient tells
    // their messages apart by producer, so neither is taken for the other.
    for producer in [Producer::new(), Producer::new()] {
        let options = options().producer(producer);
        let delivered = send_supervised_acked(&target, 1, &options).await.unwrap();
        assert_eq!(delivered.receipt, Some(Receipt::Handled));
    }
    assert_eq!(handled_by(&recorder).await, vec![1, 1]);
}
