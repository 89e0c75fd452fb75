//! One supervised, durable process per workflow, instead of a god process.
//!
//! The origin system's coordinator held every workflow in one process's
//! state, advanced steps by sending itself messages and lost everything on
//! a crash. Here:
//!
//! - a [`Workflow`] is a sequence of named [`Step`]s, each with a timeout
//!   and a [`Retry`] policy (exponential backoff, a cap, jitter; a
//!   [`StepError::Permanent`] is never retried);
//! - each workflow runs in a process of its own under a dynamic supervisor,
//!   registered by id, and each attempt runs as a task under a task
//!   supervisor, never as a raw spawn;
//! - each completed step's output is saved (write-through, fenced by
//!   version) before the next step starts, so a crash of the process, of
//!   the coordinator or of the program resumes the workflow at its last
//!   recorded step: a step recorded done never reruns, and a step that was
//!   running reruns. Steps are at-least-once; [`StepContext::idempotency_key`]
//!   lets the services they call recognise a rerun;
//! - the [`Coordinator`] is the gateway: start (with an [`IdReuse`] policy),
//!   status, wait, list by status, signal, cancel. It keeps no workflow in
//!   memory; the store is the truth.
//!
//! A waiting workflow (between retries, or idle) is a dormant actor: it
//! has no task.
//!
//! ```
//! use std::time::Duration;
//! use foundation_coordinator::{Coordinator, Retry, Step, StepError, Workflow};
//! use foundation_persistence::MemoryStore;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let order = Workflow::new("order")
//!     .step(Step::new("reserve", |ctx| async move { Ok(ctx.input().to_vec()) }))
//!     .step(
//!         Step::new("charge", |ctx| async move {
//!             if ctx.attempt() < 2 {
//!                 return Err(StepError::retryable("card network busy"));
//!             }
//!             Ok(b"paid".to_vec())
//!         })
//!         .retry(Retry::exponential(3, Duration::from_millis(1), Duration::from_millis(10))),
//!     );
//! let coordinator = Coordinator::start(MemoryStore::new(), [order]).await.unwrap();
//! coordinator.start_workflow("order", "o-1", b"book".to_vec()).await.unwrap();
//! let done = coordinator.wait("o-1", Duration::from_secs(5)).await.unwrap();
//! assert!(done.status.is_completed());
//! assert_eq!(done.output("charge"), Some(&b"paid"[..]));
//! assert_eq!(done.failures.len(), 1, "the first charge attempt failed");
//! # }
//! ```

mod context;
mod coordinator;
mod error;
mod process;
mod record;
mod waker;
mod workflow;

pub use crate::{
    context::{StepContext, encode},
    coordinator::{Coordinator, IdReuse, RECORD_PREFIX},
    error::{CoordinatorError, DefinitionError, RecordError, StepError},
    record::{CompletedStep, Failure, Signal, Status, StatusKind, WorkflowRecord},
    workflow::{DEFAULT_STEP_TIMEOUT, Retry, Step, Workflow},
};

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
