//! Observability of the process core: the `foundation::actor` spans reach a
//! subscriber with their fields, and the panic hook reports an actor's panic
//! once while leaving other panics to the hook before it.
//!
//! A binary of its own: the panic hook is process-wide.

use std::{
    io::Write,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use foundation_mailbox::{
    Actor, CallError, Context, DefaultDeadLetterSink, ExitReason, Reply, start,
};

const PATIENCE: Duration = Duration::from_secs(30);

/// An actor whose handler logs, and panics when asked.
#[derive(Debug)]
struct Echo {
    /// If set, `terminate` waits for it and then panics.
    stop_after: Option<tokio::sync::oneshot::Receiver<()>>,
}

#[derive(Debug)]
enum Msg {
    Say(&'static str, Reply<()>),
    Panic,
    /// Waits until the sender lets go, so messages queue behind it.
    Hold(tokio::sync::oneshot::Receiver<()>),
    /// Makes `terminate` wait for the sender, then panic.
    PanicOnStopAfter(tokio::sync::oneshot::Receiver<()>),
}

impl Actor for Echo {
    type Args = ();
    type Msg = Msg;
    type Error = std::convert::Infallible;

    async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        tracing::info!("echo starting");
        Ok(Echo { stop_after: None })
    }

    async fn terminate(&mut self, _: &ExitReason, _: &mut Context<Self>) {
        if let Some(release) = self.stop_after.take() {
            release.await.unwrap_or_default();
            panic!("terminate blew up");
        }
    }

    async fn handle(&mut self, msg: Msg, _: &mut Context<Self>) -> Result<(), Self::Error> {
        match msg {
            Msg::Say(words, reply) => {
                tracing::info!(words, "echo says");
                reply.send(()).unwrap_or_default();
            }
            Msg::Panic => panic!("echo blew up"),
            Msg::Hold(release) => release.await.unwrap_or_default(),
            Msg::PanicOnStopAfter(release) => self.stop_after = Some(release),
        }
        Ok(())
    }
}

/// Captures what a fmt subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("not poisoned").clone()).expect("utf-8")
    }

    fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + 'static {
        self.subscriber_at(tracing::Level::INFO)
    }

    fn subscriber_at(
        &self,
        level: tracing::Level,
    ) -> impl tracing::Subscriber + Send + Sync + 'static {
        let writer = self.clone();
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(level)
            .finish()
    }
}

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("not poisoned")
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_handlers_events_carry_the_actors_pid_type_and_message_kind() {
    let captured = Captured::default();
    let _default = tracing::subscriber::set_default(captured.subscriber());

    let (echo, _handle) = start::<Echo>(()).await.expect("started");
    echo.call(|reply| Msg::Say("hello", reply), PATIENCE)
        .await
        .expect("answered");
    echo.stop(ExitReason::Normal, PATIENCE)
        .await
        .expect("stopped");

    let text = captured.text();
    let pid = echo.pid().to_string();
    let said = text
        .lines()
        .find(|line| line.contains("echo says"))
        .unwrap_or_else(|| panic!("the handler's event was written: {text}"));
    assert!(said.contains("activation{"), "{said}");
    assert!(said.contains(&format!("pid={pid}")), "{said}");
    assert!(said.contains("actor=observe::Echo"), "{said}");
    assert!(said.contains("message{kind=user}"), "{said}");
    let started = text
        .lines()
        .find(|line| line.contains("echo starting"))
        .unwrap_or_else(|| panic!("init's event was written: {text}"));
    assert!(started.contains(&format!("pid={pid}")), "{started}");
    assert!(started.contains("kind=init"), "{started}");
}

/// Panics seen by the hook that was there before ours.
static EARLIER_HOOK_SAW: AtomicUsize = AtomicUsize::new(0);

#[tokio::test]
async fn the_panic_hook_reports_an_actors_panic_once_and_passes_on_the_rest() {
    // Counts, and still prints, so a failed assertion here says why.
    std::panic::set_hook(Box::new(|info| {
        EARLIER_HOOK_SAW.fetch_add(1, Ordering::SeqCst);
        eprintln!("{info}");
    }));
    foundation_mailbox::install_panic_hook();
    let captured = Captured::default();
    let _default = tracing::subscriber::set_default(captured.subscriber());

    let (echo, handle) = start::<Echo>(()).await.expect("started");
    echo.cast(Msg::Panic).await.expect("queued");
    let reason = handle.wait(PATIENCE).await.expect("exited");
    assert!(matches!(reason, ExitReason::Panic(_)), "{reason:?}");
    assert_eq!(
        EARLIER_HOOK_SAW.load(Ordering::SeqCst),
        0,
        "an actor's panic is ours to report"
    );

    let outside = std::panic::catch_unwind(|| panic!("not in an actor"));
    assert!(outside.is_err());
    assert_eq!(
        EARLIER_HOOK_SAW.load(Ordering::SeqCst),
        1,
        "a panic outside actors goes to the hook before"
    );

    let text = captured.text();
    assert_eq!(
        text.matches("actor panicked").count(),
        1,
        "told once: {text}"
    );
    let report = text
        .lines()
        .find(|line| line.contains("actor panicked"))
        .expect("reported");
    assert!(report.contains("ERROR"), "{report}");
    assert!(report.contains(&format!("pid={}", echo.pid())), "{report}");
    assert!(report.contains("actor=observe::Echo"), "{report}");
    assert!(report.contains("kind=user"), "{report}");
    assert!(report.contains("panic=echo blew up"), "{report}");
    assert!(!text.contains("not in an actor"), "{text}");

    // A handler that waits across polls while another actor runs on this
    // thread is still itself, handling what it handled, when it panics.
    let (second, _second_handle) = start::<Echo>(()).await.expect("started");
    let (third, third_handle) = start::<Echo>(()).await.expect("started");
    let (release, held) = tokio::sync::oneshot::channel();
    third
        .cast(Msg::PanicOnStopAfter(held))
        .await
        .expect("queued");
    // Handled in order: once this is answered, `terminate` is armed.
    third
        .call(|reply| Msg::Say("armed", reply), PATIENCE)
        .await
        .expect("answered");
    let mut stopping = std::pin::pin!(third.stop(ExitReason::Normal, PATIENCE));
    assert!(futures::poll!(stopping.as_mut()).is_pending());
    second
        .call(|reply| Msg::Say("meanwhile", reply), PATIENCE)
        .await
        .expect("answered while the third waits in terminate");
    release.send(()).expect("terminate waits");
    let _ = stopping.await;
    let reason = third_handle.wait(PATIENCE).await.expect("exited");
    assert!(matches!(reason, ExitReason::Panic(_)), "{reason:?}");
    let text = captured.text();
    let report = text
        .lines()
        .find(|line| line.contains("actor panicked") && line.contains("terminate blew up"))
        .unwrap_or_else(|| panic!("reported: {text}"));
    assert!(report.contains(&format!("pid={}", third.pid())), "{report}");
    assert!(report.contains("kind=stop"), "{report}");
    assert_eq!(
        text.matches("actor panicked").count(),
        2,
        "each told once: {text}"
    );
}

#[tokio::test]
async fn a_dead_call_is_counted_and_told_at_debug_not_warned_about() {
    let captured = Captured::default();
    let _default = tracing::subscriber::set_default(captured.subscriber_at(tracing::Level::DEBUG));
    let calls_before = DefaultDeadLetterSink::calls();

    let (echo, handle) = start::<Echo>(()).await.expect("started");
    let (release, held) = tokio::sync::oneshot::channel();
    echo.cast(Msg::Hold(held)).await.expect("queued");
    let mut call = std::pin::pin!(echo.call(|reply| Msg::Say("late", reply), PATIENCE));
    assert!(
        futures::poll!(call.as_mut()).is_pending(),
        "queued behind the hold"
    );
    echo.cast(Msg::Panic).await.expect("queued");
    assert!(handle.kill());
    assert_eq!(handle.wait(PATIENCE).await, Ok(ExitReason::Killed));
    assert!(matches!(
        call.await,
        Err(CallError::Exited(ExitReason::Killed))
    ));
    drop(release);

    assert!(
        DefaultDeadLetterSink::calls() > calls_before,
        "the dead call is counted"
    );
    let text = captured.text();
    let told = text
        .lines()
        .find(|line| line.contains("dead call"))
        .unwrap_or_else(|| panic!("the dead call was logged: {text}"));
    assert!(told.contains("DEBUG"), "{told}");
    assert!(told.contains("message_type=\"observe::Msg\""), "{told}");
    let warned: Vec<_> = text.lines().filter(|line| line.contains("WARN")).collect();
    // The hold and the panic order were queued casts (the actor had not
    // run yet): their senders were never told, so they are warnings.
    assert_eq!(warned.len(), 2, "only the casts are warnings: {text}");
    assert!(
        warned.iter().all(|line| line.contains("kind=Cast")),
        "{text}"
    );
}

/// Does its work inside, or following, the span its caller sent.
#[derive(Debug)]
struct Traced;

#[derive(Debug)]
enum TracedMsg {
    Inside(foundation_mailbox::Traced<Reply<()>>),
    Follow(foundation_mailbox::Traced<Reply<()>>),
}

impl Actor for Traced {
    type Args = ();
    type Msg = TracedMsg;
    type Error = std::convert::Infallible;

    async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Traced)
    }

    async fn handle(&mut self, msg: TracedMsg, _: &mut Context<Self>) -> Result<(), Self::Error> {
        let reply = match msg {
            TracedMsg::Inside(request) => request.in_span(|reply| {
                tracing::info!("worked inside the caller's span");
                reply
            }),
            TracedMsg::Follow(request) => request.follow(),
        };
        reply.send(()).unwrap_or_default();
        Ok(())
    }
}

/// Records which span followed from which, by name.
#[derive(Clone, Default)]
struct Follows(Arc<Mutex<Vec<(String, String)>>>);

impl<S> tracing_subscriber::Layer<S> for Follows
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_follows_from(
        &self,
        span: &tracing::span::Id,
        follows: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let name = |id| ctx.span(id).map(|span| span.name().to_owned());
        if let (Some(span), Some(follows)) = (name(span), name(follows)) {
            self.0.lock().expect("not poisoned").push((span, follows));
        }
    }
}

/// A call opts in to carrying its caller's span: the handler's work runs
/// inside it, or its `message` span follows from it.
#[tokio::test]
async fn a_traced_request_carries_its_callers_span_into_the_handler() {
    use tracing::Instrument;
    use tracing_subscriber::layer::SubscriberExt;

    let captured = Captured::default();
    let follows = Follows::default();
    let subscriber = tracing_subscriber::registry().with(follows.clone()).with(
        tracing_subscriber::fmt::layer()
            .with_writer({
                let writer = captured.clone();
                move || writer.clone()
            })
            .with_ansi(false),
    );
    let _default = tracing::subscriber::set_default(subscriber);

    let (actor, _handle) = start::<Traced>(()).await.expect("started");
    let checkout = tracing::info_span!("checkout", order = 7);
    async {
        actor
            .call(
                |reply| TracedMsg::Inside(foundation_mailbox::Traced::new(reply)),
                PATIENCE,
            )
            .await
            .expect("answered");
        actor
            .call(
                |reply| TracedMsg::Follow(foundation_mailbox::Traced::new(reply)),
                PATIENCE,
            )
            .await
            .expect("answered");
    }
    .instrument(checkout)
    .await;

    let text = captured.text();
    let inside = text
        .lines()
        .find(|line| line.contains("worked inside the caller's span"))
        .unwrap_or_else(|| panic!("the handler's event was written: {text}"));
    assert!(inside.contains("checkout{order=7}"), "{inside}");
    let follows = follows.0.lock().expect("not poisoned").clone();
    assert_eq!(
        follows,
        [("message".to_owned(), "checkout".to_owned())],
        "the handler's message span follows from the caller's"
    );
}

/// Passes a count down a chain of relays, logging at each, and answers at
/// the end with the most tasks seen alive.
#[derive(Debug)]
struct Relay {
    next: Option<foundation_mailbox::ActorRef<Relay>>,
}

#[derive(Debug)]
struct Pass(Reply<usize>, usize);

impl Actor for Relay {
    type Args = Option<foundation_mailbox::ActorRef<Relay>>;
    type Msg = Pass;
    type Error = std::convert::Infallible;

    async fn init(next: Self::Args, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Relay { next })
    }

    async fn handle(
        &mut self,
        Pass(reply, most): Pass,
        _: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        tracing::info!("relay passes");
        let alive = tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks();
        match &self.next {
            Some(next) => next
                .try_cast(Pass(reply, most.max(alive)))
                .expect("the next relay has room"),
            None => reply.send(most.max(alive)).unwrap_or_default(),
        }
        Ok(())
    }
}

// Traced, a chain of actors still runs on one task: the task takes the
// next actor over between polls, each hop inside its own actor's span.
#[tokio::test]
async fn a_traced_chain_runs_on_one_task_each_hop_in_its_own_span() {
    let captured = Captured::default();
    let _default = tracing::subscriber::set_default(captured.subscriber());
    let (last, _last_handle) = start::<Relay>(None).await.expect("started");
    let (middle, _middle_handle) = start::<Relay>(Some(last.clone())).await.expect("started");
    let (first, _first_handle) = start::<Relay>(Some(middle.clone())).await.expect("started");
    let before = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    let most = first
        .call(|reply| Pass(reply, 0), PATIENCE)
        .await
        .expect("the chain answers");
    assert_eq!(most, before + 1, "one activation task for the whole chain");
    let text = captured.text();
    let hops: Vec<_> = text
        .lines()
        .filter(|line| line.contains("relay passes"))
        .collect();
    assert_eq!(hops.len(), 3, "{text}");
    for (hop, relay) in hops.iter().zip([&first, &middle, &last]) {
        assert!(hop.contains(&format!("pid={}", relay.pid())), "{hop}");
    }
}
