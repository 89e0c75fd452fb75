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

use foundation_mailbox::{Actor, Context, ExitReason, Reply, start};

const PATIENCE: Duration = Duration::from_secs(30);

/// An actor whose handler logs, and panics when asked.
#[derive(Debug)]
struct Echo;

#[derive(Debug)]
enum Msg {
    Say(&'static str, Reply<()>),
    Panic,
}

impl Actor for Echo {
    type Args = ();
    type Msg = Msg;
    type Error = std::convert::Infallible;

    async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        tracing::info!("echo starting");
        Ok(Echo)
    }

    async fn handle(&mut self, msg: Msg, _: &mut Context<Self>) -> Result<(), Self::Error> {
        match msg {
            Msg::Say(words, reply) => {
                tracing::info!(words, "echo says");
                reply.send(()).unwrap_or_default();
            }
            Msg::Panic => panic!("echo blew up"),
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
        let writer = self.clone();
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
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
    std::panic::set_hook(Box::new(|_| {
        EARLIER_HOOK_SAW.fetch_add(1, Ordering::SeqCst);
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
}
