#![forbid(unsafe_code)]
//! Sends you can count on: a message either reaches a live mailbox (or, in
//! ack mode, is handled) within one deadline, or the caller learns why and
//! the message goes where the on-error policy says, a dead-letter queue
//! included.
//!
//! A plain [`cast`](foundation_mailbox::ActorRef::cast) fails at once when
//! its actor has exited and says nothing more. A supervised send:
//!
//! - resolves its [`Target`] before every attempt: a fixed reference, a
//!   registered name, or a supervisor's [child
//!   reference](foundation_supervisor::ChildRef), so a retry after a
//!   restart reaches the new incarnation;
//! - retries with exponential [`Backoff`], capped and jittered (seedable,
//!   for deterministic tests), under **one deadline** across every attempt
//!   and backoff ([`SendOptions::timeout`]);
//! - gives up at once on a fatal [`ErrorClass`]: a fixed reference whose
//!   actor exited is [`Gone`](ErrorClass::Gone), since no supervisor will
//!   bring that incarnation back;
//! - on failure applies [`OnError`]: give the message back, log it,
//!   dead-letter it (with metadata, attempts and the failure history, into
//!   a [`DeadLetterQueue`](foundation_dead_letter::DeadLetterQueue)), or
//!   ignore it;
//! - counts what happened per call-site [`Tag`] and in total
//!   ([`SendStats`]), and runs in a `debug` span under [`SEND_TARGET`]
//!   carrying the tag, the target and the metadata.
//!
//! [`send_supervised_acked`] is **ack mode**: the recipient's handler
//! admits each [`Acked`] message through a [`Dedup`], which remembers what
//! it handled per [`Producer`] (sequence numbers, as in Akka's reliable
//! delivery), so a resend after a lost acknowledgement is recognised and
//! handled once. [`broadcast_supervised`] sends to many targets under a
//! [`Strategy`] and reports per recipient.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use foundation_dead_letter::{Config, DeadLetterQueue, Filter};
//! use foundation_mailbox::{Actor, Context, ExitReason, start};
//! use foundation_supervised_send::{OnError, SendOptions, Target, send_supervised};
//!
//! #[derive(Debug)]
//! struct Mailer;
//!
//! impl Actor for Mailer {
//!     type Args = ();
//!     type Msg = String;
//!     type Error = std::convert::Infallible;
//!     async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Mailer) }
//!     async fn handle(&mut self, _: String, _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let dead_letters = DeadLetterQueue::new(Config::default()).unwrap();
//! let options = SendOptions::new()
//!     .timeout(Duration::from_secs(1))
//!     .on_error(OnError::DeadLetter(dead_letters.clone()))
//!     .tag("welcome-mail")
//!     .metadata("user", "ada");
//!
//! let (mailer, _handle) = start::<Mailer>(()).await.unwrap();
//! let target = Target::actor(&mailer);
//! send_supervised(&target, "welcome, ada".to_string(), &options).await.unwrap();
//!
//! mailer.stop(ExitReason::Normal, Duration::from_secs(1)).await.unwrap();
//! let failure = send_supervised(&target, "welcome again".to_string(), &options).await.unwrap_err();
//! let entry = dead_letters.get(failure.dead_letter.unwrap()).unwrap();
//! assert_eq!(entry.metadata["user"], "ada");
//! assert_eq!(entry.metadata["tag"], "welcome-mail");
//! assert_eq!(dead_letters.list(&Filter::all(), 10).len(), 1);
//! # }
//! ```
//!
//! # Guarantees
//!
//! See `docs/supervised-send.md` for the table of what each mode promises
//! and how it differs from OTP and Akka. In short: fire-and-forget is at
//! most once per attempt and never past the deadline; ack mode is at least
//! once, and handled once where the handler admits through a [`Dedup`]
//! that still remembers the message.

mod ack;
mod attempt;
mod broadcast;
mod clock;
mod error;
mod jitter;
mod options;
mod send;
mod stats;
mod sync;
mod target;

pub use crate::{
    ack::{Ack, Acked, Dedup, DeliveryId, Handled, Producer, Receipt},
    broadcast::{BroadcastReport, Outcome, Strategy, broadcast_supervised},
    error::{ErrorClass, FailedAttempt, Failure, GaveUp, OptionsError, SendFailure},
    options::{Backoff, OnError, SendOptions},
    send::{Delivered, SEND_TARGET, send_supervised, send_supervised_acked},
    stats::{Counts, SendStats, StatsSnapshot, Tag, UNTAGGED},
    target::{Resolve, Target},
};
