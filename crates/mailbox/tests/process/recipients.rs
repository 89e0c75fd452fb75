//! Sends through a [`Recipient`], whose conversion into the actor's message
//! is user code: it runs outside the mailbox lock.

use std::panic::{AssertUnwindSafe, catch_unwind};

use foundation_mailbox::{Actor, ActorOptions, Context, Recipient, start_with};
use tokio::sync::mpsc;

#[derive(Debug)]
struct Log(mpsc::UnboundedSender<u32>);

impl Actor for Log {
    type Args = mpsc::UnboundedSender<u32>;
    type Msg = u32;
    type Error = std::convert::Infallible;

    async fn init(log: Self::Args, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Log(log))
    }

    async fn handle(&mut self, value: u32, _: &mut Context<Self>) -> Result<(), Self::Error> {
        let _ = self.0.send(value);
        Ok(())
    }
}

/// Converts into the actor's message by first sending another message to
/// the same actor: a re-entrant send.
#[derive(Debug)]
struct Echoing(u32, Recipient<u32>);

impl From<Echoing> for u32 {
    fn from(Echoing(value, echo_to): Echoing) -> u32 {
        echo_to.try_send(value + 1000).unwrap();
        value
    }
}

/// Panics while converting.
#[derive(Debug)]
struct Poison;

impl From<Poison> for u32 {
    fn from(Poison: Poison) -> u32 {
        panic!("conversion refuses")
    }
}

#[tokio::test]
async fn a_conversion_that_sends_to_the_same_actor_does_not_deadlock() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (log, _handle) = start_with::<Log>(tx, ActorOptions::new()).await.unwrap();
    let echoing: Recipient<Echoing> = log.recipient();
    echoing.send(Echoing(1, log.recipient())).await.unwrap();
    echoing.try_send(Echoing(2, log.recipient())).unwrap();
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(rx.recv().await.unwrap());
    }
    assert_eq!(seen, [1001, 1, 1002, 2]);
}

#[tokio::test]
async fn a_conversion_that_panics_gives_its_room_back_and_poisons_nothing() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (log, _handle) = start_with::<Log>(tx, ActorOptions::new().capacity(1))
        .await
        .unwrap();
    let poison: Recipient<Poison> = log.recipient();
    for _ in 0..3 {
        let panicked = catch_unwind(AssertUnwindSafe(|| poison.try_send(Poison)));
        assert!(panicked.is_err());
    }
    // The one slot is free again, and the mailbox still works.
    log.try_cast(7).unwrap();
    assert_eq!(rx.recv().await, Some(7));
    log.cast(8).await.unwrap();
    assert_eq!(rx.recv().await, Some(8));
}

/// A capacity the mailbox cannot count to is refused when the actor starts,
/// not truncated.
#[tokio::test]
async fn a_capacity_beyond_u32_is_refused_at_start() {
    let (tx, _rx) = mpsc::unbounded_channel();
    let refused = start_with::<Log>(tx, ActorOptions::new().capacity(usize::MAX)).await;
    assert!(matches!(
        refused,
        Err(foundation_mailbox::StartError::InvalidOptions(_))
    ));
}

/// A recipient reaches its process for monitors and links: the same pid,
/// and the same exit.
#[tokio::test]
async fn a_recipient_gives_its_process_ref() {
    let (tx, _rx) = mpsc::unbounded_channel();
    let (log, _handle) = start_with::<Log>(tx, ActorOptions::new()).await.unwrap();
    let recipient: Recipient<u32> = log.recipient();
    let process = recipient.process_ref();
    assert_eq!(process.pid(), log.pid());
    assert!(process.is_alive());
    log.kill();
    assert!(!recipient.process_ref().is_alive());
    assert!(!recipient.is_alive());
}
