//! A child spinning in code that never awaits survives its kill: the
//! supervisor reports it by name and starts no second instance beside it.
//! Its own test binary, because it installs a short process-wide wait
//! after kills.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU32, Ordering},
    },
    time::Duration,
};

use foundation_mailbox::{Actor, Context, Operation, ProcessRef, Reply, TimeoutConfig};
use foundation_supervisor::{
    ChildSpec, Shutdown, Strategy, Supervisor, SupervisorRef, SupervisorSpec,
};
use foundation_testkit::{EventCapture, EventMatcher, wait_for};
use tokio::sync::mpsc;
use tracing::Level;

const PATIENCE: Duration = Duration::from_secs(10);

#[derive(Clone, Debug)]
struct Spin {
    inits: Arc<AtomicU32>,
    release: Arc<AtomicBool>,
    spinning: mpsc::UnboundedSender<()>,
}

#[derive(Debug)]
struct Spinner(Spin);

impl Actor for Spinner {
    type Args = Spin;
    type Msg = ();
    type Error = std::convert::Infallible;

    async fn init(spin: Spin, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        spin.inits.fetch_add(1, Ordering::SeqCst);
        Ok(Spinner(spin))
    }

    async fn handle(&mut self, (): (), _: &mut Context<Self>) -> Result<(), Self::Error> {
        let _ = self.0.spinning.send(());
        // Code that never awaits: a kill cannot interrupt it.
        while !self.0.release.load(Ordering::SeqCst) {
            std::hint::spin_loop();
        }
        Ok(())
    }
}

#[derive(Debug)]
struct Crasher;

/// The one thing a crasher is asked; it crashes instead of answering, and
/// the port makes the crash a call, whose caller gets the exit reason.
#[derive(Debug)]
struct Crash(#[expect(dead_code, reason = "dropped by the crash")] Reply<()>);

impl Actor for Crasher {
    type Args = ();
    type Msg = Crash;
    type Error = std::convert::Infallible;

    async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Crasher)
    }

    async fn handle(&mut self, _: Crash, _: &mut Context<Self>) -> Result<(), Self::Error> {
        panic!("crasher crashed on purpose");
    }
}

/// Releases the spinner when dropped, so a failed assertion does not leave
/// a worker thread spinning forever.
struct Release(Arc<AtomicBool>);

impl Drop for Release {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

async fn running(supervisor: &SupervisorRef, id: &str) -> ProcessRef {
    supervisor.child(id).await.unwrap().expect("child running")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_child_that_never_awaits_is_reported_and_not_started_twice() {
    // The wait after a kill is the default timeout: short here; calls keep
    // a long one.
    TimeoutConfig::new()
        .with_default(Duration::from_millis(100))
        .with_override(Operation::Call, PATIENCE)
        .install();
    // The report comes from a worker thread: capture every thread's events.
    let capture = EventCapture::global().unwrap();

    let (spinning, mut spinning_rx) = mpsc::unbounded_channel();
    let spin = Spin {
        inits: Arc::default(),
        release: Arc::default(),
        spinning,
    };
    let spec = SupervisorSpec::new(Strategy::OneForAll)
        .child(
            ChildSpec::actor::<Spinner>("spinner", spin.clone())
                .shutdown(Shutdown::Timeout(Duration::from_millis(10))),
        )
        .child(ChildSpec::actor::<Crasher>("crasher", ()));
    let release = Release(Arc::clone(&spin.release));
    let supervisor = Supervisor::start(spec).await.unwrap();
    let spinner = running(&supervisor, "spinner").await;
    spinner
        .downcast::<Spinner>()
        .unwrap()
        .cast(())
        .await
        .unwrap();
    spinning_rx.recv().await.unwrap();

    // One-for-all: the crash takes the spinner down, or tries to.
    let crasher = running(&supervisor, "crasher").await;
    assert!(
        crasher
            .downcast::<Crasher>()
            .unwrap()
            .call(Crash, PATIENCE)
            .await
            .is_err()
    );
    let restarted = || {
        supervisor
            .whereis("crasher")
            .is_some_and(|now| now.pid() != crasher.pid())
    };
    wait_for(restarted, PATIENCE)
        .await
        .expect("the crasher is restarted");
    assert_eq!(running(&supervisor, "spinner").await.pid(), spinner.pid());
    // Killed (it takes no more messages) but not exited: still running its
    // handler, so it must not have a twin.
    assert!(!spinner.is_alive());
    assert_eq!(spinner.exit_reason(), None);
    assert_eq!(spin.inits.load(Ordering::SeqCst), 1, "no second spinner");
    capture.assert_emitted(
        &EventMatcher::new()
            .target("foundation::supervisor")
            .level(Level::ERROR)
            .message_contains("killed child has not exited")
            .field("child", "spinner"),
    );

    // Once it awaits, the kill lands; its exit is handled by strategy.
    drop(release);
    spinner.wait_for_exit(PATIENCE).await.unwrap();
    wait_for(|| spin.inits.load(Ordering::SeqCst) == 2, PATIENCE)
        .await
        .expect("the spinner is restarted after it exits");
    supervisor.shutdown(PATIENCE).await.unwrap();
}
