//! Tour stop: supervised sends. A ledger under a supervisor crashes on its
//! first credit; an ack-mode send retries through the child reference and
//! reaches the restarted ledger. A lost acknowledgement is resent and
//! recognised as a duplicate. A send to a stopped actor is not retried and
//! lands in the dead-letter queue with its metadata. A broadcast reports
//! per recipient. Seeded jitter and counts, not timings, keep the output
//! the same on every run.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use foundation::{
    dead_letter::{Config, DeadLetterQueue},
    mailbox::{Actor, Context, ExitReason, Reply, start},
    supervised_send::{
        Ack, Acked, Dedup, OnError, SendOptions, SendStats, Strategy, Target, broadcast_supervised,
        send_supervised, send_supervised_acked,
    },
    supervisor::{ChildSpec, Strategy as Restart, Supervisor, SupervisorSpec},
};

/// What the ledger takes: credits in ack mode, and a question.
#[derive(Debug)]
enum LedgerMsg {
    Credit(Acked<u64>),
    Total(Reply<u64>),
}

impl From<Acked<u64>> for LedgerMsg {
    fn from(credit: Acked<u64>) -> Self {
        LedgerMsg::Credit(credit)
    }
}

/// Shared switches the tour flips: crash on the next credit, lose the
/// next acknowledgement.
#[derive(Clone, Debug, Default)]
struct Trouble {
    crash: Arc<AtomicBool>,
    lose_ack: Arc<AtomicBool>,
}

#[derive(Debug)]
struct Ledger {
    total: u64,
    seen: Dedup,
    trouble: Trouble,
    lost: Vec<Ack>,
}

impl Actor for Ledger {
    type Args = Trouble;
    type Msg = LedgerMsg;
    type Error = std::convert::Infallible;

    async fn init(trouble: Trouble, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Ledger {
            total: 0,
            seen: Dedup::default(),
            trouble,
            lost: Vec::new(),
        })
    }

    async fn handle(&mut self, msg: LedgerMsg, _: &mut Context<Self>) -> Result<(), Self::Error> {
        match msg {
            LedgerMsg::Credit(credit) => {
                let Some(credit) = self.seen.admit(credit) else {
                    return Ok(()); // a resend of a credit already counted
                };
                if self.trouble.crash.swap(false, Ordering::SeqCst) {
                    panic!("ledger crashed on credit {}", *credit);
                }
                let (amount, ack) = credit.into_parts();
                self.total += amount;
                if self.trouble.lose_ack.swap(false, Ordering::SeqCst) {
                    self.lost.push(ack); // as if the network ate it
                }
            }
            LedgerMsg::Total(reply) => reply.send(self.total).unwrap_or_default(),
        }
        Ok(())
    }
}

/// A log line sink, for the broadcast.
#[derive(Debug)]
struct Screen;

impl Actor for Screen {
    type Args = ();
    type Msg = String;
    type Error = std::convert::Infallible;

    async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Screen)
    }

    async fn handle(&mut self, _: String, _: &mut Context<Self>) -> Result<(), Self::Error> {
        Ok(())
    }
}

pub(crate) async fn run() -> Result<(), Box<dyn std::error::Error>> {
    println!("== supervised send: retries that follow restarts, acks, dead letters ==");
    let stats = SendStats::new();
    let trouble = Trouble::default();
    let tree = Supervisor::start(
        SupervisorSpec::new(Restart::OneForOne)
            .child(ChildSpec::actor::<Ledger>("ledger", trouble.clone())),
    )
    .await?;
    let ledger = tree.child_ref::<Ledger>("ledger")?;
    let target = Target::child(ledger.clone());
    let options = SendOptions::new()
        .timeout(Duration::from_secs(5))
        .attempt_timeout(Duration::from_millis(200))
        .max_attempts(4)
        .jitter_seed(7)
        .tagged(stats.tag("ledger"));

    trouble.crash.store(true, Ordering::SeqCst);
    let sent = send_supervised_acked(&target, 30, &options).await?;
    // How many retries it takes depends on how soon the supervisor has
    // the new incarnation up; that it takes one does not.
    println!(
        "credit 30: the ledger crashed on it; a retry ({}) reached its restart: {:?}",
        sent.attempts > 1,
        sent.receipt.unwrap()
    );

    trouble.lose_ack.store(true, Ordering::SeqCst);
    let sent = send_supervised_acked(&target, 12, &options).await?;
    println!(
        "credit 12: its ack was lost; attempt {} was recognised: {:?}",
        sent.attempts,
        sent.receipt.unwrap()
    );
    let total = ledger
        .call(LedgerMsg::Total, Duration::from_secs(1))
        .await?;
    println!("ledger total: {total} (each credit counted once)");

    let dead_letters = DeadLetterQueue::new(Config::default())?;
    let (screen, _handle) = start::<Screen>(()).await?;
    let (gone, _handle) = start::<Screen>(()).await?;
    gone.stop(ExitReason::Normal, Duration::from_secs(1))
        .await?;
    let to_screen = SendOptions::new()
        .timeout(Duration::from_secs(1))
        .on_error(OnError::DeadLetter(dead_letters.clone()))
        .metadata("job", "nightly-report")
        .tagged(stats.tag("screens"));
    let failure = send_supervised(
        &Target::actor(&gone),
        "report ready".to_string(),
        &to_screen,
    )
    .await
    .unwrap_err();
    let entry = dead_letters
        .get(failure.dead_letter.ok_or("not dead-lettered")?)
        .ok_or("no entry")?;
    println!(
        "to a stopped screen: {} after {} attempt; dead letter {} keeps job={}",
        failure.last, failure.attempts, entry.id, entry.metadata["job"]
    );

    let screens = [Target::actor(&screen), Target::actor(&gone)];
    for strategy in [Strategy::AllOrNothing, Strategy::AtLeastOne] {
        let report =
            broadcast_supervised(&screens, "hello".to_string(), strategy, &to_screen).await;
        println!(
            "broadcast {strategy:?}: succeeded {}, delivered to {} of {}",
            report.succeeded,
            report.delivered(),
            report.outcomes.len()
        );
    }
    let snapshot = stats.snapshot();
    for (tag, counts) in &snapshot.per_tag {
        println!(
            "stats {tag}: sent {}, delivered {}, failed {}, dead-lettered {}",
            counts.sent, counts.delivered, counts.failed, counts.dead_lettered
        );
    }
    tree.shutdown(Duration::from_secs(5)).await?;
    Ok(())
}
