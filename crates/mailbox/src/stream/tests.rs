//! Stream feeder tests: order, backpressure, the end notice, exits and panics.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    task::Poll,
    time::Duration,
};

use futures::{StreamExt, stream::BoxStream};
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::{
    Actor, ActorOptions, ActorRef, Context, DeadLetter, DeadLetterSink, ExitReason, Reply,
    SystemMessage, start, start_with,
};

const WAIT: Duration = Duration::from_secs(5);

#[derive(Debug)]
enum Msg {
    Item(u32),
    Ended,
    Report(Reply<Report>),
}

impl From<u32> for Msg {
    fn from(n: u32) -> Self {
        Msg::Item(n)
    }
}

#[derive(Default)]
struct Args {
    /// Attached from `init`, through the context.
    stream: Option<BoxStream<'static, u32>>,
    /// Each item waits for a permit: a slow actor.
    gate: Option<Arc<Semaphore>>,
    trap_exits: bool,
    /// Stops itself after handling this item.
    stop_at: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Report {
    seen: Vec<u32>,
    ended: bool,
    most_queued: usize,
    exits: Vec<SystemMessage>,
}

#[derive(Debug)]
struct Sink {
    report: Report,
    gate: Option<Arc<Semaphore>>,
    stop_at: Option<u32>,
}

impl Actor for Sink {
    type Args = Args;
    type Msg = Msg;
    type Error = std::convert::Infallible;

    async fn init(args: Args, ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        ctx.trap_exits(args.trap_exits);
        if let Some(stream) = args.stream {
            ctx.attach_stream(stream, Msg::Ended);
        }
        Ok(Sink {
            report: Report::default(),
            gate: args.gate,
            stop_at: args.stop_at,
        })
    }

    async fn handle(&mut self, msg: Msg, ctx: &mut Context<Self>) -> Result<(), Self::Error> {
        match msg {
            Msg::Item(n) => {
                if let Some(gate) = &self.gate {
                    gate.acquire().await.expect("the gate stays open").forget();
                }
                let queued = ctx.myself().mailbox_stats().queued;
                self.report.most_queued = self.report.most_queued.max(queued);
                self.report.seen.push(n);
                if self.stop_at == Some(n) {
                    ctx.stop(ExitReason::Normal);
                }
            }
            Msg::Ended => self.report.ended = true,
            Msg::Report(reply) => reply.send(self.report.clone()).unwrap_or_default(),
        }
        Ok(())
    }

    async fn handle_system(
        &mut self,
        message: SystemMessage,
        _: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        self.report.exits.push(message);
        Ok(())
    }
}

async fn settle() {
    for _ in 0..64 {
        tokio::task::yield_now().await;
    }
}

async fn report(sink: &ActorRef<Sink>) -> Report {
    settle().await;
    sink.call(Msg::Report, WAIT).await.unwrap()
}

/// Counts dead letters.
#[derive(Debug, Default)]
struct Counting(AtomicUsize);

impl DeadLetterSink for Counting {
    fn dead_letter(&self, _: DeadLetter) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn items_arrive_in_order_then_the_end_notice() {
    let args = Args {
        stream: Some(futures::stream::iter(0..100).boxed()),
        ..Args::default()
    };
    let (sink, _handle) = start::<Sink>(args).await.unwrap();
    let report = report(&sink).await;
    assert_eq!(report.seen, (0..100).collect::<Vec<_>>());
    assert!(report.ended);
}

#[tokio::test(flavor = "current_thread")]
async fn a_fast_stream_waits_for_room_in_the_mailbox() {
    let gate = Arc::new(Semaphore::new(0));
    let args = Args {
        gate: Some(Arc::clone(&gate)),
        ..Args::default()
    };
    let options = ActorOptions::new().capacity(4);
    let (sink, _handle) = start_with::<Sink>(args, options).await.unwrap();
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&pulled);
    let stream = futures::stream::iter(0..1000).inspect(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    sink.attach_stream(stream, Msg::Ended);
    settle().await;
    // One item in the handler, four waiting, one in the feeder's hand.
    assert!(sink.mailbox_stats().queued <= 4);
    assert_eq!(pulled.load(Ordering::SeqCst), 1 + 4 + 1);
    gate.add_permits(1000);
    let mut report = report(&sink).await;
    for _ in 0..1000 {
        if report.ended {
            break;
        }
        report = self::report(&sink).await;
    }
    assert_eq!(report.seen, (0..1000).collect::<Vec<_>>());
    assert!(report.ended);
    assert!(report.most_queued <= 4, "queued {}", report.most_queued);
}

#[tokio::test(flavor = "current_thread")]
async fn a_clean_stop_ends_the_feeder_without_dead_letters() {
    let dead_letters = Arc::new(Counting::default());
    let options = ActorOptions::new().dead_letters(dead_letters.clone());
    let (sink, _handle) = start_with::<Sink>(Args::default(), options).await.unwrap();
    let (lines, mut receiver) = mpsc::channel::<u32>(8);
    sink.attach_stream(
        futures::stream::poll_fn(move |cx| receiver.poll_recv(cx)),
        Msg::Ended,
    );
    for n in 0..3 {
        lines.send(n).await.unwrap();
    }
    assert_eq!(report(&sink).await.seen, vec![0, 1, 2]);
    assert_eq!(
        sink.stop(ExitReason::Normal, WAIT).await.unwrap(),
        ExitReason::Normal
    );
    // The feeder let go of the stream.
    tokio::time::timeout(WAIT, lines.closed()).await.unwrap();
    assert_eq!(dead_letters.0.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "current_thread")]
async fn no_item_is_pulled_once_the_actor_has_exited() {
    let args = Args {
        stop_at: Some(10),
        ..Args::default()
    };
    let options = ActorOptions::new().capacity(2);
    let (sink, _handle) = start_with::<Sink>(args, options).await.unwrap();
    let probe = sink.clone();
    let late_pulls = Arc::new(AtomicUsize::new(0));
    let late = Arc::clone(&late_pulls);
    let (dropped, stream_gone) = oneshot::channel::<()>();
    let mut next = 0;
    let stream = futures::stream::poll_fn(move |_| {
        let _held_until_the_stream_drops = &dropped;
        if !probe.is_alive() {
            late.fetch_add(1, Ordering::SeqCst);
        }
        next += 1;
        Poll::Ready(Some(next - 1))
    });
    sink.attach_stream(stream, Msg::Ended);
    assert_eq!(sink.wait_for_exit(WAIT).await.unwrap(), ExitReason::Normal);
    assert!(
        tokio::time::timeout(WAIT, stream_gone)
            .await
            .unwrap()
            .is_err()
    );
    assert_eq!(late_pulls.load(Ordering::SeqCst), 0);
}

fn panicking_stream() -> BoxStream<'static, u32> {
    futures::stream::iter(0..3)
        .map(|n| {
            assert!(n < 2, "the stream broke");
            n
        })
        .boxed()
}

#[tokio::test(flavor = "current_thread")]
async fn a_panicking_stream_crashes_its_actor_like_a_linked_process() {
    let (sink, _handle) = start::<Sink>(Args::default()).await.unwrap();
    sink.attach_stream(panicking_stream(), Msg::Ended);
    let reason = sink.wait_for_exit(WAIT).await.unwrap();
    assert!(
        matches!(&reason, ExitReason::Panic(message) if message.contains("the stream broke")),
        "{reason}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn an_actor_trapping_exits_gets_the_panic_as_a_message() {
    let args = Args {
        trap_exits: true,
        ..Args::default()
    };
    let (sink, _handle) = start::<Sink>(args).await.unwrap();
    let feeder = sink.attach_stream(panicking_stream(), Msg::Ended);
    let report = report(&sink).await;
    assert_eq!(report.seen, vec![0, 1]);
    assert!(!report.ended);
    assert!(matches!(
        report.exits.as_slice(),
        [SystemMessage::Exit { from, reason: ExitReason::Panic(_) }] if *from == feeder
    ));
    assert!(sink.is_alive());
}

#[tokio::test(flavor = "current_thread")]
async fn a_killed_actor_is_not_fed_even_before_its_exit_is_published() {
    let gate = Arc::new(Semaphore::new(0));
    let args = Args {
        gate: Some(Arc::clone(&gate)),
        ..Args::default()
    };
    let (sink, _handle) = start::<Sink>(args).await.unwrap();
    let (lines, mut receiver) = mpsc::channel::<u32>(8);
    let probe = sink.clone();
    let late_polls = Arc::new(AtomicUsize::new(0));
    let late = Arc::clone(&late_polls);
    sink.attach_stream(
        futures::stream::poll_fn(move |cx| {
            if !probe.is_alive() {
                late.fetch_add(1, Ordering::SeqCst);
            }
            receiver.poll_recv(cx)
        }),
        Msg::Ended,
    );
    lines.send(0).await.unwrap();
    settle().await;
    // The actor is busy with item 0. The next line wakes the feeder first,
    // then the kill closes the mailbox; the exit is published only when the
    // actor's task runs again, after the feeder's turn.
    lines.try_send(1).unwrap();
    assert!(sink.kill());
    assert!(matches!(
        sink.wait_for_exit(WAIT).await.unwrap(),
        ExitReason::Killed
    ));
    tokio::time::timeout(WAIT, lines.closed()).await.unwrap();
    assert_eq!(late_polls.load(Ordering::SeqCst), 0);
}
