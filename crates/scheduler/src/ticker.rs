//! The scheduler's one timer: a stream, fed to its actor, that sleeps
//! until the earliest due time the actor last published and then sends it
//! a wake. One sleep for all the jobs, however many there are.

use std::sync::Arc;

use futures::Stream;
use tokio::sync::watch;

use crate::{Clock, actor::Command, clock::from_nanos};

/// Wakes for the deadlines published on `deadlines` (nanoseconds since the
/// epoch; `None`: no job). After each wake it waits for the actor's next
/// publication before sleeping again, so a deadline the actor is still
/// handling never wakes it twice. Ends when the actor drops its sender.
pub(crate) fn ticks<M>(
    clock: Arc<dyn Clock>,
    deadlines: watch::Receiver<Option<u64>>,
) -> impl Stream<Item = Command<M>> {
    futures::stream::unfold(
        (clock, deadlines, false),
        |(clock, mut deadlines, woke)| async move {
            if woke {
                deadlines.changed().await.ok()?;
            }
            loop {
                let deadline = *deadlines.borrow_and_update();
                match deadline {
                    None => deadlines.changed().await.ok()?,
                    Some(at) => {
                        tokio::select! {
                            changed = deadlines.changed() => changed.ok()?,
                            () = clock.sleep_until(from_nanos(at)) => {
                                if clock.now() >= from_nanos(at) {
                                    return Some((Command::wake(), (clock, deadlines, true)));
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}
