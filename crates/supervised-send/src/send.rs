//! [`send_supervised`] and [`send_supervised_acked`]: the retry loop under
//! one deadline, and what happens to a message that fails for good.

use std::{future::Future, time::SystemTime};

use foundation_dead_letter::{Attempt, Letter, Reason};
use foundation_mailbox::{Pid, Recipient};
use tokio::time::{Instant, sleep_until};
use tracing::Instrument;

use crate::{
    Acked, DeliveryId, ErrorClass, FailedAttempt, Failure, GaveUp, OnError, Producer, Receipt,
    SendFailure, SendOptions, Target,
    attempt::{deliver, deliver_acked},
    clock::{Deadline, Until},
    jitter::Jitter,
    stats::Counters,
    target::{Direct, gone_fixed},
};

/// What to report when the resolved recipient had exited: retryable if the
/// target follows restarts, else gone for good.
fn exited(follows_restarts: bool) -> Failure {
    if follows_restarts {
        Failure::Restarting
    } else {
        gone_fixed()
    }
}

/// The tracing target of the crate's spans and events.
pub const SEND_TARGET: &str = "foundation::supervised_send";

/// A send that succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivered {
    /// Attempts it took (1: no retry).
    pub attempts: u32,
    /// In ack mode, the recipient's receipt: [`Receipt::Handled`], or
    /// [`Receipt::Duplicate`] when a resend reached a recipient that had
    /// handled an earlier copy. `None` in fire-and-forget mode.
    pub receipt: Option<Receipt>,
}

/// Sends `message` to `target`: delivered means accepted by a live
/// mailbox. Retries with the options' backoff, within their one deadline,
/// until delivered, out of attempts, or failed with a class the options
/// treat as fatal (a fixed reference's exited actor is, by default: no
/// supervisor brings an incarnation back); then applies the options'
/// [`OnError`] policy and returns why.
///
/// A fixed reference whose mailbox has room is sent to without a span
/// (unless a subscriber wants one), an allocation or a lock of its own: the cost of
/// a cast plus two relaxed counters.
///
/// Cancel-safe in the sense that nothing is lost unseen: dropped while
/// waiting for room, the message is withdrawn and dropped with the future
/// (it was never queued), and the send is counted
/// [`cancelled`](crate::Counts::cancelled); dropped during a backoff, the
/// same. Nothing stays registered with the mailbox.
///
/// ```
/// use std::time::Duration;
/// use foundation_mailbox::{Actor, Context, ExitReason, start};
/// use foundation_supervised_send::{ErrorClass, SendOptions, Target, send_supervised};
///
/// #[derive(Debug)]
/// struct Log;
///
/// impl Actor for Log {
///     type Args = ();
///     type Msg = String;
///     type Error = std::convert::Infallible;
///     async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Log) }
///     async fn handle(&mut self, _: String, _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (log, _handle) = start::<Log>(()).await.unwrap();
/// let target = Target::actor(&log);
/// let options = SendOptions::new().timeout(Duration::from_secs(1)).tag("audit-log");
/// assert_eq!(send_supervised(&target, "hello".to_string(), &options).await.unwrap().attempts, 1);
///
/// log.stop(ExitReason::Normal, Duration::from_secs(1)).await.unwrap();
/// let failure = send_supervised(&target, "anyone?".to_string(), &options).await.unwrap_err();
/// assert_eq!(failure.last.class(), ErrorClass::Gone);
/// assert_eq!(failure.attempts, 1, "a dead reference is not retried");
/// assert_eq!(failure.into_inner().unwrap(), "anyone?");
/// # }
/// ```
pub async fn send_supervised<M: Send + 'static>(
    target: &Target<M>,
    message: M,
    options: &SendOptions,
) -> Result<Delivered, SendFailure<M>> {
    let counters = &*options.tag.counters;
    Counters::add(&counters.sent);
    if let Some(error) = &options.invalid {
        return Err(invalid(options, message, error.clone().into()));
    }
    let span = tracing::debug_span!(
        target: SEND_TARGET,
        "supervised_send",
        tag = options.tag.name(),
        to = %target.describe(),
        mode = "delivered",
        metadata = ?options.metadata,
    );
    if !span.is_disabled() {
        return run(target, message, options, Deliver)
            .instrument(span)
            .await;
    }
    match target.try_fixed(message) {
        None => {
            Counters::add(&counters.delivered);
            Ok(Delivered {
                attempts: 1,
                receipt: None,
            })
        }
        Some(message) => run(target, message, options, Deliver).await,
    }
}

/// Sends `message` to `target` and waits for the recipient to acknowledge
/// it (ack mode): delivered means handled. The recipient's message type
/// converts from [`Acked<M>`]; its handler admits each one through a
/// [`Dedup`](crate::Dedup) (handled once, however often resent) or
/// [`Acked::accept`] (at least once).
///
/// Each attempt sends a clone with the same [`DeliveryId`]; an attempt
/// whose acknowledgement does not come within the options'
/// [`attempt_timeout`](SendOptions::attempt_timeout) is sent again, and a
/// recipient that handled the first copy answers [`Receipt::Duplicate`]
/// without handling it twice. Retries, the deadline and the on-error
/// policy are those of [`send_supervised`].
///
/// Cancel-safe as [`send_supervised`] is, with one addition: dropped after
/// a copy was delivered, that copy stays queued and will be handled; only
/// its acknowledgement goes unheard.
///
/// ```
/// use std::time::Duration;
/// use foundation_mailbox::{Actor, Context, start};
/// use foundation_supervised_send::{Acked, Dedup, Receipt, SendOptions, Target, send_supervised_acked};
///
/// #[derive(Debug, Default)]
/// struct Ledger { total: u64, seen: Dedup }
///
/// impl Actor for Ledger {
///     type Args = ();
///     type Msg = Acked<u64>;
///     type Error = std::convert::Infallible;
///     async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Ledger::default()) }
///     async fn handle(&mut self, credit: Acked<u64>, _: &mut Context<Self>) -> Result<(), Self::Error> {
///         if let Some(credit) = self.seen.admit(credit) {
///             self.total += *credit; // acknowledged when `credit` drops
///         }
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (ledger, _handle) = start::<Ledger>(()).await.unwrap();
/// let options = SendOptions::new().timeout(Duration::from_secs(1));
/// let delivered = send_supervised_acked(&Target::actor(&ledger), 5, &options).await.unwrap();
/// assert_eq!(delivered.receipt, Some(Receipt::Handled));
/// # }
/// ```
pub async fn send_supervised_acked<M: Clone + Send + 'static>(
    target: &Target<Acked<M>>,
    message: M,
    options: &SendOptions,
) -> Result<Delivered, SendFailure<M>> {
    let counters = &*options.tag.counters;
    Counters::add(&counters.sent);
    if let Some(error) = &options.invalid {
        return Err(invalid(options, message, error.clone().into()));
    }
    let id = options
        .producer
        .as_ref()
        .unwrap_or_else(|| Producer::shared())
        .next_id();
    let span = tracing::debug_span!(
        target: SEND_TARGET,
        "supervised_send",
        tag = options.tag.name(),
        to = %target.describe(),
        mode = "ack",
        producer = id.producer,
        seq = id.seq,
        metadata = ?options.metadata,
    );
    if span.is_disabled() {
        run(target, message, options, Ack(id)).await
    } else {
        run(target, message, options, Ack(id))
            .instrument(span)
            .await
    }
}

/// What one attempt came to.
pub(crate) enum Outcome<M> {
    Delivered(Option<Receipt>),
    Failed(Failure, M),
}

/// One mode of sending: how an attempt goes to a resolved recipient.
pub(crate) trait Way<W, M>: Send {
    /// `follows_restarts`: whether a recipient found exited may come back
    /// under the target (a retryable failure) or not (`Gone`).
    fn attempt(
        &self,
        recipient: Recipient<W>,
        direct: Option<&dyn Direct<W>>,
        message: M,
        until: &mut Until<'_>,
        follows_restarts: bool,
    ) -> impl Future<Output = Outcome<M>> + Send;
}

/// Fire-and-forget: delivered is accepted by the mailbox.
pub(crate) struct Deliver;

impl<M: Send + 'static> Way<M, M> for Deliver {
    async fn attempt(
        &self,
        recipient: Recipient<M>,
        direct: Option<&dyn Direct<M>>,
        message: M,
        until: &mut Until<'_>,
        follows_restarts: bool,
    ) -> Outcome<M> {
        match deliver(&recipient, direct, message, until, || {
            exited(follows_restarts)
        })
        .await
        {
            Ok(()) => Outcome::Delivered(None),
            Err((failure, message)) => Outcome::Failed(failure, message),
        }
    }
}

/// Ack mode: delivered is acknowledged by the handler.
pub(crate) struct Ack(pub(crate) DeliveryId);

impl<M: Clone + Send + 'static> Way<Acked<M>, M> for Ack {
    async fn attempt(
        &self,
        recipient: Recipient<Acked<M>>,
        direct: Option<&dyn Direct<Acked<M>>>,
        message: M,
        until: &mut Until<'_>,
        follows_restarts: bool,
    ) -> Outcome<M> {
        let copy = message.clone();
        let exited = || exited(follows_restarts);
        match deliver_acked(&recipient, direct, copy, self.0, until, exited).await {
            Ok(receipt) => Outcome::Delivered(Some(receipt)),
            Err(failure) => Outcome::Failed(failure, message),
        }
    }
}

/// Counts a send cancelled if dropped before it ended.
struct Pending<'a> {
    counters: &'a Counters,
    armed: bool,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if self.armed {
            Counters::add(&self.counters.cancelled);
            tracing::debug!(target: SEND_TARGET, "supervised send cancelled before it ended");
        }
    }
}

/// The retry loop: resolve, attempt, back off, under one deadline.
pub(crate) async fn run<W, M, X>(
    target: &Target<W>,
    message: M,
    options: &SendOptions,
    way: X,
) -> Result<Delivered, SendFailure<M>>
where
    W: Send + 'static,
    M: Send + 'static,
    X: Way<W, M>,
{
    let counters = &*options.tag.counters;
    let mut pending = Pending {
        counters,
        armed: true,
    };
    let mut deadline = Deadline::new(options.timeout);
    let mut history: Vec<FailedAttempt> = Vec::new();
    let mut jitter: Option<Jitter> = None;
    let mut message = message;
    let mut last_pid = target.fixed_pid();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut until = Until::new(&mut deadline, options.attempt_timeout);
        let outcome = match target.resolve() {
            Ok(recipient) => {
                last_pid = Some(recipient.pid());
                let follows = target.follows_restarts();
                way.attempt(recipient, target.direct(), message, &mut until, follows)
                    .await
            }
            Err(failure) => Outcome::Failed(failure, message),
        };
        let failure = match outcome {
            Outcome::Delivered(receipt) => {
                pending.armed = false;
                Counters::add(&counters.delivered);
                return Ok(Delivered {
                    attempts: attempt,
                    receipt,
                });
            }
            Outcome::Failed(failure, back) => {
                message = back;
                failure
            }
        };
        tracing::debug!(target: SEND_TARGET, attempt, error = %failure, "attempt failed");
        let class = failure.class();
        history.push(FailedAttempt {
            attempt,
            at: SystemTime::now(),
            after: Instant::now().saturating_duration_since(deadline.start()),
            recipient: last_pid,
            failure,
        });
        // A fixed reference's actor that exited holding the message will not
        // come back: retrying would only find it gone.
        let dead_for_good = class == ErrorClass::Exited && !target.follows_restarts();
        let gave_up = if options.fatal.contains(class) || dead_for_good {
            Some(GaveUp::Fatal)
        } else if attempt >= options.max_attempts {
            Some(GaveUp::OutOfAttempts)
        } else {
            let seed = options.seed;
            let jitter =
                jitter.get_or_insert_with(|| seed.map_or_else(Jitter::unseeded, Jitter::seeded));
            let wake = Instant::now() + options.backoff.delay(attempt, jitter.unit());
            if wake >= deadline.get() {
                Some(GaveUp::Deadline)
            } else {
                Counters::add(&counters.retried);
                sleep_until(wake).await;
                None
            }
        };
        if let Some(gave_up) = gave_up {
            pending.armed = false;
            return Err(fail(
                target, options, message, attempt, gave_up, history, last_pid,
            ));
        }
    }
}

/// A send refused before its first attempt for its options.
fn invalid<M: Send + 'static>(
    options: &SendOptions,
    message: M,
    failure: Failure,
) -> SendFailure<M> {
    Counters::add(&options.tag.counters.failed);
    // Invalid options are the caller's bug: the message goes back whatever
    // the policy, so nothing is lost to a typo.
    SendFailure {
        last: failure,
        gave_up: GaveUp::Fatal,
        attempts: 0,
        history: Vec::new(),
        message: Some(message),
        dead_letter: None,
    }
}

/// Applies the on-error policy to a send that failed for good.
fn fail<W, M: Send + 'static>(
    target: &Target<W>,
    options: &SendOptions,
    message: M,
    attempts: u32,
    gave_up: GaveUp,
    history: Vec<FailedAttempt>,
    recipient: Option<Pid>,
) -> SendFailure<M>
where
    W: Send + 'static,
{
    let counters = &*options.tag.counters;
    Counters::add(&counters.failed);
    let last = history
        .last()
        .map_or(Failure::Timeout, |attempt| attempt.failure.clone());
    let mut failure = SendFailure {
        last,
        gave_up,
        attempts,
        history,
        message: None,
        dead_letter: None,
    };
    match &options.on_error {
        OnError::Return => failure.message = Some(message),
        OnError::Ignore => drop(message),
        OnError::Log => {
            tracing::warn!(
                target: SEND_TARGET,
                tag = options.tag.name(),
                to = %target.describe(),
                attempts,
                gave_up = %gave_up,
                error = %failure.last,
                metadata = ?options.metadata,
                "supervised send failed; message dropped",
            );
            drop(message);
        }
        OnError::DeadLetter(queue) => {
            let mut letter = Letter::new(
                recipient,
                message,
                Reason::Undeliverable(format!("{} ({gave_up})", failure.last)),
            )
            .metadata("tag", options.tag.name())
            .metadata("target", target.describe())
            .attempts(attempts)
            .history(
                failure
                    .history
                    .iter()
                    .map(|attempt| Attempt {
                        at: attempt.at,
                        error: attempt.failure.to_string(),
                    })
                    .collect(),
            );
            if let Some(first) = failure.history.first() {
                letter = letter.first_failure(first.at);
            }
            for (key, value) in &options.metadata {
                letter = letter.metadata(key.clone(), value.clone());
            }
            match queue.try_append(letter) {
                Ok(id) => {
                    Counters::add(&counters.dead_lettered);
                    failure.dead_letter = Some(id);
                }
                Err(error) => tracing::warn!(
                    target: SEND_TARGET,
                    tag = options.tag.name(),
                    to = %target.describe(),
                    error = %error,
                    "the dead-letter queue did not keep a failed send's message",
                ),
            }
        }
    }
    failure
}
