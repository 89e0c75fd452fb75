//! Erlang's order of signals between two processes: a DOWN comes after every
//! message its process sent before it exited, and before later messages.

use std::sync::Arc;

use foundation_mailbox::{Actor, ActorRef, Context, ExitReason, Reference, SystemMessage, start};
use tokio::sync::{Semaphore, mpsc};

use super::support::PATIENCE;

/// Logs what it handles; each cast first takes a permit from the gate, so
/// the test decides when the queue moves.
#[derive(Debug)]
struct Watcher {
    log: mpsc::UnboundedSender<String>,
    gate: Arc<Semaphore>,
}

impl Actor for Watcher {
    type Args = (mpsc::UnboundedSender<String>, Arc<Semaphore>);
    type Msg = String;
    type Error = std::convert::Infallible;

    async fn init((log, gate): Self::Args, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Watcher { log, gate })
    }

    async fn handle(&mut self, message: String, _: &mut Context<Self>) -> Result<(), Self::Error> {
        self.gate.acquire().await.unwrap().forget();
        let _ = self.log.send(message);
        Ok(())
    }

    async fn handle_system(
        &mut self,
        message: SystemMessage,
        _: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        if let SystemMessage::Down(down) = message {
            let _ = self.log.send(format!("DOWN {}", down.reason));
        }
        Ok(())
    }
}

/// A worker that sends its result to the watcher from its handler, then
/// ends as its order says.
#[derive(Debug)]
struct Worker(ActorRef<Watcher>);

#[derive(Debug, thiserror::Error)]
#[error("worker failed")]
struct Failed;

impl Actor for Worker {
    type Args = ActorRef<Watcher>;
    type Msg = &'static str;
    type Error = Failed;

    async fn init(watcher: ActorRef<Watcher>, _: &mut Context<Self>) -> Result<Self, Failed> {
        Ok(Worker(watcher))
    }

    async fn handle(&mut self, how: &'static str, ctx: &mut Context<Self>) -> Result<(), Failed> {
        self.0.cast("done".to_owned()).await.unwrap();
        match how {
            "stop" => ctx.stop(ExitReason::Normal),
            "panic" => panic!("worker panicked"),
            _ => return Err(Failed),
        }
        Ok(())
    }
}

async fn round(how: &'static str) -> Vec<String> {
    let (log, mut lines) = mpsc::unbounded_channel();
    let gate = Arc::new(Semaphore::new(0));
    let (watcher, _w) = start::<Watcher>((log, gate.clone())).await.unwrap();
    // The watcher is busy with an earlier message, so what follows queues.
    watcher.cast("earlier".to_owned()).await.unwrap();
    let (worker, worker_handle) = start::<Worker>(watcher.clone()).await.unwrap();
    worker
        .process_ref()
        .notify_on_exit(&watcher, Reference::new());
    worker.cast(how).await.unwrap();
    worker_handle.wait(PATIENCE).await.unwrap();
    // Sent after the DOWN arrived: the DOWN overtakes it.
    watcher.cast("later".to_owned()).await.unwrap();
    gate.add_permits(3);
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(lines.recv().await.unwrap());
    }
    seen
}

#[tokio::test]
async fn a_down_comes_after_the_last_message_of_a_worker_that_stopped() {
    for _ in 0..50 {
        assert_eq!(
            round("stop").await,
            ["earlier", "done", "DOWN normal", "later"]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_comes_after_the_last_message_of_a_worker_that_panicked() {
    for _ in 0..50 {
        let seen = round("panic").await;
        assert_eq!(seen[..2], ["earlier", "done"]);
        assert!(seen[2].starts_with("DOWN panic"), "{seen:?}");
        assert_eq!(seen[3], "later");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_comes_after_the_last_message_of_a_worker_that_failed() {
    for _ in 0..50 {
        let seen = round("fail").await;
        assert_eq!(seen[..2], ["earlier", "done"]);
        assert!(seen[2].starts_with("DOWN error"), "{seen:?}");
        assert_eq!(seen[3], "later");
    }
}

/// System messages sent by hand are bounded like user messages: one more
/// than the capacity is a counted dead letter, never unbounded memory.
#[tokio::test]
async fn hand_sent_system_messages_are_bounded_and_overflow_to_dead_letters() {
    use foundation_mailbox::{
        ActorOptions, DeadLetter, DeadLetterReason, DeadLetterSink, Down, MessageKind, start_with,
    };

    #[derive(Debug, Default)]
    struct Kinds(std::sync::Mutex<Vec<(MessageKind, DeadLetterReason)>>);
    impl DeadLetterSink for Kinds {
        fn dead_letter(&self, letter: DeadLetter) {
            self.0.lock().unwrap().push((letter.kind, letter.reason));
        }
    }

    let (log, mut lines) = mpsc::unbounded_channel();
    let gate = Arc::new(Semaphore::new(0));
    let sink = Arc::new(Kinds::default());
    let (watcher, _w) = start_with::<Watcher>(
        (log, gate.clone()),
        ActorOptions::new().capacity(2).dead_letters(sink.clone()),
    )
    .await
    .unwrap();
    watcher.cast("busy".to_owned()).await.unwrap();
    let down = |reference| {
        SystemMessage::Down(Down {
            pid: watcher.pid(),
            reference,
            reason: ExitReason::Normal,
        })
    };
    let process = watcher.process_ref();
    for _ in 0..3 {
        process.send_system(down(Reference::new())).unwrap();
    }
    assert_eq!(
        *sink.0.lock().unwrap(),
        [(MessageKind::System, DeadLetterReason::Overflow)]
    );
    assert_eq!(watcher.mailbox_stats().dropped, 1);
    gate.add_permits(1);
    assert_eq!(lines.recv().await.unwrap(), "busy");
    assert_eq!(lines.recv().await.unwrap(), "DOWN normal");
    assert_eq!(lines.recv().await.unwrap(), "DOWN normal");
}
