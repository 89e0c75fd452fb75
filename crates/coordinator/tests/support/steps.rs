//! Steps that count their runs, fail on cue or wait for the test.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use foundation_coordinator::{Step, StepError};
use tokio::sync::{Semaphore, mpsc};

/// Long enough never to be reached in a passing test.
pub(crate) const PATIENCE: Duration = Duration::from_secs(3_600);

/// How many times a step's work started.
#[derive(Clone, Debug, Default)]
pub(crate) struct Runs(Arc<AtomicU32>);

impl Runs {
    pub(crate) fn get(&self) -> u32 {
        self.0.load(Ordering::SeqCst)
    }

    pub(crate) fn bump(&self) -> u32 {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }
}

/// A step that outputs its name and counts its runs.
pub(crate) fn counted(name: &'static str, runs: &Runs) -> Step {
    let runs = runs.clone();
    Step::new(name, move |_ctx| {
        runs.bump();
        async move { Ok(name.as_bytes().to_vec()) }
    })
}

/// A step that fails (retryably) its first `failures` runs.
pub(crate) fn flaky(name: &'static str, failures: u32, runs: &Runs) -> Step {
    let runs = runs.clone();
    Step::new(name, move |_ctx| {
        let run = runs.bump();
        async move {
            if run <= failures {
                Err(StepError::retryable(format!("failure {run}")))
            } else {
                Ok(b"ok".to_vec())
            }
        }
    })
}

/// A step that says it started, then waits for a permit from `gate`;
/// `dropped` hears when a run's future is dropped unfinished.
pub(crate) fn gated(
    name: &'static str,
    runs: &Runs,
    gate: &Arc<Semaphore>,
    started: mpsc::Sender<u32>,
    dropped: mpsc::Sender<u32>,
) -> Step {
    let runs = runs.clone();
    let gate = Arc::clone(gate);
    Step::new(name, move |_ctx| {
        let run = runs.bump();
        let gate = Arc::clone(&gate);
        let started = started.clone();
        let dropped = dropped.clone();
        async move {
            let mut guard = OnDrop(Some((dropped, run)));
            started.send(run).await.expect("the test listens");
            let permit = gate.acquire().await.expect("the gate stays open");
            permit.forget();
            guard.0 = None;
            Ok(b"opened".to_vec())
        }
    })
    .timeout(PATIENCE)
}

/// Tells `dropped` which run was dropped unfinished.
struct OnDrop(Option<(mpsc::Sender<u32>, u32)>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        if let Some((dropped, run)) = self.0.take() {
            dropped.try_send(run).expect("the test listens, with room");
        }
    }
}
