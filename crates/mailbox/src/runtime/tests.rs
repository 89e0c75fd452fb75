//! Guards on what an idle actor costs: the sizes behind its memory.

use crate::{Actor, Context, Reply, process::Process};

/// A counter: the smallest useful actor.
#[derive(Debug)]
struct Counter(u64);

#[expect(dead_code, reason = "the actor is only measured, never run")]
enum Msg {
    Add(u64),
    Get(Reply<u64>),
}

impl Actor for Counter {
    type Args = ();
    type Msg = Msg;
    type Error = std::convert::Infallible;

    async fn init((): (), _ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Counter(0))
    }

    async fn handle(&mut self, msg: Msg, _ctx: &mut Context<Self>) -> Result<(), Self::Error> {
        match msg {
            Msg::Add(n) => self.0 += n,
            Msg::Get(reply) => reply.send(self.0).unwrap_or_default(),
        }
        Ok(())
    }
}

/// An idle actor is one allocation, its process cell: it has no task while
/// dormant. This bound keeps the cell from growing unnoticed (256 bytes for
/// this actor with Rust 1.95, 8 of them the dormant state's pointer to its
/// timer table, null until the actor starts a timer, 8 the pointer to its
/// queued calls' marks, null until its first call, and 16 its place in its
/// runtime's register; the headroom allows for layout differences between
/// builds); see docs/performance.md.
#[test]
fn an_idle_counter_stays_within_its_memory_budget() {
    let process_cell = std::mem::size_of::<Process<Counter>>();
    assert!(
        process_cell <= 264,
        "process cell grew to {process_cell} bytes"
    );
}
