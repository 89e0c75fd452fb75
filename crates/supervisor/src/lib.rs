//! Supervision trees with Erlang/OTP's semantics.
//!
//! Work in progress: the supervisor, the dynamic supervisor and the task
//! supervisor land here (issue 4).

mod task;

pub use crate::task::{
    AsyncStream, AsyncStreamOptions, OnTimeout, SpawnError, TaskError, TaskHandle,
    TaskSupervisorOptions, TaskSupervisorRef, Yielded, start_task_supervisor,
};
