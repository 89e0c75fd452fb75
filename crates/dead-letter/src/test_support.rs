//! What the unit tests share: a small actor to deliver to.

use foundation_mailbox::{Actor, Context};

/// Adds what it is sent; answers calls with the total; a 0 crashes it.
#[derive(Debug)]
pub(crate) struct Counter(pub(crate) u64);

impl Actor for Counter {
    type Args = ();
    type Cast = u64;
    type Call = ();
    type Reply = u64;
    type Error = std::convert::Infallible;

    async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Counter(0))
    }

    async fn handle_cast(&mut self, add: u64, _: &mut Context<Self>) -> Result<(), Self::Error> {
        assert!(add != 0, "counter told to crash");
        self.0 += add;
        Ok(())
    }

    async fn handle_call(&mut self, (): (), _: &mut Context<Self>) -> Result<u64, Self::Error> {
        Ok(self.0)
    }
}
