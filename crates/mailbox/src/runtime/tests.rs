//! Guards on what an idle actor costs: the sizes behind its memory.

use std::sync::Arc;

use crate::{Actor, Context, Overflow, process::Process};

/// A counter: the smallest useful actor.
#[derive(Debug)]
struct Counter(u64);

impl Actor for Counter {
    type Args = ();
    type Cast = u64;
    type Call = ();
    type Reply = u64;
    type Error = std::convert::Infallible;

    async fn init((): (), _ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Counter(0))
    }

    async fn handle_cast(&mut self, add: u64, _ctx: &mut Context<Self>) -> Result<(), Self::Error> {
        self.0 += add;
        Ok(())
    }

    async fn handle_call(&mut self, (): (), _ctx: &mut Context<Self>) -> Result<u64, Self::Error> {
        Ok(self.0)
    }
}

/// An idle actor is two allocations: its process cell and its task (whose
/// size is tokio's task header plus this future, rounded up to 128 bytes).
/// These bounds keep them from growing unnoticed; see docs/performance.md.
#[test]
fn an_idle_counter_stays_within_its_memory_budget() {
    let process = Arc::new(Process::<Counter>::new(8, Overflow::Backpressure, None));
    let future = super::run::<Counter>(process, super::Begin::Init(()));
    let process_cell = std::mem::size_of::<Process<Counter>>();
    let task_future = std::mem::size_of_val(&future);
    assert!(
        process_cell <= 256,
        "process cell grew to {process_cell} bytes"
    );
    assert!(
        task_future <= 392,
        "task future grew to {task_future} bytes"
    );
}
