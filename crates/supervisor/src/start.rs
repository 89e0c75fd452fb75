//! Running a user's start function so that a panic in it becomes a typed
//! start error instead of taking the supervisor (or the caller) down, as
//! OTP turns a crashing start into an error return.

use std::{
    any::Any,
    future::Future,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::Arc,
};

use foundation_mailbox::ErrorCause;
use futures::FutureExt;

use crate::error::StartPanicked;

/// Calls `start` and awaits the future it returns; a panic in either comes
/// back as an [`ErrorCause`] holding [`StartPanicked`].
pub(crate) async fn contained<T, Fut>(start: impl FnOnce() -> Fut) -> Result<T, ErrorCause>
where
    Fut: Future<Output = Result<T, ErrorCause>>,
{
    // The start function's state is dropped with the panic; nothing of it is
    // observed afterwards, so unwind safety holds.
    let future = catch_unwind(AssertUnwindSafe(start)).map_err(panicked)?;
    AssertUnwindSafe(future)
        .catch_unwind()
        .await
        .map_err(panicked)?
}

fn panicked(payload: Box<dyn Any + Send>) -> ErrorCause {
    let message: Arc<str> = if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).into()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.as_str().into()
    } else {
        "a panic with a non-string payload".into()
    };
    tracing::error!(target: "foundation::supervisor", %message, "start function panicked");
    ErrorCause::new(StartPanicked { message })
}
