//! The runtime clock: manual time moves sleeps and stop timeouts only when advanced; tokio's clock elsewhere.

use std::{pin::pin, time::Duration};

use tokio::{runtime::Handle, sync::oneshot};

use super::{InstallError, ManualTime, now, sleep_until};
use crate::{Actor, Context, ExitReason, StopError, start};

/// How long a failing test may take; never how long a passing one does.
const BOUND: Duration = Duration::from_secs(10);
/// How long "still pending" is watched for, in real time.
const QUIET: Duration = Duration::from_millis(50);

fn installed() -> ManualTime {
    let manual = ManualTime::new();
    manual.install(&Handle::current()).unwrap();
    manual
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sleep_on_manual_time_ends_only_once_advanced_to_its_deadline() {
    let manual = installed();
    let deadline = now() + Duration::from_secs(5);
    assert_eq!(now(), manual.now());
    // audit:allow(FND006) the manual sleep is what is under test; it never waits on real time
    let mut sleep = pin!(sleep_until(deadline));
    assert!(tokio::time::timeout(QUIET, sleep.as_mut()).await.is_err());
    manual.advance(Duration::from_millis(4_999));
    assert!(tokio::time::timeout(QUIET, sleep.as_mut()).await.is_err());
    manual.advance(Duration::from_millis(1));
    tokio::time::timeout(BOUND, sleep)
        .await
        .expect("woken by the advance");
    assert_eq!(now(), deadline);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manual_time_never_goes_backwards() {
    let manual = installed();
    manual.set_elapsed(Duration::from_secs(3));
    manual.set_elapsed(Duration::from_secs(1));
    assert_eq!(manual.elapsed(), Duration::from_secs(3));
    manual.advance(Duration::MAX);
    assert_eq!(manual.elapsed(), Duration::from_nanos(u64::MAX));
}

/// Handles one message by saying it has entered its handler, then waiting
/// (in real time, bounded) for a release.
#[derive(Debug)]
struct Stuck;

impl Actor for Stuck {
    type Args = ();
    type Msg = (oneshot::Sender<()>, oneshot::Receiver<()>);
    type Error = std::convert::Infallible;

    async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Stuck)
    }

    async fn handle(
        &mut self,
        (entered, release): (oneshot::Sender<()>, oneshot::Receiver<()>),
        _: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        let _ = entered.send(());
        let _ = tokio::time::timeout(BOUND, release).await;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_timeout_expires_only_once_the_manual_time_passes_it() {
    const TIMEOUT: Duration = Duration::from_secs(5);
    let manual = installed();
    let (stuck, handle) = start::<Stuck>(()).await.unwrap();
    let (_release, held) = oneshot::channel();
    let (entered, in_handler) = oneshot::channel();
    stuck.cast((entered, held)).await.unwrap();
    tokio::time::timeout(BOUND, in_handler)
        .await
        .unwrap()
        .unwrap();

    let mut stop = pin!(stuck.stop(ExitReason::Normal, TIMEOUT));
    assert!(tokio::time::timeout(QUIET, stop.as_mut()).await.is_err());
    manual.advance(TIMEOUT - Duration::from_millis(1));
    assert!(
        tokio::time::timeout(QUIET, stop.as_mut()).await.is_err(),
        "1 ms before the timeout the stop still waits"
    );
    manual.advance(Duration::from_millis(1));
    let stopped = tokio::time::timeout(BOUND, stop)
        .await
        .expect("woken by the advance");
    assert_eq!(stopped, Err(StopError::Timeout(TIMEOUT)));
    assert_eq!(handle.wait(BOUND).await, Ok(ExitReason::Killed));
}

/// A runtime without a manual time reads tokio's clock, paused time
/// included, even once manual times exist elsewhere in the process.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_runtime_without_manual_time_reads_tokios_clock() {
    let elsewhere = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    ManualTime::new().install(elsewhere.handle()).unwrap();

    let start = now();
    assert_eq!(start, tokio::time::Instant::now());
    // audit:allow(FND006) the sleep is what is under test, on paused time: it costs no wall time
    sleep_until(start + Duration::from_secs(60)).await;
    assert_eq!(now() - start, Duration::from_secs(60));
    elsewhere.shutdown_background();
}

#[test]
fn installing_on_a_runtime_that_shut_down_is_refused() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let handle = runtime.handle().clone();
    drop(runtime);
    assert_eq!(
        ManualTime::new().install(&handle),
        Err(InstallError::ShutDown)
    );
}
